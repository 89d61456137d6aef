"""The report in a real browser: headless Chromium with the network blocked.

One report (the kit's synthetic sample, with --pdf) is produced once; Chromium then dumps its
DOM, takes a screenshot and logs the console, and pdftotext reads the PDF.
"""
from __future__ import annotations

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
