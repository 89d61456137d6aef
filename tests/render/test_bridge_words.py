"""The customer bridge's contraction bar says what it holds: the customers bought in both windows
whose revenue fell *or stayed the same* (R1 ≤ R0), the same words in the chart as in the sentence."""
from __future__ import annotations

from io import StringIO

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from salesnb.findings import build_findings  # noqa: E402
from salesnb.render import labels  # noqa: E402
from salesnb.render.charts import bridge as charts  # noqa: E402
from salesnb.render.charts import theme  # noqa: E402
from salesnb.render.narrative import bridge as narrative  # noqa: E402
from support.bridge_golden import COLUMNS, GOLDEN  # noqa: E402


@pytest.fixture
def golden(make_params):
    return build_findings(make_params(GOLDEN, columns=COLUMNS), "2024Q2", sections=("revenue",)).data


def _held_by_contraction() -> pd.DataFrame:
    """Per customer bought in both 2024Q1 and 2024Q2 with R1 ≤ R0: (R0, R1), by pandas."""
    lines = pd.read_csv(StringIO(GOLDEN), parse_dates=["date"]).dropna(subset=["cust"])
    q = lines.assign(q=lines.date.dt.quarter).pivot_table(index="cust", columns="q", values="amount", aggfunc="sum")
    both = q.dropna(subset=[1, 2])
    return both[both[2] <= both[1]]


def test_the_contraction_words_name_the_customers_who_bought_the_same():
    label, phrase = labels.bridge_part_words("contraction")
    assert label == "Customers buying less or the same"
    assert label.lower() == phrase   # the bar and the sentence say one thing


def test_the_bar_holds_a_customer_who_bought_the_same_and_its_label_says_so(golden):
    held = _held_by_contraction()
    assert (held[2] == held[1]).any()                  # customer B: $80 in both quarters
    body = golden["revenue"]["bridge"]["previous"]["customers"]
    assert body["counts"]["contraction"] == len(held) == 2
    assert body["contraction"] == pytest.approx((held[2] - held[1]).sum()) == pytest.approx(-3.0)
    theme.apply_theme()
    fig = charts.bridge_chart(golden, "previous")
    ax = fig.axes[0]
    FigureCanvasAgg(fig).draw()
    ticks = {t.get_text(): t for t in ax.get_yticklabels()}
    assert "Customers buying less or the same" in ticks and "Customers buying less" not in ticks
    # the longer label stays inside the picture
    box, drawn = fig.bbox, ticks["Customers buying less or the same"].get_window_extent()
    assert drawn.x0 >= box.x0 - 0.5 and drawn.x1 <= box.x1 + 0.5
    assert "customers buying less or the same -$3.00 (2 customers)" in narrative.bridge_sentence(
        golden, "previous", "customers")
