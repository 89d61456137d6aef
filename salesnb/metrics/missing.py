"""What counts as a missing value in an engine result, in one place for every metrics module.

A result frame marks a missing value as None, NaN, NaT or ``pd.NA`` depending on the column's
type and the backend; a finding turns every one of them into None (JSON null)."""
from __future__ import annotations

import math

import pandas as pd

MISSING_LABEL = "(missing)"   # the value shown for a missing dimension value or customer id


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA (anything else, a list or a string included, is a value)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like value: not one missing scalar
        return False


def value_or_none(value):
    """None when ``value`` is missing, else the value (a number as a float)."""
    if is_missing(value):
        return None
    return float(value) if isinstance(value, (int, float)) or hasattr(value, "__float__") else value


def finite_or_none(value) -> float | None:
    """``value`` as a float, or None when it is missing or not finite."""
    if is_missing(value):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def whole(value) -> int:
    """``value`` as an int, 0 when it is missing."""
    v = finite_or_none(value)
    return int(v) if v is not None else 0


def pct(part, whole_) -> float | None:
    """``part`` / ``whole_`` × 100, None when either is missing or ``whole_`` is 0."""
    part, whole_ = finite_or_none(part), finite_or_none(whole_)
    if part is None or not whole_:
        return None
    return 100.0 * part / whole_


def ratio(a, b) -> float | None:
    """``a`` / ``b``, None when either is missing or ``b`` is 0."""
    a, b = finite_or_none(a), finite_or_none(b)
    if a is None or not b:
        return None
    return a / b


def one_row(expr) -> dict:
    """The single row of a one-row Ibis aggregate as a dict ({} when it has none)."""
    frame = expr.to_pandas()
    return frame.iloc[0].to_dict() if len(frame) else {}
