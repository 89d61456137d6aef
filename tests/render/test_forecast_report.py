"""The forecast part of the report (issue 25, SPEC 9.2): the sentences state the findings' numbers
(the quarter total recomputed from the forecast months), the chart shades the 80% and 95%
intervals, the backtest table has one row per candidate with the one used marked, the executive
summary's KPI card, and the risk that appears exactly when a target's probability is under 50%."""
from __future__ import annotations

import copy
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from salesnb import recommend  # noqa: E402
from salesnb.fmt import fmt_count, fmt_money, fmt_number, fmt_pct  # noqa: E402
from salesnb.models import forecast as F  # noqa: E402
from salesnb.periods import parse_period  # noqa: E402
from salesnb.recommend.evidence import resolve  # noqa: E402
from salesnb.render import summary  # noqa: E402
from salesnb.render.charts import forecast as charts  # noqa: E402
from salesnb.render.charts import theme  # noqa: E402
from salesnb.render.narrative import forecast as narrative  # noqa: E402
from support.findings import item_values, make_findings  # noqa: E402
from support.textnumbers import unexplained_numbers  # noqa: E402


def monthly(values, first="2020-01", partial_last=False) -> pd.DataFrame:
    start = int(first[:4]) * 12 + int(first[5:7]) - 1
    months = [f"{(start + i) // 12:04d}-{(start + i) % 12 + 1:02d}" for i in range(len(values))]
    return pd.DataFrame({"month": months, "revenue": [float(v) for v in values],
                         "partial": [False] * (len(values) - 1) + [partial_last]})


def findings_with(frame: pd.DataFrame, fc: dict, period: str) -> dict:
    """Findings holding ``fc`` and the trailing 24 months of ``frame`` as the revenue trend."""
    f = make_findings()
    f["period"]["label"] = period
    f["revenue"]["trend_by_month"] = [{"month": m, "revenue": r, "orders": 1, "units": 1.0, "partial": bool(p)}
                                      for m, r, p in frame.tail(24).itertuples(index=False)]
    f["forecast"] = fc
    return f


@pytest.fixture(scope="module")
def modelled():
    """30 months of trend and season (2020-01 .. 2022-06): the model path, for 2022Q2."""
    t = np.arange(30)
    rng = np.random.default_rng(9)
    frame = monthly((1000 + 15 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 20, 30))
    fc = F.forecast_findings(frame, parse_period("2022Q2"))
    return findings_with(frame, fc, "2022Q2")


@pytest.fixture(scope="module")
def run_rate():
    """12 complete months and a partial one (data to 2022-01-10): the run-rate path, for 2022Q1,
    with targets for the period and the next quarter."""
    frame = monthly([100.0] * 9 + [120.0, 130.0, 170.0, 50.0], "2021-01", partial_last=True)
    fc = F.forecast_findings(frame, parse_period("2022Q1"), period_revenue=50.0, period_partial=True,
                             data_last_date="2022-01-10", targets={"2022Q1": 400.0, "2022Q2": 450.0})
    return findings_with(frame, fc, "2022Q1")


# --------------------------------------------------------------------------- sentences

def test_next_quarter_sentence_states_the_findings(modelled):
    fc = modelled["forecast"]
    nq = fc["next_quarter"]
    # the quarter total is the sum of its months' forecasts
    q_months = [m["revenue"] for m in fc["months"] if nq["start"][:7] <= m["month"] <= nq["end"][:7]]
    assert len(q_months) == 3 and nq["revenue"] == pytest.approx(sum(q_months))
    win = next(c for c in fc["candidates"] if c["chosen"])
    base = next(c for c in fc["candidates"] if c["method"] == "seasonal_naive")
    text = narrative.next_quarter_sentence(modelled)
    assert text.startswith(f"Next quarter (2022Q3): {fmt_money(sum(q_months))} "
                           f"(80% interval {fmt_money(nq['lo80'])}–{fmt_money(nq['hi80'])}); ")
    assert f"over the last {len(fc['backtest']['origins'])} origins" in text
    assert f"MAPE {fmt_pct(win['mape'])}" in text
    if win is not base:
        assert text.endswith(f"against {fmt_pct(base['mape'])} for same-month-last-year.")
    else:
        assert text.endswith("and no model beat it.")
    method = narrative.method_sentence(modelled)
    assert method.startswith(fc["note"]) and fmt_pct(win["coverage80_pct"]) in method


def test_every_number_in_the_forecast_sentences_is_a_finding(modelled, run_rate):
    for f in (modelled, run_rate):
        origins = len(f["forecast"]["backtest"]["origins"])
        sentences = narrative.forecast_sentences(f)
        assert sentences
        for text in sentences:
            assert unexplained_numbers(text, f, (80, origins, F.MIN_MODEL_MONTHS)) == [], text
        note = narrative.backtest_note(f)
        if note:
            assert unexplained_numbers(note, f, (80, origins, 1)) == [], note


def test_run_rate_sentences_say_why_and_project_the_partial_period(run_rate):
    fc = run_rate["forecast"]
    nq, proj = fc["next_quarter"], fc["period_projection"]
    sentences = narrative.forecast_sentences(run_rate)
    assert sentences[0] == (f"Next quarter (2022Q2): {fmt_money(nq['revenue'])} at the run-rate (mean of the last 3 "
                            "complete months), without an interval.")
    assert sentences[1] == fc["note"] and "12 complete months" in fc["note"] and "at least 18" in fc["note"]
    # the run-rate 140 a month, 3 months: 420 < 450
    assert nq["revenue"] == pytest.approx(420.0)
    assert sentences[2] == (f"The 2022Q2 forecast ({fmt_money(nq['revenue'])}) is below its target of $450.00; "
                            "without a model there is no probability of reaching it.")
    # the projection adds up: actual to date + forecast of the remaining days
    assert proj["revenue"] == pytest.approx(proj["actual_to_date"] + proj["forecast_rest"])
    where = "above" if proj["revenue"] >= 400 else "below"
    assert sentences[3] == (f"2022Q1 is partial (data through 2022-01-10): $50.00 to date plus "
                            f"{fmt_money(proj['forecast_rest'])} forecast for its remaining days projects "
                            f"{fmt_money(proj['revenue'])} by its end, {fmt_pct(abs(proj['vs_target_pct']))} {where} "
                            "its target of $400.00.")
    assert narrative.backtest_table(run_rate).empty and narrative.backtest_note(run_rate) is None


@settings(max_examples=60, deadline=None)
@given(target=st.floats(min_value=1.0, max_value=1e7), prob=st.floats(min_value=0.0, max_value=100.0),
       forecast=st.floats(min_value=1.0, max_value=1e7))
def test_target_and_projection_words_follow_the_numbers(target, prob, forecast):
    fc = {"next_quarter": {"label": "2025Q1", "revenue": forecast}, "target": {"value": target, "probability_pct": prob},
          "simulations": 2000,
          "period_projection": {"label": "2024Q4", "through": "2024-11-20", "actual_to_date": forecast / 2,
                                "forecast_rest": forecast / 2, "revenue": forecast, "lo80": None, "hi80": None,
                                "target": target, "vs_target_pct": (forecast - target) / target * 100,
                                "probability_pct": prob}}
    f = {"currency": "USD", "forecast": fc}
    assert narrative.target_sentence(f) == (f"The probability of reaching the 2025Q1 target of {fmt_money(target)} is "
                                            f"{fmt_pct(prob)} (the share of 2,000 simulated quarters at or above it).")
    text = narrative.projection_sentence(f)
    word = "above" if forecast >= target else "below"
    assert f"{fmt_pct(abs(fc['period_projection']['vs_target_pct']))} {word} its target of {fmt_money(target)}" in text
    assert text.endswith(f"(probability of reaching it {fmt_pct(prob)}).")


# --------------------------------------------------------------------------- chart and tables

def _bands(fig):
    ax = fig.axes[0]
    assert ax.get_legend() is not None
    return ax, [c for c in ax.collections if isinstance(c, PolyCollection)]


@pytest.fixture(autouse=True)
def themed():
    theme.apply_theme()


def test_chart_shades_the_80_and_95_intervals(modelled):
    fc = modelled["forecast"]
    ax, bands = _bands(charts.forecast_chart(modelled))
    labels = {c.get_label(): c for c in bands}
    assert {"80% interval", "95% interval"} <= set(labels)
    for level in (80, 95):
        ys = labels[f"{level}% interval"].get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(min(m[f"lo{level}"] for m in fc["months"]))
        assert ys.max() == pytest.approx(max(m[f"hi{level}"] for m in fc["months"]))
    # the 80% band lies inside the 95% band, month by month
    assert all(m["lo95"] <= m["lo80"] <= m["revenue"] <= m["hi80"] <= m["hi95"] for m in fc["months"])
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    fline = next(ln for label, ln in lines.items() if label.startswith("Forecast:"))
    assert list(fline.get_ydata()) == pytest.approx([m["revenue"] for m in fc["months"]])
    history = lines["Revenue (complete months)"]
    assert list(history.get_ydata()) == pytest.approx([m["revenue"] for m in modelled["revenue"]["trend_by_month"]])
    assert ax.get_title() == "Revenue and forecast to 2022Q3 (80% and 95% intervals)"


def test_run_rate_chart_has_no_interval_and_says_so(run_rate):
    ax, bands = _bands(charts.forecast_chart(run_rate))
    assert not [c for c in bands if "interval" in c.get_label()]
    assert ax.get_title() == "Revenue and forecast to 2022Q2 (run-rate, no interval)"
    partial = [ln for ln in ax.get_lines() if ln.get_label().startswith("Partial month")]
    assert len(partial) == 1 and list(partial[0].get_ydata()) == [50.0]
    assert charts.forecast_chart({"forecast": {"months": []}}) is None


def test_backtest_table_rows_are_the_candidates(modelled):
    fc = modelled["forecast"]
    table = narrative.backtest_table(modelled)
    assert len(table) == len(fc["candidates"]) == 3
    for row, c in zip(table.to_dict("records"), fc["candidates"]):
        assert row["MASE"] == fmt_number(c["mase"], 2) and row["MAPE"] == fmt_pct(c["mape"])
        assert row["80% coverage"] == fmt_pct(c["coverage80_pct"]) and row["Model"] == c["model"]
        assert (row["Used"] == "✓ used") == c["chosen"]
    assert (table["Used"] == "✓ used").sum() == 1
    months = narrative.months_table(modelled)
    assert list(months["Month"]) == [m["month"] for m in fc["months"]] + ["2022Q3 total"]
    assert months["Forecast"].iloc[-1] == fmt_money(fc["next_quarter"]["revenue"])
    assert months["95% interval"].iloc[0] == f"{fmt_money(fc['months'][0]['lo95'])}–{fmt_money(fc['months'][0]['hi95'])}"


# --------------------------------------------------------------------------- executive summary

def test_summary_card_for_the_next_quarter(modelled, run_rate):
    nq = modelled["forecast"]["next_quarter"]
    card = summary.kpis(modelled)[-1]
    assert card["label"] == "Forecast 2022Q3" and card["value"] == nq["revenue"]
    assert card["formatted"] == fmt_money(nq["revenue"])
    assert card["formatted_interval"] == f"80% interval {fmt_money(nq['lo80'])}–{fmt_money(nq['hi80'])}"
    page = summary.executive_summary_html(modelled)
    assert re.search(r"Forecast 2022Q3</div><div class=\"snb-kpi-value\">" + re.escape(fmt_money(nq["revenue"])), page)
    assert card["formatted_interval"] in page
    assert summary.md(card["formatted_interval"]) in summary.executive_summary_markdown(modelled)
    rr = summary.kpis(run_rate)[-1]
    assert rr["label"] == "Forecast 2022Q2 (run-rate)" and rr["formatted_interval"] == "run-rate: no interval"
    assert all(not r["key"].startswith("forecast") for r in summary.kpis(make_findings()))


# --------------------------------------------------------------------------- the risk

def _with_target(f: dict, probability, value=None) -> dict:
    g = copy.deepcopy(f)
    nq = g["forecast"]["next_quarter"]
    g["forecast"]["target"] = {"value": value if value is not None else nq["revenue"] * 1.1,
                               "probability_pct": probability}
    g["forecast"]["period_projection"] = None
    return g


def _forecast_risks(f: dict) -> list:
    return [r for r in recommend.recommendations(f)["risks"] if r["rule"] == "forecast_target"]


@settings(max_examples=25, deadline=None)
@given(probability=st.one_of(st.floats(min_value=0.0, max_value=100.0), st.sampled_from([0.0, 49.95, 50.0, 100.0])))
def test_risk_exactly_when_the_probability_is_under_50(modelled, probability):
    f = _with_target(modelled, probability)
    risks = _forecast_risks(f)
    assert len(risks) == (1 if probability < 50 else 0)
    if risks:
        r = risks[0]
        nq, t = f["forecast"]["next_quarter"], f["forecast"]["target"]
        assert r["current"] == nq["revenue"] and r["target"] == t["value"]
        assert r["impact"] == pytest.approx(round(t["value"], 2) - round(nq["revenue"], 2), abs=0.011)
        assert r["sample"] == f["forecast"]["series"]["months"] == 30 and r["min_sample"] == 18
        assert isinstance(r["material"], bool)
        for e in r["evidence"]:
            assert resolve(f, e["key"]) == e["value"], e["key"]
        own = {"currency": "USD", "values": item_values(r)}
        for text in (r["title"], r["formula"]):
            assert unexplained_numbers(text, own) == [], text
        assert fmt_pct(probability) in r["title"]


def test_no_risk_without_a_target_or_without_a_probability(modelled, run_rate):
    assert modelled["forecast"]["target"] is None and _forecast_risks(modelled) == []
    # the run-rate has a target but no probability: no risk
    assert run_rate["forecast"]["target"]["probability_pct"] is None and _forecast_risks(run_rate) == []


def test_partial_period_projection_risk():
    f = make_findings()
    f["forecast"] = {"method": "ets", "candidates": [{"method": "ets", "chosen": True, "coverage80_pct": 75.0}],
                     "series": {"months": 40}, "simulations": 2000, "target": None,
                     "next_quarter": {"label": "2024Q3", "revenue": 1.0},
                     "period_projection": {"label": "2024Q2", "through": "2024-06-10", "actual_to_date": 80000.0,
                                           "forecast_rest": 15000.0, "revenue": 95000.0, "lo80": 90000.0,
                                           "hi80": 99000.0, "target": 100000.0, "vs_target_pct": -5.0,
                                           "probability_pct": 12.5}}
    (r,) = _forecast_risks(f)
    assert r["impact"] == 5000.0 and r["confidence"] == "high" and r["current"] == 95000.0 and r["target"] == 100000.0
    assert "2024Q2" in r["title"] and "$80,000.00 to date" in r["formula"]
    for e in r["evidence"]:
        assert resolve(f, e["key"]) == e["value"], e["key"]
    f["forecast"]["period_projection"]["probability_pct"] = 50.0
    assert _forecast_risks(f) == []
