"""RFM scores and the 11 named segments (SPEC 4 item 3), as Ibis expressions.

Window and customers
--------------------
The RFM window is ``[period.end - rfm_lookback_months, period.end)``; with
``rfm_lookback_months: null`` it is all history up to the period end. An *order* is a distinct
``order_id`` whose net revenue *within the window* (over all its lines) is positive (SPEC 2.4).
A customer is scored when they have at least one such order in the window and a positive net
revenue there (SPEC 5, 9.5). Rows without a customer id are left out. A customer whose lines in
the window are only returns or zero-value lines has no order, and a customer whose returns in the
window outweigh their orders has a net revenue <= 0: neither is scored (nor counted in
``rfm_customers``).

Per customer:

* ``recency_days`` -- days from the date of the last line of their last order in the window to
  the period's last day (``period.end - 1 day``); 0 = bought on the last day.
* ``frequency`` -- the number of their orders in the window.
* ``monetary`` -- their net revenue in the window: every line with their id, returns included
  (so it can be lower than the sum of their orders).

Scores (quintiles)
------------------
Each score is ``ntile(5)`` over all scored customers, plus one, so 1..5:

* R: ordered by ``recency_days`` **descending**, then ``customer_id`` ascending -- 5 = most recent.
* F: ordered by ``frequency`` ascending, then ``customer_id`` -- 5 = most orders.
* M: ordered by ``monetary`` ascending, then ``customer_id`` -- 5 = highest revenue.

Tie rule: customers with equal values are split between adjacent quintiles by ``customer_id``
(text order, also for integer ids: :func:`salesnb.metrics.ids.id_order`), so the quintiles have equal sizes (``ntile``: the first ``n mod 5`` buckets get one
customer more) and every engine gives the same scores. With fewer than five customers only the
scores 1..n occur.

``fm_score = floor((F + M + 1) / 2)`` -- the mean of F and M, halves rounded **up** (F=4, M=5 → 5).

Segments
--------
The named segments come from R and FM through :data:`SEGMENT_GRID`, a partition of the 5 × 5
grid (every (R, FM) pair is in exactly one cell). It is the widely used R × F "RFM segmentation"
map, read with FM in place of F, and its bottom-left "Hibernating" block split into
Hibernating (R = 2) and Lost (R = 1)::

    R \\ FM     1                2               3               4               5
    5   New Customers    Potential Loyalists  Potential Loyalists  Champions        Champions
    4   Promising        Potential Loyalists  Potential Loyalists  Loyal Customers  Loyal Customers
    3   About to Sleep   About to Sleep       Need Attention       Loyal Customers  Loyal Customers
    2   Hibernating      Hibernating          At Risk              At Risk          Can't Lose Them
    1   Lost             Lost                 At Risk              At Risk          Can't Lose Them

"Churn risk" (``at_risk_share_pct``) counts At Risk, Can't Lose Them and About to Sleep.
"""
from __future__ import annotations

import datetime as dt
import math

import ibis
import pandas as pd

from ..periods import Period, month_index, month_start
from .ids import id_order
from .literals import date_literal, midnight
from .missing import is_missing

SEGMENTS = (
    "Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising",
    "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
)

#: (R range, FM range), both inclusive → segment name. Covers 1..5 × 1..5 exactly once.
SEGMENT_GRID: dict[tuple[tuple[int, int], tuple[int, int]], str] = {
    ((5, 5), (4, 5)): "Champions",
    ((3, 4), (4, 5)): "Loyal Customers",
    ((4, 5), (2, 3)): "Potential Loyalists",
    ((5, 5), (1, 1)): "New Customers",
    ((4, 4), (1, 1)): "Promising",
    ((3, 3), (3, 3)): "Need Attention",
    ((3, 3), (1, 2)): "About to Sleep",
    ((1, 2), (3, 4)): "At Risk",
    ((1, 2), (5, 5)): "Can't Lose Them",
    ((2, 2), (1, 2)): "Hibernating",
    ((1, 1), (1, 2)): "Lost",
}

CHURN_RISK_SEGMENTS = ("At Risk", "Can't Lose Them", "About to Sleep")

#: A short description of each segment (for tables and the notebook).
SEGMENT_DESCRIPTIONS = {
    "Champions": "bought recently, buy often and spend the most",
    "Loyal Customers": "buy regularly and spend well",
    "Potential Loyalists": "recent customers with average frequency and spend",
    "New Customers": "bought very recently, once or for little",
    "Promising": "recent buyers who have not spent much yet",
    "Need Attention": "average recency, frequency and spend",
    "About to Sleep": "below-average recency and low frequency and spend",
    "At Risk": "spent well and often, but long ago",
    "Can't Lose Them": "were among the best customers, but have not come back",
    "Hibernating": "last bought long ago, rarely and for little",
    "Lost": "the lowest recency, frequency and spend",
}


def segment_of(r: int, fm: int) -> str:
    """The segment of one (R, FM) pair (both 1..5)."""
    for ((r_lo, r_hi), (fm_lo, fm_hi)), name in SEGMENT_GRID.items():
        if r_lo <= r <= r_hi and fm_lo <= fm <= fm_hi:
            return name
    raise ValueError(f"(R={r}, FM={fm}) is outside 1..5 × 1..5")


def fm_score(f: int, m: int) -> int:
    """``floor((F + M + 1) / 2)``: the mean of F and M with halves rounded up."""
    return (int(f) + int(m) + 1) // 2


def grid_frame() -> pd.DataFrame:
    """The segment map as a 25-row frame (``r_score``, ``fm_score``, ``segment``)."""
    return pd.DataFrame([{"r_score": r, "fm_score": fm, "segment": segment_of(r, fm)}
                         for r in range(5, 0, -1) for fm in range(1, 6)])


# --------------------------------------------------------------------------- windows

def months_before(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` before ``day`` (a first-of-month date)."""
    return month_start(month_index(day) - int(months))


def rfm_window(period: Period, lookback_months: int | None) -> tuple[dt.date | None, dt.date]:
    """``(start, end)`` of the RFM window; ``start`` None = all history."""
    if lookback_months is None:
        return None, period.end
    return months_before(period.end, lookback_months), period.end


from .money import MONEY, money_cumsum, money_sum  # noqa: E402,F401  (re-exported)


def fsum(values) -> float:
    """Exact, order-independent float sum in Python (for small frames fetched from the engine)."""
    return math.fsum(float(v) for v in values if not is_missing(v))


def _cond(ts, start, end):
    cond = ts < midnight(end)
    if start is not None:
        cond = cond & (ts >= midnight(start))
    return cond


SUMMARY_FIELDS = ("orders", "first", "last", "revenue")


def customer_summary(table, windows: dict[str, tuple], orders=None):
    """One row per identified customer with order figures in each named window.

    ``windows`` maps a short name to ``(start, end)`` or ``(start, end, fields)`` (start inclusive
    or None = all history, end exclusive; ``fields`` a subset of :data:`SUMMARY_FIELDS`, default
    all). For each window ``w`` the result has ``{w}_orders`` (distinct orders whose net revenue
    over all their lines within the window is positive, and which have a line of the customer in
    the window), ``{w}_first`` / ``{w}_last`` (earliest / latest timestamp of the customer's lines of
    those orders), and ``{w}_revenue`` (net revenue of all the customer's lines in the window, 0 when
    none). Everything runs in the engine: two grouped scans (per order, per customer × order) and
    one join; the result is still an Ibis expression. With ``orders`` (the dataset's order rows
    when each order is one row, :func:`salesnb.metrics.orders.atomic_orders`) it is one grouped
    scan of those rows, with the same result.
    """
    spec = {}
    for w, value in windows.items():
        s, e, *rest = value
        fields = set(rest[0]) if rest else set(SUMMARY_FIELDS)
        unknown = fields - set(SUMMARY_FIELDS)
        if unknown:
            raise ValueError(f"unknown summary fields {sorted(unknown)} for window {w!r}")
        if fields & {"first", "last"}:
            fields.add("orders")          # first/last are over the window's orders
        spec[w] = (s, e, fields)
    if orders is not None:
        return _customer_summary_from_orders(orders, spec)
    hi = max(e for _, e, _ in spec.values())
    starts = [s for s, _, _ in spec.values()]
    lo = None if any(s is None for s in starts) else min(starts)
    t = table.filter(_cond(table.order_date, lo, hi))
    order_aggs = {f"_net_{w}": money_sum(t.revenue, where=_cond(t.order_date, s, e))
                  for w, (s, e, fields) in spec.items() if "orders" in fields}
    ident = t.filter(t.customer_id.notnull())
    aggs = {}
    for w, (s, e, fields) in spec.items():
        c = _cond(ident.order_date, s, e)
        aggs[f"_rev_{w}"] = money_sum(ident.revenue, where=c)   # NULL = no line in the window
        if "first" in fields:
            aggs[f"_min_{w}"] = ident.order_date.min(where=c)
        if "last" in fields:
            aggs[f"_max_{w}"] = ident.order_date.max(where=c)
    co = ident.group_by(["customer_id", "order_id"]).aggregate(**aggs)
    if order_aggs:
        orders = t.group_by("order_id").aggregate(**order_aggs)
        j = co.inner_join(orders, "order_id")
    else:
        j = co
    out = {}
    for w, (s, e, fields) in spec.items():
        if "orders" in fields:
            positive = (j[f"_net_{w}"] > 0) & j[f"_rev_{w}"].notnull()
            out[f"{w}_orders"] = j.order_id.count(where=positive)
            if "first" in fields:
                out[f"{w}_first"] = j[f"_min_{w}"].min(where=positive)
            if "last" in fields:
                out[f"{w}_last"] = j[f"_max_{w}"].max(where=positive)
        if "revenue" in fields:
            out[f"{w}_revenue"] = money_sum(j[f"_rev_{w}"]).fill_null(0.0)
    return j.group_by("customer_id").aggregate(**out)


def _customer_summary_from_orders(orders, spec: dict):
    """:func:`customer_summary` from order rows that are whole orders (one customer, one day)."""
    ident = orders.filter(orders.customer_id.notnull())
    out = {}
    for w, (s, e, fields) in spec.items():
        c = _cond(ident.order_date, s, e)
        positive = c & (ident.revenue > 0)
        if "orders" in fields:
            out[f"{w}_orders"] = ident.count(where=positive)
            if "first" in fields:
                out[f"{w}_first"] = ident.order_date.min(where=positive)
            if "last" in fields:
                out[f"{w}_last"] = ident.last_date.max(where=positive)
        if "revenue" in fields:
            out[f"{w}_revenue"] = money_sum(ident.revenue, where=c).fill_null(0.0)
    return ident.group_by("customer_id").aggregate(**out)


# --------------------------------------------------------------------------- scoring

def segment_expr(r, fm):
    """An Ibis CASE expression mapping score columns to the segment name."""
    branches = [((r >= r_lo) & (r <= r_hi) & (fm >= fm_lo) & (fm <= fm_hi), name)
                for ((r_lo, r_hi), (fm_lo, fm_hi)), name in SEGMENT_GRID.items()]
    return ibis.cases(*branches, else_=None)


def score(summary, window: str, as_of: dt.date, keep: tuple[str, ...] = ()):
    """Score the customers of ``summary`` (from :func:`customer_summary`) on window ``window``.

    Keeps customers with at least one order and a positive net revenue in the window; adds ``frequency``, ``monetary``,
    ``last_order``, ``recency_days`` (to ``as_of``, the period's last day), ``r_score``,
    ``f_score``, ``m_score``, ``fm_score`` and ``segment``. ``keep`` names extra summary columns
    to carry along.
    """
    s = summary.filter((summary[f"{window}_orders"] > 0) & (summary[f"{window}_revenue"] > 0))
    s = s.select(
        "customer_id", *keep,
        frequency=s[f"{window}_orders"],
        monetary=s[f"{window}_revenue"],
        first_order=s[f"{window}_first"],
        last_order=s[f"{window}_last"],
        recency_days=date_literal(as_of).delta(s[f"{window}_last"].date(), unit="day"),
    )
    s = s.mutate(
        r_score=ibis.ntile(5).over(order_by=[s.recency_days.desc(), id_order(s.customer_id).asc()]) + 1,
        f_score=ibis.ntile(5).over(order_by=[s.frequency.asc(), id_order(s.customer_id).asc()]) + 1,
        m_score=ibis.ntile(5).over(order_by=[s.monetary.asc(), id_order(s.customer_id).asc()]) + 1,
    )
    s = s.mutate(fm_score=(s.f_score + s.m_score + 1) // 2)
    return s.mutate(segment=segment_expr(s.r_score, s.fm_score))


def rfm_scores(table, period: Period, lookback_months: int | None = None):
    """Scored RFM customers of ``period`` (an Ibis expression; see the module docstring)."""
    start, end = rfm_window(period, lookback_months)
    summary = customer_summary(table, {"w": (start, end)})
    return score(summary, "w", period.last_day)


# --------------------------------------------------------------------------- summaries

def _num(value, default=0.0):
    return default if is_missing(value) else value


def segment_summary(scored) -> pd.DataFrame:
    """The 11 segments in the fixed order of :data:`SEGMENTS` (zero rows included).

    Columns: ``segment``, ``customers``, ``share_pct`` (of scored customers), ``revenue``
    (window net revenue), ``revenue_share_pct``, ``revenue_per_customer``, ``avg_recency_days``,
    ``avg_frequency``, ``avg_monetary``, ``r_range``, ``fm_range``, ``description``.
    """
    agg = scored.group_by("segment").aggregate(
        customers=scored.count(), revenue=money_sum(scored.monetary),
        recency_sum=scored.recency_days.sum(), frequency_sum=scored.frequency.sum(),
    ).to_pandas()
    by = {row["segment"]: row for row in agg.to_dict("records")}
    total_customers = int(sum(int(r["customers"]) for r in by.values()))
    total_revenue = fsum(r["revenue"] for r in by.values())
    ranges = {name: key for key, name in SEGMENT_GRID.items()}
    rows = []
    for name in SEGMENTS:
        r = by.get(name)
        n = int(r["customers"]) if r is not None else 0
        revenue = float(_num(r["revenue"])) if r is not None else 0.0
        (r_lo, r_hi), (fm_lo, fm_hi) = ranges[name]
        rows.append({
            "segment": name,
            "customers": n,
            "share_pct": 100.0 * n / total_customers if total_customers else None,
            "revenue": revenue,
            "revenue_share_pct": 100.0 * revenue / total_revenue if total_revenue > 0 else None,
            "revenue_per_customer": revenue / n if n else None,
            "avg_recency_days": float(_num(r["recency_sum"])) / n if n else None,
            "avg_frequency": float(_num(r["frequency_sum"])) / n if n else None,
            "r_range": f"{r_lo}" if r_lo == r_hi else f"{r_lo}-{r_hi}",
            "fm_range": f"{fm_lo}" if fm_lo == fm_hi else f"{fm_lo}-{fm_hi}",
            "description": SEGMENT_DESCRIPTIONS[name],
        })
    return pd.DataFrame(rows)


def rf_heatmap(scored) -> pd.DataFrame:
    """Customer counts (and average monetary) for every R × F score pair, 25 rows."""
    agg = scored.group_by(["r_score", "f_score"]).aggregate(
        customers=scored.count(), revenue=money_sum(scored.monetary)).to_pandas()
    cells = {(int(r.r_score), int(r.f_score)): r for r in agg.itertuples()}
    rows = []
    for r in range(1, 6):
        for f in range(1, 6):
            cell = cells.get((r, f))
            n = int(cell.customers) if cell is not None else 0
            revenue = float(_num(cell.revenue)) if cell is not None else 0.0
            rows.append({"r_score": r, "f_score": f, "customers": n, "revenue": revenue,
                         "avg_monetary": revenue / n if n else None})
    return pd.DataFrame(rows)


def top_k(n: int, share: float) -> int:
    """Number of customers in the top ``share`` of ``n``: ``ceil(share × n)``, at least 1."""
    if n <= 0:
        return 0
    return max(1, math.ceil(share * n - 1e-9))
