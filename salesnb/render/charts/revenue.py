"""Charts: one theme; each chart a function of findings or a small table.

Axes are formatted by :mod:`salesnb.fmt`; titles say what the chart shows. Functions return the
matplotlib Figure so notebooks can ``display`` it (and tests can inspect it).

Plain matplotlib: the theme is seaborn's "whitegrid" look written as rcParams, and
:func:`annotated_heatmap` draws what ``seaborn.heatmap(annot=...)`` drew. Importing seaborn
(and through it scipy.stats) cost every notebook kernel most of a second.
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from .fmt import fmt_money, fmt_month, fmt_pct

PALETTE = ["#1f5a99", "#e07b39", "#3a9d5d", "#c23b3b", "#7b5ea7", "#8c6d46", "#d16ba5", "#6b7b8c"]
HIGHLIGHT = "#e07b39"
BASE = "#1f5a99"
LONG_TAIL = 12


THEME = {
    # seaborn's "whitegrid" style
    "axes.facecolor": "white", "axes.edgecolor": ".8", "axes.grid": True, "axes.axisbelow": True,
    "axes.labelcolor": ".15", "figure.facecolor": "white", "grid.color": ".8", "grid.linestyle": "-",
    "text.color": ".15", "xtick.color": ".15", "ytick.color": ".15", "xtick.direction": "out",
    "ytick.direction": "out", "xtick.bottom": False, "ytick.left": False, "patch.edgecolor": "w",
    "patch.force_edgecolor": True, "lines.solid_capstyle": "round", "image.cmap": "Blues",
    "axes.linewidth": 1.25, "grid.linewidth": 1.0, "lines.linewidth": 1.5,
    "font.size": 10, "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
    # the kit's own settings
    "figure.figsize": (9, 4.2), "figure.dpi": 100, "savefig.dpi": 100, "axes.titlesize": 12,
    "axes.titleweight": "bold", "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "font.family": "DejaVu Sans", "figure.autolayout": True,
}


def apply_theme() -> None:
    """The kit's one theme: white grid, readable font sizes, the kit's palette."""
    from cycler import cycler
    plt.rcParams.update(THEME)
    plt.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)
    _inline_png_as_laid_out()


def _inline_png_as_laid_out() -> None:
    """In a notebook, show figures as their tight layout drew them. The inline backend's default
    ``bbox_inches="tight"`` lays every figure out again only to crop a border that the layout
    already keeps small (10 px here): the report's 20 figures took 5.6 s to save that way against
    4.5 s without."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None or "inline" not in plt.get_backend():
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    set_matplotlib_formats("png", bbox_inches=None)


def annotated_heatmap(ax, data: pd.DataFrame, annot: pd.DataFrame, *, mask=None, fontsize: float = 9,
                      linewidths: float = 0.5, cmap: str = "Blues") -> None:
    """Colour cells by ``data`` (rows top to bottom as in the frame), write ``annot`` in each,
    leave ``mask``ed cells blank; tick labels are the frame's index and columns."""
    values = data.to_numpy(dtype=float)
    hidden = np.isnan(values) if mask is None else (np.asarray(mask, dtype=bool) | np.isnan(values))
    shown = np.ma.masked_where(hidden, values)
    finite = values[~hidden]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1.0
    mesh = ax.pcolormesh(shown, cmap=cmap, vmin=lo, vmax=hi, edgecolors="white", linewidth=linewidths)
    colormap = mesh.get_cmap()
    labels = annot.to_numpy(dtype=object)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if hidden[i, j]:
                continue
            r, g, b, _ = colormap((values[i, j] - lo) / (hi - lo))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5     # white text on dark cells
            text = ax.text(j + 0.5, i + 0.5, str(labels[i, j]), ha="center", va="center", fontsize=fontsize,
                           color="white" if dark else ".15")
            text.set_in_layout(False)
    ax.set_xlim(0, values.shape[1])
    ax.set_ylim(values.shape[0], 0)
    ax.set_xticks(np.arange(values.shape[1]) + 0.5)
    ax.set_xticklabels([_tex(_short(c, 20)) for c in data.columns])
    ax.set_yticks(np.arange(values.shape[0]) + 0.5)
    ax.set_yticklabels([_tex(_short(r)) for r in data.index], rotation=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if data.columns.name:
        ax.set_xlabel(str(data.columns.name))
    if data.index.name:
        ax.set_ylabel(str(data.index.name))


def money_axis(ax, currency: str, axis: str = "y") -> None:
    formatter = mticker.FuncFormatter(lambda v, _pos: fmt_money(v, currency, compact=True))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


_DRAWABLE: set[int] | None = None


def _drawable() -> set[int]:
    """The code points the theme's font (DejaVu Sans) has glyphs for."""
    global _DRAWABLE
    if _DRAWABLE is None:
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font
        path = font_manager.findfont(font_manager.FontProperties(family=THEME["font.family"]), fallback_to_default=True)
        _DRAWABLE = set(FT2Font(path).get_charmap())
    return _DRAWABLE


def _tex(text) -> str:
    """Data text as a chart shows it: a ``$`` would start matplotlib's mathtext, so it is escaped;
    characters the font has no glyph for (emoji, most symbols outside DejaVu Sans) would be drawn
    as empty boxes, so they are left out (the tables and findings.json keep the full text)."""
    drawable = _drawable()
    text = "".join(ch for ch in str(text) if ord(ch) in drawable or ch in "\n\t")
    text = re.sub(" {2,}", " ", text).strip()
    return text.replace("$", r"\$") if text else "?"


def _title(ax, text: str) -> None:
    """A chart title wrapped to the figure's width (a long title is never cut off at the edges)."""
    import textwrap
    width_in = ax.figure.get_figwidth()
    # about 70% of the figure's width: the title is centred over the axes, which start after the
    # y labels (a title wider than that runs off the picture and stops the tight layout)
    chars = max(20, int(0.7 * width_in * 72 / (plt.rcParams["axes.titlesize"] * 0.62)))
    ax.set_title("\n".join(textwrap.wrap(_tex(text), chars)))


def _done(fig):
    """Return a chart closed: a cell that ends with a chart call shows it once (as its result),
    never a second time when the inline backend flushes the open figures."""
    plt.close(fig)
    return fig


def _short(label: str, width: int = 28) -> str:
    text = str(label)
    return text if len(text) <= width else text[: width - 1] + "…"


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
    _title(ax, f"Monthly revenue, trailing {len(trend)} months ({period_label} highlighted, partial hatched)")
    ax.set_ylabel("Revenue")
    return _done(fig)


def quarter_chart(quarters, currency: str):
    """Quarterly revenue: ``quarters`` is ``findings["revenue"]["by_quarter"]`` (the quarters the
    quarter table shows) or a frame with ``quarter``, ``revenue`` and ``partial``."""
    quarters = pd.DataFrame(quarters)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    colors = [BASE if not p else "#9db3cc" for p in quarters["partial"]]
    ax.bar(quarters["quarter"], quarters["revenue"], color=colors)
    money_axis(ax, currency)
    _title(ax, "Quarterly revenue (partial quarters lighter)")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    return _done(fig)


def breakdown_chart(frame: pd.DataFrame, noun: str, currency: str, period_label: str):
    """Revenue by value of a dimension (top values; the rest grouped as 'other' in the chart only)."""
    data = frame[["value", "revenue"]].copy()
    if len(data) > LONG_TAIL:
        rest = data.iloc[LONG_TAIL - 1:]["revenue"].sum()
        data = pd.concat([data.iloc[: LONG_TAIL - 1],
                          pd.DataFrame({"value": [f"other ({len(frame) - LONG_TAIL + 1} values)"], "revenue": [rest]})])
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.42 * len(data) + 1)))
    ax.barh(range(len(data)), data["revenue"].tolist()[::-1], color=BASE)
    ax.set_yticks(range(len(data)), [_tex(_short(v)) for v in data["value"]][::-1])
    money_axis(ax, currency, axis="x")
    _title(ax, f"Revenue by {noun}, {period_label}")
    return _done(fig)


def growth_chart(frame: pd.DataFrame, noun: str, previous_label: str | None):
    data = frame.dropna(subset=["growth_pct"]).head(LONG_TAIL)
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.42 * len(data) + 1)))
    colors = ["#3a9d5d" if g >= 0 else "#c23b3b" for g in data["growth_pct"]]
    ax.barh(range(len(data)), data["growth_pct"].tolist()[::-1], color=colors[::-1])
    ax.set_yticks(range(len(data)), [_tex(_short(v)) for v in data["value"]][::-1])
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: fmt_pct(v, 0)))
    ax.axvline(0, color="#444", linewidth=0.8)
    _title(ax, f"Revenue growth by {noun} vs {previous_label}")
    return _done(fig)


def heatmap_chart(matrix: pd.DataFrame, rows: str, cols: str, currency: str, title: str):
    pivot = matrix.pivot_table(index=rows, columns=cols, values=matrix.columns[-1], aggfunc="sum", fill_value=0)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.5 * len(pivot) + 1.5)))
    annot = pivot.map(lambda v: fmt_money(v, currency, compact=True))
    annotated_heatmap(ax, pivot, annot)
    _title(ax, title)
    ax.set_xlabel(cols.replace("_", " "))
    ax.set_ylabel(rows.replace("_", " "))
    return _done(fig)


def impact_chart(impact: pd.DataFrame, currency: str, period_label: str):
    """The opportunities with a money impact (``summary.impact_frame``): one bar each, largest on
    top, labelled with the impact; None when there is none."""
    if impact is None or impact.empty:
        return None
    data = impact.sort_values(["impact", "label"], ascending=[True, False]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.42 * len(data)))
    bars = ax.barh(range(len(data)), data["impact"], color=BASE)
    ax.set_yticks(range(len(data)), [_tex(label) for label in data["label"]])
    ax.bar_label(bars, labels=[_tex(fmt_money(v, currency)) for v in data["impact"]], padding=3, fontsize=8)
    ax.set_xlim(0, float(data["impact"].max()) * 1.25)
    money_axis(ax, currency, axis="x")
    ax.set_xlabel(f"Estimated impact ({currency})")
    _title(ax, f"Opportunities by money impact, {period_label}")
    return _done(fig)


def month_title(label: str) -> str:
    return fmt_month(label)
