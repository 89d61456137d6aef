"""What every rule rests on (SPEC 9.4): the thresholds, evidence paths into the findings
(:func:`resolve`), rounding, materiality, ranking and the findings read defensively (:class:`_Ctx`)."""
from __future__ import annotations

import math

import numpy as np

from ..fmt import fmt_money


CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.7, "low": 0.4}
NON_MONEY_WEIGHT = 0.1
DEADLINE_STEPS = ((5.0, 30), (15.0, 60), (30.0, 90))
DEADLINE_MAX = 120
DATA_FIX_DEADLINE = 30
MAX_ACTIONS = 7
MIN_ACTIONS = 5
MAX_ACTIONS_PER_RULE = 2

PEER_DIMENSIONS = ("sales_rep", "segment", "channel", "region", "category")
GAP_DIMENSIONS = ("region", "segment", "category", "channel", "sales_rep")
MAX_DIMENSION_VALUES = 30
MIN_PEERS = 3
AOV_MIN_ORDERS = 10
MIN_TREND_MONTHS = 6
GAP_MIN_ORDERS = 20
GAP_MIN_MEDIAN_SHARE = 0.5
MAX_PER_DIMENSION = 3
DECLINE_MIN_PCT = 5.0
DECLINE_MIN_PREVIOUS_SHARE = 1.0
DECLINE_MIN_ORDERS = 10
TOP_PRODUCTS = 10
FLAT_PCT = 1.0
TREND_P = 0.10
CHURN_SHARE = 20.0
TOP20_SHARE = 70.0
TOP_CUSTOMER_SHARE = 10.0
CONCENTRATION = {"region": 50.0, "channel": 50.0, "sales_rep": 40.0}
RETENTION_DROP_PTS = 2.0
MISSING_CUSTOMER_PCT = 0.5
RETURNS_MIN_RATE = 1.0
MISSING_LABEL = "(missing)"
# evidence (SPEC 9.4)
MATERIAL_PCT = 1.0            # a money impact is material at >= 1% of the period's revenue
MATERIAL_SHARE_PTS = 2.0      # a share target is material when it moves the share >= 2 points
DATA_QUALITY_MATERIAL_PCT = 1.0  # data problems count when their rows hold >= 1% of rows or revenue
MIN_COHORT_CUSTOMERS = 30     # every cohort a rule uses
MIN_VALUE_ORDERS = 30         # a dimension value, in each window compared
MIN_REP_ORDERS = 20           # a sales rep
MIN_CUSTOMERS = 30            # a customer rate (reactivation, repeat orders, churn) rests on >= 30 customers
MIN_RETURN_LINES = 30         # a return rate rests on >= 30 return lines

_SELECTOR_FIELDS = ("value", "month", "quarter", "segment", "sales_rep", "cohort", "name", "band")


# --------------------------------------------------------------------------- evidence paths

def _split_key(key: str) -> list:
    """``a.b[x].c`` → ``["a", "b", ("x",), "c"]`` (a tuple is a list selector)."""
    parts, i, token = [], 0, ""
    while i < len(key):
        ch = key[i]
        if ch == ".":
            if token:
                parts.append(token)
            token = ""
        elif ch == "[":
            if token:
                parts.append(token)
            token = ""
            # the selector runs to the "]" that ends the key or precedes "." / "["
            j = i + 1
            while True:
                j = key.index("]", j)
                if j + 1 == len(key) or key[j + 1] in ".[":
                    break
                j += 1
            parts.append((key[i + 1:j],))
            i = j
        else:
            token += ch
        i += 1
    if token:
        parts.append(token)
    return parts


def resolve(findings: dict, key: str):
    """The value at a dotted evidence ``key`` (``KeyError`` when it does not exist)."""
    node = getattr(findings, "data", findings)
    for part in _split_key(key):
        if isinstance(part, tuple):
            wanted = part[0]
            if not isinstance(node, list):
                raise KeyError(key)
            for row in node:
                if isinstance(row, dict) and any(str(row.get(f)) == wanted for f in _SELECTOR_FIELDS if f in row):
                    node = row
                    break
            else:
                raise KeyError(key)
        else:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(key)
            node = node[part]
    return node


def dim_key(dim: str, value, field: str) -> str:
    return f"revenue.by_dimension.{dim}[{value}].{field}"


# --------------------------------------------------------------------------- small helpers

def _num(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _r2(v: float) -> float:
    return round(float(v) + 0.0, 2) + 0.0


def _r1(v: float) -> float:
    return round(float(v) + 0.0, 1) + 0.0


def _median(values: list[float]) -> float:
    return _quantile(values, 0.5)


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile, linear between order statistics (NumPy's default method)."""
    return float(np.quantile(np.asarray(values, dtype=float), q))


def _ev(key: str, value) -> dict:
    return {"key": key, "value": value}


def _derived(name: str, value, formula: str) -> dict:
    return {"name": name, "value": value, "formula": formula}


def deadline_for(current, target) -> int:
    """30/60/90/120 days by the relative size of the change (see the module docstring)."""
    current, target = _num(current), _num(target)
    if current is None or target is None:
        return DEADLINE_MAX
    if current == 0:
        return DEADLINE_MAX if target != 0 else DEADLINE_STEPS[0][1]
    change = abs(target - current) / abs(current) * 100.0
    for limit, days in DEADLINE_STEPS:
        if change <= limit:
            return days
    return DEADLINE_MAX


def priority_score(impact, revenue_total, confidence: str, severity=None) -> float:
    weight = CONFIDENCE_WEIGHT[confidence]
    impact, total = _num(impact), _num(revenue_total)
    if impact is not None and total and total > 0:
        score = 100.0 * abs(impact) / total
    else:
        score = (_num(severity) or 0.0) * NON_MONEY_WEIGHT
    return _r2(score * weight)


class _Ctx:
    """The findings, read defensively."""

    def __init__(self, findings: dict):
        self.f = findings
        self.rev = findings.get("revenue") or {}
        cust = findings.get("customers")
        self.cust = cust if isinstance(cust, dict) and cust.get("available", True) is not False else None
        self.data = findings.get("data") or {}
        self.currency = findings.get("currency") or "USD"
        self.total = _num(self.rev.get("total"))
        self.period_label = (findings.get("period") or {}).get("label")
        cmp = findings.get("comparison") or {}
        self.previous = cmp.get("previous") or {}
        self.year_ago = cmp.get("year_ago") or {}
        self.like_for_like = bool(cmp.get("like_for_like"))
        dims = self.rev.get("by_dimension") or {}
        present = self.rev.get("dimensions")
        if present is None:
            present = self.data.get("dimensions")
        self.dims = {d: rows for d, rows in dims.items()
                     if isinstance(rows, list) and (present is None or d in present)}

    def money(self, v) -> str:
        return fmt_money(v, self.currency)

    def material_money(self, impact) -> bool:
        """|impact| >= 1% of the period's revenue (no revenue: any impact is material)."""
        impact = _num(impact)
        if impact is None:
            return True
        if not self.total or self.total <= 0:
            return impact != 0
        return abs(impact) >= MATERIAL_PCT / 100.0 * self.total

    def item(self, kind, rule, title, evidence, impact, formula, confidence, *, severity=None, derived=None,
             parameters=None, owner=None, owner_dimension=None, action=None, sample=None, min_sample=None,
             material=None) -> dict:
        """One item. ``sample``: the smallest count the rule checked; ``min_sample``: what the rule
        needs; ``material``: the rule's own verdict for an item without money (default: it fired,
        so its own threshold is met)."""
        impact = None if impact is None else _r2(impact)
        is_material = self.material_money(impact) if impact is not None else (True if material is None else bool(material))
        sample_ok = sample is None or min_sample is None or sample >= min_sample
        out = {
            "kind": kind, "rule": rule, "title": title, "evidence": evidence,
            "derived": derived or [], "parameters": parameters or {},
            "impact": impact,
            "formula": formula, "confidence": confidence,
            "priority": priority_score(impact, self.total, confidence, severity),
            "owner": owner, "owner_dimension": owner_dimension,
            "current": action["current"] if action is not None else None,
            "target": action["target"] if action is not None else None,
            "material": is_material, "sample": sample, "min_sample": min_sample, "sample_ok": sample_ok,
            "shown": is_material and sample_ok,
        }
        if action is not None:
            out["_action"] = action
        return out


def _min_orders(dim: str) -> int:
    """Orders a dimension value needs in each window a rule compares (SPEC 9.4)."""
    return MIN_REP_ORDERS if dim == "sales_rep" else MIN_VALUE_ORDERS


def _value_sample(dim: str, row: dict, both: bool) -> int:
    """The smallest order count of ``row`` in the windows a rule compares (current, and previous
    when ``both``)."""
    n = int(row.get("orders") or 0)
    if both:
        n = min(n, int(_num(row.get("previous_orders")) or 0))
    return n


def _action(title, metric, current, target, *, deadline_days=None) -> dict:
    return {"title": title, "metric": metric, "current": current, "target": target,
            "deadline_days": deadline_days if deadline_days is not None else deadline_for(current, target)}


