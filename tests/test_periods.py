"""Periods (SPEC 3) by example; the arithmetic's properties are in data/test_parsers.py."""
from __future__ import annotations

import datetime as dt

import pytest

from salesnb.errors import PeriodError
from salesnb.periods import (
    Period, expand_range, month_index, month_label, month_start, parse_period, safe_folder_name,
)


@pytest.mark.parametrize("text, label, kind, start, end", [
    ("2024Q3", "2024Q3", "quarter", dt.date(2024, 7, 1), dt.date(2024, 10, 1)),
    ("2024q3", "2024Q3", "quarter", dt.date(2024, 7, 1), dt.date(2024, 10, 1)),
    (" 2024-07 ", "2024-07", "month", dt.date(2024, 7, 1), dt.date(2024, 8, 1)),
    ("2024-7", "2024-07", "month", dt.date(2024, 7, 1), dt.date(2024, 8, 1)),
    ("2024", "2024", "year", dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
    ("2023Q3..2024Q3", "2023Q3..2024Q3", "range", dt.date(2023, 7, 1), dt.date(2024, 10, 1)),
    ("2023-11..2024-02", "2023-11..2024-02", "range", dt.date(2023, 11, 1), dt.date(2024, 3, 1)),
])
def test_parse(text, label, kind, start, end):
    p = parse_period(text)
    assert (p.label, p.kind, p.start, p.end) == (label, kind, start, end)


def test_fiscal_year_start_4():
    q1 = parse_period("2024Q1", 4)
    assert (q1.start, q1.end) == (dt.date(2023, 4, 1), dt.date(2023, 7, 1))
    fy = parse_period("FY2024", 4)
    assert (fy.start, fy.last_day, fy.label) == (dt.date(2023, 4, 1), dt.date(2024, 3, 31), "FY2024")
    assert parse_period("2024", 4).label == "FY2024"
    assert parse_period("2024Q4", 4).end == dt.date(2024, 4, 1)
    assert parse_period("2024Q1", 4).previous().label == "2023Q4"


def test_previous_and_year_ago_labels():
    assert parse_period("2024Q3").previous().label == "2024Q2"
    assert parse_period("2024Q1").previous().label == "2023Q4"
    assert parse_period("2024-01").previous().label == "2023-12"
    assert parse_period("2024-01").year_ago().label == "2023-01"
    assert parse_period("2024").previous().label == "2023"
    r = parse_period("2024-02..2024-04")
    assert (r.previous().start, r.previous().end) == (dt.date(2023, 11, 1), dt.date(2024, 2, 1))


def test_expand_range():
    assert [p.label for p in expand_range("2023Q3..2024Q3")] == ["2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3"]
    assert [p.label for p in expand_range("2023-11..2024-02")] == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert [p.label for p in expand_range("2022..2024", 7)] == ["FY2022", "FY2023", "FY2024"]
    assert [p.label for p in expand_range("2024Q2")] == ["2024Q2"]


@pytest.mark.parametrize("text, fragment", [
    ("2023Q3..2024-01", "mixes"), ("2024Q3..2023Q3", "ends before it starts"), ("2000-01..2030-12", "240 at most"),
])
def test_expand_range_errors(text, fragment):
    with pytest.raises(PeriodError, match=fragment):
        expand_range(text)


@pytest.mark.parametrize("text", ["2024Q5", "2024Q0", "2024-13", "2024-00", "24", "Q3", "2024Q3..2024Q1", "", "soon",
                                  "2024-07-01", "FY"])
def test_bad_periods_say_what_to_write(text):
    with pytest.raises(PeriodError) as err:
        parse_period(text)
    assert "2024Q3" in (err.value.hint or "")


def test_none_and_bad_fiscal_start():
    with pytest.raises(PeriodError):
        parse_period(None)
    with pytest.raises(PeriodError):
        parse_period("2024", 13)


def test_all():
    p = parse_period("all", first_date=dt.date(2023, 3, 15), last_date=dt.date(2024, 2, 2))
    assert (p.label, p.start, p.end) == ("all", dt.date(2023, 3, 1), dt.date(2024, 3, 1))
    assert p.months == 12
    unbounded = parse_period("ALL")
    assert unbounded.contains(dt.date(2024, 1, 1))


def test_helpers():
    p = parse_period("2024Q3")
    assert p.months == 3 and p.month_labels() == ["2024-07", "2024-08", "2024-09"]
    assert p.last_day == dt.date(2024, 9, 30)
    assert p.contains(dt.date(2024, 9, 30)) and not p.contains(dt.date(2024, 10, 1))
    assert p.to_dict() == {"label": "2024Q3", "start": "2024-07-01", "end": "2024-09-30"}
    t = p.trailing_months(24)
    assert (t.start, t.end, t.months) == (dt.date(2022, 10, 1), dt.date(2024, 10, 1), 24)
    assert month_label(month_index(dt.date(2024, 2, 29))) == "2024-02"
    for i in range(2000 * 12, 2030 * 12):
        assert month_index(month_start(i)) == i
    assert isinstance(p, Period)


@pytest.mark.parametrize("text, name", [
    ("2024Q3", "2024Q3"), ("2023Q3..2024Q3", "2023Q3_2024Q3"), ("../x", "x"), ("a/b", "a_b"),
    ("..", "_"), ("", "_"), ("North America", "North_America"), ("x" * 300, "x" * 100),
])
def test_safe_folder_name_examples(text, name):
    assert safe_folder_name(text) == name


def test_folder_name_of_a_range():
    assert parse_period("2023Q3..2024Q3").folder_name() == "2023Q3_2024Q3"
