"""The pipeline report (SPEC 10): `salesnb init` on a CRM export writes pipeline params, and
`salesnb run` on them gives a report whose numbers are the findings' and that calls no open
deal a data problem; the pipeline recommendations carry their evidence; batch indexes them."""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from salesnb.config import config_from_dict, load_config
from salesnb.findings import build_findings
from salesnb.fmt import fmt_money, fmt_pct
from salesnb.guess import params_text, read_column_names
from salesnb.recommend.evidence import resolve
from support.paths import ROOT, shared_file

CRM_PARAMS = ROOT / "params" / "crm_pipeline.yaml"


def _text(page: str) -> str:
    page = re.sub(r"<style.*?</style>|<img[^>]*>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_init_recognises_a_stage_column(tmp_path):
    data = tmp_path / "deals.csv"
    data.write_text("Deal ID,Stage,Created,Close Date,Amount,Owner\n"
                    "1,Closed Won,2024-01-02,2024-02-01,100,Ann\n2,Closed Lost,2024-01-03,2024-02-05,0,Bob\n"
                    "3,Negotiation,2024-01-04,,50,Ann\n")
    out = tmp_path / "params" / "deals.yaml"
    params = yaml.safe_load(params_text(data, out, read_column_names(data)))
    assert params["kind"] == "pipeline"
    assert params["columns"] == {"deal_id": "Deal ID", "stage": "Stage", "created_date": "Created",
                                 "close_date": "Close Date", "value": "Amount", "sales_rep": "Owner"}
    assert params["stages"] == {"won": ["Closed Won"], "lost": ["Closed Lost"]}
    config = config_from_dict(dict(params, source=str(data)))
    assert config.kind == "pipeline" and config.stages["won"] == ["Closed Won"]


def test_recommendation_evidence_resolves_to_the_findings():
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    f = build_findings(load_config(CRM_PARAMS), "2017Q2").data
    recs = f["recommendations"]
    items = recs["opportunities"] + recs["risks"] + recs["actions"]
    assert items, "the CRM data's 2017Q2 has stalled deals at least"
    for item in items:
        for ev in item["evidence"]:
            assert resolve(f, ev["key"]) == ev["value"], ev["key"]
    stalled = next(i for i in recs["risks"] if i["rule"] == "stalled_deals")
    assert stalled["impact"] == pytest.approx(f["pipeline"]["stalled"]["value"]) and stalled["shown"]
    gaps = [i for i in recs["opportunities"] if i["rule"] == "win_rate_gap"]
    assert all(i["sample"] >= 20 for i in gaps)
    # a gap below 1% of won revenue is kept, flagged, not shown
    assert all(i["shown"] == (i["impact"] >= 0.01 * f["pipeline"]["won"]["revenue"]) for i in gaps)


def test_executive_summary_numbers_are_the_findings():
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    from salesnb.render.narrative.pipeline import executive_summary_html, opening
    f = build_findings(load_config(CRM_PARAMS), "2017Q4").data
    p = f["pipeline"]
    first = opening(f)[0]
    assert f"{p['won']['deals']:,} of {p['won']['deals'] + p['lost']['deals']:,} closed deals" in first
    assert fmt_pct(p["win_rate_pct"]) == "60.3%" and "60.3%" in first
    assert fmt_money(p["won"]["revenue"], "USD") in first
    text = _text(executive_summary_html(f))
    assert fmt_money(p["expected_value"]["value"], "USD") in text


@pytest.mark.slow
def test_init_then_run_gives_a_pipeline_report_with_no_open_deal_as_a_problem(tmp_path):
    source = shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    env_cmd = [sys.executable, "-m", "salesnb.cli"]
    r = subprocess.run(env_cmd + ["init", str(source)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    params = tmp_path / "params" / "sales_pipeline.yaml"
    assert yaml.safe_load(params.read_text())["kind"] == "pipeline"
    r = subprocess.run(env_cmd + ["run", str(params), "--period", "2017Q2", "--out", str(tmp_path / "reports")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    report = Path(r.stdout.strip().splitlines()[-1])
    text = _text(report.read_text(encoding="utf-8"))
    found = json.loads((report.parent / "findings.json").read_text())
    p = found["pipeline"]
    assert found["kind"] == "pipeline" and found["period"]["label"] == "2017Q2"
    # the numbers of the report are the findings' (which tests/metrics/test_pipeline.py recomputes with pandas)
    for value in (fmt_money(p["won"]["revenue"], "USD"), fmt_pct(p["win_rate_pct"]), f"{p['open']['deals']:,}"):
        assert value in text
    for heading in ("Deals by stage", "Win rate and sales cycle", "Open pipeline by stage and age",
                    "Rep leaderboard", "Recommendations", "Data quality and method"):
        assert heading in text
    # no open deal is a data problem: nothing dropped, no "unreadable rows" action
    assert found["data"]["rows_dropped"] == {} and "Rows dropped 0" in text
    assert "unreadable" not in text.lower() and "unparseable" not in text.lower()
    assert "2,089 open" in text and "not a data problem" in text
    # the values of open deals are missing in the plain file: counted and said, never guessed
    assert p["open"]["without_value"] == p["open"]["deals"]


@pytest.mark.slow
def test_batch_indexes_pipeline_reports(tmp_path):
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    r = subprocess.run([sys.executable, "-m", "salesnb.cli", "batch", str(CRM_PARAMS), "--periods", "2017Q3..2017Q4",
                        "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    index = _text((tmp_path / "crm-pipeline" / "index.html").read_text(encoding="utf-8"))
    assert "Won revenue" in index and "Win rate" in index and "60.3%" in index
    assert (tmp_path / "crm-pipeline" / "2017Q3" / "report.html").is_file()


@pytest.mark.slow
def test_pipeline_notebook_executes_without_errors_or_warnings(tmp_path):
    import nbformat
    import papermill as pm
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    out = tmp_path / "pipeline.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "pipeline.ipynb"), str(out),
                        parameters={"params_file": str(CRM_PARAMS), "period": "2017Q4"}, kernel_name="python3",
                        progress_bar=False, cwd=str(ROOT / "notebooks"))
    nb = nbformat.read(out, as_version=4)
    problems = [o for c in nb.cells for o in c.get("outputs", [])
                if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert problems == []
    images = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert images >= 6   # funnel, win rate × 2, cycle × 2, open by age


def test_a_sales_notebook_on_pipeline_params_is_one_clear_error(tmp_path, monkeypatch):
    from salesnb.errors import ConfigError
    from salesnb.findings import notebook_findings
    monkeypatch.setenv("SALESNB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "deals.csv").write_text("stage,created,closed,value\nWon,2024-01-02,2024-02-01,100\n"
                                        "Lost,2024-01-03,2024-03-01,0\nOpen,2024-02-01,,9\n")
    params = tmp_path / "p.yaml"
    params.write_text("name: p\nkind: pipeline\nsource: deals.csv\nstages: {won: [Won], lost: [Lost]}\n"
                      "columns: {stage: stage, created_date: created, close_date: closed, value: value}\n")
    with pytest.raises(ConfigError) as err:
        notebook_findings(str(params), "2024Q1", sections=("revenue",))
    assert "pipeline params" in err.value.message and "pipeline.ipynb" in err.value.hint
    found = notebook_findings(str(params), "2024Q1", kind="pipeline")
    assert found["pipeline"]["win_rate_pct"] == 50.0
