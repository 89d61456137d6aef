"""Revenue bridge (SPEC 9.1, findings ``revenue.bridge``): why revenue changed between a
comparison window (the previous period, a year ago) and the period.

Both comparisons use the windows of the KPI comparisons (:func:`salesnb.metrics.revenue.period_windows`:
like for like when the period is partial). Amounts are net revenue, summed exactly on the engine
(DECIMAL(38, 6), :mod:`salesnb.metrics.money`).

*Customer bridge*, over one per-customer aggregate of the three windows (the order rows when
each order is one row, else the lines), classified and summed on the engine in the same query.
With R0 / R1 a customer's net revenue in the comparison / current window:
``gained`` = Σ R1 of customers with no line in the comparison window; ``lost`` = −Σ R0 of customers
with no line in the current window; ``expansion`` = Σ (R1 − R0) where both have lines and R1 > R0;
``contraction`` = Σ (R1 − R0) where both have lines and R1 ≤ R0; ``unidentified`` = the change of
the revenue without a customer id. The five add up to ``total_change`` exactly (checked here).

*Price-volume-mix*, over one per-item aggregate of the three windows (item = ``pvm_dimension``,
else product, else category; a line without a value belongs to ``(missing)``; a missing quantity
counts as 0). Per item Q = net units, R = net revenue, P = R / Q. Continuing items have Q > 0 in
both windows; with Q0, Q1 their units and P̄0 = their R0 / Q0: ``volume`` = (Q1 − Q0)·P̄0,
``mix`` = Σ Q1ᵢ·P0ᵢ − Q1·P̄0, ``price`` = Σ Q1ᵢ·(P1ᵢ − P0ᵢ); ``new_items`` = Σ R1 of items with
lines only in the current window, ``discontinued_items`` = −Σ R0 of items with lines only in the
comparison window, ``other`` = the change of the remaining items (lines in both, Q ≤ 0 in either).
Per continuing item (s = Qᵢ / Q): volume s0ᵢ·(Q1 − Q0)·P̄0, mix (s1ᵢ − s0ᵢ)·Q1·(P0ᵢ − P̄0), price
Q1ᵢ·(P1ᵢ − P0ᵢ): each sums to its total. The arithmetic runs on the engine's exact sums in
50-digit decimals, so the six add up to the change (checked here, to 1e-20).
"""
from __future__ import annotations

import decimal
from decimal import Decimal

import ibis
import pandas as pd

from .missing import is_missing
from .money import MONEY
from .orders import atomic_orders

#: the customer bridge's parts, in waterfall order
CUSTOMER_PARTS = ("gained", "lost", "expansion", "contraction", "unidentified")
#: the price-volume-mix parts, in waterfall order
PVM_PARTS = ("volume", "mix", "price", "new_items", "discontinued_items", "other")
COMPARISONS = ("previous", "year_ago")
TOP_ITEMS = 5
_CTX = decimal.Context(prec=50)
_TOLERANCE = Decimal("1e-20")


class BridgeMismatch(AssertionError):
    """A bridge whose parts do not add up to the change: a bug, never a data problem."""


def _dec(value) -> Decimal:
    """An engine sum as an exact Decimal (0 for an empty sum)."""
    if is_missing(value):
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _f(value: Decimal) -> float:
    return float(value) + 0.0


def _windows_of(wins: dict) -> tuple:
    """(current window, [(comparison name, its window)] for the available comparisons)."""
    comps = [(name, wins[name]["window"]) for name in COMPARISONS if wins[name]["window"] is not None]
    return wins["current"], comps


def _in(ts, window):
    from .windows import _in as in_window
    return in_window(ts, window)


def _any(t, windows):
    from .windows import _any_window
    return _any_window(t, windows)


# --------------------------------------------------------------------------- customers

def customer_bridges(src, current, comparisons: list, amount: str = "revenue") -> list[dict]:
    """The customer bridge of ``current`` against each window of ``comparisons``, from one
    per-customer aggregate (``src``: order rows or lines with ``customer_id``, ``order_date``,
    ``revenue``) and one engine query. Returns one dict of exact Decimals and counts per comparison.
    ``amount``: the column bridged (``profit`` for the profit bridge); a customer has a line in a
    window whatever its amount."""
    windows = [current] + list(comparisons)
    w = src.filter(_any(src, windows))
    rev = w[amount].cast(MONEY)
    aggs = {}
    for i, win in enumerate(windows):  # windows may overlap (a range period's year ago): one test each
        c = _in(w.order_date, win)
        aggs[f"r{i}"] = rev.sum(where=c)
        aggs[f"n{i}"] = w.count(where=c)
    per = w.group_by(w.customer_id).aggregate(**aggs)
    ident = per.customer_id.notnull()
    zero = ibis.literal(0).cast(MONEY)
    r1 = per.r0.fill_null(zero)
    has1 = per.n0 > 0
    out = {"current_total": r1.sum(), "current_unidentified": r1.sum(where=~ident)}
    for k in range(1, len(windows)):
        r0 = per[f"r{k}"].fill_null(zero)
        has0 = per[f"n{k}"] > 0
        both = ident & has1 & has0
        conds = {
            "gained": (ident & has1 & ~has0, r1),
            "lost": (ident & has0 & ~has1, -r0),
            "expansion": (both & (r1 > r0), r1 - r0),
            "contraction": (both & (r1 <= r0), r1 - r0),
        }
        for name, (cond, value) in conds.items():
            out[f"{name}_{k}"] = value.sum(where=cond)
            out[f"{name}_n_{k}"] = per.count(where=cond)
        out[f"total_{k}"] = r0.sum()
        out[f"unidentified_{k}"] = r0.sum(where=~ident)
    row = per.aggregate(**out).to_pandas().iloc[0].to_dict()
    r1_total, r1_unid = _dec(row["current_total"]), _dec(row["current_unidentified"])
    result = []
    for k in range(1, len(windows)):
        r0_total = _dec(row[f"total_{k}"])
        parts = {name: _dec(row[f"{name}_{k}"]) for name in CUSTOMER_PARTS[:4]}
        parts["unidentified"] = r1_unid - _dec(row[f"unidentified_{k}"])
        change = r1_total - r0_total
        gap = sum(parts.values(), Decimal(0)) - change
        # exact (0) with the engine's DECIMAL sums; a backend handing back floats gets half a cent
        if abs(gap) >= Decimal("0.005"):
            raise BridgeMismatch(f"customer bridge parts {parts} do not add up to the change {change} ({gap})")
        counts = {name: int(_dec(row[f"{name}_n_{k}"])) for name in CUSTOMER_PARTS[:4]}
        result.append({"parts": parts, "counts": counts, "current": r1_total, "comparison": r0_total,
                       "unidentified_current": r1_unid, "unidentified_comparison": _dec(row[f"unidentified_{k}"])})
    return result


# --------------------------------------------------------------------------- price, volume, mix

def item_aggregate(t, dim: str, windows: list, amount: str = "revenue") -> pd.DataFrame:
    """One row per item (value of ``dim``, ``(missing)`` for none) with its exact net revenue
    ``r{i}`` (net ``amount``: ``profit`` for the profit bridge), net units ``q{i}`` (a missing
    quantity counts as 0) and lines ``n{i}`` in each window."""
    from .missing import MISSING_LABEL
    w = t.filter(_any(t, windows))
    rev = w[amount].cast(MONEY)
    qty = w.quantity.cast(MONEY).fill_null(ibis.literal(0).cast(MONEY))
    aggs = {}
    for i, win in enumerate(windows):  # windows may overlap: one test each
        c = _in(w.order_date, win)
        aggs[f"r{i}"] = rev.sum(where=c)
        aggs[f"q{i}"] = qty.sum(where=c)
        aggs[f"n{i}"] = w.count(where=c)
    key = w[dim].cast("string").fill_null(MISSING_LABEL).name("item")
    frame = w.group_by(key).aggregate(**aggs).to_pandas()
    return frame.sort_values("item").reset_index(drop=True)


def pvm_bridge(items: pd.DataFrame, cur: int = 0, cmp: int = 1) -> dict:
    """Price-volume-mix of window ``cur`` against window ``cmp`` from :func:`item_aggregate`'s
    frame (SPEC 9.1). Returns exact totals (Decimal), item counts and per-item effects."""
    with decimal.localcontext(_CTX):
        totals = {name: Decimal(0) for name in PVM_PARTS}
        counts = {"continuing": 0, "new_items": 0, "discontinued_items": 0, "other": 0}
        effects = {name: [] for name in PVM_PARTS}
        continuing = []
        r1_all = r0_all = Decimal(0)
        for row in items.itertuples(index=False):
            n1, n0 = int(getattr(row, f"n{cur}") or 0), int(getattr(row, f"n{cmp}") or 0)
            if not n1 and not n0:
                continue
            r1, r0 = _dec(getattr(row, f"r{cur}")), _dec(getattr(row, f"r{cmp}"))
            q1, q0 = _dec(getattr(row, f"q{cur}")), _dec(getattr(row, f"q{cmp}"))
            r1_all += r1
            r0_all += r0
            item = str(row.item)
            if n1 and not n0:
                totals["new_items"] += r1
                counts["new_items"] += 1
                effects["new_items"].append((item, r1))
            elif n0 and not n1:
                totals["discontinued_items"] -= r0
                counts["discontinued_items"] += 1
                effects["discontinued_items"].append((item, -r0))
            elif q1 > 0 and q0 > 0:
                continuing.append((item, q0, q1, r0, r1))
            else:
                totals["other"] += r1 - r0
                counts["other"] += 1
                effects["other"].append((item, r1 - r0))
        counts["continuing"] = len(continuing)
        if continuing:
            Q0 = sum((c[1] for c in continuing), Decimal(0))
            Q1 = sum((c[2] for c in continuing), Decimal(0))
            pbar0 = sum((c[3] for c in continuing), Decimal(0)) / Q0
            for item, q0, q1, r0, r1 in continuing:
                p0, p1 = r0 / q0, r1 / q1
                vol = q0 / Q0 * (Q1 - Q0) * pbar0
                mix = (q1 / Q1 - q0 / Q0) * Q1 * (p0 - pbar0)
                price = q1 * (p1 - p0)
                for name, v in (("volume", vol), ("mix", mix), ("price", price)):
                    totals[name] += v
                    effects[name].append((item, v))
            # the SPEC's totals, from the aggregates: the per-item effects must sum to them
            formula = {"volume": (Q1 - Q0) * pbar0,
                       "mix": sum((c[2] * (c[3] / c[1]) for c in continuing), Decimal(0)) - Q1 * pbar0}
            formula["price"] = sum((c[4] for c in continuing), Decimal(0)) - Q1 * pbar0 - formula["mix"]
            for name, value in formula.items():
                if abs(totals[name] - value) > _TOLERANCE * max(1, abs(value)):
                    raise BridgeMismatch(f"per-item {name} effects sum to {totals[name]}, not {value}")
        change = r1_all - r0_all
        gap = sum(totals.values(), Decimal(0)) - change
        if abs(gap) > _TOLERANCE * max(1, abs(change)):
            raise BridgeMismatch(f"price-volume-mix parts {totals} do not add up to the change {change} ({gap})")
    return {"totals": totals, "counts": counts, "effects": effects, "current": r1_all, "comparison": r0_all,
            "continuing_units": {"comparison": _f(sum((c[1] for c in continuing), Decimal(0))),
                                 "current": _f(sum((c[2] for c in continuing), Decimal(0)))}}


def top_items(effects: list, n: int = TOP_ITEMS) -> list[tuple[str, Decimal]]:
    """The ``n`` items with the largest |effect| (ties by item name)."""
    return sorted(effects, key=lambda e: (-abs(e[1]), e[0]))[:n]


def pvm_dimension(dataset) -> tuple[str | None, str | None]:
    """(the price-volume-mix dimension, or None and the reason)."""
    if not dataset.has_quantity:
        return None, "quantity is not mapped: price, volume and mix need units"
    chosen = getattr(dataset.config, "pvm_dimension", None)
    dims = list(dataset.dimensions)
    if chosen:
        return (chosen, None) if chosen in dims else (None, f"pvm_dimension {chosen!r} has no values in the data")
    for dim in ("product", "category"):
        if dim in dims:
            return dim, None
    return None, "neither product nor category is mapped: price-volume-mix needs items"


# --------------------------------------------------------------------------- findings

def bridge_findings(dataset, wins: dict) -> tuple[dict, dict]:
    """``revenue.bridge`` {previous, year_ago} and the table ``revenue_bridge_items``.

    ``wins``: :func:`salesnb.metrics.revenue.period_windows` of the period. A comparison that is
    not available (outside the data, or an all-history period) is null."""
    current, comps = _windows_of(wins)
    out: dict = {name: None for name in COMPARISONS}
    tables: dict = {}
    if not comps:
        return out, tables
    t = dataset.table
    comp_windows = [w for _, w in comps]
    cust = None
    if dataset.has_customers:
        orders = atomic_orders(dataset)
        cust = customer_bridges(orders if orders is not None else t, current, comp_windows)
    dim, pvm_note = pvm_dimension(dataset)
    items = item_aggregate(t, dim, [current] + comp_windows) if dim else None
    rows = []
    for k, (name, win) in enumerate(comps, start=1):
        entry = {"label": win.label,
                 "window": {"start": win.start.isoformat(), "end": win.to_dict()["end"]},
                 "current_window": {"start": current.start.isoformat(), "end": current.to_dict()["end"]}}
        c = cust[k - 1] if cust is not None else None
        if c is not None:
            entry["comparison_revenue"], entry["current_revenue"] = _f(c["comparison"]), _f(c["current"])
            entry["total_change"] = _f(c["current"] - c["comparison"])
            entry["customers"] = {**{p: _f(v) for p, v in c["parts"].items()}, "counts": c["counts"],
                                  "unidentified_revenue": {"comparison": _f(c["unidentified_comparison"]),
                                                           "current": _f(c["unidentified_current"])},
                                  "largest": _largest(c["parts"], CUSTOMER_PARTS)}
        else:
            entry["customers"] = None
        if items is not None:
            p = pvm_bridge(items, 0, k)
            entry.setdefault("comparison_revenue", _f(p["comparison"]))
            entry.setdefault("current_revenue", _f(p["current"]))
            entry.setdefault("total_change", _f(p["current"] - p["comparison"]))
            tops = {}
            for effect in PVM_PARTS:
                best = top_items(p["effects"][effect])
                tops[effect] = [{"item": item, "value": _f(v)} for item, v in best]
                rows += [{"comparison": name, "effect": effect, "rank": i + 1, "item": item, "value": _f(v)}
                         for i, (item, v) in enumerate(best)]
            entry["pvm"] = {"dimension": dim, **{e: _f(v) for e, v in p["totals"].items()},
                            "counts": p["counts"], "continuing_units": p["continuing_units"],
                            "largest": _largest(p["totals"], PVM_PARTS), "top": tops}
            entry["pvm_note"] = None
        else:
            entry["pvm"] = None
            entry["pvm_note"] = pvm_note
        if "total_change" not in entry:  # neither customers nor items: the change alone
            from .kpis import kpis_for
            totals = kpis_for(t, [current, win], False, False)
            entry["comparison_revenue"], entry["current_revenue"] = totals[1]["total"], totals[0]["total"]
            entry["total_change"] = totals[0]["total"] - totals[1]["total"]
        out[name] = entry
    tables["revenue_bridge_items"] = pd.DataFrame(rows, columns=["comparison", "effect", "rank", "item", "value"])
    return out, tables


def _largest(parts: dict, order: tuple) -> str | None:
    """The part with the largest |amount| (the first in waterfall order on a tie); None if all are 0."""
    best = max(order, key=lambda k: (abs(parts[k]), -order.index(k)))
    return best if parts[best] != 0 else None
