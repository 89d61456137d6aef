"""The hand-worked bridge case (SPEC 9.1): order lines of 2024Q1 and 2024Q2 whose customer bridge and
price-volume-mix are worked out by hand in tests/metrics/test_bridge.py; and the Superstore lines
that the bridge tests recompute with pandas."""
import pandas as pd
import pytest

from support.paths import SHARED_DATA

GOLDEN = """order,date,cust,item,qty,amount
1,2024-01-01,A,X,10,100
2,2024-01-05,B,Y,4,80
3,2024-01-09,C,Z,6,60
4,2024-02-01,,,,10
5,2024-02-03,F,S,-1,-5
6,2024-04-02,A,X,15,150
7,2024-04-03,B,Y,2,80
8,2024-04-04,D,N,2,40
9,2024-05-01,,,,25
10,2024-05-02,E,R,-1,-20
11,2024-05-03,F,S,-1,-8
12,2024-06-30,A,X,0,0
"""
COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
           "quantity": "qty", "product": "item"}


def superstore_lines():
    """The Superstore order lines as the bridge tests' plain-pandas computations read them (date,
    customer, item, quantity, revenue and the dimensions); skips the calling test without the
    shared data."""
    path = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
    if not path.is_file():
        pytest.skip(f"shared data not found: {path}")
    d = pd.read_csv(path, encoding="cp1252")
    return pd.DataFrame({"date": pd.to_datetime(d["Order Date"], format="%m/%d/%Y"), "customer": d["Customer ID"],
                         "item": d["Product Name"], "quantity": d["Quantity"].astype(float), "revenue": d["Sales"],
                         "region": d["Region"], "segment": d["Segment"], "category": d["Category"]})
