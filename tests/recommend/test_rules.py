"""The rule engine (salesnb.recommend): each rule on small hand-made findings, determinism, and the
real data sets (Superstore 2017Q4, Online Retail 2011Q4) held to their findings."""
from __future__ import annotations

import copy
import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import linregress

from salesnb.recommend import recommendations
from salesnb.recommend.actions import actions_note
from salesnb.recommend.evidence import MAX_ACTIONS, deadline_for, priority_score, resolve
from support.findings import (REAL, customers_section, dim_row, item_values, make_findings, month_rows, ranked_rows,
                              real_findings)


# --------------------------------------------------------------------------- hand-made findings

def by_rule(result: dict, rule: str, kind: str = None) -> list[dict]:
    lists = [kind] if kind else ["opportunities", "risks"]
    return [i for k in lists for i in result[k] if i["rule"] == rule]


# --------------------------------------------------------------------------- opportunity rules

def test_aov_uplift_from_the_spread_across_regions():
    # region AOVs 400, 250, 200, 200 → median 225, top quartile 287.5; x = 62.5 / 2 / 225 = 13.9%
    [item] = by_rule(recommendations(make_findings()), "aov_uplift")
    assert item["impact"] == 13900.00               # revenue 100,000 × 13.9%
    assert item["formula"].startswith("revenue $100,000.00 × 13.9% = $13,900.00")
    derived = {d["name"]: d["value"] for d in item["derived"]}
    assert derived["median_aov"] == 225.0 and derived["top_quartile_aov"] == 287.5 and derived["aov_uplift_pct"] == 13.9
    assert item["confidence"] == "medium"           # 4 peers


def test_aov_uplift_prefers_sales_reps_then_falls_back_to_months():
    f = make_findings()
    reps = [dim_row(f"Rep {i}", 10000.0, n, 9000.0) for i, n in enumerate([20, 25, 40, 50, 100])]
    f["revenue"]["by_dimension"]["sales_rep"] = ranked_rows(reps)
    f["revenue"]["dimensions"].append("sales_rep")
    [item] = by_rule(recommendations(f), "aov_uplift")
    assert any(e["key"].startswith("revenue.by_dimension.sales_rep[") for e in item["evidence"])
    assert item["confidence"] == "high"             # 5 peers
    # too many regions (> 30 values) and no other dimension: the trailing complete months
    g = make_findings(revenue__by_dimension={"region": ranked_rows([dim_row(f"R{i}", 1000.0 + i, 20, 900.0)
                                                                   for i in range(31)])})
    [item] = by_rule(recommendations(g), "aov_uplift")
    assert item["confidence"] == "low"
    assert all(e["key"].startswith(("revenue.trend_by_month", "revenue.total", "revenue.aov", "revenue.orders"))
               for e in item["evidence"])


def test_aov_uplift_silent_without_spread_or_peers():
    same = ranked_rows([dim_row(v, 10000.0, 40, 9000.0) for v in "ABCD"])
    f = make_findings(revenue__by_dimension={"region": same})
    f["revenue"]["trend_by_month"] = []
    assert by_rule(recommendations(f), "aov_uplift") == []
    f = make_findings(revenue__aov=None)
    assert by_rule(recommendations(f), "aov_uplift") == []


def test_aov_recovery_against_the_year_ago_aov():
    f = make_findings()
    f["revenue"]["year_ago"]["aov"] = 275.50
    f["revenue"]["change"]["aov"]["vs_year_ago_pct"] = -9.26
    [item] = by_rule(recommendations(f), "aov_recovery")
    assert item["impact"] == 10200.00               # (275.50 − 250.00) × 400 orders
    assert item["formula"] == "(year-ago AOV $275.50 − AOV $250.00) × 400 orders = $25.50 × 400 = $10,200.00"
    assert by_rule(recommendations(make_findings()), "aov_recovery") == []   # AOV up on a year ago
    f["comparison"]["year_ago"]["available"] = False
    assert by_rule(recommendations(f), "aov_recovery") == []


def test_dimension_gap_brings_values_up_to_the_median():
    items = by_rule(recommendations(make_findings()), "dimension_gap")
    # median of 40k, 30k, 20k, 10k = 25k; West (10k) is below half the median: no meaningful base
    assert [(i["owner"], i["impact"]) for i in items] == [("East", 5000.00)]
    assert items[0]["owner_dimension"] == "region"
    assert items[0]["formula"] == "median region revenue $25,000.00 − East $20,000.00 = $5,000.00 (median of 4 region values)"
    assert items[0]["confidence"] == "high"         # 100 orders, 4 peers


def test_dimension_gap_needs_a_meaningful_base_and_skips_products_and_long_dimensions():
    f = make_findings()
    f["revenue"]["by_dimension"]["region"][2]["orders"] = 5      # East: too few orders
    assert by_rule(recommendations(f), "dimension_gap") == []
    f = make_findings()
    f["revenue"]["by_dimension"]["product"] = ranked_rows([dim_row(f"P{i}", 1000.0 * (i + 1), 50, 900.0) for i in range(10)])
    f["revenue"]["dimensions"].append("product")
    assert {i["owner_dimension"] for i in by_rule(recommendations(f), "dimension_gap")} == {"region"}
    long = ranked_rows([dim_row(f"R{i}", 1000.0 * (i + 1), 50, 1000.0 * (i + 1)) for i in range(31)])
    assert by_rule(recommendations(make_findings(revenue__by_dimension={"region": long})), "dimension_gap") == []


def test_dimension_the_data_lacks_is_never_used():
    f = make_findings()
    f["revenue"]["by_dimension"]["segment"] = ranked_rows([dim_row(v, r, 100, r) for v, r in
                                                          (("A", 50000.0), ("B", 40000.0), ("C", 30000.0))])
    # "segment" is not among the data's dimensions: every rule ignores it
    result = recommendations(f)
    for item in result["opportunities"] + result["risks"] + result["actions"]:
        assert item.get("owner_dimension") != "segment"
        assert not any("by_dimension.segment" in e["key"] for e in item["evidence"])


def test_recover_decline():
    items = by_rule(recommendations(make_findings()), "recover_decline")
    assert [(i["owner"], i["impact"]) for i in items] == [("West", 2500.00)]   # 12,500 → 10,000 (−20%)
    assert items[0]["formula"] == "2024Q1 revenue $12,500.00 − 2024Q2 revenue $10,000.00 = $2,500.00"
    assert items[0]["confidence"] == "medium"       # 50 orders
    f = make_findings()
    f["comparison"]["previous"]["available"] = False
    assert by_rule(recommendations(f), "recover_decline") == []


def test_win_back_uses_the_rate_measured_on_at_risk_customers():
    """SPEC 9.4: the rate is the share of the customers at risk at the end of the previous period
    who ordered in the period, not the reactivation rate of lapsed customers."""
    f = make_findings(customers=customers_section(reactivation_rate_pct=60.0))
    [item] = by_rule(recommendations(f), "win_back")
    assert item["impact"] == 5000.00                # 20,000 × 25.0%, not × 60%
    assert "share of the 120 customers at risk at the end of 2024Q2 who ordered in the period 25.0%" in item["formula"]
    assert item["sample"] == 120 and item["confidence"] == "medium"
    assert {"key": "customers.win_back.rate_pct", "value": 25.0} in item["evidence"]
    [action] = by_rule(recommendations(f), "win_back", "actions")
    assert action["metric"] == "customers.at_risk_share_pct" and action["target"] == 18.8   # 25.0 × (1 − 25%)
    small = customers_section(win_back={"previous_period": "2024Q2", "at_risk_customers": 29,
                                        "ordered_in_period": 10, "rate_pct": 100 * 10 / 29})
    [item] = [i for i in recommendations(make_findings(customers=small))["opportunities"] if i["rule"] == "win_back"]
    assert item["sample"] == 29 and item["confidence"] == "low" and not item["shown"]   # < 30 customers
    for c in (customers_section(win_back=None), customers_section(win_back={"rate_pct": None}),
              customers_section(at_risk_revenue=0.0), {"available": False}, None):
        g = make_findings(customers=c)
        if c is None:
            del g["customers"]
        assert by_rule(recommendations(g), "win_back") == []


def _repeat(**changes) -> dict:
    rep = {"previous_period": "2024Q1", "previous_one_time_buyers": 100, "reordered": 30, "rate_pct": 30.0,
           "followup_days": 91, "period_one_time_buyers": 80}
    rep.update(changes)
    return customers_section(one_time_repeat=rep)


def test_repeat_purchase_uses_the_previous_periods_one_time_buyers():
    [item] = by_rule(recommendations(make_findings(customers=_repeat())), "repeat_purchase")
    assert item["impact"] == 6000.00                # round(80 × 30.0%) = 24 second orders × 250.00
    assert item["formula"] == ("80 one-time buyers of 2024Q2 × 30.0% (of the 100 one-time buyers of 2024Q1, 30 ordered "
                               "again within 91 days) = 24 second orders × AOV $250.00 = $6,000.00")
    assert item["title"] == "Convert 24 of the 80 one-time buyers of 2024Q2 to a second order within 91 days"
    assert item["sample"] == 100 and item["min_sample"] == 30 and item["shown"]
    assert (item["current"], item["target"]) == (80, 56)
    # the old lifetime second-order rate is not used at all
    assert by_rule(recommendations(make_findings(customers=customers_section())), "repeat_purchase") == []
    assert by_rule(recommendations(make_findings(customers=_repeat(period_one_time_buyers=0))), "repeat_purchase") == []
    assert by_rule(recommendations(make_findings(customers=_repeat(rate_pct=None))), "repeat_purchase") == []


def test_repeat_purchase_never_targets_the_whole_population():
    # 12 one-time buyers × 98.7% rounds to 12: "Convert 12 of the 12" is not a plan
    assert by_rule(recommendations(make_findings(customers=_repeat(period_one_time_buyers=12, rate_pct=98.7))),
                   "repeat_purchase") == []
    [item] = by_rule(recommendations(make_findings(customers=_repeat(period_one_time_buyers=12, rate_pct=80.0))),
                     "repeat_purchase")
    assert item["derived"][0]["value"] == 10 < 12


def test_repeat_purchase_on_a_thin_sample_is_kept_but_not_shown():
    result = recommendations(make_findings(customers=_repeat(previous_one_time_buyers=22, reordered=17, rate_pct=77.27)))
    [item] = by_rule(result, "repeat_purchase")
    assert item["sample"] == 22 and item["sample_ok"] is False and item["shown"] is False
    assert result["opportunities"][-1] is item      # flagged items follow the shown ones
    assert all(a["shown"] for a in result["actions"] if a["rule"] != "repeat_purchase")
    [action] = [a for a in result["actions"] if a["rule"] == "repeat_purchase"]
    assert action["shown"] is False and result["actions"][-1] is action


def test_returns_back_to_the_previous_rate():
    f = make_findings()
    f["revenue"]["returns"] = {"lines": 40, "value": 5000.0}              # 5,000 / 105,000 = 4.8%
    f["revenue"]["previous"]["returns"] = {"lines": 10, "value": 1000.0}  # 1,000 / 91,000 = 1.1%
    [item] = by_rule(recommendations(f), "returns")
    assert item["impact"] == 3845.00                # 5,000 − 105,000 × 1.1%
    f["revenue"]["previous"]["returns"] = {"lines": 60, "value": 6000.0}  # the rate fell: nothing to recover
    assert by_rule(recommendations(f), "returns") == []


# --------------------------------------------------------------------------- risk rules

def test_revenue_trend_fires_on_a_significant_decline_only():
    values = [30000 - 800 * i + (300 if i % 2 else -300) for i in range(12)]
    f = make_findings()
    f["revenue"]["trend_by_month"] = month_rows(values + [500], partial=("2024-07",))   # a partial month: left out
    [item] = by_rule(recommendations(f), "revenue_trend")
    fit = linregress(range(12), values)
    assert item["impact"] == round(abs(round(fit.slope, 2)) * 12, 2)
    derived = {d["name"]: d["value"] for d in item["derived"]}
    assert derived["months"] == 12 and derived["slope_per_month"] == round(fit.slope, 2)
    assert derived["p_value"] == round(fit.pvalue, 3) and item["confidence"] == "high"
    assert "p < 0.001" in item["formula"] and "t = " in item["formula"]
    # flat, rising, or too short: silent
    assert by_rule(recommendations(make_findings()), "revenue_trend") == []
    f["revenue"]["trend_by_month"] = month_rows([30000 + 800 * i for i in range(12)])
    assert by_rule(recommendations(f), "revenue_trend") == []
    f["revenue"]["trend_by_month"] = month_rows([30000, 29000, 28000, 27000, 26000])
    assert by_rule(recommendations(f), "revenue_trend") == []


def test_revenue_decline_vs_a_year_ago_then_the_previous_period():
    f = make_findings()
    f["revenue"]["year_ago"]["total"] = 111111.11
    f["revenue"]["change"]["total"].update(vs_year_ago_abs=-11111.11, vs_year_ago_pct=-10.0)
    [item] = by_rule(recommendations(f), "revenue_decline")
    assert item["impact"] == 11111.11 and item["confidence"] == "high"
    [action] = by_rule(recommendations(f), "revenue_decline", "actions")
    assert action["metric"] == "revenue.total" and action["target"] == 111111.11 and action["deadline_days"] == 60
    assert by_rule(recommendations(make_findings()), "revenue_decline") == []       # up on a year ago
    g = make_findings()
    g["comparison"]["year_ago"]["available"] = False
    g["revenue"]["change"]["total"].update(vs_previous_abs=-5000.0, vs_previous_pct=-5.26)
    g["revenue"]["previous"]["total"] = 105000.0
    [item] = by_rule(recommendations(g), "revenue_decline")
    assert item["confidence"] == "low" and item["impact"] == 5000.00
    assert by_rule(recommendations(g), "revenue_decline", "actions") == []          # seasonality: no action


def test_target_gap():
    f = make_findings(revenue__targets={"revenue": 120000.0, "attainment_pct": 83.33, "gap": -20000.0})
    [item] = by_rule(recommendations(f), "target_gap")
    assert item["impact"] == 20000.00 and item["formula"] == "target $120,000.00 − revenue $100,000.00 = $20,000.00"
    f = make_findings(revenue__targets={"revenue": 90000.0, "attainment_pct": 111.1, "gap": 10000.0})
    assert by_rule(recommendations(f), "target_gap") == []


def test_churn_exposure():
    [item] = by_rule(recommendations(make_findings(customers=customers_section())), "churn_exposure")
    assert item["impact"] == 20000.00 and item["confidence"] == "medium"     # 400 customers scored
    assert by_rule(recommendations(make_findings(customers=customers_section(at_risk_share_pct=12.0))),
                   "churn_exposure") == []


def test_customer_concentration():
    assert by_rule(recommendations(make_findings(customers=customers_section())), "customer_concentration") == []
    [item] = by_rule(recommendations(make_findings(customers=customers_section(top20_revenue_share_pct=82.0))),
                     "customer_concentration")
    assert item["impact"] is None and "82.0%" in item["title"]
    [item] = by_rule(recommendations(make_findings(customers=customers_section(top_customer_share_pct=15.0))),
                     "customer_concentration")
    assert "largest customer brings 15.0%" in item["title"]


def test_dimension_concentration_on_one_region_or_rep():
    assert by_rule(recommendations(make_findings()), "dimension_concentration") == []    # North 40%
    rows = ranked_rows([dim_row("North", 70000.0, 200, 50000.0), dim_row("South", 20000.0, 100, 25000.0),
                       dim_row("East", 10000.0, 50, 15000.0)])
    f = make_findings(revenue__by_dimension={"region": rows})
    [item] = by_rule(recommendations(f), "dimension_concentration")
    assert item["title"] == "70.0% of revenue comes from one region, North"
    assert item["confidence"] == "high"              # 50,000 / 90,000 = 55.6% before: above the threshold too
    [action] = by_rule(recommendations(f), "dimension_concentration", "actions")
    assert action["metric"] == "revenue.by_dimension.region[North].share_pct" and action["target"] == 55.6
    reps = ranked_rows([dim_row("Ann", 45000.0, 100, 40000.0), dim_row("Bob", 30000.0, 100, 30000.0),
                       dim_row("Cy", 25000.0, 100, 20000.0)])
    g = make_findings()
    g["revenue"]["by_dimension"]["sales_rep"] = reps
    g["revenue"]["dimensions"].append("sales_rep")
    [item] = by_rule(recommendations(g), "dimension_concentration")
    assert item["owner_dimension"] == "sales_rep" and "45.0%" in item["title"]       # rep threshold 40%


def test_retention_decline():
    trend = {"recent_avg_pct": 12.0, "earlier_avg_pct": 18.0, "change_pts": -6.0,
             "recent_cohorts": ["2024-01", "2024-02", "2024-03"], "earlier_cohorts": ["2023-10", "2023-11", "2023-12"]}
    f = make_findings(customers=customers_section(cohort_retention={"retention_trend": trend}))
    [item] = by_rule(recommendations(f), "retention_decline")
    assert "18.0% → 12.0%" in item["title"]
    assert by_rule(recommendations(make_findings(customers=customers_section())), "retention_decline") == []


def test_data_quality_risks_and_fixes():
    f = make_findings()
    f["data"].update(rows_dropped={"unparseable date": 30, "unparseable revenue": 20}, gap_months=["2024-02"],
                     missing_customer={"rows": 80, "revenue": 12000.0, "revenue_share_pct": 12.0},
                     duplicates={"rows": 10, "dropped": 0}, partial_months=["2024-06"], month_coverage={"2024-06": 0.5})
    f["revenue"]["by_month"][2]["partial"] = True
    f["revenue"]["partial_months_excluded"] = ["2024-06"]
    result = recommendations(f)
    titles = [i["title"] for i in by_rule(result, "data_quality")]
    assert len(titles) == 5
    assert any("50 of 1,000 rows were dropped (5.0%)" in t for t in titles)
    assert any("12.0% of revenue has no customer id" in t for t in titles)
    metrics = {a["metric"] for a in by_rule(result, "data_quality", "actions")}
    assert metrics <= {"data.rows_dropped", "data.gap_months", "data.missing_customer.revenue_share_pct"}
    assert all(a["deadline_days"] == 30 for a in by_rule(result, "data_quality", "actions"))
    assert by_rule(recommendations(make_findings()), "data_quality") == []          # clean data: silent


# --------------------------------------------------------------------------- engine properties

def test_deadlines_and_priority():
    assert [deadline_for(100, t) for t in (104, 110, 125, 200)] == [30, 60, 90, 120]
    assert deadline_for(None, 5) == 120
    assert priority_score(5000, 100000, "high") == 5.0
    assert priority_score(5000, 100000, "low") == 2.0
    assert priority_score(None, 100000, "medium", severity=30) == 2.1


def test_evidence_keys_resolve_to_their_values():
    f = make_findings(customers=customers_section(top20_revenue_share_pct=82.0))
    result = recommendations(f)
    for item in result["opportunities"] + result["risks"] + result["actions"]:
        assert item["evidence"], item["title"]
        for e in item["evidence"]:
            assert resolve(f, e["key"]) == e["value"], e["key"]
    assert resolve(f, "revenue.by_dimension.region[West].orders") == 50
    with pytest.raises(KeyError):
        resolve(f, "revenue.by_dimension.region[Nowhere].orders")


def test_resolve_handles_brackets_and_dots_in_values():
    f = {"revenue": {"by_dimension": {"product": [{"value": "Cart [L] v2.0", "revenue": 5.0}]}}}
    assert resolve(f, "revenue.by_dimension.product[Cart [L] v2.0].revenue") == 5.0


def test_deterministic_and_pure():
    f = make_findings(customers=customers_section(top20_revenue_share_pct=82.0))
    before = copy.deepcopy(f)
    a = json.dumps(recommendations(f), sort_keys=True)
    b = json.dumps(recommendations(copy.deepcopy(f)), sort_keys=True)
    assert a == b
    assert f == before                              # the input is not changed


def test_ties_are_broken_by_title():
    rows = ranked_rows([dim_row("Delta", 30000.0, 100, 30000.0), dim_row("Gamma", 30000.0, 100, 30000.0),
                       dim_row("Beta", 15000.0, 100, 15000.0), dim_row("Alpha", 15000.0, 100, 15000.0)])
    result = recommendations(make_findings(revenue__by_dimension={"region": rows}))
    gaps = by_rule(result, "dimension_gap")
    assert [g["owner"] for g in gaps] == ["Alpha", "Beta"] and gaps[0]["priority"] == gaps[1]["priority"]
    for key in ("opportunities", "risks", "actions"):
        items = result[key]
        assert items == sorted(items, key=lambda i: (-i["priority"], i["title"], i["rule"]))


def test_actions_are_smart_and_capped():
    f = make_findings(customers=customers_section())
    f["revenue"]["year_ago"]["aov"] = 275.50
    f["revenue"]["change"]["aov"]["vs_year_ago_pct"] = -9.26
    actions = recommendations(f)["actions"]
    assert 1 <= len(actions) <= MAX_ACTIONS
    metrics = [a["metric"] for a in actions]
    assert len(metrics) == len(set(metrics))        # one action per metric (AOV: recovery or uplift, not both)
    for a in actions:
        assert a["kind"] == "action" and a["target"] is not None and a["deadline_days"] in (30, 60, 90, 120)
        assert a["evidence"] and a["formula"] and a["confidence"] in ("high", "medium", "low")
        assert a["basis"]["rule"] == a["rule"]


def test_empty_findings_give_empty_lists():
    empty = {"opportunities": [], "risks": [], "actions": [], "shown_actions": 0,
             "actions_note": actions_note(0)}
    assert recommendations({}) == empty
    assert empty["actions_note"].startswith("No action passes the evidence rules")
    tiny = make_findings(revenue__by_dimension={}, revenue__trend_by_month=[], revenue__dimensions=[])
    tiny["comparison"] = {"previous": {"available": False}, "year_ago": {"available": False}}
    assert recommendations(tiny) == empty


# --------------------------------------------------------------------------- real data

@pytest.mark.slow  # a full real data set: in make test-all
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_actions(name, shared_data):
    from support.textnumbers import unexplained_numbers
    f = real_findings(name)
    recs = f["recommendations"]
    actions = recs["actions"]
    shown = [a for a in actions if a["shown"]]
    assert 1 <= len(shown) == recs["shown_actions"] <= 7, [a["title"] for a in actions]
    assert actions[:len(shown)] == shown         # the flagged ones follow
    dims = set(f["revenue"]["dimensions"])
    partial = set(f["data"]["partial_months"]) | {m["month"] for m in f["revenue"]["by_month"] if m["partial"]}
    from salesnb.fmt import fmt_month
    for a in actions:
        # a repeat-order target is due within the period length its rate was measured over
        assert a["metric"] and a["target"] is not None and a["evidence"]
        assert a["deadline_days"] in (30, 60, 90, 120) or a["deadline_days"] == a["parameters"].get("followup_days")
        for e in a["evidence"]:
            assert resolve(f, e["key"]) == e["value"], e["key"]
            m = re.match(r"revenue\.by_dimension\.(\w+)\[", e["key"])
            assert m is None or m.group(1) in dims
            assert not any(p in e["key"] for p in partial), e["key"]
        assert a["owner_dimension"] is None or a["owner_dimension"] in dims
        for p in partial:
            assert p not in a["title"] and fmt_month(p) not in a["title"]
        # every number in the title and formula is one of this action's own figures
        own = {"currency": f["currency"], "values": item_values(a), "owner": a.get("owner")}
        for text in (a["title"], a["formula"]):
            assert unexplained_numbers(text, own) == [], (text, unexplained_numbers(text, own))
    for item in recs["opportunities"] + recs["risks"]:
        own = {"currency": f["currency"], "values": item_values(item), "owner": item.get("owner")}
        for text in (item["title"], item["formula"]):
            assert unexplained_numbers(text, own) == [], text
    if name == "online_retail":
        assert dims == {"region", "product"}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_recommendations_are_reproducible(name, shared_data):
    f = real_findings(name)
    plain = {k: v for k, v in f.items() if k != "recommendations"}
    again = recommendations(json.loads(json.dumps(plain)))
    assert json.dumps(again, sort_keys=True) == json.dumps(f["recommendations"], sort_keys=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-10**9, max_value=10**9), min_size=3, max_size=40))
def test_linear_trend_matches_scipy_linregress(cents):
    ys = [c / 100 for c in cents]
    from salesnb.recommend.risks import linear_trend
    xs = list(range(len(ys)))
    slope, p, se = linear_trend(xs, ys)
    if len(set(ys)) < 2:
        assert math.isnan(slope)
        return
    fit = linregress(xs, ys)
    assert slope == pytest.approx(fit.slope, rel=1e-9, abs=1e-6)
    assert p == pytest.approx(fit.pvalue, rel=1e-6, abs=1e-9)
    assert se == pytest.approx(fit.stderr, rel=1e-6, abs=1e-6)
