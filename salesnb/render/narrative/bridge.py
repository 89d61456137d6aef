"""Sentences of the revenue bridge (SPEC 9.1, findings ``revenue.bridge``), of the profit bridge
(``revenue.profit.bridge``: the same parts, ``amount="profit"``) and of leaders over time
(``revenue.leaders``): words chosen by the findings, every number a findings value formatted by
:mod:`salesnb.fmt`.

Each function takes the findings dict and a comparison (``previous`` / ``year_ago``) and returns
plain text, or ``None`` when the findings lack what it needs. Data strings are returned raw.
"""
from __future__ import annotations

from ...fmt import fmt_count, fmt_delta, fmt_money
from ..labels import CUSTOMER_PART_WORDS, PVM_PART_WORDS, bridge_part_words, dimension_noun, plural_noun

#: the two bridges: (findings key, its parts in waterfall order)
KINDS = {"customers": tuple(CUSTOMER_PART_WORDS), "pvm": tuple(PVM_PART_WORDS)}
#: the customer bridge's parts that count customers; the price-volume-mix parts that count items
_COUNTED = {"customers": ("gained", "lost", "expansion", "contraction"),
            "pvm": ("new_items", "discontinued_items", "other")}
CENT = 0.005


def _cur(f) -> str:
    return f.get("currency", "USD")


def bridge_entry(f: dict, which: str, amount: str = "revenue") -> dict | None:
    """``revenue.bridge.<which>``, or None (no such comparison). ``amount="profit"``:
    ``revenue.profit.bridge.<which>`` with the amounts its waterfall runs between,
    ``comparison_profit`` and ``current_profit`` (the profit of the comparison window and of the
    period, ``revenue.profit``), and the revenue bridge's ``current_window`` (the same windows)."""
    rev = f.get("revenue") or {}
    if amount == "revenue":
        return ((rev.get("bridge") or {}).get(which)) or None
    p = rev.get("profit") if isinstance(rev.get("profit"), dict) else {}
    entry = (p.get("bridge") or {}).get(which)
    if not entry:
        return None
    return {**entry, "comparison_profit": (p.get(which) or {}).get("profit"), "current_profit": p.get("profit"),
            "current_window": ((rev.get("bridge") or {}).get(which) or {}).get("current_window")}


def bridge_parts(entry: dict | None, kind: str, amount: str = "revenue") -> list[dict]:
    """One bridge's parts in waterfall order: {part, value, count (or None), label, phrase}; [] when
    the entry has no such bridge."""
    body = (entry or {}).get(kind)
    if not body:
        return []
    dim = body.get("dimension") if kind == "pvm" else None
    out = []
    for part in KINDS[kind]:
        label, phrase = bridge_part_words(part, dim, amount)
        count = (body.get("counts") or {}).get(part) if part in _COUNTED[kind] else None
        out.append({"part": part, "value": body.get(part), "count": count, "label": label, "phrase": phrase})
    return out


def _count_phrase(kind: str, count, dim) -> str:
    if count is None:
        return ""
    if kind == "customers":
        noun = "customer" if count == 1 else "customers"
    else:
        noun = dimension_noun(dim) if count == 1 else plural_noun(dim)
    return f" ({fmt_count(count)} {noun})"


def change_clause(f: dict, which: str, amount: str = "revenue") -> str | None:
    """"Revenue rose $83,802.11 vs 2017Q3" (fell, or did not change; "Profit …" for the profit bridge)."""
    entry = bridge_entry(f, which, amount)
    if entry is None or entry.get("total_change") is None:
        return None
    change = entry["total_change"]
    if abs(change) < CENT:
        return f"{amount.capitalize()} did not change vs {entry['label']}"
    verb = "rose" if change > 0 else "fell"
    return f"{amount.capitalize()} {verb} {fmt_money(abs(change), _cur(f))} vs {entry['label']}"


def bridge_sentence(f: dict, which: str, kind: str, amount: str = "revenue") -> str | None:
    """"Revenue rose $X vs 2017Q3; by customer: new customers +$a (251 customers), lost customers
    -$b (158 customers), …": the parts that moved, largest first (ties in waterfall order)."""
    entry = bridge_entry(f, which, amount)
    parts = bridge_parts(entry, kind, amount)
    head = change_clause(f, which, amount)
    if not parts or head is None:
        return None
    dim = (entry.get("pvm") or {}).get("dimension") if kind == "pvm" else None
    moved = [p for p in parts if p["value"] is not None and abs(p["value"]) >= CENT]
    moved.sort(key=lambda p: -abs(p["value"]))  # stable: ties keep the waterfall order
    by = "by customer" if kind == "customers" else f"by {dimension_noun(dim)} (price, volume, mix)"
    if not moved:
        return f"{head}; {by}: no part moved."
    items = [f"{p['phrase']} {fmt_delta(p['value'], 'money', _cur(f))}{_count_phrase(kind, p['count'], dim)}"
             for p in moved]
    return f"{head}; {by}: " + ", ".join(items) + "."


def largest_driver(f: dict, which: str) -> dict | None:
    """The bridge part with the largest |amount| vs ``which`` among both bridges (customers first,
    then price-volume-mix, each in waterfall order, on a tie): a :func:`bridge_parts` item with
    its ``kind``; None when no part moved."""
    entry = bridge_entry(f, which)
    best = None
    for kind in KINDS:
        for p in bridge_parts(entry, kind):
            if p["value"] is None or abs(p["value"]) < CENT:
                continue
            if best is None or abs(p["value"]) > abs(best["value"]):
                best = {**p, "kind": kind}
    return best


def driver_phrase(f: dict, which: str) -> str | None:
    """"the largest driver was new customers (+$200,153.64, 251 customers)", or None."""
    d = largest_driver(f, which)
    if d is None:
        return None
    dim = ((bridge_entry(f, which) or {}).get("pvm") or {}).get("dimension")
    count = _count_phrase(d["kind"], d["count"], dim)
    extra = f", {count.strip(' ()')}" if count else ""
    return f"the largest driver was {d['phrase']} ({fmt_delta(d['value'], 'money', _cur(f))}{extra})"


NO_BRIDGE = "Neither comparison period is inside the data (or the period is all history): no bridge to show."
NO_LEADERS = "Leaders over time need a dimension column (sales rep, region, segment, category, product or channel)."


def bridge_notes(f: dict, which: str, amount: str = "revenue") -> list[str]:
    """Why a bridge vs ``which`` is missing: no customer ids, or the price-volume-mix note."""
    entry = bridge_entry(f, which, amount)
    if entry is None:
        return []
    out = []
    if entry.get("customers") is None:
        out.append("No customer bridge: the data has no customer id column.")
    if entry.get("pvm") is None and entry.get("pvm_note"):
        out.append(f"No price-volume-mix bridge: {entry['pvm_note']}.")
    return out


# --------------------------------------------------------------------------- leaders over time

def leader_counts(f: dict, dim: str) -> list[tuple[str, int, int]]:
    """(value, quarters led, index of the last quarter led) per value that led ``dim`` overall,
    most quarters first (then the more recent leader, then the name)."""
    quarters = ((f.get("revenue") or {}).get("leaders") or {}).get("quarters") or []
    led: dict = {}
    for i, q in enumerate(quarters):
        top = ((q.get("top") or {}).get(dim) or {}).get("overall")
        if top:
            n, _ = led.get(top["value"], (0, -1))
            led[top["value"]] = (n + 1, i)
    return sorted(((v, n, last) for v, (n, last) in led.items()), key=lambda t: (-t[1], -t[2], t[0]))


def leaders_sentence(f: dict) -> str | None:
    """"Over the 8 quarters 2016Q1–2017Q4, West led the regions in 5, Consumer the segments in 8, …"."""
    lead = (f.get("revenue") or {}).get("leaders") or {}
    quarters = lead.get("quarters") or []
    parts = []
    for dim in lead.get("dimensions") or []:
        counts = leader_counts(f, dim)
        if counts:
            value, n, _ = counts[0]
            parts.append((value, plural_noun(dim), n))
    if not quarters or not parts:
        return None
    span = quarters[0]["quarter"] if len(quarters) == 1 else f"{quarters[0]['quarter']}–{quarters[-1]['quarter']}"
    if len(quarters) == 1:
        said = [f"{v} led the {noun}" if i == 0 else f"{v} the {noun}" for i, (v, noun, _) in enumerate(parts)]
        return f"In {span}, {_and(said)}."
    said = [f"{v} {'led ' if i == 0 else ''}the {noun} in {fmt_count(n)}" for i, (v, noun, n) in enumerate(parts)]
    return f"Over the {fmt_count(len(quarters))} quarters {span}, {_and(said)}."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
