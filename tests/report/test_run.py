"""salesnb.report / salesnb.render.html: one report, end to end, on real data; atomic replacement; locks.

The expensive part (executing the notebooks) runs once per data set in module-scoped fixtures;
several tests then check the same output.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from salesnb.errors import ReportError
from salesnb.fmt import fmt_count, fmt_money
from salesnb.paths import notebooks_dir
from support.notebooks import file_tree, throwaway_notebook, tiny_params
from support.paths import PARAMS, ROOT, needs_shared_data

SECTION_TITLES = ("Executive summary", "Revenue", "Customers", "Recommendations", "Data quality and method")



def run_cli(*args, cwd=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "salesnb.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)


class Page(HTMLParser):
    """What the checks need from a page: attributes that fetch, headings, scripts, text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.headings: list[tuple[str, str]] = []
        self.scripts = 0
        self.handlers: list[str] = []
        self._heading = None
        self._buf: list[str] = []
        self.text_parts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action") and value is not None:
                self.refs.append((tag, name, value))
            if name.startswith("on"):
                self.handlers.append(f"{tag}.{name}")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading, self._buf = tag, []

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.headings.append((tag, "".join(self._buf).strip()))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._buf.append(data)
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def external(self) -> list:
        return [r for r in self.refs if r[2].strip().lower().startswith(("http:", "https:", "//"))]


def check_self_contained(html: str) -> Page:
    page = Page(html)
    assert page.external() == [], page.external()[:5]
    assert "http://" not in " ".join(v for _, _, v in page.refs) and "https://" not in " ".join(v for _, _, v in page.refs)
    assert page.scripts == 0, "the report carries no script at all"
    assert page.handlers == []
    assert "require.js" not in html and "MathJax.js" not in html and "tex-mml" not in html
    assert "<link" not in html.lower(), "no external stylesheet or font link"
    assert "@import" not in html
    return page


def assert_report_shape(report: Path) -> tuple[str, Page, dict]:
    html = report.read_text(encoding="utf-8")
    page = check_self_contained(html)
    h2 = [text for tag, text in page.headings if tag == "h2"]
    positions = [h2.index(title) for title in SECTION_TITLES]
    assert positions == sorted(positions), h2  # SPEC 4 order
    assert "import salesnb" not in html and "load_findings(" not in html, "no input code"
    assert "In&nbsp;[" not in html and "Out[" not in html, "no prompts"
    assert "Traceback" not in html and "Warning:" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert "data:image/png;base64," in html, "charts are inline PNG"
    assert '<nav class="toc"' in html and 'href="#revenue"' in html
    assert "@media print" in html and "break-inside: avoid" in html
    findings = json.loads((report.parent / "findings.json").read_text(encoding="utf-8"))
    return html, page, findings


def assert_matches_findings(html: str, page: Page, f: dict):
    cur = f["currency"]
    rev = f["revenue"]
    assert fmt_money(rev["total"], cur) in page.text
    assert fmt_count(rev["orders"]) in page.text
    assert fmt_money(rev["aov"], cur) in page.text
    d = f["data"]
    assert fmt_count(d["rows_read"]) in page.text and fmt_count(d["rows_used"]) in page.text
    assert d["sha256"] in html and d["sha256"][:12] in page.text
    assert f["period"]["label"] in page.text
    for key in ("duckdb", "pandas", "papermill"):
        version = f["method"]["versions"].get(key)
        if version:
            assert version in page.text
    for metric in ("revenue_per_customer", "avg_monthly_growth_pct", "cmgr_pct", "orders"):
        assert metric in page.text, f"definition of {metric}"


# --------------------------------------------------------------------------- Superstore via the CLI

@pytest.fixture(scope="module")
def superstore(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("reports")
    proc = run_cli("run", PARAMS / "superstore.yaml", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return {"out": out, "report": Path(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}


@needs_shared_data
@pytest.mark.slow
def test_cli_run_writes_the_documented_layout(superstore):
    report = superstore["report"]
    folder = superstore["out"] / "superstore" / "2017Q4"
    assert report == folder / "report.html"
    assert (folder / "findings.json").is_file()
    executed = sorted(p.stem for p in (folder / "notebooks").glob("*.ipynb"))
    present = sorted(p.stem for p in notebooks_dir().glob("*.ipynb")
                     if p.stem in ("revenue", "customers", "recommendations"))
    assert executed == present
    leftovers = [p.name for p in (superstore["out"] / "superstore").iterdir() if p.name != "2017Q4"]
    assert leftovers == [], "no temp folder, lock or .failed left behind"


@needs_shared_data
@pytest.mark.slow
def test_cli_run_reports_progress(superstore):
    err = superstore["stderr"]
    assert "running notebook" in err and "2017Q4" in err and "assembling report.html" in err
    for line in err.splitlines():
        assert "[IPKernelApp]" not in line, "kernel chatter stays out of the terminal"


@needs_shared_data
@pytest.mark.slow
def test_report_has_every_section_and_no_code(superstore):
    assert_report_shape(superstore["report"])


@needs_shared_data
@pytest.mark.slow
def test_report_numbers_are_the_findings(superstore):
    html, page, f = assert_report_shape(superstore["report"])
    assert_matches_findings(html, page, f)
    assert f["comparison"]["previous"]["label"] == "2017Q3"
    assert "2017Q3" in page.text and "2016Q4" in page.text


@needs_shared_data
@pytest.mark.slow
def test_missing_notebooks_are_noted_not_fatal(superstore):
    html = superstore["report"].read_text(encoding="utf-8")
    for name in ("revenue", "customers", "recommendations"):
        if not (notebooks_dir() / f"{name}.ipynb").exists():
            assert f"notebooks/{name}.ipynb) is not part of this installation" in html
            assert f"{name}.ipynb not found" in superstore["stderr"]


@needs_shared_data
@pytest.mark.slow
def test_executed_notebooks_carry_the_run_parameters(superstore):
    folder = superstore["report"].parent
    for path in (folder / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and 'run_dir = ".."' in injected[0].source and "2017Q4" in injected[0].source


@needs_shared_data
@pytest.mark.slow
def test_a_published_notebook_runs_again_where_it_lies(superstore, tmp_path):
    """The injected run_dir points at the report folder from the notebook's own folder, so the
    published (renamed) run's notebook finds its findings when an analyst runs it again."""
    import papermill as pm
    folder = superstore["report"].parent
    src = folder / "notebooks" / "recommendations.ipynb"
    out = tmp_path / "again.ipynb"
    pm.execute_notebook(str(src), str(out), cwd=str(src.parent), progress_bar=False, kernel_name="python3")
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors

    def html_outputs(notebook):
        return [o["data"]["text/html"] for c in notebook.cells if c.cell_type == "code"
                for o in c.get("outputs", []) if "text/html" in o.get("data", {})]

    again, published = html_outputs(nb), html_outputs(nbformat.read(src, as_version=4))
    assert again and again == published  # the same findings, read from the published folder


@needs_shared_data
@pytest.mark.slow
def test_report_html_is_valid_enough_for_a_browser(superstore):
    html = superstore["report"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<html") == 1 and html.count("<body") == 1 and html.count("</body>") == 1
    import html as htmllib
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src 'none'" in htmllib.unescape(html)
    page = Page(html)
    ids = [v for _, name, v in page.refs if name == "href" and v.startswith("#")]
    for anchor in ids:
        assert f'id="{anchor[1:]}"' in html, f"TOC link {anchor} has a target"


# --------------------------------------------------------------------------- atomicity, locks, timeouts

@needs_shared_data
@pytest.mark.slow
def test_failed_run_leaves_the_good_report_untouched(superstore, tmp_path):
    out = superstore["out"]
    folder = out / "superstore" / "2017Q4"
    before = file_tree(folder)
    nbs = tmp_path / "nbs"
    throwaway_notebook(nbs / "revenue.ipynb", "from IPython.display import Markdown, display\ndisplay(Markdown('half'))",
              "raise ValueError('boom in the revenue notebook')")
    with pytest.raises(ReportError) as info:
        from salesnb.report import run_report
        run_report(PARAMS / "superstore.yaml", out=out, notebooks=nbs)
    message = str(info.value)
    assert "revenue.ipynb failed" in message and "ValueError: boom in the revenue notebook" in message
    assert "\n" not in info.value.message, "one line"
    failed = out / "superstore" / "2017Q4.failed"
    kept = failed / "notebooks" / "revenue.ipynb"
    assert str(kept) in message and kept.exists()
    nb = nbformat.read(kept, as_version=4)
    assert any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    # its run_dir ('..' from the notebook's folder) is the kept run, findings included
    assert (kept.parent / ".." / "findings.json").is_file()
    assert (failed / "error.txt").read_text().startswith("Notebook revenue.ipynb failed")
    assert file_tree(folder) == before, "the good report is byte-identical"
    names = sorted(p.name for p in (out / "superstore").iterdir())
    assert names == ["2017Q4", "2017Q4.failed"], names


@needs_shared_data
@pytest.mark.slow
def test_good_run_replaces_report_and_clears_failure_and_stale_lock(superstore, tmp_path):
    from salesnb.report import run_report
    out = tmp_path / "out"
    shutil.copytree(superstore["out"] / "superstore", out / "superstore")
    (out / "superstore" / "2017Q4.failed" / "notebooks").mkdir(parents=True, exist_ok=True)
    # a stale lock (dead pid) and a leftover temp folder of a killed run
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / "superstore" / "2017Q4.lock").write_text(f"{dead.pid}\n")
    (out / "superstore" / ".tmp-2017Q4-deadbeef").mkdir()
    old = (out / "superstore" / "2017Q4" / "report.html").read_bytes()
    nbs = tmp_path / "nbs"
    throwaway_notebook(nbs / "revenue.ipynb", "from IPython.display import Markdown, display\n"
                                     "display(Markdown('Fresh **throwaway** body'))")
    messages = []
    path = run_report(PARAMS / "superstore.yaml", out=out, notebooks=nbs, progress=messages.append)
    assert path == out / "superstore" / "2017Q4" / "report.html"
    new = path.read_bytes()
    assert new != old and b"Fresh <strong>throwaway</strong> body" in new
    assert sorted(p.name for p in (out / "superstore").iterdir()) == ["2017Q4"]
    assert any("customers.ipynb not found" in m for m in messages)
    assert any("done in" in m for m in messages)


def test_live_lock_refuses_a_second_writer(tmp_path):
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    out = tmp_path / "out"
    (out / "tiny").mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "tiny" / "2023Q4.lock").write_text(f"{holder.pid}\n")
        nbs = tmp_path / "nbs"
        throwaway_notebook(nbs / "revenue.ipynb")
        with pytest.raises(ReportError, match=f"pid {holder.pid}"):
            run_report(params, out=out, notebooks=nbs)
        assert not (out / "tiny" / "2023Q4").exists()
        assert (out / "tiny" / "2023Q4.lock").read_text().strip() == str(holder.pid)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_timeout_is_a_clear_report_error(tmp_path):
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    nbs = tmp_path / "nbs"
    throwaway_notebook(nbs / "revenue.ipynb", "import time\ntime.sleep(60)")
    with pytest.raises(ReportError) as info:   # unless stopped, the cell would end normally after 60 s
        run_report(params, out=tmp_path / "out", notebooks=nbs, timeout=3)
    assert "revenue.ipynb timed out" in str(info.value) and "--timeout 3" in str(info.value)
    assert not (tmp_path / "out" / "tiny" / "2023Q4").exists()
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "out" / "tiny").iterdir())


def test_cli_run_bad_params_has_no_traceback(tmp_path):
    """A params problem ends in one message and exit 1."""
    proc = run_cli("run", tmp_path / "missing.yaml", "--out", tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "does not exist" in proc.stderr


def test_pdf_without_chromium_says_what_to_install(tmp_path, monkeypatch):
    import salesnb.report.pdf as pdf
    from salesnb.report import run_report
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    params = tmp_path / "p.yaml"
    (tmp_path / "s.csv").write_text("order,date,amount\n1,2024-01-05,10\n")
    params.write_text("name: t\nsource: s.csv\ncolumns: {order_id: order, order_date: date, revenue: amount}\n")
    with pytest.raises(ReportError, match="Chromium is needed for --pdf: apt-get install chromium"):
        run_report(params, out=tmp_path / "out", pdf=True)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- helpers

def test_write_atomic_replaces_in_one_step(tmp_path):
    from salesnb.report.publish import write_atomic
    target = tmp_path / "sub" / "f.json"
    write_atomic(target, "one")
    write_atomic(target, "two ✓")
    assert target.read_text(encoding="utf-8") == "two ✓"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


@pytest.mark.slow
def test_findings_cli_writes_atomically(tmp_path, shared_data):
    out = tmp_path / "f.json"
    proc = run_cli("findings", PARAMS / "superstore.yaml", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["period"]["label"] == "2017Q4"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_publish_swaps_folders(tmp_path):
    from salesnb.report.publish import publish
    final, new = tmp_path / "2024Q1", tmp_path / ".tmp-2024Q1-ab"
    final.mkdir()
    (final / "report.html").write_text("old")
    new.mkdir()
    (new / "report.html").write_text("new")
    publish(new, final)
    assert (final / "report.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024Q1"]
    other = tmp_path / "2024Q2"
    fresh = tmp_path / ".tmp-2024Q2-cd"
    fresh.mkdir()
    publish(fresh, other)
    assert other.is_dir() and not fresh.exists()


def test_rework_headings_fits_a_notebook_under_its_section():
    from salesnb.render.html import rework_headings
    body = '<h2 id="Revenue">Revenue</h2><p>x</p><h3 id="a">Trend &amp; growth</h3><h4>Detail</h4><h3>Trend &amp; growth</h3>'
    out, toc = rework_headings(body, "revenue")
    assert "<h2" not in out and "Revenue</h2>" not in out
    assert '<h3 id="revenue-trend-growth">Trend &amp; growth</h3>' in out
    assert '<h4 id="revenue-detail">' in out and 'id="revenue-trend-growth-2"' in out
    assert [t["id"] for t in toc] == ["revenue-trend-growth", "revenue-trend-growth-2"]
    assert str(toc[0]["text"]) == "Trend &amp; growth"


def test_markdown_money_is_not_math(tmp_path):
    from salesnb.fmt import esc
    from salesnb.render.html import notebook_body
    nb = nbformat.v4.new_notebook()
    text = "From -$1,200/$1,500 for " + esc("<b>Tom & Jerry_s</b>")
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    code = nbformat.v4.new_code_cell("x")
    code.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noisy"),
                    nbformat.v4.new_output("stream", name="stdout", text="debug print"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "<Axes: >"}, execution_count=1),
                    nbformat.v4.new_output("display_data", data={"text/markdown": "**shown**", "text/plain": "x"})]
    nb.cells.append(code)
    body = notebook_body(nb)
    assert "-$1,200/$1,500" in body
    assert "&lt;b&gt;Tom &amp; Jerry_s&lt;/b&gt;" in body and "&amp;lt;" not in body
    assert "<strong>shown</strong>" in body
    for noise in ("UserWarning", "debug print", "&lt;Axes", "jp-InputArea-editor", "In&nbsp;["):
        assert noise not in body


# --------------------------------------------------------------------------- other data sets (slow)

@pytest.mark.slow
def test_api_run_on_online_retail(tmp_path, shared_data):
    from salesnb import run_report
    path = run_report(PARAMS / "online_retail.yaml", period="2011Q4", out=tmp_path)
    assert path == tmp_path / "online-retail" / "2011Q4" / "report.html"
    html, page, f = assert_report_shape(path)
    assert_matches_findings(html, page, f)
    assert f["currency"] == "GBP" and "£" in page.text
    assert f["period"]["partial"] is True  # the data ends 2011-12-09
    assert "partial period" in page.text and "Like for like" in page.text


@needs_shared_data
@pytest.mark.slow
def test_notebook_figures_are_saved_as_laid_out(superstore):
    """charts.apply_theme() turns off the inline backend's bbox_inches='tight' (a second layout
    of every figure): a chart's PNG is its whole canvas, figsize × dpi, e.g. the 9 × 4.2 in trend
    chart at 100 dpi is 900 × 420 px."""
    import base64
    import struct
    from salesnb.render.charts.theme import THEME
    nb = nbformat.read(superstore["report"].parent / "notebooks" / "revenue.ipynb", as_version=4)
    pngs = [base64.b64decode(o["data"]["image/png"]) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert pngs
    width, height = struct.unpack(">II", pngs[0][16:24])
    w_in, h_in = THEME["figure.figsize"]
    assert (width, height) == (round(w_in * THEME["savefig.dpi"]), round(h_in * THEME["savefig.dpi"]))


@needs_shared_data
@pytest.mark.slow
def test_bodies_converted_while_notebooks_run_give_the_same_page(superstore):
    from salesnb.render import html as H
    from salesnb.report.run import assemble
    folder = superstore["report"].parent
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    executed = {p.stem: p for p in (folder / "notebooks").glob("*.ipynb")}
    bodies = {name: H.notebook_body(path) for name, path in executed.items()}
    page = assemble(findings, executed, generated="2026-01-01 00:00 UTC", bodies=bodies)
    assert page == assemble(findings, executed, generated="2026-01-01 00:00 UTC")
    assert page.count('id="revenue"') == 1


@pytest.mark.slow
def test_relative_out_folder_with_a_reused_kernel(tmp_path, monkeypatch):
    """`make report` writes under `reports/`, relative to the working folder. Three notebooks run
    on two pooled kernels, so one kernel is reused: it must still find the new notebook's folder
    (it was in the previous notebook's folder, where the relative path does not resolve)."""
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = run_report(params, out="reports")
    assert path == (tmp_path / "reports" / "tiny" / "2023Q4" / "report.html").resolve() and path.is_file()
    kept = sorted(p.stem for p in (path.parent / "notebooks").glob("*.ipynb"))
    assert kept == sorted(p.stem for p in notebooks_dir().glob("*.ipynb")
                          if p.stem in ("revenue", "customers", "recommendations"))
    assert not (path.parent.parent / "2023Q4.failed").exists()
