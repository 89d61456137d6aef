"""RFM scores and segments: the segment map, a hand-computed golden table, real-data invariants."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.metrics import rfm
from salesnb.periods import parse_period
from support.golden_customers import GOLDEN_ROWS, make_dataset
from support.paths import PARAMS



# Worked by hand (see the module docstring of salesnb.metrics.rfm for the rules):
#   recency desc, id: D396 F268 | G236 K173 | C107 E76 | I21 B6 | A1 J0
#   frequency asc, id: B1 D1 | E1 G1 | K1 F2 | I2 J2 | A3 C4
#   monetary asc, id: B50 E50 | K90 J130 | G250 I250 | F300 A600 | D1000 C1600
GOLDEN = {
    #     recency, F, M,      R, F, M, FM, segment
    "A": (1, 3, 600.0, 5, 5, 4, 5, "Champions"),
    "B": (6, 1, 50.0, 4, 1, 1, 1, "Promising"),
    "C": (107, 4, 1600.0, 3, 5, 5, 5, "Loyal Customers"),
    "D": (396, 1, 1000.0, 1, 1, 5, 3, "At Risk"),
    "E": (76, 1, 50.0, 3, 2, 1, 2, "About to Sleep"),
    "F": (268, 2, 300.0, 1, 3, 4, 4, "At Risk"),
    "G": (236, 1, 250.0, 2, 2, 3, 3, "At Risk"),
    "I": (21, 2, 250.0, 4, 4, 3, 4, "Loyal Customers"),
    "J": (0, 2, 130.0, 5, 4, 2, 3, "Potential Loyalists"),
    "K": (173, 1, 90.0, 2, 3, 2, 3, "At Risk"),
}


@pytest.fixture
def golden(tmp_path):
    ds = make_dataset(tmp_path, GOLDEN_ROWS)
    yield ds
    ds.close()


# --------------------------------------------------------------------------- the map

def test_grid_covers_every_pair_exactly_once():
    for r in range(1, 6):
        for fm in range(1, 6):
            hits = [name for ((r_lo, r_hi), (f_lo, f_hi)), name in rfm.SEGMENT_GRID.items()
                    if r_lo <= r <= r_hi and f_lo <= fm <= f_hi]
            assert len(hits) == 1, (r, fm, hits)
    assert set(rfm.SEGMENT_GRID.values()) == set(rfm.SEGMENTS)
    assert len(rfm.SEGMENTS) == 11


def test_grid_reference_cells():
    assert rfm.segment_of(5, 5) == "Champions"
    assert rfm.segment_of(5, 1) == "New Customers"
    assert rfm.segment_of(4, 1) == "Promising"
    assert rfm.segment_of(3, 3) == "Need Attention"
    assert rfm.segment_of(1, 5) == "Can't Lose Them"
    assert rfm.segment_of(2, 1) == "Hibernating"
    assert rfm.segment_of(1, 1) == "Lost"
    assert rfm.segment_of(2, 4) == "At Risk"
    with pytest.raises(ValueError):
        rfm.segment_of(0, 3)


def test_fm_score_rounds_halves_up():
    assert rfm.fm_score(4, 5) == 5
    assert rfm.fm_score(1, 2) == 2
    assert rfm.fm_score(3, 3) == 3
    assert rfm.fm_score(1, 1) == 1


def test_grid_frame_matches_segment_of():
    frame = rfm.grid_frame()
    assert len(frame) == 25
    for row in frame.itertuples():
        assert row.segment == rfm.segment_of(row.r_score, row.fm_score)


def test_rfm_window():
    p = parse_period("2024Q1")
    assert rfm.rfm_window(p, None) == (None, dt.date(2024, 4, 1))
    assert rfm.rfm_window(p, 12) == (dt.date(2023, 4, 1), dt.date(2024, 4, 1))
    assert rfm.top_k(5, 0.2) == 1 and rfm.top_k(6, 0.2) == 2 and rfm.top_k(10, 0.1) == 1 and rfm.top_k(0, 0.2) == 0


# --------------------------------------------------------------------------- golden

def test_golden_scores(golden):
    scored = rfm.rfm_scores(golden.table, parse_period("2024Q1")).to_pandas().set_index("customer_id")
    assert sorted(scored.index) == sorted(GOLDEN)          # H (only a return) is not scored
    for cid, (rec, f, m, r_s, f_s, m_s, fm_s, seg) in GOLDEN.items():
        row = scored.loc[cid]
        assert (int(row.recency_days), int(row.frequency), float(row.monetary)) == (rec, f, m), cid
        assert (int(row.r_score), int(row.f_score), int(row.m_score), int(row.fm_score)) == (r_s, f_s, m_s, fm_s), cid
        assert row.segment == seg, cid


def test_golden_segment_table(golden):
    scored = rfm.rfm_scores(golden.table, parse_period("2024Q1"))
    table = rfm.segment_summary(scored)
    assert list(table.segment) == list(rfm.SEGMENTS)
    got = dict(zip(table.segment, table.customers))
    assert got == {"Champions": 1, "Loyal Customers": 2, "Potential Loyalists": 1, "New Customers": 0,
                   "Promising": 1, "Need Attention": 0, "About to Sleep": 1, "At Risk": 4,
                   "Can't Lose Them": 0, "Hibernating": 0, "Lost": 0}
    rev = dict(zip(table.segment, table.revenue))
    assert rev["Loyal Customers"] == pytest.approx(1850.0)
    assert rev["At Risk"] == pytest.approx(1640.0)
    assert rev["Lost"] == 0.0
    at_risk = table.set_index("segment").loc["At Risk"]
    assert at_risk.revenue_per_customer == pytest.approx(410.0)
    assert at_risk.avg_recency_days == pytest.approx((396 + 268 + 236 + 173) / 4)
    assert at_risk.share_pct == pytest.approx(40.0)
    assert at_risk.revenue_share_pct == pytest.approx(100 * 1640 / 4320)
    assert pd.isna(table.set_index("segment").loc["Lost"].revenue_per_customer)
    assert table.customers.sum() == 10


def test_golden_rf_heatmap(golden):
    heat = rfm.rf_heatmap(rfm.rfm_scores(golden.table, parse_period("2024Q1")))
    assert len(heat) == 25 and heat.customers.sum() == 10
    cells = {(r.r_score, r.f_score): r.customers for r in heat.itertuples()}
    for cid, g in GOLDEN.items():
        assert cells[(g[3], g[4])] >= 1
    assert cells[(1, 1)] == 1 and cells[(5, 5)] == 1 and cells[(5, 1)] == 0


def test_lookback_window(golden):
    # 6 months before 2024-04-01: 2023-10-01 .. 2024-03-31
    scored = rfm.rfm_scores(golden.table, parse_period("2024Q1"), 6).to_pandas().set_index("customer_id")
    assert sorted(scored.index) == ["A", "B", "C", "E", "I", "J", "K"]
    assert int(scored.loc["C"].frequency) == 3           # o8 (2023-09-01) is outside
    assert float(scored.loc["A"].monetary) == 300.0
    assert int(scored.loc["J"].frequency) == 1


def test_fewer_than_five_customers(tmp_path):
    rows = [("o1", "2024-01-05", "A", 10.0), ("o2", "2024-02-05", "B", 20.0), ("o3", "2024-03-05", "B", 5.0)]
    ds = make_dataset(tmp_path, rows)
    try:
        scored = rfm.rfm_scores(ds.table, parse_period("2024Q1")).to_pandas().set_index("customer_id")
    finally:
        ds.close()
    assert scored.loc["A"].r_score == 1 and scored.loc["B"].r_score == 2
    assert scored.loc["B"].f_score == 2 and scored.loc["B"].m_score == 2
    assert scored.segment.notna().all()


# --------------------------------------------------------------------------- real data

def _ntile(n: int, buckets: int = 5) -> list[int]:
    """Standard SQL ntile: the first n % buckets buckets get one row more."""
    base, extra = divmod(n, buckets)
    out = []
    for b in range(buckets):
        out += [b + 1] * (base + (1 if b < extra else 0))
    return out


def _load(name):
    params = PARAMS / f"{name}.yaml"
    config = load_config(params)
    if not Path(config.source).exists():
        pytest.skip(f"shared data for {name} not found at {config.source}")
    return load_data(config)


@pytest.fixture(scope="module")
def superstore(shared_data):
    ds = _load("superstore")
    yield ds
    ds.close()


@pytest.fixture(scope="module")
def superstore_raw(shared_data):
    df = pd.read_csv(shared_data / "superstore" / "Sample - Superstore.csv", encoding="cp1252")
    df["date"] = pd.to_datetime(df["Order Date"], format="%m/%d/%Y")
    return df


def test_superstore_invariants(superstore, superstore_raw):
    period = parse_period("2017Q4")
    scored = rfm.rfm_scores(superstore.table, period).to_pandas()
    assert scored.customer_id.is_unique
    for col in ("r_score", "f_score", "m_score", "fm_score"):
        assert scored[col].between(1, 5).all()
        # quintiles of equal size (ntile)
        counts = scored[col].value_counts().sort_index() if col != "fm_score" else None
        if counts is not None:
            assert counts.max() - counts.min() <= 1
    assert scored.segment.isin(rfm.SEGMENTS).all()
    assert all(s == rfm.segment_of(r, fm) for s, r, fm in zip(scored.segment, scored.r_score, scored.fm_score))
    table = rfm.segment_summary(rfm.rfm_scores(superstore.table, period))
    assert table.customers.sum() == len(scored)
    assert table.revenue.sum() == pytest.approx(scored.monetary.sum())

    # independent pandas computation of the RFM inputs and the scores
    raw = superstore_raw[superstore_raw.date < "2018-01-01"]
    net = raw.groupby("Order ID")["Sales"].sum()
    pos = raw[raw["Order ID"].isin(net[net > 0].index)]
    per = pos.groupby("Customer ID").agg(last=("date", "max"), frequency=("Order ID", "nunique"))
    per["monetary"] = raw.groupby("Customer ID")["Sales"].sum()
    per["recency"] = (pd.Timestamp("2017-12-31") - per["last"]).dt.days
    per = per.reset_index()
    assert len(per) == len(scored) == 793
    got = scored.set_index("customer_id")
    for metric, score_col, ascending in (("recency", "r_score", False), ("frequency", "f_score", True),
                                         ("monetary", "m_score", True)):
        ordered = per.sort_values([metric, "Customer ID"], ascending=[ascending, True])
        expected = pd.Series(_ntile(len(ordered)), index=ordered["Customer ID"].to_numpy())
        assert (got.loc[expected.index, score_col].to_numpy() == expected.to_numpy()).all(), score_col
    p = per.set_index("Customer ID")
    assert (got.loc[p.index, "frequency"].to_numpy() == p.frequency.to_numpy()).all()
    assert (got.loc[p.index, "recency_days"].to_numpy() == p.recency.to_numpy()).all()
    assert got.loc[p.index, "monetary"].to_numpy() == pytest.approx(p.monetary.to_numpy())


def test_online_retail_unidentified_rows_left_out(shared_data):
    ds = _load("online_retail")
    try:
        scored = rfm.rfm_scores(ds.table, parse_period("2011Q4")).to_pandas()
    finally:
        ds.close()
    assert scored.customer_id.notna().all()
    assert scored.segment.isin(rfm.SEGMENTS).all()
    assert scored.r_score.between(1, 5).all() and scored.f_score.between(1, 5).all()
    # 4,372 ids in the file; customers whose lines are only returns have no order and are not scored
    assert 4000 < len(scored) <= 4372
