"""Tables that fit (issue 21 part 6): short evidence lines, named first columns, contents that list
only sections with content, and the volatility text's real month count."""
from __future__ import annotations

import nbformat
import pandas as pd

from salesnb.render import recommendations as render_recs, tables
from salesnb.render.narrative import revenue as narrative
from support.paths import ROOT


def _evidence(n: int) -> list[dict]:
    return [{"key": f"revenue.by_dimension.product[Very long product name number {i} with more words].growth_pct",
             "value": -12.3456 - i} for i in range(n)]


def test_evidence_lines_are_short_key_value_lines_with_a_count_of_the_rest():
    item = {"evidence": _evidence(10)}
    text = render_recs.evidence_lines(item, "USD")
    lines = text.split("\n")
    assert len(lines) == render_recs.EVIDENCE_LINES + 1
    assert all(len(line) <= render_recs.EVIDENCE_WIDTH for line in lines)
    assert lines[-1] == "+6 more in findings.json"
    assert all(" = " in line for line in lines[:-1])
    # a short key keeps its full text and its formatted value
    short = render_recs.evidence_lines({"evidence": [{"key": "revenue.aov", "value": 1231.2}]}, "USD")
    assert short == "revenue.aov = $1,231.20"
    # the full list stays available (findings.json holds the raw evidence; evidence_text all of it)
    assert render_recs.evidence_text(item, "USD").count(" = ") == 10


def test_evidence_cells_render_as_lines_in_the_html_table():
    frame = pd.DataFrame([{"Action": "Act <now>", "Evidence": render_recs.evidence_lines({"evidence": _evidence(6)})}])
    html = tables.to_html(frame)
    assert html.count("<br>") == render_recs.EVIDENCE_LINES
    assert "Act &lt;now&gt;" in html and "\n+2 more" not in html
    assert "max-width" not in html  # widths come from the stylesheet (report.css), not per table
    css = (ROOT / "salesnb" / "render" / "templates" / "report.css").read_text(encoding="utf-8")
    assert "table.salesnb-table { width: 100%; table-layout: auto; }" in css
    assert "overflow-wrap: break-word" in css
    # a findings key may wrap after its dots; a money amount never
    html = tables.to_html(pd.DataFrame([{"Metric": "revenue.by_dimension.region[Central].revenue",
                                         "Now": "$46,160.39"}]))
    assert "revenue.<wbr>by_<wbr>dimension.<wbr>region[Central]<wbr>.<wbr>revenue" in html
    assert "<td>$46,160.39</td>" in html


def test_breakdown_tables_name_their_first_column_for_the_dimension():
    f = {"currency": "USD", "revenue": {"by_dimension": {"sales_rep": [
        {"value": "Ann", "revenue": 10.0, "share_pct": 100.0, "growth_pct": None, "orders": 1}]}}}
    assert tables.breakdown_table(f, "sales_rep").columns[0] == "Sales rep"


def test_volatility_text_states_the_months_it_covers():
    f = {"currency": "USD", "revenue": {"volatility": {"months": 13, "cv_pct": 12.0, "anomalies": [
        {"month": "2024-03", "revenue": 5000.0, "direction": "high"}]}}}
    sentence = narrative.anomaly_sentence(f)
    assert "trailing 13 complete months" in sentence and "trailing 24" not in sentence
    f["revenue"]["volatility"]["anomalies"] = []
    assert "trailing 13 complete months" in narrative.anomaly_sentence(f)


def test_region_segment_heading_only_with_the_heatmap():
    """The contents list a heading only where its section has content: the revenue notebook writes
    "Region × segment" as an output of the branch that draws the heatmap, not as a Markdown cell."""
    nb = nbformat.read(ROOT / "notebooks" / "revenue.ipynb", as_version=4)
    assert not [c for c in nb.cells if c.cell_type == "markdown" and "Region × segment" in c.source]
    cell = next(c for c in nb.cells if c.cell_type == "code" and "revenue_region_segment" in c.source)
    body = cell.source.split("else:")[0]
    assert 'display(Markdown("### Region × segment"))' in body
