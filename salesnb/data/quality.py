"""The data-quality record (:class:`DataQuality`): built in one place, from the same figures,
for every engine. The backends compute the figures (one aggregate query each); the record,
its notes and the messages about the data as a whole are made here.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

from ..errors import DataError

PARTIAL_COVERAGE = 0.9
HUGE_VALUE = 1e12  # a line revenue this large (in any currency) is flagged in the notes


@dataclass
class DataQuality:
    """What loading found: rows read, used and dropped per reason, quirks, and the fingerprint."""

    source: str
    sha256: str | None
    rows_read: int = 0
    rows_used: int = 0
    rows_dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    returns: dict = field(default_factory=lambda: {"lines": 0, "value": 0.0})
    zero_revenue_lines: int = 0
    missing_customer: dict = field(default_factory=lambda: {"rows": 0, "revenue": 0.0, "revenue_share_pct": None})
    duplicates: dict = field(default_factory=lambda: {"rows": 0, "dropped": 0})
    first_date: str | None = None
    last_date: str | None = None
    partial_months: list[str] = field(default_factory=list)
    gap_months: list[str] = field(default_factory=list)
    month_coverage: dict[str, float] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    dimensions: list[str] = field(default_factory=list)
    revenue_total: float = 0.0
    notes: list[str] = field(default_factory=list)
    # kind: pipeline params only (salesnb.data.pipeline): deals won, lost and open, open by stage
    deals: dict | None = None
    # what each filter of the params did, in the order they apply: {kind, column, role (None for
    # a source column), values, rows (usable rows it saw), kept, removed}
    filters: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Stats:
    """The figures of the canonical table that the record needs (one aggregate query on the
    engine). ``customers``: distinct customer ids, only 0, 1 or more matters."""

    first: dt.date
    last: dt.date
    total: float | None
    return_lines: int
    return_value: float  # positive: the value of the returns
    zero_lines: int
    nocust_rows: int
    nocust_revenue: float
    biggest: float
    negative_prices: int
    customers: int
    months: set[int]  # month indices (year * 12 + month - 1) that hold a row


def month_coverage(first: dt.date, last: dt.date) -> dict[str, float]:
    """Share of each edge month's calendar days that the data's date range covers."""
    import calendar
    out = {}
    for day, is_first in ((first, True), (last, False)):
        days = calendar.monthrange(day.year, day.month)[1]
        lo = first if (first.year, first.month) == (day.year, day.month) else day.replace(day=1)
        hi = last if (last.year, last.month) == (day.year, day.month) else day.replace(day=days)
        out[f"{day.year:04d}-{day.month:02d}"] = ((hi - lo).days + 1) / days
    return out


def partial_months(first: dt.date, last: dt.date) -> list[str]:
    return sorted(m for m, share in month_coverage(first, last).items() if share < PARTIAL_COVERAGE)


def shape_notes(*, total: float, negative_prices: int, has_customers: bool, customers: int,
                first: dt.date, last: dt.date) -> list[str]:
    """The data-quality notes on what the data as a whole holds, the same for every engine:
    negative unit prices, net revenue that is not positive, no or a single customer, a single
    day. ``customers``: how many distinct customer ids (only 0, 1 or more matters)."""
    notes = []
    if negative_prices:
        notes.append(f"{negative_prices:,} line{' has' if negative_prices == 1 else 's have'} a negative unit "
                     "price (adjustments such as bad debt); kept, they reduce revenue.")
    if total <= 0:
        notes.append(f"Net revenue is not positive ({total:,.2f}): the data holds mostly returns or zero lines, "
                     "so shares and growth rates are not meaningful.")
    if has_customers and customers == 0:
        notes.append("No row has a customer id: customer analyses are left out.")
    elif has_customers and customers == 1:
        notes.append("The data holds a single customer: customer analyses (RFM, cohorts, concentration) "
                     "are not meaningful.")
    if first == last:
        notes.append(f"The data holds a single day ({first.isoformat()}): trends and growth cannot be computed.")
    if not has_customers:
        notes.append("No customer id is mapped: customer analyses are left out.")
    return notes


def resolved_orders_note(count: int, examples: list) -> str:
    """The note on orders whose lines have different days or customers (salesnb.metrics.orders)."""
    from ..fmt import fmt_count
    shown = ", ".join(str(e) for e in examples)
    more = ", …" if count > len(examples) else ""
    return (f"{fmt_count(count)} order{' has' if count == 1 else 's have'} lines on different days or with "
            f"different customers (order id {shown}{more}): each counts once, on the day and for the customer "
            "of its first line (the earliest date; on a tie, the smallest customer id; a line without a "
            "customer id names none).")


def build_quality(config, stats: Stats, *, source: str, source_label: str, sha256: str, encoding: str | None,
                  rows_read: int, rows_used: int, dropped: dict[str, int], examples: dict[str, list[str]],
                  dup_rows: int, dup_dropped: int, date_format: str | None, notes: list[str],
                  filters: list[dict] | None = None) -> DataQuality:
    """The record of one load. ``source``: what the record names; ``source_label``: the source
    as messages name it."""
    from ..periods import month_index, month_label
    total = stats.total
    if total is None or not math.isfinite(total):
        raise DataError(f"The revenue of {source_label} does not add up to a finite number: "
                        "some values are too large.",
                        hint="check the revenue column (or quantity and unit_price) for overflowing values")
    first, last = stats.first, stats.last
    gaps = [month_label(i) for i in range(month_index(first), month_index(last) + 1) if i not in stats.months]
    notes = list(notes)
    if stats.biggest >= HUGE_VALUE:
        notes.append(f"Some line revenues are implausibly large (up to {stats.biggest:.3g}); they are kept. "
                     "Check the revenue column and decimal.")
    has_cust = "customer_id" in config.columns
    notes += shape_notes(total=total, negative_prices=stats.negative_prices, has_customers=has_cust,
                         customers=stats.customers, first=first, last=last)
    share = (100.0 * stats.nocust_revenue / total) + 0.0 if has_cust and total > 0 else None
    coverage = month_coverage(first, last)
    return DataQuality(
        source=source, sha256=sha256, rows_read=int(rows_read), rows_used=int(rows_used),
        rows_dropped={k: int(v) for k, v in dropped.items()}, examples=examples,
        returns={"lines": int(stats.return_lines), "value": float(stats.return_value) + 0.0},
        zero_revenue_lines=int(stats.zero_lines),
        missing_customer={"rows": int(stats.nocust_rows), "revenue": float(stats.nocust_revenue),
                          "revenue_share_pct": share},
        duplicates={"rows": int(dup_rows), "dropped": int(dup_dropped)},
        first_date=first.isoformat(), last_date=last.isoformat(),
        partial_months=partial_months(first, last), gap_months=gaps,
        month_coverage={k: round(v, 4) for k, v in coverage.items()}, date_format=date_format,
        encoding=encoding, columns=dict(config.columns), dimensions=config.dimensions,
        revenue_total=float(total), notes=notes, filters=list(filters or []))
