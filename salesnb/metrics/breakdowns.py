"""Revenue by dimension value (region, segment, …): the period against the previous one, each
window grouped once per load; and the two-dimension matrix (region × segment)."""
from __future__ import annotations

import math

import ibis
import pandas as pd

from .missing import MISSING_LABEL, is_missing, value_or_none as _none
from .money import MONEY, money_sum
from .windows import Window, _any_window, _in, in_window, per_window


def _dim_values(t, dim: str, windows: list[Window]) -> list[pd.DataFrame]:
    """Revenue and orders per value of ``dim`` in each of ``windows`` (which do not overlap),
    from one scan of the lines."""
    w = t.filter(_any_window(t, windows))
    which = ibis.cases(*((_in(w.order_date, win), i) for i, win in enumerate(windows)), else_=-1)
    w = w.mutate(_w=which)
    key = w[dim].fill_null(MISSING_LABEL).name("value")
    # exact (DECIMAL) net per order and value; the value's revenue is the sum of those nets
    per_order = w.group_by([w._w, key, w.order_id]).aggregate(net=w.revenue.cast(MONEY).sum())
    frame = per_order.group_by(["_w", "value"]).aggregate(
        revenue=per_order.net.sum().cast("float64"), orders=per_order.count(where=per_order.net > 0)).to_pandas()
    frame["orders"] = frame["orders"].fillna(0).astype("int64")
    return [frame[frame["_w"] == i].drop(columns="_w").reset_index(drop=True) for i in range(len(windows))]


def _overlap(a: Window, b: Window) -> bool:
    return a.start < b.end and b.start < a.end


def _dim_values_shared(t, dim: str, windows: list[Window], cache: dict | None) -> list[pd.DataFrame]:
    """:func:`_dim_values`, each window's values kept in ``cache`` (:func:`per_window`)."""
    return per_window(cache, ("dim_values", dim), windows, lambda missing: _dim_values(t, dim, missing))


def breakdown(t, dim: str, current: Window, previous: Window | None, cache: dict | None = None) -> pd.DataFrame:
    """Every value of ``dim``: revenue, share, growth vs previous, contribution to the change.

    ``cache``: a dict that keeps the values per window between calls (see _dim_values_shared)."""
    if previous is not None and not _overlap(current, previous):
        cur, prev = _dim_values_shared(t, dim, [current, previous], cache)
    else:
        cur = _dim_values_shared(t, dim, [current], cache)[0]
        prev = _dim_values_shared(t, dim, [previous], cache)[0] if previous is not None else None
    total = math.fsum(cur["revenue"].tolist())  # exact: row order from the engine varies
    if previous is not None:
        prev = prev.rename(columns={"revenue": "previous_revenue", "orders": "previous_orders"})
        frame = cur.merge(prev, on="value", how="outer")
        prev_total = math.fsum(frame["previous_revenue"].fillna(0).tolist())
    else:
        frame = cur.assign(previous_revenue=float("nan"), previous_orders=float("nan"))
        prev_total = None
    frame["revenue"] = frame["revenue"].fillna(0.0)
    frame["orders"] = frame["orders"].fillna(0).astype("int64")
    if previous is not None:
        frame["previous_orders"] = frame["previous_orders"].fillna(0).astype("int64")
    frame["share_pct"] = frame["revenue"] / total * 100.0 if total else float("nan")

    def growth(row):
        if previous is None or pd.isna(row.previous_revenue) or row.previous_revenue == 0:
            return None
        return (row.revenue - row.previous_revenue) / abs(row.previous_revenue) * 100.0

    frame["growth_pct"] = [growth(r) for r in frame.itertuples(index=False)]
    if previous is not None:
        frame["change"] = frame["revenue"] - frame["previous_revenue"].fillna(0.0)
        frame["contribution_pct_points"] = frame["change"] / abs(prev_total) * 100.0 if prev_total else float("nan")
    else:
        frame["change"] = float("nan")
        frame["contribution_pct_points"] = float("nan")
    frame["avg_order_value"] = [r.revenue / r.orders if r.orders else None for r in frame.itertuples(index=False)]
    frame = frame.sort_values(["revenue", "value"], ascending=[False, True]).reset_index(drop=True)
    return frame


def breakdown_records(frame: pd.DataFrame) -> list[dict]:
    return [{"value": str(r.value), "revenue": float(r.revenue), "share_pct": _none(r.share_pct),
             "growth_pct": _none(r.growth_pct), "previous_revenue": _none(r.previous_revenue),
             "change": _none(r.change), "contribution_pct_points": _none(r.contribution_pct_points),
             "orders": int(r.orders), "avg_order_value": _none(r.avg_order_value),
             "previous_orders": None if is_missing(r.previous_orders) else int(r.previous_orders)}
            for r in frame.itertuples(index=False)]


def matrix(t, rows: str, cols: str, window: Window) -> pd.DataFrame:
    w = in_window(t, window)
    agg = w.group_by([w[rows].fill_null(MISSING_LABEL).name(rows), w[cols].fill_null(MISSING_LABEL).name(cols)]) \
        .aggregate(revenue=money_sum(w.revenue))
    return agg.to_pandas().sort_values([rows, cols]).reset_index(drop=True)
