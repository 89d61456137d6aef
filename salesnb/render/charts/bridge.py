"""Waterfall charts of the revenue bridge (SPEC 9.1), and of the profit bridge with
``amount="profit"``: one figure per comparison, the customer bridge above the price-volume-mix
bridge, each read top to bottom from the comparison window's revenue (profit) through every part
that moved to the period's. Amounts are findings values; bar labels go through :mod:`salesnb.fmt`."""
from __future__ import annotations

import matplotlib.pyplot as plt

from ...fmt import fmt_money
from ..narrative.bridge import CENT, bridge_entry, bridge_parts
from .theme import BASE, chart_text, closed, money_axis

UP, DOWN = "#3a9d5d", "#c23b3b"
TOTAL = BASE
PANEL_TITLES = {"customers": "By customer", "pvm": "By {noun}: price, volume and mix"}


def waterfall_steps(entry: dict | None, kind: str, period_label: str = "Period",
                    amount: str = "revenue") -> list[dict]:
    """The bars of one bridge's waterfall, top to bottom: the comparison revenue (or profit: the
    entry's ``comparison_<amount>``, from 0), each part that moved (from the running total), the
    period's (``current_<amount>``, from 0). Each {label, part, value, start, end, total: bool};
    [] without that bridge."""
    parts = bridge_parts(entry, kind, amount)
    if not parts or entry.get(f"comparison_{amount}") is None or entry.get(f"current_{amount}") is None:
        return []
    base = float(entry[f"comparison_{amount}"])
    steps = [{"label": f"{entry['label']} {amount}", "part": None, "value": base, "start": 0.0, "end": base,
              "total": True}]
    running = base
    for p in parts:
        v = p["value"]
        if v is None or abs(v) < CENT:
            continue
        steps.append({"label": p["label"], "part": p["part"], "value": float(v), "start": running,
                      "end": running + float(v), "total": False})
        running += float(v)
    current = float(entry[f"current_{amount}"])
    steps.append({"label": f"{period_label} {amount}", "part": None, "value": current, "start": 0.0,
                  "end": current, "total": True})
    return steps


def _signed(value: float, currency: str) -> str:
    text = fmt_money(value, currency, compact=True)
    return text if text.startswith("-") else "+" + text


def _panel(ax, steps: list[dict], currency: str, title: str) -> None:
    n = len(steps)
    ys = list(range(n))[::-1]  # first step on top
    for y, s in zip(ys, steps):
        colour = TOTAL if s["total"] else (UP if s["value"] >= 0 else DOWN)
        ax.barh(y, s["end"] - s["start"], left=s["start"], color=colour, height=0.62)
        text = fmt_money(s["value"], currency, compact=True) if s["total"] else _signed(s["value"], currency)
        ax.text(max(s["start"], s["end"]), y, " " + chart_text(text), va="center", ha="left", fontsize=8)
    for (y0, a), (y1, _b) in zip(zip(ys, steps), zip(ys[1:], steps[1:])):  # connectors at each running total
        ax.plot([a["end"], a["end"]], [y0 - 0.31, y1 + 0.31], color="#888", linewidth=0.7)
    ax.set_yticks(ys, [chart_text(s["label"]) for s in steps])
    hi = max(max(s["start"], s["end"]) for s in steps)
    lo = min(0.0, min(min(s["start"], s["end"]) for s in steps))
    ax.set_xlim(lo, hi * 1.18 if hi > 0 else 1.0)
    ax.axvline(0, color="#444", linewidth=0.8)
    money_axis(ax, currency, axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title(chart_text(title), fontsize=10, loc="left")


def bridge_chart(f: dict, which: str, amount: str = "revenue"):
    """The waterfalls of ``revenue.bridge.<which>`` (customers, then price-volume-mix; a panel
    for each bridge the findings hold), or None without that comparison; ``amount="profit"``:
    those of ``revenue.profit.bridge.<which>``."""
    entry = bridge_entry(f, which, amount)
    if entry is None:
        return None
    currency = f.get("currency", "USD")
    period = (f.get("period") or {}).get("label") or "Period"
    panels = []
    for kind in ("customers", "pvm"):
        steps = waterfall_steps(entry, kind, period, amount)
        if steps:
            noun = (entry.get("pvm") or {}).get("dimension") or "item"
            panels.append((kind, steps, PANEL_TITLES[kind].format(noun=noun.replace("_", " "))))
    if not panels:
        return None
    heights = [0.42 * len(steps) + 0.9 for _, steps, _ in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights) + 0.6), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": heights})
    for ax, (_kind, steps, title) in zip(axes[:, 0], panels):
        _panel(ax, steps, currency, title)
    title = f"Why {amount} changed: {entry['label']} to {period}"
    if (f.get("comparison") or {}).get("like_for_like") and entry.get("current_window"):  # partial period: say which days are compared
        w, c = entry["window"], entry["current_window"]
        title += f"\n(like for like: {w['start']} to {w['end']} against {c['start']} to {c['end']})"
    fig.suptitle(chart_text(title), fontsize=12, fontweight="bold")
    return closed(fig)
