"""The revenue bridge and leaders as the report shows them (salesnb.render.narrative.bridge,
salesnb.render.charts.bridge, the bridge and leaders tables, the executive summary's opening).

- A hand-worked case (fast): the sentences word for word, the waterfall bars read back from the
  drawn figure, the largest driver, the items table.
- Superstore 2017Q4 (slow): both bridges vs 2017Q3 and vs 2016Q4 recomputed with pandas from the
  CSV; every amount in the sentences equals the findings and the pandas value; the waterfall's part
  bars add up to the change; the executive summary's opening names the largest part, found
  independently; who led most quarters, counted with pandas.
"""
from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from salesnb.findings import build_findings  # noqa: E402
from salesnb.fmt import fmt_delta, fmt_money  # noqa: E402
from salesnb.metrics import bridge as metric_bridge  # noqa: E402
from salesnb.render import labels, summary, tables  # noqa: E402
from salesnb.render.charts import bridge as charts  # noqa: E402
from salesnb.render.narrative import bridge as narrative  # noqa: E402
from support.bridge_golden import COLUMNS, GOLDEN, superstore_lines  # noqa: E402
from support.paths import PARAMS, SHARED_DATA  # noqa: E402
from support.textnumbers import unexplained_numbers  # noqa: E402

CENT = 0.005
SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"

# 2024Q1 → 2024Q2. Customers: A 100 → 150 (expansion +50), B 80 → 80 (contraction 0), C 60 → none
# (lost −60), D new 40 and E a return only −20 (gained +20), F −5 → −8 (contraction −3), no id
# 10 → 25 (unidentified +15): change +22. Items: X 10 u @ 10 → 15 u @ 10 and Y 4 u @ 20 → 2 u @ 40
# continue (Q0 14, Q1 17, P̄0 = 180/14): volume 3·90/7 = +38.57, mix 190 − 17·90/7 = −28.57, price
# 2·20 = +40; N (+40) and R (−20) new: +20; Z discontinued −60; (missing) 10 → 25 and S −5 → −8
# (Q ≤ 0): other +12.


def test_part_words_follow_the_metrics_waterfall_order():
    assert tuple(labels.CUSTOMER_PART_WORDS) == metric_bridge.CUSTOMER_PARTS
    assert tuple(labels.PVM_PART_WORDS) == metric_bridge.PVM_PARTS
    assert labels.bridge_part_words("new_items", "category") == ("New categories", "new categories")
    assert labels.plural_noun("sales_rep") == "sales reps"


@pytest.fixture
def golden(make_params):
    return build_findings(make_params(GOLDEN, columns=COLUMNS), "2024Q2", sections=("revenue",)).data


def test_golden_sentences_word_for_word(golden):
    assert narrative.bridge_sentence(golden, "previous", "customers") == (
        "Revenue rose $22.00 vs 2024Q1; by customer: lost customers -$60.00 (1 customer), customers buying more "
        "+$50.00 (1 customer), new customers +$20.00 (2 customers), revenue without a customer id +$15.00, "
        "customers buying less or the same -$3.00 (2 customers).")
    assert narrative.bridge_sentence(golden, "previous", "pvm") == (
        "Revenue rose $22.00 vs 2024Q1; by product (price, volume, mix): discontinued products -$60.00 (1 product), "
        "price +$40.00, volume +$38.57, mix -$28.57, new products +$20.00 (2 products), products without net units "
        "in one window +$12.00 (2 products).")
    assert narrative.bridge_sentence(golden, "year_ago", "customers") is None  # 2023Q2 is outside the data
    # lost customers and discontinued products both move −60: the customer bridge names it
    d = narrative.largest_driver(golden, "previous")
    assert (d["kind"], d["part"], d["value"]) == ("customers", "lost", -60)
    assert narrative.driver_phrase(golden, "previous") == "the largest driver was lost customers (-$60.00, 1 customer)"
    opening = summary.opening(golden)
    assert opening[0] == ("Revenue rose 9.0% on 2024Q1 (+$22.00), to $267.00 in 2024Q2; the largest driver was lost "
                          "customers (-$60.00, 1 customer).")


def _bars(fig) -> list[list[tuple[float, float, str]]]:
    """Per panel, the drawn bars top to bottom: (left, width, tick label)."""
    out = []
    for ax in fig.axes:
        patches = sorted(ax.patches, key=lambda p: -p.get_y())
        ticks = {round(t): label.get_text() for t, label in zip(ax.get_yticks(), ax.get_yticklabels())}
        out.append([(p.get_x(), p.get_width(), ticks[round(p.get_y() + p.get_height() / 2)]) for p in patches])
    return out


def check_waterfalls(f: dict, which: str) -> None:
    """The drawn waterfalls of ``which``: from the comparison revenue through each part that moved
    (each bar starting where the last ended) to the period's revenue; the part bars sum to the change."""
    entry = f["revenue"]["bridge"][which]
    fig = charts.bridge_chart(f, which)
    panels = _bars(fig)
    kinds = [k for k in ("customers", "pvm") if entry[k] is not None]
    assert len(panels) == len(kinds)
    for kind, bars in zip(kinds, panels):
        moved = [p for p in labels_of(kind, entry) if abs(entry[kind][p[0]]) >= CENT]
        assert [b[2] for b in bars] == ([f"{entry['label']} revenue"] + [label for _, label in moved]
                                        + [f"{f['period']['label']} revenue"])
        assert bars[0][:2] == (0, pytest.approx(entry["comparison_revenue"], abs=CENT))
        assert bars[-1][:2] == (0, pytest.approx(entry["current_revenue"], abs=CENT))
        running = entry["comparison_revenue"]
        for (left, width, _), (part, _) in zip(bars[1:-1], moved):
            assert left == pytest.approx(running, abs=CENT)
            assert width == pytest.approx(entry[kind][part], abs=CENT)
            running += width
        assert sum(w for _, w, _ in bars[1:-1]) == pytest.approx(entry["total_change"], abs=CENT)
        assert running == pytest.approx(entry["current_revenue"], abs=CENT)


def labels_of(kind: str, entry: dict) -> list[tuple[str, str]]:
    words = labels.CUSTOMER_PART_WORDS if kind == "customers" else labels.PVM_PART_WORDS
    items = labels.plural_noun((entry.get("pvm") or {}).get("dimension"))
    return [(part, label.format(items=items)) for part, (label, _) in words.items()]


def test_golden_waterfalls_and_items_table(golden):
    check_waterfalls(golden, "previous")
    assert charts.bridge_chart(golden, "year_ago") is None
    table = tables.bridge_items_table(golden, "previous")
    assert list(table["Effect"]) == ["Volume", "Mix", "Price", "New products", "Discontinued products",
                                     "Other products"]
    row = table.set_index("Effect").loc["New products"]
    assert row["Total"] == "+$20.00" and row["Items that drove it most"] == "N: +$40.00\nR: -$20.00"
    assert table.set_index("Effect").loc["Price", "Items that drove it most"] == "Y: +$40.00\nX: +$0.00"


def test_bridge_notes_without_customers_or_quantity(make_params):
    cols = {k: v for k, v in COLUMNS.items() if k not in ("customer_id", "quantity")}
    f = build_findings(make_params(GOLDEN, columns=cols), "2024Q2", sections=("revenue",)).data
    assert narrative.bridge_notes(f, "previous") == [
        "No customer bridge: the data has no customer id column.",
        "No price-volume-mix bridge: quantity is not mapped: price, volume and mix need units."]
    assert charts.bridge_chart(f, "previous") is None and narrative.largest_driver(f, "previous") is None
    # the opening still states the change, without a driver
    assert summary.opening(f)[0] == "Revenue rose 9.0% on 2024Q1 (+$22.00), to $267.00 in 2024Q2."


def test_leaders_sentence_and_tables_by_hand(make_params):
    f = build_findings(make_params(GOLDEN, columns={**COLUMNS, "sales_rep": "cust"}), "2024Q2",
                       sections=("revenue",)).data
    # Q1: A 100 leads (of 245); Q2: A 150 (of 267)
    assert narrative.leaders_sentence(f) == "Over the 2 quarters 2024Q1–2024Q2, A led the sales reps in 2."
    table = tables.leaders_table(f)
    assert list(table.columns) == ["Quarter", "Revenue", "Top sales rep"]
    assert list(table["Top sales rep"]) == ["A\n$100.00 · 40.8%", "A\n$150.00 · 56.2%"]
    assert tables.leaders_region_dimension(f) is None  # no region column


# --------------------------------------------------------------------------- Superstore, with pandas

def _pandas_parts(frame: pd.DataFrame, w0: tuple, w1: tuple) -> dict:
    """Both bridges of SPEC 9.1 from the order lines, vectorised pandas (independent of salesnb)."""
    def window(a, b, w):
        return frame[(frame["date"] >= pd.Timestamp(a)) & (frame["date"] < pd.Timestamp(b))].assign(w=w)
    lines = pd.concat([window(*w0, 0), window(*w1, 1)])
    out = {"change": lines.loc[lines.w == 1, "revenue"].sum() - lines.loc[lines.w == 0, "revenue"].sum()}
    r = lines.groupby(["customer", "w"])["revenue"].sum().unstack(fill_value=0.0)
    n = lines.groupby(["customer", "w"]).size().unstack(fill_value=0)
    has0, has1 = n[0] > 0, n[1] > 0
    d = r[1] - r[0]
    out.update(gained=r[1][~has0].sum(), lost=-r[0][~has1].sum(), expansion=d[has0 & has1 & (d > 0)].sum(),
               contraction=d[has0 & has1 & (d <= 0)].sum(), unidentified=0.0)
    g = lines.groupby(["item", "w"]).agg(r=("revenue", "sum"), q=("quantity", "sum"), n=("revenue", "size"))
    R, Q, N = (g[c].unstack(fill_value=0) for c in ("r", "q", "n"))
    new, gone = (N[1] > 0) & (N[0] == 0), (N[0] > 0) & (N[1] == 0)
    cont = (N[0] > 0) & (N[1] > 0) & (Q[0] > 0) & (Q[1] > 0)
    other = (N[0] > 0) & (N[1] > 0) & ~cont
    q0, q1, r0, r1 = Q[0][cont], Q[1][cont], R[0][cont], R[1][cont]
    pbar0 = r0.sum() / q0.sum()
    out.update(volume=(q1.sum() - q0.sum()) * pbar0, mix=(q1 * r0 / q0).sum() - q1.sum() * pbar0,
               price=(q1 * (r1 / q1 - r0 / q0)).sum(), new_items=R[1][new].sum(),
               discontinued_items=-R[0][gone].sum(), other=(R[1] - R[0])[other].sum())
    return out


@pytest.fixture(scope="module")
def superstore_frame():
    return superstore_lines()


@pytest.fixture(scope="module")
def superstore():
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    return build_findings(PARAMS / "superstore.yaml", "2017Q4", sections=("revenue",)).data


WINDOWS = {"previous": ("2017-07-01", "2017-10-01"), "year_ago": ("2016-10-01", "2017-01-01")}
CURRENT = ("2017-10-01", "2018-01-01")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["previous", "year_ago"])
def test_superstore_sentences_charts_and_driver_equal_pandas(superstore, superstore_frame, which):
    f = superstore
    entry = f["revenue"]["bridge"][which]
    want = _pandas_parts(superstore_frame, WINDOWS[which], CURRENT)
    assert entry["total_change"] == pytest.approx(want["change"], abs=CENT)
    parts = [(k, p) for k, names in narrative.KINDS.items() for p in names]
    for kind, part in parts:
        assert entry[kind][part] == pytest.approx(want[part], abs=CENT), part
    # every amount in each sentence is the findings' (and pandas') value, with its phrase
    for kind in narrative.KINDS:
        sentence = narrative.bridge_sentence(f, which, kind)
        assert sentence.startswith(f"Revenue rose {fmt_money(want['change'])} vs {entry['label']}; ")
        for p in narrative.bridge_parts(entry, kind):
            if abs(p["value"]) >= CENT:
                assert f"{p['phrase']} {fmt_delta(want[p['part']], 'money')}" in sentence, p["part"]
        assert unexplained_numbers(sentence, {"currency": "USD", "entry": entry}) == []
    check_waterfalls(f, which)
    # the largest driver, found independently: the part with the largest |pandas amount|
    expected = max(parts, key=lambda kp: abs(want[kp[1]]))[1]
    assert narrative.largest_driver(f, which)["part"] == expected
    phrase = dict(labels.CUSTOMER_PART_WORDS | labels.PVM_PART_WORDS)[expected][1].format(items="products")
    assert narrative.driver_phrase(f, which).startswith(
        f"the largest driver was {phrase} ({fmt_delta(want[expected], 'money')}")


@pytest.mark.slow
def test_superstore_summary_names_the_largest_driver(superstore, superstore_frame):
    """The opening states the larger change (vs 2017Q3 here) and its largest part; with 2017Q3 not
    available it states the change vs 2016Q4 and that comparison's largest part."""
    changes = {w: _pandas_parts(superstore_frame, WINDOWS[w], CURRENT) for w in WINDOWS}
    for which, f in (("previous", superstore), ("year_ago", _without_previous(superstore))):
        if which == "previous":
            assert abs(changes["previous"]["change"]) > abs(changes["year_ago"]["change"])
        want = changes[which]
        names = [p for names in narrative.KINDS.values() for p in names]
        part = max(names, key=lambda p: abs(want[p]))
        phrase = dict(labels.CUSTOMER_PART_WORDS | labels.PVM_PART_WORDS)[part][1].format(items="products")
        first = summary.opening(f)[0]
        label = f["revenue"]["bridge"][which]["label"]
        assert f"on {label} ({fmt_delta(want['change'], 'money')})" in first
        assert f"; the largest driver was {phrase} ({fmt_delta(want[part], 'money')}" in first
        assert unexplained_numbers(first, f) == []
        assert first in summary.executive_summary_html(f)


def _without_previous(f: dict) -> dict:
    g = copy.deepcopy(f)
    g["comparison"]["previous"]["available"] = False
    for change in g["revenue"]["change"].values():
        change["vs_previous_abs"] = change["vs_previous_pct"] = None
    g["revenue"]["bridge"]["previous"] = None
    return g


@pytest.mark.slow
def test_superstore_items_table_and_leaders_equal_pandas(superstore, superstore_frame):
    f = superstore
    table = tables.bridge_items_table(f, "previous").set_index("Effect")
    top = f["revenue"]["bridge"]["previous"]["pvm"]["top"]
    assert table.loc["New products", "Items that drove it most"].split("\n") == \
        [f"{t['item']}: {fmt_delta(t['value'], 'money')}" for t in top["new_items"]]
    # who led most of the 8 quarters 2016Q1 .. 2017Q4, counted with pandas
    frame = superstore_frame[(superstore_frame["date"] >= "2016-01-01") & (superstore_frame["date"] < "2018-01-01")]
    quarter = frame["date"].dt.to_period("Q").astype(str)
    said = narrative.leaders_sentence(f)
    assert said.startswith("Over the 8 quarters 2016Q1–2017Q4, ")
    for dim in ("region", "segment", "category"):
        per = frame.groupby([quarter, frame[dim]])["revenue"].sum().reset_index()
        per = per.sort_values(["date", "revenue", dim], ascending=[True, False, True])
        leaders = per.groupby("date").head(1)[dim]
        counts = leaders.value_counts()
        best = counts.max()
        last = {v: i for i, v in enumerate(leaders)}
        value = sorted(counts[counts == best].index, key=lambda v: (-last[v], v))[0]
        assert f"{value} {'led ' if dim == 'region' else ''}the {labels.plural_noun(dim)} in {best}" in said, dim
    assert unexplained_numbers(said, f) == []
    lead = tables.leaders_table(f)
    assert list(lead["Quarter"]) == [f"{y}Q{q}" for y in (2016, 2017) for q in (1, 2, 3, 4)]
    assert tables.leaders_region_dimension(f) == "product"
    assert list(tables.leaders_by_region_table(f, "product").columns) == ["Quarter", "Central", "East", "South", "West"]
