"""Customer charts: each a function of a small ``customers_*`` table, in the kit's theme.

Use after :func:`salesnb.render.charts.theme.apply_theme`. Each returns a matplotlib Figure (or ``None`` when
the table is empty). Text that may hold ``$`` is escaped for matplotlib's mathtext.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ...fmt import fmt_count, fmt_pct
from .theme import BASE, HIGHLIGHT, annotated_heatmap, chart_text, chart_title, closed, money_axis

RISK_COLOR = "#c23b3b"
RISK_SEGMENTS = ("At Risk", "Can't Lose Them", "About to Sleep")


def segment_chart(segments: pd.DataFrame, currency: str):
    """Customers per RFM segment (bars; churn-risk segments in red), labelled with revenue share."""
    if segments is None or segments.empty or segments["customers"].sum() == 0:
        return None
    data = segments.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 4.6))
    colors = [RISK_COLOR if s in RISK_SEGMENTS else BASE for s in data["segment"]]
    bars = ax.barh(data["segment"], data["customers"], color=colors)
    labels = [f"{fmt_count(n)} · {fmt_pct(r)} of revenue" if n else "" for n, r in
              zip(data["customers"], data["revenue_share_pct"])]
    ax.bar_label(bars, labels=[chart_text(x) for x in labels], padding=3, fontsize=8)
    ax.set_xlim(0, float(data["customers"].max()) * 1.35)
    ax.set_xlabel("Customers")
    chart_title(ax, "RFM segments: customers (churn-risk segments in red)")
    return closed(fig)


def rf_heatmap_chart(heat: pd.DataFrame):
    """Customers per recency score × frequency score (5 = most recent / most frequent)."""
    if heat is None or heat.empty or heat["customers"].sum() == 0:
        return None
    pivot = heat.pivot(index="r_score", columns="f_score", values="customers").sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    annot = pivot.map(fmt_count)
    annotated_heatmap(ax, pivot, annot)
    ax.grid(False)
    ax.set_xlabel("F score (5 = most orders)")
    ax.set_ylabel("R score (5 = most recent)")
    chart_title(ax, "Customers by recency and frequency score")
    return closed(fig)


def cohort_chart(cells: pd.DataFrame, value: str = "retention_pct", max_offset: int = 12, title: str | None = None):
    """Cohort × months-since-acquisition heatmap of retention (or revenue retention) in %."""
    if cells is None or cells.empty:
        return None
    data = cells[cells["month_offset"] <= max_offset]
    pivot = data.pivot(index="cohort", columns="month_offset", values=value).sort_index()
    pivot = pivot.astype(float)
    if pivot.isna().all().all():
        return None
    sizes = data[data["month_offset"] == 0].set_index("cohort")["cohort_customers"]
    pivot.index = [f"{c} (n={fmt_count(sizes.get(c))})" for c in pivot.index]
    fig, ax = plt.subplots(figsize=(10, max(2.8, 0.32 * len(pivot) + 1.6)))
    annot = pivot.map(lambda v: "" if pd.isna(v) else fmt_pct(v, 0))
    shown = pivot.clip(upper=100) if value == "retention_pct" else pivot.clip(upper=150)
    annotated_heatmap(ax, shown, annot, mask=pivot.isna().to_numpy(), fontsize=7, linewidths=0.4)
    ax.grid(False)
    ax.set_xlabel("Months since first order")
    ax.set_ylabel("Cohort (month of first order)")
    chart_title(ax, title or "Share of each cohort buying again, by month since acquisition")
    return closed(fig)


def pareto_chart(pareto: pd.DataFrame, top_share_pct: float | None = None):
    """Cumulative share of revenue against share of customers, largest first."""
    if pareto is None or pareto.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    ax.plot(pareto["customer_share_pct"], pareto["revenue_share_pct"], color=BASE, linewidth=2)
    ax.plot([0, 100], [0, 100], color="#999", linewidth=0.8, linestyle="--")
    if top_share_pct is not None:
        y = float(np.interp(20.0, pareto["customer_share_pct"].astype(float), pareto["revenue_share_pct"].astype(float)))
        ax.axvline(20, color=HIGHLIGHT, linewidth=0.8)
        ax.annotate(chart_text(f"top 20%: {fmt_pct(top_share_pct)} of revenue"), (20, y), xytext=(28, max(5.0, y - 18)),
                    arrowprops={"arrowstyle": "->", "color": HIGHLIGHT}, fontsize=9)
    fmt = mticker.FuncFormatter(lambda v, _p: fmt_pct(v, 0))
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 102)
    ax.set_xlabel("Share of customers (largest first)")
    ax.set_ylabel("Cumulative share of revenue")
    chart_title(ax, "Revenue concentration (Pareto curve)")
    return closed(fig)


def clv_distribution_chart(dist: pd.DataFrame, currency: str):
    """Customers per value bin (predicted 12-month value, or historical revenue)."""
    if dist is None or dist.empty or dist["customers"].sum() == 0:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = (dist["bin_high"] - dist["bin_low"]).astype(float)
    ax.bar(dist["bin_low"].astype(float), dist["customers"], width=width, align="edge", color=BASE,
           edgecolor="white")
    money_axis(ax, currency, axis="x")
    basis = str(dist["basis"].iloc[0])
    note = " (last bar: and above)" if bool(dist["open_ended"].iloc[-1]) else ""
    ax.set_xlabel(chart_text(f"{basis} per customer{note}"))
    ax.set_ylabel("Customers")
    chart_title(ax, f"Distribution of {basis} per customer")
    return closed(fig)


def p_alive_chart(top: pd.DataFrame, currency: str):
    """Top customers: predicted 12-month value with their probability of being alive."""
    if top is None or top.empty or top["predicted_value_12m"].isna().all():
        return None
    data = top.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.3 * len(data) + 1.2)))
    labels = [str(c)[:24] for c in data["customer_id"]]
    bars = ax.barh(range(len(data)), data["predicted_value_12m"], color=BASE)
    ax.set_yticks(range(len(data)), [chart_text(x) for x in labels], fontsize=8)
    ax.bar_label(bars, labels=[chart_text(f"P(alive) {fmt_pct(100 * p, 0)}") for p in data["p_alive"]], padding=3,
                 fontsize=7)
    ax.set_xlim(0, float(data["predicted_value_12m"].max()) * 1.3)
    money_axis(ax, currency, axis="x")
    chart_title(ax, "Top customers by predicted 12-month value")
    return closed(fig)
