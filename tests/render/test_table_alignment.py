"""Tables: columns of words read left-aligned, formatted numbers right-aligned (the stylesheet's rule)."""
import re

import pandas as pd

from salesnb.fmt import fmt_count, fmt_delta, fmt_money, fmt_pct
from salesnb.render import tables


def _cells(html: str) -> list[list[str]]:
    return [re.findall(r"<td([^>]*)>", row) for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)]


def test_text_columns_after_the_first_are_marked_and_number_columns_are_not():
    frame = pd.DataFrame({
        "Quarter": ["2017Q4", "2017Q3"],
        "Region": ["West", "East"],
        "Revenue": [fmt_money(1234.56, "USD"), fmt_money(-3, "CHF")],
        "Share": [fmt_pct(12.34), "—"],
        "Orders": [fmt_count(1024), fmt_count(5)],
        "Change": [fmt_delta(-3.4), fmt_delta(None)],
    })
    rows = [r for r in _cells(tables.to_html(frame)) if r]
    assert len(rows) == 2
    for row in rows:
        # Quarter (first column: the stylesheet aligns it), Region marked; the four numbers not
        assert row == ["", ' class="text" style="text-align: left"', "", "", "", ""]


def test_a_table_of_numbers_only_has_no_marks():
    frame = pd.DataFrame({"Month": ["2024-01"], "Revenue": [fmt_money(5, "EUR")], "Growth": [fmt_delta(2.0)]})
    assert 'class="text"' not in tables.to_html(frame)


def test_the_stylesheet_left_aligns_marked_cells():
    from salesnb.render import html
    css = html.css()
    assert "table.dataframe td.text { text-align: left; }" in css
