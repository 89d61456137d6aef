"""The opportunity rules (see :mod:`salesnb.recommend`): each a pure function of the findings."""
from __future__ import annotations

from ..config import DIMENSION_NOUNS
from ..fmt import fmt_count, fmt_money, fmt_pct
from .evidence import (AOV_MIN_ORDERS, DEADLINE_MAX, DECLINE_MIN_ORDERS, DECLINE_MIN_PCT, DECLINE_MIN_PREVIOUS_SHARE,
                       FLAT_PCT, GAP_DIMENSIONS, GAP_MIN_MEDIAN_SHARE, GAP_MIN_ORDERS, MAX_DIMENSION_VALUES,
                       MAX_PER_DIMENSION, MIN_CUSTOMERS, MIN_PEERS, MIN_RETURN_LINES, MIN_TREND_MONTHS, MISSING_LABEL,
                       PEER_DIMENSIONS, RETURNS_MIN_RATE, TOP_PRODUCTS, _Ctx, _action, _derived, _ev, _median,
                       _min_orders, _num, _quantile, _r1, _r2, _value_sample, dim_key)


def _peer_aov(ctx: _Ctx):
    """AOV peers: (source, [(label, aov, evidence)]) from a dimension, else from complete months."""
    for dim in PEER_DIMENSIONS:
        rows = ctx.dims.get(dim)
        if not rows or len(rows) > MAX_DIMENSION_VALUES:
            continue
        peers = [r for r in rows if r.get("value") != MISSING_LABEL and (r.get("orders") or 0) >= _min_orders(dim)
                 and _num(r.get("avg_order_value")) is not None]
        if len(peers) >= MIN_PEERS:
            return dim, [(r["value"], _num(r["avg_order_value"]),
                          _ev(dim_key(dim, r["value"], "avg_order_value"), r["avg_order_value"])) for r in peers]
    gaps = set(ctx.data.get("gap_months") or [])
    months = []
    for m in ctx.rev.get("trend_by_month") or []:
        if m.get("partial") or m.get("month") in gaps:
            continue
        revenue, orders = _num(m.get("revenue")), _num(m.get("orders"))
        if revenue is None or not orders or orders < AOV_MIN_ORDERS:
            continue
        months.append((m["month"], revenue / orders, m))
    if len(months) >= MIN_TREND_MONTHS:
        peers = []
        for label, aov, m in months:
            peers.append((label, aov, _ev(f"revenue.trend_by_month[{label}].revenue", m["revenue"])))
            peers.append((None, None, _ev(f"revenue.trend_by_month[{label}].orders", m["orders"])))
        return "month", peers
    return None, []


def rule_aov_uplift(ctx: _Ctx) -> list:
    aov, total = _num(ctx.rev.get("aov")), ctx.total
    if not aov or aov <= 0 or not total or total <= 0:
        return []
    source, peers = _peer_aov(ctx)
    values = [(label, v) for label, v, _ in peers if label is not None]
    if not values:
        return []
    aovs = [v for _, v in values]
    med, q75 = _r2(_median(aovs)), _r2(_quantile(aovs, 0.75))
    if q75 <= med:
        return []
    aov_r = _r2(aov)
    x = _r1((q75 - med) / 2.0 / med * 100.0)
    if x <= 0:
        return []
    total_r = _r2(total)
    impact = _r2(total_r * x / 100.0)
    target = _r2(aov_r * (1 + x / 100.0))
    noun = "months" if source == "month" else DIMENSION_NOUNS.get(source, source) + " values"
    derived = [
        _derived("peers", len(values), f"{noun} with >= {AOV_MIN_ORDERS} orders"),
        _derived("median_aov", med, f"median AOV across {len(values)} {noun}"),
        _derived("top_quartile_aov", q75, f"75th percentile AOV across {len(values)} {noun}"),
        _derived("aov_uplift_pct", x, f"({fmt_money(q75, ctx.currency)} − {fmt_money(med, ctx.currency)}) / 2 / "
                                      f"{fmt_money(med, ctx.currency)} × 100 = {fmt_pct(x)}"),
        _derived("target_aov", target, f"AOV {fmt_money(aov_r, ctx.currency)} × (1 + {fmt_pct(x)}) = "
                                       f"{fmt_money(target, ctx.currency)}"),
    ]
    evidence = [_ev("revenue.total", ctx.rev["total"]), _ev("revenue.aov", ctx.rev["aov"]),
                _ev("revenue.orders", ctx.rev.get("orders"))] + [e for _, _, e in peers]
    title = f"Raise average order value by {fmt_pct(x)}, from {ctx.money(aov_r)} to {ctx.money(target)}"
    action_title = title
    if source == "month":
        confidence, basis = "low", f"the {len(values)} trailing complete months"
        sample, min_sample = len(values), MIN_TREND_MONTHS
    else:
        sample = min(int(r.get("orders") or 0) for r in ctx.dims[source]
                     if r.get("value") in {label for label, _ in values})
        min_sample = _min_orders(source)
        confidence = "high" if len(values) >= 5 else "medium"
        basis = f"{len(values)} {DIMENSION_NOUNS.get(source, source)} values"
        bench = max(values, key=lambda lv: (lv[1], str(lv[0])))
        if _r2(bench[1]) > target:
            action_title += f" (benchmark: {DIMENSION_NOUNS.get(source, source)} {bench[0]} at {ctx.money(_r2(bench[1]))})"
    formula = (f"revenue {ctx.money(total_r)} × {fmt_pct(x)} = {ctx.money(impact)} "
               f"(x = half the gap between the median AOV {ctx.money(med)} and the top-quartile AOV "
               f"{ctx.money(q75)} across {basis}, as a share of the median)")
    act = _action(action_title, "revenue.aov", ctx.rev["aov"], target)
    return [ctx.item("opportunity", "aov_uplift", title, evidence, impact, formula, confidence,
                     derived=derived, action=act, sample=sample, min_sample=min_sample)]


def rule_aov_recovery(ctx: _Ctx) -> list:
    aov, orders = _num(ctx.rev.get("aov")), _num(ctx.rev.get("orders"))
    ya = ctx.rev.get("year_ago") or {}
    ya_aov = _num(ya.get("aov"))
    pct = _num(((ctx.rev.get("change") or {}).get("aov") or {}).get("vs_year_ago_pct"))
    if not ctx.year_ago.get("available") or aov is None or ya_aov is None or not orders or pct is None:
        return []
    if pct >= -FLAT_PCT:
        return []
    aov_r, ya_r = _r2(aov), _r2(ya_aov)
    gap = _r2(ya_r - aov_r)
    impact = _r2(gap * orders)
    label = ctx.year_ago.get("label")
    evidence = [_ev("revenue.aov", ctx.rev["aov"]), _ev("revenue.year_ago.aov", ya["aov"]),
                _ev("revenue.change.aov.vs_year_ago_pct", ctx.rev["change"]["aov"]["vs_year_ago_pct"]),
                _ev("revenue.orders", ctx.rev["orders"])]
    formula = (f"(year-ago AOV {ctx.money(ya_r)} − AOV {ctx.money(aov_r)}) × {fmt_count(orders)} orders = "
               f"{ctx.money(gap)} × {fmt_count(orders)} = {ctx.money(impact)}")
    title = (f"Restore average order value to its {label} level: {ctx.money(aov_r)} → {ctx.money(ya_r)} "
             f"(down {fmt_pct(abs(pct))} on a year ago)")
    confidence = "medium" if ctx.like_for_like else "high"
    act = _action(title, "revenue.aov", ctx.rev["aov"], ya_r)
    return [ctx.item("opportunity", "aov_recovery", title, evidence, impact, formula, confidence,
                     derived=[_derived("aov_gap", gap, f"{ctx.money(ya_r)} − {ctx.money(aov_r)}")], action=act)]


def rule_dimension_gap(ctx: _Ctx) -> list:
    out = []
    for dim in GAP_DIMENSIONS:
        rows = [r for r in ctx.dims.get(dim) or [] if r.get("value") != MISSING_LABEL
                and _num(r.get("revenue")) is not None]
        if not (MIN_PEERS <= len(ctx.dims.get(dim) or []) <= MAX_DIMENSION_VALUES) or len(rows) < MIN_PEERS:
            continue
        med = _r2(_median([_num(r["revenue"]) for r in rows]))
        noun = DIMENSION_NOUNS.get(dim, dim)
        found = []
        for r in rows:
            rev = _r2(r["revenue"])
            orders = r.get("orders") or 0
            if rev >= med or orders < GAP_MIN_ORDERS or rev < GAP_MIN_MEDIAN_SHARE * med:
                continue
            gap = _r2(med - rev)
            if gap <= 0:
                continue
            found.append((gap, r, rev))
        found.sort(key=lambda t: (-t[0], str(t[1]["value"])))
        for gap, r, rev in found[:MAX_PER_DIMENSION]:
            value = r["value"]
            orders = r.get("orders") or 0
            confidence = "high" if orders >= 100 and len(rows) >= 4 else "medium" if orders >= 30 else "low"
            evidence = [_ev(dim_key(dim, value, "revenue"), r["revenue"]),
                        _ev(dim_key(dim, value, "orders"), r.get("orders")),
                        _ev(dim_key(dim, value, "share_pct"), r.get("share_pct"))]
            if r.get("growth_pct") is not None:
                evidence.append(_ev(dim_key(dim, value, "growth_pct"), r["growth_pct"]))
            evidence += [_ev(dim_key(dim, p["value"], "revenue"), p["revenue"]) for p in rows if p is not r]
            formula = (f"median {noun} revenue {ctx.money(med)} − {value} {ctx.money(rev)} = {ctx.money(gap)} "
                       f"(median of {len(rows)} {noun} values)")
            title = f"Bring the {value} {noun} up to the median {noun}: revenue {ctx.money(rev)} → {ctx.money(med)}"
            act = _action(title, dim_key(dim, value, "revenue"), r["revenue"], med)
            out.append(ctx.item("opportunity", "dimension_gap", title, evidence, gap, formula, confidence,
                                derived=[_derived("peers", len(rows), f"{noun} values"),
                                         _derived("median_revenue", med, f"median revenue of {len(rows)} {noun} values")],
                                owner=value, owner_dimension=dim, action=act,
                                sample=_value_sample(dim, r, False), min_sample=_min_orders(dim)))
    return out


def rule_recover_decline(ctx: _Ctx) -> list:
    if not ctx.previous.get("available"):
        return []
    out = []
    label = ctx.previous.get("label")
    for dim, all_rows in sorted(ctx.dims.items()):
        rows = [r for r in all_rows if r.get("value") != MISSING_LABEL]
        prev_total = sum(_num(r.get("previous_revenue")) or 0.0 for r in all_rows)
        if prev_total <= 0:
            continue
        if dim == "product":
            rows = sorted(rows, key=lambda r: (-(_num(r.get("previous_revenue")) or 0.0), str(r["value"])))[:TOP_PRODUCTS]
        noun = DIMENSION_NOUNS.get(dim, dim)
        found = []
        for r in rows:
            prev, cur, g = _num(r.get("previous_revenue")), _num(r.get("revenue")), _num(r.get("growth_pct"))
            if prev is None or cur is None or g is None or prev <= 0:
                continue
            if g > -DECLINE_MIN_PCT or prev / prev_total * 100.0 < DECLINE_MIN_PREVIOUS_SHARE:
                continue
            if (r.get("orders") or 0) < DECLINE_MIN_ORDERS:
                continue
            prev_r, cur_r = _r2(prev), _r2(cur)
            lost = _r2(prev_r - cur_r)
            if lost > 0:
                found.append((lost, r, prev_r, cur_r, g))
        found.sort(key=lambda t: (-t[0], str(t[1]["value"])))
        for lost, r, prev_r, cur_r, g in found[:MAX_PER_DIMENSION]:
            value, orders = r["value"], r.get("orders") or 0
            confidence = "high" if orders >= 100 else "medium" if orders >= 30 else "low"
            evidence = [_ev(dim_key(dim, value, "revenue"), r["revenue"]),
                        _ev(dim_key(dim, value, "previous_revenue"), r["previous_revenue"]),
                        _ev(dim_key(dim, value, "growth_pct"), r["growth_pct"]),
                        _ev(dim_key(dim, value, "orders"), r.get("orders"))]
            if r.get("previous_orders") is not None:
                evidence.append(_ev(dim_key(dim, value, "previous_orders"), r["previous_orders"]))
            formula = f"{label} revenue {ctx.money(prev_r)} − {ctx.period_label} revenue {ctx.money(cur_r)} = {ctx.money(lost)}"
            title = (f"Recover the {value} {noun}: revenue down {fmt_pct(abs(g))} on {label}, "
                     f"{ctx.money(cur_r)} → {ctx.money(prev_r)}")
            act = _action(title, dim_key(dim, value, "revenue"), r["revenue"], prev_r)
            out.append(ctx.item("opportunity", "recover_decline", title, evidence, lost, formula, confidence,
                                owner=value, owner_dimension=dim, action=act,
                                sample=_value_sample(dim, r, r.get("previous_orders") is not None),
                                min_sample=_min_orders(dim)))
    return out


def rule_win_back(ctx: _Ctx) -> list:
    c = ctx.cust
    if c is None:
        return []
    wb = c.get("win_back") or {}
    revenue, rate = _num(c.get("at_risk_revenue")), _num(wb.get("rate_pct"))
    n, share = _num(c.get("at_risk_customers")), _num(c.get("at_risk_share_pct"))
    measured = _num(wb.get("at_risk_customers"))
    if revenue is None or revenue <= 0 or rate is None or rate <= 0 or not n or share is None:
        return []
    rate_r, rev_r = _r1(rate), _r2(revenue)
    impact = _r2(rev_r * rate_r / 100.0)
    confidence = "medium" if (measured or 0) >= 100 else "low"
    segments = c.get("at_risk_segments") or []
    prev, as_of = wb.get("previous_period"), wb.get("as_of")
    evidence = [_ev("customers.at_risk_revenue", c["at_risk_revenue"]),
                _ev("customers.win_back.rate_pct", wb["rate_pct"]),
                _ev("customers.win_back.at_risk_customers", wb.get("at_risk_customers")),
                _ev("customers.win_back.ordered_in_period", wb.get("ordered_in_period")),
                _ev("customers.at_risk_customers", c["at_risk_customers"]),
                _ev("customers.at_risk_share_pct", c["at_risk_share_pct"])]
    formula = (f"at-risk customers' revenue in the last 12 months {ctx.money(rev_r)} × share of the "
               f"{fmt_count(measured)} customers at risk at the end of {prev} who ordered in the period "
               f"{fmt_pct(rate_r)} = {ctx.money(impact)}")
    title = (f"Win back at-risk customers: {fmt_pct(rate_r)} of those at risk at the end of {prev} ordered again; "
             f"the {fmt_count(n)} at risk now ({fmt_pct(share)} of those scored) are worth {ctx.money(rev_r)} "
             "in the last 12 months")
    share_r = _r1(share)
    target = _r1(share_r * (1 - rate_r / 100.0))
    seg_text = f" ({', '.join(segments)})" if segments else ""
    act = _action(f"Run a win-back campaign for the {fmt_count(n)} at-risk customers{seg_text}: cut their share "
                  f"from {fmt_pct(share_r)} to {fmt_pct(target)}", "customers.at_risk_share_pct",
                  c["at_risk_share_pct"], target)
    return [ctx.item("opportunity", "win_back", title, evidence, impact, formula, confidence,
                     derived=[_derived("target_at_risk_share_pct", target,
                                       f"{fmt_pct(share_r)} × (1 − {fmt_pct(rate_r)}) = {fmt_pct(target)}")],
                     parameters={"window_months": 12, "rate_as_of": as_of}, action=act,
                     sample=int(measured) if measured is not None else None, min_sample=MIN_CUSTOMERS)]


def rule_repeat_purchase(ctx: _Ctx) -> list:
    """The period's one-time buyers × the rate at which the previous period's one-time buyers
    ordered again within one period length × AOV. The rate is measured on that population (people
    who had not reordered yet), never on all customers; a target is never all of them."""
    c = ctx.cust
    if c is None:
        return []
    rep = c.get("one_time_repeat") or {}
    n, rate, aov = _num(rep.get("period_one_time_buyers")), _num(rep.get("rate_pct")), _num(ctx.rev.get("aov"))
    base = _num(rep.get("previous_one_time_buyers"))
    if not n or rate is None or rate <= 0 or aov is None or aov <= 0 or not base:
        return []
    rate_r, aov_r = _r1(rate), _r2(aov)
    converts = int(round(n * rate_r / 100.0))
    if converts <= 0 or converts >= n:       # never the whole population
        return []
    impact = _r2(converts * aov_r)
    days = int(_num(rep.get("followup_days")) or DEADLINE_MAX)
    prev_label = rep.get("previous_period") or "the previous period"
    confidence = "medium" if base >= 100 and n >= MIN_CUSTOMERS else "low"
    key = "customers.one_time_repeat"
    evidence = [_ev(f"{key}.period_one_time_buyers", rep["period_one_time_buyers"]),
                _ev(f"{key}.previous_one_time_buyers", rep["previous_one_time_buyers"]),
                _ev(f"{key}.reordered", rep.get("reordered")),
                _ev(f"{key}.rate_pct", rep["rate_pct"]), _ev("revenue.aov", ctx.rev["aov"])]
    formula = (f"{fmt_count(n)} one-time buyers of {ctx.period_label} × {fmt_pct(rate_r)} (of the "
               f"{fmt_count(base)} one-time buyers of {prev_label}, {fmt_count(rep.get('reordered'))} ordered again "
               f"within {fmt_count(days)} days) = {fmt_count(converts)} second orders × AOV {ctx.money(aov_r)} = "
               f"{ctx.money(impact)}")
    title = (f"Convert {fmt_count(converts)} of the {fmt_count(n)} one-time buyers of {ctx.period_label} to a second "
             f"order within {fmt_count(days)} days")
    target = int(n) - converts
    act = _action(f"{title} ({fmt_pct(rate_r)}, the rate {prev_label}'s one-time buyers reached)",
                  f"{key}.period_one_time_buyers", rep["period_one_time_buyers"], target, deadline_days=days)
    return [ctx.item("opportunity", "repeat_purchase", title, evidence, impact, formula, confidence,
                     derived=[_derived("converted_buyers", converts, f"{fmt_count(n)} × {fmt_pct(rate_r)}, rounded"),
                              _derived("target_one_time_buyers", target, f"{fmt_count(n)} − {fmt_count(converts)}")],
                     parameters={"followup_days": days}, action=act,
                     sample=int(base), min_sample=MIN_CUSTOMERS)]


def rule_returns(ctx: _Ctx) -> list:
    ret = ctx.rev.get("returns") or {}
    prev = ctx.rev.get("previous") or {}
    value, total = _num(ret.get("value")), ctx.total
    p_value, p_total = _num((prev.get("returns") or {}).get("value")), _num(prev.get("total"))
    if not ctx.previous.get("available") or not value or value <= 0 or total is None or p_value is None or not p_total:
        return []
    gross_r = _r2(total + value)
    p_gross = p_total + p_value
    if gross_r <= 0 or p_gross <= 0:
        return []
    rate = _r1(value / gross_r * 100.0)
    p_rate = _r1(p_value / p_gross * 100.0)
    if rate < RETURNS_MIN_RATE or rate <= p_rate:
        return []
    value_r = _r2(value)
    allowed = _r2(gross_r * p_rate / 100.0)
    impact = _r2(value_r - allowed)
    if impact <= 0:
        return []
    label = ctx.previous.get("label")
    evidence = [_ev("revenue.returns.value", ret["value"]), _ev("revenue.returns.lines", ret.get("lines")),
                _ev("revenue.total", ctx.rev["total"]), _ev("revenue.previous.returns.value", prev["returns"]["value"]),
                _ev("revenue.previous.total", prev["total"])]
    derived = [_derived("gross_revenue", gross_r, f"revenue + returns = {ctx.money(gross_r)}"),
               _derived("return_rate_pct", rate, f"returns {ctx.money(value_r)} / gross {ctx.money(gross_r)}"),
               _derived("previous_return_rate_pct", p_rate, f"{label} returns / {label} gross revenue"),
               _derived("returns_at_previous_rate", allowed, f"{ctx.money(gross_r)} × {fmt_pct(p_rate)}")]
    formula = (f"returns {ctx.money(value_r)} − gross revenue {ctx.money(gross_r)} × {label} return rate "
               f"{fmt_pct(p_rate)} = {ctx.money(value_r)} − {ctx.money(allowed)} = {ctx.money(impact)}")
    title = f"Cut returns from {fmt_pct(rate)} of gross revenue back to the {label} rate of {fmt_pct(p_rate)}"
    act = _action(f"{title}: returns {ctx.money(value_r)} → {ctx.money(allowed)}", "revenue.returns.value",
                  ret["value"], allowed)
    return [ctx.item("opportunity", "returns", title, evidence, impact, formula, "medium", derived=derived, action=act,
                     sample=int(_num(ret.get("lines")) or 0), min_sample=MIN_RETURN_LINES)]


