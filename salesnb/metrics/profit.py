"""Profit and margin (SPEC 9.1 last bullet, findings ``revenue.profit``), when ``profit`` or
``cost`` is mapped.

A line's profit is its ``profit`` value, else revenue − ``cost`` (both cast to DECIMAL(38, 6)
first, so the difference is exact). Margin % = profit / revenue × 100, where the revenue is that of
the lines that have a profit (a line whose profit or cost does not read counts in
``lines_without_profit`` and in no profit figure). Every sum is exact (:mod:`salesnb.metrics.money`)
and every part comes from one aggregate query:

- the period, the previous period and the year ago (the windows of the KPI comparisons, like for
  like when the period is partial): profit, revenue, margin % and the changes;
- per value of each dimension: profit and margin % in the period and the previous period;
- the profit bridge: the customer bridge and price-volume-mix of :mod:`salesnb.metrics.bridge`
  applied to profit (same functions, ``amount="profit"``): the parts add up to the profit change;
- loss-making items (the finest dimension: product, else category, else the first mapped):
  those whose profit in the period is negative, largest loss first;
- discount bands (``discount`` mapped): no discount (≤ 0), (0, 10%], (10, 20%], (20, 30%],
  over 30%, and ``(missing)`` for lines without one; the band from which every higher band loses
  money is ``negative_from``. The discount is a rate (0.2 = 20%); a column with any value above 1
  holds percentages (20 = 20%) and is divided by 100 (``discount.scale``);
- when there are both: ``margin_overlap``, the lines of loss-making items in the losing discount
  bands (both margin rules count them, :mod:`salesnb.recommend.margin`): their loss, lines, orders.
"""
from __future__ import annotations

import math

import ibis
import pandas as pd

from .bridge import (COMPARISONS, CUSTOMER_PARTS, PVM_PARTS, _f, _largest, customer_bridges, item_aggregate,
                     pvm_bridge, pvm_dimension, top_items)
from .missing import MISSING_LABEL, finite_or_none, pct, whole
from .money import MONEY, money_sum
from .windows import _any_window, _in

#: discount bands: (label, lower bound exclusive, upper bound inclusive), as rates; the first is "no discount"
DISCOUNT_BANDS = (("0%", None, 0.0), ("0-10%", 0.0, 0.10), ("10-20%", 0.10, 0.20), ("20-30%", 0.20, 0.30),
                  (">30%", 0.30, None))
LOSS_ITEMS_SHOWN = 10
#: the dimensions searched for loss-making items, finest first
LOSS_DIMENSIONS = ("product", "category", "sales_rep", "channel", "segment", "region")


def profit_lines(dataset):
    """The dataset's lines with a ``profit`` column (``profit`` mapped, else revenue − cost)."""
    t = dataset.table
    if "profit" in t.columns:
        return t
    return t.mutate(profit=t.revenue.cast(MONEY) - t.cost.cast(MONEY))


def _windows(wins: dict) -> list[tuple[str, object]]:
    """[(name, window)]: the current one, then each available comparison."""
    out = [("current", wins["current"])]
    out += [(name, wins[name]["window"]) for name in COMPARISONS if wins[name]["window"] is not None]
    return out


def _figures(revenue, base, profit, lines_without) -> dict:
    return {"profit": finite_or_none(profit) or 0.0, "revenue": finite_or_none(revenue) or 0.0,
            "margin_pct": pct(profit, base), "lines_without_profit": whole(lines_without)}


def _window_sums(w, windows: list, extra) -> dict:
    """The aggregates of each window ``i``: ``r{i}`` revenue, ``b{i}`` the revenue of the lines
    with a profit (the margin's base), ``p{i}`` profit, and what ``extra(i, in_window,
    has_profit)`` adds."""
    has = w.profit.notnull()
    aggs = {}
    for i, (_, win) in enumerate(windows):
        c = _in(w.order_date, win)
        aggs.update({f"r{i}": money_sum(w.revenue, where=c), f"b{i}": money_sum(w.revenue, where=c & has),
                     f"p{i}": money_sum(w.profit, where=c), **extra(i, c, has)})
    return aggs


def totals(t, windows: list) -> list[dict]:
    """Profit, revenue, margin % and the lines without a profit, per window (one query)."""
    w = t.filter(_any_window(t, [win for _, win in windows]))
    aggs = _window_sums(w, windows, lambda i, c, has: {f"x{i}": w.count(where=c & ~has)})
    row = w.aggregate(**aggs).to_pandas().iloc[0].to_dict()
    return [_figures(row[f"r{i}"], row[f"b{i}"], row[f"p{i}"], row[f"x{i}"]) for i in range(len(windows))]


def _change(cur: dict, old: dict | None) -> dict | None:
    if old is None:
        return None
    diff = round(cur["profit"] - old["profit"], 6)  # both sums are exact to 6 decimals
    return {"profit": diff, "profit_pct": pct(diff, abs(old["profit"])),
            "margin_pct_points": (None if cur["margin_pct"] is None or old["margin_pct"] is None
                                  else cur["margin_pct"] - old["margin_pct"])}


def by_value(t, dim: str, windows: list) -> pd.DataFrame:
    """Per value of ``dim``: revenue, profit, margin % and orders (distinct order ids with a line)
    in the period, and profit and margin % in the previous period when there is one (one query)."""
    wanted = windows[:1] + [(n, w) for n, w in windows if n == "previous"]
    w = t.filter(_any_window(t, [win for _, win in wanted]))
    aggs = _window_sums(w, wanted, lambda i, c, has: {f"o{i}": w.order_id.nunique(where=c)})
    key = w[dim].cast("string").fill_null(MISSING_LABEL).name("value")
    frame = w.group_by(key).aggregate(**aggs).to_pandas()
    out = pd.DataFrame({"value": frame["value"].astype(str), "revenue": frame["r0"].fillna(0.0),
                        "profit": frame["p0"].fillna(0.0), "orders": frame["o0"].fillna(0).astype("int64")})
    out["margin_pct"] = [pct(p, b) for p, b in zip(frame["p0"], frame["b0"])]
    if len(wanted) > 1:
        out["previous_profit"] = frame["p1"].fillna(0.0)
        out["previous_margin_pct"] = [pct(p, b) for p, b in zip(frame["p1"], frame["b1"])]
        out["profit_change"] = out["profit"] - out["previous_profit"]
        out["previous_orders"] = frame["o1"].fillna(0).astype("int64")
        # a value with lines in the previous period only has no line now
        out = out[(frame["o0"].fillna(0) > 0).to_numpy()]
    return out.sort_values(["profit", "value"], ascending=[False, True]).reset_index(drop=True)


def _records(frame: pd.DataFrame) -> list[dict]:
    keep = [c for c in ("value", "revenue", "profit", "margin_pct", "orders", "previous_profit",
                        "previous_margin_pct", "profit_change", "previous_orders") if c in frame.columns]
    out = []
    for row in frame[keep].to_dict("records"):
        rec = {"value": str(row["value"])}
        for k in keep[1:]:
            rec[k] = whole(row[k]) if k.endswith("orders") else finite_or_none(row[k])
        out.append(rec)
    return out


def loss_makers(t, dim: str, window) -> dict:
    """The values of ``dim`` that lost money in ``window`` (one query: per-item profit as a window
    sum over the lines, so the orders holding a loss-making item are counted exactly too)."""
    w = t.filter(_in(t.order_date, window)).mutate(
        _item=t[dim].cast("string").fill_null(MISSING_LABEL))
    w = w.mutate(_item_profit=w.profit.cast(MONEY).sum().over(group_by=w._item))
    loss = w.filter(w._item_profit < 0)
    per = loss.group_by(loss._item.name("value")).aggregate(
        revenue=money_sum(loss.revenue), profit=money_sum(loss.profit), orders=loss.order_id.nunique(),
        margin_base=money_sum(loss.revenue, where=loss.profit.notnull()))
    frame = per.to_pandas()
    orders = int(loss.order_id.nunique().to_pyarrow().as_py() or 0) if len(frame) else 0
    frame["margin_pct"] = [pct(p, b) for p, b in zip(frame["profit"], frame["margin_base"])]
    frame = frame.drop(columns="margin_base").sort_values(["profit", "value"]).reset_index(drop=True)
    frame["orders"] = frame["orders"].astype("int64")
    return {"dimension": dim, "count": len(frame), "loss": round(-math.fsum(frame["profit"].tolist()), 6) + 0.0,
            "revenue": round(math.fsum(frame["revenue"].tolist()), 6), "orders": orders,
            "items": _records(frame.head(LOSS_ITEMS_SHOWN))}, frame


def discount_bands(t, window) -> tuple[dict, pd.DataFrame]:
    """Revenue, profit, margin %, lines and orders per discount band in ``window`` (one query
    for the scale, one for the bands, one for the orders of the losing bands)."""
    top = finite_or_none(t.discount.max().to_pyarrow().as_py())
    scale = "percent" if top is not None and top > 1 else "rate"
    w = t.filter(_in(t.order_date, window))
    d = w.discount.cast("float64") / (100.0 if scale == "percent" else 1.0)
    cases = [(d.isnull(), MISSING_LABEL)]
    for label, lo, hi in DISCOUNT_BANDS:
        cond = d > lo if lo is not None else None
        if hi is not None:
            # a rate read from text (0.1) and the bound 0.10 are the same float: the band is (lo, hi]
            cond = (d <= hi) if cond is None else cond & (d <= hi)
        cases.append((cond, label))
    band = ibis.cases(*cases, else_=MISSING_LABEL).name("band")
    w = w.mutate(band=band)
    per = w.group_by(w.band).aggregate(
        revenue=money_sum(w.revenue), profit=money_sum(w.profit), lines=w.count(), orders=w.order_id.nunique(),
        margin_base=money_sum(w.revenue, where=w.profit.notnull())).to_pandas()
    order = [b[0] for b in DISCOUNT_BANDS] + [MISSING_LABEL]
    per = per.set_index("band").reindex([b for b in order if b in set(per["band"])]).reset_index()
    per["margin_pct"] = [pct(p, b) for p, b in zip(per["profit"], per["margin_base"])]
    per = per.drop(columns="margin_base")
    bands = [{"band": r["band"], "revenue": finite_or_none(r["revenue"]) or 0.0,
              "profit": finite_or_none(r["profit"]) or 0.0, "margin_pct": finite_or_none(r["margin_pct"]),
              "lines": whole(r["lines"]), "orders": whole(r["orders"])} for r in per.to_dict("records")]
    ranked = [b for b in bands if b["band"] != MISSING_LABEL]
    start = None   # the lowest band from which every higher band loses money
    for i in range(len(ranked) - 1, -1, -1):
        if ranked[i]["profit"] < 0:
            start = i
        else:
            break
    negative = ranked[start:] if start is not None else []
    lower = {label: lo for label, lo, _ in DISCOUNT_BANDS}
    negative_orders = 0   # orders with a line in the losing bands (the rules' sample)
    if negative:
        lo = lower[negative[0]["band"]]
        cond = d.notnull() & ((d > lo) if lo is not None else ibis.literal(True))
        negative_orders = whole(w.aggregate(n=w.order_id.nunique(where=cond)).to_pandas()["n"].iloc[0])
    out = {"scale": scale, "bands": bands,
           "negative_from": negative[0]["band"] if negative else None,
           "negative_from_pct": (lower[negative[0]["band"]] or 0.0) * 100.0 if negative else None,
           "negative_profit": round(math.fsum(b["profit"] for b in negative), 6) + 0.0,
           "negative_revenue": round(math.fsum(b["revenue"] for b in negative), 6) + 0.0,
           "negative_lines": sum(b["lines"] for b in negative), "negative_orders": negative_orders}
    return out, per


def profit_bridges(dataset, t, windows: list) -> tuple[dict, pd.DataFrame]:
    """The customer bridge and price-volume-mix of profit vs each comparison (SPEC 9.1)."""
    current = windows[0][1]
    comps = windows[1:]
    out: dict = {name: None for name in COMPARISONS}
    rows: list = []
    if not comps:
        return out, pd.DataFrame(rows, columns=["comparison", "effect", "rank", "item", "value"])
    comp_windows = [w for _, w in comps]
    cust = customer_bridges(t, current, comp_windows, amount="profit") if dataset.has_customers else None
    dim, pvm_note = pvm_dimension(dataset)
    items = item_aggregate(t, dim, [current] + comp_windows, amount="profit") if dim else None
    for k, (name, win) in enumerate(comps, start=1):
        entry: dict = {"label": win.label, "window": {"start": win.start.isoformat(), "end": win.to_dict()["end"]}}
        if cust is not None:
            c = cust[k - 1]
            entry["total_change"] = _f(c["current"] - c["comparison"])
            entry["customers"] = {**{p: _f(v) for p, v in c["parts"].items()}, "counts": c["counts"],
                                  "largest": _largest(c["parts"], CUSTOMER_PARTS)}
        else:
            entry["customers"] = None
        if items is not None:
            p = pvm_bridge(items, 0, k)
            entry.setdefault("total_change", _f(p["current"] - p["comparison"]))
            for effect in PVM_PARTS:
                rows += [{"comparison": name, "effect": effect, "rank": i + 1, "item": item, "value": _f(v)}
                         for i, (item, v) in enumerate(top_items(p["effects"][effect]))]
            entry["pvm"] = {"dimension": dim, **{e: _f(v) for e, v in p["totals"].items()},
                            "counts": p["counts"], "largest": _largest(p["totals"], PVM_PARTS)}
        else:
            entry["pvm"] = None
        entry["pvm_note"] = pvm_note if items is None else None
        out[name] = entry
    return out, pd.DataFrame(rows, columns=["comparison", "effect", "rank", "item", "value"])


def loss_dimension(dimensions) -> str | None:
    """The finest mapped dimension (product, else category, …) loss-making items are listed by."""
    return next((d for d in LOSS_DIMENSIONS if d in dimensions), None)


def profit_findings(dataset, wins: dict) -> tuple[dict | None, dict]:
    """``revenue.profit`` and its tables; (None, {}) when neither profit nor cost is mapped."""
    if not dataset.config.has_profit:
        return None, {}
    t = profit_lines(dataset)
    windows = _windows(wins)
    figures = dict(zip([n for n, _ in windows], totals(t, windows)))
    cur = figures["current"]
    out = {"source": "profit" if "profit" in dataset.config.columns else "revenue - cost", **cur,
           "previous": figures.get("previous"), "year_ago": figures.get("year_ago"),
           "change": {name: _change(cur, figures.get(name)) for name in COMPARISONS}}
    tables: dict = {}
    out["by_dimension"] = {}
    for dim in dataset.dimensions:
        frame = by_value(t, dim, windows)
        out["by_dimension"][dim] = _records(frame)
        tables[f"profit_by_{dim}"] = frame
    out["bridge"], tables["profit_bridge_items"] = profit_bridges(dataset, t, windows)
    dim = loss_dimension(dataset.dimensions)
    out["loss_makers"] = None
    if dim is not None:
        out["loss_makers"], tables["profit_loss_makers"] = loss_makers(t, dim, wins["current"])
    out["discount"] = None
    if "discount" in t.columns:
        out["discount"], tables["profit_discount_bands"] = discount_bands(t, wins["current"])
    out["margin_overlap"] = None
    if (out["loss_makers"] or {}).get("count") and (out["discount"] or {}).get("negative_from") is not None:
        out["margin_overlap"] = margin_overlap(t, dim, wins["current"], out["discount"])
    return out, tables


def margin_overlap(t, dim: str, window, discount: dict) -> dict:
    """The lines in ``window`` of a loss-making value of ``dim`` (as :func:`loss_makers`) with a
    discount in the losing bands (from ``discount["negative_from"]``, as :func:`discount_bands`):
    their loss (profit negated), lines and orders; one query."""
    w = t.filter(_in(t.order_date, window)).mutate(_item=t[dim].cast("string").fill_null(MISSING_LABEL))
    w = w.mutate(_item_profit=w.profit.cast(MONEY).sum().over(group_by=w._item))
    d = w.discount.cast("float64") / (100.0 if discount["scale"] == "percent" else 1.0)
    lo = {label: low for label, low, _ in DISCOUNT_BANDS}[discount["negative_from"]]
    both = (w._item_profit < 0) & d.notnull() & ((d > lo) if lo is not None else ibis.literal(True))
    row = w.aggregate(profit=money_sum(w.profit, where=both), lines=both.sum(),
                      orders=w.order_id.nunique(where=both)).to_pandas().iloc[0]
    return {"dimension": dim, "from_band": discount["negative_from"],
            "loss": round(-(finite_or_none(row["profit"]) or 0.0), 6) + 0.0, "lines": whole(row["lines"]),
            "orders": whole(row["orders"])}
