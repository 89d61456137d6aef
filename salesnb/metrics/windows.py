"""The windows metrics are computed over: half-open spans of days, the Ibis conditions that select
them, and a per-load cache of results by window (a batch's consecutive periods share windows)."""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from ..periods import Period, month_index, month_label, month_start
from .literals import midnight


@dataclass(frozen=True)
class Window:
    """A half-open span of days ``[start, end)`` the metrics are computed over."""

    label: str
    start: dt.date
    end: dt.date

    def to_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat(),
                "end": (self.end - dt.timedelta(days=1)).isoformat()}


def _in(ts, window: Window):
    return (ts >= midnight(window.start)) & (ts < midnight(window.end))


def _any_window(t, windows: list[Window]):
    cond = _in(t.order_date, windows[0])
    for win in windows[1:]:
        cond = cond | _in(t.order_date, win)
    return cond


def in_window(t, window: Window):
    return t.filter(_in(t.order_date, window))


def per_window(cache: dict | None, kind: tuple, windows: list[Window], compute) -> list:
    """``compute(windows)`` (one result per window), keeping each window's result in ``cache``
    (the dataset's per-load cache) under ``(*kind, start, end)`` and computing only the windows
    it lacks: in a batch of consecutive quarters a quarter's previous window is the quarter
    before's current one, and a year's quarters are the next year's year-ago windows. Results
    are handed out as copies, so a report that changes its own leaves the cache as it was."""
    if cache is None:
        return compute(windows)
    key = lambda w: (*kind, w.start, w.end)  # noqa: E731
    missing = [w for w in windows if key(w) not in cache]
    if missing:
        for w, found in zip(missing, compute(missing)):
            cache[key(w)] = found
    return [copy.deepcopy(cache[key(w)]) for w in windows]


def data_bounds(quality) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first day, day after last, start of first complete month-ish coverage, end of coverage)."""
    first = dt.date.fromisoformat(quality.first_date)
    last = dt.date.fromisoformat(quality.last_date)
    end = last + dt.timedelta(days=1)
    partial = set(quality.partial_months)
    # the span a comparison window must lie in: whole months unless the edge month is partial
    cover_start = first if month_label(month_index(first)) in partial else month_start(month_index(first))
    last_month_end = month_start(month_index(last) + 1)
    cover_end = end if month_label(month_index(last)) in partial else last_month_end
    return first, end, cover_start, cover_end


def period_windows(period: Period, quality) -> dict:
    """The current, previous and year-ago windows, like for like when the period is partial."""
    first, end, cover_start, cover_end = data_bounds(quality)
    partial_months = set(quality.partial_months)
    months_in_data = [m for m in period.month_labels()
                      if month_start(int(m[:4]) * 12 + int(m[5:7]) - 1) < end
                      and month_start(int(m[:4]) * 12 + int(m[5:7])) > first]
    partial = (period.start < cover_start or period.end > cover_end
               or any(m in partial_months for m in months_in_data))
    cur_start = max(period.start, first)
    cur_end = min(period.end, end)
    current = Window(period.label, cur_start, cur_end)
    offset_start = (cur_start - period.start).days
    offset_end = (cur_end - period.start).days

    def compare(p: Period) -> dict:
        if partial:
            w = Window(p.label, p.start + dt.timedelta(days=offset_start), p.start + dt.timedelta(days=offset_end))
        else:
            w = Window(p.label, p.start, p.end)
        available = w.start >= cover_start and w.end <= cover_end and w.end > w.start
        return {"window": w if available else None, "label": p.label, "available": available,
                "start": w.start.isoformat(), "end": (w.end - dt.timedelta(days=1)).isoformat()}

    if period.kind == "all":
        prev = {"window": None, "label": None, "available": False, "start": None, "end": None}
        yago = dict(prev)
    else:
        prev = compare(period.previous())
        yago = compare(period.year_ago())
    return {"current": current, "previous": prev, "year_ago": yago, "partial": partial,
            "months_in_data": months_in_data}
