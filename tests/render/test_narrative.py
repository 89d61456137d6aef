"""Sentences from findings: every number in the text is a finding, words follow the data."""
from __future__ import annotations

import copy

import pytest

from salesnb.render.narrative import revenue as narrative
from salesnb.findings import build_findings

from support.textnumbers import unexplained_numbers
from support.paths import PARAMS

CASES = [("superstore.yaml", "2017Q4"), ("superstore.yaml", "2015-03"), ("online_retail.yaml", "2011Q4"),
         ("online_retail_ii.yaml", "2010Q2"), ("crm_pipeline.yaml", "2017Q3"), ("cdnow.yaml", "1997Q2")]


@pytest.fixture(scope="module", ids=[f"{a}-{b}" for a, b in CASES],
                # the two Online Retail sets (half a million lines each) are slow; the rest are small
                params=[pytest.param(c, marks=pytest.mark.slow) if c[0].startswith("online_retail") else c
                        for c in CASES])
def findings(request, shared_data):
    name, period = request.param
    return build_findings(PARAMS / name, period, sections=("revenue",)).data


@pytest.mark.slow  # a full real data set: in make test-all
def test_every_number_in_every_sentence_is_a_finding(findings):
    sentences = narrative.revenue_sentences(findings)
    assert sentences, "no sentence rendered"
    for s in sentences:
        assert unexplained_numbers(s, findings) == [], s


def test_revenue_sentence_states_the_total_and_direction(findings):
    from salesnb.fmt import fmt_money
    s = narrative.revenue_sentence(findings)
    r = findings["revenue"]
    assert fmt_money(r["total"], findings["currency"]) in s
    pct = r["change"]["total"]["vs_previous_pct"]
    if findings["comparison"]["previous"]["available"] and pct is not None:
        word = "up" if pct > 0.5 else "down" if pct < -0.5 else "flat"
        assert f"{word} " in s and findings["comparison"]["previous"]["label"] in s


def test_words_follow_the_data():
    f = {"currency": "USD", "period": {"label": "2024Q3", "data_end": "2024-09-30"},
         "comparison": {"previous": {"available": True, "label": "2024Q2"},
                        "year_ago": {"available": False, "label": "2023Q3"}, "like_for_like": False},
         "revenue": {"total": 1000.0, "change": {"total": {"vs_previous_pct": -12.5}},
                     "best_month": {"month": "2024-08", "revenue": 400.0},
                     "worst_month": {"month": "2024-07", "revenue": 250.0},
                     "partial_months_excluded": ["2024-09"],
                     "by_dimension": {"region": [
                         {"value": "East", "revenue": 600.0, "share_pct": 60.0, "growth_pct": -5.0},
                         {"value": "West", "revenue": 400.0, "share_pct": 40.0, "growth_pct": -20.0}]}}}
    assert narrative.revenue_sentence(f) == "Revenue was $1,000.00 in 2024Q3, down 12.5% on 2024Q2."
    assert narrative.best_worst_sentence(f) == ("August 2024 was the best month ($400.00) and July 2024 the worst "
                                                "($250.00); September 2024 is partial and left out.")
    assert narrative.dimension_growth_sentence(f, "region") == (
        "The East region declined least (down 5.0% to $600.00); West declined most (down 20.0% to $400.00).")
    flat = copy.deepcopy(f)
    flat["revenue"]["change"]["total"]["vs_previous_pct"] = 0.2
    assert "flat on 2024Q2 (+0.2%)" in narrative.revenue_sentence(flat)
    # a missing finding gives no sentence rather than an invented one
    assert narrative.best_worst_sentence({"revenue": {"best_month": None}}) is None
    assert narrative.dimension_growth_sentence(f, "segment") is None


def test_numbers_checker_catches_an_invented_figure(findings):
    assert unexplained_numbers("Revenue grew 123456.789% thanks to 98,765,432 new orders.", findings) != []
