"""Profit and margin charts (``revenue.profit``): the discount bands and the margin by value.
Each returns its matplotlib Figure, closed; axes formatted by :mod:`salesnb.fmt`."""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker

from ...fmt import fmt_pct
from ..labels import DISCOUNT_BAND_LABELS
from .theme import BASE, PALETTE, chart_text, chart_title, closed, money_axis, shortened

LOSS = PALETTE[3]


def discount_chart(discount: dict, currency: str, period_label: str):
    """Profit per discount band (bars; losing bands red) with each band's margin written on it."""
    bands = discount["bands"]
    if not bands:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    profits = [b["profit"] for b in bands]
    ax.bar(range(len(bands)), profits, color=[LOSS if p < 0 else BASE for p in profits])
    ax.axhline(0, color=".4", linewidth=0.8)
    ax.set_xticks(range(len(bands)), [chart_text(DISCOUNT_BAND_LABELS.get(b["band"], b["band"])) for b in bands])
    for i, b in enumerate(bands):
        if b["margin_pct"] is not None:
            ax.annotate(f"margin {fmt_pct(b['margin_pct'])}", (i, b["profit"]), ha="center", fontsize=8,
                        va="bottom" if b["profit"] >= 0 else "top", xytext=(0, 3 if b["profit"] >= 0 else -3),
                        textcoords="offset points")
    money_axis(ax, currency)
    ax.set_xlabel("Discount")
    chart_title(ax, f"Profit by discount band, {period_label} (losing bands in red)")
    return closed(fig)


def margin_chart(rows: list[dict], noun: str, period_label: str, limit: int = 12):
    """Margin % per value of a dimension (the values of the breakdown, largest profit first)."""
    rows = [r for r in rows if r.get("margin_pct") is not None][:limit]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.42 * len(rows) + 1)))
    margins = [r["margin_pct"] for r in rows][::-1]
    ax.barh(range(len(rows)), margins, color=[LOSS if m < 0 else BASE for m in margins])
    ax.axvline(0, color=".4", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [chart_text(shortened(r["value"])) for r in rows][::-1])
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    chart_title(ax, f"Margin by {noun}, {period_label}")
    return closed(fig)
