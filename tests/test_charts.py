"""Charts (salesnb.charts): the theme is seaborn's whitegrid without importing seaborn, and the
annotated heatmap writes every value where seaborn.heatmap would."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from salesnb import charts  # noqa: E402


def test_theme_is_seaborns_whitegrid():
    import seaborn as sns
    style = sns.axes_style("whitegrid")
    for key, value in style.items():
        # the kit sets its own spines, font and colour map (its heatmaps are "Blues")
        if key in charts.THEME and key not in ("axes.spines.top", "axes.spines.right", "font.family", "image.cmap"):
            assert charts.THEME[key] == value, key
    assert {"axes.grid", "grid.color", "axes.edgecolor", "axes.facecolor"} <= set(charts.THEME)


def test_annotated_heatmap_labels_every_cell_top_row_first():
    data = pd.DataFrame([[1.0, 2.0, 3.0], [4.0, float("nan"), 6.0]], index=["north", "south"],
                        columns=pd.Index(["a", "b", "c"], name="segment"))
    annot = data.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    fig, ax = plt.subplots()
    charts.annotated_heatmap(ax, data, annot)
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
    charts.annotated_heatmap(ax, data, data.map(str))
    assert [t.get_text() for t in ax.texts] == [str(value)] * 2
    plt.close(fig)


def test_heatmap_cell_labels_stay_out_of_the_layout_pass_and_the_picture_is_the_same():
    # the labels lie inside their cells, so the tight layout need not measure them (a cohort
    # heatmap's 300 labels made it the slowest figure); the drawn PNG must not change
    import io
    charts.apply_theme()
    data = pd.DataFrame([[float(i * 7 + j) for j in range(7)] for i in range(12)],
                        index=[f"2024-{m:02d} (n=1,234)" for m in range(1, 13)])
    annot = data.map(lambda v: f"{v:.0f}%")

    def png(in_layout: bool) -> bytes:
        fig, ax = plt.subplots(figsize=(8, 5))
        charts.annotated_heatmap(ax, data, annot, fontsize=7)
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
