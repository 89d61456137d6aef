"""The batch index's forecast track record (issue 25 item 4): each quarter's forecast, made by the
report of the quarter before, beside the actual of the report that followed. On Superstore
2017Q2..2017Q4 the actuals are recomputed from the raw CSV with pandas; the index page shows
every number; synthetic findings cover scopes, partial quarters and the forecast still open."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from salesnb.fmt import fmt_count, fmt_delta, fmt_money, fmt_pct
from salesnb.render import html as H
from salesnb.report.index import track_record, track_record_view
from support.paths import PARAMS, ROOT, needs_shared_data
from support.paths import SHARED_DATA as SHARED

SUPERSTORE_CSV = SHARED / "superstore" / "Sample - Superstore.csv"
QUARTERS = ("2017Q2", "2017Q3", "2017Q4")


@pytest.fixture(scope="module")
def superstore():
    """Revenue-section findings of three consecutive quarters, from one load of the data."""
    from salesnb.config import load_config
    from salesnb.data import load_data
    from salesnb.findings import build_findings
    config = load_config(PARAMS / "superstore.yaml")
    with load_data(config) as dataset:
        return [build_findings(config, q, dataset=dataset, sections=("revenue",)).data for q in QUARTERS]


def quarter_revenue(label: str) -> float:
    raw = pd.read_csv(SUPERSTORE_CSV, encoding="cp1252", usecols=["Order Date", "Sales"])
    dates = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y")
    year, q = int(label[:4]), int(label[-1])
    return float(raw.loc[(dates.dt.year == year) & (dates.dt.quarter == q), "Sales"].sum())


@pytest.mark.slow   # four Superstore findings; the fast set has the synthetic track record
@needs_shared_data
def test_superstore_forecasts_beside_the_actuals(superstore):
    rows = track_record([(None, f) for f in superstore])
    assert [(r["made_after"], r["quarter"]) for r in rows] == [("2017Q2", "2017Q3"), ("2017Q3", "2017Q4"),
                                                              ("2017Q4", "2018Q1")]
    for r, made, later in zip(rows, superstore, superstore[1:] + [None]):
        nq = made["forecast"]["next_quarter"]
        assert (r["forecast"], r["lo80"], r["hi80"]) == (nq["revenue"], nq["lo80"], nq["hi80"])
        assert r["method"] == made["forecast"]["method"]
        if later is None:             # 2018Q1: no report yet
            assert r["actual"] is None and not r["reported"] and r["error_pct"] is None and r["inside80"] is None
            continue
        actual = quarter_revenue(r["quarter"])          # independently, from the raw CSV
        assert r["actual"] == later["revenue"]["total"] == pytest.approx(actual, abs=0.01)
        assert r["error_pct"] == pytest.approx((actual - nq["revenue"]) / actual * 100)
        assert r["inside80"] == (nq["lo80"] <= actual <= nq["hi80"])
    # the forecast made after 2017Q2 uses no month after June 2017
    assert superstore[0]["forecast"]["series"]["last_month"] == "2017-06"

    view = track_record_view(rows, "USD")
    scored = [r for r in rows if r["error_pct"] is not None]
    mape = sum(abs(r["error_pct"]) for r in scored) / len(scored)
    hits = sum(r["inside80"] for r in scored)
    assert view["summary"] == (f"Over {len(scored)} quarters with a complete actual, the forecast was off by "
                               f"{fmt_pct(mape)} on average (absolute); the actual fell inside the 80% interval in "
                               f"{fmt_count(hits)} of {len(scored)}.")
    page = H.index_page(title="superstore", periods="2017Q2 … 2017Q4", by=None, rows=[], chart=None, generated="now",
                        track_record=view)
    assert "Forecast track record" in page and view["summary"] in page
    for r in rows:
        cells = [r["quarter"], r["made_after"], fmt_money(r["forecast"]), f"{fmt_money(r['lo80'])}–{fmt_money(r['hi80'])}"]
        if r["actual"] is not None:
            cells += [fmt_money(r["actual"]), fmt_delta(r["error_pct"])]
        for cell in cells:
            assert f">{cell}<" in page, cell
    assert ">not in this batch<" in page


def fake(label, revenue, *, partial=False, next_label=None, forecast=None, lo=None, hi=None, method="ets"):
    nq = {"label": next_label, "revenue": forecast, "lo80": lo, "hi80": hi}
    return {"period": {"label": label, "partial": partial}, "revenue": {"total": revenue},
            "forecast": {"method": method, "model": None, "next_quarter": nq}}


def test_scopes_do_not_mix_and_partial_quarters_are_not_scored():
    entries = [
        ("West", fake("2024Q1", 100.0, next_label="2024Q2", forecast=110.0, lo=100.0, hi=120.0)),
        ("East", fake("2024Q1", 50.0, next_label="2024Q2", forecast=40.0, lo=35.0, hi=45.0)),
        ("West", fake("2024Q2", 125.0, next_label="2024Q3", forecast=130.0, lo=120.0, hi=140.0)),
        ("East", fake("2024Q2", 44.0, partial=True, next_label="2024Q3", forecast=45.0, method="run_rate")),
    ]
    rows = {(r["scope"], r["quarter"]): r for r in track_record(entries)}
    west = rows[("West", "2024Q2")]
    assert west["actual"] == 125.0 and west["error_pct"] == pytest.approx((125 - 110) / 125 * 100)
    assert west["inside80"] is False                     # 125 > 120
    east = rows[("East", "2024Q2")]
    assert east["actual"] == 44.0 and east["partial"] and east["error_pct"] is None and east["inside80"] is None
    assert rows[("East", "2024Q3")]["lo80"] is None      # the run-rate has no interval
    view = track_record_view(list(rows.values()), "USD")
    assert view["summary"] == ("Over 1 quarter with a complete actual, the forecast was off by 12.0% on average "
                               "(absolute); the actual fell inside the 80% interval in 0 of 1.")
    shown = {(r["scope"], r["quarter"]): r for r in view["rows"]}
    assert shown[("East", "2024Q2")]["actual"] == "$44.00 (partial)" and shown[("East", "2024Q2")]["error"] == "—"
    assert shown[("East", "2024Q3")]["interval"] == "—" and shown[("East", "2024Q3")]["method"].startswith("Run-rate")


def test_no_forecast_no_rows():
    f = fake("2024-07", 10.0)                 # a findings without a next-quarter forecast
    assert track_record([(None, f)]) == []
    assert track_record_view([], "USD") == {"rows": [], "summary": None}


@needs_shared_data
@pytest.mark.slow
def test_salesnb_batch_index_shows_the_track_record(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "salesnb.cli", "batch", str(PARAMS / "superstore.yaml"), "--periods",
                           "2017Q3..2017Q4", "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    import json
    name_dir = tmp_path / "superstore"
    q3 = json.loads((name_dir / "2017Q3" / "findings.json").read_text())
    q4 = json.loads((name_dir / "2017Q4" / "findings.json").read_text())
    page = (name_dir / "index.html").read_text()
    section = page[page.index('id="forecast-track-record"'):]
    nq = q3["forecast"]["next_quarter"]
    row = re.search(r"<td>2017Q4</td><td>2017Q3</td>.*?</tr>", section, re.S).group(0)
    actual = q4["revenue"]["total"]
    for cell in (fmt_money(nq["revenue"]), fmt_money(actual), fmt_delta((actual - nq["revenue"]) / actual * 100)):
        assert f">{cell}<" in row, cell
    assert re.search(r"<td>2018Q1</td><td>2017Q4</td>.*?not in this batch", section, re.S)
    assert Path(proc.stdout.strip().splitlines()[-1]) == name_dir / "index.html"
