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

import datetime as dt

from ..periods import Period, month_index, month_label, month_start
from .breakdowns import breakdown, breakdown_records, matrix
from .missing import is_missing, value_or_none as _none
from .money import money_sum
from .orders import atomic_orders, shared
from .trend import (add_growth_columns, growth_stats, monthly_series, months_frame, quarterly_series, records,
                    volatility_and_anomalies)
from .windows import Window, _any_window, _in, in_window, per_window

KPI_KEYS = ("total", "orders", "units", "aov", "revenue_per_unit", "customers", "revenue_per_customer")


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


# --------------------------------------------------------------------------- breakdowns


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
    tables["revenue_trend"] = trend
    tables["revenue_by_quarter"] = quarterly
    tables["revenue_monthly_all"] = full_monthly
    return out, tables


def _quarter_in(label: str, period: Period) -> bool:
    from ..periods import parse_period
    q = parse_period(label, period.fiscal_year_start)
    return q.start >= period.start and q.end <= period.end
