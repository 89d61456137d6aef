"""Words and thresholds said once (salesnb.render.labels, issue 23): every page shows the same KPI
rows, colours a change as the sentences word it, names a dimension the same way, and the executive
summary uses the customer narrative's churn and concentration sentences."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from salesnb.config import DIMENSION_NOUNS, DIMENSIONS
from salesnb.fmt import direction
from salesnb.recommend import recommendations
from salesnb.render import html, labels, summary, tables
from salesnb.render.narrative import customers as nc


def _findings(changes: dict, customers: dict | None = None) -> dict:
    """A small findings dict: the KPIs with the given % changes vs the previous period."""
    rev = {"total": 120000.0, "orders": 480, "units": None, "aov": 250.0, "revenue_per_unit": None,
           "customers": 300, "revenue_per_customer": 400.0, "returns": {"lines": 0, "value": 0.0},
           "change": {k: {"vs_previous_pct": pct, "vs_previous_abs": pct * 10, "vs_year_ago_pct": None,
                          "vs_year_ago_abs": None} for k, pct in changes.items()},
           "targets": None, "by_dimension": {}, "dimensions": [], "top_performers": []}
    f = {"currency": "USD", "period": {"label": "2024Q2"}, "revenue": rev,
         "comparison": {"like_for_like": False, "previous": {"label": "2024Q1", "available": True},
                        "year_ago": {"label": "2023Q2", "available": False}},
         "customers": customers or {"available": False}}
    f["recommendations"] = recommendations(f)
    return f


def _customers(**changes) -> dict:
    c = {"available": True, "count": 300, "rfm_customers": 400, "at_risk_customers": 100, "at_risk_share_pct": 25.0,
         "at_risk_revenue": 20000.0, "at_risk_segments": ["At Risk", "Can't Lose Them", "About to Sleep"],
         "top20_revenue_share_pct": 80.0, "top20_customers": 60, "top_group_pct": 20.0,
         "top_customer_share_pct": 12.0, "period_customers_revenue": 100000.0}
    c.update(changes)
    return c


def test_every_page_shows_the_same_kpi_rows():
    f = _findings({"total": 11.1, "orders": -2.0, "aov": 13.4, "customers": 0.0, "revenue_per_customer": 4.0})
    expected = [label for label, key, _ in labels.KPI_ROWS if f["revenue"][key] is not None]
    assert expected == ["Revenue", "Orders", "Average order value", "Unique customers", "Revenue per customer"]
    table = tables.kpi_table(f)
    assert list(table["KPI"]) == expected
    rows = summary.kpis(f)
    assert [r["label"] for r in rows] == expected
    # the same value text in the notebook table, the summary cards and the batch index
    assert list(table["2024Q2"]) == [r["formatted"] for r in rows]
    assert [r["formatted"] for r in rows][:3] == ["$120,000.00", "480", "$250.00"]
    index = {k["value"] for k in html.index_kpis(f)}
    assert {"$120,000.00", "480", "$250.00", "300"} == index


@given(st.one_of(st.none(), st.floats(min_value=-1000, max_value=1000, allow_nan=False)))
def test_a_change_is_coloured_as_the_sentences_word_it(pct):
    word = direction(pct)
    assert labels.delta_class(pct) == (word if word in ("up", "down") else "")


def test_the_index_and_the_summary_colour_a_change_alike():
    # +0.3%: "flat" in the sentences, so neither page colours it; +3%: both colour it up
    f = _findings({"total": 0.3, "orders": 3.0, "aov": -3.0, "customers": -0.3})
    index = {k["value"]: k["cls"] for k in html.index_kpis(f)}
    assert index == {"$120,000.00": "", "480": "up", "$250.00": "down", "300": ""}
    page = summary.executive_summary_html(f)
    classes = dict(re.findall(r'snb-kpi-label">([^<]+)</div>.*?class="snb-kpi-delta([^"]*)"', page, re.S))
    assert classes["Revenue"] == "" and classes["Unique customers"] == ""
    assert classes["Orders"] == " snb-up" and classes["Average order value"] == " snb-down"


def test_the_summary_says_churn_and_concentration_in_the_narrative_words():
    f = _findings({"total": 5.0}, _customers())
    churn, concentration = nc.churn_risk_sentence(f), nc.concentration_sentence(f)
    assert churn == ("25.0% of the 400 scored customers (100) are At Risk, Can't Lose Them or About to Sleep: they "
                     "spent $20,000.00 in the last 12 months, the revenue at stake if they lapse.")
    assert concentration.startswith("The top 20% of 2024Q2's customers (60) brought 80.0% of the revenue")
    sentences = {t["source"]: t["sentence"] for t in summary.top_findings(f, n=20)}
    assert sentences["churn"] == churn and sentences["concentration"] == concentration
    quiet = _customers(at_risk_revenue=0.0)
    assert nc.churn_risk_sentence({"customers": quiet}).endswith("; none of them bought in the last 12 months.")


def test_a_dimension_has_one_noun_in_findings_and_pages():
    assert set(DIMENSION_NOUNS) == set(DIMENSIONS)
    assert labels.dimension_noun("sales_rep") == "sales rep" == DIMENSION_NOUNS["sales_rep"]
    assert labels.dimension_noun("region") == "region" and labels.dimension_noun(None) == ""
