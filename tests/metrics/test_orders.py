"""Order rows (salesnb.metrics.orders): the fast path gives the same findings as the lines.

The metrics that count orders read the dataset's order-day rows when every order is one row
(one customer, one day) instead of grouping the lines by order again. These tests build the
whole findings both ways, byte for byte, on the shared data sets and on a hand-made table whose
orders span days and customers (where the lines must be used).
"""
from __future__ import annotations

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.findings import build_findings, dumps
from salesnb.metrics import orders as order_rows
from support.paths import PARAMS, needs_shared_data



def _findings(params, period, use_orders: bool, monkeypatch) -> tuple[str, object]:
    monkeypatch.setattr(order_rows, "USE_ORDER_ROWS", use_orders)
    config = load_config(params)
    with load_data(config) as ds:
        f = build_findings(config, period, dataset=ds)
        built = ds._shared.get("orders")
    return dumps(f.data), built


@needs_shared_data
@pytest.mark.parametrize("params,period,atomic", [
    ("superstore.yaml", "2017Q4", True),
    ("online_retail.yaml", "2011Q4", True),
    ("cdnow.yaml", "1997Q4", True),           # order id: customer and day
])
@pytest.mark.slow
def test_order_rows_give_the_same_findings(params, period, atomic, monkeypatch):
    fast, built = _findings(PARAMS / params, period, True, monkeypatch)
    slow, none = _findings(PARAMS / params, period, False, monkeypatch)
    assert none is None                               # the lines were used
    assert built is not None and built.atomic is atomic
    assert fast == slow


@pytest.mark.slow  # a full real data set: in make test-all
def test_sample_findings_the_same_both_ways(tmp_path, monkeypatch):
    from salesnb.data.sample import write_sample
    src = tmp_path / "sample.parquet"
    write_sample(src, rows=30_000, seed=3)
    params = tmp_path / "p.yaml"
    cols = ["order_id", "order_date", "customer_id", "revenue", "quantity", "unit_price", "region", "segment",
            "category", "product", "sales_rep", "channel"]
    params.write_text("name: s\nsource: sample.parquet\ncolumns:\n" + "".join(f"  {c}: {c}\n" for c in cols)
                      + "period: 2024Q3\n", encoding="utf-8")
    fast, built = _findings(params, "2024Q3", True, monkeypatch)
    slow, _ = _findings(params, "2024Q3", False, monkeypatch)
    assert built.atomic
    assert fast == slow


def _csv(columns: dict) -> str:
    return pd.DataFrame(columns).to_csv(index=False)


def test_orders_spanning_days_and_customers_are_resolved_to_their_first_line(load):
    # order A: two days; order B: two customers; C: a return that nets the order to zero
    ds = load(_csv({
        "order": ["A", "A", "B", "B", "C", "C", "D"],
        "date": ["2024-01-05", "2024-02-03", "2024-01-10", "2024-01-10", "2024-02-01", "2024-02-01",
                 "2024-03-01"],
        "cust": ["x", "x", "x", "y", "y", "y", "z"],
        "amount": [10.0, 5.0, 7.0, 3.0, 4.0, -4.0, 9.0],
    }))
    built = order_rows.build_orders(ds.table)
    frame = built.table.to_pandas().sort_values(["order_id", "customer_id", "day"])
    assert not built.atomic and built.rows == 4 and built.split == 2 and built.examples == ["A", "B"]
    assert list(frame.order_id) == ["A", "B", "C", "D"]
    assert list(frame.customer_id) == ["x", "x", "y", "z"]
    assert [str(d)[:10] for d in frame.day] == ["2024-01-05", "2024-01-10", "2024-02-01", "2024-03-01"]
    assert [float(v) for v in frame.revenue] == [15.0, 10.0, 0.0, 9.0]
    assert list(frame.lines) == [2, 2, 2, 1]
    assert order_rows.atomic_orders(ds) is not None


def test_atomic_orders_are_cached_on_the_dataset(load):
    ds = load(_csv({
        "order": ["A", "A", "B"], "date": ["2024-01-05 09:00", "2024-01-05 17:30", "2024-01-06 00:00"],
        "cust": ["x", "x", "y"], "amount": [10.0, -2.5, 7.0]}))
    first = order_rows.atomic_orders(ds)
    assert first is not None and order_rows.atomic_orders(ds) is first
    row = first.filter(first.order_id == "A").to_pandas().iloc[0]
    assert float(row.revenue) == 7.5 and row.lines == 2
    assert str(row.order_date) == "2024-01-05 09:00:00" and str(row.last_date) == "2024-01-05 17:30:00"


@needs_shared_data
@pytest.mark.parametrize("params,first,second", [
    ("superstore.yaml", "2017Q3", "2017Q4"),
    ("online_retail.yaml", "2011-10", "2011Q3"),
])
@pytest.mark.slow
def test_aggregates_shared_between_periods_change_nothing(params, first, second):
    """A batch builds every period on one load, reusing cached aggregates: the second period's
    findings equal those of a fresh load."""
    config = load_config(PARAMS / params)
    with load_data(config) as ds:
        build_findings(config, first, dataset=ds)
        assert set(ds._shared) >= {"customer_months", "clv_days"}
        assert any(k[0] == "dim_values" for k in ds._shared if isinstance(k, tuple))
        warm = dumps(build_findings(config, second, dataset=ds).data)
    with load_data(config) as ds:
        fresh = dumps(build_findings(config, second, dataset=ds).data)
    assert warm == fresh


@pytest.mark.parametrize("custs,atomic", [(["z", ""], False), (["", ""], True), (["z", "z"], True)])
def test_an_order_half_without_customer_id_is_split(load, custs, atomic):
    ds = load(_csv({"order": ["E", "E", "F"], "date": ["2024-01-05", "2024-01-05", "2024-01-06"],
                    "cust": custs + ["y"], "amount": [1.0, 2.0, 3.0]}))
    built = order_rows.build_orders(ds.table)
    assert built.atomic is atomic
    assert built.rows == 2   # E resolved to one row, for customer z
    assert float(built.table.aggregate(t=built.table.revenue.sum()).to_pandas()["t"].iloc[0]) == 6.0


@needs_shared_data
@pytest.mark.slow
def test_a_quarter_after_another_groups_only_its_own_window(monkeypatch):
    """2017Q4's previous window is 2017Q3, grouped already for 2017Q3's report: each dimension
    groups one window (2017Q4's), not two."""
    from salesnb.metrics import breakdowns
    config = load_config(PARAMS / "superstore.yaml")
    with load_data(config) as ds:
        build_findings(config, "2017Q3", dataset=ds)
        grouped = []
        real = breakdowns._dim_values
        monkeypatch.setattr(breakdowns, "_dim_values", lambda t, dim, windows: grouped.append(
            (dim, [w.label for w in windows])) or real(t, dim, windows))
        build_findings(config, "2017Q4", dataset=ds)
    assert grouped and all(len(windows) == 1 for _, windows in grouped), grouped
    assert {d for d, _ in grouped} == set(ds.dimensions)


@needs_shared_data
@pytest.mark.slow
def test_a_quarter_after_another_computes_the_kpis_of_new_windows_only(monkeypatch):
    """2017Q4 after 2017Q3 on one load: the KPIs of 2017Q3 (its previous window) are kept; only
    2017Q4 and 2016Q4 (its year-ago window) are scanned. The findings equal a fresh load's."""
    from salesnb.metrics import revenue as rev
    config = load_config(PARAMS / "superstore.yaml")
    with load_data(config) as ds:
        build_findings(config, "2017Q3", dataset=ds)
        scanned = []
        real = rev.kpis_for
        monkeypatch.setattr(rev, "kpis_for", lambda t, windows, *a: scanned.append(
            [w.label for w in windows]) or real(t, windows, *a))
        warm = build_findings(config, "2017Q4", dataset=ds).data["revenue"]
        # the cached KPIs are copies: changing a report's findings leaves the cache as it was
        warm["previous"]["total"] = -1.0
        again = build_findings(config, "2017Q4", dataset=ds).data["revenue"]
    assert scanned == [["2017Q4", "2016Q4"]], scanned    # the second 2017Q4 scans nothing
    monkeypatch.setattr(rev, "kpis_for", real)
    with load_data(config) as ds:
        fresh = build_findings(config, "2017Q4", dataset=ds).data["revenue"]
    assert again == fresh


# --------------------------------------------------------------------------- composite order ids

COMPOSITE = {"order_id": ["cust", "date"], "order_date": "date", "customer_id": "cust", "revenue": "amount"}


def test_a_composite_order_id_is_one_order_per_customer_and_day(load):
    """Data without an order id (CDNOW): ``order_id: [cust, date]``. The date part is the
    calendar day of the order date, whatever its time; a row missing a part has no order id."""
    ds = load(_csv({
        "date": ["2024-01-05 09:00", "2024-01-05 17:30", "2024-01-06 08:00", "2024-01-05 10:00",
                 "2024-01-07 10:00", "2024-01-08 10:00", "2024-01-08 11:00"],
        "cust": ["x", "x", "x", "y", "", "a b", "a"],
        "amount": [10.0, -2.5, 7.0, 3.0, 4.0, 1.0, 2.0],
    }), columns=COMPOSITE)
    q = ds.quality
    assert q.rows_dropped == {"missing order id": 1}
    assert q.examples["missing order id"] == ["(empty) + 2024-01-07 10:00"]
    assert q.columns["order_id"] == "cust + date"
    assert "an order is one combination of 'cust' and the calendar day of 'date'" in " ".join(q.notes)
    frame = ds.table.group_by("order_id").aggregate(n=ds.table.count(), rev=ds.table.revenue.sum()).to_pandas()
    got = {k.replace("\x1f", "|"): (int(n), float(r)) for k, n, r in zip(frame.order_id, frame.n, frame.rev)}
    assert got == {"x|2024-01-05": (2, 7.5), "x|2024-01-06": (1, 7.0), "y|2024-01-05": (1, 3.0),
                   "a b|2024-01-08": (1, 1.0), "a|2024-01-08": (1, 2.0)}
    rev = build_findings(ds.config, "2024-01", dataset=ds, sections=("revenue",)).data["revenue"]
    assert rev["orders"] == 5 and rev["customers"] == 4
    assert rev["total"] == pytest.approx(20.5) and rev["aov"] == pytest.approx(20.5 / 5)


def test_a_composite_order_id_reads_the_date_in_its_own_format(load):
    ds = load(_csv({"date": ["05/01/2024", "05/01/2024", "06/01/2024"], "cust": [17850.0, 17850.0, 17850.0],
                    "amount": [1.0, 2.0, 3.0]}), columns=COMPOSITE, date_format="%d/%m/%Y")
    ids = sorted(ds.table.select("order_id").distinct().to_pandas().order_id)
    assert [i.replace("\x1f", "|") for i in ids] == ["17850|2024-01-05", "17850|2024-01-06"]


def test_a_composite_order_id_part_that_is_missing_from_the_source(make_params):
    from salesnb.errors import ColumnError
    path = make_params(_csv({"date": ["2024-01-05"], "cust": ["x"], "amount": [1.0]}),
                       columns={**COMPOSITE, "order_id": ["customer", "date"]})
    with pytest.raises(ColumnError) as err:
        load_data(load_config(path))
    assert "'customer' (columns.order_id)" in err.value.message and "'cust'" in err.value.hint
