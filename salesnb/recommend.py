"""Recommendations: deterministic rules over the findings (SPEC 4 item 4, SPEC 5 ``recommendations``).

:func:`recommendations` is a pure function of the plain findings dict (its ``revenue``,
``customers``, ``data``, ``period`` and ``comparison`` sections). It never queries data, reads no
clock and no randomness: the same findings always give byte-identical recommendations.

Every item (opportunity, risk or action) carries

* ``kind`` (``opportunity`` / ``risk`` / ``action``), ``rule`` (the rule's name), ``title``;
* ``evidence``: ``[{key, value}]`` -- dotted findings paths (``revenue.aov``,
  ``revenue.by_dimension.region[Central].revenue``, ``customers.at_risk_share_pct``); a ``[x]``
  selects the list element whose ``value`` / ``month`` / ``quarter`` / ``segment`` / ``sales_rep``
  is ``x``. :func:`resolve` reads a key back, so every piece of evidence can be checked;
* ``derived``: ``[{name, value, formula}]`` -- the intermediate figures a rule computed from the
  evidence (a median, a percentile, a regression slope), rounded as shown;
* ``parameters``: the rule's constants that appear in its text (a threshold, "12 months");
* ``impact``: money (the source currency) where one applies, else ``None``; risks give the money
  at stake as a positive amount;
* ``formula``: the arithmetic as text, with the numbers. Rates and amounts are rounded as shown
  *before* they are multiplied, so the formula can be checked by hand to the cent;
* ``confidence``: ``high`` / ``medium`` / ``low`` by the criteria in each rule below;
* ``priority``: the ranking score (see *Ranking*).

An action adds ``metric`` (a findings key), ``current`` (its value now), ``target``,
``deadline_days``, ``owner`` / ``owner_dimension`` (the dimension value concerned, else ``None``)
and ``basis`` (the opportunity or risk it comes from).

Rules (a rule stays silent when the findings lack what it needs -- no customers section, no
previous period, a dimension the data does not have, null values):

Opportunities
  ``aov_uplift``       raise AOV by x% -> revenue × x%. x = (top-quartile AOV − median AOV) / 2 /
                       median AOV, across the values of the first dimension among sales_rep,
                       segment, channel, region, category with 3..30 values of >= 10 orders each;
                       else across the trailing complete months (>= 6). high: >= 5 peers; medium:
                       3-4 peers; low: months.
  ``aov_recovery``     AOV below its year-ago level (by more than 1%) -> (year-ago AOV − AOV) ×
                       orders. high on full periods, medium when compared like for like.
  ``dimension_gap``    a region / segment / category / channel / sales rep below the median of its
                       peers -> median revenue − its revenue. Dimensions with 3..30 values (never
                       products); only values with >= 20 orders and >= 50% of the median revenue
                       (a meaningful base); at most 3 per dimension (the largest gaps). high: >= 100
                       orders and >= 4 peers; medium: >= 30 orders; else low.
  ``recover_decline``  a value whose revenue fell >= 5% on the previous period -> previous revenue
                       − revenue. Values with >= 1% of the previous period's revenue and >= 10
                       orders; products only among the 10 largest by previous revenue; at most 3
                       per dimension. high: >= 100 orders; medium: >= 30; else low.
  ``win_back``         at-risk customers' revenue in the last 12 months × the share of the customers
                       in the churn-risk segments at the end of the previous period (RFM scored as
                       of then) who ordered in the period (``customers.win_back.rate_pct``; sample
                       = those customers, >= 30). medium when they are >= 100, else low.
  ``repeat_purchase``  one-time buyers × observed second-order rate × AOV. medium when the rate
                       rests on >= 100 eligible customers and there are >= 30 one-time buyers, else low.
  ``returns``          return rate (returns / gross revenue) above the previous period's -> returns
                       − previous rate × gross revenue. medium.
Risks
  ``revenue_trend``    least-squares fit (linear_trend: scipy.stats.linregress's formulas) of monthly revenue on the
                       trailing complete months (>= 6; gap months left out): negative slope with
                       p < 0.10. Impact = |slope| × 12 (a year of the decline), at most the last
                       complete month's revenue. high: p < 0.01;
                       medium: p < 0.05; low: p < 0.10.
  ``revenue_decline``  revenue down more than 1% on a year ago (impact = the fall); when there is no
                       year-ago period, on the previous period (low confidence: seasonality).
  ``target_gap``       revenue below its target (impact = target − revenue). high.
  ``churn_exposure``   ``customers.at_risk_share_pct`` >= 20% -> impact = at-risk customers' revenue
                       in the last 12 months. Confidence by customers scored (>= 500 high, >= 100
                       medium).
  ``customer_concentration``  top 20% of customers >= 70% of customer revenue, or the single largest
                       customer >= 10%. Confidence by customers (>= 500 high, >= 100 medium).
  ``dimension_concentration`` one region or channel > 50% of revenue, one sales rep > 40%. high when
                       the share was above the threshold in the previous period too, else medium.
  ``retention_decline``  recent cohorts' month-1 retention below earlier cohorts' by >= 2 points.
  ``data_quality``     partial months in the period, gap months, dropped rows, revenue without a
                       customer id (> 0.5%), exact duplicate rows. high (they are counts).

Ranking (``priority``, higher first; ties broken by title):
  money items: 100 × |impact| / period revenue (the impact as % of the period's revenue) ×
  confidence weight (high 1.0, medium 0.7, low 0.4). Items without money: severity in percentage
  points (how far past its threshold, or the share of revenue/rows affected) × 0.1 × the weight.

Actions: every opportunity, and the risks that have a lever (target gap, year-on-year decline,
concentration with a lower previous share, fixable data problems), propose one action. They are
ranked by priority; at most one action per metric and two per rule are taken, up to 7; when that
gives fewer than 5, the per-rule cap is lifted. Deadlines by the relative size of the change
|target − current| / |current|: <= 5% → 30 days, <= 15% → 60, <= 30% → 90, else 120; data fixes
(a process change) 30 days.
"""
from __future__ import annotations

import math
import re

from .fmt import direction, fmt_count, fmt_money, fmt_month, fmt_number, fmt_pct

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

NOUNS = {"region": "region", "segment": "segment", "category": "category", "product": "product",
         "sales_rep": "sales rep", "channel": "channel"}
_SELECTOR_FIELDS = ("value", "month", "quarter", "segment", "sales_rep", "cohort", "name")


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
    """Linear interpolation between order statistics (NumPy's default)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


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


def _action(title, metric, current, target, *, deadline_days=None) -> dict:
    return {"title": title, "metric": metric, "current": current, "target": target,
            "deadline_days": deadline_days if deadline_days is not None else deadline_for(current, target)}


# --------------------------------------------------------------------------- opportunity rules

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
    noun = "months" if source == "month" else NOUNS.get(source, source) + " values"
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
        basis = f"{len(values)} {NOUNS.get(source, source)} values"
        bench = max(values, key=lambda lv: (lv[1], str(lv[0])))
        if _r2(bench[1]) > target:
            action_title += f" (benchmark: {NOUNS.get(source, source)} {bench[0]} at {ctx.money(_r2(bench[1]))})"
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
        noun = NOUNS.get(dim, dim)
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
        noun = NOUNS.get(dim, dim)
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


# --------------------------------------------------------------------------- risk rules

def _month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def linear_trend(x, y) -> tuple[float, float, float]:
    """Least-squares slope of ``y`` on ``x``, its two-sided p-value and standard error.

    The formulas of ``scipy.stats.linregress`` (Student's t with n − 2 degrees of freedom),
    without importing scipy.stats, which alone costs most of a second.
    """
    import numpy as np
    from scipy.special import stdtr
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(xa)
    ssxm = float(np.mean((xa - xa.mean()) ** 2))
    ssym = float(np.mean((ya - ya.mean()) ** 2))
    ssxym = float(np.mean((xa - xa.mean()) * (ya - ya.mean())))
    if n < 3 or ssxm == 0 or ssym == 0 or len(set(ya.tolist())) < 2:
        return float("nan"), float("nan"), float("nan")
    r = max(-1.0, min(1.0, ssxym / math.sqrt(ssxm * ssym)))
    slope = ssxym / ssxm
    df = n - 2
    tiny = 1.0e-20
    t = r * math.sqrt(df / ((1.0 - r + tiny) * (1.0 + r + tiny)))
    p = float(2 * stdtr(df, -abs(t)))
    se = math.sqrt((1 - r ** 2) * ssym / ssxm / df)
    return slope, p, se


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
        value, noun = top["value"], NOUNS.get(dim, dim)
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
    d, out = ctx.data, []
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
    dropped = d.get("rows_dropped") or {}
    n_dropped = sum(_num(v) or 0 for v in dropped.values())
    read = _num(d.get("rows_read"))
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


OPPORTUNITY_RULES = (rule_aov_uplift, rule_aov_recovery, rule_dimension_gap, rule_recover_decline, rule_win_back,
                     rule_repeat_purchase, rule_returns)
RISK_RULES = (rule_revenue_trend, rule_revenue_decline, rule_no_acquisition, rule_target_gap, rule_churn_exposure,
              rule_customer_concentration, rule_dimension_concentration, rule_retention_decline, rule_data_quality)
RULES = OPPORTUNITY_RULES + RISK_RULES


# --------------------------------------------------------------------------- the engine

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


def recommendations(findings: dict) -> dict:
    """Opportunities, risks and SMART actions derived by the rules above from ``findings``.

    Each list holds the shown items (material, on enough sample) by priority, then the items that
    fail the evidence rules, flagged ``shown: false`` -- findings keep them, the report does not
    show them."""
    f = getattr(findings, "data", findings) or {}
    ctx = _Ctx(f)
    opportunities, risks = [], []
    for rule in OPPORTUNITY_RULES:
        opportunities.extend(rule(ctx))
    for rule in RISK_RULES:
        risks.extend(rule(ctx))
    candidates = [_make_action(i, ctx) for i in opportunities + risks if "_action" in i]
    for item in opportunities + risks:
        item.pop("_action", None)
    actions = select_actions(candidates)
    n_shown = sum(1 for a in actions if a["shown"])
    return {
        "opportunities": _shown_first(opportunities),
        "risks": _shown_first(risks),
        "actions": actions,
        "shown_actions": n_shown,
        "actions_note": actions_note(n_shown),
    }
