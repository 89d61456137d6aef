"""Other engines (salesnb.data.backends.engines): the same findings on PySpark and PostgreSQL as on DuckDB.

Superstore's revenue (and customers) findings for 2017Q4 are computed on DuckDB, on PySpark in
local mode (reading the cp1252 CSV itself) and on a real PostgreSQL server started here (a typed
canonical table loaded with COPY, and the raw CSV as text columns), and compared to the cent.
Tests skip with the reason when Java/pyspark or the PostgreSQL binaries are missing.
"""
from __future__ import annotations

import dataclasses
import io

import pytest

from salesnb.config import config_from_dict, load_config
from salesnb.data import load_data
from salesnb.errors import DataError, NoDataError
from salesnb.findings import build_findings
from support.compare import assert_same
from support.paths import ROOT, SHARED_DATA
from support.spark import spark_missing
from support.superstore import assert_superstore_loaded

SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
PARAMS = ROOT / "tests" / "params" / "superstore.yaml"
PERIOD = "2017Q4"
CANONICAL = ("order_id", "order_date", "customer_id", "revenue", "quantity", "region", "segment", "category",
             "product", "profit", "discount")

needs_superstore = pytest.mark.skipif(not SUPERSTORE.is_file(), reason=f"shared data not found: {SUPERSTORE}")


def _sections() -> tuple[str, ...]:
    try:
        from salesnb.metrics import customers  # noqa: F401
    except Exception:  # noqa: BLE001 - the customers section is not there (yet)
        return ("revenue",)
    return ("revenue", "customers")


SECTIONS = _sections()
# what the data sections must agree on whatever the engine (source, fingerprint, encoding,
# date format and duplicates depend on how the rows reached the engine)
DATA_KEYS = ("rows_read", "rows_used", "rows_dropped", "first_date", "last_date", "returns", "zero_revenue_lines",
             "missing_customer", "partial_months", "gap_months", "month_coverage", "dimensions", "revenue_total",
             "has_customers", "has_quantity")


def assert_same_findings(expected, got):
    for section in SECTIONS:
        assert_same(expected.data[section], got.data[section], section)
    for key in ("period", "comparison"):
        assert_same(expected.data[key], got.data[key], key)
    for key in DATA_KEYS:
        assert_same(expected.data["data"][key], got.data["data"][key], f"data.{key}")


def _composite_config(**overrides):
    """Superstore with the order id made of customer and day (``order_id: [Customer ID, Order Date]``)."""
    import yaml
    data = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    data["columns"]["order_id"] = ["Customer ID", "Order Date"]
    data.update(overrides)
    return config_from_dict(data, base_dir=PARAMS.parent, params_path=str(PARAMS))


@pytest.fixture(scope="module")
def duckdb_composite_findings():
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    found = build_findings(_composite_config(), PERIOD, sections=SECTIONS)
    plain = build_findings(load_config(PARAMS), PERIOD, sections=SECTIONS)
    # a different order definition: Superstore's customers place several orders on some days
    assert found.data["revenue"]["orders"] < plain.data["revenue"]["orders"]
    assert found.data["revenue"]["total"] == plain.data["revenue"]["total"]
    return found


@pytest.fixture(scope="module")
def duckdb_findings():
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    return build_findings(load_config(PARAMS), PERIOD, sections=SECTIONS)


# --------------------------------------------------------------------------- no engine needed

def test_engine_kind_and_masked_url():
    from salesnb.data.backends import engine_kind, mask_url
    assert engine_kind("local[2]") == engine_kind("spark://h:7077") == engine_kind("local") == "spark"
    assert engine_kind("postgresql://u@h/db") == engine_kind("postgres://h/db") == "postgres"
    with pytest.raises(DataError, match="not duckdb"):
        engine_kind("mysql://h/db")
    assert mask_url("postgresql://ann:s3cret@db.example:5433/sales?sslmode=require") == \
        "postgresql://ann:***@db.example:5433/sales?sslmode=require"
    assert mask_url("postgresql://ann@/sales?host=/run/pg") == "postgresql://ann@/sales?host=/run/pg"


def test_date_formats_convert_for_each_engine():
    import re

    from salesnb.data.parsing import convert_date_format
    spark, pg, rx = convert_date_format("%m/%d/%Y")
    assert (spark, pg) == ("M/d/yyyy", "MM/DD/YYYY")
    assert re.fullmatch(rx, "11/8/2016") and not re.fullmatch(rx, "2016-11-08")
    spark, pg, rx = convert_date_format("%Y-%m-%dT%H:%M:%S")
    assert spark == "yyyy-M-d'T'H:m:s" and pg == 'YYYY-MM-DD"T"HH24:MI:SS'
    assert re.fullmatch(rx, "2024-01-05T10:30:00")
    with pytest.raises(DataError, match="not supported"):
        convert_date_format("%a %d")


# --------------------------------------------------------------------------- PySpark

@pytest.fixture(scope="module")
def spark_superstore():
    reason = spark_missing()
    if reason:
        print(f"skipping the Spark tests: {reason}")
        pytest.skip(reason)
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    from salesnb.data.backends import spark as engines
    config = load_config(PARAMS, engine="local[2]")
    dataset = load_data(config)  # starts the module's one SparkSession (local[2], 4 shuffle partitions)
    session = engines.spark_session("local[2]")
    assert session.conf.get("spark.sql.shuffle.partitions") == "4"
    assert session.conf.get("spark.ui.enabled") == "false"
    yield config, dataset
    dataset.close()
    engines.stop_spark()


@pytest.mark.spark
@needs_superstore
def test_spark_loads_superstore_csv(spark_superstore):
    _, ds = spark_superstore
    q = ds.quality
    assert_superstore_loaded(q)  # a local file is fingerprinted by its bytes, as on DuckDB
    assert q.duplicates["rows"] == 0 and q.gap_months == [] and q.partial_months == []
    schema = ds.table.schema()
    assert str(schema["order_date"]) == "timestamp" and str(schema["revenue"]) == "float64"
    assert str(schema["order_id"]) == "string" and str(schema["quantity"]) == "float64"
    names = set(ds.table.select("product").distinct().to_pandas()["product"])
    assert any(ord(ch) > 127 for n in names for ch in n) and not any("\ufffd" in n for n in names)


@pytest.mark.spark
@needs_superstore
def test_spark_findings_equal_duckdb(spark_superstore, duckdb_findings):
    config, ds = spark_superstore
    got = build_findings(config, PERIOD, dataset=ds, sections=SECTIONS)
    assert_same_findings(duckdb_findings, got)
    assert got.data["data"]["sha256"] == duckdb_findings.data["data"]["sha256"]


@pytest.mark.spark
@needs_superstore
def test_spark_composite_order_id_equals_duckdb(spark_superstore, duckdb_composite_findings):
    with load_data(_composite_config(engine="local[2]")) as ds:
        got = build_findings(ds.config, PERIOD, dataset=ds, sections=SECTIONS)
    assert_same_findings(duckdb_composite_findings, got)


# The composite-id log of tests/metrics/test_orders.py: a row without its customer has no order id, and
# its example shows the parts as written. Every engine must count and show it as DuckDB does.
COMPOSITE_LOG = [("2024-01-05 09:00", "x", 10.0), ("2024-01-05 17:30", "x", -2.5), ("2024-01-06 08:00", "x", 7.0),
                 ("2024-01-05 10:00", "y", 3.0), ("2024-01-07 10:00", "", 4.0), ("2024-01-08 10:00", "a b", 1.0),
                 ("2024-01-08 11:00", "a", 2.0)]
COMPOSITE_COLUMNS = {"order_id": ["cust", "date"], "order_date": "date", "customer_id": "cust", "revenue": "amount"}


def assert_composite_log(ds):
    q = ds.quality
    assert q.rows_read == 7 and q.rows_dropped == {"missing order id": 1}
    assert q.examples["missing order id"] == ["(empty) + 2024-01-07 10:00"]
    t = ds.table
    frame = t.group_by("order_id").aggregate(n=t.count(), rev=t.revenue.sum()).to_pandas()
    got = {k.replace("\x1f", "|"): (int(n), round(float(r), 2)) for k, n, r in zip(frame.order_id, frame.n, frame.rev)}
    assert got == {"x|2024-01-05": (2, 7.5), "x|2024-01-06": (1, 7.0), "y|2024-01-05": (1, 3.0),
                   "a b|2024-01-08": (1, 1.0), "a|2024-01-08": (1, 2.0)}


@pytest.mark.spark
def test_spark_composite_order_id_drops_and_shows_a_row_missing_a_part(spark_superstore, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("date,cust,amount\n" + "".join(f"{d},{c},{a}\n" for d, c, a in COMPOSITE_LOG), encoding="utf-8")
    config = config_from_dict({"name": "log", "engine": "local[2]", "source": str(path), "columns": COMPOSITE_COLUMNS},
                              base_dir=tmp_path)
    with load_data(config) as ds:
        assert_composite_log(ds)


@pytest.mark.spark
@needs_superstore
def test_spark_reads_parquet_with_native_timestamps(spark_superstore, tmp_path):
    with load_data(load_config(PARAMS)) as duck:
        arrow = duck.table.to_pyarrow()
        import pyarrow.parquet as pq
        pq.write_table(arrow, tmp_path / "superstore.parquet")
        expected = duck.quality
    config = config_from_dict({"name": "pq", "source": str(tmp_path / "superstore.parquet"), "engine": "local[2]",
                               "columns": {k: k for k in CANONICAL}})
    with load_data(config) as ds:
        q = ds.quality
        assert (q.rows_read, q.rows_used, q.first_date, q.last_date) == \
            (9994, 9994, expected.first_date, expected.last_date)
        assert q.date_format == "native timestamp" and str(ds.table.schema()["order_date"]) == "timestamp"
        assert q.revenue_total == pytest.approx(expected.revenue_total, abs=0.005)


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture(scope="module")
def pg_superstore(postgres):
    """Two tables: ``superstore`` (the canonical columns from DuckDB, typed) and
    ``superstore_raw`` (the CSV's own columns, all text), both loaded with COPY."""
    if not SUPERSTORE.is_file():
        pytest.skip(f"shared data not found: {SUPERSTORE}")
    import psycopg
    import pyarrow.csv as pacsv
    with load_data(load_config(PARAMS)) as duck:
        arrow = duck.table.to_pyarrow()
    buf = io.BytesIO()
    pacsv.write_csv(arrow, buf)
    types = {"order_date": "timestamp", "revenue": "double precision", "quantity": "double precision",
             "unit_price": "double precision", "profit": "double precision", "discount": "double precision"}
    typed = ", ".join(f'"{n}" {types.get(n, "text")}' for n in arrow.column_names)
    raw_text = SUPERSTORE.read_bytes().decode("cp1252")
    header = raw_text.splitlines()[0].split(",")
    raw_cols = ", ".join('"' + h + '" text' for h in header)
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute(f"CREATE TABLE superstore ({typed})")
        with con.cursor().copy("COPY superstore FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(buf.getvalue())
        con.execute(f"CREATE TABLE superstore_raw ({raw_cols})")
        with con.cursor().copy("COPY superstore_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(raw_text.encode("utf-8"))
    return postgres


def _pg_config(server, *, table=None, query=None, columns=None):
    cfg = config_from_dict({"name": "superstore", "engine": server.url("salesnb"),
                            "query": query or f"SELECT * FROM {table}",
                            "columns": columns or {k: k for k in CANONICAL}})
    if table:  # `table:` without source/query (a database source)
        cfg = dataclasses.replace(cfg, query=None, table=table)
    return cfg


@pytest.mark.postgres
@needs_superstore
def test_postgres_typed_table_findings_equal_duckdb(pg_superstore, duckdb_findings):
    config = _pg_config(pg_superstore, table="superstore")
    with load_data(config) as ds:
        q = ds.quality
        assert (q.rows_read, q.rows_used, q.rows_dropped) == (9994, 9994, {})
        assert q.date_format == "native timestamp" and q.encoding is None
        # the canonical columns lose "Row ID": the one near-duplicate line becomes exact
        assert q.duplicates == {"rows": 1, "dropped": 0}
        assert "postgresql://postgres@/salesnb" in q.source and "table superstore" in q.source
        assert len(q.sha256) == 64
        got = build_findings(config, PERIOD, dataset=ds, sections=SECTIONS)
        name = ds.table_name
        assert ds.sql(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0] == 9994
    assert_same_findings(duckdb_findings, got)


@pytest.mark.postgres
@needs_superstore
def test_postgres_raw_text_query_findings_equal_duckdb(pg_superstore, duckdb_findings):
    """The CSV's own text columns: dates (M/D/YYYY) and money parsed on PostgreSQL."""
    columns = load_config(PARAMS).columns
    config = _pg_config(pg_superstore, query='SELECT * FROM superstore_raw WHERE "Row ID" IS NOT NULL',
                        columns=columns)
    with load_data(config) as ds:
        q = ds.quality
        assert (q.rows_read, q.rows_used, q.rows_dropped) == (9994, 9994, {})
        assert q.date_format == "%m/%d/%Y" and q.duplicates["rows"] == 0
        got = build_findings(config, PERIOD, dataset=ds, sections=SECTIONS)
    assert_same_findings(duckdb_findings, got)


@pytest.mark.postgres
@needs_superstore
def test_postgres_composite_order_id_equals_duckdb(pg_superstore, duckdb_composite_findings):
    """``order_id: [Customer ID, Order Date]`` on the CSV's text columns: the day is read from
    the M/D/YYYY text on PostgreSQL, the parts joined there."""
    columns = {**load_config(PARAMS).columns, "order_id": ["Customer ID", "Order Date"]}
    config = _pg_config(pg_superstore, query='SELECT * FROM superstore_raw WHERE "Row ID" IS NOT NULL', columns=columns)
    assert config.order_id_parts == ("Customer ID", "Order Date")
    with load_data(config) as ds:
        assert ds.quality.rows_dropped == {}
        assert any("an order is one combination of 'Customer ID' and the calendar day of 'Order Date'" in n for n in ds.quality.notes)
        got = build_findings(config, PERIOD, dataset=ds, sections=SECTIONS)
    assert_same_findings(duckdb_composite_findings, got)


@pytest.mark.postgres
def test_postgres_counts_unreadable_rows_and_applies_filters(postgres):
    import psycopg
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS messy")
        con.execute("CREATE TABLE messy (inv text, day text, cust text, amount text, region text)")
        con.execute("""INSERT INTO messy VALUES
            ('1', '2024-01-05', 'a', '$1,234.50', 'North'), ('2', '2024-01-06', 'b', '(10.00)', 'South'),
            ('3', 'not a date', 'c', '5', 'North'), ('4', '2024-02-30', 'c', '5', 'North'),
            ('5', '2024-01-07', 'c', 'n/a', 'North'), ('6', '2024-01-08', '', '1e400', 'North'),
            (NULL, '2024-01-09', 'd', '7', 'North'), ('8', '2024-01-10', 'e', '8', 'West'),
            ('8', '2024-01-10', 'e', '8', 'West')""")
    config = dataclasses.replace(
        config_from_dict({"name": "messy", "engine": postgres.url("salesnb"), "query": "SELECT * FROM messy",
                          "columns": {"order_id": "inv", "order_date": "day", "customer_id": "cust",
                                      "revenue": "amount", "region": "region"},
                          "filters": {"exclude": {"region": ["West"]}}}),
        query=None, table="messy")
    with load_data(config) as ds:
        q = ds.quality
        assert q.rows_read == 9
        assert q.rows_dropped == {"unparseable date": 2, "unparseable revenue": 2, "missing order id": 1,
                                  "filtered": 2}
        assert q.examples["unparseable date"] == ["2024-02-30", "not a date"]
        assert q.examples["unparseable revenue"] == ["1e400", "n/a"]
        assert q.rows_used == 2 and q.revenue_total == pytest.approx(1224.5)
        assert q.returns == {"lines": 1, "value": 10.0}
        assert q.duplicates["rows"] == 1
        assert q.missing_customer["rows"] == 0


@pytest.mark.postgres
def test_postgres_composite_order_id_drops_and_shows_a_row_missing_a_part(postgres):
    import psycopg
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS composite_log")
        con.execute("CREATE TABLE composite_log (date text, cust text, amount double precision)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO composite_log VALUES (%s, NULLIF(%s, ''), %s)", COMPOSITE_LOG)
    config = dataclasses.replace(
        config_from_dict({"name": "log", "engine": postgres.url("salesnb"), "query": "SELECT 1",
                          "columns": COMPOSITE_COLUMNS}), query=None, table="composite_log")
    with load_data(config) as ds:
        assert_composite_log(ds)
    # no row with both parts: the same error as on DuckDB, with the count and an example
    with pytest.raises(NoDataError) as err:
        load_data(dataclasses.replace(config, table=None, query="SELECT * FROM composite_log WHERE cust IS NULL"))
    assert "all 1 rows were dropped (missing order id: 1 (e.g. '(empty) + 2024-01-07 10:00'))" in str(err.value)
    assert "check the column mapping" in err.value.hint


@pytest.mark.postgres
def test_postgres_unreachable_server_is_one_clear_message(tmp_path):
    pytest.importorskip("psycopg")
    config = dataclasses.replace(
        config_from_dict({"name": "x", "engine": f"postgresql://nobody@/nodb?host={tmp_path}&port=1",
                          "query": "SELECT 1", "columns": {"order_id": "a", "order_date": "b", "revenue": "c"}}))
    with pytest.raises(DataError, match="Cannot connect to PostgreSQL"):
        load_data(config)


# --------------------------------------------------------------------------- the same rules as DuckDB

RULES_CSV = ("order,date,cust,amount\nA1,2024-01-05,c1,10\nA2,2024-01-06,N/A,5\nA3,9999-12-31,c2,7\n"
             "A4,2024-01-07,c3,1e16\nA5,2024-01-08,c4,20\n")
RULES_COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount"}


def assert_same_rules_as_duckdb(q):
    """A placeholder year (9999) is an implausible date, a line of 1e16 is out of range, and
    "N/A" is a missing customer, on every engine (SPEC 2.3, written once in salesnb.data.rules)."""
    assert q.rows_read == 5 and q.rows_used == 3
    assert q.rows_dropped == {"implausible date": 1, "revenue out of range": 1}
    assert q.examples["implausible date"] == ["9999-12-31"]
    assert q.missing_customer["rows"] == 1 and q.missing_customer["revenue"] == pytest.approx(5.0)
    assert q.revenue_total == pytest.approx(35.0)


def test_duckdb_drops_implausible_dates_out_of_range_lines_and_missing_words(tmp_path):
    (tmp_path / "rules.csv").write_text(RULES_CSV, encoding="utf-8")
    config = config_from_dict({"name": "rules", "source": "rules.csv", "columns": RULES_COLUMNS,
                               "date_format": "%Y-%m-%d"}, base_dir=tmp_path)
    with load_data(config) as ds:
        assert_same_rules_as_duckdb(ds.quality)


@pytest.mark.spark
def test_spark_applies_the_same_rules_as_duckdb(spark_superstore, tmp_path):
    (tmp_path / "rules.csv").write_text(RULES_CSV, encoding="utf-8")
    config = config_from_dict({"name": "rules", "engine": "local[2]", "source": str(tmp_path / "rules.csv"),
                               "columns": RULES_COLUMNS, "date_format": "%Y-%m-%d"}, base_dir=tmp_path)
    with load_data(config) as ds:
        assert_same_rules_as_duckdb(ds.quality)


@pytest.mark.postgres
def test_postgres_applies_the_same_rules_as_duckdb(postgres):
    import psycopg
    rows = [line.split(",") for line in RULES_CSV.splitlines()[1:]]
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS rules_log")
        con.execute('CREATE TABLE rules_log ("order" text, date text, cust text, amount text)')
        with con.cursor() as cur:
            cur.executemany("INSERT INTO rules_log VALUES (%s, %s, %s, %s)", rows)
    config = dataclasses.replace(
        config_from_dict({"name": "rules", "engine": postgres.url("salesnb"), "query": "SELECT 1",
                          "columns": RULES_COLUMNS, "date_format": "%Y-%m-%d"}), query=None, table="rules_log")
    with load_data(config) as ds:
        assert_same_rules_as_duckdb(ds.quality)
