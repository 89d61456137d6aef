"""The data rules of SPEC 2.3, the part every engine shares: which reasons drop a row and in
what order, the columns a params file must map, the rules for implausible dates, duplicates
and composite order ids, and the messages about them (each written once).

The rules, in the order they apply:

1. A row whose date cannot be read, or whose revenue (or quantity × unit price) cannot be read,
   is dropped and counted per reason with up to 5 example values. A row without an order id is
   dropped the same way (it cannot be counted as an order).
2. ``filters`` (include / exclude by value) drop rows, counted under ``filtered``.
3. Exact duplicate source rows are counted; with ``dedupe: true`` all but one copy are dropped.
4. Returns (negative revenue) are kept: every figure is net.
5. Rows without a customer id are kept for revenue; customer analyses leave them out.

Each row counts under its *first* failing reason (:data:`REASONS` order), so the counts add up
to the rows dropped. The expressions that evaluate the rules are written once, in Ibis, in
:mod:`salesnb.data.canonical` and :mod:`salesnb.data.load`, and every backend runs them.
"""
from __future__ import annotations

import re

from ..config import Config
from ..errors import ColumnError, DataError, NoDataError, closest_name
from .parsing import parse_money

# The reasons a row is dropped, in the order they are checked (a row counts under the first).
REASONS = ("unparseable date", "implausible date", "unparseable revenue", "revenue out of range",
           "missing order id")
MAX_LINE_REVENUE = 1e15  # a line revenue this large is dropped and counted (no real sale is)
# A date is implausible when its year is outside 1..9998 (placeholders such as 9999-12-31), or
# when it lies in a group of dates separated from the bulk of the data by more than
# OUTLIER_GAP_YEARS years without a row, and that group holds at most OUTLIER_SHARE of the dated
# rows (one 1900-01-01 typo among recent sales): such rows are dropped and counted.
OUTLIER_GAP_YEARS = 5
OUTLIER_SHARE = 0.01
# text a missing customer id is often exported as (pandas' str(NaN), R's NA, Excel's #N/A)
MISSING_ID_WORDS = ("nan", "na", "n/a", "#n/a", "null", "none")
# between the parts of a composite order id: a control character no id text holds, so that
# ("a b", "c") and ("a", "b c") stay two orders
ORDER_ID_SEPARATOR = "\x1f"


def first_failing(conditions: dict, both, negate) -> dict:
    """Each reason's condition restricted to the rows no earlier reason (in :data:`REASONS` order)
    took: ``both(a, b)`` and ``negate(a)`` spell AND and NOT for the engine (SQL text or Ibis
    expressions)."""
    out, so_far = {}, []
    for reason in sorted(conditions, key=REASONS.index):
        cond = conditions[reason]
        c = cond
        for earlier in so_far:
            c = both(c, negate(earlier))
        out[reason] = c
        so_far.append(cond)
    return out


def plausible_year_range(per_year: list[tuple[int, int]], lo: int, hi: int, dated: int) -> tuple[int, int] | None:
    """The first and last year of the dates to keep (see OUTLIER_GAP_YEARS), from the rows per
    year (years 1..9998 only, ascending); None when every date is plausible. ``lo``/``hi``: the
    first and last year of all dates, ``dated``: how many rows have a date."""
    if not per_year:
        return (1, 0)   # every date is a placeholder: all implausible
    groups: list[list] = [[per_year[0][0], per_year[0][0], per_year[0][1]]]   # first year, last year, rows
    for year, rows in per_year[1:]:
        if year - groups[-1][1] > OUTLIER_GAP_YEARS:
            groups.append([year, year, rows])
        else:
            groups[-1][1] = year
            groups[-1][2] += rows
    biggest = max(g[2] for g in groups)
    kept = [g for g in groups if g[2] == biggest or g[2] > OUTLIER_SHARE * dated]
    first, last = min(g[0] for g in kept), max(g[1] for g in kept)
    if first == lo and last == hi:
        return None
    return (first, last)


def date_format_unused(date_format: str, column: str) -> str | None:
    """The note for a ``date_format`` given for a column that already holds dates."""
    if date_format == "auto":
        return None
    return (f"date_format {date_format!r} is not used: column {column!r} is already a date/timestamp "
            "in the source.")


def source_has_no_rows(source_desc: str) -> NoDataError:
    return NoDataError(f"{source_desc} has no rows.", hint="check the source, table or query")


def order_id_notes(config: Config) -> list[str]:
    """What the report says of a composite order id: its orders are not the source's own."""
    if not config.order_id_parts:
        return []
    date_col = config.columns["order_date"]
    parts = [f"the calendar day of {p!r}" if p == date_col else repr(p) for p in config.order_id_parts]
    return [f"The data has no order id: as columns.order_id says, an order is one combination of "
            f"{' and '.join(parts)}; orders and average order value count those."]


def count_duplicates_dropped(config: Config, dup_rows: int | None, rows_read: int, rows_used: int,
                             dropped: dict[str, int]) -> int:
    """With ``dedupe: true``, the copies dropped: the rows read that no other reason dropped and
    that did not stay. They are added to ``dropped`` as "duplicate"."""
    if not (config.dedupe and dup_rows):
        return 0
    dup_dropped = rows_read - sum(dropped.values()) - rows_used
    if dup_dropped:
        dropped["duplicate"] = dup_dropped
    return dup_dropped


def no_usable_rows(config: Config, source_desc: str, rows_read: int, dropped: dict[str, int],
                   examples: dict[str, list[str]], decimal_hint: str | None = None) -> NoDataError:
    """The error for a source whose every row was dropped: each reason with its count and
    examples, and the params setting most likely at fault."""
    detail = "; ".join(f"{k}: {v:,}" + (f" (e.g. {', '.join(map(repr, examples[k][:3]))})" if examples.get(k) else "")
                       for k, v in dropped.items())
    if decimal_hint:
        hint = decimal_hint
    elif set(dropped) == {"filtered"}:
        hint = "the filters in the params file leave no row: check their values (they match exactly)"
    elif "unparseable date" in dropped and "%" in config.date_format:
        hint = f"no date reads with date_format {config.date_format!r}: fix the pattern, or use date_format: auto"
    else:
        hint = "check the column mapping, date_format, decimal and filters in the params file"
    return NoDataError(f"No usable row in {source_desc}: all {rows_read:,} rows were dropped ({detail}).", hint=hint)


# --------------------------------------------------------------------------- columns

def _check_columns(config: Config, raw_cols: dict[str, str], source_desc: str) -> None:
    """Every column named under ``columns:`` must exist: one error naming all that are missing,
    each with the closest real column, and a delimiter hint when the header did not split."""
    names = list(raw_cols)
    missing = [(role, col) for role, col in config.source_columns() if col not in raw_cols]
    if not missing:
        return
    shown = ", ".join(repr(n) for n in names[:30]) + (" …" if len(names) > 30 else "")
    split = next((d for d in (";", "\t", "|", ",") for n in names if d in n and
                  any(m in n.split(d) for _, m in missing)), None)
    # with a wrong delimiter, the "closest" column is the whole header line: no suggestions
    parts = [(role, col, None if split else closest_name(col, names)) for role, col in missing]
    if len(parts) == 1:
        role, col, near = parts[0]
        text = f"Column {col!r} (columns.{role}) is not in {source_desc}."
        text += f" Did you mean {near!r}?" if near else ""
        hint = f"fix columns.{role} in the params file; the source's columns are: {shown}"
    else:
        listed = ", ".join(f"{col!r} (columns.{role}" + (f"; did you mean {near!r}?)" if near else ")")
                           for role, col, near in parts)
        text = f"{len(parts)} mapped columns are not in {source_desc}: {listed}."
        hint = ("fix " + ", ".join(f"columns.{role}" for role, _, _ in parts)
                + f" in the params file; the source's columns are: {shown}")
    datalike = sum(1 for n in names if parse_money(n) is not None or re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*", n))
    if split is None and names and datalike * 2 >= len(names):
        text += " Its first row looks like data, not column names: the file may have no header row."
        hint = "add a first line with the column names to the file, then map them under columns:"
    if split is not None:
        shown_d = "\\t" if split == "\t" else split
        text += (f" The header looks like one column holding names separated by {shown_d!r}: "
                 "the delimiter is probably wrong.")
        hint = (f"set delimiter: {shown_d!r} in the params file (or remove delimiter: to detect it); "
                f"the source's columns are read as: {shown}")
    role, col, _ = parts[0]
    raise ColumnError(text, hint=hint, column=col, role=role, missing=[c for _, c, _ in parts])


def _check_duplicate_headers(config: Config, headers, source_desc: str) -> None:
    """A mapped column whose name the header gives twice: DuckDB would read the first and call
    the other NAME_1, silently. An error naming both."""
    for file_name, names in headers:
        for role, col in config.source_columns():
            places = [i + 1 for i, n in enumerate(names) if n == col]
            if len(places) > 1:
                raise DataError(f"The header of {file_name} names {col!r} (columns.{role}) twice: columns "
                                f"{places[0]} and {places[1]}.",
                                hint="rename one of them in the file, so that columns: can say which one "
                                     f"holds the {role.replace('_', ' ')}")


# A money value's currency, from its symbol or ISO code ("$" is taken as US dollars)
_CURRENCY_MARKS = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
                   "USD": "USD", "EUR": "EUR", "GBP": "GBP", "JPY": "JPY", "CHF": "CHF", "CAD": "CAD", "AUD": "AUD",
                   "INR": "INR", "CNY": "CNY", "SEK": "SEK", "NOK": "NOK", "DKK": "DKK"}
