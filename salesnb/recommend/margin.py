"""Margin rules (SPEC 9.1 and 9.4), over ``revenue.profit`` (silent when profit is not mapped).

``loss_makers``     the values of the finest dimension (product, else category …) that lost money
                    in the period -> reprice or drop them; impact = their loss. Sample = the orders
                    holding them (>= 30). high: >= 100 orders; medium: >= 30; else low.
``discount_cap``    the discount bands from which every higher band loses money -> cap discounts
                    at the band's lower bound; impact = the profit lost in those bands. Sample = the
                    orders with a line in them (>= 30). high: >= 100 orders; medium: >= 30; else low.
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
    above = "any discount" if cap == 0 else f"discounts above {fmt_pct(cap, 0)}"
    formula = (f"profit of the lines with {above} in {ctx.period_label}: {ctx.money(d['negative_profit'])} "
               f"on {ctx.money(d['negative_revenue'])} of revenue; impact = {ctx.money(lost)}")
    title = (f"Cap discounts at {fmt_pct(cap, 0)}: lines with {above} lose money"
             if cap else "Stop discounting: discounted lines lose money")
    act = _action(f"{title}: their profit {ctx.money(-lost)} → {ctx.money(0)}", f"{base}.negative_profit",
                  d["negative_profit"], 0.0)
    return [ctx.item("opportunity", "discount_cap", title, evidence, lost, formula, _confidence(orders),
                     derived=derived, parameters={"cap_pct": cap}, action=act,
                     sample=orders, min_sample=MIN_VALUE_ORDERS)]
