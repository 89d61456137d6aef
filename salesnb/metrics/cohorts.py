"""Monthly acquisition cohorts and retention (SPEC 4 item 3), as Ibis expressions.

Definitions (identified customers only; history up to the period end):

* An *order* is a distinct ``order_id`` whose net revenue over all its lines up to the period end
  is positive (SPEC 2.4). A customer is *active* in a calendar month when a line of one of their
  orders falls in that month.
* A customer's *cohort* is the month of their first active month (their first order). Customers
  without any order (only returns) have no cohort.
* ``retention_pct`` of cohort ``c`` at month offset ``k`` (k = 0 is the acquisition month, so it is
  100%) = customers of ``c`` active in month ``c + k`` / cohort size × 100.
* ``revenue_retention_pct`` = the cohort's net revenue in month ``c + k`` (all their lines, returns
  included) / its net revenue in month ``c`` × 100 (null when month-0 revenue is not positive).
* Only cells whose calendar month is at or before the period's last month are listed (a cell
  that cannot be observed yet is absent, not zero); the last ``max_cohorts`` cohorts up to the
  period end, offsets 0..``max_offset``. ``partial`` marks cells in a partial month (SPEC 2.3).

Retention summary (:func:`retention_summary`): pooled (cohort-size weighted) month-1 and month-3
retention of the last 12 cohorts whose month is observable and complete. The trend compares the
pooled month-1 retention of the most recent half of those cohorts (up to 6) with the earlier half.
The cohort of the data's first month is left out of the summary: it holds every customer who
already bought before the data starts (left-censored), so its retention is not comparable.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..periods import month_index, month_label
from .literals import midnight
from .rfm import money_sum

MAX_COHORTS = 24
MAX_OFFSET = 23


def customer_months(table, end: dt.date, orders=None):
    """Per identified customer × month index: ``active`` (has an order line) and ``revenue``.

    ``orders``: the dataset's order rows when each order is one row
    (:func:`salesnb.metrics.orders.atomic_orders`); the same result from one grouped scan.
    """
    if orders is not None:
        o = orders.filter(orders.customer_id.notnull())
        if end is not None:     # None: all history (to share between periods)
            o = o.filter(o.order_date < midnight(end))
        o = o.mutate(month=o.order_date.year() * 12 + o.order_date.month() - 1)
        return o.group_by(["customer_id", "month"]).aggregate(active=(o.revenue > 0).any(),
                                                              revenue=money_sum(o.revenue))
    t = table.filter(table.order_date < midnight(end))
    orders = t.group_by("order_id").aggregate(_net=money_sum(t.revenue))
    ident = t.filter(t.customer_id.notnull())
    ident = ident.mutate(month=ident.order_date.year() * 12 + ident.order_date.month() - 1)
    cm = ident.group_by(["customer_id", "order_id", "month"]).aggregate(_rev=money_sum(ident.revenue))
    j = cm.inner_join(orders, "order_id")
    return j.group_by(["customer_id", "month"]).aggregate(
        active=(j._net > 0).any(), revenue=money_sum(j._rev))


def cohort_cells(table, end: dt.date, *, max_cohorts: int = MAX_COHORTS, max_offset: int = MAX_OFFSET,
                 partial_months=(), orders=None, months=None) -> pd.DataFrame:
    """The cohort × month-offset cells (long format, one row per observable cell).

    Columns: ``cohort`` ('YYYY-MM'), ``cohort_index`` (month index), ``month_offset``, ``month``
    ('YYYY-MM' of the cell), ``cohort_customers``, ``active_customers``, ``retention_pct``,
    ``revenue``, ``revenue_retention_pct``, ``partial``. ``months``: :func:`customer_months` of
    all history from order rows, to reuse (valid when ``end`` is the first of a month).
    """
    last_index = month_index(end) - 1
    first_cohort = last_index - max_cohorts + 1
    if months is not None and end.day == 1:
        cm = months.filter(months.month <= last_index)
    else:
        cm = customer_months(table, end, orders)
    first = cm.filter(cm.active).group_by("customer_id").aggregate(cohort=cm.month.min())
    first = first.filter(first.cohort >= first_cohort)
    x = cm.inner_join(first, "customer_id")
    x = x.mutate(month_offset=x.month - x.cohort)
    x = x.filter((x.month_offset >= 0) & (x.month_offset <= max_offset))
    agg = x.group_by(["cohort", "month_offset"]).aggregate(
        active_customers=x.customer_id.count(where=x.active), revenue=money_sum(x.revenue)).to_pandas()
    columns = ["cohort", "cohort_index", "month_offset", "month", "cohort_customers", "active_customers",
               "retention_pct", "revenue", "revenue_retention_pct", "partial"]
    if agg.empty:
        return pd.DataFrame(columns=columns)
    cells = {(int(r.cohort), int(r.month_offset)): r for r in agg.itertuples()}
    partial = set(partial_months)
    rows = []
    for c in sorted({c for c, _ in cells}):
        base = cells.get((c, 0))
        size = int(base.active_customers) if base is not None else 0
        rev0 = float(base.revenue) if base is not None and base.revenue is not None else 0.0
        for k in range(0, min(max_offset, last_index - c) + 1):
            cell = cells.get((c, k))
            active = int(cell.active_customers) if cell is not None else 0
            revenue = float(cell.revenue) if cell is not None and pd.notna(cell.revenue) else 0.0
            rows.append({
                "cohort": month_label(c), "cohort_index": c, "month_offset": k, "month": month_label(c + k),
                "cohort_customers": size, "active_customers": active,
                "retention_pct": 100.0 * active / size if size else None,
                "revenue": revenue,
                "revenue_retention_pct": 100.0 * revenue / rev0 if rev0 > 0 else None,
                "partial": month_label(c + k) in partial,
            })
    return pd.DataFrame(rows, columns=columns)


def _pooled(cells: pd.DataFrame, offset: int, cohorts) -> float | None:
    sel = cells[(cells.month_offset == offset) & cells.cohort.isin(cohorts)]
    size = sel.cohort_customers.sum()
    return float(100.0 * sel.active_customers.sum() / size) if size else None


def retention_summary(cells: pd.DataFrame, *, first_data_month: str | None = None, n_cohorts: int = 12) -> dict:
    """Average month-1 / month-3 retention of the last ``n_cohorts`` cohorts and the trend."""
    out = {"cohorts": 0, "month1_avg_pct": None, "month3_avg_pct": None,
           "retention_trend": {"metric": "month1_retention_pct", "recent_cohorts": [], "earlier_cohorts": [],
                               "recent_avg_pct": None, "earlier_avg_pct": None, "change_pts": None,
                               "worse": None, "cohort_customers": {}, "min_cohort_customers": None},
           "method": "pooled (cohort-size weighted) shares; cells in partial months and the cohort of the "
                     "data's first month (left-censored) are left out"}
    if cells is None or cells.empty:
        return out
    usable = cells[~cells.partial.astype(bool)]
    if first_data_month is not None:
        usable = usable[usable.cohort != first_data_month]
    # a cohort is usable when its acquisition month is complete
    base = usable[usable.month_offset == 0]
    cohorts = sorted(base.cohort.unique())
    out["cohorts"] = len(cohorts)
    summary = {}
    for k in (1, 3):
        have = sorted(usable[usable.month_offset == k].cohort.unique())
        have = [c for c in have if c in set(cohorts)][-n_cohorts:]
        summary[k] = have
        out[f"month{k}_avg_pct"] = _pooled(usable, k, have)
        out[f"month{k}_cohorts"] = len(have)
    recent_pool = summary[1]
    if len(recent_pool) >= 2:
        half = len(recent_pool) // 2
        earlier, recent = recent_pool[:half], recent_pool[-half:]
        e, r = _pooled(usable, 1, earlier), _pooled(usable, 1, recent)
        trend = out["retention_trend"]
        sizes = base.drop_duplicates("cohort").set_index("cohort")["cohort_customers"]
        used = {c: int(sizes[c]) for c in earlier + recent}
        trend.update({"recent_cohorts": recent, "earlier_cohorts": earlier, "recent_avg_pct": r,
                      "earlier_avg_pct": e, "cohort_customers": used,
                      "min_cohort_customers": min(used.values()) if used else None})
        if e is not None and r is not None:
            trend["change_pts"] = r - e
            trend["worse"] = bool(r < e)
    return out


def retention_matrix(cells: pd.DataFrame, value: str = "retention_pct") -> pd.DataFrame:
    """Pivot of the long cells: cohorts as rows, month offsets as columns."""
    if cells is None or cells.empty:
        return pd.DataFrame()
    return cells.pivot(index="cohort", columns="month_offset", values=value).sort_index()
