"""Markup in the data is text in every output (SPEC 7), and --by folder names cannot escape."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = "<svg onload=alert(2)>"
REGIONS = (IMG, "../a/b")  # markup, and a value that tries to leave the output folder
PRODUCTS = (SCRIPT, "Widget_*[x]|#", "Plain & simple")

pytestmark = pytest.mark.slow


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
        assert "&amp;lt;" not in text, f"double escaping in {page}"
    # the index and the report of that region show the value as text
    assert seen_img >= 2
    index = (batch["out"] / "markup" / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in index and "Markup &lt;b&gt;Co&lt;/b&gt;" in index


def test_product_markup_shows_as_text_in_the_report(batch):
    report = batch["out"] / "markup" / "region=a_b" / "2023Q4" / "report.html"
    text = report.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Plain &amp; simple" in text
    # Markdown specials arrive as plain characters, not as emphasis, links or backslash escapes
    assert "Widget_*[x]|#" in text and "Widget\\_" not in text


def test_findings_json_keeps_the_raw_values(batch):
    f = json.loads((batch["out"] / "markup" / "region=img_src_x_onerror_alert_1" / "2023Q4" / "findings.json")
                   .read_text(encoding="utf-8"))
    assert f["scope"] == {"dimension": "region", "value": IMG}
    values = {r["value"] for r in f["revenue"]["by_dimension"]["product"]}
    assert SCRIPT in values
    assert [r["value"] for r in f["revenue"]["by_dimension"]["region"]] == [IMG]
