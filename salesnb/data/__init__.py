"""The data layer: read a source, map its columns to the canonical names, parse dates and
money, apply the data rules of SPEC 2.3, and expose the result as an Ibis table.

Flow: ``source → raw rows (a backend) → canonical table "sales" (materialised once) → Ibis
table``, in these modules, in that order:

* :mod:`.sources` — files, kinds, encodings, Excel, globs, the fingerprint;
* :mod:`.parsing` — money and date text, the same grammar on every engine;
* :mod:`.quality` — the :class:`DataQuality` record, built once for every engine;
* :mod:`.rules` — SPEC 2.3: reasons, columns, implausible dates, duplicates, their messages;
* :mod:`.canonical` — the canonical columns as Ibis expressions, and the engine :class:`Dialect`;
* :mod:`.load` — SPEC 2.3 run once for every engine: dropped rows, filters, duplicates, figures;
* :mod:`.dataset` — :class:`Dataset`;
* :mod:`.backends` — connect, read raw rows, and run the rules: DuckDB (default), Spark,
  PostgreSQL;
* :mod:`.sample` — the synthetic sample data set.
"""
from __future__ import annotations

import shutil

from ..config import Config
from ..errors import DataError, SalesnbError
from .backends.duckdb import _Reader, _connect
from .backends.duckdb_run import load_duckdb
from .dataset import Dataset
from .parsing import quote_ident
from .quality import DataQuality
from .sources import DUCKDB_SETTINGS, _source_files, fingerprint, source_changes

# the underscored names are what guess, cli, findings and a test import from here today
__all__ = ["load_data", "check_data", "Dataset", "DataQuality", "DUCKDB_SETTINGS", "fingerprint", "quote_ident",
           "source_changes", "_Reader", "_connect", "_source_files"]


def load_data(config: Config) -> Dataset:
    """Load the config's source into the canonical table and check it (SPEC 2.2, 2.3)."""
    modules = WARM_MODULES + (MODEL_MODULES if config.kind != "pipeline" else ())
    warm = _import_in_background(modules) if config.engine in ("duckdb", "", None) else None
    dataset = _load(config, with_table=True)   # on an error (or Ctrl-C) the imports are not waited for
    if warm is not None:
        warm.join()
    return dataset


# What the findings import once the data has loaded: Ibis, pandas, scipy, statsmodels (about 2 s
# in all). The DuckDB loader needs Ibis' expressions and its SQL compiler (RULES_MODULES): they
# are imported first, in the calling thread (about 0.3 s). A thread then imports the rest while
# DuckDB reads the source (it releases the GIL), and load_data waits for it before it returns.
# Not the compiler in that thread too: sqlglot loads its dialects lazily under a lock of its own,
# which Python's import-deadlock detection cannot see, so a dialect loaded by both threads at
# once could hang both for good (it did, in a benchmark run).
RULES_MODULES = ("ibis", "ibis.backends.sql.compilers.duckdb")
WARM_MODULES = ("ibis.backends.duckdb", "salesnb.metrics.revenue", "salesnb.metrics.customers",
                "salesnb.models.clv_findings", "salesnb.recommend")
# and what a sales report's trend and forecast fit with (statsmodels' STL and ETS: about 0.6 s,
# the first time one is fitted)
MODEL_MODULES = ("statsmodels.tsa.seasonal", "statsmodels.tsa.exponential_smoothing.ets",
                 "statsmodels.tsa.forecasting.theta")


def _import_rules() -> None:
    import importlib
    for name in RULES_MODULES:
        importlib.import_module(name)


def _import_in_background(modules):
    """Import RULES_MODULES here, then ``modules`` on a thread (returned; join it)."""
    import importlib
    import threading

    _import_rules()

    def run():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - imported again where it is needed, and fails there
                return

    thread = threading.Thread(target=run, name="salesnb-imports", daemon=True)
    thread.start()
    return thread


def check_data(config: Config) -> DataQuality:
    """Load and check the source like :func:`load_data`, return only what loading found, and
    release everything (``salesnb validate``: no Ibis table is built)."""
    if config.engine not in ("duckdb", "", None) and config.kind != "pipeline":
        with load_data(config) as dataset:
            return dataset.quality
    _import_rules()
    return _load(config, with_table=False)


def _load(config: Config, with_table: bool):
    if config.kind == "pipeline":   # one row per deal (SPEC 10)
        from .pipeline import load_pipeline
        return load_pipeline(config, with_table)
    if config.engine not in ("duckdb", "", None):
        from .backends.engines import load_on_engine
        return load_on_engine(config)
    from ..paths import owned_temp_folder
    tmpdir = str(owned_temp_folder("salesnb-"))   # swept by a later run if this one is killed
    db = None
    try:
        db = _connect(config, tmpdir)
        dataset = load_duckdb(config, db, tmpdir, with_table)
        if not with_table:
            db.close()
            shutil.rmtree(tmpdir, ignore_errors=True)
    except BaseException as exc:
        if db is not None:
            db.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        import duckdb

        from ..errors import interrupted
        if interrupted() and not isinstance(exc, KeyboardInterrupt):   # Ctrl-C turned into a query error
            raise KeyboardInterrupt from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            raise DataError(f"DuckDB ran out of memory loading {config.source or 'the query'}.",
                            hint="raise memory_limit in the params file (e.g. memory_limit: 8GB), or "
                                 "SALESNB_MEMORY_LIMIT") from None
        if isinstance(exc, OSError) and not isinstance(exc, SalesnbError):
            where = exc.filename or config.source or "the source"
            raise DataError(f"Cannot read {str(where)!r}: {exc.strerror or exc}.",
                            hint="check that the file exists and that you may read it") from None
        if isinstance(exc, duckdb.Error) and not isinstance(exc, duckdb.InternalException):
            # a data problem DuckDB found while converting values: one message, no traceback
            text = " ".join(str(exc).split())[:500]
            raise DataError(f"Cannot load {config.source or 'the query'}: {text}",
                            hint="check the source file and the column mapping in the params file") from None
        raise
    return dataset
