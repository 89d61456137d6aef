"""The synthetic sample data set (salesnb.data.sample): shape, invariants, story, determinism."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesnb.data import sample
from salesnb.data.sample import write_sample

ROWS = 20_000

EXPECTED_TYPES = {
    "order_id": pa.string(), "order_date": pa.timestamp("us"), "customer_id": pa.string(),
    "region": pa.string(), "segment": pa.string(), "category": pa.string(),
    "product": pa.string(), "sales_rep": pa.string(), "channel": pa.string(),
    "quantity": pa.int64(), "unit_price": pa.float64(), "revenue": pa.float64(),
}
REGIONS = {"Asia Pacific", "North America", "Latin America", "EMEA"}


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sales.parquet"
    summary = write_sample(path, rows=ROWS, seed=7)
    return path, summary


@pytest.fixture(scope="module")
def df(small):
    return pd.read_parquet(small[0])


# --------------------------------------------------------------------------- shape


def test_schema_and_exact_row_count(small):
    path, summary = small
    schema = pq.read_schema(path)
    assert schema.names == list(EXPECTED_TYPES)
    assert {f.name: f.type for f in schema} == EXPECTED_TYPES
    assert pq.ParquetFile(path).metadata.num_rows == ROWS
    table = pq.read_table(path)
    assert table.num_rows == ROWS
    assert table.schema.equals(sample.SCHEMA)
    # nulls only where guest checkouts put them
    assert all(table[c].null_count == 0 for c in table.column_names if c != "customer_id")
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_pandas_dtypes(df):
    assert str(df.order_date.dtype) == "datetime64[us]"
    assert df.quantity.dtype == np.int64
    assert df.unit_price.dtype == np.float64 and df.revenue.dtype == np.float64
    for col in ("order_id", "customer_id", "region", "segment", "category", "product",
                "sales_rep", "channel"):
        assert pd.api.types.is_string_dtype(df[col]), col


def test_summary(small, df):
    path, summary = small
    assert summary["rows"] == ROWS
    assert summary["path"] == str(path)
    assert summary["first_date"] == str(df.order_date.min().date())
    assert summary["last_date"] == str(df.order_date.max().date())
    assert summary["orders"] == df.order_id.nunique()
    assert summary["customers"] == df.customer_id.nunique()


def test_dates_cover_every_month(df):
    assert df.order_date.min() >= pd.Timestamp("2022-01-01")
    assert df.order_date.max() < pd.Timestamp("2025-01-01")
    months = set(df.order_date.dt.to_period("M").astype(str))
    assert months == {str(p) for p in pd.period_range("2022-01", "2024-12", freq="M")}
    assert (df.order_date.dt.floor("D") != df.order_date).mean() > 0.95  # times of day
    assert df.order_date.is_monotonic_increasing


def test_revenue_is_quantity_times_unit_price(df):
    q, p, r = df.quantity.to_numpy(), df.unit_price.to_numpy(), df.revenue.to_numpy()
    assert np.array_equal(r, np.round(q * p, 2))
    assert np.array_equal(p, np.round(p, 2))
    assert (p > 0).all() and (q != 0).all()
    assert ((q >= 1) & (q <= 20)).sum() / (q > 0).sum() > 0.95   # 1..20 mostly


def test_dimensions(df):
    assert set(df.region) == REGIONS
    assert set(df.segment) == {"SMB", "Mid-Market", "Enterprise"}
    assert set(df.channel) == {"Online", "Direct", "Partner"}
    assert set(df.category) == {"Electronics", "Furniture", "Software", "Office Supplies",
                                "Services"}
    per_cat = df.groupby("category")["product"].nunique()
    assert per_cat.between(5, 10).all(), per_cat
    assert df.groupby("product").category.nunique().max() == 1
    assert "Laptop Pro 14" in set(df["product"]) and "Ergonomic Chair" in set(df["product"])
    assert df.sales_rep.nunique() == 12
    assert df.groupby("sales_rep").region.nunique().max() == 1          # one region per rep
    assert df.groupby("product").unit_price.median().nunique() > 20      # price levels


def test_orders_and_customers_are_consistent(df):
    assert df.order_id.str.fullmatch(r"SO-\d{7}").all()
    assert df.customer_id.dropna().str.fullmatch(r"C\d{5}").all()
    order_cols = ["order_date", "customer_id", "region", "segment", "channel", "sales_rep"]
    per_order = df.groupby("order_id")[order_cols].nunique(dropna=False)
    for col in order_cols:
        assert (per_order[col] == 1).all(), col
    per_order["lines"] = df.groupby("order_id").size()
    per_order["products"] = df.groupby("order_id")["product"].nunique()
    assert per_order.lines.between(1, 5).all()
    assert per_order.lines.max() == 5 and (per_order.lines == 1).mean() > 0.3
    assert (per_order.products == per_order.lines).all()                  # no repeated product
    known = df.dropna(subset=["customer_id"])
    assert (known.groupby("customer_id")[["region", "segment"]].nunique() == 1).all().all()


def test_returns(df):
    is_return = df.revenue < 0
    assert (is_return == (df.quantity < 0)).all()
    assert 0.01 <= is_return.mean() <= 0.04
    returns, purchases = df[is_return], df[~is_return]
    assert (returns.groupby("order_id").size() == 1).all()             # an order of their own
    assert not set(returns.order_id) & set(purchases.order_id)
    # each return follows a purchase of the same product, price and customer 3..21 days before
    m = returns.reset_index().merge(purchases, on=["customer_id", "product", "unit_price"],
                                    suffixes=("", "_p"))
    lag = (m.order_date.dt.normalize() - m.order_date_p.dt.normalize()).dt.days
    m = m[lag.between(3, 21) & (m.quantity_p >= -m.quantity)]
    assert m["index"].nunique() == len(returns)


def test_guest_checkouts(df):
    share = df.customer_id.isna().mean()
    assert 0.005 <= share <= 0.02
    guests = df[df.customer_id.isna()]
    assert (guests.channel[guests.quantity > 0] == "Online").all()


# --------------------------------------------------------------------------- the story


def test_story_regions_and_seasonality(df):
    year = df.order_date.dt.year
    by_region = df.groupby([df.region, year]).revenue.sum()
    assert by_region["Asia Pacific"][2024] > 1.2 * by_region["Asia Pacific"][2022]
    assert by_region["Latin America"][2024] < by_region["Latin America"][2022]
    for region in ("North America", "EMEA"):                              # flat-ish
        assert 0.8 < by_region[region][2024] / by_region[region][2022] < 1.5
    total = df.groupby(year).revenue.sum()
    growth = (total[2024] / total[2022]) ** 0.5 - 1
    assert 0.08 < growth < 0.18
    quarter = df.groupby([year, df.order_date.dt.quarter]).revenue.sum()
    for y in (2022, 2023, 2024):
        assert quarter[y][4] > quarter[y][3]
    month = df.groupby(df.order_date.dt.month).revenue.sum()
    assert month[12] > month[8] * 1.3                                      # Q4 peak, summer dip


def test_story_customers(df):
    known = df.dropna(subset=["customer_id"])
    revenue = known.groupby("customer_id").revenue.sum().sort_values(ascending=False)
    top = revenue.iloc[: int(np.ceil(0.2 * len(revenue)))].sum() / revenue.sum()
    assert 0.45 <= top <= 0.8
    assert ROWS / 12 * 0.7 <= len(revenue) <= ROWS / 12               # pool of ~rows/12
    orders = known.groupby("customer_id").order_id.nunique()
    assert 0.3 <= (orders >= 2).mean() <= 0.9                          # repeat buyers ...
    assert (orders == 1).mean() >= 0.1 and orders.max() >= 20          # ... one-timers, big ones
    first = known.groupby("customer_id").order_date.min().dt.to_period("Q")
    assert first.value_counts().sort_index().loc["2022Q2":].min() > 30  # cohorts every quarter
    order_value = known[known.quantity > 0].groupby(["segment", "order_id"]).revenue.sum()
    mean_value = order_value.groupby(level=0).mean()
    assert mean_value["Enterprise"] > 1.5 * mean_value["SMB"]
    rep_revenue = df.groupby(["region", "sales_rep"]).revenue.sum()
    assert (rep_revenue.groupby(level=0).max() / rep_revenue.groupby(level=0).min() > 1.5).all()


# --------------------------------------------------------------------------- mechanics


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    write_sample(a, rows=5_000, seed=11)
    write_sample(b, rows=5_000, seed=11)
    write_sample(c, rows=5_000, seed=12)
    assert sha256(a) == sha256(b)
    assert sha256(a) != sha256(c)
    assert not pq.read_table(a).equals(pq.read_table(c))


def test_small_chunks(tmp_path):
    path = tmp_path / "chunked.parquet"
    summary = write_sample(path, rows=10_000, seed=5, chunk_rows=3_000)
    meta = pq.ParquetFile(path).metadata
    assert summary["rows"] == meta.num_rows == 10_000
    assert meta.num_row_groups >= 4
    assert all(meta.row_group(i).num_rows <= 3_000 for i in range(meta.num_row_groups))
    chunked = pq.read_table(path)
    write_sample(tmp_path / "whole.parquet", rows=10_000, seed=5)
    assert chunked.equals(pq.read_table(tmp_path / "whole.parquet"))  # rows don't depend on it
    ids = chunked["order_id"].to_pandas()
    assert ids.is_monotonic_increasing and ids.iloc[-1] == f"SO-{summary['orders']:07d}"


@pytest.mark.parametrize("rows", [1, 37, 1_000])
def test_tiny_sizes(tmp_path, rows):
    path = tmp_path / "tiny.parquet"
    assert write_sample(path, rows=rows, chunk_rows=100)["rows"] == rows
    assert pq.read_table(path).num_rows == rows


def test_bad_arguments(tmp_path):
    for kwargs in ({"rows": 0}, {"rows": 10, "chunk_rows": 0}, {"rows": 10, "seed": -1}):
        with pytest.raises(ValueError):
            write_sample(tmp_path / "x.parquet", **kwargs)
    assert os.listdir(tmp_path) == []


def _failing(name):
    def install(monkeypatch):
        real, calls = getattr(sample, name), []

        def step(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("boom")
            return real(*args, **kwargs)
        monkeypatch.setattr(sample, name, step)
    return install


def _fail_in_writer(monkeypatch):
    class Writer(pq.ParquetWriter):
        calls = 0

        def write_table(self, table, *args, **kwargs):
            Writer.calls += 1
            if Writer.calls == 2:
                raise OSError("disk full")
            return super().write_table(table, *args, **kwargs)
    monkeypatch.setattr(sample.pq, "ParquetWriter", Writer)


@pytest.mark.parametrize("fail", [_failing("_lines"), _failing("_finish"), _fail_in_writer],
                         ids=["generate", "finish", "write"])
@pytest.mark.parametrize("existing", [False, True])
def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, fail, existing):
    target = tmp_path / "out.parquet"
    if existing:
        target.write_bytes(b"previous")
    fail(monkeypatch)
    with pytest.raises((RuntimeError, OSError)):
        write_sample(target, rows=10_000, chunk_rows=2_000)
    if existing:
        assert target.read_bytes() == b"previous"
        assert os.listdir(tmp_path) == ["out.parquet"]
    else:
        assert not target.exists()
        assert os.listdir(tmp_path) == []


def test_replaces_existing_file_with_normal_permissions(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")
    write_sample(target, rows=2_000)
    assert pq.read_table(target).num_rows == 2_000
    assert os.listdir(tmp_path) == ["out.parquet"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
