"""The charts' one theme and what every chart shares: money axes, the annotated heatmap, titles
wrapped to the figure, data text as the font can draw it.

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

from ...fmt import fmt_money

PALETTE = ["#1f5a99", "#e07b39", "#3a9d5d", "#c23b3b", "#7b5ea7", "#8c6d46", "#d16ba5", "#6b7b8c"]
HIGHLIGHT = "#e07b39"
BASE = "#1f5a99"


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
    ax.set_xticklabels([chart_text(shortened(c, 20)) for c in data.columns])
    ax.set_yticks(np.arange(values.shape[0]) + 0.5)
    ax.set_yticklabels([chart_text(shortened(r)) for r in data.index], rotation=0)
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


def chart_text(text) -> str:
    """Data text as a chart shows it: a ``$`` would start matplotlib's mathtext, so it is escaped;
    characters the font has no glyph for (emoji, most symbols outside DejaVu Sans) would be drawn
    as empty boxes, so they are left out (the tables and findings.json keep the full text)."""
    drawable = _drawable()
    text = "".join(ch for ch in str(text) if ord(ch) in drawable or ch in "\n\t")
    text = re.sub(" {2,}", " ", text).strip()
    return text.replace("$", r"\$") if text else "?"


def chart_title(ax, text: str) -> None:
    """A chart title wrapped to the figure's width (a long title is never cut off at the edges)."""
    import textwrap
    width_in = ax.figure.get_figwidth()
    # about 70% of the figure's width: the title is centred over the axes, which start after the
    # y labels (a title wider than that runs off the picture and stops the tight layout)
    chars = max(20, int(0.7 * width_in * 72 / (plt.rcParams["axes.titlesize"] * 0.62)))
    ax.set_title("\n".join(textwrap.wrap(chart_text(text), chars)))


def closed(fig):
    """Return a chart closed: a cell that ends with a chart call shows it once (as its result),
    never a second time when the inline backend flushes the open figures."""
    plt.close(fig)
    return fig


def shortened(label: str, width: int = 28) -> str:
    text = str(label)
    return text if len(text) <= width else text[: width - 1] + "…"
