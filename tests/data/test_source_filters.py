"""Filters on any source column (SPEC 2.1 v2, issue 27 item 4), for sales and pipeline params.

A key of ``filters:`` that no role maps names a column of the source: its raw values are compared
as for a role (trimmed text, a list of values, ``""`` for a missing value), a typed column as the
source holds it (numbers, dates, booleans). Each filter's kept and removed rows reach the quality
record and ``findings["data"]["filters"]``; a column that is neither a role nor a source column is
a DataError when the source is read. DuckDB, PostgreSQL and Spark give the same results.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesnb.config import config_from_dict, load_config
from salesnb.data import check_data, load_data
from salesnb.errors import DataError
from salesnb.findings import build_findings
from support.paths import ROOT, SHARED_DATA
from support.spark import skip_without_spark

SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
PARAMS = ROOT / "tests" / "params" / "superstore.yaml"
needs_superstore = pytest.mark.skipif(not SUPERSTORE.is_file(), reason=f"shared data not found: {SUPERSTORE}")
PERIOD = "2017Q4"
SHIP = {"include": {"Ship Mode": ["Same Day"]}}

# --------------------------------------------------------------------------- a hand-worked CSV
# order 1 and 4 go by "Air" (one with padding), 2 by "Sea", 3 has no ship mode, 5 is unreadable
# (dropped before any filter), 6 "Road". Revenue per order: 10, 20, 30, 40, -, 60.
HAND_CSV = ("order,date,cust,amount,Ship Mode,Carrier\n"
            "1,2024-01-05,a,10,Air,DHL\n"
            "2,2024-01-06,b,20,Sea,\n"
            "3,2024-01-07,c,30,,UPS\n"
            "4,2024-01-08,a,40,  Air ,UPS\n"
            "5,not a date,d,50,Air,DHL\n"
            "6,2024-01-09,e,60,Road,DHL\n")


def _revenue(ds) -> float:
    return float(ds.table.aggregate(r=ds.table.revenue.sum()).to_pandas()["r"].iloc[0])


def test_include_on_an_unmapped_column_compares_trimmed_text(load):
    ds = load(HAND_CSV, filters={"include": {"Ship Mode": ["Air", "Sea"]}})
    q = ds.quality
    # rows 1, 2, 4 kept (row 4's "  Air " trims to "Air"); 3 and 6 filtered; 5 unreadable
    assert (q.rows_read, q.rows_used) == (6, 3)
    assert q.rows_dropped == {"unparseable date": 1, "filtered": 2}
    assert _revenue(ds) == 70.0
    assert q.filters == [{"kind": "include", "column": "Ship Mode", "role": None, "values": ["Air", "Sea"],
                          "rows": 5, "kept": 3, "removed": 2}]


def test_exclude_and_empty_value_and_order_with_a_role_filter(load):
    # exclude the rows without a carrier (""), then the customer 'a' (a role): applied in that order
    ds = load(HAND_CSV, filters={"exclude": {"Carrier": [""], "customer_id": ["a"]}})
    q = ds.quality
    assert q.rows_used == 2 and _revenue(ds) == 90.0          # orders 3 and 6
    assert q.filters == [
        {"kind": "exclude", "column": "Carrier", "role": None, "values": [""], "rows": 5, "kept": 4, "removed": 1},
        {"kind": "exclude", "column": "cust", "role": "customer_id", "values": ["a"], "rows": 4, "kept": 2,
         "removed": 2}]
    assert q.rows_dropped["filtered"] == sum(f["removed"] for f in q.filters) == 3


def test_include_and_exclude_together(load):
    ds = load(HAND_CSV, filters={"include": {"Carrier": ["DHL", "UPS"]}, "exclude": {"Ship Mode": ["Road"]}})
    q = ds.quality
    assert _revenue(ds) == 80.0                                 # orders 1, 3, 4
    assert [(f["column"], f["rows"], f["kept"], f["removed"]) for f in q.filters] == [
        ("Carrier", 5, 4, 1), ("Ship Mode", 4, 3, 1)]


def test_no_filter_no_record(load):
    assert load(HAND_CSV).quality.filters == []


def test_an_unknown_column_is_a_data_error_naming_the_file_and_the_closest_columns(make_params):
    # the params load: the source is not read yet
    config = load_config(make_params(HAND_CSV, filters={"include": {"Ship mode": ["Air"]}}))
    with pytest.raises(DataError) as err:
        check_data(config)
    text = err.value.message + " " + err.value.hint
    assert "filters.include.Ship mode" in text and "params.yaml" in text and "sales.csv" in text
    assert "Did you mean 'Ship Mode'?" in err.value.message
    assert "'Carrier'" in err.value.hint and "query:" in err.value.hint
    assert not text.rstrip().endswith(":")


def test_a_role_name_not_mapped_and_not_a_column_is_the_same_error(make_params):
    with pytest.raises(DataError, match="'region' is neither a mapped role nor a column of"):
        check_data(load_config(make_params(HAND_CSV, filters={"exclude": {"region": ["West"]}})))


def test_the_report_and_validate_say_what_each_filter_did(make_params):
    from salesnb.render.html import data_quality
    from salesnb.render.quality import render_quality
    config = load_config(make_params(HAND_CSV, filters={"include": {"Ship Mode": ["Air", "Sea"]}}, period="2024-01"))
    line = "Filter include the source column 'Ship Mode' in ['Air', 'Sea']: kept 3 of 5 rows, removed 2."
    assert line in render_quality(check_data(config), config)
    found = build_findings(config, "2024-01", sections=("revenue",))
    assert found.data["data"]["filters"][0]["kept"] == 3 and found.data["revenue"]["total"] == 70.0
    assert line.replace("'", "&#39;") in str(data_quality(found.data))


def test_the_explorer_filters_on_a_source_column(make_params):
    import salesnb
    sb = salesnb.open(make_params(HAND_CSV))
    air = sb.filter(**{"Ship Mode": "Air"}, exclude={"Carrier": ["UPS"]})
    assert air.config.filters == {"include": {"Ship Mode": ["Air"]}, "exclude": {"Carrier": ["UPS"]}}
    assert air.kpis("2024-01").loc["total", "2024-01"] == 10.0                # order 1 (order 4 goes by UPS)
    with pytest.raises(DataError, match="Did you mean 'Ship Mode'"):
        sb.filter(**{"ShipMode": "Air"}).kpis("2024-01")
    sb.close(), air.close()


# --------------------------------------------------------------------------- typed columns

def _typed_parquet(folder):
    frame = pd.DataFrame({
        "order": ["1", "2", "3", "4"],
        "date": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"]),
        "amount": [10.0, 20.0, 30.0, 40.0],
        "store": pd.array([7, 8, 7, None], dtype="Int64"),
        "weight": [1.5, 2.0, 2.5, 2.0],
        "shipped": pd.to_datetime(["2024-01-06 09:00", "2024-01-06 17:30", "2024-01-09 10:00", None]),
        "due": [dt.date(2024, 2, 1), dt.date(2024, 2, 2), dt.date(2024, 2, 1), dt.date(2024, 2, 3)],
        "gift": [True, False, False, True],
    })
    frame.to_parquet(folder / "typed.parquet")


@pytest.mark.parametrize("filters, orders", [
    ({"include": {"store": [7]}}, ["1", "3"]),
    ({"include": {"store": ["7.0", 8]}}, ["1", "2", "3"]),
    ({"exclude": {"store": [""]}}, ["1", "2", "3"]),                # "" is a missing value
    ({"include": {"weight": [2]}}, ["2", "4"]),
    ({"include": {"shipped": ["2024-01-06"]}}, ["1", "2"]),         # a date: the whole day
    ({"include": {"shipped": ["2024-01-06T17:30:00"]}}, ["2"]),
    ({"include": {"due": [dt.date(2024, 2, 1)]}}, ["1", "3"]),      # YAML's own date
    ({"exclude": {"gift": [True]}}, ["2", "3"]),
])
def test_typed_columns_compare_as_the_source_holds_them(tmp_path, filters, orders):
    _typed_parquet(tmp_path)
    config = config_from_dict({"name": "t", "source": "typed.parquet", "filters": filters,
                               "columns": {"order_id": "order", "order_date": "date", "revenue": "amount"}},
                              base_dir=tmp_path)
    with load_data(config) as ds:
        got = sorted(ds.table.select("order_id").to_pandas()["order_id"])
    assert got == orders


@pytest.mark.parametrize("key, value, what", [("store", "seven", "numbers"), ("shipped", "Jan 6", "dates"),
                                              ("gift", "maybe", "true/false values")])
def test_a_value_the_typed_column_cannot_hold_is_a_data_error(tmp_path, key, value, what):
    _typed_parquet(tmp_path)
    config = config_from_dict({"name": "t", "source": "typed.parquet", "filters": {"include": {key: [value]}},
                               "columns": {"order_id": "order", "order_date": "date", "revenue": "amount"}},
                              base_dir=tmp_path)
    with pytest.raises(DataError, match=f"filters.include.{key}: column '{key}' of .* holds {what}, and '{value}'"):
        check_data(config)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(modes=st.lists(st.tuples(st.sampled_from(["Air", "Sea", "Road", ""]), st.sampled_from(["", " ", "  "])),
                      min_size=1, max_size=12),
       wanted=st.lists(st.sampled_from(["Air", "Sea", "Road", ""]), min_size=1, max_size=3, unique=True),
       include=st.booleans())
def test_property_kept_rows_are_those_whose_trimmed_value_matches(make_params, modes, wanted, include):
    lines = [f"{i},2024-01-05,c,{i},{pad}{mode}{pad}" for i, (mode, pad) in enumerate(modes, start=1)]
    frame = pd.DataFrame({"order": range(1, len(modes) + 1), "mode": [m for m, _ in modes]})
    match = frame["mode"].isin(wanted)
    expected = frame.loc[match if include else ~match, "order"]
    params = make_params("order,date,cust,amount,mode\n" + "\n".join(lines) + "\n",
                         filters={"include" if include else "exclude": {"mode": wanted}})
    config = load_config(params)
    if expected.empty:
        with pytest.raises(DataError, match="filtered"):
            check_data(config)
        return
    with load_data(config) as ds:
        got = sorted(int(v) for v in ds.table.select("order_id").to_pandas()["order_id"])
        assert got == sorted(expected)
        assert ds.quality.filters[0]["removed"] == len(modes) - len(expected)


# --------------------------------------------------------------------------- pipeline params

def test_pipeline_filters_say_what_each_kept(tmp_path):
    (tmp_path / "deals.csv").write_text("stage,created,closed,value,office,size\n"
                                        "Won,2024-01-02,2024-02-01,100,North,3\n"
                                        "Lost,2024-01-02,2024-02-03,0,South,3\n"
                                        "Open,2024-01-04,,5, North ,4\n"
                                        ",2024-01-04,,5,North,4\n")          # no stage: dropped first
    config = config_from_dict({"name": "t", "kind": "pipeline", "source": "deals.csv",
                               "stages": {"won": ["Won"], "lost": ["Lost"]},
                               "columns": {"stage": "stage", "created_date": "created", "close_date": "closed",
                                           "value": "value"},
                               "filters": {"include": {"office": ["North"]}, "exclude": {"stage": ["Open"]}}},
                              base_dir=tmp_path)
    q = check_data(config)
    assert q.rows_dropped == {"missing stage": 1, "filtered": 2}
    assert [(f["column"], f["role"], f["rows"], f["kept"], f["removed"]) for f in q.filters] == [
        ("office", None, 3, 2, 1), ("stage", "stage", 2, 1, 1)]
    assert (q.deals["won"], q.deals["lost"], q.deals["open"]) == (1, 0, 0)
    from salesnb.render.narrative.pipeline import quality_checks
    checks = quality_checks({"data": {"deals": q.deals, "filters": q.filters, "notes": q.notes}})
    assert "Filter exclude stage (column 'stage') in ['Open']: kept 1 of 2 rows, removed 1." in checks


# --------------------------------------------------------------------------- Superstore

def _superstore(**keys):
    data = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    data.update(keys)
    return config_from_dict(data, base_dir=PARAMS.parent, params_path=str(PARAMS))


def _pandas_superstore() -> pd.DataFrame:
    frame = pd.read_csv(SUPERSTORE, encoding="cp1252", dtype=str)
    frame["day"] = pd.to_datetime(frame["Order Date"], format="%m/%d/%Y")
    frame["sales"] = frame["Sales"].astype(float)
    return frame


@pytest.fixture(scope="module")
def same_day():
    """(DuckDB findings of Superstore 2017Q4 with ``Ship Mode: Same Day``, the pandas figures)."""
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    found = build_findings(_superstore(filters=SHIP), PERIOD, sections=("revenue",))
    frame = _pandas_superstore()
    kept = frame[frame["Ship Mode"].str.strip() == "Same Day"]
    quarter = kept[(kept.day >= "2017-10-01") & (kept.day < "2018-01-01")]
    expected = {"rows": len(frame), "kept": len(kept), "revenue": quarter.sales.sum(),
                "orders": quarter.groupby("Order ID").sales.sum().gt(0).sum(),
                "customers": quarter["Customer ID"].nunique()}
    return found, expected


@pytest.mark.slow   # full Superstore findings; the fast set has the hand-worked CSV
@needs_superstore
def test_superstore_same_day_revenue_equals_pandas(same_day):
    found, expected = same_day
    rev = found.data["revenue"]
    assert rev["total"] == pytest.approx(expected["revenue"], abs=0.005)
    assert rev["orders"] == expected["orders"]
    d = found.data["data"]
    assert d["rows_used"] == expected["kept"] and d["rows_dropped"] == {"filtered": expected["rows"] - expected["kept"]}
    assert d["filters"] == [{"kind": "include", "column": "Ship Mode", "role": None, "values": ["Same Day"],
                             "rows": expected["rows"], "kept": expected["kept"],
                             "removed": expected["rows"] - expected["kept"]}]


@needs_superstore
def test_findings_without_filters_have_no_filters_key():
    found = build_findings(load_config(PARAMS), PERIOD, sections=("revenue",))
    assert "filters" not in found.data["data"]


def _same(a, b):
    assert a["data"]["filters"] == b["data"]["filters"]
    assert a["data"]["rows_used"] == b["data"]["rows_used"] and a["data"]["rows_dropped"] == b["data"]["rows_dropped"]
    for key in ("total", "orders", "units", "customers"):
        assert a["revenue"][key] == pytest.approx(b["revenue"][key], abs=0.005), key


@pytest.mark.postgres
@needs_superstore
def test_postgres_filters_on_source_columns_as_duckdb(postgres, same_day, tmp_path):
    """The CSV's text columns and a typed table on PostgreSQL: the same rows filtered as on DuckDB."""
    import psycopg
    found, _ = same_day
    raw_text = SUPERSTORE.read_bytes().decode("cp1252")
    header = raw_text.splitlines()[0].split(",")
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS filters_raw")
        con.execute("CREATE TABLE filters_raw (" + ", ".join(f'"{h}" text' for h in header) + ")")
        with con.cursor().copy("COPY filters_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(raw_text.encode("utf-8"))
        con.execute("DROP TABLE IF EXISTS filters_typed")
        con.execute('CREATE TABLE filters_typed AS SELECT *, "Row ID"::int AS row_no, '
                    'to_date("Ship Date", \'MM/DD/YYYY\') AS shipped FROM filters_raw')
    config = dataclasses.replace(_superstore(engine=postgres.url("salesnb"), filters=SHIP, source=None,
                                             query="SELECT 1"), query=None, table="filters_raw")
    with load_data(config) as ds:
        got = build_findings(config, PERIOD, dataset=ds, sections=("revenue",))
    _same(found.data, got.data)
    # typed columns: a number and a date, compared as PostgreSQL holds them, equal to DuckDB on Parquet
    frame = _pandas_superstore()
    frame["row_no"] = frame["Row ID"].astype(int)
    frame["shipped"] = pd.to_datetime(frame["Ship Date"], format="%m/%d/%Y").dt.date
    frame.drop(columns=["day", "sales"]).to_parquet(tmp_path / "typed.parquet")
    typed = {"include": {"shipped": ["2017-11-20", "2017-12-01"]}, "exclude": {"row_no": [1, 2, 3, 9000]}}
    pg = dataclasses.replace(_superstore(engine=postgres.url("salesnb"), filters=typed, source=None,
                                         query="SELECT 1"), query=None, table="filters_typed")
    duck = _superstore(source=str(tmp_path / "typed.parquet"), filters=typed)
    with load_data(pg) as a, load_data(duck) as b:
        assert a.quality.filters == b.quality.filters and a.quality.filters[0]["kept"] > 0
        assert a.quality.rows_used == b.quality.rows_used and _revenue(a) == pytest.approx(_revenue(b), abs=0.005)
    shipped = frame[frame.shipped.astype(str).isin(["2017-11-20", "2017-12-01"])]
    assert b.quality.filters[0]["kept"] == len(shipped)


@pytest.mark.spark
@needs_superstore
def test_spark_filters_on_source_columns_as_duckdb(same_day):
    skip_without_spark()
    from salesnb.data.backends import spark as engines
    found, _ = same_day
    config = _superstore(engine="local[2]", filters=SHIP)
    try:
        with load_data(config) as ds:
            got = build_findings(config, PERIOD, dataset=ds, sections=("revenue",))
        _same(found.data, got.data)
        with pytest.raises(DataError, match="Did you mean 'Ship Mode'"):
            load_data(_superstore(engine="local[2]", filters={"include": {"ShipMode": ["Same Day"]}}))
    finally:
        engines.stop_spark()


@pytest.mark.postgres
def test_pipeline_on_postgres_uses_the_same_rules(postgres, tmp_path):
    import psycopg
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS filter_deals")
        con.execute("CREATE TABLE filter_deals (stage text, closed text, value text, office text, size int)")
        con.execute("INSERT INTO filter_deals VALUES ('Won', '2024-02-01', '100', 'North', 3), "
                    "('Lost', '2024-02-03', '0', ' North', 4), ('Won', '2024-02-05', '7', 'South', 3)")
    config = config_from_dict({"name": "t", "kind": "pipeline", "engine": postgres.url("salesnb"),
                               "query": "SELECT * FROM filter_deals", "stages": {"won": ["Won"], "lost": ["Lost"]},
                               "columns": {"stage": "stage", "close_date": "closed", "value": "value"},
                               "filters": {"include": {"office": ["North"]}, "exclude": {"size": [4]}}})
    q = check_data(config)
    assert [(f["kept"], f["removed"]) for f in q.filters] == [(2, 1), (1, 1)]
    assert (q.deals["won"], q.deals["lost"]) == (1, 0) and q.deals["won_value"] == 100.0

