"""Charts (salesnb.render.charts): the theme is seaborn's whitegrid without importing seaborn, and the
annotated heatmap writes every value where seaborn.heatmap would."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from salesnb.render.charts import revenue as charts, theme  # noqa: E402


def test_theme_is_seaborns_whitegrid():
    import seaborn as sns
    style = sns.axes_style("whitegrid")
    for key, value in style.items():
        # the kit sets its own spines, font and colour map (its heatmaps are "Blues")
        if key in theme.THEME and key not in ("axes.spines.top", "axes.spines.right", "font.family", "image.cmap"):
            assert theme.THEME[key] == value, key
    assert {"axes.grid", "grid.color", "axes.edgecolor", "axes.facecolor"} <= set(theme.THEME)


def test_annotated_heatmap_labels_every_cell_top_row_first():
    data = pd.DataFrame([[1.0, 2.0, 3.0], [4.0, float("nan"), 6.0]], index=["north", "south"],
                        columns=pd.Index(["a", "b", "c"], name="segment"))
    annot = data.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    fig, ax = plt.subplots()
    theme.annotated_heatmap(ax, data, annot)
    texts = {(round(t.get_position()[0], 1), round(t.get_position()[1], 1)): t.get_text() for t in ax.texts}
    assert texts == {(0.5, 0.5): "1", (1.5, 0.5): "2", (2.5, 0.5): "3", (0.5, 1.5): "4", (2.5, 1.5): "6"}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["north", "south"]
    assert ax.get_ylim() == (2.0, 0.0)                       # first row at the top, as in seaborn
    assert ax.get_xlabel() == "segment"
    # the darkest cell gets white text, the lightest dark text
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["6"] == "white" and colours["1"] != "white"
    plt.close(fig)


@pytest.mark.parametrize("value", [5.0, 0.0])
def test_annotated_heatmap_with_one_value_everywhere(value):
    data = pd.DataFrame([[value, value]], index=["r"], columns=["x", "y"])
    fig, ax = plt.subplots()
    theme.annotated_heatmap(ax, data, data.map(str))
    assert [t.get_text() for t in ax.texts] == [str(value)] * 2
    plt.close(fig)


def test_heatmap_cell_labels_stay_out_of_the_layout_pass_and_the_picture_is_the_same():
    # the labels lie inside their cells, so the tight layout need not measure them (a cohort
    # heatmap's 300 labels made it the slowest figure); the drawn PNG must not change
    import io
    theme.apply_theme()
    data = pd.DataFrame([[float(i * 7 + j) for j in range(7)] for i in range(12)],
                        index=[f"2024-{m:02d} (n=1,234)" for m in range(1, 13)])
    annot = data.map(lambda v: f"{v:.0f}%")

    def png(in_layout: bool) -> bytes:
        fig, ax = plt.subplots(figsize=(8, 5))
        theme.annotated_heatmap(ax, data, annot, fontsize=7)
        assert len(ax.texts) == 84 and not any(t.get_in_layout() for t in ax.texts)
        for t in ax.texts:
            t.set_in_layout(in_layout)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return buf.getvalue()

    assert png(False) == png(True)


def test_impact_chart_puts_the_largest_opportunity_on_top_and_shows_dollars_as_text():
    impact = pd.DataFrame({"label": ["Win back lapsed", "Grow West", "Upsell $ tier"],
                           "impact": [1200.0, 56000.0, 3400.5]})
    fig = charts.impact_chart(impact, "USD", "2024Q3")
    ax = fig.axes[0]
    # barh draws bottom up: the last tick is the top bar
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Win back lapsed", r"Upsell \$ tier", "Grow West"]
    assert [round(p.get_width(), 2) for p in ax.patches] == [1200.0, 3400.5, 56000.0]
    values = [t.get_text() for t in ax.texts]
    assert values == [r"\$1,200.00", r"\$3,400.50", r"\$56,000.00"]      # fmt_money, $ escaped
    assert ax.get_xlim()[1] == pytest.approx(56000.0 * 1.25)
    assert ax.get_title() == "Opportunities by money impact, 2024Q3"
    plt.close(fig)
    assert charts.impact_chart(impact.iloc[0:0], "USD", "2024Q3") is None


# --------------------------------------------------------------------------- charts that fit (issue 21 part 6, 22 item 12)

def _inside(fig, artists) -> list[str]:
    """The texts of ``artists`` whose drawn box leaves the figure (clipped in the PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).draw()   # as IPython draws a (closed) figure: the tight layout applies
    box = fig.bbox
    out = []
    for a in artists:
        if not a.get_visible() or not a.get_text():
            continue
        b = a.get_window_extent()
        if b.x0 < box.x0 - 0.5 or b.x1 > box.x1 + 0.5 or b.y0 < box.y0 - 0.5 or b.y1 > box.y1 + 0.5:
            out.append(a.get_text())
    return out


def test_long_titles_and_heatmap_labels_stay_inside_the_picture():
    theme.apply_theme()
    rows = [f"Region with a rather long name number {i}" for i in range(4)]
    matrix = pd.DataFrame([{"region": r, "segment": s, "revenue": 1000.0 * (i + j + 1)}
                           for i, r in enumerate(rows) for j, s in enumerate(["Consumer", "Corporate", "Home Office"])])
    title = "Revenue by region and segment, 2017Q4, with a title far longer than the figure is wide " * 2
    fig = charts.heatmap_chart(matrix, "region", "segment", "USD", title)
    ax = fig.axes[0]
    assert _inside(fig, [ax.title, *ax.get_yticklabels(), *ax.get_xticklabels()]) == []
    assert "\n" in ax.get_title()                      # wrapped, not cut
    impact = pd.DataFrame({"label": ["Recover a very long product name (product)", "Raise AOV"], "impact": [5e4, 2e4]})
    fig = charts.impact_chart(impact, "USD", "2017Q4 and a long period label that makes the title run on")
    ax = fig.axes[0]
    assert _inside(fig, [ax.title, *ax.get_yticklabels()]) == []


def test_emoji_are_left_out_of_chart_text_not_drawn_as_boxes():
    theme.apply_theme()
    frame = pd.DataFrame({"value": ["Shoes 👟 & socks", "🚀", "Café $5"], "revenue": [300.0, 200.0, 100.0]})
    fig = charts.breakdown_chart(frame, "product", "USD", "2024Q3")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [r"Café \$5", "?", "Shoes & socks"]  # bottom to top; "$" escaped for mathtext
    drawable = theme._drawable()
    assert all(ord(ch) in drawable for label in labels for ch in label)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # "Glyph … missing from font" would be a warning
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig).draw()


def test_chart_functions_return_closed_figures_so_a_cell_shows_them_once():
    theme.apply_theme()
    plt.close("all")
    frame = pd.DataFrame({"value": ["a", "b"], "revenue": [2.0, 1.0], "growth_pct": [5.0, -3.0]})
    figs = [charts.breakdown_chart(frame, "region", "USD", "2024Q3"),
            charts.growth_chart(frame, "region", "2024Q2"),
            charts.quarter_chart([{"quarter": "2024Q2", "revenue": 1.0, "partial": False},
                                  {"quarter": "2024Q3", "revenue": 2.0, "partial": True}], "USD")]
    assert all(f is not None for f in figs)
    assert plt.get_fignums() == []                      # nothing left open for the inline backend to flush


def test_quarter_chart_shows_the_quarters_of_the_quarter_table():
    from salesnb.render import tables
    by_quarter = [{"quarter": f"2024Q{q}", "revenue": 100.0 * q, "orders": q, "partial": q == 4,
                   "qoq_pct": None, "yoy_pct": None} for q in range(1, 5)]
    f = {"currency": "USD", "revenue": {"by_quarter": by_quarter}}
    fig = charts.quarter_chart(f["revenue"]["by_quarter"], "USD")
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert shown == [q.replace(" (partial)", "") for q in tables.quarter_table(f)["Quarter"]]
    assert len(fig.axes[0].patches) == 4


def test_index_chart_axis_covers_its_highest_point():
    import re
    from salesnb.render.html import _nice_ticks, revenue_chart_svg
    for hi in (82_117.0, 75_000.0, 99_999.0, 1.0, 0.37, 12_345_678.0):
        ticks = _nice_ticks(0.0, hi)
        assert ticks[0] <= 0.0 and ticks[-1] >= hi and len(ticks) >= 2, (hi, ticks)
    svg = str(revenue_chart_svg(["2024Q1", "2024Q2", "2024Q3"], [("", [60_000.0, 82_117.0, 70_000.0])]))
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    top = 20  # the plot's top margin
    assert ys and min(ys) >= top, ys
    assert ">$100.0K<" in svg                      # the top tick label
