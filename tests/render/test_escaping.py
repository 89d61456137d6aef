"""Markup in the data is text in every output (SPEC 7), and --by folder names cannot escape."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from support.paths import ROOT

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = "<svg onload=alert(2)>"
REGIONS = (IMG, "../a/b")  # markup, and a value that tries to leave the output folder
LINK = '<a href="http://evil.example/x">'
BARE = "Visit http://evil.example/y or www.evil.example"
PRODUCTS = (SCRIPT, "Widget_*[x]|#", "Plain & simple", LINK, BARE)

slow = pytest.mark.slow


def run_cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "salesnb.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


class Elements(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def write_data(folder: Path) -> Path:
    rng = random.Random(3)
    lines = ["order,date,cust,amount,qty,region,product"]
    customers = [f"c{i}" for i in range(1, 30)] + [SVG]
    for i in range(1, 361):
        month = 1 + (i - 1) % 12
        day = 1 + (i * 7) % 27
        region = REGIONS[i % len(REGIONS)]
        product = PRODUCTS[(i // 3) % len(PRODUCTS)]
        cust = customers[rng.randrange(len(customers))]
        amount = round(rng.uniform(20, 400), 2)
        fields = [f"o{i}", f"2023-{month:02d}-{day:02d}", cust, f"{amount}", str(rng.randint(1, 5)), region, product]
        lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields))
    (folder / "markup.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = {"name": "markup", "title": "Markup <b>Co</b>", "source": "markup.csv",
              "columns": {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
                          "quantity": "qty", "region": "region", "product": "product"},
              "currency": "USD", "period": "2023Q4"}
    path = folder / "markup.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = tmp_path_factory.mktemp("markup")
    params = write_data(work)
    out = work / "reports"
    proc = run_cli("batch", params, "--periods", "2023Q4", "--by", "region", "--jobs", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return {"out": out, "proc": proc}


def html_outputs(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


@slow
def test_by_folders_stay_inside_the_output_folder(batch):
    name_dir = (batch["out"] / "markup").resolve()
    folders = sorted(p.name for p in name_dir.iterdir() if p.is_dir())
    assert folders == ["region=a_b", "region=img_src_x_onerror_alert_1"], folders
    for path in batch["out"].rglob("*"):
        assert name_dir in path.resolve().parents or path.resolve() == name_dir
    assert not (batch["out"] / "a").exists() and not (batch["out"].parent / "a").exists()
    assert not (name_dir / "region=..").exists() and not (name_dir / "a").exists()
    for folder in folders:
        assert (name_dir / folder / "2023Q4" / "report.html").is_file()


@slow
def test_markup_is_escaped_in_every_html_output(batch):
    pages = html_outputs(batch["out"])
    assert len(pages) == 3, pages  # two reports and the index
    seen_img = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<img src=x" not in text and '<img src="x"' not in text, page
        assert SCRIPT not in text and "<script" not in text.lower(), page
        assert "<svg onload" not in text and "<b>Co</b>" not in text, page
        for tag, attrs in Elements(text).tags:
            assert not [a for a in attrs if a.startswith("on")], (page, tag, attrs)
            if tag == "img":
                assert attrs.get("src", "").startswith("data:image/"), (page, attrs)
            assert tag not in ("script", "iframe", "object", "embed"), page
        if "&lt;img src=x onerror=alert(1)&gt;" in text:
            seen_img += 1
        assert "&amp;lt;" not in text and "&amp;gt;" not in text, f"double escaping in {page}"
        # data text never becomes a link to another site (only anchors and the batch's own reports)
        outside = [attrs.get("href") for tag, attrs in Elements(text).tags if tag == "a"
                   and (":" in (attrs.get("href") or "").split("/")[0] or (attrs.get("href") or "").startswith("//"))]
        assert outside == [], (page, outside)
        assert "evil.example" not in " ".join(a.get("href", "") for _, a in Elements(text).tags), page
    # the index and the report of that region show the value as text
    assert seen_img >= 2
    index = (batch["out"] / "markup" / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in index and "Markup &lt;b&gt;Co&lt;/b&gt;" in index


@slow
def test_product_markup_shows_as_text_in_the_report(batch):
    report = batch["out"] / "markup" / "region=a_b" / "2023Q4" / "report.html"
    # <wbr> marks where a long cell may wrap: invisible, so the text a reader sees runs through it
    text = re.sub(r"<wbr\s*/?>", "", report.read_text(encoding="utf-8"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Plain &amp; simple" in text
    # Markdown specials arrive as plain characters, not as emphasis, links or backslash escapes
    assert "Widget_*[x]|#" in text and "Widget\\_" not in text


@slow
def test_findings_json_keeps_the_raw_values(batch):
    f = json.loads((batch["out"] / "markup" / "region=img_src_x_onerror_alert_1" / "2023Q4" / "findings.json")
                   .read_text(encoding="utf-8"))
    assert f["scope"] == {"dimension": "region", "value": IMG}
    values = {r["value"] for r in f["revenue"]["by_dimension"]["product"]}
    assert SCRIPT in values
    assert [r["value"] for r in f["revenue"]["by_dimension"]["region"]] == [IMG]


@slow
def test_urls_in_data_stay_plain_text_in_the_report(batch):
    report = batch["out"] / "markup" / "region=a_b" / "2023Q4" / "report.html"
    # <wbr> marks where a long cell may wrap: invisible, so the text a reader sees runs through it
    text = re.sub(r"<wbr\s*/?>", "", report.read_text(encoding="utf-8"))
    visible = Text(text).text
    # shown as typed: no link, no "&gt;" artefact
    assert LINK in visible or BARE in visible
    assert "&gt;" not in visible and "&lt;" not in visible and "&amp;" not in visible


@slow
def test_urls_in_the_executed_notebooks_markdown_outputs_are_not_links(batch):
    """Markdown outputs of the executed notebooks, rendered by a GFM-style renderer with autolinks
    (as JupyterLab's marked does): no link, no maths delimiters reach the page."""
    import mistune
    import nbformat
    render = mistune.create_markdown(escape=False, plugins=["url", "strikethrough", "table"])
    seen = 0
    for path in sorted((batch["out"] / "markup").rglob("notebooks/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                md = out.get("data", {}).get("text/markdown")
                if md:
                    seen += 1
                    html = render(md)
                    assert "<a " not in html, (path.name, md)
    assert seen > 0


class Text(HTMLParser):
    """The text a reader sees (character references resolved)."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.feed(markup)
        self.text = " ".join("".join(self.parts).split())

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


# --------------------------------------------------------------------------- fmt.esc / fmt.html_text (fast)

from hypothesis import given, settings, strategies as st  # noqa: E402

_GFM = None


def gfm(text: str) -> str:
    """Markdown → HTML as a notebook front end renders it: GFM autolinks, strikethrough, tables."""
    global _GFM
    if _GFM is None:
        import mistune
        _GFM = mistune.create_markdown(escape=False, plugins=["url", "strikethrough", "table"])
    return _GFM(text)


HOSTILE = ["<a href=\"http://evil.example/x\">", "http://evil.example/y", "www.evil.example", "a@evil.example",
           "$1,231.20 per order, up $500", r"\(x\) \[y\] $$z$$ \begin{align}", "*em* _u_ ~~s~~ `c` ![i](http://x)",
           "[link](http://evil.example)", "| a | b |", "# not a heading", "&gt; &amp; &#36;"]


@pytest.mark.parametrize("value", HOSTILE)
def test_esc_renders_as_the_same_plain_text(value):
    from salesnb.fmt import esc
    html = gfm("Value: " + esc(value))
    tags = {tag for tag, _ in Elements(html).tags}
    assert tags <= {"p", "span"}, (value, html)
    assert Text(html).text == " ".join(("Value: " + value).split())
    # no "$" or "\" shares a text node with anything (MathJax pairs delimiters only within one)
    for node in Text(html).parts:
        assert ("$" not in node and "\\" not in node) or node in ("$", "\\"), (value, node)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_esc_property_any_text_is_plain_text_in_markdown(value):
    from salesnb.fmt import esc
    html = gfm("Value: " + esc(value))
    assert {tag for tag, _ in Elements(html).tags} <= {"p", "span"}, (value, html)
    assert Text(html).text == " ".join(("Value: " + value).split())


@pytest.mark.parametrize("value", HOSTILE)
def test_html_text_and_html_list_are_escaped_and_kept_from_mathjax(value):
    from salesnb.fmt import html_list, html_text
    for markup in (html_text(value), html_list([value, value])):
        tags = Elements(markup).tags
        assert {t for t, _ in tags} <= {"p", "ul", "li"}, markup
        assert "mathjax_ignore" in tags[0][1]["class"] and "tex2jax_ignore" in tags[0][1]["class"]
        assert value in Text(markup).text or " ".join(value.split()) in Text(markup).text
