"""Recommendations for pipeline findings (SPEC 10): the same machinery as for sales (items with
evidence, materiality and samples from :mod:`.evidence`, actions from :mod:`.actions`), over the
``pipeline`` section. Pure functions of the findings.

Rules
  ``win_rate_gap``      (opportunity) a rep whose win rate is below the median rep's, among the
                        reps with >= 20 closed deals in the period (>= 3 such reps): impact =
                        (median − rep rate) × the rep's closed deals × the period's average deal
                        size (the deals the rep would have won at the median rate). At most 3 (the
                        largest). high with >= 50 closed deals, else medium.
  ``stalled_deals``     (risk) open deals older than the 90th percentile of the cycle days of the
                        deals won in the 12 months up to the period's end: impact = their value.
                        sample = those won deals (>= 30). medium.
  ``rep_concentration`` (risk) one rep > 40% of won revenue.
  ``account_concentration`` (risk) the top 20% of accounts >= 70% of won revenue.
  ``data_quality``      (risk) rows dropped (no stage, a closed deal without close date) holding
                        >= 1% of the rows.
Materiality: money against the period's won revenue (>= 1%).
"""
from __future__ import annotations

from ..fmt import fmt_count, fmt_pct
from .actions import _make_action, _shown_first, actions_note, select_actions
from .evidence import (CONCENTRATION, DATA_QUALITY_MATERIAL_PCT, MIN_PEERS, MIN_REP_ORDERS, TOP20_SHARE, _action,
                       _Ctx, _derived, _ev, _median, _num, _r1, _r2)

MAX_GAPS = 3
HIGH_CONFIDENCE_DEALS = 50
MIN_WON_FOR_THRESHOLD = 30


def _rep_key(rep: str, field: str) -> str:
    return f"pipeline.by_rep[{rep}].{field}"


def rule_win_rate_gap(ctx: _Ctx, p: dict) -> list:
    reps = [r for r in (p.get("by_rep") or []) if r.get("material") and r.get("win_rate_pct") is not None]
    size = _num(p.get("avg_deal_size"))
    if len(reps) < MIN_PEERS or not size:
        return []
    median = _r1(_median([r["win_rate_pct"] for r in reps]))
    gaps = []
    for r in reps:
        rate = _r1(r["win_rate_pct"])
        closed = r["won"] + r["lost"]
        if rate >= median:
            continue
        impact = (median - rate) / 100.0 * closed * _r2(size)
        gaps.append((impact, r, rate, closed))
    gaps.sort(key=lambda g: (-g[0], g[1]["sales_rep"]))
    out = []
    for impact, r, rate, closed in gaps[:MAX_GAPS]:
        rep = r["sales_rep"]
        formula = (f"({fmt_pct(median)} − {fmt_pct(rate)}) × {fmt_count(closed)} closed deals × average deal size "
                   f"{ctx.money(_r2(size))}")
        evidence = [_ev(_rep_key(rep, "win_rate_pct"), r["win_rate_pct"]), _ev(_rep_key(rep, "won"), r["won"]),
                    _ev(_rep_key(rep, "lost"), r["lost"]), _ev("pipeline.avg_deal_size", p.get("avg_deal_size"))]
        derived = [_derived("median_rep_win_rate_pct", median,
                            f"median win rate of the {fmt_count(len(reps))} reps with ≥ {MIN_REP_ORDERS} closed deals")]
        act = _action(f"Coach {rep} to raise the win rate from {fmt_pct(rate)} to the median rep's {fmt_pct(median)}",
                      _rep_key(rep, "win_rate_pct"), r["win_rate_pct"], median)
        out.append(ctx.item("opportunity", "win_rate_gap", f"{rep} wins {fmt_pct(rate)} of closed deals against the "
                            f"median rep's {fmt_pct(median)}", evidence, impact, formula,
                            "high" if closed >= HIGH_CONFIDENCE_DEALS else "medium", derived=derived,
                            parameters={"min_closed_deals": MIN_REP_ORDERS}, owner=rep, owner_dimension="sales_rep",
                            action=act, sample=closed, min_sample=MIN_REP_ORDERS))
    return out


def rule_stalled_deals(ctx: _Ctx, p: dict) -> list:
    s = p.get("stalled") or {}
    days, n = _num(s.get("threshold_days")), int(s.get("deals") or 0)
    if days is None or n == 0:
        return []
    value = float(s.get("value") or 0.0)
    evidence = [_ev("pipeline.stalled.deals", n), _ev("pipeline.stalled.value", s.get("value")),
                _ev("pipeline.stalled.threshold_days", s.get("threshold_days")),
                _ev("pipeline.stalled.won_in_window", s.get("won_in_window"))]
    formula = (f"{fmt_count(n)} open deals older than {fmt_count(round(days))} days (the 90th percentile of the cycle "
               f"of {fmt_count(s.get('won_in_window'))} deals won in the 12 months to the period's end), worth "
               f"{ctx.money(_r2(value))}")
    target = n // 2
    act = _action(f"Review the {fmt_count(n)} stalled deals: close or disqualify at least half of them",
                  "pipeline.stalled.deals", n, target)
    return [ctx.item("risk", "stalled_deals", f"{fmt_count(n)} open deals have stalled beyond "
                     f"{fmt_count(round(days))} days", evidence, value, formula, "medium",
                     parameters={"quantile": s.get("quantile")}, action=act,
                     sample=int(s.get("won_in_window") or 0), min_sample=MIN_WON_FOR_THRESHOLD)]


def rule_concentration(ctx: _Ctx, p: dict) -> list:
    conc = p.get("concentration") or {}
    out = []
    for key, rule, limit, what in (("top_rep", "rep_concentration", CONCENTRATION["sales_rep"], "one rep"),
                                   ("top_accounts", "account_concentration", TOP20_SHARE, "the top 20% of accounts")):
        c = conc.get(key)
        share = _num((c or {}).get("share_pct"))
        if share is None or share <= limit:
            continue
        names = ", ".join(c["names"][:3]) + (" …" if len(c["names"]) > 3 else "")
        evidence = [_ev(f"pipeline.concentration.{key}.share_pct", c["share_pct"]),
                    _ev(f"pipeline.concentration.{key}.revenue", c["revenue"]), _ev("pipeline.won.revenue", ctx.total)]
        formula = (f"{names}: {ctx.money(_r2(c['revenue']))} / won revenue {ctx.money(_r2(ctx.total or 0))} = "
                   f"{fmt_pct(_r1(share))} (threshold {fmt_pct(limit, 0)})")
        out.append(ctx.item("risk", rule, f"{fmt_pct(_r1(share))} of won revenue comes from {what} ({names})",
                            evidence, None, formula, "medium", severity=share - limit,
                            parameters={"threshold_pct": limit}, sample=c.get("deals")))
    return out


def rule_dropped_rows(ctx: _Ctx, p: dict) -> list:
    d = ctx.data
    dropped = {k: v for k, v in (d.get("rows_dropped") or {}).items() if k != "filtered"}
    n, rows = sum(dropped.values()), int(d.get("rows_read") or 0)
    if not n or not rows:
        return []
    share = 100.0 * n / rows
    evidence = [_ev(f"data.rows_dropped.{k}", v) for k, v in sorted(dropped.items())] + [_ev("data.rows_read", rows)]
    formula = ", ".join(f"{k}: {fmt_count(v)}" for k, v in sorted(dropped.items())) + f" of {fmt_count(rows)} rows"
    return [ctx.item("risk", "data_quality", f"{fmt_count(n)} rows could not be placed as deals", evidence, None,
                     formula, "high", severity=share, material=share >= DATA_QUALITY_MATERIAL_PCT)]


RULES = (rule_win_rate_gap, rule_stalled_deals, rule_concentration, rule_dropped_rows)


def pipeline_recommendations(findings: dict) -> dict:
    """Opportunities, risks and actions of pipeline findings (the shape of
    :func:`salesnb.recommend.recommendations`)."""
    f = getattr(findings, "data", findings) or {}
    p = f.get("pipeline") or {}
    ctx = _Ctx(f)
    ctx.total = _num((p.get("won") or {}).get("revenue"))   # materiality against won revenue
    items = [i for rule in RULES for i in rule(ctx, p)]
    candidates = [_make_action(i, ctx) for i in items if "_action" in i]
    for item in items:
        item.pop("_action", None)
    actions = select_actions(candidates)
    n_shown = sum(1 for a in actions if a["shown"])
    return {"opportunities": _shown_first([i for i in items if i["kind"] == "opportunity"]),
            "risks": _shown_first([i for i in items if i["kind"] == "risk"]),
            "actions": actions, "shown_actions": n_shown, "actions_note": actions_note(n_shown)}
