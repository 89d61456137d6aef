"""What counts as a missing value in an engine result, in one place for every metrics module.

A result frame marks a missing value as None, NaN, NaT or ``pd.NA`` depending on the column's
type and the backend; a finding turns every one of them into None (JSON null)."""
from __future__ import annotations

import math

import pandas as pd


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA (anything else, a list or a string included, is a value)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like value: not one missing scalar
        return False


def finite_or_none(value) -> float | None:
    """``value`` as a float, or None when it is missing or not finite."""
    if is_missing(value):
        return None
    v = float(value)
    return v if math.isfinite(v) else None
