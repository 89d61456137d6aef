"""Sentences from findings: words chosen by the data, numbers formatted by :mod:`salesnb.fmt`.

Every function takes the findings dict (``Findings.data``) and returns a plain-text sentence,
or ``None`` when the findings lack what the sentence needs. A function never computes a figure
it was not given: it only picks words (up/down/flat, best/worst, fastest) by comparing them.
Data strings (dimension values) are returned raw; callers that build HTML or Markdown escape
them with :func:`salesnb.fmt.esc`.
"""
from __future__ import annotations

from ...fmt import direction, fmt_count, fmt_money, fmt_month, fmt_pct
from ..labels import dimension_noun



def _cur(f) -> str:
    return f.get("currency", "USD")


def _change_phrase(pct, label) -> str | None:
    if pct is None or label is None:
        return None
    word = direction(pct)
    if word == "flat":
        return f"flat on {label} ({fmt_pct(pct, signed=True)})"
    return f"{word} {fmt_pct(abs(pct))} on {label}"


def same_comparison(f: dict) -> bool:
    """The previous period and the year-ago period are the same window (a year report): one
    comparison is stated, not the same one twice."""
    cmp = f.get("comparison") or {}
    prev, yago = cmp.get("previous") or {}, cmp.get("year_ago") or {}
    return bool(prev.get("available") and yago.get("available") and prev.get("start") and prev.get("end")
                and prev.get("start") == yago.get("start") and prev.get("end") == yago.get("end"))


def comparisons(f: dict) -> list[str]:
    """The comparisons to state, ``previous`` / ``year_ago``: available, each window once."""
    cmp = f.get("comparison") or {}
    out = [k for k in ("previous", "year_ago") if (cmp.get(k) or {}).get("available")]
    if same_comparison(f):
        out.remove("year_ago")
    return out


def revenue_sentence(f: dict) -> str | None:
    """"Revenue was $X in P, up x% on Q and down y% on R." (like for like when partial)."""
    rev = f.get("revenue") or {}
    if rev.get("total") is None:
        return None
    period = f["period"]["label"]
    cmp = f.get("comparison", {})
    change = rev.get("change", {}).get("total", {})
    parts = []
    for key in comparisons(f):
        phrase = _change_phrase(change.get(f"vs_{key}_pct"), (cmp.get(key) or {}).get("label"))
        if phrase:
            parts.append(phrase)
    text = f"Revenue was {fmt_money(rev['total'], _cur(f))} in {period}"
    if parts:
        text += ", " + " and ".join(parts)
    text += "."
    if cmp.get("like_for_like"):
        text += (f" The period is partial (data to {f['period'].get('data_end')}), so the comparisons use the "
                 "same span of days.")
    return text


def orders_sentence(f: dict) -> str | None:
    rev = f.get("revenue") or {}
    if not rev.get("orders"):
        return None
    cur = _cur(f)
    text = f"{fmt_count(rev['orders'])} orders averaged {fmt_money(rev.get('aov'), cur)}"
    change = rev.get("change", {}).get("aov", {}).get("vs_previous_pct")
    label = (f.get("comparison", {}).get("previous") or {}).get("label")
    phrase = _change_phrase(change, label) if (f.get("comparison", {}).get("previous") or {}).get("available") else None
    if phrase:
        text += f" per order, {phrase}"
    else:
        text += " per order"
    if rev.get("customers"):
        text += f"; {fmt_count(rev['customers'])} customers bought, at {fmt_money(rev.get('revenue_per_customer'), cur)} each"
    return text + "."


def best_worst_sentence(f: dict) -> str | None:
    """"November 2017 was the best month ($X) and October 2017 the worst ($Y)." """
    rev = f.get("revenue") or {}
    best, worst = rev.get("best_month"), rev.get("worst_month")
    if not best:
        return None
    cur = _cur(f)
    if worst and worst["month"] != best["month"]:
        text = (f"{fmt_month(best['month'])} was the best month ({fmt_money(best['revenue'], cur)}) and "
                f"{fmt_month(worst['month'])} the worst ({fmt_money(worst['revenue'], cur)})")
    else:
        text = f"{fmt_month(best['month'])} was the only complete month ({fmt_money(best['revenue'], cur)})"
    excluded = rev.get("partial_months_excluded") or []
    if excluded:
        names = ", ".join(fmt_month(m) for m in excluded)
        text += f"; {names} {'is' if len(excluded) == 1 else 'are'} partial and left out"
    return text + "."


def growth_sentence(f: dict) -> str | None:
    rev = f.get("revenue") or {}
    avg, cmgr = rev.get("avg_monthly_growth_pct"), rev.get("cmgr_pct")
    if avg is None:
        return None
    text = f"Across its complete months, revenue changed by {fmt_pct(avg, signed=True)} a month on average"
    if cmgr is not None:
        text += f" (compound monthly growth rate {fmt_pct(cmgr, signed=True)})"
    return text + "."


def dimension_growth_sentence(f: dict, dim: str) -> str | None:
    """"The South region grew fastest (up 134.8% to $56,064.11); Central grew slowest (…)." """
    rev = f.get("revenue") or {}
    # only values that matter: the ten largest with at least 1% of revenue (no long-tail noise)
    rows = [r for r in (rev.get("by_dimension") or {}).get(dim, [])[:10]
            if r.get("growth_pct") is not None and (r.get("share_pct") or 0) >= 1.0]
    if len(rows) < 2:
        return None
    cur = _cur(f)
    noun = dimension_noun(dim)
    ranked = sorted(rows, key=lambda r: (-r["growth_pct"], r["value"]))
    top, bottom = ranked[0], ranked[-1]

    def move(r):
        word = direction(r["growth_pct"])
        if word == "flat":
            return f"flat at {fmt_money(r['revenue'], cur)}"
        return f"{word} {fmt_pct(abs(r['growth_pct']))} to {fmt_money(r['revenue'], cur)}"

    verb_top = {"up": "grew fastest", "flat": "held steadiest", "down": "declined least"}[direction(top["growth_pct"])]
    verb_bottom = {"up": "grew slowest", "flat": "held steady", "down": "declined most"}[direction(bottom["growth_pct"])]
    return (f"The {top['value']} {noun} {verb_top} ({move(top)}); "
            f"{bottom['value']} {verb_bottom} ({move(bottom)}).")


def dimension_share_sentence(f: dict, dim: str) -> str | None:
    rows = ((f.get("revenue") or {}).get("by_dimension") or {}).get(dim) or []
    if not rows or rows[0].get("share_pct") is None:
        return None
    noun = dimension_noun(dim)
    top = rows[0]
    return (f"{top['value']} is the largest {noun}, with {fmt_money(top['revenue'], _cur(f))} "
            f"({fmt_pct(top['share_pct'])} of revenue).")


def top_rep_sentence(f: dict) -> str | None:
    reps = (f.get("revenue") or {}).get("top_performers") or []
    if not reps:
        return None
    r = reps[0]
    text = (f"{r['sales_rep']} led the sales reps with {fmt_money(r['revenue'], _cur(f))} "
            f"({fmt_pct(r['share_pct'])} of revenue) from {fmt_count(r['orders'])} orders")
    return text + "."


def returns_sentence(f: dict) -> str | None:
    ret = (f.get("revenue") or {}).get("returns") or {}
    if not ret.get("lines"):
        return None
    return (f"{fmt_count(ret['lines'])} return lines took back {fmt_money(ret['value'], _cur(f))}; "
            "all figures are net of returns.")


def anomaly_sentence(f: dict) -> str | None:
    """Volatility and the months judged anomalous against seasonality (STL, SPEC 9.4), or why
    none is judged."""
    vol = (f.get("revenue") or {}).get("volatility") or {}
    anomalies = vol.get("anomalies") or []
    cur = _cur(f)
    span = f"{fmt_count(vol['months'])} complete months" if vol.get("months") else "months"
    if vol.get("method") == "stl":
        basis = f"judged against its seasonal pattern (STL over {fmt_count(vol.get('stl_months'))} complete months)"
        if anomalies:
            parts = []
            for a in anomalies:
                text = f"{fmt_month(a['month'])} ({fmt_money(a['revenue'], cur)}, unusually {a['direction']}"
                if a.get("expected") is not None:
                    text += f"; {fmt_money(a['expected'], cur)} expected"
                if a.get("ambiguous_with"):
                    other = "low" if a["direction"] == "high" else "high"
                    text += (f"; or {fmt_month(a['ambiguous_with'])} unusually {other}: with only these two of that "
                             "calendar month the data cannot tell which")
                parts.append(text + ")")
            return f"Monthly revenue {basis}, anomalous months among the trailing {span}: " + "; ".join(parts) + "."
        if vol.get("cv_pct") is None:
            return f"Monthly revenue {basis} has no anomalous month among the trailing {span}."
        return (f"Monthly revenue over the trailing {fmt_count(vol['months'])} complete months varies by "
                f"{fmt_pct(vol['cv_pct'])} (coefficient of variation); {basis}, no month is anomalous.")
    if vol.get("cv_pct") is None:
        return None
    text = (f"Monthly revenue over the trailing {fmt_count(vol['months'])} complete months varies by "
            f"{fmt_pct(vol['cv_pct'])} (coefficient of variation)")
    if vol.get("method") == "none":
        need = vol.get("min_months") or 24
        return (text + f"; with {fmt_count(vol.get('stl_months') or 0)} complete months of history (fewer than "
                f"{fmt_count(need)}) no month is judged anomalous, since a seasonal baseline needs two full years.")
    return text + ", with no anomalous month."


def target_sentence(f: dict) -> str | None:
    t = (f.get("revenue") or {}).get("targets")
    if not t or t.get("attainment_pct") is None:
        return None
    word = "beat" if t["gap"] >= 0 else "missed"
    return (f"Revenue {word} the target of {fmt_money(t['revenue'], _cur(f))}: {fmt_pct(t['attainment_pct'])} "
            f"attained ({'+' if t['gap'] >= 0 else '-'}{fmt_money(abs(t['gap']), _cur(f))}).")


def revenue_sentences(f: dict) -> list[str]:
    """The revenue section's sentences, in reading order, skipping those without data."""
    out = [revenue_sentence(f), target_sentence(f), orders_sentence(f), best_worst_sentence(f),
           growth_sentence(f)]
    for dim in (f.get("revenue") or {}).get("dimensions", []):
        if dim in ("region", "segment", "category", "channel"):
            out.append(dimension_growth_sentence(f, dim))
    out += [top_rep_sentence(f), returns_sentence(f), anomaly_sentence(f)]
    return [s for s in out if s]
