"""Parsing text the same way on every engine: money and numbers (one grammar: its Python form
here, its Ibis form in :mod:`salesnb.data.canonical`), and dates (the candidate formats of ``date_format: auto``, their
inference by value shape, and strftime patterns as Spark/PostgreSQL patterns).

* Dates (``auto``): one family of formats per column (a date part, with or without a time of
  day); an inferred format reads years 1900..2100 only; ISO wins ties; text with a UTC offset
  becomes UTC. The inference runs on DuckDB for every engine (over up to 200,000 distinct
  values).
* Money and numbers: see :func:`parse_money`. Non-finite values (inf, nan, overflow) are
  unreadable.
"""
from __future__ import annotations

import math
import re

from ..errors import DataError, NoDataError
from .sources import DUCKDB_SETTINGS

EXAMPLES = 5  # example values shown per reason (dropped rows, unreadable dates)


# --------------------------------------------------------------------------- SQL text

def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _path_list(paths) -> str:
    return "[" + ", ".join(sql_literal(p) for p in paths) + "]"


# --------------------------------------------------------------------------- money

# Money and numbers as text (SPEC 2.2). The Python and Ibis versions follow one grammar:
#  1. a Unicode minus becomes '-';
#  2. currency symbols and codes, spaces (any kind) and apostrophes are removed: every
#     non-ASCII character, '$', ASCII whitespace, "'", a run of 2+ ASCII letters (EUR, kr, CHF)
#     and 1-3 letters right before '$' (R$, US$);
#  3. what is left must be a number: optional '(' … ')' or a trailing '-' (negative), an
#     optional sign, digits whose thousands groups are separated by the non-decimal mark
#     ("1,234,567.89", or "1.234.567,89" with decimal ","), and an optional exponent;
#  4. a value that is not finite (inf, nan, 1e400) is unreadable.
# Anything else is unreadable (None / NULL): such a row is dropped and counted.
_MONEY_STRIP = r"[A-Za-z]{1,3}\$|[A-Za-z]{2,}|[^\x00-\x7F]|[ \t\n\r\f\x0b'$]"
_NUMBER = {
    ".": r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
    ",": r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?|[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?",
}

# the cleaned text: "(number)" → p, "number-" → t, "number" → n (exactly one group matches)
_MONEY = {d: rf"^(?:\((?P<p>{n})\)|(?P<t>{n})-|(?P<n>{n}))$" for d, n in _NUMBER.items()}

# plain numbers ("12.50", "-3") need none of that: a fast path on the engines (same result)
_PLAIN = {".": r"-?[0-9]{1,15}(\.[0-9]{1,15})?", ",": r"-?[0-9]{1,15}"}
_MONEY_STRIP_RE = re.compile(_MONEY_STRIP)
_MONEY_RE = {d: re.compile(p) for d, p in _MONEY.items()}


def _to_float(number: str, decimal: str) -> float | None:
    text = number.replace(",", "") if decimal == "." else number.replace(".", "").replace(",", ".")
    value = float(text)
    return value if math.isfinite(value) else None


def parse_money(text, decimal: str = ".") -> float | None:
    """Python twin of :func:`salesnb.data.canonical.money_expr`: ``"$1,234.56"`` → 1234.56, ``"(12.00)"`` → -12.0,
    ``"1.234,56 €"`` with ``decimal=","`` → 1234.56, ``"5-"`` → -5.0. Unreadable → None."""
    if text is None:
        return None
    m = _MONEY_RE[decimal].match(_MONEY_STRIP_RE.sub("", str(text).replace("\u2212", "-")))
    if not m:
        return None
    value = _to_float(m["p"] or m["t"] or m["n"], decimal)
    if value is None:
        return None
    return -abs(value) if (m["p"] or m["t"]) else value


# --------------------------------------------------------------------------- dates

# Candidate date formats for ``date_format: auto``, in families that share a date part (a
# family's formats differ only in the time of day, so a column may mix "5/1/2024" and
# "5/1/2024 10:30"). ISO is preferred; D/M/Y vs M/D/Y is decided by the values that only one
# reading fits. An inferred format only reads years 1900..2100, so "05/01/24" is never year 24.
_TIMES = ("", " %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p")
ISO_FAMILIES = (
    tuple(f"%Y-%m-%d{t}" for t in _TIMES + ("T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f", "T%H:%M",
                                              "T%H:%M:%SZ", "T%H:%M:%S.%fZ", "T%H:%M:%S%z",
                                              " %H:%M:%S%z", "T%H:%M:%S.%f%z")),
    tuple(f"%Y/%m/%d{t}" for t in _TIMES[:3]),
    ("%Y%m%d",),
    ("%Y.%m.%d",),
)
DMY_FAMILIES = tuple(tuple(f"%d{s}%m{s}%Y{t}" for t in _TIMES) for s in "/.-") + tuple(
    tuple(f"%d{s}%m{s}%y{t}" for t in _TIMES[:3]) for s in "/.-") + (
    ("%d %b %Y",), ("%d-%b-%Y",), ("%d %B %Y",), ("%d-%b-%y",))
MDY_FAMILIES = tuple(tuple(f"%m{s}%d{s}%Y{t}" for t in _TIMES) for s in "/-") + (
    tuple(f"%m/%d/%y{t}" for t in _TIMES[:3]), ("%b %d, %Y",), ("%B %d, %Y",), ("%b %d %Y",))
ISO_FORMATS = tuple(f for fam in ISO_FAMILIES for f in fam)
DMY_FORMATS = tuple(f for fam in DMY_FAMILIES for f in fam)
MDY_FORMATS = tuple(f for fam in MDY_FAMILIES for f in fam)
YEAR_RANGE = (1900, 2100)


def _strptime_sql(value_sql: str, fmt: str) -> str:
    """``try_strptime`` as a naive TIMESTAMP (a ``%z`` offset is converted to UTC)."""
    expr = f"try_strptime({value_sql}, {sql_literal(fmt)})"
    if "%z" in fmt:
        expr = f"CAST(timezone('UTC', {expr}) AS TIMESTAMP)"
    return expr


# At most this many value shapes are matched against the formats; past it every value is tried
# with every format.
MAX_DATE_SHAPES = 2_000


def _format_counts(db, from_sql: str, formats: list[str], families: list) -> tuple[tuple, dict[str, int]]:
    """(count(*) then the values each family reads, the values each format reads) over the text
    values ``v`` of ``from_sql``; a value reads when its year is in YEAR_RANGE.

    Trying 65 formats on 200k values takes seconds (a failed try_strptime costs as much as a good
    one), so each value is tried only with the formats that can read its *shape*: the value
    with every digit made '1'. A format that reads a value reads its shape too (each field
    takes a '1' wherever it takes a digit, and strptime does not check the year's range), so
    a format that reads no shape of a value is never tried on it; the counts are exact."""
    db.execute("CREATE OR REPLACE TEMP TABLE _salesnb_date_values AS "
               f"SELECT v, translate(v, '0123456789', '1111111111') AS _shape FROM {from_sql}")
    try:
        shapes = [r[0] for r in db.execute("SELECT DISTINCT _shape FROM _salesnb_date_values "
                                           f"LIMIT {MAX_DATE_SHAPES + 1}").fetchall()]
        lo, hi = YEAR_RANGE
        flags = []
        fits: list = [None] * len(formats)   # per format: the shapes it reads (None: not known)
        if len(shapes) <= MAX_DATE_SHAPES:
            db.register("_salesnb_date_shapes", _shape_frame(shapes))
            try:
                row = db.execute("SELECT " + ", ".join(
                    f"list(_shape) FILTER (WHERE {_strptime_sql('_shape', f)} IS NOT NULL)" for f in formats)
                    + " FROM _salesnb_date_shapes").fetchone()
            finally:
                db.unregister("_salesnb_date_shapes")
            fits = [list(x or []) for x in row]
        for i, (f, fit) in enumerate(zip(formats, fits)):
            reads = f"coalesce(year({_strptime_sql('v', f)}) BETWEEN {lo} AND {hi}, false)"
            if fit is not None and not fit:
                reads = "false"
            elif fit is not None and len(fit) < len(shapes):
                # CASE, not AND: DuckDB evaluates only the rows a WHEN selects
                reads = f"CASE WHEN _shape IN ({', '.join(sql_literal(x) for x in fit)}) THEN {reads} ELSE false END"
            flags.append(f"{reads} AS _f{i}")
        flag = {f: f"_f{i}" for i, f in enumerate(formats)}
        counts_sql = ", ".join(f"count_if({' OR '.join(flag[f] for f in fam)})" for _, fam in families)
        per_sql = ", ".join(f"count_if({flag[f]})" for f in formats)
        row = db.execute(f"SELECT count(*), {counts_sql}, {per_sql} "
                         f"FROM (SELECT {', '.join(flags)} FROM _salesnb_date_values)").fetchone()
    finally:
        db.execute("DROP TABLE IF EXISTS _salesnb_date_values")
    return row[:1 + len(families)], dict(zip(formats, row[1 + len(families):]))


def _shape_frame(shapes: list[str]):
    import pyarrow as pa
    return pa.table({"_shape": pa.array(shapes, pa.string())})


def _infer_date_family(db, from_sql: str, what: str, date_format: str = "auto") -> tuple[tuple, str]:
    """Pick one date family for the text values ``v`` of ``from_sql`` (SPEC 2.1).

    Returns (the family's formats, the format most values read with). ``what`` names the
    column and source in messages."""
    groups = {"iso": ISO_FAMILIES, "dmy": DMY_FAMILIES, "mdy": MDY_FAMILIES}
    if date_format == "dayfirst":
        groups.pop("mdy")
    elif date_format == "monthfirst":
        groups.pop("dmy")
    families = [(g, fam) for g, fams in groups.items() for fam in fams]
    formats = list(dict.fromkeys(f for _, fam in families for f in fam))
    row, per_format = _format_counts(db, from_sql, formats, families)
    total, counts = row[0], row[1:]
    if total == 0:
        raise NoDataError(f"{what} is empty on every row.",
                          hint="map columns.order_date to the column that holds the order dates")
    best = {}
    for (g, fam), n in zip(families, counts):
        if g not in best or n > best[g][1]:
            best[g] = (fam, n)
    iso_n = best["iso"][1]
    dmy = best.get("dmy", ((), -1))
    mdy = best.get("mdy", ((), -1))
    if iso_n >= max(dmy[1], mdy[1]):
        family, n = best["iso"]
    elif dmy[1] == mdy[1]:
        examples = [r[0] for r in db.execute(f"SELECT v FROM {from_sql} ORDER BY v LIMIT 3").fetchall()]
        every = "every value reads" if dmy[1] == total else f"as many values ({dmy[1]:,}) read"
        raise DataError(
            f"Dates in {what} are ambiguous: {every} both as day/month and as month/day "
            f"(e.g. {', '.join(map(repr, examples))}).",
            hint="set date_format: dayfirst, monthfirst, or a pattern such as '%d/%m/%Y'")
    else:
        family, n = max((dmy, mdy), key=lambda x: x[1])
    if n == 0:
        examples = [r[0] for r in db.execute(f"SELECT v FROM {from_sql} ORDER BY v LIMIT {EXAMPLES}").fetchall()]
        raise NoDataError(
            f"No value of {what} reads as a date ({total:,} distinct values, e.g. "
            f"{', '.join(map(repr, examples))}).",
            hint="check columns.order_date, or set date_format to a strftime pattern such as '%d.%m.%Y'")
    if len(family) == 1:
        return family, family[0]
    per = [per_format[f] for f in family]
    # Most common format first: coalesce() stops at the first format that reads a value, and a
    # failed try_strptime costs as much as a good one (3M lines "%d/%m/%Y %H:%M": 2.8 s with the
    # family's own order, 0.6 s with the main format first). A value reads with one format of a
    # family at most (strptime must consume the whole text), so the order changes no result.
    ranked = sorted(zip(family, per), key=lambda x: -x[1])
    return tuple(f for f, _ in ranked), ranked[0][0]


def infer_date_format(values, date_format: str = "auto") -> str:
    """The date format ``date_format: auto`` (or dayfirst/monthfirst) picks for these text
    values; raises :class:`DataError` when they are ambiguous or none reads as a date."""
    import duckdb
    db = duckdb.connect(config=dict(DUCKDB_SETTINGS))
    try:
        db.execute("CREATE TABLE vals AS SELECT unnest(?::VARCHAR[]) AS v",
                   [[None if v is None else str(v) for v in values]])
        src = "(SELECT DISTINCT trim(v) AS v FROM vals WHERE v IS NOT NULL AND trim(v) <> '')"
        return _infer_date_family(db, src, "the values", date_format)[1]
    finally:
        db.close()


# strftime code → (Spark pattern, PostgreSQL pattern, regular expression of the text)
_DATE_TOKENS = {
    "%Y": ("yyyy", "YYYY", "[0-9]{4}"),
    "%y": ("yy", "YY", "[0-9]{2}"),
    "%m": ("M", "MM", "[0-9]{1,2}"),
    "%d": ("d", "DD", "[0-9]{1,2}"),
    "%H": ("H", "HH24", "[0-9]{1,2}"),
    "%I": ("h", "HH12", "[0-9]{1,2}"),
    "%M": ("m", "MI", "[0-9]{1,2}"),
    "%S": ("s", "SS", "[0-9]{1,2}"),
    "%f": ("SSSSSS", "US", "[0-9]{1,6}"),
    "%p": ("a", "AM", "[AaPp][Mm]"),
    "%b": ("MMM", "Mon", "[A-Za-z]{3}"),
    "%B": ("MMMM", "Month", "[A-Za-z]+"),
    "%z": ("XXX", "TZH:TZM", "(Z|[+-][0-9]{2}:?[0-9]{2})"),
    "%j": ("D", "DDD", "[0-9]{1,3}"),
}


def convert_date_format(fmt: str) -> tuple[str, str, str]:
    """A strftime pattern as (Spark datetime pattern, PostgreSQL to_timestamp pattern, regex)."""
    spark, pg, rx = [], [], []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i:i + 2]
            i += 2
            if code == "%%":
                spark.append("%")
                pg.append("%")
                rx.append("%")
                continue
            if code not in _DATE_TOKENS:
                raise DataError(f"date_format code {code!r} is not supported on this engine.",
                                hint="supported: " + " ".join(_DATE_TOKENS))
            s, p, r = _DATE_TOKENS[code]
            spark.append(s)
            pg.append(p)
            rx.append(r)
        else:
            ch = fmt[i]
            i += 1
            spark.append(f"'{ch}'" if ch.isalpha() else ("''" if ch == "'" else ch))
            pg.append(f'"{ch}"' if ch.isalpha() else ch)
            rx.append(re.escape(ch) if not ch.isspace() else r"\s+")
    return "".join(spark), "".join(pg), "^" + "".join(rx) + "$"
