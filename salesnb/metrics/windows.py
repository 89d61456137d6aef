"""The windows metrics are computed over: half-open spans of days, the Ibis conditions that select
them, and a per-load cache of results by window (a batch's consecutive periods share windows)."""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

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
