"""``salesnb sample --shape``: the benchmark shapes have the promised types, counts and share of
non-atomic orders, and the default sample is what it was (``write_sample``, byte for byte)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from salesnb.cli import main
from salesnb.data.sample import write_sample
from salesnb.data.sample_shapes import SPLIT_SHARE, write_shape


@pytest.fixture(scope="module")
def nonatomic(tmp_path_factory):
    path = tmp_path_factory.mktemp("shapes") / "typed_nonatomic.parquet"
    summary = write_shape(path, "typed-nonatomic", rows=400_000, seed=7)
    return path, summary, pq.read_table(path).to_pandas()


def test_the_typed_shape_has_its_types_and_counts(tmp_path):
    path = tmp_path / "typed.parquet"
    summary = write_shape(path, "typed", rows=100_001, seed=3)
    table = pq.read_table(path)
    schema = table.schema
    assert schema.field("order_id").type == pa.int64()
    assert schema.field("order_date").type == pa.date32()
    assert schema.field("customer_id").type == pa.int32()
    assert "product" not in schema.names
    assert {"region", "segment", "category", "sales_rep"} <= set(schema.names)
    df = table.to_pandas()
    assert len(df) == summary["rows"] == 100_001
    lines = df.groupby("order_id").size()
    assert len(lines) == summary["orders"] == 50_001          # two lines per order, the last one has one
    assert (lines.iloc[:-1] == 2).all() and lines.iloc[-1] == 1
    # one customer and one day per order
    assert (df.groupby("order_id").order_date.nunique() == 1).all()
    assert (df.groupby("order_id").customer_id.nunique(dropna=False) == 1).all()
    # ~25 orders per customer (the pool is orders / 25), ~1 % guest orders, order ids follow the date
    known = df[df.customer_id.notna()]
    per_customer = known.groupby("customer_id").order_id.nunique()
    assert summary["customers"] == 2_000 and 20 <= per_customer.mean() <= 30
    assert 0.005 < df.customer_id.isna().mean() < 0.02
    first_day = df.groupby("order_id").order_date.min()
    assert first_day.is_monotonic_increasing
    assert str(df.order_date.min()) == summary["first_date"] and str(df.order_date.max()) == summary["last_date"]


def test_the_nonatomic_shape_has_its_share_of_split_orders(nonatomic):
    _, summary, df = nonatomic
    per_order = df.groupby("order_id").agg(days=("order_date", "nunique"),
                                           customers=("customer_id", "nunique"))
    n = len(per_order)
    straddle = per_order[per_order.days > 1]
    two = per_order[per_order.customers > 1]
    # 0.1 % each, within sampling noise (binomial: sd ~ 4.5 orders of ~200)
    assert 0.0008 * n < len(straddle) < 0.0012 * n
    assert 0.0008 * n < len(two) < 0.0012 * n
    assert straddle.index.intersection(two.index).empty
    # a straddling order's second line is dated the next day
    days = df[df.order_id.isin(straddle.index)].groupby("order_id").order_date.agg(["min", "max"])
    assert ((days["max"] - days["min"]).map(lambda d: d.days) == 1).all()
    assert SPLIT_SHARE == 0.001


def test_the_nonatomic_shape_is_the_typed_one_elsewhere(nonatomic, tmp_path):
    path, _, df = nonatomic
    typed = tmp_path / "typed.parquet"
    write_shape(typed, "typed", rows=400_000, seed=7)
    base = pq.read_table(typed).to_pandas()
    assert list(base.columns) == list(df.columns) and len(base) == len(df)
    differ = (base.order_date != df.order_date) | (base.customer_id.fillna(-1) != df.customer_id.fillna(-1))
    # only second lines of the split orders differ; every other column is the same
    assert 0 < differ.sum() <= 0.0025 * len(df) / 2
    assert (base.index[differ] % 2 == 1).all()
    for col in ("order_id", "region", "category", "quantity", "unit_price", "revenue"):
        assert base[col].equals(df[col])


@settings(max_examples=5, deadline=None)
@given(rows=st.integers(min_value=1, max_value=3_000), seed=st.integers(min_value=0, max_value=2**16))
def test_the_same_arguments_give_the_same_file(tmp_path_factory, rows, seed):
    folder = tmp_path_factory.mktemp("same")
    a, b = folder / "a.parquet", folder / "b.parquet"
    write_shape(a, "typed-nonatomic", rows=rows, seed=seed)
    write_shape(b, "typed-nonatomic", rows=rows, seed=seed)
    assert a.read_bytes() == b.read_bytes()
    assert pq.read_metadata(a).num_rows == rows


def test_the_default_sample_is_unchanged(tmp_path):
    main(["sample", str(tmp_path / "cli.parquet"), "--rows", "5000", "--seed", "7"])
    write_sample(tmp_path / "direct.parquet", rows=5000, seed=7)
    assert (tmp_path / "cli.parquet").read_bytes() == (tmp_path / "direct.parquet").read_bytes()


def test_the_cli_writes_a_shape(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert main(["sample", str(out), "--rows", "1000", "--shape", "typed"]) == 0
    assert "Wrote 1,000 rows" in capsys.readouterr().out
    assert pq.read_schema(out).field("order_date").type == pa.date32()


def test_a_bad_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="typed-nonatomic"):
        write_shape(tmp_path / "x.parquet", "wide")
