"""Report periods (SPEC 3): ``2024Q3``, ``2024-07``, ``2024``, ``2023Q3..2024Q3``, ``all``.

A period is a half-open span of whole months ``[start, end)``. Quarters and years follow
``fiscal_year_start``: with a start month other than January, fiscal year ``FY`` is named by
the calendar year in which it *ends* (FY2024 with start 4 = 2023-04-01 .. 2024-03-31), and
``2024Q1`` is its first quarter (2023-04 .. 2023-06).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import PeriodError

_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")

PERIOD_HELP = "use 2024Q3, 2024-07, 2024, a range such as 2023Q3..2024Q3, or all"


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


# Period years: a period's end (the first day after it) must still be a date, and the period
# before it too, so years 0 and 9999 are refused with a PeriodError (not a ValueError).
MIN_YEAR, MAX_YEAR = 1, 9998


def month_start(index: int) -> dt.date:
    if not 1 <= index // 12 <= 9999:
        raise PeriodError(f"The period would reach the year {index // 12}: salesnb handles the years "
                          f"{MIN_YEAR}..{MAX_YEAR}.", hint=PERIOD_HELP)
    return dt.date(index // 12, index % 12 + 1, 1)


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"Period {text!r}: the year {year} is out of range; salesnb handles the years "
                          f"{MIN_YEAR}..{MAX_YEAR}.", hint=PERIOD_HELP)


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """A span of whole months: ``start`` inclusive, ``end`` exclusive (both first-of-month)."""

    label: str
    kind: str  # month | quarter | year | range | all
    start: dt.date
    end: dt.date
    fiscal_year_start: int = 1

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def months(self) -> int:
        return month_index(self.end) - month_index(self.start)

    def month_indexes(self) -> range:
        return range(month_index(self.start), month_index(self.end))

    def month_labels(self) -> list[str]:
        return [month_label(i) for i in self.month_indexes()]

    def shifted(self, months: int, label: str | None = None) -> "Period":
        start = month_start(month_index(self.start) + months)
        end = month_start(month_index(self.end) + months)
        return Period(label or _label_for(self.kind, start, end, self.fiscal_year_start),
                      self.kind if self.kind != "all" else "range", start, end, self.fiscal_year_start)

    def previous(self) -> "Period":
        """The period of the same length immediately before."""
        return self.shifted(-self.months)

    def year_ago(self) -> "Period":
        return self.shifted(-12)

    def trailing_months(self, n: int = 24) -> "Period":
        end_index = month_index(self.end)
        start = month_start(end_index - n)
        return Period(f"trailing {n} months to {month_label(end_index - 1)}", "range", start,
                      self.end, self.fiscal_year_start)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def to_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.last_day.isoformat()}

    def folder_name(self) -> str:
        return safe_folder_name(self.label)


def _fiscal_year_first_month(fy: int, fiscal_year_start: int) -> int:
    """Month index of the first month of fiscal year ``fy``."""
    if fiscal_year_start == 1:
        return fy * 12
    return (fy - 1) * 12 + fiscal_year_start - 1


def _label_for(kind: str, start: dt.date, end: dt.date, fys: int) -> str:
    s, e = month_index(start), month_index(end)
    if kind == "month":
        return month_label(s)
    offset = (s - (fys - 1)) % 12
    fy = (s - offset) // 12 + (0 if fys == 1 else 1)
    if kind == "quarter":
        return f"{fy}Q{offset // 3 + 1}"
    if kind == "year":
        return f"{fy}" if fys == 1 else f"FY{fy}"
    return f"{month_label(s)}..{month_label(e - 1)}"


def _parse_single(text: str, fiscal_year_start: int) -> Period:
    text = text.strip()
    fys = fiscal_year_start
    m = _QUARTER.match(text)
    if m:
        fy, q = int(m.group(1)), int(m.group(2))
        _check_year(text, fy)
        first = _fiscal_year_first_month(fy, fys) + (q - 1) * 3
        return Period(f"{fy}Q{q}", "quarter", month_start(first), month_start(first + 3), fys)
    m = _MONTH.match(text)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        _check_year(text, year)
        if not 1 <= month <= 12:
            raise PeriodError(f"Period {text!r}: month {month} is not 1..12.", hint=PERIOD_HELP)
        first = year * 12 + month - 1
        return Period(month_label(first), "month", month_start(first), month_start(first + 1), fys)
    m = _YEAR.match(text.removeprefix("FY"))
    if m:
        fy = int(m.group(1))
        _check_year(text, fy)
        first = _fiscal_year_first_month(fy, fys)
        label = f"{fy}" if fys == 1 else f"FY{fy}"
        return Period(label, "year", month_start(first), month_start(first + 12), fys)
    raise PeriodError(f"Period {text!r} is not a period salesnb understands.", hint=PERIOD_HELP)


def parse_period(text, fiscal_year_start: int = 1, *, first_date: dt.date | None = None,
                 last_date: dt.date | None = None) -> Period:
    """Parse one period. ``all`` needs the data's first and last date."""
    if text is None:
        raise PeriodError("No period given.", hint=PERIOD_HELP)
    text = str(text).strip()
    if not 1 <= fiscal_year_start <= 12:
        raise PeriodError(f"fiscal_year_start {fiscal_year_start} is not a month 1..12.")
    if text.lower() == "all":
        if first_date is None or last_date is None:
            return Period("all", "all", dt.date(1, 1, 1), dt.date(9999, 1, 1), fiscal_year_start)
        start = month_start(month_index(first_date))
        end = month_start(month_index(last_date) + 1)
        return Period("all", "all", start, end, fiscal_year_start)
    if ".." in text:
        left, _, right = text.partition("..")
        a = _parse_single(left, fiscal_year_start)
        b = _parse_single(right, fiscal_year_start)
        if b.end <= a.start:
            raise PeriodError(f"Period range {text!r} ends before it starts.", hint=PERIOD_HELP)
        return Period(f"{a.label}..{b.label}", "range", a.start, b.end, fiscal_year_start)
    return _parse_single(text, fiscal_year_start)


def expand_range(text: str, fiscal_year_start: int = 1) -> list[Period]:
    """Periods of a batch: ``2023Q3..2024Q3`` → five quarters (the unit of the range's ends)."""
    text = str(text).strip()
    if ".." not in text:
        return [parse_period(text, fiscal_year_start)]
    left, _, right = text.partition("..")
    a = _parse_single(left, fiscal_year_start)
    b = _parse_single(right, fiscal_year_start)
    if a.kind != b.kind:
        raise PeriodError(f"Period range {text!r} mixes a {a.kind} and a {b.kind}.",
                          hint="give both ends in the same unit, e.g. 2023Q3..2024Q3")
    if b.start < a.start:
        raise PeriodError(f"Period range {text!r} ends before it starts.", hint=PERIOD_HELP)
    out, p = [], a
    while p.start <= b.start:
        out.append(p)
        p = p.shifted(a.months)
    if len(out) > 240:
        raise PeriodError(f"Period range {text!r} has {len(out)} periods; 240 at most.")
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_folder_name(text) -> str:
    """A folder name that cannot leave its parent: ``../x`` → ``x``, ``a/b`` → ``a_b``."""
    name = _UNSAFE.sub("_", str(text)).replace("..", "_")
    name = name.strip("._") or "_"
    return name[:100]
