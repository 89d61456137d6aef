"""The notebooks as an analyst sees them: JupyterLab 4 in a real browser (Playwright over the
system Chromium), each notebook opened and Run All, on the kit's sample and on Superstore 2017Q4.

What must hold in every notebook: no error output, nothing on stderr (warnings included), no
typeset maths anywhere (money such as "$1,231.20 per order" stays text), no console error, no
request off the loopback, and the sentences read exactly as the library renders them from the
same findings. Screenshots of each notebook go to ``tests/artifacts/jupyterlab/`` (gitignored).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from support.paths import PARAMS, ROOT, SHARED_DATA, TESTS
from support.jupyterlab import CHROMIUM, CHROMIUM_ARGS, JupyterLab, run_all

ARTIFACTS = TESTS / "artifacts" / "jupyterlab"
SUPERSTORE_PARAMS = PARAMS / "superstore.yaml"
SUPERSTORE_DATA = SHARED_DATA / "superstore"
NOTEBOOKS = ("revenue", "customers", "recommendations")

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]


def notebook_copies(folder: Path, params_file: Path | None = None, period: str | None = None) -> Path:
    """The repo's notebooks (stored without outputs) copied to ``folder``, the parameters cell set
    the way an analyst sets it."""
    folder.mkdir(parents=True)
    for name in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stored with outputs"
        if params_file is not None:
            cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
            cell.source = cell.source.replace("params_file = None", f"params_file = {str(params_file)!r}")
            cell.source = cell.source.replace("period = None", f"period = {period!r}")
            assert repr(str(params_file)) in cell.source and repr(period) in cell.source
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def run_in_lab(work: Path, label: str) -> dict:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")
    out = ARTIFACTS / label
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results = {}
    with JupyterLab(work / "nb", work / "jupyterlab.log") as lab, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name in NOTEBOOKS:
                page = browser.new_page(viewport={"width": 1400, "height": 1600})
                try:
                    results[name] = run_all(page, lab.url(f"{name}.ipynb"), timeout_s=300)
                    results[name]["page_math"] = page.evaluate(
                        "() => document.querySelectorAll('mjx-container, .MathJax, .MathJax_Display').length")
                finally:
                    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                    page.close()
        finally:
            browser.close()
    shutil.copy(work / "jupyterlab.log", out / "jupyterlab.log")
    return results


def texts(result: dict) -> list[str]:
    """The text of every paragraph and list item of every output."""
    return [t for cell in result["cells"] for o in cell["outputs"] for t in o["items"]]


def expected_sentences(f: dict) -> dict[str, list[str]]:
    """What the notebooks must show, rendered by the library from the findings."""
    from salesnb.render import summary
    from salesnb.render.narrative import customers as nc, revenue as narrative
    revenue = list(narrative.revenue_sentences(f))
    for s in (narrative.anomaly_sentence(f), narrative.top_rep_sentence(f)):
        if s:
            revenue.append(s)
    for dim in ("region", "segment", "category", "channel"):
        if dim in f["revenue"]["dimensions"]:
            s = narrative.dimension_growth_sentence(f, dim) or narrative.dimension_share_sentence(f, dim)
            if s:
                revenue.append(s)
    lines = [s for s in (narrative.best_worst_sentence(f), narrative.growth_sentence(f)) if s]
    if lines:
        revenue.append(" ".join(lines))
    customers = [s for s in nc.customer_sentences(f) if s] if (f.get("customers") or {}).get("available", True) else []
    recommendations = [t["sentence"] for t in summary.top_findings(f)]
    return {"revenue": revenue, "customers": customers, "recommendations": recommendations}


def check(results: dict, f: dict) -> None:
    expected = expected_sentences(f)
    money = 0
    for name in NOTEBOOKS:
        r = results[name]
        outputs = [o for cell in r["cells"] for o in cell["outputs"]]
        assert outputs, f"{name}: no output at all"
        errors = [o["text"][:500] for o in outputs if o["error"]]
        assert errors == [], f"{name}: error outputs {errors}"
        stderr = [o["text"][:500] for o in outputs if o["stderr"]]
        assert stderr == [], f"{name}: stderr {stderr}"
        typeset = [o["text"][:200] for o in outputs if o["math"]]
        assert typeset == [] and r["page_math"] == 0, f"{name}: typeset maths in {typeset}"
        assert r["console"] == [], f"{name}: console errors {r['console']}"
        assert r["outside"] == [], f"{name}: requests off the loopback {r['outside']}"
        links = [h for o in outputs for h in o["links"] if not h.startswith("#")]
        assert links == [], f"{name}: links in outputs {links}"
        shown = texts(r)
        assert expected[name], name
        for sentence in expected[name]:
            assert sentence in shown, f"{name}: {sentence!r} is not shown as text"
            money += "$" in sentence
        assert sum(o["images"] for o in outputs) >= 1 or name == "recommendations"
    assert money >= 3, "the sentences hold dollar amounts"


def test_notebooks_in_jupyterlab_on_the_sample(tmp_path):
    import salesnb
    from salesnb.findings import default_params_file
    work = tmp_path
    notebook_copies(work / "nb")
    results = run_in_lab(work, "sample")
    f = salesnb.build_findings(salesnb.load_config(default_params_file(None)), None).data
    check(results, f)


def test_notebooks_in_jupyterlab_on_superstore(tmp_path):
    if not SUPERSTORE_DATA.is_dir():
        pytest.skip(f"Superstore is not at {SUPERSTORE_DATA} (../shared/data beside the checkout)")
    import salesnb
    work = tmp_path
    notebook_copies(work / "nb", SUPERSTORE_PARAMS, "2017Q4")
    results = run_in_lab(work, "superstore")
    f = salesnb.build_findings(salesnb.load_config(SUPERSTORE_PARAMS), "2017Q4").data
    check(results, f)
