"""The risk rules (see :mod:`salesnb.recommend`): each a pure function of the findings."""
from __future__ import annotations

import math
import re

from ..config import DIMENSION_NOUNS
from ..fmt import direction, fmt_count, fmt_month, fmt_number, fmt_pct
from ..models.forecast import MIN_MODEL_MONTHS
from .evidence import (CHURN_SHARE, CONCENTRATION, DATA_FIX_DEADLINE, DATA_QUALITY_MATERIAL_PCT, FLAT_PCT,
                       MIN_COHORT_CUSTOMERS, MIN_CUSTOMERS, MIN_TREND_MONTHS, MISSING_CUSTOMER_PCT, MISSING_LABEL,
                       RETENTION_DROP_PTS, TOP20_SHARE, TOP_CUSTOMER_SHARE, TREND_P, _Ctx, _action, _derived,
                       _ev, _min_orders, _num, _r1, _r2, _value_sample, dim_key)


def _month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def linear_trend(x, y) -> tuple[float, float, float]:
    """Least-squares slope of ``y`` on ``x``, its two-sided p-value and standard error
    (``scipy.stats.linregress``); NaN for fewer than three points or a flat series."""
    import numpy as np
    from scipy.stats import linregress
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) < 3 or len(set(xa.tolist())) < 2 or len(set(ya.tolist())) < 2:
        return float("nan"), float("nan"), float("nan")
    fit = linregress(xa, ya)
    return float(fit.slope), float(fit.pvalue), float(fit.stderr)


def rule_revenue_trend(ctx: _Ctx) -> list:
    gaps = set(ctx.data.get("gap_months") or [])
    months = [m for m in ctx.rev.get("trend_by_month") or []
              if not m.get("partial") and m.get("month") not in gaps and _num(m.get("revenue")) is not None
              and re.fullmatch(r"\d{4}-\d{2}", str(m.get("month")))]
    if len(months) < MIN_TREND_MONTHS:
        return []
    x = [_month_index(m["month"]) - _month_index(months[0]["month"]) for m in months]
    y = [_num(m["revenue"]) for m in months]
    slope, p, se = linear_trend(x, y)         # NaN for a flat series: no trend
    if not (math.isfinite(slope) and math.isfinite(p)) or slope >= 0 or p >= TREND_P:
        return []
    t = slope / se if se > 0 else None
    slope_r, p_r = _r2(slope), round(p, 3)
    t_r = None if t is None else _r2(t)
    first, last = months[0], months[-1]
    last_r = _r2(last["revenue"])
    fall = _r2(abs(slope_r) * 12)
    impact = min(fall, max(last_r, 0.0))
    confidence = "high" if p < 0.01 else "medium" if p < 0.05 else "low"
    evidence = [_ev(f"revenue.trend_by_month[{first['month']}].revenue", first["revenue"]),
                _ev(f"revenue.trend_by_month[{last['month']}].revenue", last["revenue"])]
    derived = [_derived("slope_per_month", slope_r, f"least-squares slope of monthly revenue over {len(months)} complete months"),
               _derived("p_value", p_r, "two-sided p-value of the slope (Student t, n - 2 degrees of freedom)"),
               _derived("months", len(months), "complete months in the fit")]
    if t_r is not None:
        derived.append(_derived("t_statistic", t_r, "slope / its standard error"))
    stat = f"t = {fmt_number(t_r, 2)}, " if t_r is not None else ""
    p_text = "p < 0.001" if p_r < 0.001 else f"p = {fmt_number(p_r, 3)}"
    formula = (f"least-squares slope {ctx.money(slope_r)} per month over {len(months)} complete months "
               f"({first['month']} to {last['month']}; {stat}{p_text}); "
               f"|slope| {ctx.money(abs(slope_r))} × 12 months = {ctx.money(fall)} less monthly revenue a year on")
    if impact < fall:
        formula += f", capped at the last complete month's revenue {ctx.money(last_r)}"
    title = (f"Revenue is trending down: {ctx.money(slope_r)} per month over the last {len(months)} complete months "
             f"({p_text})")
    return [ctx.item("risk", "revenue_trend", title, evidence, impact, formula, confidence, derived=derived,
                     parameters={"months_per_year": 12, "p_threshold": TREND_P, "p_shown_below": 0.001})]


def _no_acquisition(ctx: _Ctx) -> bool:
    """The period and the previous one have no new customer (SPEC 9.4)."""
    c = ctx.cust
    if c is None or not ctx.previous.get("available"):
        return False
    return _num(c.get("new")) == 0 and _num(c.get("previous_new")) == 0


def rule_no_acquisition(ctx: _Ctx) -> list:
    """No new customer in the period nor the one before: revenue can only come from the customers
    already acquired. Replaces the rules that assume acquisition (``revenue_decline``)."""
    if not _no_acquisition(ctx):
        return []
    c = ctx.cust
    last = c.get("last_acquisition_month")
    prev_label = ctx.previous.get("label")
    evidence = [_ev("customers.new", c["new"]), _ev("customers.previous_new", c["previous_new"]),
                _ev("customers.last_acquisition_month", last), _ev("customers.count", c.get("count"))]
    since = f"since {fmt_month(last)}" if last else "in the data"
    title = (f"No new customers {since}: none in {ctx.period_label} or {prev_label}, so revenue can only come "
             f"from the customers already acquired")
    formula = (f"new customers: {fmt_count(0)} in {ctx.period_label}, {fmt_count(0)} in {prev_label}; "
               f"the last first order was in {fmt_month(last) if last else 'no month'}")
    severity = 10.0
    change = (ctx.rev.get("change") or {}).get("total") or {}
    for which, info in (("year_ago", ctx.year_ago), ("previous", ctx.previous)):
        pct = _num(change.get(f"vs_{which}_pct"))
        if info.get("available") and pct is not None:
            evidence.append(_ev(f"revenue.change.total.vs_{which}_pct", change[f"vs_{which}_pct"]))
            formula += f"; revenue {direction(pct)} {fmt_pct(abs(pct))} on {info.get('label')}"
            severity = max(severity, -pct)
            break
    return [ctx.item("risk", "no_acquisition", title, evidence, None, formula, "high", severity=severity,
                     sample=int(_num(c.get("count")) or 0))]


def rule_revenue_decline(ctx: _Ctx) -> list:
    change = (ctx.rev.get("change") or {}).get("total") or {}
    total = ctx.total
    if total is None or _no_acquisition(ctx):   # gives way to no_acquisition
        return []
    for which, info, conf in (("year_ago", ctx.year_ago, "medium" if ctx.like_for_like else "high"),
                              ("previous", ctx.previous, "low")):
        if not info.get("available"):
            continue
        pct = _num(change.get(f"vs_{which}_pct"))
        base = _num((ctx.rev.get(which) or {}).get("total"))
        if pct is None or base is None:
            if which == "year_ago":
                continue
            return []
        if pct >= -FLAT_PCT:
            return []
        label = info.get("label")
        base_r, cur_r = _r2(base), _r2(total)
        lost = _r2(base_r - cur_r)
        evidence = [_ev("revenue.total", ctx.rev["total"]), _ev(f"revenue.{which}.total", ctx.rev[which]["total"]),
                    _ev(f"revenue.change.total.vs_{which}_pct", change[f"vs_{which}_pct"])]
        formula = f"{label} revenue {ctx.money(base_r)} − {ctx.period_label} revenue {ctx.money(cur_r)} = {ctx.money(lost)}"
        if ctx.like_for_like:
            formula += " (like for like: the same span of days)"
        title = f"Revenue is down {fmt_pct(abs(pct))} on {label}: {ctx.money(base_r)} → {ctx.money(cur_r)}"
        act = None
        if which == "year_ago":
            act = _action(f"Bring revenue back to its {label} level of {ctx.money(base_r)}", "revenue.total",
                          ctx.rev["total"], base_r)
        return [ctx.item("risk", "revenue_decline", title, evidence, lost, formula, conf, action=act)]
    return []


def rule_target_gap(ctx: _Ctx) -> list:
    t = ctx.rev.get("targets") or {}
    target, att = _num(t.get("revenue")), _num(t.get("attainment_pct"))
    if target is None or att is None or ctx.total is None or ctx.total >= target:
        return []
    target_r, cur_r = _r2(target), _r2(ctx.total)
    gap = _r2(target_r - cur_r)
    evidence = [_ev("revenue.targets.revenue", t["revenue"]), _ev("revenue.total", ctx.rev["total"]),
                _ev("revenue.targets.attainment_pct", t["attainment_pct"])]
    formula = f"target {ctx.money(target_r)} − revenue {ctx.money(cur_r)} = {ctx.money(gap)}"
    title = f"Revenue is {fmt_pct(att)} of its target: {ctx.money(gap)} short of {ctx.money(target_r)}"
    act = _action(f"Close the {ctx.money(gap)} gap to the revenue target of {ctx.money(target_r)}", "revenue.total",
                  ctx.rev["total"], target_r)
    return [ctx.item("risk", "target_gap", title, evidence, gap, formula, "high", action=act)]


TARGET_PROBABILITY_PCT = 50.0   # a target the forecast reaches with a lower probability is a risk


def _forecast_target_cases(fc: dict) -> list[tuple]:
    """(findings key of the forecast, label, target, probability, forecast, lo80, hi80, extra
    evidence) of each forecast target with a probability: the next quarter's, the partial period's."""
    out = []
    nq, t = fc.get("next_quarter") or {}, fc.get("target") or {}
    if _num(t.get("probability_pct")) is not None and _num(t.get("value")) is not None:
        out.append(("forecast.next_quarter", nq.get("label"), "forecast.target.value", t["value"],
                    "forecast.target.probability_pct", t["probability_pct"], nq))
    p = fc.get("period_projection") or {}
    if _num(p.get("probability_pct")) is not None and _num(p.get("target")) is not None:
        out.append(("forecast.period_projection", p.get("label"), "forecast.period_projection.target", p["target"],
                    "forecast.period_projection.probability_pct", p["probability_pct"], p))
    return out


def rule_forecast_target(ctx: _Ctx) -> list:
    """A revenue target the forecast reaches with a probability under 50% (SPEC 9.2): the next
    quarter's, and a partial period's projected end. Impact = target − forecast when positive."""
    fc = ctx.f.get("forecast") or {}
    win = next((c for c in fc.get("candidates") or [] if c.get("chosen")), {})
    coverage = _num(win.get("coverage80_pct"))
    months = int(_num((fc.get("series") or {}).get("months")) or 0)
    out = []
    for key, label, t_key, target, p_key, raw_prob, node in _forecast_target_cases(fc):
        prob = _num(raw_prob)
        forecast = _num(node.get("revenue"))
        if prob >= TARGET_PROBABILITY_PCT or forecast is None:
            continue
        target_r, forecast_r = _r2(target), _r2(forecast)
        gap = _r2(target_r - forecast_r)
        evidence = [_ev(t_key, target), _ev(p_key, raw_prob), _ev(f"{key}.revenue", node["revenue"]),
                    _ev("forecast.method", fc.get("method")), _ev("forecast.simulations", fc.get("simulations")),
                    _ev("forecast.series.months", (fc.get("series") or {}).get("months"))]
        if node.get("lo80") is not None:
            evidence += [_ev(f"{key}.lo80", node["lo80"]), _ev(f"{key}.hi80", node["hi80"])]
        derived = [_derived("shortfall", gap, "target − forecast")]
        if coverage is not None:
            derived.append(_derived("coverage80_pct", _r1(coverage), "the used method's 80% coverage on the backtest"))
        interval = (f", 80% interval {ctx.money(node['lo80'])}–{ctx.money(node['hi80'])}"
                    if node.get("lo80") is not None else "")
        title = (f"The {label} revenue target of {ctx.money(target_r)} is unlikely to be reached: probability "
                 f"{fmt_pct(prob)} (forecast {ctx.money(forecast_r)}{interval})")
        sims = fc.get("simulations")
        formula = (f"{fmt_pct(prob)} of {fmt_count(sims)} simulated {label} totals reach {ctx.money(target_r)} "
                   f"(a risk below {fmt_pct(TARGET_PROBABILITY_PCT, 0)}); ")
        if key == "forecast.period_projection":
            evidence.append(_ev(f"{key}.actual_to_date", node.get("actual_to_date")))
            formula += (f"projected {ctx.money(forecast_r)} = {ctx.money(node.get('actual_to_date'))} to date + the "
                        "forecast of the remaining days; ")
        formula += (f"target {ctx.money(target_r)} − forecast {ctx.money(forecast_r)} = {ctx.money(gap)}" if gap > 0
                    else f"the forecast {ctx.money(forecast_r)} is at or above the target, but most simulated totals are not")
        confidence = "high" if coverage is not None and coverage >= 70 else "medium" if coverage is None or coverage >= 50 else "low"
        item = ctx.item("risk", "forecast_target", title, evidence, gap if gap > 0 else None, formula, confidence,
                        severity=TARGET_PROBABILITY_PCT - prob, derived=derived,
                        parameters={"probability_threshold_pct": TARGET_PROBABILITY_PCT, "interval_pct": 80,
                                    "coverage_high_pct": 70, "coverage_medium_pct": 50},
                        sample=months, min_sample=MIN_MODEL_MONTHS)
        item["current"], item["target"] = node["revenue"], target
        out.append(item)
    return out


def _customer_confidence(n) -> str:
    n = _num(n) or 0
    return "high" if n >= 500 else "medium" if n >= 100 else "low"


def rule_churn_exposure(ctx: _Ctx) -> list:
    c = ctx.cust
    if c is None:
        return []
    share, revenue, n = _num(c.get("at_risk_share_pct")), _num(c.get("at_risk_revenue")), _num(c.get("at_risk_customers"))
    if share is None or share < CHURN_SHARE or revenue is None or revenue <= 0:
        return []
    rev_r = _r2(revenue)
    evidence = [_ev("customers.at_risk_share_pct", c["at_risk_share_pct"]),
                _ev("customers.at_risk_revenue", c["at_risk_revenue"]),
                _ev("customers.rfm_customers", c.get("rfm_customers"))]
    if n is not None:
        evidence.append(_ev("customers.at_risk_customers", c["at_risk_customers"]))
    segments = ", ".join(c.get("at_risk_segments") or []) or "the churn-risk RFM segments"
    formula = (f"at-risk customers ({segments}): {fmt_pct(share)} of {fmt_count(c.get('rfm_customers'))} scored customers; "
               f"their revenue in the last 12 months = {ctx.money(rev_r)}")
    who = f"{fmt_count(n)} customers" if n is not None else "At-risk customers"
    title = f"Churn exposure: {who} ({fmt_pct(share)} of those scored) are at risk, with {ctx.money(rev_r)} of revenue in the last 12 months"
    return [ctx.item("risk", "churn_exposure", title, evidence, rev_r, formula,
                     _customer_confidence(c.get("rfm_customers")),
                     parameters={"window_months": 12, "threshold_pct": CHURN_SHARE},
                     sample=int(_num(c.get("rfm_customers")) or 0), min_sample=MIN_CUSTOMERS)]


def rule_customer_concentration(ctx: _Ctx) -> list:
    c = ctx.cust
    if c is None:
        return []
    top20, top1 = _num(c.get("top20_revenue_share_pct")), _num(c.get("top_customer_share_pct"))
    fires20 = top20 is not None and top20 >= TOP20_SHARE
    fires1 = top1 is not None and top1 >= TOP_CUSTOMER_SHARE
    if not (fires20 or fires1):
        return []
    evidence, parts, severity = [], [], 0.0
    if top20 is not None:
        evidence.append(_ev("customers.top20_revenue_share_pct", c["top20_revenue_share_pct"]))
        if c.get("top20_customers") is not None:
            evidence.append(_ev("customers.top20_customers", c["top20_customers"]))
    if top1 is not None:
        evidence.append(_ev("customers.top_customer_share_pct", c["top_customer_share_pct"]))
    if fires20:
        parts.append(f"the top 20% of customers bring {fmt_pct(top20)} of customer revenue (threshold {fmt_pct(TOP20_SHARE, 0)})")
        severity = max(severity, top20 - TOP20_SHARE)
    if fires1:
        parts.append(f"the largest customer brings {fmt_pct(top1)} (threshold {fmt_pct(TOP_CUSTOMER_SHARE, 0)})")
        severity = max(severity, top1 - TOP_CUSTOMER_SHARE)
    title = "Revenue is concentrated on few customers: " + "; ".join(parts)
    formula = "; ".join(parts)
    return [ctx.item("risk", "customer_concentration", title, evidence, None, formula,
                     _customer_confidence(c.get("count")), severity=severity,
                     sample=int(_num(c.get("count")) or 0),
                     parameters={"top_share_pct": 20, "threshold_pct": TOP20_SHARE,
                                 "top_customer_threshold_pct": TOP_CUSTOMER_SHARE})]


def rule_dimension_concentration(ctx: _Ctx) -> list:
    out = []
    for dim, limit in sorted(CONCENTRATION.items()):
        rows = ctx.dims.get(dim) or []
        if len(rows) < 2:
            continue
        top = max(rows, key=lambda r: (_num(r.get("share_pct")) or -1.0, str(r.get("value"))))
        share = _num(top.get("share_pct"))
        if share is None or share <= limit or top.get("value") == MISSING_LABEL:
            continue
        value, noun = top["value"], DIMENSION_NOUNS.get(dim, dim)
        prev_total = sum(_num(r.get("previous_revenue")) or 0.0 for r in rows)
        prev = _num(top.get("previous_revenue"))
        evidence = [_ev(dim_key(dim, value, "share_pct"), top["share_pct"]),
                    _ev(dim_key(dim, value, "revenue"), top["revenue"]), _ev("revenue.total", ctx.rev.get("total"))]
        derived, prev_share = [], None
        if ctx.previous.get("available") and prev is not None and prev_total > 0:
            prev_share = _r1(prev / prev_total * 100.0)
            evidence.append(_ev(dim_key(dim, value, "previous_revenue"), top["previous_revenue"]))
            derived.append(_derived("previous_share_pct", prev_share,
                                    f"{value}'s {ctx.previous.get('label')} revenue / the {ctx.previous.get('label')} total"))
        confidence = "high" if prev_share is not None and prev_share > limit else "medium"
        evidence.append(_ev(dim_key(dim, value, "orders"), top.get("orders")))
        if prev_share is not None and top.get("previous_orders") is not None:
            evidence.append(_ev(dim_key(dim, value, "previous_orders"), top["previous_orders"]))
        share_r = _r1(share)
        formula = (f"{value} revenue {ctx.money(_r2(top['revenue']))} / revenue {ctx.money(_r2(ctx.total or 0))} = "
                   f"{fmt_pct(share_r)} of revenue (threshold {fmt_pct(limit, 0)})")
        if prev_share is not None:
            formula += f"; {ctx.previous.get('label')}: {fmt_pct(prev_share)}"
        title = f"{fmt_pct(share_r)} of revenue comes from one {noun}, {value}"
        act = None
        if prev_share is not None and prev_share < share_r:
            act = _action(f"Grow revenue outside the {value} {noun} to bring its share from {fmt_pct(share_r)} back to "
                          f"its {ctx.previous.get('label')} level of {fmt_pct(prev_share)}", dim_key(dim, value, "share_pct"),
                          top["share_pct"], prev_share)
        out.append(ctx.item("risk", "dimension_concentration", title, evidence, None, formula, confidence,
                            severity=share - limit, derived=derived, parameters={"threshold_pct": limit},
                            owner=None, owner_dimension=dim, action=act,
                            sample=_value_sample(dim, top, prev_share is not None and top.get("previous_orders") is not None),
                            min_sample=_min_orders(dim)))
    return out


def rule_retention_decline(ctx: _Ctx) -> list:
    c = ctx.cust
    if c is None:
        return []
    trend = (c.get("cohort_retention") or {}).get("retention_trend") or {}
    recent, earlier, change = _num(trend.get("recent_avg_pct")), _num(trend.get("earlier_avg_pct")), _num(trend.get("change_pts"))
    if recent is None or earlier is None or change is None or change > -RETENTION_DROP_PTS:
        return []
    rc, ec = trend.get("recent_cohorts") or [], trend.get("earlier_cohorts") or []
    evidence = [_ev("customers.cohort_retention.retention_trend.recent_avg_pct", trend["recent_avg_pct"]),
                _ev("customers.cohort_retention.retention_trend.earlier_avg_pct", trend["earlier_avg_pct"]),
                _ev("customers.cohort_retention.retention_trend.change_pts", trend["change_pts"])]
    formula = (f"month-1 retention of the recent cohorts {fmt_pct(recent)} − earlier cohorts {fmt_pct(earlier)} = "
               f"{fmt_number(_r1(change), 1)} points")
    if rc and ec:
        formula += f" (recent: {rc[0]} to {rc[-1]}; earlier: {ec[0]} to {ec[-1]})"
    title = f"Cohort retention is falling: month-1 retention {fmt_pct(earlier)} → {fmt_pct(recent)}"
    confidence = "medium" if len(rc) >= 3 else "low"
    smallest = _num(trend.get("min_cohort_customers"))
    if smallest is not None:
        evidence.append(_ev("customers.cohort_retention.retention_trend.min_cohort_customers",
                            trend["min_cohort_customers"]))
    return [ctx.item("risk", "retention_decline", title, evidence, None, formula, confidence, severity=abs(change),
                     derived=[_derived("change_pts", _r1(change), "recent − earlier month-1 retention")],
                     parameters={"drop_threshold_pts": RETENTION_DROP_PTS},
                     sample=int(smallest) if smallest is not None else 0, min_sample=MIN_COHORT_CUSTOMERS)]


def _months_in_data(d: dict) -> int:
    first, last = str(d.get("first_date") or ""), str(d.get("last_date") or "")
    if not (re.match(r"\d{4}-\d{2}", first) and re.match(r"\d{4}-\d{2}", last)):
        return 0
    return _month_index(last[:7]) - _month_index(first[:7]) + 1


def rule_data_quality(ctx: _Ctx) -> list:
    """The data-quality risks, in this order: partial months, gap months, dropped rows, revenue
    without a customer id, duplicate rows."""
    d = ctx.data
    read = _num(d.get("rows_read"))
    out = []
    for check in (_partial_months_risk, _gap_months_risk, _dropped_rows_risk, _missing_customer_risk,
                  _duplicates_risk):
        out += check(ctx, d, read)
    return out


def _partial_months_risk(ctx: _Ctx, d: dict, read) -> list:
    """A data-quality risk: partial months of the period: their share of its revenue."""
    out = []
    period_months = {m.get("month"): m for m in ctx.rev.get("by_month") or []}
    partial = [m for m in (ctx.rev.get("partial_months_excluded") or []) if m in period_months]
    if partial and ctx.total:
        part_rev = sum(_num(period_months[m].get("revenue")) or 0.0 for m in partial)
        share = part_rev / ctx.total * 100.0 if ctx.total > 0 else 0.0
        evidence = [_ev("revenue.partial_months_excluded", ctx.rev["partial_months_excluded"]),
                    _ev("data.partial_months", d.get("partial_months"))]
        evidence += [_ev(f"data.month_coverage.{m}", (d.get("month_coverage") or {})[m]) for m in partial
                     if m in (d.get("month_coverage") or {})]
        evidence += [_ev(f"revenue.by_month[{m}].revenue", period_months[m]["revenue"]) for m in partial]
        names = ", ".join(partial)
        cover = "; ".join(f"{m}: {fmt_pct(100.0 * d['month_coverage'][m])} of its days"
                          for m in partial if m in (d.get("month_coverage") or {}))
        formula = (f"partial months {names} hold {fmt_pct(share)} of the period's revenue"
                   + (f" ({cover})" if cover else "") + "; they are left out of best/worst month and growth")
        title = f"The period includes partial data: {names} is left out of best/worst month and growth statistics"
        derived = [_derived("partial_revenue_share_pct", _r1(share), "partial months' revenue / period revenue")]
        derived += [_derived(f"coverage_pct_{m}", _r1(100.0 * d["month_coverage"][m]), f"data.month_coverage.{m} × 100")
                    for m in partial if m in (d.get("month_coverage") or {})]
        out.append(ctx.item("risk", "data_quality", title, evidence, None, formula, "high", severity=share,
                            derived=derived, material=share >= DATA_QUALITY_MATERIAL_PCT))
    return out


def _gap_months_risk(ctx: _Ctx, d: dict, read) -> list:
    """A data-quality risk: calendar months inside the data's range without rows."""
    out = []
    gaps = d.get("gap_months") or []
    if gaps:
        title = f"{fmt_count(len(gaps))} calendar month(s) inside the data's range have no rows: {', '.join(gaps)}"
        act = _action(f"Fill the {fmt_count(len(gaps))} gap month(s) in the source data ({', '.join(gaps)})",
                      "data.gap_months", gaps, [], deadline_days=DATA_FIX_DEADLINE)
        span = _months_in_data(d)
        gap_share = 100.0 * len(gaps) / span if span else 100.0
        out.append(ctx.item("risk", "data_quality", title, [_ev("data.gap_months", gaps)], None,
                            f"gap months: {', '.join(gaps)}", "high", severity=5.0 * len(gaps), action=act,
                            derived=[_derived("gap_month_share_pct", _r1(gap_share),
                                              "gap months / calendar months from the first to the last date")],
                            material=gap_share >= DATA_QUALITY_MATERIAL_PCT))
    return out


def _dropped_rows_risk(ctx: _Ctx, d: dict, read) -> list:
    """A data-quality risk: rows dropped by the data rules."""
    out = []
    dropped = d.get("rows_dropped") or {}
    n_dropped = sum(_num(v) or 0 for v in dropped.values())
    if n_dropped > 0 and read:
        share = n_dropped / read * 100.0
        evidence = [_ev("data.rows_read", d["rows_read"])] + [_ev(f"data.rows_dropped.{k}", v) for k, v in sorted(dropped.items())]
        reasons = ", ".join(f"{k}: {fmt_count(v)}" for k, v in sorted(dropped.items()))
        title = f"{fmt_count(n_dropped)} of {fmt_count(read)} rows were dropped ({fmt_pct(share)}): {reasons}"
        formula = f"dropped {fmt_count(n_dropped)} / read {fmt_count(read)} = {fmt_pct(share)}"
        act = _action(f"Fix the {fmt_count(n_dropped)} unreadable rows at the source ({reasons})", "data.rows_dropped",
                      dropped, {}, deadline_days=DATA_FIX_DEADLINE)
        out.append(ctx.item("risk", "data_quality", title, evidence, None, formula, "high", severity=share,
                            derived=[_derived("dropped_rows", int(n_dropped), "sum of data.rows_dropped"),
                                     _derived("dropped_share_pct", _r1(share), "dropped / read")], action=act,
                            material=share >= DATA_QUALITY_MATERIAL_PCT))
    return out


def _missing_customer_risk(ctx: _Ctx, d: dict, read) -> list:
    """A data-quality risk: revenue without a customer id."""
    out = []
    miss = d.get("missing_customer") or {}
    mshare = _num(miss.get("revenue_share_pct"))
    if mshare is not None and mshare > MISSING_CUSTOMER_PCT and d.get("has_customers", True):
        evidence = [_ev("data.missing_customer.revenue_share_pct", miss["revenue_share_pct"]),
                    _ev("data.missing_customer.revenue", miss.get("revenue")),
                    _ev("data.missing_customer.rows", miss.get("rows"))]
        pshare = _num((ctx.cust or {}).get("unidentified_revenue_share_pct"))
        formula = (f"{fmt_count(miss.get('rows'))} rows without a customer id hold revenue "
                   f"{ctx.money(_r2(miss.get('revenue') or 0))} = {fmt_pct(mshare)} of all revenue")
        if pshare is not None:
            evidence.append(_ev("customers.unidentified_revenue_share_pct", ctx.cust["unidentified_revenue_share_pct"]))
            formula += f"; {fmt_pct(pshare)} in {ctx.period_label}"
        title = f"{fmt_pct(mshare)} of revenue has no customer id: customer analyses leave it out"
        act = _action(f"Capture the customer id on every order: {fmt_pct(mshare)} of revenue has none",
                      "data.missing_customer.revenue_share_pct", miss["revenue_share_pct"], 0.0,
                      deadline_days=DATA_FIX_DEADLINE)
        row_share = 100.0 * (_num(miss.get("rows")) or 0.0) / read if read else 0.0
        out.append(ctx.item("risk", "data_quality", title, evidence, None, formula, "high", severity=mshare, action=act,
                            material=max(mshare, row_share) >= DATA_QUALITY_MATERIAL_PCT))
    return out


def _duplicates_risk(ctx: _Ctx, d: dict, read) -> list:
    """A data-quality risk: exact duplicate rows, kept or dropped."""
    out = []
    dup = d.get("duplicates") or {}
    rows = _num(dup.get("rows"))
    if rows and read:
        share = rows / read * 100.0
        kept = not dup.get("dropped")
        title = (f"{fmt_count(rows)} exact duplicate rows ({fmt_pct(share)} of rows) are "
                 f"{'kept (dedupe: false)' if kept else 'dropped (dedupe: true)'}")
        out.append(ctx.item("risk", "data_quality", title,
                            [_ev("data.duplicates.rows", dup["rows"]), _ev("data.duplicates.dropped", dup.get("dropped")),
                             _ev("data.rows_read", d["rows_read"])], None,
                            f"duplicates {fmt_count(rows)} / read {fmt_count(read)} = {fmt_pct(share)}", "high",
                            severity=share, derived=[_derived("duplicate_share_pct", _r1(share), "duplicates / read")],
                            material=share >= DATA_QUALITY_MATERIAL_PCT))
    return out


