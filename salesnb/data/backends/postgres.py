"""The PostgreSQL backend: a psycopg (v3) connection wrapped by Ibis, the ``table:`` or
``query:`` it reads, and the temporary tables that hold a load's results.

Text sorts by the database collation on PostgreSQL (``en_US`` ignores punctuation) and by code
point on DuckDB and Spark; the RFM quintiles break ties by ``customer_id``, so the canonical
table declares its text columns ``COLLATE "C"``.
"""
from __future__ import annotations

import secrets

from ...config import Config
from ...errors import DataError
from . import _Source, _named_table, _query_source, mask_url

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.salesnb_try_timestamp(v text, f text) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN to_timestamp(v, f) AT TIME ZONE 'UTC';
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION pg_temp.salesnb_try_float(v text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN v::double precision;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
"""


def postgres_connect(url: str):
    """An Ibis PostgreSQL backend over a psycopg (v3) connection opened with the libpq URL."""
    try:
        import psycopg
    except ImportError:
        raise DataError(f"engine {mask_url(url)!r} needs psycopg (v3), which is not installed.",
                        hint="pip install 'salesnb[postgres]' (Ibis 12's PostgreSQL backend uses psycopg 3)") from None
    import ibis
    try:
        con = psycopg.connect(url, autocommit=True)
    except Exception as exc:  # noqa: BLE001 - psycopg.OperationalError and friends
        text = " ".join(str(exc).split())[:300]
        raise DataError(f"Cannot connect to PostgreSQL at {mask_url(url)}: {text}",
                        hint="check the engine: URL (user, host, port, database) and that the server runs; "
                             "a password can come from ~/.pgpass or PGPASSWORD instead of the URL") from None
    with con.cursor() as cur:
        cur.execute(_PG_FUNCTIONS)
    return ibis.postgres.from_connection(con)


def _postgres_source(con, config: Config) -> _Source:
    url = mask_url(config.engine)
    if config.query:
        return _query_source(con, config.query, f"PostgreSQL {url}", "PostgreSQL")
    if not config.table:
        raise DataError(f"engine {url!r} needs 'table:' or 'query:' in the params file.",
                        hint="add table: sales (or schema.sales), or query: SELECT …")
    return _Source(_named_table(con, config.table, url), f"table {config.table} on {url}", [], None)


def materialise(con, expr, collate: bool = False):
    """``expr`` computed once into a temporary table: (its Ibis table, its name, release()). With
    ``collate`` its text columns sort by code point (``COLLATE "C"``), as on DuckDB."""
    name = f"salesnb_{'sales' if collate else 'parsed'}_{secrets.token_hex(4)}"
    sql = con.compile(expr)
    parts = []
    for col, dtype in expr.schema().items():
        q = '"' + col.replace('"', '""') + '"'
        parts.append(f'{q} COLLATE "C" AS {q}' if collate and dtype.is_string() else q)
    try:
        with con.con.cursor() as cur:
            cur.execute(f'CREATE TEMP TABLE "{name}" AS SELECT {", ".join(parts)} FROM ({sql}) AS _c')
            cur.execute(f'ANALYZE "{name}"')
    except Exception as exc:  # noqa: BLE001 - psycopg errors: the source failed to read
        text = " ".join(str(exc).split())[:400]
        raise DataError(f"PostgreSQL could not read the source: {text}",
                        hint="check the table or query and the column mapping in the params file") from None

    def release_pg():
        try:
            with con.con.cursor() as cur:
                cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        except Exception:  # noqa: BLE001 - the connection is already closed
            pass
    return con.table(name), name, release_pg
