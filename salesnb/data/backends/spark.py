"""The PySpark backend: one SparkSession per process, and the files, ``table:`` or ``query:``
it reads.

Spark is started with ``spark.sql.legacy.timeParserPolicy=CORRECTED`` (a text that does not
match the format is NULL, not an error) and ``spark.sql.legacy.javaCharsets=true`` (Spark 4
reads only UTF-8/16/32, US-ASCII and ISO-8859-1 text otherwise; Windows-1252 needs it); the
session time zone is UTC.
"""
from __future__ import annotations

import atexit
import codecs
import os
import re
import secrets
import threading
from pathlib import Path

from ...config import Config
from ...errors import DataError
from ..sources import PARQUET_SUFFIXES, _kind, _sniff_delimiter, _source_files, detect_encoding
from . import _Source, _named_table, _query_source

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


def _spark_source(con, session, config: Config) -> _Source:
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


def materialise(expr):
    """``expr`` computed once on Spark: (a cached DataFrame as an Ibis table, its name, release()).
    The cache is filled by the first query that uses it."""
    cached = expr.cache()
    done = []

    def release_spark():
        if not done:
            done.append(True)
            cached.release()
    return cached, cached.get_name(), release_spark
