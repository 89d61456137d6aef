"""The Spark and PostgreSQL backends' side of the load: their dialects, and how they run the
rules' Ibis expressions (:mod:`salesnb.data.load`) through their Ibis backend.

* Canonical types: ``order_id``/``customer_id`` text, or the integers of an integer column;
  dimensions text, ``order_date`` a timestamp *without* time zone (Spark ``TIMESTAMP_NTZ``,
  sessions in UTC), the numbers float64. Ties broken by an integer id compare its text
  (:mod:`salesnb.metrics.ids`); on PostgreSQL that text has the database's collation, which
  orders negative ids apart from DuckDB's code-point order (ids are rarely negative).
* Text dates: the format is inferred as on DuckDB (same candidate families, from up to 200,000
  distinct values fetched from the engine), then parsed with a full-match regular expression +
  the engine's own parser in a form that returns NULL instead of failing: Spark
  ``try_to_timestamp``, PostgreSQL a session-local ``pg_temp`` PL/pgSQL function around
  ``to_timestamp``.
* Text money: the grammar of :func:`salesnb.data.parsing.parse_money`, cast with Spark
  ``try_cast`` / a ``pg_temp`` function around ``::float8``.

The parsed rows are stored once (a cached Spark DataFrame; PostgreSQL reads the source twice,
which costs less than a copy of every source column), the canonical table once (a cached
DataFrame, a PostgreSQL temporary table). Exact duplicates: ``SELECT DISTINCT`` over every source
column. Not here: the ``decimal`` hint and the mixed-currency note (DuckDB only). ``sha256``: a
local file source is hashed as on DuckDB; a table, query or remote path cannot be hashed by
content without reading it all out of the engine, so it is the sha256 of ``engine URL (password
removed) + table/query/source + rows read + the revenue sum to the cent`` — it changes when the
data's size or total changes, not for every edit.
"""
from __future__ import annotations

import hashlib

from ...config import Config
from ..canonical import Dialect
from ..dataset import EngineDataset
from ..load import Runner, load_rows, quality_of
from ..parsing import convert_date_format
from ..rules import _check_columns
from ..sources import fingerprint
from . import POSTGRES, SPARK, _Source, engine_kind, mask_url


class EngineDialect(Dialect):
    """The few functions whose spelling or failure mode differs on Spark and PostgreSQL."""

    def __init__(self, kind: str):
        import ibis
        import ibis.expr.datatypes as dt_

        self.kind = kind
        ts, ts_utc = dt_.Timestamp(), dt_.Timestamp(timezone="UTC")
        if kind == POSTGRES:
            self._try_ts = ibis.udf.scalar.builtin(lambda v, f: None, name="salesnb_try_timestamp",
                                                   database="pg_temp", signature=((dt_.string, dt_.string), ts))
            self._try_float = ibis.udf.scalar.builtin(lambda v: None, name="salesnb_try_float", database="pg_temp",
                                                      signature=((dt_.string,), dt_.float64))
        else:
            self._try_ts = ibis.udf.scalar.builtin(lambda v, f: None, name="try_to_timestamp",
                                                   signature=((dt_.string, dt_.string), ts_utc))

    def parse_timestamp(self, text, fmt: str):
        import ibis
        spark_fmt, pg_fmt, regex = convert_date_format(fmt)
        if self.kind == POSTGRES:
            parsed = self._try_ts(text, pg_fmt)
        else:
            parsed = self._try_ts(text, spark_fmt).cast("timestamp")
        return ibis.cases((text.re_search(regex), parsed), else_=ibis.null("timestamp"))

    def to_float(self, text):
        if self.kind == POSTGRES:
            return self._try_float(text)
        return text.try_cast("float64")


class EngineRunner(Runner):
    def __init__(self, con, kind: str, source: _Source):
        self.con, self.kind, self.source = con, kind, source
        self.dialect = EngineDialect(kind)
        self.raw = source.table
        self.source_desc = repr(source.description)
        self.releases: list = []

    def _materialise(self, expr, collate: bool = False):
        if self.kind == SPARK:
            from .spark import materialise
            table, _, release = materialise(expr)
            name = table.get_name()
        else:
            from .postgres import materialise
            table, name, release = materialise(self.con, expr, collate=collate)
        self.releases.append(release)
        return table, name

    def store_parsed(self, expr, as_view: bool):
        if self.kind == SPARK:
            # Spark reads and parses the source once (a cached DataFrame): the counts, examples
            # and the canonical table come from it instead of reading the CSV again each time
            return self._materialise(expr)[0]
        self.releases.append(lambda: None)
        return expr

    def store_sales(self, parsed, kept, canonical: list[str], dedupe: bool, dropped: bool):
        if dedupe:   # one copy of each exact duplicate source row
            src = [c for c in kept.columns if c.startswith("_src_")]
            kept = kept.select(*canonical, *src).distinct()
        table, self.table_name = self._materialise(kept.select(*canonical), collate=True)
        return table

    def release(self, keep_last: bool) -> None:
        for release in reversed(self.releases[1:] if keep_last else self.releases):
            release()


def open_source(config: Config, kind: str) -> tuple[object, _Source]:
    """The Ibis connection to the config's Spark or PostgreSQL engine (``kind``) and its source's
    raw rows (sales and pipeline params alike); a PostgreSQL connection is closed again when the
    source cannot be read."""
    if kind == SPARK:
        from . import spark
        session = spark.spark_session(config.engine)
        import ibis
        con = ibis.pyspark.connect(session)
        return con, spark._spark_source(con, session, config)
    from . import postgres
    con = postgres.postgres_connect(config.engine)
    try:
        return con, postgres._postgres_source(con, config)
    except BaseException:
        con.disconnect()
        raise


def load_on_engine(config: Config) -> EngineDataset:
    """Load the config's source on its Spark or PostgreSQL engine (SPEC 2.2, 2.3)."""
    kind = engine_kind(config.engine)
    con, source = open_source(config, kind)
    try:
        return _load(config, con, kind, source)
    except BaseException:
        if kind == POSTGRES:
            try:
                con.disconnect()
            except Exception:  # noqa: BLE001
                pass
        raise


def _load(config: Config, con, kind: str, source: _Source) -> EngineDataset:
    _check_columns(config, {name: str(dtype) for name, dtype in source.table.schema().items()},
                   repr(source.description))
    run = EngineRunner(con, kind, source)
    try:
        table, found = load_rows(config, run)
        quality = quality_of(config, found, source=source.description, source_label=source.description,
                             sha256=_fingerprint(config, source, found["rows_read"], found["stats"].total),
                             encoding=source.encoding)
    except BaseException:
        run.release(keep_last=False)
        raise
    run.releases[0]()   # the parsed copy (the canonical table is computed and cached by now)
    return EngineDataset(config=config, con=con, table=table, quality=quality, kind=kind, table_name=run.table_name,
                         _release=run.releases[-1])


def _fingerprint(config: Config, source: _Source, rows_read: int, total: float) -> str:
    if source.files:
        return fingerprint(source.files)
    what = config.query or (f"table:{config.table}" if config.table else f"source:{config.source}")
    text = "\n".join([mask_url(config.engine), what, str(rows_read), f"{total:.2f}"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
