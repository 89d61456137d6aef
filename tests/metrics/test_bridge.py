"""Revenue bridge (SPEC 9.1, ``revenue.bridge``) and leaders over time (``revenue.leaders``).

- Property tests (hypothesis): random order lines of two windows (returns, lines without a
  customer or an item, missing, zero and negative quantities, lines outside both windows) → the
  customer bridge and the price-volume-mix parts equal an independent exact computation (Python
  fractions of the SPEC's formulas) and add up to the change, on DuckDB, on PostgreSQL (when its
  binaries and psycopg are installed; tests/conftest.py starts the server) and on Spark (when
  pyspark and Java are installed).
- Hand-worked golden case: new item, discontinued item, item with returns only, item without a
  value, customer without id, through load_data and build_findings (order rows and lines).
- Real data recomputed with pandas from the files: Superstore 2017Q4 vs 2017Q3 and vs 2016Q4,
  Online Retail 2011Q4 (like-for-like windows, returns, missing customers, no year-ago window);
  leaders for Superstore (no reps: every dimension) and the sample (reps).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesnb.config import load_config
from salesnb.errors import ConfigError
from salesnb.findings import build_findings
from salesnb.metrics import bridge
from salesnb.metrics.windows import Window
from support.bridge_golden import COLUMNS, GOLDEN, superstore_lines
from support.paths import PARAMS, ROOT
from support.paths import SHARED_DATA as SHARED
from support.spark import skip_without_spark

SUPERSTORE = SHARED / "superstore" / "Sample - Superstore.csv"
ONLINE_RETAIL = SHARED / "online-retail" / "online_retail.parquet"
SAMPLE = ROOT / "data" / "sample.parquet"

W0 = Window("2024Q1", dt.date(2024, 1, 1), dt.date(2024, 4, 1))   # comparison
W1 = Window("2024Q2", dt.date(2024, 4, 1), dt.date(2024, 7, 1))   # current
OUTSIDE = dt.date(2023, 12, 15)
CENT = 0.005


# --------------------------------------------------------------------------- an independent reference

def ref_customers(lines):
    """SPEC 9.1's customer bridge from (window, customer, revenue) triples; window 0 = comparison."""
    r = defaultdict(lambda: [0, 0])
    has = defaultdict(lambda: [False, False])
    unid = [0, 0]
    for w, cust, rev in lines:
        if cust is None:
            unid[w] += rev
        else:
            r[cust][w] += rev
            has[cust][w] = True
    parts = dict.fromkeys(bridge.CUSTOMER_PARTS, 0)
    counts = dict.fromkeys(bridge.CUSTOMER_PARTS[:4], 0)
    for cust, (r0, r1) in r.items():
        h0, h1 = has[cust]
        name = ("gained" if not h0 else "lost" if not h1 else "expansion" if r1 > r0 else "contraction")
        parts[name] += (-r0 if name == "lost" else r1 if name == "gained" else r1 - r0)
        counts[name] += 1
    parts["unidentified"] = unid[1] - unid[0]
    return parts, counts


def ref_pvm(lines):
    """SPEC 9.1's price-volume-mix totals from (window, item, quantity or None, revenue)."""
    R = defaultdict(lambda: [0, 0])
    Q = defaultdict(lambda: [0, 0])
    has = defaultdict(lambda: [False, False])
    for w, item, q, rev in lines:
        item = "(missing)" if item is None else item
        R[item][w] += rev
        Q[item][w] += 0 if q is None else q
        has[item][w] = True
    out = dict.fromkeys(bridge.PVM_PARTS, 0)
    cont = []
    for item in R:
        (r0, r1), (q0, q1), (h0, h1) = R[item], Q[item], has[item]
        if h1 and not h0:
            out["new_items"] += r1
        elif h0 and not h1:
            out["discontinued_items"] -= r0
        elif q0 > 0 and q1 > 0:
            cont.append((q0, q1, r0, r1))
        else:
            out["other"] += r1 - r0
    if cont:
        Q0, Q1 = sum(c[0] for c in cont), sum(c[1] for c in cont)
        pbar0 = sum(c[2] for c in cont) / Q0
        out["volume"] = (Q1 - Q0) * pbar0
        out["mix"] = sum(q1 * (r0 / q0) for q0, q1, r0, _ in cont) - Q1 * pbar0
        out["price"] = sum(q1 * (r1 / q1 - r0 / q0) for q0, q1, r0, r1 in cont)
    return out


# --------------------------------------------------------------------------- property tests

LINE = st.tuples(
    st.sampled_from([0, 0, 1, 1, 2]),                        # window (2: outside both)
    st.integers(0, 89),                                      # day in the window
    st.sampled_from([None, "a", "b", "c", "d", "e"]),        # customer
    st.sampled_from([None, "x", "y", "z", "w", "v"]),        # item
    st.sampled_from([None, -3, -1, 0, 1, 2, 5, Fraction(3, 2)]),  # quantity
    st.integers(-5_000, 20_000),                             # revenue in cents (negative: a return)
)


SCHEMA = {"order_id": "string", "order_date": "timestamp", "customer_id": "string", "product": "string",
          "quantity": "float64", "revenue": "float64"}


def _frame(lines) -> pd.DataFrame:
    rows = []
    for i, (w, day, cust, item, q, cents) in enumerate(lines):
        date = OUTSIDE if w == 2 else (W0, W1)[w].start + dt.timedelta(days=day)
        rows.append({"order_id": f"o{i}", "order_date": pd.Timestamp(date) + pd.Timedelta(hours=day % 24),
                     "customer_id": cust, "product": item, "quantity": None if q is None else float(q),
                     "revenue": cents / 100})
    frame = pd.DataFrame(rows, columns=["order_id", "order_date", "customer_id", "product", "quantity", "revenue"])
    frame["quantity"] = frame["quantity"].astype("float64")
    frame["revenue"] = frame["revenue"].astype("float64")
    return frame


def check_identities(table, lines):
    """The engine's bridges of ``table`` (the lines of ``lines``) against the reference."""
    inside = [(w, cust, item, q, Fraction(cents, 100)) for w, _, cust, item, q, cents in lines if w != 2]
    change = sum(r for w, *_, r in inside if w == 1) - sum(r for w, *_, r in inside if w == 0)
    # customers: exact, as the engine sums DECIMALs
    (c,) = bridge.customer_bridges(table, W1, [W0])
    want, counts = ref_customers([(w, cust, r) for w, cust, _, _, r in inside])
    assert {k: Fraction(v) for k, v in c["parts"].items()} == want
    assert c["counts"] == counts
    assert sum(c["parts"].values()) == c["current"] - c["comparison"]
    assert Fraction(c["current"] - c["comparison"]) == change
    # price-volume-mix: the exact parts to 1e-12, the sum to the change
    items = bridge.item_aggregate(table, "product", [W1, W0])
    p = bridge.pvm_bridge(items, 0, 1)
    ref = ref_pvm([(w, item, q, r) for w, _, item, q, r in inside])
    for name in bridge.PVM_PARTS:
        assert abs(Fraction(p["totals"][name]) - ref[name]) < Fraction(1, 10**12), name
    assert abs(Fraction(sum(p["totals"].values())) - change) < Fraction(1, 10**12)
    # the per-item effects sum to their totals; the floats of the findings add up to the cent
    for name in bridge.PVM_PARTS:
        assert abs(sum(v for _, v in p["effects"][name]) - p["totals"][name]) < Decimal("1e-12")
    assert abs(sum(float(v) for v in p["totals"].values()) - float(change)) < CENT
    assert abs(sum(float(v) for v in c["parts"].values()) - float(change)) < CENT


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=40))
def test_bridges_reconcile_on_duckdb(lines):
    import ibis
    check_identities(ibis.memtable(_frame(lines), schema=SCHEMA), lines)


@pytest.fixture(scope="module")
def pg_con(postgres):
    import ibis
    con = ibis.postgres.connect(host=str(postgres.root), port=postgres.port, user="postgres", database="salesnb")
    yield con
    con.disconnect()


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=40))
def test_bridges_reconcile_on_postgres(pg_con, lines):
    import ibis
    table = pg_con.create_table("bridge_lines", ibis.memtable(_frame(lines), schema=SCHEMA), temp=True, overwrite=True)
    check_identities(table, lines)


@pytest.fixture(scope="module")
def spark_con():
    """An Ibis connection to the process's one SparkSession (local[1]); skips without pyspark or Java."""
    skip_without_spark()
    import ibis
    from salesnb.data.backends import spark as engines
    yield ibis.pyspark.connect(engines.spark_session("local[1]"))
    engines.stop_spark()


@pytest.mark.spark
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=40))
def test_bridges_reconcile_on_spark(spark_con, lines):
    import ibis
    table = spark_con.create_view("bridge_lines", ibis.memtable(_frame(lines), schema=SCHEMA), overwrite=True)
    check_identities(table, lines)


# --------------------------------------------------------------------------- golden case by hand



@pytest.mark.parametrize("order_rows", [True, False])
def test_golden_bridge_by_hand(make_params, monkeypatch, order_rows):
    """A (100 → 150): expansion +50; B (80 → 80): contraction 0; C (60 → none): lost −60; D (new, 40)
    and E (a return only, −20): gained +20; F (−5 → −8): contraction −3; no customer (10 → 25):
    unidentified +15. Change 275 − 250 − 3 = 22.
    Items: X (10 @ 10 → 15 @ 10) and Y (4 @ 20 → 2 @ 40) continue: Q0 = 14, Q1 = 17, P̄0 = 180/14:
    volume = 3 · 90/7 = 270/7, mix = (15·10 + 2·20) − 17 · 90/7 = −200/7, price = 2 · 20 = 40.
    N new (+40) and R returns only, new (−20): new_items 20; Z discontinued −60; "(missing)"
    (no quantity, 10 → 25) and S (−1 → −1 units) are other: 15 − 3 = 12."""
    from salesnb.metrics import orders
    monkeypatch.setattr(orders, "USE_ORDER_ROWS", order_rows)
    f = build_findings(make_params(GOLDEN, columns=COLUMNS), "2024Q2", sections=("revenue",))
    b = f["revenue"]["bridge"]
    assert b["year_ago"] is None  # 2023Q2 is outside the data
    p = b["previous"]
    assert p["window"] == {"start": "2024-01-01", "end": "2024-03-31"} and p["label"] == "2024Q1"
    assert p["current_window"] == {"start": "2024-04-01", "end": "2024-06-30"}
    assert p["total_change"] == pytest.approx(22, abs=1e-9)
    assert (p["comparison_revenue"], p["current_revenue"]) == (pytest.approx(245), pytest.approx(267))
    c = p["customers"]
    assert {k: c[k] for k in bridge.CUSTOMER_PARTS} == {"gained": 20, "lost": -60, "expansion": 50,
                                                      "contraction": -3, "unidentified": 15}
    assert c["counts"] == {"gained": 2, "lost": 1, "expansion": 1, "contraction": 2}
    assert c["unidentified_revenue"] == {"comparison": 10, "current": 25}
    assert c["largest"] == "lost"
    v = p["pvm"]
    assert v["dimension"] == "product"
    assert v["volume"] == pytest.approx(270 / 7, abs=1e-9) and v["mix"] == pytest.approx(-200 / 7, abs=1e-9)
    assert (v["price"], v["new_items"], v["discontinued_items"], v["other"]) == (40, 20, -60, 12)
    assert v["counts"] == {"continuing": 2, "new_items": 2, "discontinued_items": 1, "other": 2}
    assert v["continuing_units"] == {"comparison": 14, "current": 17}
    assert v["top"]["price"] == [{"item": "Y", "value": 40}, {"item": "X", "value": 0}]
    assert v["top"]["new_items"] == [{"item": "N", "value": 40}, {"item": "R", "value": -20}]
    assert v["top"]["other"] == [{"item": "(missing)", "value": 15}, {"item": "S", "value": -3}]
    # per item: X's volume share 10/14, Y's 4/14; mix (s1 − s0)·Q1·(P0 − P̄0)
    vol = {e["item"]: e["value"] for e in v["top"]["volume"]}
    assert vol == {"X": pytest.approx(10 / 14 * 270 / 7), "Y": pytest.approx(4 / 14 * 270 / 7)}
    mix = {e["item"]: e["value"] for e in v["top"]["mix"]}
    assert mix == {"X": pytest.approx((15 / 17 - 10 / 14) * 17 * (10 - 90 / 7)),
                   "Y": pytest.approx((2 / 17 - 4 / 14) * 17 * (20 - 90 / 7))}
    assert sum(v[k] for k in bridge.PVM_PARTS) == pytest.approx(22, abs=1e-9)
    items = f.tables["revenue_bridge_items"]
    assert set(items["effect"]) == set(bridge.PVM_PARTS) and set(items["comparison"]) == {"previous"}


def test_pvm_needs_quantity_and_items(make_params):
    cols = {k: v for k, v in COLUMNS.items() if k != "quantity"}
    p = build_findings(make_params(GOLDEN, columns=cols), "2024Q2", sections=("revenue",))["revenue"]["bridge"]["previous"]
    assert p["pvm"] is None and "quantity" in p["pvm_note"]
    assert p["customers"]["gained"] == 20 and p["total_change"] == pytest.approx(22)
    cols = {k: v for k, v in COLUMNS.items() if k != "customer_id"}
    p = build_findings(make_params(GOLDEN, columns=cols, params_name="p2.yaml"), "2024Q2",
                       sections=("revenue",))["revenue"]["bridge"]["previous"]
    assert p["customers"] is None and p["pvm"]["price"] == 40 and p["total_change"] == pytest.approx(22)


def test_pvm_dimension_key(make_params):
    cols = {**COLUMNS, "category": "item"}
    f = build_findings(make_params(GOLDEN, columns=cols, pvm_dimension="category"), "2024Q2", sections=("revenue",))
    assert f["revenue"]["bridge"]["previous"]["pvm"]["dimension"] == "category"
    with pytest.raises(ConfigError, match="pvm_dimension 'segment'.*not a dimension mapped"):
        load_config(make_params(GOLDEN, columns=COLUMNS, pvm_dimension="segment", params_name="p3.yaml"))


def test_all_history_has_no_bridge(make_params):
    f = build_findings(make_params(GOLDEN, columns=COLUMNS), "all", sections=("revenue",))
    assert f["revenue"]["bridge"] == {"previous": None, "year_ago": None}


# --------------------------------------------------------------------------- real data, with pandas

def _pandas_bridge(frame, start0, end0, start1, end1):
    """Both bridges from a pandas frame with date, customer (NaN = none), item, quantity, revenue."""
    def win(a, b):
        return frame[(frame["date"] >= pd.Timestamp(a)) & (frame["date"] < pd.Timestamp(b))]
    f0, f1 = win(start0, end0), win(start1, end1)
    lines = [(0, r) for r in f0.itertuples(index=False)] + [(1, r) for r in f1.itertuples(index=False)]
    cust = ref_customers([(w, None if pd.isna(r.customer) else r.customer, r.revenue) for w, r in lines])
    pvm = ref_pvm([(w, None if pd.isna(r.item) else r.item, None if pd.isna(r.quantity) else r.quantity, r.revenue)
                   for w, r in lines])
    return cust, pvm, f1["revenue"].sum() - f0["revenue"].sum()


def _check_against_pandas(entry, want, revenue, which):
    (cust, counts), pvm, change = want
    assert entry["total_change"] == pytest.approx(change, abs=CENT)
    other = revenue["previous" if which == "previous" else "year_ago"]["total"]
    assert entry["total_change"] == pytest.approx(revenue["total"] - other, abs=CENT)
    for k in bridge.CUSTOMER_PARTS:
        assert entry["customers"][k] == pytest.approx(cust[k], abs=CENT), k
    assert entry["customers"]["counts"] == counts
    for k in bridge.PVM_PARTS:
        assert entry["pvm"][k] == pytest.approx(pvm[k], abs=CENT), k
    assert sum(entry["customers"][k] for k in bridge.CUSTOMER_PARTS) == pytest.approx(entry["total_change"], abs=CENT)
    assert sum(entry["pvm"][k] for k in bridge.PVM_PARTS) == pytest.approx(entry["total_change"], abs=CENT)


@pytest.fixture(scope="module")
def superstore_frame():
    return superstore_lines()


@pytest.fixture(scope="module")
def superstore_findings():
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    return build_findings(PARAMS / "superstore.yaml", "2017Q4", sections=("revenue",))


@pytest.mark.slow
def test_superstore_2017q4_bridges_equal_pandas(superstore_frame, superstore_findings):
    rev = superstore_findings["revenue"]
    b = rev["bridge"]
    assert b["previous"]["window"] == {"start": "2017-07-01", "end": "2017-09-30"}
    assert b["year_ago"]["window"] == {"start": "2016-10-01", "end": "2016-12-31"}
    assert b["previous"]["pvm"]["dimension"] == "product"
    want = _pandas_bridge(superstore_frame, "2017-07-01", "2017-10-01", "2017-10-01", "2018-01-01")
    _check_against_pandas(b["previous"], want, rev, "previous")
    want = _pandas_bridge(superstore_frame, "2016-10-01", "2017-01-01", "2017-10-01", "2018-01-01")
    _check_against_pandas(b["year_ago"], want, rev, "year_ago")
    assert b["year_ago"]["customers"]["unidentified"] == 0  # every Superstore line has a customer


@pytest.mark.slow
def test_online_retail_2011q4_like_for_like_equal_pandas():
    if not ONLINE_RETAIL.is_file():
        pytest.skip(f"shared data not found: {ONLINE_RETAIL}")
    f = build_findings(PARAMS / "online_retail.yaml", "2011Q4", sections=("revenue",))
    rev = f["revenue"]
    b = rev["bridge"]
    # the data ends on 2011-12-09: like for like, 1 Jul .. 8 Sep; a year ago starts before the data
    assert b["previous"]["window"] == {"start": "2011-07-01", "end": "2011-09-08"}
    assert b["previous"]["current_window"] == {"start": "2011-10-01", "end": "2011-12-09"}
    assert b["year_ago"] is None and f["comparison"]["year_ago"]["available"] is False
    d = pd.read_parquet(ONLINE_RETAIL)
    frame = pd.DataFrame({"date": d["InvoiceDate"], "customer": d["CustomerID"], "item": d["StockCode"],
                          "quantity": d["Quantity"], "revenue": (d["Quantity"] * d["UnitPrice"]).round(6)})
    want = _pandas_bridge(frame, "2011-07-01", "2011-09-09", "2011-10-01", "2011-12-10")
    _check_against_pandas(b["previous"], want, rev, "previous")
    c = b["previous"]["customers"]
    assert c["unidentified"] != 0 and c["lost"] < 0 and b["previous"]["pvm"]["other"] != 0  # returns, no ids


# --------------------------------------------------------------------------- leaders

def _pandas_leaders(frame, dim, quarters, by=None):
    out = {}
    for label, (a, b) in quarters.items():
        q = frame[(frame["date"] >= pd.Timestamp(a)) & (frame["date"] < pd.Timestamp(b))]
        groups = [(None, q)] if by is None else sorted(q.groupby(by), key=lambda g: g[0])
        for key, g in groups:
            s = g.groupby(dim)["revenue"].sum()
            best = sorted(s.items(), key=lambda kv: (-round(kv[1], 6), kv[0]))[0]
            out[(label, key)] = (best[0], best[1], best[1] / g["revenue"].sum() * 100)
    return out


def _quarters(first_year, first_q, n):
    out, y, q = {}, first_year, first_q
    for _ in range(n):
        start = dt.date(y, 3 * q - 2, 1)
        end = dt.date(y + (q == 4), (3 * q) % 12 + 1, 1)
        out[f"{y}Q{q}"] = (start, end)
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def _check_leaders(leaders, dim, want, per_region: bool):
    for e in leaders["quarters"]:
        top = e["top"][dim]
        if per_region:
            got = {(e["quarter"], r["region"]): (r["value"], r["revenue"], r["share_pct"]) for r in top["by_region"]}
        else:
            o = top["overall"]
            got = {(e["quarter"], None): (o["value"], o["revenue"], o["share_pct"])}
        for key, (value, revenue, share) in got.items():
            w = want[key]
            assert value == w[0], key
            assert revenue == pytest.approx(w[1], abs=CENT) and share == pytest.approx(w[2], abs=1e-6), key


@pytest.mark.slow
def test_superstore_leaders_equal_pandas(superstore_frame, superstore_findings):
    lead = superstore_findings["revenue"]["leaders"]
    quarters = _quarters(2016, 1, 8)
    assert [e["quarter"] for e in lead["quarters"]] == list(quarters)
    assert lead["dimensions"] == ["region", "segment", "category", "product"] and lead["by_region"]
    assert not any(e["partial"] for e in lead["quarters"])
    for e in lead["quarters"]:
        a, b = quarters[e["quarter"]]
        q = superstore_frame[(superstore_frame["date"] >= pd.Timestamp(a)) & (superstore_frame["date"] < pd.Timestamp(b))]
        assert e["revenue"] == pytest.approx(q["revenue"].sum(), abs=CENT)
    assert lead["quarters"][0]["top"]["region"]["by_region"] is None
    for dim in ("region", "segment"):
        _check_leaders(lead, dim, _pandas_leaders(superstore_frame, dim, quarters), per_region=False)
    _check_leaders(lead, "segment", _pandas_leaders(superstore_frame, "segment", quarters, by="region"), per_region=True)
    table = superstore_findings.tables["revenue_leaders"]
    assert len(table) == 8 * (1 + 3 * 5)  # region overall; segment, category, product overall + 4 regions


@pytest.mark.slow
def test_sample_leaders_are_reps_equal_pandas():
    if not SAMPLE.is_file():
        pytest.skip("data/sample.parquet missing: run `make sample`")
    f = build_findings(ROOT / "params" / "sample.yaml", "2024Q3", sections=("revenue",))
    lead = f["revenue"]["leaders"]
    assert lead["dimensions"] == ["sales_rep"]
    quarters = _quarters(2022, 4, 8)
    assert [e["quarter"] for e in lead["quarters"]] == list(quarters)
    d = pd.read_parquet(SAMPLE)
    frame = pd.DataFrame({"date": pd.to_datetime(d["order_date"]), "revenue": d["revenue"].astype(float),
                          "sales_rep": d["sales_rep"], "region": d["region"]})
    _check_leaders(lead, "sales_rep", _pandas_leaders(frame, "sales_rep", quarters), per_region=False)
    _check_leaders(lead, "sales_rep", _pandas_leaders(frame, "sales_rep", quarters, by="region"), per_region=True)
    # the sample's bridges reconcile too (customers and product mix)
    for name in ("previous", "year_ago"):
        e = f["revenue"]["bridge"][name]
        assert sum(e["customers"][k] for k in bridge.CUSTOMER_PARTS) == pytest.approx(e["total_change"], abs=CENT)
        assert sum(e["pvm"][k] for k in bridge.PVM_PARTS) == pytest.approx(e["total_change"], abs=CENT)


def test_leaders_quarters_stop_at_the_data_and_the_period(make_params):
    f = build_findings(make_params(GOLDEN, columns={**COLUMNS, "sales_rep": "cust"}), "2024-05",
                       sections=("revenue",))
    lead = f["revenue"]["leaders"]
    assert [(e["quarter"], e["start"], e["end"], e["partial"]) for e in lead["quarters"]] == \
        [("2024Q1", "2024-01-01", "2024-03-31", False), ("2024Q2", "2024-04-01", "2024-05-31", True)]
    q2 = lead["quarters"][1]
    # Q2 up to May: A 150, B 80, D 40, (no id) 25, E −20, F −8 → A leads with 150 of 267
    assert q2["revenue"] == pytest.approx(267) and q2["top"]["sales_rep"]["overall"] == \
        {"value": "A", "revenue": 150, "share_pct": pytest.approx(150 / 267 * 100)}


@pytest.mark.slow
def test_leaders_ranked_on_the_engine_equal_ranked_here(superstore_findings, monkeypatch):
    """Many quarter × region × value rows are ranked on the engine: the same leaders."""
    from salesnb.metrics import leaders
    monkeypatch.setattr(leaders, "SMALL", 10)
    f = build_findings(PARAMS / "superstore.yaml", "2017Q4", sections=("revenue",))
    assert f["revenue"]["leaders"] == superstore_findings["revenue"]["leaders"]
    pd.testing.assert_frame_equal(f.tables["revenue_leaders"], superstore_findings.tables["revenue_leaders"])


@pytest.mark.slow
def test_overlapping_windows(superstore_findings):
    """A year's previous period is its year ago; a 5-quarter range's year ago overlaps its previous
    window and its own: each window is summed on its own."""
    f = build_findings(PARAMS / "superstore.yaml", "2017", sections=("revenue",))
    b = f["revenue"]["bridge"]
    assert b["previous"] == b["year_ago"] and b["previous"]["window"] == {"start": "2016-01-01", "end": "2016-12-31"}
    assert b["previous"]["total_change"] == pytest.approx(f["revenue"]["total"] - f["revenue"]["previous"]["total"],
                                                          abs=CENT)
    f = build_findings(PARAMS / "superstore.yaml", "2016Q4..2017Q4", sections=("revenue",))
    rev, b = f["revenue"], f["revenue"]["bridge"]
    assert b["year_ago"]["window"] == {"start": "2015-10-01", "end": "2016-12-31"}
    for name in ("previous", "year_ago"):
        e = b[name]
        assert e["total_change"] == pytest.approx(rev["total"] - rev[name]["total"], abs=CENT)
        assert sum(e["customers"][k] for k in bridge.CUSTOMER_PARTS) == pytest.approx(e["total_change"], abs=CENT)
        assert sum(e["pvm"][k] for k in bridge.PVM_PARTS) == pytest.approx(e["total_change"], abs=CENT)
