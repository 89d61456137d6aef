"""Margin rules (SPEC 9.1 and 9.4), over ``revenue.profit`` (silent when profit is not mapped).

``loss_makers``     the values of the finest dimension (product, else category …) that lost money
                    in the period -> reprice or drop them; impact = their loss. Sample = the orders
                    holding them (>= 30). high: >= 100 orders; medium: >= 30; else low.
``discount_cap``    the discount bands from which every higher band loses money -> cap discounts
                    at the band's lower bound; impact = the profit lost in those bands. Sample = the
                    orders with a line in them (>= 30). high: >= 100 orders; medium: >= 30; else low.

The two count the same lines where a loss-making value's lines carry a losing discount
(``revenue.profit.margin_overlap``), so their impacts must not be added up. When both fire, each
item gets ``overlap``: the other rule, the loss counted by both, and ``combined_loss`` = the
two impacts minus that loss: the net loss of the lines either rule counts (it can be below
either impact: a loss-making product's undiscounted lines may make money), as ``derived`` too.
"""
from __future__ import annotations

from ..config import DIMENSION_NOUNS
from ..fmt import fmt_count, fmt_money, fmt_pct
from .evidence import MIN_VALUE_ORDERS, _action, _Ctx, _derived, _ev, _num, _r2

HIGH_ORDERS = 100


def _confidence(orders: int) -> str:
    return "high" if orders >= HIGH_ORDERS else "medium" if orders >= MIN_VALUE_ORDERS else "low"


def _profit(ctx: _Ctx) -> dict | None:
    p = ctx.rev.get("profit")
    return p if isinstance(p, dict) else None


def rule_loss_makers(ctx: _Ctx) -> list:
    p = _profit(ctx)
    lm = (p or {}).get("loss_makers")
    if not lm or not lm.get("count") or not _num(lm.get("loss")) or _num(lm["loss"]) <= 0:
        return []
    loss, count, orders = _r2(lm["loss"]), int(lm["count"]), int(lm.get("orders") or 0)
    noun = DIMENSION_NOUNS.get(lm["dimension"], lm["dimension"])
    nouns = noun if count == 1 else noun + "s"
    base = "revenue.profit.loss_makers"
    evidence = [_ev(f"{base}.loss", lm["loss"]), _ev(f"{base}.count", lm["count"]),
                _ev(f"{base}.revenue", lm["revenue"]), _ev(f"{base}.orders", lm["orders"])]
    worst = (lm.get("items") or [None])[0]
    derived = []
    if worst is not None:
        evidence.append(_ev(f"{base}.items[{worst['value']}].profit", worst["profit"]))
        derived.append(_derived("largest_loss", _r2(-worst["profit"]),
                                f"{worst['value']}: {fmt_money(worst['profit'], ctx.currency)} on "
                                f"{fmt_money(worst['revenue'], ctx.currency)} of revenue"))
    formula = (f"loss of the {fmt_count(count)} loss-making {nouns} in {ctx.period_label} = "
               f"{ctx.money(loss)} (on {ctx.money(lm['revenue'])} of revenue)")
    title = f"Reprice or drop the {fmt_count(count)} loss-making {nouns}"
    act = _action(f"{title}: loss {ctx.money(loss)} → {ctx.money(0)}", f"{base}.loss", lm["loss"], 0.0)
    return [ctx.item("opportunity", "loss_makers", title, evidence, loss, formula, _confidence(orders),
                     derived=derived, parameters={"dimension": lm["dimension"]}, action=act,
                     sample=orders, min_sample=MIN_VALUE_ORDERS)]


def discount_above(cap_pct: float) -> str:
    """"discounts above 20%" (``cap_pct`` 20), "any discount" (0): the lines a discount cap concerns."""
    return "any discount" if not cap_pct else f"discounts above {fmt_pct(cap_pct, 0)}"


def rule_discount_cap(ctx: _Ctx) -> list:
    p = _profit(ctx)
    d = (p or {}).get("discount")
    if not d or d.get("negative_from") is None or (_num(d.get("negative_profit")) or 0) >= 0:
        return []
    cap = _num(d["negative_from_pct"]) or 0.0
    lost = _r2(-d["negative_profit"])
    orders = int(d.get("negative_orders") or 0)
    losing = [b for b in d["bands"] if b["band"] != "(missing)"]
    losing = losing[[b["band"] for b in losing].index(d["negative_from"]):]
    base = "revenue.profit.discount"
    evidence = [_ev(f"{base}.negative_from", d["negative_from"]), _ev(f"{base}.negative_profit", d["negative_profit"]),
                _ev(f"{base}.negative_revenue", d["negative_revenue"]), _ev(f"{base}.negative_orders", orders)]
    evidence += [_ev(f"{base}.bands[{b['band']}].margin_pct", b["margin_pct"]) for b in losing]
    derived = [_derived(f"margin_pct_{b['band']}", None if b["margin_pct"] is None else round(b["margin_pct"], 1),
                        f"profit {ctx.money(b['profit'])} / revenue {ctx.money(b['revenue'])}") for b in losing]
    above = discount_above(cap)
    formula = (f"profit of the lines with {above} in {ctx.period_label}: {ctx.money(d['negative_profit'])} "
               f"on {ctx.money(d['negative_revenue'])} of revenue; impact = {ctx.money(lost)}")
    title = (f"Cap discounts at {fmt_pct(cap, 0)}: lines with {above} lose money"
             if cap else "Stop discounting: discounted lines lose money")
    act = _action(f"{title}: their profit {ctx.money(-lost)} → {ctx.money(0)}", f"{base}.negative_profit",
                  d["negative_profit"], 0.0)
    return [ctx.item("opportunity", "discount_cap", title, evidence, lost, formula, _confidence(orders),
                     derived=derived, parameters={"cap_pct": cap}, action=act,
                     sample=orders, min_sample=MIN_VALUE_ORDERS)]


def note_margin_overlap(ctx: _Ctx, opportunities: list) -> None:
    """When both margin rules fired: each item's ``overlap`` (see the module), its evidence and a
    derived ``combined_loss``, so that nothing adds the two impacts up."""
    found = {i["rule"]: i for i in opportunities if i["rule"] in ("loss_makers", "discount_cap")}
    overlap = (_profit(ctx) or {}).get("margin_overlap")
    if len(found) < 2 or not overlap:
        return
    lm, dc = found["loss_makers"], found["discount_cap"]
    shared = _r2(overlap["loss"])
    combined = _r2(lm["impact"] + dc["impact"] - shared)
    formula = (f"{ctx.money(lm['impact'])} + {ctx.money(dc['impact'])} − {ctx.money(shared)} counted by both "
               f"({fmt_count(overlap['lines'])} lines) = {ctx.money(combined)}")
    for item, other in ((lm, dc), (dc, lm)):
        item["overlap"] = {"rule": other["rule"], "shared_loss": shared, "lines": overlap["lines"],
                           "orders": overlap["orders"], "combined_loss": combined}
        item["evidence"].append(_ev("revenue.profit.margin_overlap.loss", overlap["loss"]))
        item["derived"].append(_derived("combined_loss", combined, formula))
