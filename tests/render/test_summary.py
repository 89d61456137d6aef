"""Executive summary (salesnb.render.summary): KPI rows, the ranked findings, escaping, and on the real data
sets every number in the rendered text is a finding."""
from __future__ import annotations

import html
import re

import pytest

from salesnb.render import recommendations as render_recs, summary
from salesnb.fmt import fmt_month
from support.findings import REAL, customers_section, make_findings, real_findings

#: numbers that sentences state as definitions, not findings: "top 20%", "last 12 months",
#: "trailing 24 months"
DEFINITIONAL = (12, 20, 24)


def html_text(fragment: str) -> str:
    fragment = re.sub(r"<style.*?</style>", " ", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def markdown_text(text: str) -> str:
    return html.unescape(text.replace("\\", ""))


def test_kpi_rows():
    rows = summary.kpis(make_findings())
    assert [r["label"] for r in rows] == ["Revenue", "Orders", "Average order value", "Unique customers"]
    rev = rows[0]
    assert rev["formatted"] == "$100,000.00" and rev["vs_previous_pct"] == 11.11 and rev["vs_year_ago_abs"] == 5000.0
    assert rev["formatted_vs_previous"] == "+11.1% (+$10,000.00)"
    assert rev["previous_label"] == "2024Q1" and rev["year_ago_label"] == "2023Q2"
    orders = rows[1]
    assert orders["formatted"] == "400" and orders["formatted_vs_previous"] == "—"   # no change given


def test_kpi_target_attainment_and_missing_year_ago():
    f = make_findings(revenue__targets={"revenue": 120000.0, "attainment_pct": 83.33, "gap": -20000.0})
    f["comparison"]["year_ago"]["available"] = False
    rows = summary.kpis(f)
    target = rows[-1]
    assert target["label"] == "Target attainment" and target["formatted"] == "83.3%"
    assert target["formatted_target"] == "$120,000.00" and target["formatted_gap"] == "-$20,000.00"
    assert all(r["year_ago_label"] is None for r in rows)
    md = summary.executive_summary_markdown(f)
    assert "vs 2023Q2" not in md and "vs 2024Q1" in md and "83.3%" in md
    assert summary.notes(f) == ["2023Q2 is not in the data: no change against it."]
    assert summary.notes(make_findings())[0].startswith("Target attainment: no revenue target is set")


def test_top_findings_ranked_by_change_times_revenue_at_stake():
    f = make_findings(customers=customers_section())
    found = summary.top_findings(f)
    assert 1 <= len(found) <= 5
    scores = [t["score"] for t in found]
    assert scores == sorted(scores, reverse=True)
    # headline: |revenue change| 10,000 beats the AOV change (5.56% × 100,000) and the region movers (5,000)
    assert found[0]["source"] == "revenue" and found[0]["sentence"].startswith("Revenue was $100,000.00 in 2024Q2")
    assert found[1]["source"] == "orders" and found[1]["score"] == pytest.approx(5560.0)
    sources = [t["source"] for t in found]
    assert "growth:region" in sources and "churn" in sources
    # ties (region movers 5,000 and churn 25% × 20,000 = 5,000) are broken by the sentence text
    tied = [t for t in found if t["score"] == pytest.approx(5000.0)]
    assert [t["sentence"] for t in tied] == sorted(t["sentence"] for t in tied)
    assert summary.top_findings(f) == found         # deterministic


def test_top_actions_are_the_first_three_actions():
    from salesnb.recommend import recommendations
    f = make_findings(customers=customers_section())
    f["recommendations"] = recommendations(f)
    top = summary.top_actions(f)
    assert [a["title"] for a in top] == [a["title"] for a in f["recommendations"]["actions"][:3]]
    assert all(a["formatted_target"] and a["formatted_impact"] for a in top)


def test_data_strings_are_escaped_in_html_and_markdown():
    f = make_findings()
    for row in f["revenue"]["by_dimension"]["region"]:
        if row["value"] == "East":
            row["value"] = "<script>alert('x')</script> & $5 *bold*"
    f["revenue"]["by_dimension"]["region"].sort(key=lambda r: (-r["revenue"], r["value"]))
    page = summary.executive_summary_html(f)
    assert "<script>" not in page and "&lt;script&gt;" in page
    md = summary.executive_summary_markdown(f)
    assert "<script>" not in md and "&lt;script&gt;" in md and "<span>&#36;</span>5" in md and "\\*bold\\*" in md
    assert "&#x27;" not in md                       # an apostrophe stays readable in Markdown
    assert summary.md("Can't [x]|#") == "Can't \\[x\\]\\|\\#"


def test_summary_without_customers_or_recommendations_section():
    f = make_findings()
    f.pop("customers")
    s = summary.executive_summary(f)
    assert s["kpis"] and s["top_findings"]
    assert isinstance(s["top_actions"], list)
    assert render_recs.actions_frame(f).columns[0] == "#"
    assert render_recs.risks_frame(f).empty or "Risk" in render_recs.risks_frame(f).columns


def test_format_value_by_key():
    assert render_recs.format_value("revenue.by_dimension.region[East].revenue", 1234.5) == "$1,234.50"
    assert render_recs.format_value("customers.at_risk_share_pct", 12.345) == "12.3%"
    assert render_recs.format_value("customers.one_time_buyers", 80) == "80"
    assert render_recs.format_value("data.month_coverage.2024-06", 0.2903) == "29.0%"
    assert render_recs.format_value("data.gap_months", ["2024-02"]) == "2024-02"


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_every_number_is_a_finding(name, shared_data):
    from support.textnumbers import unexplained_numbers
    f = real_findings(name)
    s = summary.executive_summary(f)
    assert len(s["top_findings"]) == 5 and len(s["top_actions"]) == 3
    texts = [markdown_text(summary.executive_summary_markdown(f)), html_text(summary.executive_summary_html(f))]
    texts += [t["sentence"] for t in s["top_findings"]]
    text = "\n".join(texts)                        # one pass: rendering every finding takes a second
    assert unexplained_numbers(text, f, DEFINITIONAL) == []
    # no partial month is called best or worst
    partial = [m["month"] for m in f["revenue"]["by_month"] if m["partial"]]
    for t in s["top_findings"]:
        for m in partial:
            assert not re.search(rf"{fmt_month(m)} (was )?the (best|worst)", t["sentence"])
    labels = {r["label"] for r in s["kpis"]}
    assert {"Revenue", "Orders", "Average order value", "Unique customers"} <= labels


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_tables_for_the_notebook(name, shared_data):
    f = real_findings(name)
    actions = render_recs.actions_frame(f)
    assert len(actions) == f["recommendations"]["shown_actions"] <= 7
    assert not actions[["Action", "Metric", render_recs.ACTION_NOW_TARGET, "Deadline"]].isna().any().any()
    # nine columns (fits JupyterLab's width): now and target in one, the formula above its evidence
    assert len(actions.columns) == 9
    cur = f.get("currency", "USD")
    shown_actions = render_recs.shown(f["recommendations"]["actions"])
    for row, a in zip(actions.to_dict("records"), shown_actions):
        now, target = row[render_recs.ACTION_NOW_TARGET].split(" → ")
        assert now == render_recs.format_value(a["metric"], a.get("current"), cur)
        assert target == render_recs.format_value(a["metric"], a.get("target"), cur)
        how = row[render_recs.ACTION_HOW].split("\n")
        assert how[0] == a["formula"] and "\n".join(how[1:]) == render_recs.evidence_lines(a, cur)
    assert len(render_recs.impact_frame(f)) == len([o for o in f["recommendations"]["opportunities"]
                                                if o["impact"] is not None and o["shown"]])
