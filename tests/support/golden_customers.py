"""The hand-worked customer log shared by the RFM, customer and cohort tests: eleven customers
over 2023-02 .. 2024-03 (period 2024Q1, last day 2024-03-31), with a return order, an order
that nets to zero, a customer with only a return and two lines without a customer id. Each test
file holds its own hand-computed expectations for it."""
from __future__ import annotations

import pandas as pd

from salesnb.config import config_from_dict
from salesnb.data import load_data

# order_id, order_date, customer_id, revenue
GOLDEN_ROWS = [
    ("o1", "2024-03-30", "A", 100.0), ("o2", "2024-02-10", "A", 200.0), ("o3", "2023-06-01", "A", 300.0),
    ("o4", "2024-03-25", "B", 50.0),
    ("o5", "2023-12-15", "C", 400.0), ("o6", "2023-11-01", "C", 400.0), ("o7", "2023-10-01", "C", 400.0),
    ("o8", "2023-09-01", "C", 400.0),
    ("o9", "2023-03-01", "D", 1000.0),
    ("o10", "2024-01-15", "E", 80.0), ("o11", "2024-01-20", "E", -30.0),   # o11: a return order
    ("o12", "2023-05-05", "F", 150.0), ("o13", "2023-07-07", "F", 150.0),
    ("o14", "2024-03-01", "G", 500.0), ("o14", "2024-03-01", "G", -500.0),  # o14 nets to 0: no order
    ("o15", "2023-08-08", "G", 250.0),
    ("o16", "2024-02-02", "H", -40.0),                                     # H: only a return, not scored
    ("o17", "2024-02-20", "I", 120.0), ("o18", "2024-03-10", "I", 130.0),
    ("o19", "2023-02-01", "J", 60.0), ("o20", "2024-03-31", "J", 70.0),
    ("o21", "2023-10-10", "K", 90.0),
    ("o22", "2024-03-15", "", 300.0), ("o23", "2023-05-05", "", 100.0),   # no customer id
]


def make_dataset(tmp_path, rows, **params):
    """Write ``rows`` (order_id, order_date, customer_id, revenue) as a CSV and load it;
    ``params`` are added to the params."""
    path = tmp_path / "sales.csv"
    pd.DataFrame(rows, columns=["order_id", "order_date", "customer_id", "revenue"]).to_csv(path, index=False)
    data = {"name": "golden", "source": str(path),
            "columns": {"order_id": "order_id", "order_date": "order_date", "customer_id": "customer_id",
                        "revenue": "revenue"}}
    data.update(params)
    return load_data(config_from_dict(data, base_dir=tmp_path))
