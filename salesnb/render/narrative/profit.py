"""Profit and margin sentences (``revenue.profit``), numbers formatted by :mod:`salesnb.fmt`.

As in :mod:`salesnb.render.narrative.revenue`: each function takes the findings dict and returns a
plain-text sentence, or ``None`` when the findings have no profit (or lack what it needs); it only
picks words by comparing the figures it is given. Data strings are returned raw.
"""
from __future__ import annotations

from ...fmt import direction, fmt_count, fmt_delta, fmt_money, fmt_pct, fmt_points
from ..labels import dimension_noun
from .revenue import comparisons


def _profit(f: dict) -> dict | None:
    p = (f.get("revenue") or {}).get("profit")
    return p if isinstance(p, dict) else None


def profit_sentence(f: dict) -> str | None:
    """"Profit was $X in P (margin y%), up a% on Q; the margin fell b pts." """
    p = _profit(f)
    if p is None:
        return None
    cur, cmp = f.get("currency", "USD"), f.get("comparison") or {}
    text = f"Profit was {fmt_money(p['profit'], cur)} in {f['period']['label']}"
    text += f" (margin {fmt_pct(p['margin_pct'])})" if p.get("margin_pct") is not None else ""
    parts = []
    for key in comparisons(f):
        ch, label = p["change"].get(key), (cmp.get(key) or {}).get("label")
        if not ch or label is None:
            continue
        pct, pts = ch.get("profit_pct"), ch.get("margin_pct_points")
        word = direction(pct) if pct is not None else None
        phrase = (f"{word} {fmt_pct(abs(pct))} on {label}" if word in ("up", "down")
                  else f"flat on {label}" if word == "flat"
                  else f"{fmt_money(ch['profit'], cur)} on {label}")
        if pts is not None:
            phrase += f" (margin {fmt_points(pts)})"
        parts.append(phrase)
    text += (", " + " and ".join(parts)) if parts else ""
    text += "."
    n = p.get("lines_without_profit")
    if n:
        text += (f" {fmt_count(n)} {'line' if n == 1 else 'lines'} without a readable profit or cost "
                 f"{'is' if n == 1 else 'are'} left out of the profit figures.")
    return text


def margin_range_sentence(f: dict, dim: str) -> str | None:
    """The highest and the lowest margin among the values of ``dim``."""
    p = _profit(f)
    rows = [r for r in ((p or {}).get("by_dimension") or {}).get(dim, []) if r.get("margin_pct") is not None]
    if len(rows) < 2:
        return None
    best = max(rows, key=lambda r: (r["margin_pct"], r["value"]))
    worst = min(rows, key=lambda r: (r["margin_pct"], r["value"]))
    noun = dimension_noun(dim)
    text = (f"By {noun}, the margin ranges from {fmt_pct(worst['margin_pct'])} ({worst['value']}) to "
            f"{fmt_pct(best['margin_pct'])} ({best['value']})")
    if worst["profit"] < 0:
        text += f"; {worst['value']} lost {fmt_money(-worst['profit'], f.get('currency', 'USD'))}"
    return text + "."


def loss_sentence(f: dict) -> str | None:
    """"23 products lost money in P: $X in all, on $Y of revenue; the largest loss is Z ($W)." """
    p = _profit(f)
    lm = (p or {}).get("loss_makers")
    if not lm:
        return None
    cur, noun = f.get("currency", "USD"), dimension_noun(lm["dimension"])
    if not lm["count"]:
        return f"No {noun} lost money in {f['period']['label']}."
    nouns = noun if lm["count"] == 1 else noun + "s"
    text = (f"{fmt_count(lm['count'])} {nouns} lost money in {f['period']['label']}: {fmt_money(lm['loss'], cur)} "
            f"in all, on {fmt_money(lm['revenue'], cur)} of revenue")
    if lm["items"]:
        worst = lm["items"][0]
        text += f"; the largest loss is {worst['value']} ({fmt_money(-worst['profit'], cur)})"
    return text + "."


def discount_sentence(f: dict) -> str | None:
    """Where the margin turns negative as the discount grows."""
    p = _profit(f)
    d = (p or {}).get("discount")
    if not d or not d.get("bands"):
        return None
    cur = f.get("currency", "USD")
    if d.get("negative_from") is None:
        return "Every discount band made a profit in the period."
    lost = (f"{fmt_money(-d['negative_profit'], cur)} on {fmt_money(d['negative_revenue'], cur)} of revenue")
    if d["negative_from"] == "0%":
        return f"Every discount band loses money, undiscounted lines included: they lost {lost}."
    return f"Lines discounted more than {fmt_pct(d['negative_from_pct'], 0)} lose money: they lost {lost}."


def bridge_sentence(f: dict, which: str = "previous") -> str | None:
    """The profit change against ``which`` by the largest part of each bridge."""
    p = _profit(f)
    b = ((p or {}).get("bridge") or {}).get(which)
    if not b:
        return None
    cur = f.get("currency", "USD")
    change = b["total_change"]
    word = "rose" if change > 0 else "fell" if change < 0 else "did not change"
    text = f"Against {b['label']} profit {word}" + (f" by {fmt_money(abs(change), cur)}" if change else "")
    drivers = []
    for part, words in (("customers", "customers"), ("pvm", "price, volume and mix")):
        entry = b.get(part)
        if entry and entry.get("largest"):
            name = entry["largest"]
            drivers.append(f"{name.replace('_', ' ')} {fmt_delta(entry[name], 'money', cur)} ({words})")
    if drivers:
        text += "; the largest parts: " + ", ".join(drivers)
    return text + "."


def profit_sentences(f: dict) -> list[str]:
    """The section's opening sentences (none without profit)."""
    out = [profit_sentence(f), bridge_sentence(f, "previous"), loss_sentence(f), discount_sentence(f)]
    return [s for s in out if s]
