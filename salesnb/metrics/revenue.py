"""Revenue metrics (SPEC 2.4, SPEC 4 item 2) as Ibis expressions over the canonical table.

Only small results (one row per month, per dimension value) become pandas. Definitions:

- ``revenue``: sum of net line revenue; ``units``: sum of quantity (net).
- ``orders``: distinct order ids whose net revenue *within the window* is positive.
- ``customers``: distinct non-empty customer ids with at least one of those orders.
- ``revenue_per_customer``: revenue of lines that have a customer id / customers.
- ``returns``: ``lines`` with negative revenue and ``value`` = minus their sum.
- Best/worst month, average monthly growth and CMGR use the period's *complete* months only:
  an edge month is partial when the data covers < 90% of its days (SPEC 2.3).
- When the report's period is partial, the previous period and the year-ago period are cut to
  the same span of days (like for like).
"""
from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass

import ibis
import pandas as pd

from ..periods import Period, month_index, month_label, month_start
from .literals import midnight
from .missing import is_missing
from .money import MONEY, money_sum
from .orders import atomic_orders, shared

KPI_KEYS = ("total", "orders", "units", "aov", "revenue_per_unit", "customers", "revenue_per_customer")
ANOMALY_SD = 3.0
STL_MIN_MONTHS = 24
STL_PERIOD = 12
STL_MAX_FLAGGED_SHARE = 0.10  # at most 10% of the fitted months are flagged
STL_SEASONAL = 13  # the seasonal smoother (months); with degree 0 each calendar month's level is a local mean
MISSING_LABEL = "(missing)"


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


def _pct_change(new, old):
    if new is None or old is None or old == 0:
        return None
    return (new - old) / abs(old) * 100.0


def _zero(v) -> float:
    """An engine sum as a float, 0.0 when nothing was summed (NULL / NaN): an empty sum is 0 (SPEC 9.5)."""
    return 0.0 if is_missing(v) else float(v) + 0.0


def _div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# --------------------------------------------------------------------------- KPIs

def kpis(t, window: Window, has_customers: bool, has_quantity: bool, orders=None) -> dict:
    """Headline KPIs of one window (SPEC 2.4); see :func:`kpis_for`."""
    return kpis_for(t, [window], has_customers, has_quantity, orders)[0]


def kpis_for(t, windows: list[Window], has_customers: bool, has_quantity: bool, orders=None) -> list[dict]:
    """Headline KPIs of each window (SPEC 2.4), from one scan of the lines.

    ``orders``: the dataset's order rows when each order is one row
    (:func:`salesnb.metrics.orders.atomic_orders`): orders and customers are counted from them,
    in one scan too; otherwise from the lines, window by window.
    """
    w = t.filter(_any_window(t, windows))
    line_aggs = {}
    for i, win in enumerate(windows):
        c = _in(w.order_date, win)
        neg = c & (w.revenue < 0)
        line_aggs.update({
            f"total_{i}": money_sum(w.revenue, where=c),
            f"lines_{i}": w.count(where=c),
            f"return_lines_{i}": w.count(where=neg),
            f"return_value_{i}": -money_sum(w.revenue, where=neg),
        })
        if has_quantity:
            line_aggs[f"units_{i}"] = w.quantity.sum(where=c)
        if has_customers:
            line_aggs[f"identified_revenue_{i}"] = money_sum(w.revenue, where=c & w.customer_id.notnull())
    row = w.aggregate(**line_aggs).to_pandas().iloc[0].to_dict()
    if orders is not None:
        o = orders.filter(_any_window(orders, windows) & (orders.revenue > 0))
        counts = {}
        for i, win in enumerate(windows):
            c = _in(o.order_date, win)
            counts[f"n_{i}"] = o.count(where=c)
            if has_customers:
                counts[f"customers_{i}"] = o.customer_id.nunique(where=c)
        ord_row = o.aggregate(**counts).to_pandas().iloc[0].to_dict()
    out = []
    for i, win in enumerate(windows):
        if orders is not None:
            n_orders = int(ord_row[f"n_{i}"])
            n_cust = int(ord_row[f"customers_{i}"]) if has_customers else None
        else:
            n_orders, n_cust = _orders_from_lines(in_window(t, win), has_customers)
        lines = int(row[f"lines_{i}"])
        total = float(row[f"total_{i}"] or 0.0) if lines else 0.0
        k = {
            "total": total,
            "orders": n_orders,
            "units": _zero(row.get(f"units_{i}")) if has_quantity else None,
            "lines": lines,
            "returns": {"lines": int(_zero(row[f"return_lines_{i}"])), "value": _zero(row[f"return_value_{i}"])},
        }
        k["aov"] = _div(total, n_orders)
        k["revenue_per_unit"] = _div(total, k["units"]) if has_quantity else None
        if has_customers:
            identified = float(row[f"identified_revenue_{i}"] or 0.0)
            k["customers"] = n_cust
            k["identified_revenue"] = identified
            k["revenue_per_customer"] = _div(identified, n_cust)
        else:
            k["customers"] = None
            k["revenue_per_customer"] = None
        out.append(k)
    return out


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


def _orders_from_lines(w, has_customers: bool) -> tuple[int, int | None]:
    """Orders with a positive net in ``w`` (lines of one window), and their customers."""
    per_order = w.group_by("order_id").aggregate(net=money_sum(w.revenue))
    positive = per_order.filter(per_order.net > 0)
    n_orders = int(positive.count().to_pyarrow().as_py())
    if not has_customers:
        return n_orders, None
    cust = w.semi_join(positive, "order_id").filter(w.customer_id.notnull())
    return n_orders, int(cust.customer_id.nunique().to_pyarrow().as_py())


def kpi_changes(current: dict, previous: dict | None, year_ago: dict | None) -> dict:
    out = {}
    for key in KPI_KEYS:
        cur = current.get(key)
        entry = {}
        for name, other in (("previous", previous), ("year_ago", year_ago)):
            old = other.get(key) if other else None
            entry[f"vs_{name}_abs"] = None if cur is None or old is None else cur - old
            entry[f"vs_{name}_pct"] = _pct_change(cur, old)
        out[key] = entry
    return out


# --------------------------------------------------------------------------- series

def monthly_series(t, orders=None) -> pd.DataFrame:
    """One row per calendar month with rows: revenue, units, orders, lines, returns.

    ``orders``: the dataset's order rows when each order is one row: orders are counted from them.
    """
    month = t.order_date.truncate("M").cast("date").name("month")
    has_q = "quantity" in t.columns
    aggs = {"revenue": money_sum(t.revenue), "lines": t.count(),
            "return_value": -money_sum(t.revenue, where=t.revenue < 0)}
    if has_q:
        aggs["units"] = t.quantity.sum()
    lines = t.group_by(month).aggregate(**aggs)
    if orders is not None:
        o = orders.filter(orders.revenue > 0)
        counts = o.group_by(o.order_date.truncate("M").cast("date").name("month")).aggregate(orders=o.count())
    else:
        per_order = t.group_by([month, t.order_id]).aggregate(net=money_sum(t.revenue))
        counts = per_order.filter(per_order.net > 0).group_by("month").aggregate(orders=ibis._.count())
    joined = lines.left_join(counts, "month").select(lines, counts.orders)
    frame = joined.to_pandas()
    frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%Y-%m")
    frame["orders"] = frame["orders"].fillna(0).astype("int64")
    if not has_q:
        frame["units"] = float("nan")
    return frame.sort_values("month").reset_index(drop=True)


def months_frame(monthly: pd.DataFrame, months: list[str], partial: set[str]) -> pd.DataFrame:
    """The given calendar months with their figures; months without rows have zeros (gaps)."""
    base = pd.DataFrame({"month": months})
    frame = base.merge(monthly, on="month", how="left")
    for col in ("revenue", "orders", "lines", "return_value"):
        frame[col] = frame[col].fillna(0)
    frame["orders"] = frame["orders"].astype("int64")
    frame["partial"] = frame["month"].isin(partial)
    return frame


def growth_stats(frame: pd.DataFrame) -> dict:
    """Best/worst month, average MoM growth and CMGR over the complete months (SPEC 2.4)."""
    complete = frame[~frame["partial"]]
    out = {"best_month": None, "worst_month": None, "avg_monthly_growth_pct": None, "cmgr_pct": None,
           "complete_months": int(len(complete))}
    if len(complete):
        best = complete.loc[complete["revenue"].idxmax()]
        worst = complete.loc[complete["revenue"].idxmin()]
        out["best_month"] = {"month": best["month"], "revenue": float(best["revenue"])}
        out["worst_month"] = {"month": worst["month"], "revenue": float(worst["revenue"])}
    values = complete["revenue"].tolist()
    if len(values) >= 2:
        changes = [(b - a) / abs(a) * 100.0 for a, b in zip(values, values[1:]) if a != 0]
        out["avg_monthly_growth_pct"] = sum(changes) / len(changes) if changes else None
        first, last, n = values[0], values[-1], len(values)
        if first > 0 and last >= 0:
            out["cmgr_pct"] = ((last / first) ** (1.0 / (n - 1)) - 1.0) * 100.0
    return out


def records(frame: pd.DataFrame, with_units: bool) -> list[dict]:
    out = []
    for row in frame.itertuples(index=False):
        item = {"month": row.month, "revenue": float(row.revenue), "orders": int(row.orders),
                "units": (None if not with_units else 0.0 if pd.isna(row.units) else float(row.units)),
                "partial": bool(row.partial)}
        out.append(item)
    return out


def quarterly_series(frame: pd.DataFrame, fiscal_year_start: int) -> pd.DataFrame:
    """Quarters (fiscal) from a monthly frame with QoQ and YoY growth; partial if any month is."""
    if frame.empty:
        return pd.DataFrame(columns=["quarter", "revenue", "orders", "partial", "qoq_pct", "yoy_pct"])
    rows = []
    for m in frame.itertuples(index=False):
        idx = int(m.month[:4]) * 12 + int(m.month[5:7]) - 1
        offset = (idx - (fiscal_year_start - 1)) % 12
        fy = (idx - offset) // 12 + (0 if fiscal_year_start == 1 else 1)
        rows.append((f"{fy}Q{offset // 3 + 1}", idx, m.revenue, m.orders, m.partial))
    q = pd.DataFrame(rows, columns=["quarter", "idx", "revenue", "orders", "partial"])
    g = q.groupby("quarter", sort=False).agg(revenue=("revenue", "sum"), orders=("orders", "sum"),
                                             partial=("partial", "any"), months=("idx", "count"),
                                             first=("idx", "min")).reset_index()
    g["partial"] = g["partial"] | (g["months"] < 3)
    g = g.sort_values("first").reset_index(drop=True)
    by_first = dict(zip(g["first"], g["revenue"]))
    partial_by_first = dict(zip(g["first"], g["partial"]))

    def change(first, back):
        old = by_first.get(first - back)
        if old is None or old == 0 or partial_by_first.get(first - back) or partial_by_first.get(first):
            return None
        return (by_first[first] - old) / abs(old) * 100.0

    g["qoq_pct"] = [change(f, 3) for f in g["first"]]
    g["yoy_pct"] = [change(f, 12) for f in g["first"]]
    return g.drop(columns=["months", "first"])


def add_growth_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Month-over-month and year-over-year % change, skipped where either month is partial."""
    frame = frame.copy()
    rev = dict(zip(frame["month"], frame["revenue"]))
    part = dict(zip(frame["month"], frame["partial"]))

    def prev_label(label, back):
        idx = int(label[:4]) * 12 + int(label[5:7]) - 1 - back
        return month_label(idx)

    def change(label, back):
        old_label = prev_label(label, back)
        old = rev.get(old_label)
        if old is None or old == 0 or part.get(old_label) or part.get(label):
            return None
        return (rev[label] - old) / abs(old) * 100.0

    frame["mom_pct"] = [change(m, 1) for m in frame["month"]]
    frame["yoy_pct"] = [change(m, 12) for m in frame["month"]]
    return frame


def _trailing_complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The run of complete months that ends at the last complete month (partial months end it)."""
    complete = frame["partial"].astype(bool).tolist()
    end = len(complete)
    while end and complete[end - 1]:
        end -= 1
    start = end
    while start and not complete[start - 1]:
        start -= 1
    return frame.iloc[start:end]


def stl_fit(values, period: int = STL_PERIOD):
    """(expected, residual) arrays of one STL decomposition (statsmodels; period 12, seasonal
    smoother 13 months of degree 0); expected = trend + seasonal.

    Not STL's robust iterations: on two to four years of months they drive most residuals to ~0
    (12 of the sample's 36 months came out "anomalous" with a robust SD of $0.00); outliers are
    handled by :func:`stl_outliers` instead. statsmodels is imported here, not at module load: its
    import costs a second or two and only reports with >= 24 complete months need it. LOESS has no
    randomness: the same series gives the same residuals."""
    import numpy as np
    from statsmodels.tsa.seasonal import STL
    y = np.asarray(values, dtype=float)
    fit = STL(y, period=period, seasonal=STL_SEASONAL, seasonal_deg=0, robust=False).fit()
    resid = np.asarray(fit.resid, dtype=float)
    return y - resid, resid


def _robust_sd(resid) -> float:
    import numpy as np
    return float(1.4826 * np.median(np.abs(resid - np.median(resid))))


def stl_outliers(values, threshold: float = ANOMALY_SD, max_share: float = STL_MAX_FLAGGED_SHARE) -> dict:
    """Months that are outliers against trend + seasonality, found one at a time (greedy).

    Fit STL (:func:`stl_fit`); if the largest |residual| of a month not yet flagged exceeds
    ``threshold`` robust standard deviations (1.4826 × the median absolute deviation of the
    residuals of the months not flagged), flag that month, replace its value by its fitted
    trend + seasonal, refit and repeat; stop when no residual exceeds the threshold or when
    ``max_share`` of the months (at least one) are flagged. A replaced value is refitted until
    it stops moving (at most 100 fits, change <= 1e-6 of the mean |value|): one replacement
    keeps part of the spike, since the first fit's seasonal component carries a third to a half
    of it; refitting until it settles removes it, so the same calendar month of the other years
    is not pulled down to "low". Residuals of flagged months are measured against the final
    fit: original value − expected value.

    Returns ``expected`` and ``residual`` (arrays over every month), ``sd`` (the final robust
    SD), ``flagged`` (indices, in the order found) and ``fits`` (STL fits made)."""
    import numpy as np
    y = np.asarray(values, dtype=float)
    n = len(y)
    cap = max(1, int(n * max_share))
    work = y.copy()
    flagged: list[int] = []
    expected, resid = stl_fit(work)
    fits = 1
    scale = max(1.0, float(np.mean(np.abs(y)))) * 1e-6
    while len(flagged) < cap:
        free = np.ones(n, dtype=bool)
        free[flagged] = False
        sd = _robust_sd(resid[free])
        size = np.where(free, np.abs(resid), -1.0)
        i = int(np.argmax(size))          # the first of equal residuals: deterministic
        if sd <= 0 or size[i] <= threshold * sd:
            break
        flagged.append(i)
        for _ in range(100):
            work[flagged] = expected[flagged]
            again, resid = stl_fit(work)
            fits += 1
            moved = float(np.max(np.abs(again[flagged] - expected[flagged])))
            expected = again
            if moved <= scale:
                break
    free = np.ones(n, dtype=bool)
    free[flagged] = False
    return {"expected": expected, "residual": y - expected, "sd": _robust_sd(resid[free]),
            "flagged": flagged, "fits": fits}


def volatility_and_anomalies(trend: pd.DataFrame, history: pd.DataFrame | None = None) -> dict:
    """Coefficient of variation of the trend's complete months; anomalous months judged against
    seasonality (SPEC 9.4).

    ``history``: every month up to the period's end (default: ``trend``). With >= 24 complete
    months in its trailing run of complete months, :func:`stl_outliers` runs on that run; the
    months it flags that are complete months of ``trend`` are anomalous (|residual| > 3 robust
    standard deviations, one at a time, at most 10% of the months). With less history no month
    is judged. When a flagged month's calendar month occurs only twice in the run, the data cannot
    tell whether it is unusual or its twin a year apart is: the anomaly names the twin
    (``ambiguous_with``).
    """
    complete = trend[~trend["partial"]]
    values = complete["revenue"].astype(float)
    out = {"months": int(len(values)), "cv_pct": None, "median": None, "mad": None, "anomalies": [],
           "method": "none", "stl_months": 0, "residual_sd": None, "threshold_sd": ANOMALY_SD,
           "min_months": STL_MIN_MONTHS, "note": None}
    if len(values) >= 3:
        mean = values.mean()
        out["cv_pct"] = float(values.std(ddof=1) / mean * 100.0) if mean else None
        median = float(values.median())
        out["median"] = median
        out["mad"] = float((values - median).abs().median())
    run = _trailing_complete(history if history is not None else trend)
    out["stl_months"] = int(len(run))
    if len(run) < STL_MIN_MONTHS:
        out["note"] = (f"{len(run)} complete months of history (fewer than {STL_MIN_MONTHS}): no month is judged "
                       "anomalous, since a seasonal baseline needs two full years")
        return out
    fit = stl_outliers(run["revenue"].astype(float).tolist())
    sd = fit["sd"]
    months = run["month"].tolist()
    revenue = run["revenue"].astype(float).tolist()
    out.update(method="stl", residual_sd=sd, flagged_months=[months[i] for i in fit["flagged"]],
               max_flagged=max(1, int(len(run) * STL_MAX_FLAGGED_SHARE)),
               note=f"STL (period 12, seasonal smoother 13) on the {len(run)} complete months up to {months[-1]}; "
                    f"anomalous: |residual| > {ANOMALY_SD:g} robust standard deviations, outliers removed one at a "
                    "time and the decomposition refitted")
    judged = set(complete["month"])
    for i in sorted(fit["flagged"]):
        if months[i] not in judged or sd <= 0:
            continue
        r = float(fit["residual"][i])
        z = r / sd
        twins = [j for j in range(i % STL_PERIOD, len(run), STL_PERIOD) if j != i]
        out["anomalies"].append({"month": months[i], "revenue": revenue[i], "robust_z": z,
                                 "direction": "high" if z > 0 else "low",
                                 "expected": float(fit["expected"][i]), "residual": r,
                                 "ambiguous_with": months[twins[0]] if len(twins) == 1 else None})
    return out


# --------------------------------------------------------------------------- breakdowns



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


def _none(v):
    if is_missing(v):
        return None
    return float(v) if isinstance(v, (int, float)) or hasattr(v, "__float__") else v


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


# --------------------------------------------------------------------------- periods & windows

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


# --------------------------------------------------------------------------- findings

def revenue_findings(dataset, period: Period) -> tuple[dict, dict]:
    """The ``revenue`` section of findings.json and its small tables."""
    t = dataset.table
    q = dataset.quality
    has_c, has_q = dataset.has_customers, dataset.has_quantity
    wins = period_windows(period, q)
    current: Window = wins["current"]
    orders = atomic_orders(dataset)
    kpi_windows = [current] + [wins[k]["window"] for k in ("previous", "year_ago") if wins[k]["window"]]
    found = iter(per_window(getattr(dataset, "_shared", None), ("kpis",), kpi_windows,
                            lambda missing: kpis_for(t, missing, has_c, has_q, orders)))
    cur = next(found)
    prev = next(found) if wins["previous"]["window"] else None
    yago = next(found) if wins["year_ago"]["window"] else None

    monthly = shared(dataset, "monthly_series", lambda: monthly_series(t, orders), materialise=False)
    partial = set(q.partial_months)
    by_month = months_frame(monthly, wins["months_in_data"], partial)
    stats = growth_stats(by_month)
    trend_period = period.trailing_months(24)
    first, end, _, _ = data_bounds(q)
    trend_labels = [m for m in trend_period.month_labels()
                    if month_start(int(m[:4]) * 12 + int(m[5:7]) - 1) < end
                    and month_start(int(m[:4]) * 12 + int(m[5:7])) > first]
    trend = add_growth_columns(months_frame(monthly, trend_labels, partial))
    trend["in_period"] = trend["month"].isin(set(period.month_labels()))
    # quarters and growth "as of" the period: nothing after the period's end
    last_index = min(month_index(end - dt.timedelta(days=1)), month_index(period.end) - 1)
    all_months = [month_label(i) for i in range(month_index(first), last_index + 1)]
    full_monthly = add_growth_columns(months_frame(monthly, all_months, partial))
    quarterly = quarterly_series(full_monthly, period.fiscal_year_start)
    vol = volatility_and_anomalies(trend, full_monthly)

    prev_window = wins["previous"]["window"]
    by_dimension, tables = {}, {}
    for dim in dataset.dimensions:
        frame = breakdown(t, dim, current, prev_window, cache=getattr(dataset, "_shared", None))
        by_dimension[dim] = breakdown_records(frame)
        tables[f"revenue_by_{dim}"] = frame
    top_performers = []
    if "sales_rep" in dataset.dimensions:
        for r in by_dimension["sales_rep"]:
            top_performers.append({"sales_rep": r["value"], "revenue": r["revenue"], "share_pct": r["share_pct"],
                                   "orders": r["orders"], "growth_pct": r["growth_pct"],
                                   "avg_deal_size": r["avg_order_value"]})
    if {"region", "segment"} <= set(dataset.dimensions):
        tables["revenue_region_segment"] = matrix(t, "region", "segment", current)

    # the period's MoM / QoQ / YoY: the last complete month of the period vs its predecessor
    period_complete = by_month[~by_month["partial"]]
    growth = {"mom_pct": None, "mom_month": None, "qoq_pct": None, "qoq_quarter": None,
              "yoy_pct": None, "yoy_month": None}
    if len(period_complete):
        last_m = period_complete["month"].iloc[-1]
        row = full_monthly[full_monthly["month"] == last_m].iloc[0]
        growth.update(mom_pct=_none(row["mom_pct"]), mom_month=last_m, yoy_pct=_none(row["yoy_pct"]), yoy_month=last_m)
    complete_q = quarterly[~quarterly["partial"].astype(bool)]
    period_q = [qq for qq in complete_q["quarter"] if _quarter_in(qq, period)]
    if period_q:
        qrow = complete_q[complete_q["quarter"] == period_q[-1]].iloc[0]
        growth.update(qoq_pct=_none(qrow["qoq_pct"]), qoq_quarter=period_q[-1], quarter_yoy_pct=_none(qrow["yoy_pct"]))

    target = dataset.config.target_for(period.label, "revenue")
    targets = None
    if target is not None:
        targets = {"revenue": target, "attainment_pct": cur["total"] / target * 100.0 if target else None,
                   "gap": cur["total"] - target}

    period_dict = period.to_dict()
    period_dict["partial"] = bool(wins["partial"])
    period_dict["data_start"] = current.start.isoformat()
    period_dict["data_end"] = (current.end - dt.timedelta(days=1)).isoformat()
    period_dict["kind"] = period.kind
    period_dict["fiscal_year_start"] = period.fiscal_year_start
    comparison = {
        "like_for_like": bool(wins["partial"]),
        "previous": {k: v for k, v in wins["previous"].items() if k != "window"},
        "year_ago": {k: v for k, v in wins["year_ago"].items() if k != "window"},
    }

    def kpi_dict(k):
        if k is None:
            return None
        return {key: k.get(key) for key in KPI_KEYS} | {"returns": k["returns"]}

    out = {
        "period": period_dict,
        "comparison": comparison,
        **{key: cur.get(key) for key in KPI_KEYS},
        "returns": cur["returns"],
        "identified_revenue": cur.get("identified_revenue"),
        "previous": kpi_dict(prev),
        "year_ago": kpi_dict(yago),
        "change": kpi_changes(cur, prev, yago),
        "targets": targets,
        "by_month": records(by_month, has_q),
        "trend_by_month": records(trend, has_q),
        **{k: stats[k] for k in ("best_month", "worst_month", "avg_monthly_growth_pct", "cmgr_pct")},
        "complete_months": stats["complete_months"],
        "partial_months_excluded": [m for m in by_month["month"][by_month["partial"]]],
        "growth": growth,
        "by_quarter": [{"quarter": r.quarter, "revenue": float(r.revenue), "orders": int(r.orders),
                        "partial": bool(r.partial), "qoq_pct": _none(r.qoq_pct), "yoy_pct": _none(r.yoy_pct)}
                       for r in quarterly.itertuples(index=False)][-8:],
        "by_dimension": by_dimension,
        "top_performers": top_performers,
        "volatility": vol,
        "dimensions": list(dataset.dimensions),
    }
    from .bridge import bridge_findings  # why revenue changed (SPEC 9.1)
    from .leaders import leaders_findings  # who led, quarter by quarter
    out["bridge"], more = bridge_findings(dataset, wins)
    tables.update(more)
    out["leaders"], more = leaders_findings(dataset, period)
    tables.update(more)
    tables["revenue_trend"] = trend
    tables["revenue_by_quarter"] = quarterly
    tables["revenue_monthly_all"] = full_monthly
    return out, tables


def _quarter_in(label: str, period: Period) -> bool:
    from ..periods import parse_period
    q = parse_period(label, period.fiscal_year_start)
    return q.start >= period.start and q.end <= period.end
