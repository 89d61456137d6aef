"""The revenue notebook's charts (and the recommendations' impact chart): each a function of
findings or a small table, axes formatted by :mod:`salesnb.fmt`, titles saying what the chart
shows; each returns its matplotlib Figure, closed, so a notebook shows it once."""
from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

from ...fmt import fmt_money, fmt_pct
from .theme import BASE, HIGHLIGHT, annotated_heatmap, chart_text, chart_title, closed, money_axis, shortened

LONG_TAIL = 12


def trend_chart(trend: pd.DataFrame, currency: str, period_label: str):
    """Monthly revenue, trailing 24 months; the report's period highlighted, partial months hatched."""
    fig, ax = plt.subplots()
    colors = [HIGHLIGHT if p else BASE for p in trend["in_period"]]
    bars = ax.bar(range(len(trend)), trend["revenue"], color=colors)
    for bar, partial in zip(bars, trend["partial"]):
        if partial:
            bar.set_hatch("//")
            bar.set_alpha(0.55)
    ax.set_xticks(range(len(trend)))
    ax.set_xticklabels([m if i % 3 == 0 or len(trend) <= 12 else "" for i, m in enumerate(trend["month"])],
                       rotation=45, ha="right", fontsize=8)
    money_axis(ax, currency)
    chart_title(ax, f"Monthly revenue, trailing {len(trend)} months ({period_label} highlighted, partial hatched)")
    ax.set_ylabel("Revenue")
    return closed(fig)


def quarter_chart(quarters, currency: str):
    """Quarterly revenue: ``quarters`` is ``findings["revenue"]["by_quarter"]`` (the quarters the
    quarter table shows) or a frame with ``quarter``, ``revenue`` and ``partial``."""
    quarters = pd.DataFrame(quarters)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    colors = [BASE if not p else "#9db3cc" for p in quarters["partial"]]
    ax.bar(quarters["quarter"], quarters["revenue"], color=colors)
    money_axis(ax, currency)
    chart_title(ax, "Quarterly revenue (partial quarters lighter)")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    return closed(fig)


def breakdown_chart(frame: pd.DataFrame, noun: str, currency: str, period_label: str):
    """Revenue by value of a dimension (top values; the rest grouped as 'other' in the chart only)."""
    data = frame[["value", "revenue"]].copy()
    if len(data) > LONG_TAIL:
        rest = data.iloc[LONG_TAIL - 1:]["revenue"].sum()
        data = pd.concat([data.iloc[: LONG_TAIL - 1],
                          pd.DataFrame({"value": [f"other ({len(frame) - LONG_TAIL + 1} values)"], "revenue": [rest]})])
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.42 * len(data) + 1)))
    ax.barh(range(len(data)), data["revenue"].tolist()[::-1], color=BASE)
    ax.set_yticks(range(len(data)), [chart_text(shortened(v)) for v in data["value"]][::-1])
    money_axis(ax, currency, axis="x")
    chart_title(ax, f"Revenue by {noun}, {period_label}")
    return closed(fig)


def growth_chart(frame: pd.DataFrame, noun: str, previous_label: str | None):
    data = frame.dropna(subset=["growth_pct"]).head(LONG_TAIL)
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.42 * len(data) + 1)))
    colors = ["#3a9d5d" if g >= 0 else "#c23b3b" for g in data["growth_pct"]]
    ax.barh(range(len(data)), data["growth_pct"].tolist()[::-1], color=colors[::-1])
    ax.set_yticks(range(len(data)), [chart_text(shortened(v)) for v in data["value"]][::-1])
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: fmt_pct(v, 0)))
    ax.axvline(0, color="#444", linewidth=0.8)
    chart_title(ax, f"Revenue growth by {noun} vs {previous_label}")
    return closed(fig)


def heatmap_chart(matrix: pd.DataFrame, rows: str, cols: str, currency: str, title: str):
    pivot = matrix.pivot_table(index=rows, columns=cols, values=matrix.columns[-1], aggfunc="sum", fill_value=0)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.5 * len(pivot) + 1.5)))
    annot = pivot.map(lambda v: fmt_money(v, currency, compact=True))
    annotated_heatmap(ax, pivot, annot)
    chart_title(ax, title)
    ax.set_xlabel(cols.replace("_", " "))
    ax.set_ylabel(rows.replace("_", " "))
    return closed(fig)


def impact_chart(impact: pd.DataFrame, currency: str, period_label: str):
    """The opportunities with a money impact (``summary.impact_frame``): one bar each, largest on
    top, labelled with the impact; None when there is none."""
    if impact is None or impact.empty:
        return None
    data = impact.sort_values(["impact", "label"], ascending=[True, False]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.42 * len(data)))
    bars = ax.barh(range(len(data)), data["impact"], color=BASE)
    ax.set_yticks(range(len(data)), [chart_text(label) for label in data["label"]])
    ax.bar_label(bars, labels=[chart_text(fmt_money(v, currency)) for v in data["impact"]], padding=3, fontsize=8)
    ax.set_xlim(0, float(data["impact"].max()) * 1.25)
    money_axis(ax, currency, axis="x")
    ax.set_xlabel(f"Estimated impact ({currency})")
    chart_title(ax, f"Opportunities by money impact, {period_label}")
    return closed(fig)


