"""The report's Profit and margin part: sentences (render/narrative/profit.py), tables and charts
(render/charts/profit.py) from the hand-worked findings of tests/metrics/test_profit.py's golden
case, every number as salesnb.fmt writes it; and nothing at all without profit."""
from __future__ import annotations

import pytest

from salesnb.findings import build_findings
from salesnb.render import tables
from salesnb.render.charts import profit as charts
from salesnb.render.charts import theme
from salesnb.render.narrative import bridge as bridge_narrative
from salesnb.render.narrative import profit as narrative
from support.textnumbers import unexplained_numbers

DATA = """order,date,cust,item,region,qty,amount,cost,disc
1,2024-01-01,A,X,North,2,100,60,0
2,2024-01-20,B,Y,North,1,50,55,0.25
3,2024-04-05,A,X,North,3,150,90,0.1
4,2024-04-06,C,Y,South,2,100,120,0.35
5,2024-04-07,B,Z,South,1,40,,0
6,2024-06-30,A,X,North,-1,-50,-30,0.1
"""
COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
           "quantity": "qty", "product": "item", "region": "region", "cost": "cost", "discount": "disc"}


@pytest.fixture
def f(make_params):
    return build_findings(make_params(DATA, columns=COLUMNS), "2024Q2", sections=("revenue",)).data


def test_sentences(f):
    """Q2: profit 20 (margin 20 / 200 = 10%), Q1 35 (23.3%): down 42.9%, −13.3 points; one line without
    a cost. North 60 − 20 = 40 on 100 (40%), South −20 on 140 (margin −20 / 100 = −20%)."""
    assert narrative.profit_sentence(f) == (
        "Profit was $20.00 in 2024Q2 (margin 10.0%), down 42.9% on 2024Q1 (margin -13.3 pts). "
        "1 line without a readable profit or cost is left out of the profit figures.")
    assert narrative.margin_range_sentence(f, "region") == (
        "By region, the margin ranges from -20.0% (South) to 40.0% (North); South lost $20.00.")
    assert narrative.loss_sentence(f) == (
        "1 product lost money in 2024Q2: $20.00 in all, on $100.00 of revenue; the largest loss is Y ($20.00).")
    assert narrative.discount_sentence(f) == (
        "Lines discounted more than 30% lose money: they lost $20.00 on $100.00 of revenue.")
    assert bridge_narrative.bridge_sentence(f, "previous", "customers", "profit") == (
        "Profit fell $15.00 vs 2024Q1; by customer: new customers -$20.00 (1 customer), "
        "customers buying more +$5.00 (1 customer).")
    assert bridge_narrative.bridge_sentence(f, "year_ago", "customers", "profit") is None
    assert len(narrative.profit_sentences(f)) == 3


def test_every_number_is_a_finding(f):
    texts = narrative.profit_sentences(f) + [narrative.margin_range_sentence(f, d) for d in ("region", "product")]
    texts += [bridge_narrative.bridge_sentence(f, "previous", kind, "profit") for kind in bridge_narrative.KINDS]
    assert len(texts) == 7
    for text in texts:
        assert unexplained_numbers(text, f) == [], text


def test_tables(f):
    kpi = tables.kpi_table(f).to_dict("records")
    assert [r["KPI"] for r in kpi[:3]] == ["Revenue", "Profit", "Margin"]
    assert kpi[1] == {"KPI": "Profit", "2024Q2": "$20.00", "vs 2024Q1": "-42.9%", "vs 2023Q2": "—"}
    assert kpi[2]["vs 2024Q1"] == "-13.3 pts"
    region = tables.breakdown_table(f, "region").to_dict("records")
    # the breakdown's order (revenue: South 140, North 100), each value's profit matched by value
    assert [(r["Region"], r["Profit"], r["Margin"]) for r in region] == [("South", "-$20.00", "-20.0%"),
                                                                         ("North", "$40.00", "40.0%")]
    assert tables.loss_table(f).to_dict("records") == [
        {"Product": "Y", "Revenue": "$100.00", "Loss": "$20.00", "Margin": "-20.0%", "Orders": "1"}]
    assert tables.discount_table(f)["Discount"].tolist() == ["no discount", "up to 10%", "over 30%"]


def test_charts(f):
    theme.apply_theme()
    fig = charts.discount_chart(f["revenue"]["profit"]["discount"], "USD", "2024Q2")
    ax = fig.axes[0]
    assert [round(b.get_height(), 6) for b in ax.patches] == [0, 40, -20]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no discount", "up to 10%", "over 30%"]
    assert "margin -20.0%" in [t.get_text() for t in ax.texts]
    fig = charts.margin_chart(f["revenue"]["profit"]["by_dimension"]["region"], "region", "2024Q2")
    assert sorted(round(b.get_width(), 6) for b in fig.axes[0].patches) == [-20, 40]


def test_nothing_without_profit():
    f = {"revenue": {"total": 1.0}, "period": {"label": "2024Q2"}, "comparison": {}}
    assert narrative.profit_sentences(f) == []
    assert narrative.margin_range_sentence(f, "region") is None
