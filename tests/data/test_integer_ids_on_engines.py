"""Integer ids stay integers on every engine (issue 24 item 2, salesnb.metrics.ids): the typed
shape (bigint order ids, integer customer ids, DATE order dates) loaded as typed tables on
PostgreSQL and Spark gives the findings DuckDB gives on the Parquet file."""
from __future__ import annotations

import io

import pytest

from salesnb.config import config_from_dict
from salesnb.data import load_data
from salesnb.data.sample_shapes import write_shape
from salesnb.findings import build_findings
from support.compare import assert_same
from support.shapes import COLUMNS
from support.spark import skip_without_spark

PERIOD = "2024Q3"
SECTIONS = ("revenue", "customers", "recommendations")


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed-engines")
    path = folder / "typed.parquet"
    write_shape(path, "typed-nonatomic", rows=20_000, seed=3)
    config = config_from_dict({"name": "typed", "source": str(path), "columns": {c: c for c in COLUMNS}})
    with load_data(config) as ds:
        assert ds.table.schema()["customer_id"].is_integer()
        duck = build_findings(config, PERIOD, dataset=ds, sections=SECTIONS).data
    return path, duck


def _typed_findings(config) -> dict:
    """The findings on ``config``'s engine, whose canonical ids must be integers there too."""
    with load_data(config) as ds:
        schema = ds.table.schema()
        assert schema["order_id"].is_integer() and schema["customer_id"].is_integer()
        return build_findings(config, PERIOD, dataset=ds, sections=SECTIONS).data


def _compare(duck, got):
    for key in ("revenue", "customers", "recommendations", "period", "comparison"):
        assert_same(duck[key], got[key], key)
    assert_same(duck["data"]["notes"], got["data"]["notes"], "data.notes")


@pytest.mark.postgres
def test_postgres_typed_ids_give_the_duckdb_findings(typed, postgres):
    import psycopg
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    path, duck = typed
    buf = io.BytesIO()
    pacsv.write_csv(pq.read_table(path), buf)
    types = {"order_id": "bigint", "order_date": "date", "customer_id": "integer", "quantity": "integer",
             "unit_price": "double precision", "revenue": "double precision"}
    cols = ", ".join(f'"{c}" {types.get(c, "text")}' for c in pq.read_schema(path).names)
    with psycopg.connect(postgres.conninfo("salesnb"), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS typed_ids")
        con.execute(f"CREATE TABLE typed_ids ({cols})")
        with con.cursor().copy("COPY typed_ids FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(buf.getvalue())
    config = config_from_dict({"name": "typed", "engine": postgres.url("salesnb"), "query": "SELECT * FROM typed_ids",
                               "columns": {c: c for c in COLUMNS}})
    _compare(duck, _typed_findings(config))


@pytest.mark.spark
def test_spark_typed_ids_give_the_duckdb_findings(typed):
    skip_without_spark()
    path, duck = typed
    config = config_from_dict({"name": "typed", "source": str(path), "engine": "local[2]",
                               "columns": {c: c for c in COLUMNS}})
    _compare(duck, _typed_findings(config))
