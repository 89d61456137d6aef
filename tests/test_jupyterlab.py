"""The notebooks as an analyst sees them: JupyterLab 4 in a real browser (Playwright over the
system Chromium), each notebook opened and Run All, on the kit's sample and on Superstore 2017Q4
(with its bridge, leaders, profit and forecast sections), and the pipeline notebook on the CRM
deals (params/crm_pipeline.yaml, 2017Q2).

What must hold in every notebook: no error output, nothing on stderr (warnings included), no
typeset maths anywhere (money such as "$1,231.20 per order" stays text), no console error, no
request off the loopback, and the sentences read exactly as the library renders them from the
same findings; every table shows its columns and fits the notebook's width, every chart is drawn
at its own size or more. Screenshots of each notebook (its top) and of each cell's outputs go to
``tests/artifacts/jupyterlab/<run>/`` (gitignored).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from support.paths import PARAMS, ROOT, SHARED_DATA, TESTS, shared_file
from support.jupyterlab import CHROMIUM, CHROMIUM_ARGS, JupyterLab, run_all, shoot_outputs

ARTIFACTS = TESTS / "artifacts" / "jupyterlab"
SUPERSTORE_PARAMS = PARAMS / "superstore.yaml"
SUPERSTORE_DATA = SHARED_DATA / "superstore"
NOTEBOOKS = ("revenue", "customers", "recommendations")
CRM_PARAMS = ROOT / "params" / "crm_pipeline.yaml"

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]


def notebook_copies(folder: Path, params_file: Path | None = None, period: str | None = None,
                    names: tuple[str, ...] = NOTEBOOKS) -> Path:
    """The repo's notebooks (stored without outputs) copied to ``folder``, the parameters cell set
    the way an analyst sets it."""
    folder.mkdir(parents=True)
    for name in names:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stored with outputs"
        if params_file is not None:
            cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
            cell.source = cell.source.replace("params_file = None", f"params_file = {str(params_file)!r}")
            cell.source = cell.source.replace("period = None", f"period = {period!r}")
            assert repr(str(params_file)) in cell.source and repr(period) in cell.source
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def run_in_lab(work: Path, label: str, names: tuple[str, ...] = NOTEBOOKS) -> dict:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")
    out = ARTIFACTS / label
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results = {}
    with JupyterLab(work / "nb", work / "jupyterlab.log") as lab, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name in names:
                page = browser.new_page(viewport={"width": 1400, "height": 1600})
                try:
                    results[name] = run_all(page, lab.url(f"{name}.ipynb"), timeout_s=300)
                    results[name]["page_math"] = page.evaluate(
                        "() => document.querySelectorAll('mjx-container, .MathJax, .MathJax_Display').length")
                finally:
                    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                try:
                    results[name]["shots"] = shoot_outputs(page, out, name)
                finally:
                    page.close()
        finally:
            browser.close()
    shutil.copy(work / "jupyterlab.log", out / "jupyterlab.log")
    (out / "outputs.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
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
    revenue += change_leader_profit_forecast_sentences(f)
    customers = [s for s in nc.customer_sentences(f) if s] if (f.get("customers") or {}).get("available", True) else []
    recommendations = [t["sentence"] for t in summary.top_findings(f)]
    return {"revenue": revenue, "customers": customers, "recommendations": recommendations}


def change_leader_profit_forecast_sentences(f: dict) -> list[str]:
    """The sentences and notes of "Why revenue changed", "Leaders quarter by quarter", "Profit and
    margin" and "Forecast" (those the findings have)."""
    from salesnb.render.narrative import bridge, forecast, profit, revenue as narrative
    out = []
    for which in narrative.comparisons(f):
        if f["revenue"]["bridge"].get(which) is not None:
            out += [bridge.bridge_sentence(f, which, kind) for kind in bridge.KINDS] + bridge.bridge_notes(f, which)
    out.append(bridge.leaders_sentence(f) or bridge.NO_LEADERS)
    if "profit" in f["revenue"]:
        out += profit.profit_sentences(f)
        out += [profit.margin_range_sentence(f, dim) for dim in f["revenue"]["profit"]["by_dimension"] if dim != "product"]
    if f.get("forecast"):
        out += forecast.forecast_sentences(f) + [forecast.backtest_note(f)]
    return [s for s in out if s]


def expected_tables(f: dict) -> dict[str, list[list[str]]]:
    """The header row of each wide table of those sections, as the library builds the table."""
    from salesnb.render import tables
    from salesnb.render.narrative import bridge, forecast, revenue as narrative
    frames = [tables.bridge_items_table(f, which) for which in narrative.comparisons(f)
              if (f["revenue"]["bridge"].get(which) or {}).get("pvm") is not None]
    if bridge.leaders_sentence(f):
        frames.append(tables.leaders_table(f))
        dim = tables.leaders_region_dimension(f)
        if dim:
            frames.append(tables.leaders_by_region_table(f, dim))
    if (f["revenue"].get("profit") or {}).get("discount"):
        frames.append(tables.discount_table(f))   # profit's own KPIs are rows of the KPI table
    if f.get("forecast"):
        frames.append(forecast.months_table(f))
        if forecast.backtest_note(f):
            frames.append(forecast.backtest_table(f))
    from salesnb.render import recommendations as recs
    actions = [recs.actions_frame(f)]
    return {"revenue": [list(map(str, frame.columns)) for frame in frames if not frame.empty],
            "recommendations": [list(map(str, frame.columns)) for frame in actions if not frame.empty]}


def pipeline_expected(f: dict) -> tuple[list[str], list[list[str]]]:
    """The pipeline notebook's sentences and its leaderboards' header rows."""
    from salesnb.render.narrative import pipeline as words
    sentences = [" ".join(words.opening(f)), words.open_sentence(f), words.expected_value_sentence(f).strip()]
    frames = [words.leaderboard_frame(f)]
    if f["pipeline"].get("by_region"):
        frames.append(words.leaderboard_frame(f, "by_region", "region"))
    return sentences, [list(frame.columns) for frame in frames if not frame.empty]


def check(results: dict, f: dict, expected: dict[str, list[str]] | None = None,
          expected_headers: dict[str, list[list[str]]] | None = None) -> None:
    expected = expected or expected_sentences(f)
    expected_headers = expected_headers if expected_headers is not None else expected_tables(f)
    money = 0
    for name, r in results.items():
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
        check_layout(name, outputs, expected_headers.get(name, []))
    assert money >= 3, "the sentences hold dollar amounts"


def check_layout(name: str, outputs: list[dict], headers: list[list[str]]) -> None:
    """Every expected table is shown with all its columns and does not scroll sideways at 1400 px;
    every chart is drawn at its own size, or shrunk only to fit the notebook's width."""
    shown = [h for o in outputs for h in o["tables"]]
    for columns in headers:
        assert columns in shown, f"{name}: no table with the columns {columns}"
    wide = [(o["tables"][0], o["overflow"]) for o in outputs
            if o["tables"] and o["tables"][0] in headers and o["overflow"] > 1]
    assert wide == [], f"{name}: tables wider than the notebook {wide}"
    small = [(o["width"], d) for o in outputs for d in o["drawn"] if d[0] + 1 < min(d[1], o["width"])]
    assert small == [], f"{name}: charts drawn smaller than they are {small}"


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
    # the sections under test are there: both bridges, leaders by region, profit, forecast and backtest
    assert all(f["revenue"]["bridge"][k]["pvm"] for k in ("previous", "year_ago"))
    assert "profit" in f["revenue"] and f["forecast"] and len(expected_tables(f)["revenue"]) == 7
    check(results, f)


def test_pipeline_notebook_in_jupyterlab_on_the_crm_deals(tmp_path):
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    import salesnb
    work = tmp_path
    notebook_copies(work / "nb", CRM_PARAMS, "2017Q2", names=("pipeline",))
    results = run_in_lab(work, "crm-pipeline", names=("pipeline",))
    f = salesnb.build_findings(salesnb.load_config(CRM_PARAMS), "2017Q2").data
    sentences, headers = pipeline_expected(f)
    check(results, f, {"pipeline": sentences}, {"pipeline": headers})
