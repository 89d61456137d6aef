"""Profit and margin sentences (``revenue.profit``), numbers formatted by :mod:`salesnb.fmt`.

As in :mod:`salesnb.render.narrative.revenue`: each function takes the findings dict and returns a
plain-text sentence, or ``None`` when the findings have no profit (or lack what it needs); it only
picks words by comparing the figures it is given. Data strings are returned raw.
"""
from __future__ import annotations

from ...fmt import MISSING, direction, fmt_count, fmt_delta, fmt_money, fmt_pct, fmt_points
from ..labels import PROFIT_KPI_ROWS, dimension_noun
from .revenue import comparisons

#: the comparisons a KPI states its change against
KPI_COMPARISONS = ("previous", "year_ago")


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


def finding_sentence(f: dict) -> str | None:
    """The key finding on profit: "Profit was $X in P (margin y%); the margin is down z pts on Q and
    up w pts on R." (each comparison once, :func:`comparisons`)."""
    p = _profit(f)
    if p is None:
        return None
    cmp = f.get("comparison") or {}
    text = f"Profit was {fmt_money(p['profit'], f.get('currency', 'USD'))} in {f['period']['label']}"
    text += f" (margin {fmt_pct(p['margin_pct'])})" if p.get("margin_pct") is not None else ""
    moves = []
    for key in comparisons(f):
        pts, label = ((p.get("change") or {}).get(key) or {}).get("margin_pct_points"), (cmp.get(key) or {}).get("label")
        if pts is None or label is None:
            continue
        word = direction(pts)
        moves.append(f"flat on {label} ({fmt_points(pts)})" if word == "flat"
                     else f"{word} {fmt_points(abs(pts), signed=False)} on {label}")
    if moves:
        text += "; the margin is " + " and ".join(moves)
    return text + "."


def kpi_rows(f: dict) -> list[dict]:
    """The profit KPIs (:data:`~salesnb.render.labels.PROFIT_KPI_ROWS`), [] without profit: each
    ``{label, key, kind, value, formatted, previous, year_ago}``, a comparison being
    ``{abs, pct, points, formatted, short}``: profit changes in % and money, the margin in points
    (``abs`` = ``points``, ``pct`` None); ``short`` is the one figure a table cell holds."""
    p = _profit(f)
    if p is None:
        return []
    cur, out = f.get("currency", "USD"), []
    for label, key, kind in PROFIT_KPI_ROWS:
        value = p.get(key)
        row = {"label": label, "key": f"revenue.profit.{key}", "kind": kind, "value": value,
               "formatted": fmt_money(value, cur) if kind == "money" else fmt_pct(value)}
        for which in KPI_COMPARISONS:
            ch = (p.get("change") or {}).get(which) or {}
            if key == "profit":
                a, pct, pts = ch.get("profit"), ch.get("profit_pct"), None
                money = fmt_delta(a, "money", cur)
                full = f"{fmt_delta(pct)} ({money})" if pct is not None else money
                short = fmt_delta(pct) if pct is not None else money   # no % change from a zero profit
            else:
                pts = ch.get("margin_pct_points")
                a, pct, full = pts, None, fmt_points(pts)
                short = full
            row[which] = {"abs": a, "pct": pct, "points": pts, "formatted": full if a is not None else MISSING,
                          "short": short if a is not None else MISSING}
        out.append(row)
    return out


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


def profit_sentences(f: dict) -> list[str]:
    """The section's opening sentences (none without profit)."""
    out = [profit_sentence(f), loss_sentence(f), discount_sentence(f)]
    return [s for s in out if s]
