"""``revenue.profit.margin_overlap`` (salesnb.metrics.profit.margin_overlap): the lines both margin
rules count -- lines of a loss-making product with a discount in the losing bands -- recomputed
with pandas on random lines; the two rules' impacts minus it are the loss of the lines either
counts (the combined loss the report gives)."""
from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from salesnb.metrics.profit import DISCOUNT_BANDS, profit_findings
from salesnb.metrics.windows import Window

CENT = 0.005
LINE = st.tuples(st.sampled_from([0, 1]),                          # window: 0 previous, 1 current
                 st.sampled_from(["X", "Y", "Z", None]),           # product
                 st.integers(-500, 2000),                          # revenue in cents
                 st.integers(-800, 800) | st.none(),               # profit in cents (None: unreadable)
                 st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.45, None]))
CURRENT = Window("2024Q2", dt.date(2024, 4, 1), dt.date(2024, 7, 1))
WINDOWS = {"current": CURRENT, "previous": {"window": None}, "year_ago": {"window": None}}


def _profit(lines) -> tuple[dict, pd.DataFrame]:
    """``revenue.profit`` of ``lines`` on DuckDB, and the current window's lines (pandas)."""
    import ibis
    days = {0: dt.datetime(2024, 2, 10), 1: dt.datetime(2024, 5, 10)}
    frame = pd.DataFrame([{"order_id": f"o{i // 2}", "order_date": days[w], "customer_id": "c", "product": p,
                           "revenue": r / 100, "profit": None if pr is None else pr / 100, "discount": d}
                          for i, (w, p, r, pr, d) in enumerate(lines)])
    schema = {"order_id": "string", "order_date": "timestamp", "customer_id": "string", "product": "string",
              "revenue": "float64", "profit": "float64", "discount": "float64"}
    con = ibis.duckdb.connect()
    table = con.create_table("lines", ibis.memtable(frame, schema=schema))
    config = SimpleNamespace(has_profit=True, columns={"profit": "p"}, pvm_dimension=None)
    ds = SimpleNamespace(table=table, config=config, dimensions=["product"], has_customers=False, has_quantity=False)
    p, _ = profit_findings(ds, WINDOWS)
    return p, frame[frame.order_date == days[1]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, min_size=1, max_size=30))
def test_the_overlap_is_the_loss_making_lines_with_a_losing_discount(lines):
    p, now = _profit(lines)
    lm, disc = p["loss_makers"], p["discount"]
    if not lm["count"] or disc["negative_from"] is None:
        assert p["margin_overlap"] is None
        event("one rule or none")
        return
    event("both rules")
    item_profit = now.groupby(now["product"].fillna("(missing)"))["profit"].transform("sum")
    loss_making = item_profit < 0
    lo = {label: low for label, low, _ in DISCOUNT_BANDS}[disc["negative_from"]]
    losing = now["discount"].notna() & ((now["discount"] > lo) if lo is not None else True)
    both = now[loss_making & losing]
    o = p["margin_overlap"]
    assert (o["dimension"], o["from_band"]) == ("product", disc["negative_from"])
    assert o["loss"] == pytest.approx(-both["profit"].sum(), abs=CENT)
    assert (o["lines"], o["orders"]) == (len(both), both["order_id"].nunique())
    # the two impacts minus the loss both count = the net loss of the lines either rule counts
    either = now[loss_making | losing]
    combined = lm["loss"] + (-disc["negative_profit"]) - o["loss"]
    assert combined == pytest.approx(-math.fsum(either["profit"].dropna()), abs=CENT)


def test_no_overlap_without_a_discount_that_loses():
    p, _ = _profit([(1, "X", 1000, -300, 0.0), (1, "Y", 1000, 200, 0.2)])
    assert p["loss_makers"]["count"] == 1 and p["discount"]["negative_from"] is None
    assert p["margin_overlap"] is None
