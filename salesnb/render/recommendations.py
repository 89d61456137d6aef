"""How the recommendations are shown: a findings value formatted by what its key names, evidence
as ``key = value`` lines, and the recommendations notebook's tables (opportunities, impact,
risks, SMART actions). Only the items that pass the evidence rules are shown (SPEC 9.4)."""
from __future__ import annotations

from .. import fmt
from ..fmt import fmt_count, fmt_money, fmt_number, fmt_pct
from .labels import dimension_noun


def _data(findings) -> dict:
    return getattr(findings, "data", findings) or {}


def _num(v):
    from ..recommend.evidence import _num as number
    return number(v)


MONEY_FIELDS = {"revenue", "total", "aov", "value", "avg_order_value", "previous_revenue", "change",
                "at_risk_revenue", "revenue_per_customer", "revenue_per_unit", "gap", "identified_revenue",
                "unidentified_revenue", "trailing_12m_revenue", "lapsed_at_period_end_revenue"}


def _field(key: str) -> str:
    last = str(key).split("]")[-1].split(".")[-1]
    return last or str(key)


def format_value(key: str, value, currency: str = "USD") -> str:
    """A findings value formatted by what its key names (money, percent, count)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(k, v, currency)}" for k, v in value.items()) if value else "none"
    if value is None:
        return fmt.MISSING
    field = _field(key)
    if field.endswith("_pct") or field.endswith("pct_points") or field.endswith("share"):
        return fmt_pct(value)
    if field in MONEY_FIELDS or field.endswith("_revenue") or field.endswith("_aov") or "slope" in field \
            or field.startswith("returns"):
        return fmt_money(value, currency)
    if field in ("p_value",):
        return fmt_number(value, 3)
    if field in ("t_statistic",):
        return fmt_number(value, 2)
    if field.startswith("data.month_coverage") or key.startswith("data.month_coverage"):
        return fmt_pct(100.0 * float(value))
    if isinstance(value, int) or float(value).is_integer():
        return fmt_count(value)
    return fmt_number(value, 2)


def evidence_text(item: dict, currency: str = "USD") -> str:
    """``key = value`` for each piece of evidence, joined by ``; `` (plain text)."""
    return "; ".join(f"{e['key']} = {format_value(e['key'], e['value'], currency)}" for e in item.get("evidence") or [])


#: a table shows at most this many pieces of evidence, each line at most this long (findings.json
#: and ``evidence_text`` keep all of it)

EVIDENCE_LINES = 4

EVIDENCE_WIDTH = 60


def _short_key(key: str, width: int = 36) -> str:
    """``revenue.by_dimension.region[West].growth_pct`` → ``region[West].growth_pct`` when long."""
    parts = str(key).split(".")
    while len(".".join(parts)) > width and len(parts) > 2:
        parts = parts[1:]
    return ".".join(parts)


def evidence_lines(item: dict, currency: str = "USD", limit: int = EVIDENCE_LINES,
                   width: int = EVIDENCE_WIDTH) -> str:
    """Short ``key = value`` lines (one per line, at most ``width`` characters: a long key is cut,
    the value kept), the first
    ``limit`` pieces of evidence and a count of the rest (for the tables; the full list stays in
    findings.json)."""
    evidence = item.get("evidence") or []
    lines = []
    for e in evidence[:limit]:
        key, value = _short_key(e["key"]), format_value(e["key"], e["value"], currency)
        if len(value) > width // 2:
            value = value[: width // 2 - 1] + "…"
        room = width - len(value) - 3
        if len(key) > room:                      # the key is cut, the value always shown
            key = key[: room - 1] + "…"
        lines.append(f"{key} = {value}")
    if len(evidence) > limit:
        lines.append(f"+{len(evidence) - limit} more in findings.json")
    return "\n".join(lines)


def recommendations_of(f: dict) -> dict:
    """The findings' ``recommendations`` section (derived from them when absent: the rules are pure)."""
    recs = f.get("recommendations")
    if not recs:
        from ..recommend import recommendations
        recs = recommendations(f)
    return recs


def shown(items) -> list[dict]:
    """The items the report shows: those that pass the evidence rules (SPEC 9.4). Findings keep
    the others, flagged ``shown: false``."""
    return [i for i in items or [] if i.get("shown", True)]


def actions_note(findings) -> str | None:
    """"Only n actions pass the evidence rules …" when fewer than seven do (else None)."""
    return recommendations_of(_data(findings)).get("actions_note")


def overlap_note(findings) -> str | None:
    """The sentence beside the opportunities when both margin rules are shown: the loss they both
    count and the loss of the lines either counts (``overlap``, :mod:`salesnb.recommend.margin`); else None."""
    from ..recommend.margin import discount_above
    from .labels import MARGIN_OVERLAP_NOTE, plural_noun
    f = _data(findings)
    found = {o["rule"]: o for o in shown(recommendations_of(f).get("opportunities")) if o.get("overlap")}
    if not {"loss_makers", "discount_cap"} <= set(found):
        return None
    lm, dc, cur = found["loss_makers"], found["discount_cap"], f.get("currency", "USD")
    o = lm["overlap"]
    return MARGIN_OVERLAP_NOTE.format(
        items=plural_noun(lm["parameters"].get("dimension")), shared=fmt_money(o["shared_loss"], cur),
        above=discount_above(dc["parameters"].get("cap_pct")), lines=fmt_count(o["lines"]),
        orders=fmt_count(o["orders"]), combined=fmt_money(o["combined_loss"], cur),
        sum=fmt_money(lm["impact"] + dc["impact"], cur))


_SHORT = {"aov_uplift": "Raise AOV", "aov_recovery": "Restore AOV to year-ago level", "win_back": "Win back at-risk customers",
          "repeat_purchase": "Second orders from one-time buyers", "returns": "Cut returns"}


def short_label(item: dict) -> str:
    rule, owner, dim = item.get("rule"), item.get("owner"), item.get("owner_dimension")
    noun = dimension_noun(dim)
    if rule == "dimension_gap":
        return f"{owner} ({noun}) to median"
    if rule == "recover_decline":
        return f"Recover {owner} ({noun})"
    return _SHORT.get(rule, item.get("title", ""))


def opportunities_frame(findings):
    """Opportunities as display strings (pandas), highest priority first."""
    import pandas as pd
    f = _data(findings)
    cur = f.get("currency", "USD")
    return pd.DataFrame([{
        "Opportunity": o["title"], "Impact": fmt_money(o["impact"], cur), "Formula": o["formula"],
        "Confidence": o["confidence"], "Priority": fmt_number(o["priority"], 2), "Rule": o["rule"],
    } for o in shown(recommendations_of(f).get("opportunities"))],
        columns=["Opportunity", "Impact", "Formula", "Confidence", "Priority", "Rule"])


def impact_frame(findings):
    """``label``, ``impact`` of the opportunities with a money impact (for the impact chart)."""
    import pandas as pd
    f = _data(findings)
    rows = [{"label": short_label(o), "impact": o["impact"]} for o in shown(recommendations_of(f).get("opportunities"))
            if o.get("impact") is not None]
    return pd.DataFrame(rows, columns=["label", "impact"])


def risks_frame(findings):
    import pandas as pd
    f = _data(findings)
    cur = f.get("currency", "USD")
    return pd.DataFrame([{
        "Risk": r["title"], "At stake": fmt_money(r["impact"], cur) if r.get("impact") is not None else fmt.MISSING,
        "Formula": r["formula"], "Evidence": evidence_lines(r, cur), "Confidence": r["confidence"],
        "Priority": fmt_number(r["priority"], 2),
    } for r in shown(recommendations_of(f).get("risks"))],
        columns=["Risk", "At stake", "Formula", "Evidence", "Confidence", "Priority"])


def actions_frame(findings):
    """The SMART actions as a plan an analyst can paste: one row per action. Nine columns: the
    value now and the target share one ("$1,200.00 → $1,260.00"), the formula heads its evidence
    lines, so the table fits the width of a notebook in JupyterLab."""
    import pandas as pd
    f = _data(findings)
    cur = f.get("currency", "USD")
    rows = []
    for i, a in enumerate(shown(recommendations_of(f).get("actions")), 1):
        owner = f"{dimension_noun(a.get('owner_dimension'))}: {a['owner']}" if a.get("owner") else fmt.MISSING
        rows.append({
            "#": i, "Action": a["title"], "Metric": a["metric"],
            ACTION_NOW_TARGET: f"{format_value(a['metric'], a.get('current'), cur)} → "
                               f"{format_value(a['metric'], a.get('target'), cur)}",
            "Deadline": f"{fmt_count(a['deadline_days'])} days", "Owner": owner,
            "Impact": fmt_money(a["impact"], cur) if a.get("impact") is not None else fmt.MISSING,
            ACTION_HOW: "\n".join(part for part in (a["formula"], evidence_lines(a, cur)) if part),
            "Confidence": a["confidence"],
        })
    return pd.DataFrame(rows, columns=["#", "Action", "Metric", ACTION_NOW_TARGET, "Deadline", "Owner", "Impact",
                                       ACTION_HOW, "Confidence"])


#: the actions table's merged columns
ACTION_NOW_TARGET, ACTION_HOW = "Now → target", "Formula and evidence"
