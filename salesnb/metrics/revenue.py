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
from .kpis import KPI_KEYS, kpi_changes, kpis_for
from .missing import value_or_none as _none
from .orders import atomic_orders, shared
from .trend import (add_growth_columns, growth_stats, monthly_series, months_frame, quarterly_series, records,
                    volatility_and_anomalies)
from .windows import Window, data_bounds, per_window, period_windows


# --------------------------------------------------------------------------- series


# --------------------------------------------------------------------------- breakdowns


# --------------------------------------------------------------------------- periods & windows


# --------------------------------------------------------------------------- findings

# one function (~120 lines): it assembles the section in its documented key order (findings stay byte-identical)
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
    if dataset.config.has_profit:  # profit and margin (SPEC 9.1): the key only when mapped
        from .profit import profit_findings
        out["profit"], more = profit_findings(dataset, wins)
        tables.update(more)
    tables["revenue_trend"] = trend
    tables["revenue_by_quarter"] = quarterly
    tables["revenue_monthly_all"] = full_monthly
    return out, tables


def _quarter_in(label: str, period: Period) -> bool:
    from ..periods import parse_period
    q = parse_period(label, period.fiscal_year_start)
    return q.start >= period.start and q.end <= period.end
