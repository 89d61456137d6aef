"""Orders that name two customers are resolved in the materialised order rows in place on DuckDB
(salesnb.metrics.orders._set_first_customers) instead of every order row being written again.
The in-place rows must equal the rows of the general path (a join, written again: other
backends) and the rule computed in pandas, and building the rows again on the same table (Ibis
shares the materialised table of an equal expression) must find the same orders to resolve."""
from __future__ import annotations

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.metrics import orders as order_rows
from support.shapes import typed_nonatomic



@pytest.fixture(scope="module")
def shape(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inplace")
    params = typed_nonatomic(folder, "lines", rows=40_000, seed=5)
    return params, pd.read_parquet(folder / "lines.parquet")


def _rows(built) -> pd.DataFrame:
    frame = built.table.to_pandas()
    frame["revenue"] = frame["revenue"].astype(float)
    return frame.sort_values("order_id").reset_index(drop=True)


def _pandas_customers(df: pd.DataFrame, text_ids: bool) -> pd.Series:
    """Per order: the customer of its first line that names one (earliest date, then the smallest
    id by its text, also where the engine holds the ids as integers: salesnb.metrics.ids)."""
    named = df[df.customer_id.notna()].copy()
    named["key"] = named.customer_id.astype("int64").astype(str)
    named = named.sort_values(["order_id", "order_date", "key"])
    first = named.groupby("order_id").customer_id.first()
    return first.astype("int64").astype(str) if text_ids else first


def test_in_place_rows_equal_the_rewritten_rows_and_the_rule(shape, monkeypatch):
    params, df = shape
    with load_data(load_config(params)) as ds:
        in_place = order_rows.build_orders(ds.table)
        rows = _rows(in_place)
        text_ids = ds.table.schema()["customer_id"].is_string()
        in_place.release()
    with load_data(load_config(params)) as ds:
        monkeypatch.setattr(order_rows, "_set_first_customers", lambda *a: False)
        rewritten = order_rows.build_orders(ds.table)
        other = _rows(rewritten)
        rewritten.release()
    two = df.groupby("order_id").customer_id.nunique()
    assert int((two > 1).sum()) > 10                         # the shape has such orders to resolve
    assert (in_place.split, in_place.examples, in_place.rows) == (rewritten.split, rewritten.examples, rewritten.rows)
    assert not in_place.atomic and in_place.rows == df.order_id.nunique()
    pd.testing.assert_frame_equal(rows, other)
    expected = _pandas_customers(df, text_ids)
    got = rows.dropna(subset=["customer_id"]).set_index("order_id").customer_id
    got.index = got.index.astype("int64") if text_ids else got.index
    assert got.sort_index().tolist() == expected.sort_index().tolist()
    per_order = df.groupby("order_id").revenue.sum()
    assert rows.revenue.to_numpy() == pytest.approx(per_order.sort_index().to_numpy(), abs=1e-6)


def test_building_again_on_the_same_table_finds_the_same_orders(shape):
    params, _ = shape
    with load_data(load_config(params)) as ds:
        first = order_rows.build_orders(ds.table)
        again = order_rows.build_orders(ds.table)
        assert (again.split, again.examples) == (first.split, first.examples) and again.split > 0
        pd.testing.assert_frame_equal(_rows(again), _rows(first))


def test_the_first_lines_customer_wins_over_the_smallest_id(load, monkeypatch):
    # U: y's line first (09:00), then x's -> y (not the smallest id); V: a tie in time -> a; W: the
    # first line names nobody -> z; X: one customer
    data = pd.DataFrame({
        "order": ["U", "U", "V", "V", "W", "W", "X"],
        "date": ["2024-05-02 09:00", "2024-05-02 11:00", "2024-05-03 10:00", "2024-05-03 10:00",
                 "2024-05-04 08:00", "2024-05-04 12:00", "2024-05-05 12:00"],
        "cust": ["y", "x", "b", "a", "", "z", "x"],
        "amount": [6.0, 4.0, 1.0, 2.0, 3.0, 3.0, 5.0],
    }).to_csv(index=False)
    expected = {"U": "y", "V": "a", "W": "z", "X": "x"}
    in_place = order_rows.build_orders(load(data).table)
    assert _rows(in_place).set_index("order_id").customer_id.to_dict() == expected
    monkeypatch.setattr(order_rows, "_set_first_customers", lambda *a: False)
    rewritten = order_rows.build_orders(load(data).table)
    pd.testing.assert_frame_equal(_rows(rewritten), _rows(in_place))
