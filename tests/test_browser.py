"""The report in a real browser: headless Chromium with the network blocked.

One report (the kit's synthetic sample, with --pdf) is produced once; Chromium then dumps its
DOM, takes a screenshot and logs the console, and pdftotext reads the PDF. Two reports on the real
data sets (Superstore 2017Q4, the CRM pipeline 2017Q2, with --pdf) check the wide tables: every
column of them in the PDF's text, no word past the page's right margin, and report.html at 700 and
1400 px and laid out for print (screenshots in ``tests/artifacts/browser/``, gitignored).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
SECTION_TITLES = ("Executive summary", "Revenue", "Customers", "Recommendations", "Data quality and method")

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]


def run_cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "salesnb.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def chromium(*args, profile: Path, timeout=120) -> subprocess.CompletedProcess:
    """Headless Chromium that cannot reach any host: every request goes to a dead proxy and
    every name resolves to nothing; console messages are logged to stderr."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
           "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def console_problems(stderr: str) -> list[str]:
    """Console errors, CSP violations and failed loads (the dbus/GPU chatter of a container is not one)."""
    bad = []
    for line in stderr.splitlines():
        if ":CONSOLE" in line or "Failed to load" in line or "net::ERR_" in line or "violates" in line:
            bad.append(line)
    return bad


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    data = work / "sample.parquet"
    proc = run_cli("sample", data, "--rows", "20000", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    params = yaml.safe_load((ROOT / "params" / "sample.yaml").read_text(encoding="utf-8"))
    params["source"] = str(data)
    (work / "sample.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    proc = run_cli("run", work / "sample.yaml", "--out", work / "reports", "--pdf")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = Path(proc.stdout.strip().splitlines()[-1])
    assert report.name == "report.html" and report.parent.name == "2024Q3"
    return {"work": work, "report": report, "pdf": report.parent / "report.pdf"}


@pytest.fixture(scope="module")
def dom(sample_report):
    proc = chromium("--dump-dom", sample_report["report"].as_uri(), profile=sample_report["work"] / "profile-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_dom_has_every_section(dom):
    text = dom.stdout
    assert text.lstrip().lower().startswith("<!doctype html>") or "<html" in text[:200]
    h2 = re.findall(r"<h2[^>]*>(.*?)</h2>", text, re.S)
    for title in SECTION_TITLES:
        assert title in h2, (title, h2)
    assert "data:image/png;base64," in text
    assert 'href="#executive-summary"' in text


def test_no_console_errors_or_blocked_requests(dom):
    assert console_problems(dom.stderr) == []


def test_screenshot_is_not_blank(sample_report):
    import numpy as np
    from matplotlib import image
    shot = sample_report["work"] / "shot.png"
    proc = chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars",
                    sample_report["report"].as_uri(), profile=sample_report["work"] / "profile-shot")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    pixels = image.imread(str(shot))
    assert pixels.shape[0] >= 1900 and pixels.shape[1] >= 1200
    gray = pixels[..., :3].mean(axis=2)
    assert gray.std() > 0.05, "the page shows something"
    # text and charts across the page, not just a header: most row bands have ink
    bands = [gray[y:y + 100].std() > 0.02 for y in range(0, gray.shape[0] - 100, 100)]
    assert sum(bands) >= len(bands) * 0.6
    assert console_problems(proc.stderr) == []
    assert np.isfinite(gray).all()


def test_pdf_is_multi_page_with_the_section_titles(sample_report):
    pdf = sample_report["pdf"]
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    if not shutil.which("pdftotext"):
        pytest.skip("needs pdftotext (apt-get install poppler-utils)")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.count("\f")
    assert pages >= 3, pages
    flat = " ".join(text.split())
    for title in SECTION_TITLES:
        assert title in flat, title
    assert "import salesnb" not in flat


def test_report_layout_with_pdf(sample_report):
    folder = sample_report["report"].parent
    names = sorted(p.name for p in folder.iterdir())
    assert {"report.html", "report.pdf", "findings.json", "notebooks"} <= set(names)
    siblings = sorted(p.name for p in folder.parent.iterdir())
    assert siblings == ["2024Q3"], siblings


# --- the real data sets: Superstore 2017Q4 (bridge, leaders, profit, forecast) and the CRM pipeline

#: A4 less the report's 12 mm side margins, in CSS pixels: the width Chromium lays a page out at
PRINT_WIDTH_PX = (210 - 2 * 12) / 25.4 * 96
#: the right margin's edge on the PDF page, in points (A4 is 595 pt wide)
PDF_RIGHT_EDGE_PT = 595.28 - 12 / 25.4 * 72
REAL_REPORTS = {"superstore": (ROOT / "tests" / "params" / "superstore.yaml", "2017Q4"),
                "crm-pipeline": (ROOT / "params" / "crm_pipeline.yaml", "2017Q2")}
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"


@pytest.fixture(scope="module", params=sorted(REAL_REPORTS))
def real_report(request, tmp_path_factory):
    from support.paths import SHARED_DATA
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real data sets are not at {SHARED_DATA}")
    params, period = REAL_REPORTS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    proc = run_cli("run", params, "--period", period, "--out", out, "--pdf")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    report = Path(proc.stdout.strip().splitlines()[-1])
    findings = json.loads((report.parent / "findings.json").read_text(encoding="utf-8"))
    return {"name": request.param, "report": report, "pdf": report.parent / "report.pdf", "f": findings}


def wide_tables(f: dict) -> list:
    """The wide tables of the report, built by the library from its findings: the bridge items,
    the leaders (overall and by region), the forecast's months and backtest; the pipeline's rep
    and region leaderboards."""
    from salesnb.render import tables
    from salesnb.render.narrative import forecast, pipeline, revenue as narrative
    if f.get("kind") == "pipeline":
        frames = [pipeline.leaderboard_frame(f), pipeline.leaderboard_frame(f, "by_region", "region")]
    else:
        frames = [tables.bridge_items_table(f, which) for which in narrative.comparisons(f)]
        frames += [tables.leaders_table(f), tables.leaders_by_region_table(f, tables.leaders_region_dimension(f)),
                   forecast.months_table(f), forecast.backtest_table(f)]
    return [frame for frame in frames if not frame.empty]


def test_every_column_of_the_wide_tables_is_in_the_pdf(real_report):
    if not shutil.which("pdftotext"):
        pytest.skip("needs pdftotext (apt-get install poppler-utils)")
    text = subprocess.run(["pdftotext", str(real_report["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    frames = wide_tables(real_report["f"])
    assert len(frames) == (2 if real_report["name"] == "crm-pipeline" else 6), [list(x.columns) for x in frames]
    for frame in frames:
        for column in frame.columns:
            assert " ".join(str(column).split()) in flat, f"column {column!r} is not in the PDF"
        # the last column's figures too (a column cut off at the page edge keeps its header's
        # first letters at most): each money amount or percentage of it
        for cell in frame[frame.columns[-1]]:
            for token in re.findall(r"[$\d][\d,.]*%?", str(cell)):
                assert token in flat, f"{token!r} of column {frame.columns[-1]!r} is not in the PDF"


def test_no_word_of_the_pdf_is_past_the_right_margin(real_report):
    if not shutil.which("pdftotext"):
        pytest.skip("needs pdftotext (apt-get install poppler-utils)")
    boxes = subprocess.run(["pdftotext", "-bbox", str(real_report["pdf"]), "-"], capture_output=True, text=True,
                           check=True).stdout
    right = [(float(x), w) for x, w in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" '
                                                  r'yMax="[\d.]+">([^<]*)</word>', boxes)]
    assert len(right) > 500
    assert [w for x, w in right if x > PDF_RIGHT_EDGE_PT + 0.5] == []


def layout(page, media: str) -> dict:
    page.emulate_media(media=media)
    return page.evaluate("""() => ({
      page: document.documentElement.scrollWidth,
      tables: Array.from(document.querySelectorAll('table.salesnb-table')).map(t => {
        const box = t.closest('.jp-OutputArea-output, .table-wrap') || t.parentElement;
        return {columns: t.querySelectorAll('thead th').length, over: box.scrollWidth - box.clientWidth,
                head: Array.from(t.querySelectorAll('thead th')).slice(0, 3).map(th => th.innerText)};
      }),
      images: Array.from(document.querySelectorAll('main img')).map(i => {
        const r = i.getBoundingClientRect();
        return {width: r.width, natural: i.naturalWidth, room: i.parentElement.clientWidth};
      }),
    })""")


def test_html_at_a_narrow_and_a_wide_width_and_on_paper(real_report):
    """report.html at 700 and 1400 px: the page never scrolls sideways and charts fit; every table
    fits at 1400 px, and at 700 px only one of 9 or more columns may scroll inside its own box.
    Laid out for print at A4's width, nothing is wider than the page (Chromium would shrink
    every page of the PDF to fit it)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                     "--proxy-server=127.0.0.1:9"])
        try:
            for width in (700, 1400, round(PRINT_WIDTH_PX)):
                page = browser.new_page(viewport={"width": width, "height": 1200})
                page.goto(real_report["report"].as_uri())
                media = "print" if width == round(PRINT_WIDTH_PX) else "screen"
                seen = layout(page, media)
                if media == "screen":
                    page.screenshot(path=str(ARTIFACTS / f"{real_report['name']}-{width}.png"), full_page=True)
                page.close()
                assert seen["page"] <= width, f"{width} px {media}: the page scrolls sideways ({seen['page']} px)"
                assert seen["tables"] and seen["images"]
                limit = 8 if width == 700 else 99
                over = [t for t in seen["tables"] if t["over"] > 0 and t["columns"] <= limit]
                assert over == [], f"{width} px {media}: tables wider than the page {over}"
                cut = [i for i in seen["images"] if i["width"] > i["room"] + 1]
                assert cut == [], f"{width} px {media}: charts wider than the page {cut}"
        finally:
            browser.close()
