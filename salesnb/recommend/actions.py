"""SMART actions from the opportunities and risks: made, ranked and selected (see
:mod:`salesnb.recommend`, *Actions*)."""
from __future__ import annotations

from ..fmt import fmt_count
from .evidence import MATERIAL_SHARE_PTS, MAX_ACTIONS, MAX_ACTIONS_PER_RULE, MIN_ACTIONS, _Ctx, _num


def _rank_key(item: dict):
    return (-item["priority"], item["title"], item["rule"])


def _is_share(metric) -> bool:
    return isinstance(metric, str) and metric.endswith("_pct")


def _make_action(item: dict, ctx: _Ctx) -> dict:
    spec = item["_action"]
    current, target = _num(spec["current"]), _num(spec["target"])
    if item["rule"] == "data_quality":
        material = item["material"]          # the rows concerned: >= 1% of rows or revenue
    elif item["impact"] is not None:
        material = ctx.material_money(item["impact"])
    elif _is_share(spec["metric"]) and current is not None and target is not None:
        material = abs(target - current) >= MATERIAL_SHARE_PTS - 1e-9
    else:
        material = item["material"]
    return {
        "kind": "action", "rule": item["rule"], "title": spec["title"], "metric": spec["metric"],
        "current": spec["current"], "target": spec["target"], "deadline_days": spec["deadline_days"],
        "owner": item.get("owner"), "owner_dimension": item.get("owner_dimension"),
        "evidence": item["evidence"], "derived": item["derived"], "parameters": item["parameters"],
        "impact": item["impact"],
        "formula": item["formula"], "confidence": item["confidence"], "priority": item["priority"],
        "basis": {"kind": item["kind"], "rule": item["rule"], "title": item["title"]},
        "material": material, "sample": item["sample"], "min_sample": item["min_sample"],
        "sample_ok": item["sample_ok"], "shown": material and item["sample_ok"],
    }


def select_actions(candidates: list[dict]) -> list[dict]:
    """Top actions by priority among the shown (material, enough sample) candidates: one per
    metric, at most two per rule (lifted below five), up to seven. The candidates that fail the
    evidence rules follow, flagged (``shown`` false), one per metric."""
    ranked = sorted(candidates, key=_rank_key)
    chosen: list[dict] = []

    def take(per_rule: int, limit: int) -> None:
        for a in ranked:
            if len(chosen) >= limit:
                return
            if not a.get("shown", True):
                continue
            if any(c is a or c["metric"] == a["metric"] for c in chosen):
                continue
            if sum(c["rule"] == a["rule"] for c in chosen) >= per_rule:
                continue
            chosen.append(a)

    take(MAX_ACTIONS_PER_RULE, MAX_ACTIONS)
    if len(chosen) < MIN_ACTIONS:
        take(MAX_ACTIONS, MIN_ACTIONS)
    hidden, metrics = [], {a["metric"] for a in chosen}
    for a in ranked:
        if not a.get("shown", True) and a["metric"] not in metrics:
            hidden.append(a)
            metrics.add(a["metric"])
    return sorted(chosen, key=_rank_key) + hidden


def _shown_first(items: list[dict]) -> list[dict]:
    ranked = sorted(items, key=_rank_key)
    return [i for i in ranked if i.get("shown", True)] + [i for i in ranked if not i.get("shown", True)]


def actions_note(n_shown: int) -> str | None:
    """The sentence the report gives when fewer than seven actions pass the evidence rules."""
    if n_shown >= MAX_ACTIONS:
        return None
    rules = ("an impact of at least 1% of the period's revenue or a share moved by at least 2 points, resting on "
             "enough orders or customers")
    if n_shown == 0:
        return f"No action passes the evidence rules ({rules}), so none is proposed."
    which = "1 action passes" if n_shown == 1 else f"{fmt_count(n_shown)} actions pass"
    return (f"Only {which} the evidence rules ({rules}) of up to {fmt_count(MAX_ACTIONS)}; the report proposes no "
            "more than the evidence supports.")


