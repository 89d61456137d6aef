"""Date literals for engine expressions, in one place for every metrics module.

Periods and windows start and end at midnight (a window is ``[start, end)`` of whole days), so a
day boundary compared with ``order_date`` is the timestamp of that day at 00:00.
"""
from __future__ import annotations

import datetime as dt

import ibis


def midnight(day: dt.date):
    """``day`` at 00:00 as a timestamp literal."""
    return ibis.timestamp(dt.datetime(day.year, day.month, day.day))


def date_literal(day: dt.date):
    """``day`` as a date literal."""
    return ibis.date(day.year, day.month, day.day)
