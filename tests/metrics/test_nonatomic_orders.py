"""Orders whose lines have different days or customers are resolved once to their first line
(salesnb.metrics.orders.build_orders): the order rows serve every metric, and the data-quality
notes say the rule, the count and examples. Hand-worked cases, and a pandas recomputation of the
KPIs under the rule on the non-atomic benchmark shape."""
from __future__ import annotations

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.findings import build_findings
from salesnb.metrics import orders as order_rows
from support.shapes import typed_nonatomic


def _csv(columns: dict) -> str:
    return pd.DataFrame(columns).to_csv(index=False)


def _revenue(ds, period):
    return build_findings(ds.config, period, dataset=ds, sections=("revenue",)).data


def test_an_order_straddling_midnight_counts_once_on_its_first_day(load):
    # order S: 23:50 on 31 March and 00:10 on 1 April; T: an ordinary April order
    ds = load(_csv({
        "order": ["S", "S", "T"],
        "date": ["2024-03-31 23:50", "2024-04-01 00:10", "2024-04-02 09:00"],
        "cust": ["x", "x", "y"],
        "amount": [10.0, 5.0, 8.0],
    }))
    march, april = _revenue(ds, "2024-03"), _revenue(ds, "2024-04")
    # revenue stays where the lines are; the order (net 15) counts in March only
    assert march["revenue"]["total"] == 10.0 and march["revenue"]["orders"] == 1
    assert march["revenue"]["customers"] == 1
    assert april["revenue"]["total"] == 13.0 and april["revenue"]["orders"] == 1
    assert april["revenue"]["customers"] == 1 and april["revenue"]["aov"] == 13.0
    notes = march["data"]["notes"]
    assert notes == april["data"]["notes"]
    assert any(n.startswith("1 order has lines on different days or with different customers (order id S)")
               and "first line" in n for n in notes), notes


def test_an_order_naming_two_customers_belongs_to_its_first_lines_customer(load):
    # U: y's line at 09:00, x's at 11:00 -> y; V: the same time -> the smaller id (a);
    # W: its first line has no customer id -> the next line's (z)
    ds = load(_csv({
        "order": ["U", "U", "V", "V", "W", "W", "X"],
        "date": ["2024-05-02 09:00", "2024-05-02 11:00", "2024-05-03 10:00", "2024-05-03 10:00",
                 "2024-05-04 08:00", "2024-05-04 12:00", "2024-05-05 12:00"],
        "cust": ["y", "x", "b", "a", "", "z", "x"],
        "amount": [6.0, 4.0, 1.0, 2.0, 3.0, 3.0, 5.0],
    }))
    built = order_rows.build_orders(ds.table)
    frame = built.table.to_pandas().set_index("order_id")
    assert built.split == 3 and built.examples == ["U", "V", "W"] and built.rows == 4
    assert frame.customer_id.to_dict() == {"U": "y", "V": "a", "W": "z", "X": "x"}
    assert {k: float(v) for k, v in frame.revenue.items()} == {"U": 10.0, "V": 3.0, "W": 6.0, "X": 5.0}
    may = _revenue(ds, "2024-05")
    assert may["revenue"]["orders"] == 4
    assert may["revenue"]["customers"] == 4          # y, a, z, x: b names no order of its own
    assert any(n.startswith("3 orders have lines") and "(order id U, V, W)" in n for n in may["data"]["notes"])


def test_atomic_orders_get_no_note(load):
    ds = load(_csv({"order": ["A", "A", "B"], "date": ["2024-01-05", "2024-01-05", "2024-01-06"],
                    "cust": ["x", "x", "y"], "amount": [1.0, 2.0, 3.0]}))
    notes = _revenue(ds, "2024-01")["data"]["notes"]
    assert not any("first line" in n for n in notes)
    assert ds._shared["orders"].atomic


def _first_lines(df: pd.DataFrame, text_ids: bool) -> pd.DataFrame:
    """The rule, in pandas: per order its first day, its first line's customer (among the lines
    that name one: earliest date, then smallest id by its text, in code-point order, also where the
    engine holds the ids as integers: salesnb.metrics.ids) and its whole net."""
    per = df.groupby("order_id").agg(day=("order_date", "min"), revenue=("revenue", "sum"))
    named = df[df.customer_id.notna()].copy()
    named["key"] = named.customer_id.astype("int64").astype(str)
    named = named.sort_values(["order_id", "order_date", "key"])
    per["customer_id"] = named.groupby("order_id").customer_id.first()
    return per


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed")
    params = typed_nonatomic(folder, "lines", rows=60_000, seed=11)
    df = pd.read_parquet(folder / "lines.parquet")
    df["order_date"] = pd.to_datetime(df.order_date)
    return params, df


@pytest.mark.parametrize("period,start,end", [("2023Q2", "2023-04-01", "2023-07-01"),
                                              ("2024-12", "2024-12-01", "2025-01-01")])
def test_the_order_rows_give_the_kpis_pandas_gives_under_the_rule(typed, period, start, end):
    params, df = typed
    config = load_config(params)
    with load_data(config) as ds:
        f = build_findings(config, period, dataset=ds).data
        built = ds._shared["orders"]
        text_ids = ds.table.schema()["customer_id"].is_string()
    per = _first_lines(df, text_ids)
    split = per.index[(df.groupby("order_id").order_date.nunique() > 1)
                      | (df.groupby("order_id").customer_id.nunique() > 1)]
    assert not built.atomic and built.split == len(split) > 0
    assert [str(e) for e in built.examples] == [str(i) for i in sorted(split)[:5]]   # ids of one width
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    lines = df[(df.order_date >= lo) & (df.order_date < hi)]
    counted = per[(per.day >= lo) & (per.day < hi) & (per.revenue > 0)]
    rev = f["revenue"]
    assert rev["total"] == pytest.approx(lines.revenue.sum(), abs=1e-6)
    assert rev["orders"] == len(counted)
    assert rev["customers"] == counted.customer_id.nunique()
    assert rev["aov"] == pytest.approx(lines.revenue.sum() / len(counted))
    assert f["customers"]["count"] == rev["customers"]
    note = [n for n in f["data"]["notes"] if "first line" in n]
    assert len(note) == 1 and note[0].startswith(f"{len(split):,} orders have lines")
    assert ", ".join(str(i) for i in sorted(split)[:5]) in note[0]
