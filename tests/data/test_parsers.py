"""Property tests of the text parsers: money (Python twin vs SQL), dates, periods, folder names."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

import salesnb.data.parsing as data_module
from salesnb.data.parsing import (
    DMY_FAMILIES, ISO_FAMILIES, MDY_FAMILIES, _format_counts, infer_date_format, parse_money,
)
from salesnb.errors import DataError, PeriodError
from salesnb.periods import (
    expand_range, month_index, month_start, parse_period, safe_folder_name,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# each date inference runs one DuckDB query (~50 ms): fewer examples keep the suite fast
DATE_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                               HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def db():
    con = duckdb.connect()
    yield con
    con.close()


def _ibis_sql(db, build) -> str:
    """``build(dialect, x)`` (an Ibis expression over the text column x) as DuckDB SQL over ?."""
    import ibis

    from salesnb.data.backends.duckdb_run import DuckDBDialect
    raw = ibis.table({"x": "string"}, name="raw")
    sql = ibis.to_sql(raw.select(v=build(DuckDBDialect(db, {"x": "VARCHAR"}), raw.x)), dialect="duckdb")
    return sql.replace('"raw"', "(SELECT ?::VARCHAR AS x)")


_MONEY_SQL: dict = {}


def _sql_money(db, text, decimal):
    # the expression is compiled once per decimal mark: compiling it per example cost most of the time
    from salesnb.data.canonical import money_expr
    if decimal not in _MONEY_SQL:
        _MONEY_SQL[decimal] = _ibis_sql(db, lambda d, x: money_expr(d, x, decimal))
    return db.execute(_MONEY_SQL[decimal], [text]).fetchone()[0]


# --------------------------------------------------------------------------- money

MONEY_ALPHABET = "0123456789" * 3 + ".,,..+-()eE $€£¥'\u2212\u00a0\u202fRSUDkr%/#xa\t"
money_text = st.text(alphabet=MONEY_ALPHABET, max_size=16)


@SETTINGS
@given(text=money_text, decimal=st.sampled_from([".", ","]))
@example(text="$1,234.56", decimal=".")
@example(text="1.234,56 €", decimal=",")
@example(text="(12.00)", decimal=".")
@example(text="1e400", decimal=".")
@example(text="R$ 1.234,56", decimal=",")
@example(text="5-", decimal=".")
@example(text="EUR 5", decimal=".")
@example(text="1e5E", decimal=".")
def test_parse_money_and_money_sql_agree(db, text, decimal):
    py = parse_money(text, decimal)
    sql = _sql_money(db, text, decimal)
    assert py == sql or (py is None and sql is None), (text, decimal, py, sql)


@given(text=money_text, decimal=st.sampled_from([".", ","]))
@settings(max_examples=300, deadline=None)
def test_parse_money_is_finite_or_none(text, decimal):
    value = parse_money(text, decimal)
    assert value is None or (isinstance(value, float) and value == value and abs(value) != float("inf"))


def _group(int_part: str, sep: str) -> str:
    out = ""
    while len(int_part) > 3:
        out = sep + int_part[-3:] + out
        int_part = int_part[:-3]
    return int_part + out


LOCALES = {
    # name: (decimal setting, formatter of (sign, integer digits, cents))
    "en": (".", lambda neg, i, c: f"{'-' if neg else ''}${_group(i, ',')}.{c}"),
    "en-accounting": (".", lambda neg, i, c: f"({_group(i, ',')}.{c})" if neg else f"{_group(i, ',')}.{c}"),
    "en-trailing-minus": (".", lambda neg, i, c: f"{_group(i, ',')}.{c}{'-' if neg else ''}"),
    "en-code": (".", lambda neg, i, c: f"USD {'-' if neg else ''}{_group(i, ',')}.{c}"),
    "de": (",", lambda neg, i, c: f"{'-' if neg else ''}{_group(i, '.')},{c} €"),
    "fr": (",", lambda neg, i, c: f"{'−' if neg else ''}{_group(i, chr(0x202f))},{c}\u00a0€"),
    "fr-space": (",", lambda neg, i, c: f"{'-' if neg else ''}{_group(i, ' ')},{c}"),
    "ch": (".", lambda neg, i, c: f"CHF {'-' if neg else ''}{_group(i, chr(39))}.{c}"),
    "br": (",", lambda neg, i, c: f"{'-' if neg else ''}R$ {_group(i, '.')},{c}"),
    "plain": (".", lambda neg, i, c: f"{'-' if neg else ''}{i}.{c}"),
}


@SETTINGS
@given(cents=st.integers(min_value=-10**13, max_value=10**13), locale=st.sampled_from(sorted(LOCALES)))
def test_formatted_money_round_trips(db, cents, locale):
    decimal, fmt = LOCALES[locale]
    neg, whole, frac = cents < 0, str(abs(cents) // 100), f"{abs(cents) % 100:02d}"
    text = fmt(neg, whole, frac)
    expected = cents / 100
    assert parse_money(text, decimal) == pytest.approx(expected, rel=1e-15, abs=1e-9), text
    assert _sql_money(db, text, decimal) == pytest.approx(expected, rel=1e-15, abs=1e-9), text


@pytest.mark.parametrize("text, decimal, value", [
    ("$1,234.56", ".", 1234.56), ("1.234,56", ",", 1234.56), ("(12.00)", ".", -12.0), ("-5", ".", -5.0),
    ("1 234,56", ",", 1234.56), ("1234,56", ",", 1234.56), ("1.234", ",", 1234.0), ("1,234", ".", 1234.0),
    ("£0.5", ".", 0.5), (".5", ".", 0.5), ("1e3", ".", 1000.0), ("+7", ".", 7.0), ("−7", ".", -7.0),
    ("1e300", ".", 1e300),
])
def test_money_examples(db, text, decimal, value):
    assert parse_money(text, decimal) == value
    assert _sql_money(db, text, decimal) == value


@pytest.mark.parametrize("text, decimal", [
    ("", "."), ("abc", "."), ("10,00", "."), ("1,2345", "."), ("1.5", ","), ("1e400", "."), ("inf", "."),
    ("nan", "."), ("-", "."), ("()", "."), ("1.2k", "."), ("12/5", "."), ("1.2.3", "."), (None, "."),
])
def test_money_unreadable(db, text, decimal):
    assert parse_money(text, decimal) is None
    assert _sql_money(db, text, decimal) is None


# --------------------------------------------------------------------------- dates

dates = st.lists(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)), min_size=1, max_size=20)


@DATE_SETTINGS
@given(days=dates, sep=st.sampled_from("/.-"))
def test_day_first_dates_are_recognised_when_one_reading_fits(days, sep):
    assume(any(d.day > 12 for d in days))
    values = [f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}" for d in days]
    assert infer_date_format(values) == f"%d{sep}%m{sep}%Y"


@DATE_SETTINGS
@given(days=dates, sep=st.sampled_from("/-"), pad=st.booleans())
def test_month_first_dates_are_recognised_when_one_reading_fits(days, sep, pad):
    assume(any(d.day > 12 for d in days))
    values = [(f"{d.month:02d}{sep}{d.day:02d}" if pad else f"{d.month}{sep}{d.day}") + f"{sep}{d.year}" for d in days]
    assert infer_date_format(values) == f"%m{sep}%d{sep}%Y"


@settings(DATE_SETTINGS, max_examples=15)  # three inferences per example
@given(days=st.lists(st.builds(dt.date, st.integers(1950, 2090), st.integers(1, 12), st.integers(1, 12)),
                      min_size=1, max_size=20))
def test_ambiguous_dates_ask_for_date_format(days):
    values = [f"{d.day:02d}/{d.month:02d}/{d.year}" for d in days]
    with pytest.raises(DataError, match="date_format") as err:
        infer_date_format(values)
    assert "ambiguous" in err.value.message
    # an explicit preference settles it
    assert infer_date_format(values, "dayfirst") == "%d/%m/%Y"
    assert infer_date_format(values, "monthfirst") == "%m/%d/%Y"


@DATE_SETTINGS
@given(days=dates, time=st.booleans())
def test_iso_dates_win(days, time):
    values = [f"{d.isoformat()} 10:30:00" if time else d.isoformat() for d in days]
    assert infer_date_format(values) == ("%Y-%m-%d %H:%M:%S" if time else "%Y-%m-%d")


@DATE_SETTINGS
@given(days=st.lists(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2068, 12, 31)), min_size=1, max_size=10))
def test_two_digit_years_are_never_read_as_year_zero(days):
    assume(any(d.day > 12 for d in days))
    values = [f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}" for d in days]
    assert infer_date_format(values) == "%d/%m/%y"


def test_no_date_at_all_is_an_error_with_examples():
    with pytest.raises(DataError, match="reads as a date") as err:
        infer_date_format(["soon", "later"])
    assert "'later'" in err.value.message and "date_format" in err.value.hint


def test_date_examples():
    assert infer_date_format(["5 Jan 2024", "12 Feb 2024"]) == "%d %b %Y"
    assert infer_date_format(["Jan 5, 2024", "Feb 12, 2024"]) == "%b %d, %Y"
    assert infer_date_format(["20240105", "19991231"]) == "%Y%m%d"
    assert infer_date_format(["2024-01-05T10:00:00Z"]) == "%Y-%m-%dT%H:%M:%SZ"
    assert infer_date_format(["12/1/2010 8:26", "12/13/2010 17:05"]) == "%m/%d/%Y %H:%M"
    # a mix of dates with and without a time of day is one family
    assert infer_date_format(["13/01/2024", "14/01/2024 10:00", "15/01/2024"]) == "%d/%m/%Y"


# --------------------------------------------------------------------------- periods

fys_st = st.integers(min_value=1, max_value=12)
year_st = st.integers(min_value=1990, max_value=2100)


@st.composite
def periods(draw):
    fys = draw(fys_st)
    year = draw(year_st)
    kind = draw(st.sampled_from(["month", "quarter", "year", "range"]))
    if kind == "month":
        text = f"{year}-{draw(st.integers(1, 12)):02d}"
    elif kind == "quarter":
        text = f"{year}Q{draw(st.integers(1, 4))}"
    elif kind == "year":
        text = f"{year}"
    else:
        a, b = sorted([draw(st.integers(1, 12)), draw(st.integers(1, 12))])
        text = f"{year}-{a:02d}..{year + draw(st.integers(0, 2))}-{b:02d}"
    return parse_period(text, fys), fys


@SETTINGS
@given(pf=periods())
def test_previous_period_ends_where_this_one_starts(pf):
    p, _ = pf
    prev = p.previous()
    assert prev.end == p.start
    assert prev.months == p.months
    assert prev.start < p.start


@SETTINGS
@given(pf=periods())
def test_year_ago_is_twelve_months_earlier(pf):
    p, _ = pf
    y = p.year_ago()
    assert month_index(y.start) == month_index(p.start) - 12
    assert month_index(y.end) == month_index(p.end) - 12
    assert y.months == p.months


@SETTINGS
@given(pf=periods())
def test_labels_of_shifted_periods_parse_back(pf):
    p, fys = pf
    for q in (p, p.previous(), p.year_ago()):
        back = parse_period(q.label, fys)
        assert (back.start, back.end) == (q.start, q.end), q.label


@SETTINGS
@given(fys=fys_st, year=year_st, kind=st.sampled_from(["month", "quarter", "year"]),
       n=st.integers(min_value=0, max_value=12), first=st.integers(min_value=1, max_value=4))
def test_expand_range_covers_contiguous_periods(fys, year, kind, n, first):
    a = parse_period({"month": f"{year}-{first:02d}", "quarter": f"{year}Q{first}", "year": f"{year}"}[kind], fys)
    b = a.shifted(n * a.months)
    out = expand_range(f"{a.label}..{b.label}", fys)
    assert len(out) == n + 1
    assert out[0].start == a.start and out[-1].end == b.end
    assert all(x.end == y.start for x, y in zip(out, out[1:]))
    assert all(x.months == a.months and x.kind == kind for x in out)


@SETTINGS
@given(fys=fys_st, year=year_st, q=st.integers(min_value=1, max_value=4))
def test_fiscal_year_start_shifts_quarters_and_years(fys, year, q):
    quarter = parse_period(f"{year}Q{q}", fys)
    assert quarter.start.month == (fys - 1 + 3 * (q - 1)) % 12 + 1
    assert quarter.months == 3
    fy = parse_period(f"{year}", fys)
    assert fy.months == 12
    # fiscal year YYYY is named by the calendar year in which it ends
    assert fy.last_day.year == year
    assert fy.start.month == fys
    assert fy.start <= quarter.start and quarter.end <= fy.end
    if fys == 1:
        assert (fy.start, fy.end) == (dt.date(year, 1, 1), dt.date(year + 1, 1, 1))


@SETTINGS
@given(text=st.text(max_size=300) | st.sampled_from(["..", "../x", "a/b", "/", ".", "...", "..\\..", "\x00"]))
def test_safe_folder_name(text):
    name = safe_folder_name(text)
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name and ".." not in name and "\x00" not in name
    assert len(name) <= 100
    assert name == safe_folder_name(name)  # already safe names stay as they are


ALL_DATE_FORMATS = tuple(dict.fromkeys(f for fams in (ISO_FAMILIES, DMY_FAMILIES, MDY_FAMILIES)
                                       for fam in fams for f in fam))
ALL_DATE_FAMILIES = [(g, fam) for g, fams in (("iso", ISO_FAMILIES), ("dmy", DMY_FAMILIES), ("mdy", MDY_FAMILIES))
                     for fam in fams]


def _date_text(moment: dt.datetime, fmt: str, offset_minutes: int) -> str:
    """``moment`` written with ``fmt`` by Python's strftime (``%z`` with the given offset)."""
    if "%z" in fmt:
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))
    return moment.strftime(fmt)


dated = st.tuples(st.datetimes(min_value=dt.datetime(1890, 1, 1), max_value=dt.datetime(2110, 12, 31)),
                  st.sampled_from(ALL_DATE_FORMATS), st.integers(-720, 840))


@settings(DATE_SETTINGS, max_examples=40)
@given(dates=st.lists(dated, max_size=20),
       texts=st.lists(st.text(alphabet="0123456789/-.: TZAPMJanFebDc,+", max_size=22), max_size=10))
def test_date_formats_are_counted_exactly_when_tried_only_on_matching_shapes(dates, texts, monkeypatch_module):
    """Each value is tried only with the formats that read its shape (digits made '1'): the
    counts equal those of trying every format on every value."""
    written = {}
    for moment, fmt, offset in dates:
        written.setdefault(_date_text(moment, fmt, offset), set()).add((fmt, 1900 <= moment.year <= 2100))
    values = list(written) + texts
    assume(values)
    db = duckdb.connect()
    try:
        db.execute("CREATE TABLE vals AS SELECT unnest(?::VARCHAR[]) AS v", [values])
        shaped = _format_counts(db, "(SELECT DISTINCT v FROM vals)", list(ALL_DATE_FORMATS), ALL_DATE_FAMILIES)
        monkeypatch_module.setattr(data_module, "MAX_DATE_SHAPES", -1)   # every value with every format
        try:
            every = _format_counts(db, "(SELECT DISTINCT v FROM vals)", list(ALL_DATE_FORMATS), ALL_DATE_FAMILIES)
        finally:
            monkeypatch_module.undo()
    finally:
        db.close()
    assert shaped == every
    # a date written with a format, its year in range, reads with that format
    for fmt in ALL_DATE_FORMATS:
        assert every[1][fmt] >= sum(1 for how in written.values() if (fmt, True) in how)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(" \t\n\u00a0\u2003\u3000\u1680\u200bab1.é€"), max_size=12))
def test_trim_only_where_it_changes_equals_trim(db, text):
    """DuckDB's dialect skips trim() on values it cannot change: same result as trim()."""
    got = db.execute(_ibis_sql(db, lambda d, x: d.trimmed(x)), [text]).fetchone()[0]
    assert got == db.execute("SELECT trim(?::VARCHAR)", [text]).fetchone()[0]
