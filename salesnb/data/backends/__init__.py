"""Backends: each connects to one engine and reads the source's raw rows, nothing more.

* :mod:`.duckdb` — the default: files (CSV/TSV/text, Parquet, Excel, DuckDB databases) and
  ``query:`` in DuckDB's SQL, read in place.
* :mod:`.spark` — a PySpark master (``local[2]``, ``spark://host:7077``, ``sc://…``): files or a
  ``table:``/``query:`` of the session's catalog.
* :mod:`.postgres` — a libpq URL: a ``table:`` or ``query:``.

The canonical columns and the data rules (:mod:`salesnb.data.canonical`, :mod:`salesnb.data.load`,
Ibis expressions written once) are run on what a backend reads by :mod:`.duckdb_run` (DuckDB:
compiled to SQL on its own connection) and :mod:`.engines` (Spark, PostgreSQL: their Ibis
backends), each with its dialect. Here: which backend an ``engine:`` value names, and what the
Ibis backends share.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ...errors import DataError

SPARK, POSTGRES = "spark", "postgres"

SPARK_PREFIXES = ("local", "spark://", "sc://", "yarn", "k8s://", "mesos://")
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def engine_kind(engine: str | None) -> str:
    """``spark`` or ``postgres`` for an ``engine:`` value (``duckdb`` is the default backend)."""
    text = (engine or "").strip()
    if text.startswith(POSTGRES_PREFIXES):
        return POSTGRES
    if text.startswith(SPARK_PREFIXES):
        return SPARK
    raise DataError(f"engine {engine!r} is not duckdb, a PySpark master (local[2], spark://host:7077) or a "
                    "PostgreSQL URL (postgresql://user@host:5432/db).",
                    hint="fix 'engine:' in the params file, or omit it to use DuckDB")


def mask_url(url: str) -> str:
    """The URL without its password (for messages, the data-quality report and fingerprints)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


# --------------------------------------------------------------------------- Ibis sources

@dataclass
class _Source:
    table: object  # ibis table of the raw rows
    description: str
    files: list
    encoding: str | None


def _query_source(con, query: str, where: str, dialect: str) -> _Source:
    """The rows of the params' ``query:`` on the engine ``where`` names, or a clear error."""
    try:
        t = con.sql(query.strip().rstrip(";"))
    except Exception as exc:  # noqa: BLE001 - each backend raises its own kind
        raise DataError(f"The 'query:' failed on {where}: {' '.join(str(exc).split())[:400]}",
                        hint=f"fix the SQL ({dialect} dialect)") from None
    return _Source(t, f"query on {where}", [], None)


def _named_table(con, name: str, where: str):
    parts = name.split(".")
    try:
        if len(parts) == 2:
            return con.table(parts[1], database=parts[0])
        return con.table(name)
    except Exception as exc:  # noqa: BLE001 - table not found
        text = " ".join(str(exc).split())[:300]
        raise DataError(f"Table {name!r} is not readable on {where}: {text}",
                        hint="check 'table:' (schema.table is allowed) and the user's privileges") from None
