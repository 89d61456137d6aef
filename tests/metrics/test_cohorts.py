"""Monthly acquisition cohorts: a hand-computed golden matrix, the summary, real-data invariants."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.metrics import cohorts
from support.golden_customers import GOLDEN_ROWS, make_dataset
from support.paths import PARAMS


END = dt.date(2024, 4, 1)

# cohort (first order month) → active months of its customer(s), worked by hand
ACTIVE = {
    "2023-02": ["2023-02", "2024-03"],                               # J
    "2023-03": ["2023-03"],                                          # D
    "2023-05": ["2023-05", "2023-07"],                               # F
    "2023-06": ["2023-06", "2024-02", "2024-03"],                    # A
    "2023-08": ["2023-08"],                                          # G (o14 in 2024-03 nets to 0)
    "2023-09": ["2023-09", "2023-10", "2023-11", "2023-12"],         # C
    "2023-10": ["2023-10"],                                          # K
    "2024-01": ["2024-01"],                                          # E
    "2024-02": ["2024-02", "2024-03"],                               # I
    "2024-03": ["2024-03"],                                          # B
}


@pytest.fixture
def cells(tmp_path):
    ds = make_dataset(tmp_path, GOLDEN_ROWS)
    try:
        yield cohorts.cohort_cells(ds.table, END)
    finally:
        ds.close()


def _month_add(label: str, k: int) -> str:
    y, m = map(int, label.split("-"))
    i = y * 12 + m - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def test_golden_matrix(cells):
    assert sorted(cells.cohort.unique()) == sorted(ACTIVE)
    assert len(cells) == 14 + 13 + 11 + 10 + 8 + 7 + 6 + 3 + 2 + 1   # only observable cells
    assert (cells.cohort_customers == 1).all()                     # one customer per cohort here
    for cohort, months in ACTIVE.items():
        sub = cells[cells.cohort == cohort].set_index("month_offset")
        assert sub.index.max() == (2024 * 12 + 2) - (int(cohort[:4]) * 12 + int(cohort[5:]) - 1)
        for k, row in sub.iterrows():
            expect = 100.0 if _month_add(cohort, k) in months else 0.0
            assert row.retention_pct == expect, (cohort, k)
            assert row.month == _month_add(cohort, k)
    assert not cells.partial.any()


def test_golden_revenue_retention(cells):
    a = cells[cells.cohort == "2023-06"].set_index("month_offset")       # A: 300, then 200 (k=8), 100 (k=9)
    assert a.loc[0, "revenue"] == 300.0 and a.loc[0, "revenue_retention_pct"] == 100.0
    assert a.loc[8, "revenue_retention_pct"] == pytest.approx(200 / 3)
    assert a.loc[9, "revenue_retention_pct"] == pytest.approx(100 / 3)
    assert a.loc[3, "revenue"] == 0.0
    e = cells[cells.cohort == "2024-01"].set_index("month_offset")       # E: 80 - 30 in its first month
    assert e.loc[0, "revenue"] == 50.0
    g = cells[cells.cohort == "2023-08"].set_index("month_offset")       # G: +500 -500 in 2024-03
    assert g.loc[7, "revenue"] == 0.0 and g.loc[7, "retention_pct"] == 0.0


def test_golden_summary(cells):
    s = cohorts.retention_summary(cells, first_data_month="2023-02")
    # month 1: cohorts 2023-03 .. 2024-02 (8); retained: C (2023-09) and I (2024-02)
    assert s["month1_cohorts"] == 8
    assert s["month1_avg_pct"] == pytest.approx(25.0)
    # month 3: cohorts 2023-03 .. 2023-10 (6); retained: C
    assert s["month3_cohorts"] == 6
    assert s["month3_avg_pct"] == pytest.approx(100 / 6)
    trend = s["retention_trend"]
    assert trend["earlier_cohorts"] == ["2023-03", "2023-05", "2023-06", "2023-08"]
    assert trend["recent_cohorts"] == ["2023-09", "2023-10", "2024-01", "2024-02"]
    assert trend["earlier_avg_pct"] == 0.0 and trend["recent_avg_pct"] == 50.0
    assert trend["change_pts"] == 50.0 and trend["worse"] is False


def test_max_cohorts_and_offsets(tmp_path):
    ds = make_dataset(tmp_path, GOLDEN_ROWS)
    try:
        few = cohorts.cohort_cells(ds.table, END, max_cohorts=3, max_offset=1)
        early = cohorts.cohort_cells(ds.table, dt.date(2023, 7, 1))
    finally:
        ds.close()
    assert sorted(few.cohort.unique()) == ["2024-01", "2024-02", "2024-03"]
    assert few.month_offset.max() == 1
    # at an earlier period end, later orders do not exist yet
    assert sorted(early.cohort.unique()) == ["2023-02", "2023-03", "2023-05", "2023-06"]
    assert early.month.max() == "2023-06"


def test_partial_cells_and_empty():
    empty = cohorts.retention_summary(pd.DataFrame())
    assert empty["month1_avg_pct"] is None and empty["retention_trend"]["worse"] is None
    assert cohorts.retention_matrix(pd.DataFrame()).empty


def test_online_retail_invariants():
    params = PARAMS / "online_retail.yaml"
    config = load_config(params)
    if not Path(config.source).exists():
        pytest.skip(f"shared data not found at {config.source}")
    ds = load_data(config)
    try:
        cells = cohorts.cohort_cells(ds.table, dt.date(2012, 1, 1), partial_months=ds.quality.partial_months)
    finally:
        ds.close()
    assert cells.cohort.nunique() == 13                      # 2010-12 .. 2011-12
    assert (cells[cells.month_offset == 0].retention_pct == 100.0).all()
    assert cells.retention_pct.between(0, 100).all()
    assert cells[cells.month == "2011-12"].partial.all()   # the data ends on 2011-12-09
    assert not cells[cells.month != "2011-12"].partial.any()
    # every customer with an order has exactly one cohort
    sizes = cells[cells.month_offset == 0].cohort_customers.sum()
    assert 4000 < sizes <= 4372
    matrix = cohorts.retention_matrix(cells)
    assert matrix.shape == (13, 13)
    s = cohorts.retention_summary(cells, first_data_month="2010-12")
    assert "2010-12" not in s["retention_trend"]["earlier_cohorts"]
    assert 0 < s["month1_avg_pct"] < 50
