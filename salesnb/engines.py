"""Other engines through Ibis: PySpark and PostgreSQL (SPEC 2.1 ``engine:``).

``salesnb.data.load_data(config)`` hands a config whose ``engine`` is not ``duckdb`` to
:func:`load_on_engine`. It connects, maps the source's columns to the canonical table with
Ibis expressions that run *on that engine* (nothing is pulled into pandas but a sample of
distinct date texts for ``date_format: auto``), applies the data rules of SPEC 2.3 there,
materialises the canonical table once (a cached Spark DataFrame, a PostgreSQL temporary table)
and returns a :class:`salesnb.data.Dataset` whose ``table`` the unchanged metric code queries.

``engine:`` values
    * PySpark: a master, ``local``, ``local[2]``, ``local[*]``, ``spark://host:7077``, ``yarn``,
      ``k8s://…``, or ``sc://host:15002`` (Spark Connect). ``source:`` is a CSV/TSV (optionally
      gzip) or Parquet path or glob that Spark can read (local, ``hdfs://``, ``s3a://`` …), or
      ``table:`` a table of the session's catalog, or ``query:`` a Spark SQL SELECT.
    * PostgreSQL: a libpq URL, ``postgresql://user[:password]@host[:port]/db[?sslmode=…]`` (a
      Unix socket: ``postgresql://user@/db?host=/run/postgresql``), with ``table:`` (``schema.table``
      allowed) or ``query:`` (a SELECT in PostgreSQL's SQL).

Where the engines differ, it is handled here, in one place (the metric code does not change):

* Canonical types: ``order_id``/``customer_id``/dimensions text, ``order_date`` a timestamp
  *without* time zone (Spark ``TIMESTAMP_NTZ``, sessions in UTC — ``ibis.pyspark.connect`` sets
  the Spark session time zone to UTC, and the PostgreSQL session is set to UTC by Ibis),
  ``revenue``/``quantity``/``unit_price`` float64.
* Text dates: the format is inferred exactly as on DuckDB (same candidate families, from up to
  200,000 distinct values), then parsed with a full-match regular expression + the engine's
  own parser in a form that returns NULL instead of failing: Spark ``try_to_timestamp``,
  PostgreSQL a session-local ``pg_temp`` PL/pgSQL function around ``to_timestamp``.
* Text money: the grammar of :func:`salesnb.data.money_sql` (same regular expressions), cast
  with Spark ``try_cast`` / a ``pg_temp`` function around ``::float8``.
* Ordering of text: PostgreSQL sorts by the database collation (``en_US`` ignores punctuation),
  DuckDB and Spark by code point. The RFM quintiles break ties by ``customer_id``, so the
  PostgreSQL canonical table declares its text columns ``COLLATE "C"``.
* Spark is started with ``spark.sql.legacy.timeParserPolicy=CORRECTED`` (a text that does not
  match the format is NULL, not an error) and ``spark.sql.legacy.javaCharsets=true`` (Spark 4
  reads only UTF-8/16/32, US-ASCII and ISO-8859-1 text otherwise; Windows-1252 needs it).

Data quality on an engine (:class:`salesnb.data.DataQuality`): rows read/used/dropped per reason
with up to 5 examples, filters, exact duplicate rows (``SELECT DISTINCT`` over every source
column), returns, rows without a customer, first/last date, partial and gap months, the same
notes as on DuckDB (except the ``decimal`` hint). ``sha256``: a local file source is hashed as
on DuckDB (the same fingerprint); a table or query cannot be hashed by content without reading
it all out of the engine, so it is the sha256 of ``engine URL (password removed) + table/query +
rows read + the revenue sum to the cent`` — it changes when the data's size or total changes,
not for every edit.
"""
from __future__ import annotations

import atexit
import codecs
import datetime as dt
import hashlib
import math
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .config import DIMENSIONS, ORDER_ID_PARTS_SHOWN, Config
from .errors import DataError, NoDataError

SPARK, POSTGRES = "spark", "postgres"
SPARK_PREFIXES = ("local", "spark://", "sc://", "yarn", "k8s://", "mesos://")
POSTGRES_PREFIXES = ("postgresql://", "postgres://")
DATE_SAMPLE = 200_000
EXAMPLES = 5
NUMBER_ROLES = ("quantity", "unit_price", "revenue")


def engine_kind(engine: str | None) -> str:
    """``spark`` or ``postgres`` for an ``engine:`` value (``duckdb`` is handled by data.py)."""
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


# --------------------------------------------------------------------------- connections

_SPARK_LOCK = threading.Lock()
_SPARK: dict = {}


def _spark_conf(master: str) -> dict[str, str]:
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
        "spark.sql.legacy.javaCharsets": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "ERROR",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    match = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master)
    if match:
        threads = match.group(1)
        n = 1 if threads is None else (os.cpu_count() or 2) if threads == "*" else int(threads)
        # Spark's default of 200 shuffle partitions is made for clusters; on one machine a few
        # per core keep the many small aggregations of a report fast.
        conf["spark.sql.shuffle.partitions"] = str(max(4, 2 * n))
        conf["spark.ui.enabled"] = "false"
    return conf


def spark_session(master: str):
    """One SparkSession per process (``getOrCreate``), started for ``master`` on first use.

    The session outlives each Dataset (starting a JVM takes seconds); it stops when the process
    exits, or when a later config names another master.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(f"engine {master!r} needs PySpark, which is not installed.",
                        hint="pip install 'salesnb[spark]' (pyspark>=3.5,<4.1; Ibis 12 does not support 4.1), "
                             "and Java 17") from None
    import warnings
    # PySpark 4.0 on pandas 3 warns about its own use of astype(copy=) on every result
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module=r"pyspark(\.|$)")
    with _SPARK_LOCK:
        session = _SPARK.get("session")
        if session is not None and _SPARK.get("master") != master:
            session.stop()
            session = None
        if session is None:
            builder = SparkSession.builder.appName("salesnb")
            if master.startswith("sc://"):
                builder = builder.remote(master)
            else:
                builder = builder.master(master)
            for key, value in _spark_conf(master).items():
                builder = builder.config(key, value)
            try:
                session = builder.getOrCreate()
            except Exception as exc:  # noqa: BLE001 - Java missing, master unreachable …
                text = " ".join(str(exc).split())[:300]
                hint = "install Java 17 (java must be on PATH or JAVA_HOME set)" if "JAVA" in text.upper() \
                    else "check the engine: master URL and that the cluster is reachable"
                raise DataError(f"Cannot start Spark for engine {master!r}: {text}", hint=hint) from None
            for key, value in _spark_conf(master).items():  # an existing session keeps its own
                try:
                    session.conf.set(key, value)
                except Exception:  # noqa: BLE001 - static or read-only conf on that session
                    pass
            try:
                session.sparkContext.setLogLevel("ERROR")
            except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
                pass
            _SPARK.update(session=session, master=master)
        return session


def stop_spark() -> None:
    """Stop the process's SparkSession (also done at exit)."""
    with _SPARK_LOCK:
        session = _SPARK.pop("session", None)
        _SPARK.pop("master", None)
    if session is not None:
        try:
            session.stop()
        except Exception:  # noqa: BLE001
            pass


atexit.register(stop_spark)

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


# --------------------------------------------------------------------------- the dataset

def _dataset_class():
    from .data import Dataset

    @dataclass
    class EngineDataset(Dataset):
        """A :class:`~salesnb.data.Dataset` on Spark or PostgreSQL."""

        kind: str = ""
        table_name: str = ""
        _release: object = None

        def sql(self, query: str, params=None):
            """Run SQL on the engine (its dialect; the canonical table is ``table_name``)."""
            if params:
                raise DataError("Parameters are not supported by Dataset.sql on this engine.",
                                hint="use an Ibis expression on dataset.table instead")
            return self.con.sql(query).to_pandas()

        def close(self) -> None:
            from .data import _release_shared
            _release_shared(self)
            release, self._release = self._release, None
            if release is not None:
                try:
                    release()
                except Exception:  # noqa: BLE001 - closing twice, a stopped session
                    pass
            if self.kind == POSTGRES:
                try:
                    self.con.disconnect()
                except Exception:  # noqa: BLE001
                    pass
            # Spark: the session is shared by the process (see spark_session); not stopped here.

        def __del__(self):
            pass

    return EngineDataset


# --------------------------------------------------------------------------- dialect helpers

# strftime code → (Spark pattern, PostgreSQL pattern, regular expression of the text)
_DATE_TOKENS = {
    "%Y": ("yyyy", "YYYY", "[0-9]{4}"),
    "%y": ("yy", "YY", "[0-9]{2}"),
    "%m": ("M", "MM", "[0-9]{1,2}"),
    "%d": ("d", "DD", "[0-9]{1,2}"),
    "%H": ("H", "HH24", "[0-9]{1,2}"),
    "%I": ("h", "HH12", "[0-9]{1,2}"),
    "%M": ("m", "MI", "[0-9]{1,2}"),
    "%S": ("s", "SS", "[0-9]{1,2}"),
    "%f": ("SSSSSS", "US", "[0-9]{1,6}"),
    "%p": ("a", "AM", "[AaPp][Mm]"),
    "%b": ("MMM", "Mon", "[A-Za-z]{3}"),
    "%B": ("MMMM", "Month", "[A-Za-z]+"),
    "%z": ("XXX", "TZH:TZM", "(Z|[+-][0-9]{2}:?[0-9]{2})"),
    "%j": ("D", "DDD", "[0-9]{1,3}"),
}


def convert_date_format(fmt: str) -> tuple[str, str, str]:
    """A strftime pattern as (Spark datetime pattern, PostgreSQL to_timestamp pattern, regex)."""
    spark, pg, rx = [], [], []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i:i + 2]
            i += 2
            if code == "%%":
                spark.append("%")
                pg.append("%")
                rx.append("%")
                continue
            if code not in _DATE_TOKENS:
                raise DataError(f"date_format code {code!r} is not supported on this engine.",
                                hint="supported: " + " ".join(_DATE_TOKENS))
            s, p, r = _DATE_TOKENS[code]
            spark.append(s)
            pg.append(p)
            rx.append(r)
        else:
            ch = fmt[i]
            i += 1
            spark.append(f"'{ch}'" if ch.isalpha() else ("''" if ch == "'" else ch))
            pg.append(f'"{ch}"' if ch.isalpha() else ch)
            rx.append(re.escape(ch) if not ch.isspace() else r"\s+")
    return "".join(spark), "".join(pg), "^" + "".join(rx) + "$"


class _Dialect:
    """The few functions whose spelling or failure mode differs between the engines."""

    def __init__(self, kind: str):
        import ibis
        import ibis.expr.datatypes as dt_

        self.kind = kind
        ts, ts_utc = dt_.Timestamp(), dt_.Timestamp(timezone="UTC")
        if kind == POSTGRES:
            try_ts = ibis.udf.scalar.builtin(lambda v, f: None, name="salesnb_try_timestamp", database="pg_temp",
                                             signature=((dt_.string, dt_.string), ts))
            try_float = ibis.udf.scalar.builtin(lambda v: None, name="salesnb_try_float", database="pg_temp",
                                                signature=((dt_.string,), dt_.float64))
        else:
            try_ts = ibis.udf.scalar.builtin(lambda v, f: None, name="try_to_timestamp",
                                             signature=((dt_.string, dt_.string), ts_utc))
            try_float = None
        self._try_ts = try_ts
        self._try_float = try_float

    def parse_timestamp(self, text, fmt: str):
        """Text → naive timestamp with one strftime pattern; NULL when it does not read."""
        import ibis
        spark_fmt, pg_fmt, regex = convert_date_format(fmt)
        if self.kind == POSTGRES:
            parsed = self._try_ts(text, pg_fmt)
        else:
            parsed = self._try_ts(text, spark_fmt).cast("timestamp")
        return ibis.cases((text.re_search(regex), parsed), else_=ibis.null("timestamp"))

    def to_float(self, text):
        """Validated number text → float64 (NULL when the engine cannot represent it)."""
        if self.kind == POSTGRES:
            return self._try_float(text)
        return text.try_cast("float64")


# --------------------------------------------------------------------------- sources

def _local_path(source: str) -> bool:
    return "://" not in source or source.startswith("file://")


def _java_charset(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    m = re.fullmatch(r"cp(125\d)", name)
    if m:
        return f"windows-{m.group(1)}"
    return {"latin-1": "ISO-8859-1", "iso8859-1": "ISO-8859-1", "utf-8": "UTF-8", "ascii": "US-ASCII",
            "utf-16": "UTF-16", "utf-8-sig": "UTF-8"}.get(name, name)


def _sniff_delimiter(path: Path, encoding: str) -> str:
    from .data import _open_text
    with _open_text(path) as fh:
        head = fh.read(65536).decode(encoding, errors="replace")
    line = next((ln for ln in head.splitlines() if ln.strip()), "")
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


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


def _spark_source(con, session, config: Config) -> _Source:
    from .data import PARQUET_SUFFIXES, _kind, _source_files
    master = config.engine
    if config.query:
        return _query_source(con, config.query, f"Spark {master}", "Spark SQL")
    source = config.source
    if not source and config.table:
        return _Source(_named_table(con, config.table, f"Spark {master}"), f"table {config.table} on Spark {master}",
                       [], None)
    if source and "://" in source and not source.startswith("file://") and config.table:
        raise DataError(f"source {source!r} is a URL: on Spark, give a file path, or only table:.",
                        hint="remove source: and keep table:, or point source: at the files")
    files: list[Path] = []
    encoding = None
    local = _local_path(source)
    if local:
        files = _source_files(source.removeprefix("file://"))
        kinds = {_kind(f) for f in files}
        if len(kinds) > 1:
            raise DataError(f"The source pattern {source!r} matches files of different kinds: {sorted(kinds)}.",
                            hint="use a pattern that matches one kind, e.g. *.csv")
        kind = kinds.pop()
    else:
        name = source.lower().removesuffix(".gz")
        kind = "parquet" if name.endswith(PARQUET_SUFFIXES) or name.endswith("/") else "text"
    reader = session.read
    paths = [str(f) for f in files] if files else [source]
    try:
        if kind == "parquet":
            df = reader.parquet(*paths)
        elif kind == "text":
            if config.encoding != "auto":
                encoding = config.encoding
            elif files:
                from .data import detect_encoding
                encoding = detect_encoding(files[0])
            else:
                encoding = "utf-8"
            if config.delimiter == "whitespace":
                raise DataError("delimiter: whitespace is not supported on Spark.",
                                hint="convert the file to CSV or Parquet, or use engine: duckdb")
            delim = config.delimiter
            if delim is None:
                if any(f.name.lower().endswith((".tsv", ".tsv.gz")) for f in files) or source.lower().endswith(".tsv"):
                    delim = "\t"
                elif files:
                    delim = _sniff_delimiter(files[0], encoding)
                else:
                    delim = ","
            df = reader.csv(paths, header=True, inferSchema=False, sep=delim, quote='"', escape='"',
                            encoding=_java_charset(encoding), mode="PERMISSIVE", multiLine=False)
        else:
            raise DataError(f"Source {source!r} is a {kind} file, which Spark cannot read.",
                            hint="export it as CSV or Parquet, or use engine: duckdb")
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - AnalysisException: path not found, bad file
        raise DataError(f"Spark cannot read {source!r}: {' '.join(str(exc).split())[:300]}",
                        hint="check the path (Spark reads it from the driver and the workers)") from None
    name = f"salesnb_raw_{secrets.token_hex(4)}"
    df.createOrReplaceTempView(name)
    return _Source(con.table(name), f"{source} (read by Spark {master})", files, encoding)


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


def _postgres_source(con, config: Config) -> _Source:
    url = mask_url(config.engine)
    if config.query:
        return _query_source(con, config.query, f"PostgreSQL {url}", "PostgreSQL")
    if not config.table:
        raise DataError(f"engine {url!r} needs 'table:' or 'query:' in the params file.",
                        hint="add table: sales (or schema.sales), or query: SELECT …")
    return _Source(_named_table(con, config.table, url), f"table {config.table} on {url}", [], None)


# --------------------------------------------------------------------------- canonical columns

def _text(col):
    return col.cast("string").strip()


def _id_expr(col, dtype):
    import ibis
    if dtype.is_floating() or dtype.is_decimal():
        x = col.cast("float64")
        whole = (x == x.floor()) & (x.abs() < 9e18)
        return ibis.cases((x.isnull() | x.isnan(), ibis.null("string")),
                          (whole, x.cast("int64").cast("string")), else_=x.cast("string"))
    text = _text(col)
    if dtype.is_string():
        # text ids exported from a float column: "17850.0" → "17850"
        text = ibis.cases((text.re_search(r"^[0-9]+\.0+$"), text.substr(0, text.find("."))), else_=text)
    return text.nullif("")


def _composite_id_expr(t, schema, config: Config):
    """:func:`salesnb.data._composite_id_sql` on Ibis: the parts' text joined, NULL when any
    part is missing; the order date column stands for its calendar day."""
    import ibis
    from .data import ORDER_ID_SEPARATOR
    parts = []
    for col in config.order_id_parts:
        if col == config.columns["order_date"]:
            parts.append(t._c_order_date.date().cast("string"))
        else:
            parts.append(_id_expr(t[col], schema[col]))
    missing = parts[0].isnull()
    for p in parts[1:]:
        missing = missing | p.isnull()
    # explicit: PostgreSQL's concat() would skip a NULL part
    return ibis.ifelse(missing, ibis.null("string"), ibis.literal(ORDER_ID_SEPARATOR).join(parts))


def _dim_expr(col):
    return _text(col).nullif("")


def _date_plan(raw, name: str, dtype, config: Config, desc: str):
    """How to read the date column: (native expression or None, text expression, family, format, note)."""
    col = raw[name]
    fmt = config.date_format
    if dtype.is_timestamp() or dtype.is_date():
        note = None
        if fmt != "auto":
            note = (f"date_format {fmt!r} is not used: column {name!r} is already a date/timestamp "
                    "in the source.")
        tz = getattr(dtype, "timezone", None)
        label = "native timestamp (UTC)" if tz else ("native date" if dtype.is_date() else "native timestamp")
        return col.cast("timestamp"), None, (), label, note
    text = col.cast("string").strip()
    if "%" in fmt:
        return None, text, (fmt,), fmt, None
    family, main = _infer_family(raw, text, config, desc)
    return None, text, family, main, None


def _infer_family(raw, text, config: Config, desc: str):
    """Infer the date family from distinct texts, with the DuckDB rules of salesnb.data."""
    import duckdb

    from .data import _infer_date_family
    from .data import _strptime_sql, sql_literal  # noqa: F401 - the DuckDB reading of each format
    sample = raw.select(v=text).filter(lambda t: t.v.notnull() & (t.v != "")).distinct().limit(DATE_SAMPLE + 1)
    values = sample.to_pyarrow()
    from .data import DUCKDB_SETTINGS
    db = duckdb.connect(config=dict(DUCKDB_SETTINGS))
    try:
        db.register("vals", values)
        what = f"column {config.columns['order_date']!r} (columns.order_date) in {desc}"
        family, main = _infer_date_family(db, "(SELECT v FROM vals)", what, config.date_format)
        if values.num_rows <= DATE_SAMPLE and len(family) > 1:
            # every distinct value was seen: formats that read none of them are not needed
            per = db.execute("SELECT " + ", ".join(f"count({_strptime_sql('v', f)})" for f in family)
                             + " FROM vals").fetchone()
            family = tuple(f for f, n in zip(family, per) if n) or family
    finally:
        db.close()
    return family, main


# --------------------------------------------------------------------------- loading

def load_on_engine(config: Config):
    """Load the config's source on its Spark or PostgreSQL engine (SPEC 2.2, 2.3)."""
    kind = engine_kind(config.engine)
    if kind == SPARK:
        session = spark_session(config.engine)
        import ibis
        con = ibis.pyspark.connect(session)
        source = _spark_source(con, session, config)
    else:
        con = postgres_connect(config.engine)
        try:
            source = _postgres_source(con, config)
        except BaseException:
            con.disconnect()
            raise
    try:
        return _load(config, con, kind, source)
    except BaseException:
        if kind == POSTGRES:
            try:
                con.disconnect()
            except Exception:  # noqa: BLE001
                pass
        raise


def _parsed(raw, schema, config: Config, dialect: _Dialect, desc: str):
    """The source rows plus ``_c_<role>`` canonical values (NULL where a value does not read).

    The parse is a chain of projections (clean text → sign and body → number → value), so each
    regular expression runs once per row on every engine instead of once per use."""
    import ibis
    from .data import _MONEY_STRIP, _NUMBER
    cols = config.columns
    s1: dict = {}
    if not config.order_id_parts:   # a composite one is made once the date is read, below
        s1["_c_order_id"] = _id_expr(raw[cols["order_id"]], schema[cols["order_id"]])
    if "customer_id" in cols:
        s1["_c_customer_id"] = _id_expr(raw[cols["customer_id"]], schema[cols["customer_id"]])
    for dim in DIMENSIONS:
        if dim in cols:
            s1[f"_c_{dim}"] = _dim_expr(raw[cols[dim]])
    texts = []
    for role in NUMBER_ROLES:
        if role not in cols:
            continue
        col, dtype = raw[cols[role]], schema[cols[role]]
        if dtype.is_numeric() or dtype.is_boolean():
            x = col.cast("float64")
            s1[f"_c_{role}"] = ibis.cases((x.isnan() | x.isinf(), ibis.null("float64")), else_=x)
        else:
            s1[f"_s_{role}"] = col.cast("string").replace("\u2212", "-").re_replace(_MONEY_STRIP, "")
            texts.append(role)
    native, date_text, family, date_fmt, date_note = _date_plan(raw, cols["order_date"], schema[cols["order_date"]],
                                                                 config, desc)
    if native is not None:
        s1["_c_order_date"] = native
    else:
        s1["_t_date"] = date_text
    t = raw.mutate(**s1)

    s2: dict = {}
    for role in texts:
        v = t[f"_s_{role}"]
        n = v.length()
        paren = (n > 1) & v.startswith("(") & v.endswith(")")
        minus = (n > 1) & v.endswith("-") & ~paren
        s2[f"_b_{role}"] = ibis.cases((paren, v.substr(1, n - 2)), (minus, v.substr(0, n - 1)), else_=v)
        s2[f"_n_{role}"] = paren | minus
    if native is None:
        parts = [dialect.parse_timestamp(t._t_date, f) for f in family]
        s2["_d_date"] = parts[0] if len(parts) == 1 else ibis.coalesce(*parts)
    if s2:
        t = t.mutate(**s2)

    s3: dict = {}
    for role in texts:
        body = t[f"_b_{role}"]
        number = body.replace(",", "") if config.decimal == "." else body.replace(".", "").replace(",", ".")
        valid = body.re_search(f"^(?:{_NUMBER[config.decimal]})$")
        s3[f"_v_{role}"] = ibis.cases((valid, dialect.to_float(number)), else_=ibis.null("float64"))
    if native is None:
        d = t._d_date
        s3["_c_order_date"] = ibis.cases((d.year().between(1900, 2100), d), else_=ibis.null("timestamp"))
    if s3:
        t = t.mutate(**s3)

    s4: dict = {}
    for role in texts:
        v = t[f"_v_{role}"]
        s4[f"_c_{role}"] = ibis.cases((v.isnull() | v.isnan() | v.isinf(), ibis.null("float64")),
                                      (t[f"_n_{role}"], -v.abs()), else_=v)
    if s4:
        t = t.mutate(**s4)
    if "revenue" not in cols:
        t = t.mutate(_c_revenue=t._c_quantity * t._c_unit_price)
    if config.order_id_parts:
        t = t.mutate(_c_order_id=_composite_id_expr(t, schema, config))
    keep = list(raw.columns) + [c for c in t.columns if c.startswith("_c_")]
    return t.select(*keep), date_fmt, date_note


def _load(config: Config, con, kind: str, source: _Source):
    import ibis
    from .data import _check_columns, order_id_notes
    raw = source.table
    desc = repr(source.description)
    schema = raw.schema()
    _check_columns(config, {name: str(dtype) for name, dtype in schema.items()}, desc)
    dialect = _Dialect(kind)
    cols = config.columns
    raw_names = list(raw.columns)
    expr, date_fmt, date_note = _parsed(raw, schema, config, dialect, desc)
    releases = []
    try:
        if kind == SPARK:
            # Spark reads and parses the source once (a cached DataFrame): the counts, examples
            # and the canonical table come from it instead of reading the CSV again each time
            parsed, _, release = _materialise(con, kind, expr)
            releases.append(release)
        else:
            # PostgreSQL: two scans of the source (the counts, then the canonical table) cost
            # less than writing a full copy of every source column
            parsed = expr
            releases.append(lambda: None)
        reasons = {
            "unparseable date": parsed._c_order_date.isnull(),
            "unparseable revenue": parsed._c_revenue.isnull(),
            "missing order id": parsed._c_order_id.isnull(),
        }
        if "revenue" in cols:
            example = {"unparseable revenue": parsed[cols["revenue"]].cast("string")}
        else:
            example = {"unparseable revenue": parsed[cols["quantity"]].cast("string").fill_null("(empty)") + " × "
                       + parsed[cols["unit_price"]].cast("string").fill_null("(empty)")}
        example["unparseable date"] = parsed[cols["order_date"]].cast("string")
        if config.order_id_parts:
            example["missing order id"] = ibis.literal(ORDER_ID_PARTS_SHOWN).join(
                [parsed[c].cast("string").fill_null("(empty)") for c in config.order_id_parts])
        else:
            example["missing order id"] = parsed[cols["order_id"]].cast("string")
        firsts, so_far = {}, []
        for reason, cond in reasons.items():
            c = cond
            for b in so_far:
                c = c & ~b
            firsts[reason] = c
            so_far.append(cond)
        valid = ~reasons["unparseable date"] & ~reasons["unparseable revenue"] & ~reasons["missing order id"]
        keep_filters = None
        for kind_, include in (("include", True), ("exclude", False)):
            for role, vals in config.filters.get(kind_, {}).items():
                v = parsed[f"_c_{role}"].cast("string").fill_null("")
                cond = v.isin(vals) if include else v.notin(vals)
                keep_filters = cond if keep_filters is None else keep_filters & cond
        counts = {"rows": parsed.count()}
        for i, cond in enumerate(firsts.values()):
            counts[f"r{i}"] = cond.sum()
        if keep_filters is not None:
            counts["filtered"] = (valid & ~keep_filters).sum()
        row = parsed.aggregate(**counts).to_pandas().iloc[0].to_dict()
        rows_read = int(row["rows"] or 0)
        if rows_read == 0:
            raise NoDataError(f"{desc} has no rows.", hint="check the source, table or query")
        dropped: dict[str, int] = {}
        examples: dict[str, list[str]] = {}
        for i, (reason, cond) in enumerate(firsts.items()):
            n = int(row[f"r{i}"] or 0)
            if n:
                dropped[reason] = n
                ex = (parsed.filter(cond).select(v=example[reason].fill_null("(empty)"))
                      .distinct().order_by("v").limit(EXAMPLES).to_pandas())
                examples[reason] = [str(v) for v in ex["v"]]
        if keep_filters is not None and int(row.get("filtered") or 0):
            dropped["filtered"] = int(row["filtered"])
        notes = ([date_note] if date_note else []) + order_id_notes(config)

        # exact duplicate source rows: every source column compared (DISTINCT), as on DuckDB
        dup_rows = 0
        try:
            dup_rows = rows_read - int(parsed.select(*raw_names).distinct().count().to_pandas())
        except Exception as exc:  # noqa: BLE001 - a column type without equality (json, arrays)
            notes.append(f"Exact duplicate rows were not counted on this engine ({type(exc).__name__}).")

        kept = parsed.filter(valid if keep_filters is None else valid & keep_filters)
        if config.dedupe and dup_rows:
            kept = kept.distinct()
        canonical = ["order_id", "order_date"] + [k for k in ("customer_id", "quantity", "unit_price")
                                                  if f"_c_{k}" in parsed.columns]
        canonical += ["revenue"] + [d for d in DIMENSIONS if f"_c_{d}" in parsed.columns]
        out = kept.select(**{k: kept[f"_c_{k}"] for k in canonical})
        table, table_name, release = _materialise(con, kind, out, collate=True)
        releases.append(release)
        quality = _quality(config, table, source, rows_read, dropped, examples, dup_rows, date_fmt, notes)
    except BaseException:
        for release in reversed(releases):
            release()
        raise
    releases[0]()  # the parsed copy (the canonical table is computed and cached by now)
    cls = _dataset_class()
    return cls(config=config, con=con, table=table, quality=quality, kind=kind, table_name=table_name,
               _release=release)


def _materialise(con, kind: str, expr, collate: bool = False):
    """``expr`` computed once on the engine: (ibis table, its name, release()).

    Spark: a cached DataFrame (filled by the first query that uses it). PostgreSQL: a temporary
    table; with ``collate`` its text columns sort by code point (``COLLATE "C"``), as on DuckDB."""
    if kind == SPARK:
        cached = expr.cache()
        done = []

        def release_spark():
            if not done:
                done.append(True)
                cached.release()
        return cached, cached.get_name(), release_spark
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


def _fingerprint(config: Config, source: _Source, rows_read: int, total: float) -> str:
    from .data import fingerprint
    if source.files:
        return fingerprint(source.files)
    what = config.query or f"table:{config.table}" or f"source:{config.source}"
    text = "\n".join([mask_url(config.engine), what, str(rows_read), f"{total:.2f}"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _quality(config: Config, t, source: _Source, rows_read, dropped, examples, dup_rows, date_fmt,
             notes):
    from .data import (HUGE_VALUE, DataQuality, count_duplicates_dropped, month_coverage, no_usable_rows,
                       partial_months, shape_notes)
    from .periods import month_index, month_label
    has_cust = "customer_id" in config.columns
    aggs = {
        "rows": t.count(), "first": t.order_date.min(), "last": t.order_date.max(), "total": t.revenue.sum(),
        "ret_lines": (t.revenue < 0).sum(), "ret_value": t.revenue.sum(where=t.revenue < 0),
        "zero": (t.revenue == 0).sum(), "big": t.revenue.abs().max(),
    }
    if has_cust:
        aggs.update(nocust_rows=t.customer_id.isnull().sum(),
                    nocust_rev=t.revenue.sum(where=t.customer_id.isnull()),
                    n_cust=t.customer_id.nunique())
    if "unit_price" in config.columns:
        aggs["neg_price"] = (t.unit_price < 0).sum()
    row = t.aggregate(**aggs).to_pandas().iloc[0].to_dict()
    rows_used = int(row["rows"] or 0)
    dup_dropped = count_duplicates_dropped(config, dup_rows, rows_read, rows_used, dropped)
    if rows_used == 0:
        raise no_usable_rows(config, repr(source.description), rows_read, dropped, examples)

    def num(key, default=0.0):
        v = row.get(key)
        try:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return default
        except TypeError:
            return default
        return v

    first_d = _as_date(row["first"])
    last_d = _as_date(row["last"])
    total = float(num("total"))
    if not math.isfinite(total):
        raise DataError(f"The revenue of {source.description} does not add up to a finite number: "
                        "some values are too large.",
                        hint="check the revenue column (or quantity and unit_price) for overflowing values")
    months = t.select(m=t.order_date.year() * 12 + t.order_date.month() - 1).distinct().to_pandas()["m"]
    present = {int(m) for m in months}
    gaps = [month_label(i) for i in range(month_index(first_d), month_index(last_d) + 1) if i not in present]
    big = float(num("big"))
    if big >= HUGE_VALUE:
        notes.append(f"Some line revenues are implausibly large (up to {big:.3g}); they are kept. "
                     "Check the revenue column and decimal.")
    nocust_rows, nocust_rev = (int(num("nocust_rows", 0)), float(num("nocust_rev"))) if has_cust \
        else (rows_used, total)
    notes += shape_notes(total=total, negative_prices=int(num("neg_price", 0)), has_customers=has_cust,
                         customers=int(num("n_cust", 0)) if has_cust else 0, first=first_d, last=last_d)
    share = (100.0 * nocust_rev / total) + 0.0 if has_cust and total > 0 else None
    coverage = month_coverage(first_d, last_d)
    return DataQuality(
        source=source.description,
        sha256=_fingerprint(config, source, rows_read, total), rows_read=int(rows_read), rows_used=rows_used,
        rows_dropped={k: int(v) for k, v in dropped.items()}, examples=examples,
        returns={"lines": int(num("ret_lines", 0)), "value": -float(num("ret_value")) + 0.0},
        zero_revenue_lines=int(num("zero", 0)),
        missing_customer={"rows": nocust_rows, "revenue": nocust_rev, "revenue_share_pct": share},
        duplicates={"rows": int(dup_rows), "dropped": int(dup_dropped)},
        first_date=first_d.isoformat(), last_date=last_d.isoformat(),
        partial_months=partial_months(first_d, last_d), gap_months=gaps,
        month_coverage={k: round(v, 4) for k, v in coverage.items()}, date_format=date_fmt,
        encoding=source.encoding, columns=dict(config.columns), dimensions=config.dimensions,
        revenue_total=total, notes=notes)


def _as_date(value) -> dt.date:
    import pandas as pd
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()
