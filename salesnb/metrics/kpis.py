"""Headline KPIs of a window (SPEC 2.4): revenue, orders, units, AOV, customers and returns, for
several windows from one scan of the lines; and their changes against the comparison windows."""
from __future__ import annotations

from .missing import is_missing
from .money import money_sum
from .windows import Window, _any_window, _in, in_window

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
