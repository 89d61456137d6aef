"""The forecast chart (SPEC 9.2): monthly revenue history and the forecast, with its 80% and 95%
intervals shaded and the next quarter marked. A function of the findings; axes formatted by
:mod:`salesnb.fmt`; returns the matplotlib Figure, closed, so a notebook shows it once."""
from __future__ import annotations

import matplotlib.pyplot as plt

from ..labels import forecast_method_name
from .theme import BASE, HIGHLIGHT, chart_title, closed, money_axis

#: shading of the intervals: the 95% band lighter than the 80% band, both in the forecast's colour
BAND_ALPHA = {95: 0.16, 80: 0.32}


def _index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def forecast_chart(f: dict, currency: str | None = None):
    """History (``revenue.trend_by_month``: the trailing 24 months, partial months as hollow
    points) and the forecast months (``forecast.months``) with the 95% and 80% intervals shaded,
    the next quarter's months on a light background. None when there is no forecast."""
    fc = f.get("forecast") or {}
    months = fc.get("months") or []
    if not months:
        return None
    currency = currency or f.get("currency", "USD")
    history = [m for m in (f.get("revenue") or {}).get("trend_by_month") or [] if m.get("revenue") is not None]
    first_forecast = _index(months[0]["month"])
    history = [m for m in history if _index(m["month"]) < first_forecast or m.get("partial")]
    labels = sorted({m["month"] for m in history} | {m["month"] for m in months}, key=_index)
    x_of = {m: i for i, m in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(9, 4.4))

    complete = [m for m in history if not m.get("partial")]
    partial = [m for m in history if m.get("partial")]
    ax.plot([x_of[m["month"]] for m in complete], [m["revenue"] for m in complete], color=BASE, marker="o",
            markersize=3.5, label="Revenue (complete months)")
    if partial:
        ax.plot([x_of[m["month"]] for m in partial], [m["revenue"] for m in partial], linestyle="none", marker="o",
                markersize=5, markerfacecolor="white", color=BASE, label="Partial month (left out of the model)")

    xs = [x_of[m["month"]] for m in months]
    ys = [m["revenue"] for m in months]
    # the forecast line starts at the last complete month, so history and forecast read as one path
    last = complete[-1] if complete and _index(complete[-1]["month"]) == first_forecast - 1 else None
    line_x = ([x_of[last["month"]]] if last else []) + xs
    line_y = ([last["revenue"]] if last else []) + ys
    run_rate = fc.get("method") == "run_rate"
    name = forecast_method_name(fc.get("method"))
    label = f"Forecast: {name}" + ("" if run_rate or not fc.get("model") else f", {fc['model']}")
    ax.plot(line_x, line_y, color=HIGHLIGHT, linestyle="--")
    ax.plot(xs, ys, color=HIGHLIGHT, linestyle="--", marker="o", markersize=3.5, label=label)
    for level in (95, 80):
        lo, hi = [m.get(f"lo{level}") for m in months], [m.get(f"hi{level}") for m in months]
        if any(v is None for v in lo + hi):
            continue
        ax.fill_between(xs, lo, hi, color=HIGHLIGHT, alpha=BAND_ALPHA[level], linewidth=0,
                        label=f"{level}% interval")

    nq = fc.get("next_quarter") or {}
    quarter = [x_of[m] for m in labels if nq.get("start") and nq["start"][:7] <= m <= nq["end"][:7]]
    if quarter:
        ax.axvspan(min(quarter) - 0.5, max(quarter) + 0.5, color="0.5", alpha=0.08, linewidth=0)
        ax.text((min(quarter) + max(quarter)) / 2, 1.0, nq["label"], transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=9, color="0.35")

    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([m if i % 3 == 0 or len(labels) <= 12 else "" for i, m in enumerate(labels)],
                       rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(labels) - 0.5)
    money_axis(ax, currency)
    ax.set_ylabel("Revenue")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    what = "run-rate, no interval" if run_rate else "80% and 95% intervals"
    chart_title(ax, f"Revenue and forecast to {nq.get('label') or labels[-1]} ({what})")
    return closed(fig)
