"""The pipeline report's charts (SPEC 10): deals by stage, win rate and sales cycle by rep or
product, open pipeline by age. Each a function of the findings, axes by :mod:`salesnb.fmt`,
returning its matplotlib Figure, closed."""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker

from ...fmt import fmt_count, fmt_money, fmt_pct
from .theme import BASE, HIGHLIGHT, chart_text, chart_title, closed, money_axis, shortened

LOST = "#c23b3b"
THIN = "#9db3cc"


def funnel_chart(f: dict):
    """Deals by stage: the open stages at the period's end, then the deals lost and won in it."""
    p = f.get("pipeline") or {}
    label = (f.get("period") or {}).get("label", "")
    rows = [(f"open: {s['stage']}", s["deals"], BASE) for s in (p.get("open") or {}).get("by_stage") or []]
    rows += [(f"lost in {label}", (p.get("lost") or {}).get("deals") or 0, LOST),
             (f"won in {label}", (p.get("won") or {}).get("deals") or 0, HIGHLIGHT)]
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.5 * len(rows) + 1)))
    ys = range(len(rows))[::-1]
    ax.barh(list(ys), [r[1] for r in rows], color=[r[2] for r in rows])
    ax.set_yticks(list(ys), [chart_text(shortened(r[0])) for r in rows])
    for y, r in zip(ys, rows):
        ax.text(r[1], y, " " + fmt_count(r[1]), va="center", fontsize=9)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: fmt_count(v)))
    chart_title(ax, f"Deals by stage: open at the end of {label}, closed in it")
    return closed(fig)


def win_rate_chart(rows: list[dict], dim: str, noun: str, period_label: str):
    """Win rate per value; values below the minimum sample lighter; the median of the others dashed."""
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: (-(r["win_rate_pct"] or 0), r[dim]))
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.32 * len(rows) + 1.2)))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r["win_rate_pct"] or 0 for r in rows], color=[BASE if r["material"] else THIN for r in rows])
    ax.set_yticks(ys, [chart_text(shortened(r[dim])) for r in rows], fontsize=8)
    rates = sorted(r["win_rate_pct"] for r in rows if r["material"] and r["win_rate_pct"] is not None)
    if rates:
        import numpy as np
        median = float(np.median(rates))
        ax.axvline(median, color=HIGHLIGHT, linestyle="--", linewidth=1.2)
        ax.text(median, len(rows) - 0.4, f" median {fmt_pct(median)}", color=HIGHLIGHT, fontsize=8)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: fmt_pct(v, 0)))
    chart_title(ax, f"Win rate by {noun}, {period_label} (lighter: too few closed deals to compare)")
    return closed(fig)


def cycle_chart(rows: list[dict], dim: str, noun: str, period_label: str):
    """Median sales cycle (days) of the won deals per value."""
    rows = [r for r in rows or [] if r.get("median_cycle_days") is not None]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: (r["median_cycle_days"], r[dim]))
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.32 * len(rows) + 1.2)))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r["median_cycle_days"] for r in rows], color=[BASE if r["material"] else THIN for r in rows])
    ax.set_yticks(ys, [chart_text(shortened(r[dim])) for r in rows], fontsize=8)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: fmt_count(v)))
    ax.set_xlabel("days from created to won (median)")
    chart_title(ax, f"Sales cycle by {noun}, deals won in {period_label}")
    return closed(fig)


def open_age_chart(f: dict):
    """Open pipeline value by age band at the period's end, with the deal counts."""
    o = (f.get("pipeline") or {}).get("open") or {}
    bands = o.get("by_age") or []
    if not o.get("deals"):
        return None
    cur = f.get("currency", "USD")
    fig, ax = plt.subplots(figsize=(9, 3.6))
    xs = range(len(bands))
    ax.bar(list(xs), [b["value"] for b in bands], color=[THIN if b["band"] == "unknown" else BASE for b in bands])
    ax.set_xticks(list(xs), [f"{b['band']} days" if b["band"] != "unknown" else "unknown" for b in bands])
    for x, b in zip(xs, bands):
        ax.text(x, b["value"], f"{fmt_count(b['deals'])} deals", ha="center", va="bottom", fontsize=8)
    money_axis(ax, cur)
    end = (f.get("period") or {}).get("data_end", "")
    chart_title(ax, f"Open pipeline by age at {end}: value ({fmt_money(o.get('value'), cur, compact=True)} in all)")
    return closed(fig)
