"""Golden tests of the data rules (SPEC 2.3) on small hand-made tables.

Every expected number here is worked out by hand from the rows written in the test.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesnb.data.quality import PARTIAL_COVERAGE, month_coverage, partial_months
from salesnb.errors import NoDataError

HEADER = "order,date,cust,amount\n"

# order 1: 100 + 50 (+ an exact duplicate of the 50 line); order 2 nets to zero (80 − 80);
# orders 3 and 4 have no customer id; order 5 is a pure return.
MIXED = HEADER + (
    "1,2024-01-01,a,100\n"
    "1,2024-01-01,a,50\n"
    "2,2024-01-02,b,80\n"
    "2,2024-01-03,b,-80\n"
    "3,2024-01-04,,40\n"
    "4,2024-01-05,,60\n"
    "5,2024-01-06,c,-25\n"
    "1,2024-01-01,a,50\n"
)


def _rows(dataset, sql):
    return [tuple(r) for r in dataset.sql(sql).itertuples(index=False)]


def _check_invariants(q):
    assert q.rows_used + sum(q.rows_dropped.values()) == q.rows_read


# --------------------------------------------------------------------------- returns, net revenue

def test_returns_are_kept_and_revenue_is_net(load):
    ds = load(MIXED)
    q = ds.quality
    assert q.rows_read == 8 and q.rows_used == 8 and q.rows_dropped == {}
    assert q.revenue_total == pytest.approx(275.0)  # 100+50+80-80+40+60-25+50
    assert q.returns == {"lines": 2, "value": pytest.approx(105.0)}  # 80 + 25
    assert _rows(ds, "SELECT count(*) FROM sales WHERE revenue < 0") == [(2,)]
    _check_invariants(q)


def test_an_order_that_nets_to_zero_keeps_both_lines(load):
    ds = load(MIXED)
    by_order = dict(_rows(ds, "SELECT order_id, sum(revenue) FROM sales GROUP BY 1"))
    assert by_order == {"1": 200.0, "2": 0.0, "3": 40.0, "4": 60.0, "5": -25.0}
    assert _rows(ds, "SELECT count(*) FROM sales WHERE order_id = '2'") == [(2,)]
    # SPEC 2.3: orders = distinct ids with positive net revenue → 1, 3, 4
    assert _rows(ds, "SELECT count(*) FROM (SELECT order_id FROM sales GROUP BY 1 HAVING sum(revenue) > 0)") == [(3,)]


def test_missing_customer_ids_count_for_revenue_with_their_share(load):
    ds = load(MIXED)
    mc = ds.quality.missing_customer
    assert mc["rows"] == 2
    assert mc["revenue"] == pytest.approx(100.0)
    assert mc["revenue_share_pct"] == pytest.approx(100.0 * 100 / 275)
    assert _rows(ds, "SELECT count(*) FROM sales WHERE customer_id IS NULL") == [(2,)]


def test_blank_customer_id_is_missing_not_a_customer(load):
    ds = load(HEADER + "1,2024-01-01,  ,10\n2,2024-01-02,a,30\n")
    assert ds.quality.missing_customer["rows"] == 1
    assert ds.quality.missing_customer["revenue_share_pct"] == pytest.approx(25.0)


# --------------------------------------------------------------------------- duplicates

def test_exact_duplicates_are_counted_and_kept(load):
    q = load(MIXED).quality
    assert q.duplicates == {"rows": 1, "dropped": 0}
    assert "duplicate" not in q.rows_dropped
    assert q.rows_used == 8


def test_dedupe_drops_duplicates_and_counts_them(load):
    q = load(MIXED, dedupe=True).quality
    assert q.duplicates == {"rows": 1, "dropped": 1}
    assert q.rows_dropped == {"duplicate": 1}
    assert q.rows_used == 7
    assert q.revenue_total == pytest.approx(225.0)
    _check_invariants(q)


def test_duplicates_compare_every_source_column(load):
    # same order, date, customer and amount, but a different (unmapped) note: not duplicates
    data = "order,date,cust,amount,note\n1,2024-01-01,a,10,x\n1,2024-01-01,a,10,y\n1,2024-01-01,a,10,y\n"
    q = load(data, dedupe=True).quality
    assert q.duplicates == {"rows": 1, "dropped": 1}
    assert q.rows_used == 2


# --------------------------------------------------------------------------- unreadable rows

BAD_ROWS = HEADER + (
    "1,2024-01-05,a,10\n"
    "2,not a date,a,10\n"
    "3,2024-01-06,a,abc\n"
    "4,,a,10\n"
    "5,2024-01-07,a,\n"
    "6,bad,a,xyz\n"          # both unreadable: counted once, under its date
    ",2024-01-08,a,5\n"      # no order id
    "8,2024-01-09,b,20\n"
)


def test_unparseable_dates_and_revenue_are_dropped_and_counted_with_examples(load):
    q = load(BAD_ROWS).quality
    assert q.rows_read == 8
    assert q.rows_dropped == {"unparseable date": 3, "unparseable revenue": 2, "missing order id": 1}
    assert q.rows_used == 2
    assert q.examples["unparseable date"] == ["(empty)", "bad", "not a date"]
    assert q.examples["unparseable revenue"] == ["(empty)", "abc"]
    assert q.revenue_total == pytest.approx(30.0)
    _check_invariants(q)


def test_examples_are_at_most_five(load):
    rows = "".join(f"{i},junk{i},a,1\n" for i in range(12)) + "99,2024-01-01,a,1\n"
    q = load(HEADER + rows).quality
    assert q.rows_dropped == {"unparseable date": 12}
    assert len(q.examples["unparseable date"]) == 5


def test_no_usable_row_is_an_error_listing_the_reasons(load):
    with pytest.raises(NoDataError) as err:
        load(HEADER + "1,2024-01-05,a,abc\n2,2024-01-06,a,\n")
    assert "unparseable revenue: 2" in err.value.message


# --------------------------------------------------------------------------- months: partial, gaps

def _month_rows(first: str, last: str, extra: tuple[str, ...] = ()) -> str:
    days = [first, *extra, last]
    return HEADER + "".join(f"{i},{d},a,10\n" for i, d in enumerate(days))


def test_partial_last_month_below_90_percent(load):
    q = load(_month_rows("2024-01-01", "2024-03-27", ("2024-02-10",))).quality
    assert q.month_coverage["2024-03"] == pytest.approx(27 / 31, abs=1e-4)
    assert q.partial_months == ["2024-03"]
    assert q.gap_months == []


def test_full_last_month_at_90_percent_or_more(load):
    q = load(_month_rows("2024-01-01", "2024-03-28", ("2024-02-10",))).quality
    assert q.month_coverage["2024-03"] == pytest.approx(28 / 31, abs=1e-4)
    assert 28 / 31 >= PARTIAL_COVERAGE
    assert q.partial_months == []


def test_partial_first_month(load):
    q = load(_month_rows("2024-01-05", "2024-02-29")).quality
    assert q.month_coverage == {"2024-01": pytest.approx(27 / 31, abs=1e-4), "2024-02": 1.0}
    assert q.partial_months == ["2024-01"]


def test_gap_month_is_listed(load):
    q = load(_month_rows("2024-01-01", "2024-04-30", ("2024-03-15",))).quality
    assert q.gap_months == ["2024-02"]
    assert q.partial_months == []
    assert (q.first_date, q.last_date) == ("2024-01-01", "2024-04-30")


def test_month_coverage_functions():
    assert month_coverage(dt.date(2024, 2, 3), dt.date(2024, 2, 29)) == {"2024-02": pytest.approx(27 / 29)}
    assert partial_months(dt.date(2024, 2, 3), dt.date(2024, 2, 29)) == []  # 27/29 = 93%
    assert partial_months(dt.date(2023, 2, 4), dt.date(2023, 5, 31)) == ["2023-02"]  # 25/28 = 89%
    assert partial_months(dt.date(2024, 1, 1), dt.date(2024, 1, 1)) == ["2024-01"]


# --------------------------------------------------------------------------- filters

REPS = "order,date,cust,amount,rep,region\n" + (
    "1,2024-01-05,a,10,O'Brien,North\n"
    "2,2024-01-06,b,20,Smith,South\n"
    '3,2024-01-07,c,30,"Lee, Ann",North\n'
    "4,2024-01-08,d,40,,North\n"
)
REP_COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
               "sales_rep": "rep", "region": "region"}


@pytest.mark.parametrize("filters, used, total", [
    ({"exclude": {"sales_rep": ["O'Brien"]}}, 3, 90.0),
    ({"include": {"region": ["North"]}}, 3, 80.0),
    ({"include": {"sales_rep": ["O'Brien", "Lee, Ann"]}}, 2, 40.0),   # row 4 has no rep: not included
    ({"include": {"region": ["North"]}, "exclude": {"sales_rep": ["Lee, Ann"]}}, 2, 50.0),
    ({"exclude": {"sales_rep": ["x') OR 1=1 --", "'; DROP TABLE sales; --"]}}, 4, 100.0),  # bound, not pasted
    ({"include": {"region": ["north"]}}, 0, None),  # values match exactly (case matters)
])
def test_filters_include_exclude(load, filters, used, total):
    if used == 0:
        with pytest.raises(NoDataError, match="filtered: 4"):
            load(REPS, columns=REP_COLUMNS, filters=filters)
        return
    q = load(REPS, columns=REP_COLUMNS, filters=filters).quality
    assert q.rows_used == used
    assert q.revenue_total == pytest.approx(total)
    assert q.rows_dropped.get("filtered", 0) == 4 - used
    _check_invariants(q)


def test_filters_apply_after_unreadable_rows_are_dropped(load):
    data = REPS + "5,never,e,50,Smith,South\n"
    q = load(data, columns=REP_COLUMNS, filters={"exclude": {"sales_rep": ["Smith"]}}).quality
    assert q.rows_dropped == {"unparseable date": 1, "filtered": 1}
    assert q.rows_used == 3


# --------------------------------------------------------------------------- revenue = quantity × price

def test_revenue_is_quantity_times_unit_price_when_not_mapped(load):
    data = "order,date,cust,qty,price\n1,2024-01-05,a,2,3.5\n2,2024-01-06,b,-1,3.5\n3,2024-01-07,c,4,\n4,2024-01-08,d,10,2\n"
    cols = {"order_id": "order", "order_date": "date", "customer_id": "cust", "quantity": "qty", "unit_price": "price"}
    ds = load(data, columns=cols)
    q = ds.quality
    assert q.revenue_total == pytest.approx(2 * 3.5 - 3.5 + 20)
    assert q.rows_dropped == {"unparseable revenue": 1}
    assert q.examples["unparseable revenue"] == ["4 × (empty)"]
    assert q.returns == {"lines": 1, "value": pytest.approx(3.5)}
    assert _rows(ds, "SELECT sum(quantity) FROM sales") == [(11.0,)]


def test_mapped_revenue_wins_over_quantity_times_price(load):
    data = "order,date,cust,qty,price,total\n1,2024-01-05,a,2,3,5.5\n"
    cols = {"order_id": "order", "order_date": "date", "quantity": "qty", "unit_price": "price", "revenue": "total"}
    assert load(data, columns=cols).quality.revenue_total == pytest.approx(5.5)


def test_negative_unit_price_is_kept_with_a_note(load):
    data = "order,date,cust,qty,price\n1,2024-01-05,a,1,100\nA1,2024-01-06,,1,-40\n"
    cols = {"order_id": "order", "order_date": "date", "customer_id": "cust", "quantity": "qty", "unit_price": "price"}
    q = load(data, columns=cols).quality
    assert q.revenue_total == pytest.approx(60.0)
    assert any("negative unit price" in n for n in q.notes)


# --------------------------------------------------------------------------- ids

def test_float_like_ids_become_whole_number_text(load):
    q = load(HEADER + "536365,2024-01-05,17850.0,10\nC536379,2024-01-06,17850,-5\n")
    assert sorted(_rows(q, "SELECT order_id, customer_id FROM sales")) == [("536365", "17850"), ("C536379", "17850")]


def test_float_customer_ids_from_parquet(load, tmp_path):
    frame = pd.DataFrame({"order": ["1", "2", "3"], "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                          "cust": [17850.0, None, 1e300], "amount": [1.0, 2.0, 3.0]})
    frame.to_parquet(tmp_path / "s.parquet")
    ds = load(None, filename="s.parquet")
    ids = dict(_rows(ds, "SELECT order_id, customer_id FROM sales"))
    assert ids["1"] == "17850" and pd.isna(ids["2"]) and ids["3"]  # a huge float id is kept as text
    assert ds.quality.missing_customer["rows"] == 1


def test_the_ibis_table_has_the_canonical_columns(load):
    ds = load(MIXED)
    assert set(ds.table.columns) == {"order_id", "order_date", "customer_id", "revenue"}
    assert float(ds.table.revenue.sum().execute()) == pytest.approx(275.0)
    assert ds.table.count().execute() == 8


def test_missing_customer_words_are_missing(load):
    rows = "".join(f"{i},2024-01-0{i},{c},10\n" for i, c in enumerate(["nan", "NaN", "NA", "#N/A", "null", "None", "Nana"], 1))
    ds = load(HEADER + rows)
    assert ds.quality.missing_customer["rows"] == 6
    assert _rows(ds, "SELECT DISTINCT customer_id FROM sales WHERE customer_id IS NOT NULL") == [("Nana",)]


def test_shape_notes_are_one_text_for_every_engine():
    import datetime as dt
    from salesnb.data.quality import shape_notes
    day = dt.date(2024, 3, 1)
    notes = shape_notes(total=-5.0, negative_prices=1, has_customers=True, customers=1, first=day, last=day)
    assert notes == [
        "1 line has a negative unit price (adjustments such as bad debt); kept, they reduce revenue.",
        "Net revenue is not positive (-5.00): the data holds mostly returns or zero lines, so shares and growth "
        "rates are not meaningful.",
        "The data holds a single customer: customer analyses (RFM, cohorts, concentration) are not meaningful.",
        "The data holds a single day (2024-03-01): trends and growth cannot be computed."]
    assert shape_notes(total=10.0, negative_prices=2, has_customers=False, customers=0, first=day,
                       last=dt.date(2024, 4, 1)) == [
        "2 lines have a negative unit price (adjustments such as bad debt); kept, they reduce revenue.",
        "No customer id is mapped: customer analyses are left out."]
    assert shape_notes(total=10.0, negative_prices=0, has_customers=True, customers=2, first=day,
                       last=dt.date(2024, 4, 1)) == []


def test_plausible_year_range_drops_small_far_groups_only():
    """The implausible-date rule every engine applies (salesnb.data.rules): a group of years more
    than OUTLIER_GAP_YEARS from the rest holding at most OUTLIER_SHARE of the dated rows is cut."""
    from salesnb.data.rules import OUTLIER_GAP_YEARS, OUTLIER_SHARE, plausible_year_range
    assert (OUTLIER_GAP_YEARS, OUTLIER_SHARE) == (5, 0.01)
    # one 1900 typo among 1,000 recent rows: cut
    assert plausible_year_range([(1900, 1), (2020, 500), (2021, 499)], 1900, 2021, 1000) == (2020, 2021)
    # 20 of 520 rows (3.8 %) in 1990: a real group, every year kept
    assert plausible_year_range([(1990, 20), (2020, 500)], 1990, 2020, 520) is None
    # gaps of at most 5 years chain into one group
    assert plausible_year_range([(2000, 1), (2005, 1), (2010, 98)], 2000, 2010, 100) is None
    # a placeholder year 9999 is never in per_year (years 1..9998 only): the range ends before it
    assert plausible_year_range([(2020, 10)], 2020, 9999, 11) == (2020, 2020)
    # only placeholders: no year is plausible
    assert plausible_year_range([], 9999, 9999, 3) == (1, 0)


def test_first_failing_counts_each_row_under_its_first_reason():
    """The reasons are checked in REASONS order whatever order they are given in."""
    from salesnb.data.rules import REASONS, first_failing
    conditions = {"missing order id": "o", "unparseable date": "d", "unparseable revenue": "r"}
    got = first_failing(conditions, lambda a, b: f"{a}&{b}", lambda a: f"!{a}")
    assert list(got) == [r for r in REASONS if r in conditions]
    assert got == {"unparseable date": "d", "unparseable revenue": "r&!d", "missing order id": "o&!d&!r"}
    # on sets of row numbers: the parts are disjoint and cover every failing row
    rows = {"unparseable date": {1, 2}, "unparseable revenue": {2, 3}, "missing order id": {3, 4, 1}}
    parts = first_failing(rows, lambda a, b: a & b, lambda a: set(range(10)) - a)
    assert parts == {"unparseable date": {1, 2}, "unparseable revenue": {3}, "missing order id": {4}}
