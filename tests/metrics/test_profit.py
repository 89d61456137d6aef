"""Profit and margin (SPEC 9.1 last bullet, findings ``revenue.profit``).

- Superstore 2017 and 2017Q4 recomputed independently with pandas from the CSV: profit, margin %,
  the previous period and the year ago, per region and category, loss-making products, discount
  bands; the profit bridge's customer parts recomputed too, and both bridges add up to the profit
  change to the cent.
- A hand-worked golden case: profit = revenue − cost (a line without a cost, a return, a value
  with no profit), its bridge, loss-makers and bands worked out by hand in the docstring.
- Data without profit or cost has no ``revenue.profit`` key at all.
- DuckDB and PostgreSQL (the CSV's own text columns parsed on the server) give the same profit
  findings to the cent.
- Random lines of two quarters (hypothesis): the discount bands and every dimension's values sum
  to the period's profit and revenue, and both profit bridges add up to the profit change.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesnb.config import load_config
from salesnb.findings import build_findings
from salesnb.metrics import bridge
from salesnb.metrics.profit import DISCOUNT_BANDS, LOSS_ITEMS_SHOWN
from support.compare import assert_same
from support.paths import PARAMS, SHARED_DATA

SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
SUPERSTORE_PARAMS = PARAMS / "superstore.yaml"
CENT = 0.005
needs_superstore = pytest.mark.skipif(not SUPERSTORE.is_file(), reason=f"shared data not found: {SUPERSTORE}")


# --------------------------------------------------------------------------- an independent reference

@pytest.fixture(scope="module")
def frame():
    d = pd.read_csv(SUPERSTORE, encoding="cp1252")
    return pd.DataFrame({"date": pd.to_datetime(d["Order Date"], format="%m/%d/%Y"), "order": d["Order ID"],
                         "customer": d["Customer ID"], "product": d["Product Name"], "region": d["Region"],
                         "category": d["Category"], "quantity": d["Quantity"].astype(float),
                         "revenue": d["Sales"], "profit": d["Profit"], "discount": d["Discount"]})


def window(f: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return f[(f["date"] >= start) & (f["date"] < end)]


def figures(w: pd.DataFrame) -> dict:
    profit, revenue = math.fsum(w["profit"]), math.fsum(w["revenue"])
    return {"profit": profit, "revenue": revenue, "margin_pct": profit / revenue * 100}


def band_of(rate: float) -> str:
    for label, lo, hi in DISCOUNT_BANDS:
        if (lo is None or rate > lo) and (hi is None or rate <= hi):
            return label
    raise AssertionError(rate)


def customer_parts(w0: pd.DataFrame, w1: pd.DataFrame) -> dict:
    r0, r1 = w0.groupby("customer")["profit"].sum(), w1.groupby("customer")["profit"].sum()
    both = r0.index.intersection(r1.index)
    delta = r1[both] - r0[both]
    return {"gained": r1.drop(both).sum(), "lost": -r0.drop(both).sum(), "expansion": delta[delta > 0].sum(),
            "contraction": delta[delta <= 0].sum(), "unidentified": 0.0}


def pvm_parts(w0: pd.DataFrame, w1: pd.DataFrame) -> dict:
    """SPEC 9.1's price-volume-mix with profit as the amount, written out once more."""
    a0 = w0.groupby("product").agg(q=("quantity", "sum"), r=("profit", "sum"))
    a1 = w1.groupby("product").agg(q=("quantity", "sum"), r=("profit", "sum"))
    both = a0.index.intersection(a1.index)
    cont = both[(a0.loc[both, "q"] > 0) & (a1.loc[both, "q"] > 0)]
    q0, q1 = a0.loc[cont, "q"], a1.loc[cont, "q"]
    p0, p1 = a0.loc[cont, "r"] / q0, a1.loc[cont, "r"] / q1
    pbar0 = a0.loc[cont, "r"].sum() / q0.sum()
    other = both.difference(cont)
    return {"volume": (q1.sum() - q0.sum()) * pbar0, "mix": (q1 * p0).sum() - q1.sum() * pbar0,
            "price": (q1 * (p1 - p0)).sum(), "new_items": a1.drop(both)["r"].sum(),
            "discontinued_items": -a0.drop(both)["r"].sum(),
            "other": (a1.loc[other, "r"] - a0.loc[other, "r"]).sum()}


def check_figures(got: dict, want: dict) -> None:
    assert got["profit"] == pytest.approx(want["profit"], abs=CENT)
    assert got["revenue"] == pytest.approx(want["revenue"], abs=CENT)
    assert got["margin_pct"] == pytest.approx(want["margin_pct"], abs=1e-9)


# --------------------------------------------------------------------------- Superstore

@pytest.fixture(scope="module")
def superstore():
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    config = load_config(SUPERSTORE_PARAMS)
    assert config.columns["profit"] == "Profit" and config.columns["discount"] == "Discount"
    return {p: build_findings(config, p, sections=("revenue",)) for p in ("2017Q4", "2017")}


PERIODS = {  # period: (current, previous, year ago) as [start, end)
    "2017Q4": (("2017-10-01", "2018-01-01"), ("2017-07-01", "2017-10-01"), ("2016-10-01", "2017-01-01")),
    "2017": (("2017-01-01", "2018-01-01"), ("2016-01-01", "2017-01-01"), ("2016-01-01", "2017-01-01")),
}


@pytest.mark.slow   # full Superstore findings; the fast set has the hand-worked cases and the property test
@needs_superstore
@pytest.mark.parametrize("period", PERIODS)
def test_superstore_profit_equals_pandas(superstore, frame, period):
    p = superstore[period]["revenue"]["profit"]
    cur, prev, yago = (window(frame, *span) for span in PERIODS[period])
    assert p["source"] == "profit" and p["lines_without_profit"] == 0
    check_figures(p, figures(cur))
    check_figures(p["previous"], figures(prev))
    check_figures(p["year_ago"], figures(yago))
    for name, other in (("previous", prev), ("year_ago", yago)):
        ch = p["change"][name]
        assert ch["profit"] == pytest.approx(figures(cur)["profit"] - figures(other)["profit"], abs=CENT)
        assert ch["profit_pct"] == pytest.approx((figures(cur)["profit"] / figures(other)["profit"] - 1) * 100)
        assert ch["margin_pct_points"] == pytest.approx(figures(cur)["margin_pct"] - figures(other)["margin_pct"])
    # the revenue in the profit figures is the KPI revenue (every line has a profit)
    assert p["revenue"] == pytest.approx(superstore[period]["revenue"]["total"], abs=CENT)
    for dim in ("region", "category"):
        want = cur.groupby(dim).agg(profit=("profit", "sum"), revenue=("revenue", "sum"), orders=("order", "nunique"))
        was = prev.groupby(dim)["profit"].sum()
        rows = p["by_dimension"][dim]
        assert [r["value"] for r in rows] == list(want.sort_values("profit", ascending=False).index)
        for r in rows:
            w = want.loc[r["value"]]
            assert r["profit"] == pytest.approx(w["profit"], abs=CENT)
            assert r["margin_pct"] == pytest.approx(w["profit"] / w["revenue"] * 100)
            assert r["orders"] == w["orders"]
            assert r["profit_change"] == pytest.approx(w["profit"] - was[r["value"]], abs=CENT)
        assert math.fsum(r["profit"] for r in rows) == pytest.approx(p["profit"], abs=CENT)


@pytest.mark.slow   # full Superstore findings; the fast set has the hand-worked cases and the property test
@needs_superstore
@pytest.mark.parametrize("period", PERIODS)
def test_superstore_loss_makers_and_discount_bands_equal_pandas(superstore, frame, period):
    p = superstore[period]["revenue"]["profit"]
    cur = window(frame, *PERIODS[period][0])
    per = cur.groupby("product").agg(profit=("profit", "sum"), revenue=("revenue", "sum"))
    losing = per[per["profit"] < 0].reset_index().sort_values(["profit", "product"])
    lm = p["loss_makers"]
    assert lm["dimension"] == "product" and lm["count"] == len(losing) > 0
    assert lm["loss"] == pytest.approx(-losing["profit"].sum(), abs=CENT)
    assert lm["orders"] == cur[cur["product"].isin(losing["product"])]["order"].nunique()
    assert [i["value"] for i in lm["items"]] == list(losing["product"][:LOSS_ITEMS_SHOWN])
    assert all(i["profit"] < 0 for i in lm["items"])

    d = p["discount"]
    assert d["scale"] == "rate"
    bands = cur.assign(band=cur["discount"].map(band_of)).groupby("band").agg(
        profit=("profit", "sum"), revenue=("revenue", "sum"), lines=("order", "size"))
    order = [b[0] for b in DISCOUNT_BANDS]
    assert [b["band"] for b in d["bands"]] == [b for b in order if b in bands.index]
    for b in d["bands"]:
        w = bands.loc[b["band"]]
        assert (b["profit"], b["revenue"], b["lines"]) == (pytest.approx(w["profit"], abs=CENT),
                                                           pytest.approx(w["revenue"], abs=CENT), w["lines"])
        assert b["margin_pct"] == pytest.approx(w["profit"] / w["revenue"] * 100)
    # the bands hold every line: they sum to the period's totals
    assert math.fsum(b["revenue"] for b in d["bands"]) == pytest.approx(p["revenue"], abs=CENT)
    assert math.fsum(b["profit"] for b in d["bands"]) == pytest.approx(p["profit"], abs=CENT)
    assert sum(b["lines"] for b in d["bands"]) == len(cur)
    # Superstore loses money on every line discounted by more than 20%, and makes money below
    losing_bands = [b for b in order if b in bands.index and bands.loc[b, "profit"] < 0]
    assert d["negative_from"] == "20-30%" == losing_bands[0] and d["negative_from_pct"] == 20
    assert d["negative_profit"] == pytest.approx(bands.loc[losing_bands, "profit"].sum(), abs=CENT)


@pytest.mark.slow   # full Superstore findings; the fast set has the hand-worked cases and the property test
@needs_superstore
@pytest.mark.parametrize("which", ["previous", "year_ago"])
def test_superstore_2017q4_profit_bridge_equals_pandas_and_reconciles(superstore, frame, which):
    p = superstore["2017Q4"]["revenue"]["profit"]
    cur_span, prev_span, yago_span = PERIODS["2017Q4"]
    other = window(frame, *(prev_span if which == "previous" else yago_span))
    cur = window(frame, *cur_span)
    b = p["bridge"][which]
    change = p["change"][which]["profit"]
    assert b["total_change"] == pytest.approx(change, abs=CENT)
    want = customer_parts(other, cur)
    for k in bridge.CUSTOMER_PARTS:
        assert b["customers"][k] == pytest.approx(want[k], abs=CENT), k
    want = pvm_parts(other, cur)
    assert b["pvm"]["dimension"] == "product"
    for k in bridge.PVM_PARTS:
        assert b["pvm"][k] == pytest.approx(want[k], abs=CENT), k
    # to the cent: the parts of each bridge add up to the profit change
    assert abs(math.fsum(b["customers"][k] for k in bridge.CUSTOMER_PARTS) - change) < CENT
    assert abs(math.fsum(b["pvm"][k] for k in bridge.PVM_PARTS) - change) < CENT


# --------------------------------------------------------------------------- hand-worked golden case

GOLDEN = """order,date,cust,item,qty,amount,cost,disc
1,2024-01-01,A,X,2,100,60,0
2,2024-01-20,B,Y,1,50,55,0.25
3,2024-04-05,A,X,3,150,90,0.1
4,2024-04-06,C,Y,2,100,120,0.35
5,2024-04-07,B,Z,1,40,,0
6,2024-06-30,A,X,-1,-50,-30,0.1
"""
GOLDEN_COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
                  "quantity": "qty", "product": "item", "cost": "cost", "discount": "disc"}


def test_golden_cost_to_profit_by_hand(make_params):
    """Profit per line = amount − cost: 40, −5 (2024Q1); 60, −20, none (no cost), −20 (a return
    of X: −50 − −30). 2024Q2: profit 20 over the revenue of the lines with a profit (200): 10%;
    revenue 240. 2024Q1: 35 / 150 = 23.33%. Change −15 (−42.86%), −13.33 margin points.
    Customers: A 40 → 40 contraction 0; B −5 → (a line without profit) 0: expansion +5; C new −20:
    gained. Items: X (2 units, 40 → 2 units, 40) and Y (1, −5 → 2, −20) continue: Q0 3, Q1 4,
    P̄0 35/3: volume 35/3, mix 2·20 + 2·(−5) − 4·35/3 = −50/3, price 2·(−10 − −5) = −10; Z new
    with no profit: 0. Loss-making: Y (−20 on 100). Bands: 0% (Z: 40, no profit), 0-10% (X: 100,
    40), >30% (Y: 100, −20): margin turns negative above 30%."""
    f = build_findings(make_params(GOLDEN, columns=GOLDEN_COLUMNS), "2024Q2", sections=("revenue",))
    p = f["revenue"]["profit"]
    assert p["source"] == "revenue - cost"
    assert (p["profit"], p["revenue"], p["lines_without_profit"]) == (20, 240, 1)
    assert p["margin_pct"] == pytest.approx(10)
    assert p["previous"] == {"profit": 35, "revenue": 150, "margin_pct": pytest.approx(35 / 150 * 100),
                             "lines_without_profit": 0}
    assert p["year_ago"] is None and p["change"]["year_ago"] is None
    assert p["change"]["previous"] == {"profit": -15, "profit_pct": pytest.approx(-15 / 35 * 100),
                                       "margin_pct_points": pytest.approx(10 - 35 / 150 * 100)}
    by = {r["value"]: r for r in p["by_dimension"]["product"]}
    assert [r["value"] for r in p["by_dimension"]["product"]] == ["X", "Z", "Y"]
    assert (by["X"]["profit"], by["X"]["margin_pct"], by["X"]["previous_profit"]) == (40, 40, 40)
    assert (by["Y"]["profit"], by["Y"]["margin_pct"], by["Y"]["profit_change"]) == (-20, -20, -15)
    assert (by["Z"]["profit"], by["Z"]["margin_pct"], by["Z"]["orders"]) == (0, None, 1)

    b = p["bridge"]["previous"]
    assert b["total_change"] == -15 and p["bridge"]["year_ago"] is None
    assert {k: b["customers"][k] for k in bridge.CUSTOMER_PARTS} == {
        "gained": -20, "lost": 0, "expansion": 5, "contraction": 0, "unidentified": 0}
    assert b["customers"]["counts"] == {"gained": 1, "lost": 0, "expansion": 1, "contraction": 1}
    v = b["pvm"]
    assert (v["volume"], v["mix"], v["price"]) == (pytest.approx(35 / 3), pytest.approx(-50 / 3), pytest.approx(-10))
    assert (v["new_items"], v["discontinued_items"], v["other"]) == (0, 0, 0)

    lm = p["loss_makers"]
    assert (lm["dimension"], lm["count"], lm["loss"], lm["revenue"], lm["orders"]) == ("product", 1, 20, 100, 1)
    assert lm["items"] == [{"value": "Y", "revenue": 100, "profit": -20, "margin_pct": -20, "orders": 1}]

    d = p["discount"]
    assert [(x["band"], x["revenue"], x["profit"], x["margin_pct"], x["lines"]) for x in d["bands"]] == [
        ("0%", 40, 0, None, 1), ("0-10%", 100, 40, 40, 2), (">30%", 100, -20, -20, 1)]
    assert (d["scale"], d["negative_from"], d["negative_from_pct"], d["negative_profit"]) == ("rate", ">30%", 30, -20)
    assert f.tables["profit_discount_bands"]["revenue"].sum() == pytest.approx(p["revenue"])


def test_profit_wins_over_cost_and_percent_discounts(make_params):
    """With profit and cost both mapped, profit is used; discounts written as percentages (35 for
    35%) give the same bands as rates."""
    data = GOLDEN.replace(",0.25\n", ",25\n").replace(",0.1\n", ",10\n").replace(",0.35\n", ",35\n")
    data = data.replace("cost,disc", "cost,disc,prof")
    data = "\n".join(line + ",1" if i else line for i, line in enumerate(data.splitlines())) + "\n"
    columns = dict(GOLDEN_COLUMNS, profit="prof")
    p = build_findings(make_params(data, columns=columns), "2024Q2", sections=("revenue",))["revenue"]["profit"]
    assert (p["source"], p["profit"], p["lines_without_profit"], p["margin_pct"]) == ("profit", 4, 0, 4 / 240 * 100)
    assert p["discount"]["scale"] == "percent"
    assert [x["band"] for x in p["discount"]["bands"]] == ["0%", "0-10%", ">30%"]


def test_no_profit_roles_no_profit_key(make_params):
    columns = {k: v for k, v in GOLDEN_COLUMNS.items() if k not in ("cost", "discount")}
    f = build_findings(make_params(GOLDEN, columns=columns), "2024Q2", sections=("revenue",))
    assert "profit" not in f["revenue"]
    assert not [name for name in f.tables if name.startswith("profit_")]


def test_discount_without_profit_shows_nothing(make_params):
    """A discount alone gives no profit figures (bands need profit)."""
    columns = {k: v for k, v in GOLDEN_COLUMNS.items() if k != "cost"}
    f = build_findings(make_params(GOLDEN, columns=columns), "2024Q2", sections=("revenue",))
    assert "profit" not in f["revenue"]


# --------------------------------------------------------------------------- PostgreSQL

# the server: tests/conftest.py's ``postgres`` fixture

@pytest.mark.slow
@pytest.mark.postgres
@needs_superstore
def test_postgres_profit_findings_equal_duckdb(postgres, superstore, tmp_path):
    """The CSV's own text columns, parsed on PostgreSQL (dates, money, the discount rate)."""
    import psycopg
    from salesnb.config import config_from_dict
    raw_text = SUPERSTORE.read_bytes().decode("cp1252")
    header = raw_text.splitlines()[0].split(",")
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("CREATE TABLE profit_superstore_raw (" + ", ".join('"' + h + '" text' for h in header) + ")")
        with con.cursor().copy("COPY profit_superstore_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(raw_text.encode("utf-8"))
    params = yaml.safe_load(SUPERSTORE_PARAMS.read_text())
    config = config_from_dict({"name": "superstore", "engine": postgres.url("salesnb"),
                               "query": "SELECT * FROM profit_superstore_raw", "columns": params["columns"]})
    got = build_findings(config, "2017Q4", sections=("revenue",))["revenue"]["profit"]
    assert_same(superstore["2017Q4"]["revenue"]["profit"], got)


# --------------------------------------------------------------------------- invariants (hypothesis)

LINE = st.tuples(st.sampled_from([0, 1, 2]),                      # window: 0 previous, 1 current, 2 outside
                 st.sampled_from(["A", "B", "C", None]),           # customer
                 st.sampled_from(["X", "Y", "Z", None]),           # product
                 st.integers(-2, 5),                               # quantity
                 st.integers(-500, 2000),                          # revenue in cents
                 st.integers(-800, 800) | st.none(),               # profit in cents (None: unreadable)
                 st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.45, None]))


def _dataset(lines):
    import datetime as dt
    from types import SimpleNamespace

    import ibis
    days = {0: dt.datetime(2024, 2, 10), 1: dt.datetime(2024, 5, 10), 2: dt.datetime(2023, 12, 1)}
    frame = pd.DataFrame([{"order_id": f"o{i}", "order_date": days[w], "customer_id": c, "product": p,
                           "region": "R" if i % 2 else "S", "quantity": float(q), "revenue": r / 100,
                           "profit": None if pr is None else pr / 100, "discount": d}
                          for i, (w, c, p, q, r, pr, d) in enumerate(lines)])
    schema = {"order_id": "string", "order_date": "timestamp", "customer_id": "string", "product": "string",
              "region": "string", "quantity": "float64", "revenue": "float64", "profit": "float64",
              "discount": "float64"}
    con = ibis.duckdb.connect()
    table = con.create_table("lines", ibis.memtable(frame, schema=schema))
    config = SimpleNamespace(has_profit=True, columns={"profit": "p"}, pvm_dimension=None)
    return SimpleNamespace(table=table, config=config, dimensions=["region", "product"], has_customers=True,
                           has_quantity=True), frame


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, min_size=1, max_size=30))
def test_parts_always_add_up(lines):
    """Random lines of two quarters: the bands and every dimension's values sum to the period's
    profit and revenue, and both bridges to the profit change, to the cent."""
    import datetime as dt

    from salesnb.metrics.profit import profit_findings
    from salesnb.metrics.windows import Window
    ds, frame = _dataset(lines)
    cur, prev = Window("2024Q2", dt.date(2024, 4, 1), dt.date(2024, 7, 1)), Window("2024Q1", dt.date(2024, 1, 1),
                                                                                   dt.date(2024, 4, 1))
    wins = {"current": cur, "previous": {"window": prev}, "year_ago": {"window": None}}
    p, tables = profit_findings(ds, wins)
    now, before = frame[frame["order_date"] == "2024-05-10"], frame[frame["order_date"] == "2024-02-10"]
    assert p["profit"] == pytest.approx(now["profit"].sum(), abs=CENT)
    assert p["revenue"] == pytest.approx(now["revenue"].sum(), abs=CENT)
    assert p["lines_without_profit"] == int(now["profit"].isna().sum())
    assert p["previous"]["profit"] == pytest.approx(before["profit"].sum(), abs=CENT)
    for dim in ("region", "product"):
        assert math.fsum(r["profit"] for r in p["by_dimension"][dim]) == pytest.approx(p["profit"], abs=CENT)
    bands = p["discount"]["bands"]
    assert math.fsum(b["revenue"] for b in bands) == pytest.approx(p["revenue"], abs=CENT)
    assert math.fsum(b["profit"] for b in bands) == pytest.approx(p["profit"], abs=CENT)
    assert sum(b["lines"] for b in bands) == len(now)
    change = p["change"]["previous"]["profit"]
    b = p["bridge"]["previous"]
    assert abs(b["total_change"] - change) < CENT
    assert abs(math.fsum(b["customers"][k] for k in bridge.CUSTOMER_PARTS) - change) < CENT
    assert abs(math.fsum(b["pvm"][k] for k in bridge.PVM_PARTS) - change) < CENT
    lm = p["loss_makers"]
    per = now.assign(product=now["product"].fillna("(missing)")).groupby("product")["profit"].sum(min_count=1)
    assert lm["count"] == int((per < 0).sum())
    assert lm["loss"] == pytest.approx(-per[per < 0].sum(), abs=CENT)
