"""Profit and margin beside revenue (SPEC 9.1's last bullet, issue 26 item 4): the executive
summary's cards, the KPI table's rows, the breakdown tables' columns, the key finding and the
profit bridge's sentences and waterfall, on Superstore 2017Q4 (tests/params/superstore.yaml maps
Profit and Discount) against an independent pandas computation from the CSV; and, without profit,
every one of them exactly as the findings without the key render."""
from __future__ import annotations

import copy
import random
import re
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesnb.findings import build_findings
from salesnb.fmt import fmt_delta, fmt_money, fmt_pct, fmt_points
from salesnb.paths import sample_params
from salesnb.render import summary, tables
from salesnb.render.charts import bridge as bridge_charts
from salesnb.render.charts import theme
from salesnb.render.labels import KPI_ROWS, delta_class
from salesnb.render.narrative import bridge as bridge_narrative
from salesnb.render.narrative import profit as profit_narrative
from support.paths import PARAMS, shared_file
from support.textnumbers import unexplained_numbers

#: a full real data set: in make test-all
slow = pytest.mark.slow

#: Superstore 2017Q4, its previous quarter and the quarter a year earlier: [start, end)
WINDOWS = {"current": ("2017-10-01", "2018-01-01"), "previous": ("2017-07-01", "2017-10-01"),
           "year_ago": ("2016-10-01", "2017-01-01")}
LABELS = {"previous": "2017Q3", "year_ago": "2016Q4"}
#: Superstore's dimension columns as the params map them
DIMENSIONS = {"region": "Region", "segment": "Segment", "category": "Category", "product": "Product Name"}
BREAKDOWN_COLUMNS = ["Revenue", "Share", "Growth", "Change", "Contribution (pts)", "Orders", "AOV"]


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(shared_file("superstore", "Sample - Superstore.csv"), encoding="cp1252")
    frame["date"] = pd.to_datetime(frame["Order Date"], format="%m/%d/%Y")
    return frame


@pytest.fixture(scope="module")
def f():
    return build_findings(PARAMS / "superstore.yaml", "2017Q4", sections=("revenue",)).data


@pytest.fixture(scope="module")
def expected(raw):
    """Profit, revenue and margin % per window, and the changes vs each comparison, from the CSV."""
    out = {}
    for name, (start, end) in WINDOWS.items():
        w = raw[(raw["date"] >= start) & (raw["date"] < end)]
        profit, revenue = exact_sum(w["Profit"]), exact_sum(w["Sales"])
        out[name] = {"profit": profit, "revenue": revenue, "margin": 100.0 * profit / revenue}
    for name in LABELS:
        diff = out["current"]["profit"] - out[name]["profit"]
        out[name].update({"diff": diff, "pct": diff / abs(out[name]["profit"]) * 100.0,
                          "points": out["current"]["margin"] - out[name]["margin"]})
    return out


def exact_sum(values) -> float:
    """The exact sum of the CSV's decimals (a float's repr is the CSV's text), as a float: a cent
    that a float sum rounds the other way ($59.325) is formatted as the findings' exact sum is."""
    return float(sum((Decimal(repr(float(v))) for v in values), Decimal(0)))


def _without_profit(f: dict) -> dict:
    g = copy.deepcopy(f)
    del g["revenue"]["profit"]
    return g


@slow
def test_the_findings_hold_the_pandas_figures(f, expected):
    """The renderings below format the findings: first the findings against pandas."""
    p = f["revenue"]["profit"]
    assert p["profit"] == pytest.approx(expected["current"]["profit"], abs=1e-6)
    assert p["margin_pct"] == pytest.approx(expected["current"]["margin"], rel=1e-12)
    for name in LABELS:
        assert p["change"][name]["profit"] == pytest.approx(expected[name]["diff"], abs=1e-6)
        assert p["change"][name]["margin_pct_points"] == pytest.approx(expected[name]["points"], rel=1e-9)


@slow
def test_cards(f, expected):
    cur = expected["current"]
    cards = summary.kpis(f)
    assert [c["label"] for c in cards[:3]] == ["Revenue", "Profit", "Margin"]
    profit, margin = cards[1], cards[2]
    assert profit["formatted"] == fmt_money(cur["profit"]) == "$27,448.73"
    assert margin["formatted"] == fmt_pct(cur["margin"]) == "9.8%"
    for name, label in LABELS.items():
        e = expected[name]
        assert profit[f"formatted_vs_{name}"] == f"{fmt_delta(e['pct'])} ({fmt_delta(e['diff'], 'money')})"
        assert margin[f"formatted_vs_{name}"] == fmt_points(e["points"])
        assert margin[f"vs_{name}_points"] == pytest.approx(e["points"], rel=1e-9)
        assert margin[f"vs_{name}_pct"] is None and profit[f"{name}_label"] == label
    assert profit["formatted_vs_previous"] == "+1.7% (+$463.59)"
    assert margin["formatted_vs_previous"] == "-3.9 pts" and margin["formatted_vs_year_ago"] == "-6.4 pts"
    # the HTML cards: value, each change against its label, coloured by the change (the margin's by points)
    page = summary.executive_summary_html(f)
    found = dict(re.findall(r'snb-kpi-label">([^<]+)</div><div class="snb-kpi-value">([^<]+)</div>', page))
    assert found["Profit"] == "$27,448.73" and found["Margin"] == "9.8%"
    card = re.search(r'snb-kpi-label">Margin</div>.*?</div></div>', page, re.S).group(0)
    deltas = re.findall(r'class="snb-kpi-delta([^"]*)">([^<]+)</div>', card)
    assert deltas == [(f" snb-{delta_class(expected['previous']['points'])}", "-3.9 pts vs 2017Q3"),
                      (" snb-down", "-6.4 pts vs 2016Q4")]
    md = summary.executive_summary_markdown(f)
    assert "| Margin | 9.8% | -3.9 pts | -6.4 pts |" in md


@slow
def test_kpi_table_rows(f, expected):
    table = tables.kpi_table(f)
    assert list(table["KPI"][:3]) == ["Revenue", "Profit", "Margin"]
    rows = table.set_index("KPI")
    e = expected
    assert rows.loc["Profit", "2017Q4"] == fmt_money(e["current"]["profit"])
    assert rows.loc["Margin", "2017Q4"] == fmt_pct(e["current"]["margin"])
    for name, label in LABELS.items():
        assert rows.loc["Profit", f"vs {label}"] == fmt_delta(e[name]["pct"])
        assert rows.loc["Margin", f"vs {label}"] == fmt_points(e[name]["points"])
    assert rows.loc["Profit", "vs 2016Q4"] == "-28.0%"
    # a change in points is a number: the change columns stay right-aligned
    assert 'class="text"' not in tables.to_html(table)


@slow
@pytest.mark.parametrize("dim", list(DIMENSIONS))
def test_breakdown_columns(f, raw, dim):
    start, end = WINDOWS["current"]
    w = raw[(raw["date"] >= start) & (raw["date"] < end)]
    # the loader trims the text of a value ("Iceberg Mobile Mega Data/Printer Cart ")
    per = w.groupby(w[DIMENSIONS[dim]].str.strip())[["Profit", "Sales"]].agg(exact_sum)
    table = tables.breakdown_table(f, dim, limit=None)
    noun = dim.replace("_", " ").capitalize()
    assert list(table.columns) == [noun, "Revenue", "Profit", "Margin"] + BREAKDOWN_COLUMNS[1:]
    assert len(table) == len(f["revenue"]["by_dimension"][dim])
    assert set(per.index) <= set(table[noun])
    for row in table.to_dict("records"):
        value = row[noun]
        if value not in per.index:   # sold in the previous quarter only: no line in 2017Q4
            assert (row["Revenue"], row["Profit"], row["Margin"]) == ("$0.00", "$0.00", "—"), value
            continue
        assert row["Profit"] == fmt_money(per.loc[value, "Profit"]), value
        # 100 × profit / revenue, in that order, as the findings compute it: a margin of exactly
        # -3.75% (Global Super Steno Chair) is -3.7499… that way and rounds to -3.7%
        assert row["Margin"] == fmt_pct(100.0 * per.loc[value, "Profit"] / per.loc[value, "Sales"]), value
        assert row["Revenue"] == fmt_money(per.loc[value, "Sales"]), value


@slow
def test_key_finding(f, expected):
    found = {t["source"]: t for t in summary.top_findings(f)}
    assert len(summary.top_findings(f)) == 5 and "profit" in found
    e = expected
    assert found["profit"]["sentence"] == (
        f"Profit was {fmt_money(e['current']['profit'])} in 2017Q4 (margin {fmt_pct(e['current']['margin'])}); "
        f"the margin is down {fmt_points(abs(e['previous']['points']), signed=False)} on 2017Q3 and down "
        f"{fmt_points(abs(e['year_ago']['points']), signed=False)} on 2016Q4.")
    assert found["profit"]["sentence"] == ("Profit was $27,448.73 in 2017Q4 (margin 9.8%); the margin is down "
                                           "3.9 pts on 2017Q3 and down 6.4 pts on 2016Q4.")
    # score: the larger margin change in points / 100 × revenue
    assert found["profit"]["score"] == pytest.approx(abs(e["year_ago"]["points"]) / 100 * e["current"]["revenue"],
                                                     rel=1e-6)
    assert unexplained_numbers(found["profit"]["sentence"], f) == []


def test_the_profit_sentence_keeps_its_place(monkeypatch):
    """Ranked below the five, the profit sentence takes the fifth place; the others keep their order."""
    f = {"currency": "USD", "period": {"label": "2024Q2"},
         "comparison": {"previous": {"label": "2024Q1", "available": True}, "year_ago": {"available": False}},
         "revenue": {"total": 1000.0, "profit": {"profit": 100.0, "margin_pct": 10.0,
                                                 "change": {"previous": {"margin_pct_points": 0.2}}}}}
    fake = [(500.0 - i, f"sentence {i}", f"s{i}") for i in range(7)] + [(0.002, "profit sentence", "profit")]
    monkeypatch.setattr(summary, "_candidates", lambda _f: list(fake))
    found = summary.top_findings(f)
    assert [t["source"] for t in found] == ["s0", "s1", "s2", "s3", "profit"]
    assert profit_narrative.finding_sentence(f) == "Profit was $100.00 in 2024Q2 (margin 10.0%); the margin is flat on " \
                                                   "2024Q1 (+0.2 pts)."


@slow
def test_profit_bridge_sentences_and_waterfall(f, expected):
    theme.apply_theme()
    for which, label in LABELS.items():
        e = expected[which]
        word = "rose" if e["diff"] > 0 else "fell"
        for kind in bridge_narrative.KINDS:
            sentence = bridge_narrative.bridge_sentence(f, which, kind, "profit")
            assert sentence.startswith(f"Profit {word} {fmt_money(abs(e['diff']))} vs {label}; by "), sentence
            assert unexplained_numbers(sentence, f) == [], sentence
        entry = bridge_narrative.bridge_entry(f, which, "profit")
        for kind in bridge_narrative.KINDS:
            steps = bridge_charts.waterfall_steps(entry, kind, "2017Q4", "profit")
            assert steps[0]["label"] == f"{label} profit" and steps[-1]["label"] == "2017Q4 profit"
            assert steps[0]["value"] == pytest.approx(e["profit"], abs=1e-6)
            assert steps[-1]["value"] == pytest.approx(expected["current"]["profit"], abs=1e-6)
            # the parts run from the comparison's profit to the period's, to the cent
            assert steps[-2]["end"] == pytest.approx(expected["current"]["profit"], abs=0.01)
        fig = bridge_charts.bridge_chart(f, which, "profit")
        assert fig._suptitle.get_text() == f"Why profit changed: {label} to 2017Q4"
        assert len(fig.axes) == 2
    assert bridge_narrative.bridge_sentence(f, "previous", "customers", "profit") == (
        "Profit rose $463.59 vs 2017Q3; by customer: customers buying less or the same -$23,253.55 (119 customers), "
        "new customers +$23,092.78 (251 customers), customers buying more +$11,715.89 (66 customers), "
        "lost customers -$11,091.53 (158 customers).")


@slow
def test_without_profit_everything_renders_as_the_findings_without_the_key(f):
    g = _without_profit(f)
    profit_keys = ("revenue.profit.profit", "revenue.profit.margin_pct")
    assert summary.kpis(g) == [k for k in summary.kpis(f) if k["key"] not in profit_keys]
    kept = tables.kpi_table(f)
    kept = kept[~kept["KPI"].isin(["Profit", "Margin"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(tables.kpi_table(g), kept)
    for dim in DIMENSIONS:
        pd.testing.assert_frame_equal(tables.breakdown_table(g, dim),
                                      tables.breakdown_table(f, dim).drop(columns=["Profit", "Margin"]))
    assert "profit" not in {t["source"] for t in summary.top_findings(g)}
    page = summary.executive_summary_html(g)
    assert ">Profit<" not in page and ">Margin<" not in page and " pts" not in page
    for which in LABELS:
        assert bridge_narrative.bridge_entry(g, which, "profit") is None
        assert bridge_charts.bridge_chart(g, which, "profit") is None
        # the revenue bridge renders as before
        assert bridge_narrative.bridge_sentence(g, which, "customers") == \
            bridge_narrative.bridge_sentence(f, which, "customers")


@slow
def test_the_sample_has_no_profit_rows():
    s = build_findings(sample_params(), sections=("revenue",)).data
    assert "profit" not in s["revenue"]
    labels = [label for label, key, _ in KPI_ROWS if s["revenue"].get(key) is not None]
    assert list(tables.kpi_table(s)["KPI"]) == labels + (["Target attainment"] if s["revenue"].get("targets") else [])
    assert [k["label"] for k in summary.kpis(s)][:len(labels)] == labels
    for dim in s["revenue"]["dimensions"]:
        assert list(tables.breakdown_table(s, dim).columns)[1:] == BREAKDOWN_COLUMNS
    assert "profit" not in {t["source"] for t in summary.top_findings(s)}


@slow
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), points=st.one_of(st.none(), st.floats(-50, 50, allow_nan=False)))
def test_breakdown_profit_is_matched_by_value_and_margin_changes_are_points(f, seed, points):
    """Whatever order ``revenue.profit.by_dimension`` lists its values in, each breakdown row gets
    its own value's profit; a margin change is shown in points and coloured by them."""
    g = copy.deepcopy(f)
    rows = g["revenue"]["profit"]["by_dimension"]["region"]
    random.Random(seed).shuffle(rows)
    pd.testing.assert_frame_equal(tables.breakdown_table(g, "region"), tables.breakdown_table(f, "region"))
    g["revenue"]["profit"]["change"]["previous"]["margin_pct_points"] = points
    margin = next(k for k in summary.kpis(g) if k["key"] == "revenue.profit.margin_pct")
    assert margin["formatted_vs_previous"] == fmt_points(points)
    page = summary.executive_summary_html(g)
    card = re.search(r'snb-kpi-label">Margin</div>.*?</div></div>', page, re.S).group(0)
    shown = re.findall(r'class="snb-kpi-delta([^"]*)">([^<]+) vs 2017Q3</div>', card)
    cls = delta_class(points)
    assert shown == ([] if points is None else [(f" snb-{cls}" if cls else "", fmt_points(points))])
