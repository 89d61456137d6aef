"""The DuckDB backend's side of the load: its dialect, and how it runs the rules' Ibis
expressions (:mod:`salesnb.data.load`) — compiled to SQL over the view ``raw`` and run on the
plain DuckDB connection, so that no Ibis backend is imported before the data has loaded.

Measured shortcuts that only DuckDB takes (flags of :class:`DuckDBDialect`, benchmarks/results.md):

* Parquet/DuckDB/Excel sources of at least ``VIEW_MIN_ROWS`` rows are read in place (views, no
  copy); smaller ones are parsed once into a table that becomes ``sales`` without a copy (the
  dropped rows deleted, the helper columns dropped, the table renamed).
* One prescan of a columnar source counts the exact duplicates (a row hash) and finds the text
  columns that need no cleaning, which are then read as they are.
* ``trim()`` runs only on the values it can change.
* Dates are inferred by value shape (:func:`~salesnb.data.parsing._format_counts`) and read with
  ``try_strptime``.
* Money sums are exact (``DECIMAL(38, 6)``), so they do not depend on the scan order.
"""
from __future__ import annotations

import inspect

from ...errors import DataError
from ..canonical import Dialect
from ..load import DATE_SAMPLE, Runner, infer_on_duckdb
from ..parsing import sql_literal

# Columnar sources with at least this many rows are read in place (views), not copied: at 10M
# lines a report is faster that way too and needs half the memory (benchmarks/results.md).
# Smaller ones are copied: cheap, and then independent of the file.
VIEW_MIN_ROWS = 1_000_000

# sources read as typed columns: cheap to scan more than once, row count in the metadata
COLUMNAR_KINDS = ("parquet", "duckdb", "excel")


def _builtin(name: str, args, result):
    """A DuckDB function as an Ibis expression builder."""
    import ibis

    def fn(*a):
        pass
    fn.__signature__ = inspect.Signature([inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                          for i in range(len(args))])
    return ibis.udf.scalar.builtin(fn, name=name, signature=(tuple(args), result))


class DuckDBDialect(Dialect):
    prescan = exact_sums = row_hash = money_notes = True
    # HUGEINT: float ids up to 1e30 are written as integers
    whole_id_limit, whole_id_type = 1e30, "decimal(38, 0)"

    def __init__(self, db, types: dict[str, str]):
        import ibis.expr.datatypes as dt
        self.db, self.types = db, types
        self._trim = _builtin("trim", [dt.string], dt.string)
        self._strlen = _builtin("strlen", [dt.string], dt.int64)
        self._trunc = _builtin("trunc", [dt.float64], dt.float64)
        self._isfinite = _builtin("isfinite", [dt.float64], dt.boolean)
        self._full_match = _builtin("regexp_full_match", [dt.string, dt.string], dt.boolean)
        self._strptime = _builtin("try_strptime", [dt.string, dt.string], dt.timestamp)
        self._strptime_tz = _builtin("try_strptime", [dt.string, dt.string], dt.Timestamp(timezone="UTC"))
        self._utc = _builtin("timezone", [dt.string, dt.Timestamp(timezone="UTC")], dt.timestamp)

    def trim(self, text):
        # DuckDB's trim() strips spaces and Unicode space separators (not tabs)
        return self._trim(text)

    def finite_or_null(self, x):
        # one isfinite() instead of isnan() and isinf(): a view recomputes it in every query
        import ibis
        return ibis.cases((self._isfinite(x), x), else_=ibis.null("float64"))

    def full_match(self, text, pattern: str):
        # regexp_full_match: cheaper than an anchored regexp_matches (1M plain amounts: 0.04 s less)
        return self._full_match(text, pattern)

    def whole_number_text(self, text):
        return text.re_replace(r"^([0-9]+)\.0+$", r"\1")

    def is_whole(self, x):
        # Ibis' floor() is a BIGINT: past 9.2e18 it would fail, not compare
        return self._trunc(x) == x

    def strlen(self, text):
        return self._strlen(text)

    def trimmed(self, text):
        # trim() copies every value; most have nothing to trim, and checking for a space at
        # either end or any non-ASCII character is about 3 × cheaper (10M lines: 0.2 s against
        # 0.55 s a column)
        import ibis
        # (LIKE, not starts_with/suffix: 0.015 s against 0.025 s a column of 1M lines)
        return ibis.cases((text.like(" %") | text.like("% ") | (self._strlen(text) != text.length()),
                           self._trim(text)), else_=text)

    def parse_timestamp(self, text, fmt: str):
        if "%z" in fmt:   # an offset: converted to UTC
            return self._utc("UTC", self._strptime_tz(text, fmt)).cast("timestamp")
        return self._strptime(text, fmt)

    def native_timestamp(self, col, dtype):
        upper = self.types[col.get_name()].upper()
        if "WITH TIME ZONE" in upper:
            return self._utc("UTC", col).cast("timestamp"), "native timestamp (UTC)"
        return col.cast("timestamp"), "native " + upper.lower()

    def check_date_format(self, fmt: str, where: str) -> None:
        try:
            self.db.execute(f"SELECT try_strptime('2024-01-01', {sql_literal(fmt)})").fetchone()
        except Exception as exc:  # noqa: BLE001 - duckdb's InvalidInputException
            raise DataError(f"date_format {fmt!r} in {where} is not a valid date pattern: "
                            f"{str(exc).splitlines()[0][:200]}",
                            hint="use strftime codes such as '%d/%m/%Y' or '%Y-%m-%d %H:%M'") from None

    def row_hash_expr(self, raw):
        import ibis.expr.datatypes as dt
        cols = [raw[c] for c in raw.columns]
        return _builtin("hash", [c.type() for c in cols], dt.uint64)(*cols)


def _dtype(text: str):
    import ibis.expr.datatypes as dt
    from ibis.backends.sql.datatypes import DuckDBType
    try:
        return DuckDBType.from_string(text)
    except Exception:  # noqa: BLE001 - a type Ibis does not know (only hashed, never read)
        return dt.unknown


class DuckDBRunner(Runner):
    """Runs the rules on the plain connection ``db`` over its view ``raw``."""

    def __init__(self, db, types: dict[str, str], source_desc: str, rows_read: int | None, kind: str | None):
        import ibis
        self.db = db
        self.dialect = DuckDBDialect(db, types)
        self.raw = ibis.table(ibis.schema({n: _dtype(t) for n, t in types.items()}), name="raw")
        self.source_desc = source_desc
        self.rows_read = rows_read
        self.columnar = kind in COLUMNAR_KINDS
        self.as_view = False
        self.helpers: list[str] = []

    @staticmethod
    def sql(expr) -> str:
        import ibis
        return ibis.to_sql(expr, dialect="duckdb")

    def one(self, expr) -> dict:
        cur = self.db.execute(self.sql(expr))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row))

    def all(self, expr) -> list[tuple]:
        return self.db.execute(self.sql(expr)).fetchall()

    def infer_dates(self, values_expr, what: str, date_format: str):
        self.db.execute(f"CREATE OR REPLACE TEMP TABLE _salesnb_dates AS {self.sql(values_expr)}")
        try:
            n = self.db.execute("SELECT count(*) FROM _salesnb_dates").fetchone()[0]
            return infer_on_duckdb(self.db, "_salesnb_dates", n <= DATE_SAMPLE, what, date_format)
        finally:
            self.db.execute("DROP TABLE IF EXISTS _salesnb_dates")

    def store_parsed(self, expr, as_view: bool):
        import ibis
        # Big columnar sources are not copied at all: "parsed" and "sales" are views over the
        # file, and every query reads only the columns it needs (a copy of 100M lines would not
        # fit in a few GB and would spill to disk). Not with filters, nor when duplicates must be
        # dropped (that needs the stored row hash). The file must not change while the dataset
        # is open (the sha256 in the quality record is of the file read).
        self.as_view = as_view and (self.rows_read or 0) >= VIEW_MIN_ROWS
        kind = "VIEW" if self.as_view else "TABLE"
        self.db.execute(f"CREATE {kind} parsed AS {self.sql(expr)}")
        self.helpers = [c for c in expr.columns if c.startswith("_")]
        return ibis.table(expr.schema(), name="parsed")

    def store_sales(self, parsed, kept, canonical: list[str], dedupe: bool, dropped: bool):
        import ibis
        if self.as_view:
            self.db.execute(f"CREATE VIEW sales AS {self.sql((kept if dropped else parsed).select(*canonical))}")
        elif dedupe:
            copies = kept.mutate(_copy=ibis.row_number().over(group_by="_row_hash"))
            self.db.execute(f"CREATE TABLE sales AS {self.sql(copies.filter(copies._copy == 0).select(*canonical))}")
            self.db.execute("DROP TABLE parsed")
        else:
            # no copy: delete the unusable / filtered rows and drop the helper columns (DuckDB
            # drops a column without copying the others), then rename
            if dropped:
                import sqlglot
                where = sqlglot.parse_one(self.sql(kept), read="duckdb").args["where"].this.sql("duckdb")
                self.db.execute(f"DELETE FROM parsed AS t0 WHERE NOT ({where})")
            for helper in self.helpers:
                self.db.execute(f"ALTER TABLE parsed DROP COLUMN {helper}")
            self.db.execute("ALTER TABLE parsed RENAME TO sales")
        return ibis.table(parsed.select(*canonical).schema(), name="sales")


def load_duckdb(config, db, tmpdir: str, with_table: bool = True):
    """Read the source on ``db`` (:class:`~.duckdb._Reader`), run the rules; a Dataset, or only
    the quality record (``with_table=False``)."""
    import hashlib

    from ...errors import NoDataError
    from ..dataset import Dataset
    from ..load import load_rows, quality_of
    from ..rules import _check_columns, _check_duplicate_headers
    from ..sources import fingerprint_later
    from .duckdb import _columns, _Reader

    reader = _Reader(config, db, tmpdir)
    reader.register()
    sha = fingerprint_later(reader.files) if reader.files else None
    source_desc = repr(config.source) if config.source else "the query's result"
    types = _columns(db)
    # A text file was counted as it was read (so that a CSV error names the file) and a columnar
    # source counts from its metadata; a query is counted from its parsed copy (a count here
    # would run the query once more).
    rows_read = reader.rows
    if rows_read is None and reader.kind in COLUMNAR_KINDS:
        rows_read = db.execute("SELECT count(*) FROM raw").fetchone()[0]
    elif rows_read is None and db.execute("SELECT 1 FROM raw LIMIT 1").fetchone() is None:
        rows_read = 0
    if rows_read == 0:
        raise NoDataError(f"{source_desc} has a header but no data rows." if types else f"{source_desc} has no rows.",
                          hint="export the data again with its rows")
    _check_columns(config, types, source_desc)
    _check_duplicate_headers(config, reader.headers, source_desc)
    runner = DuckDBRunner(db, types, source_desc, rows_read, reader.kind)
    _, found = load_rows(config, runner)
    # the files' sha256 was started when they were registered (a query has no files)
    sha = sha.result() if sha is not None else hashlib.sha256((config.query or "").encode()).hexdigest()
    quality = quality_of(config, found, source=config.source or "query", source_label=config.source or "the query",
                         sha256=sha, encoding=reader.encoding, read_notes=reader.notes)
    if not with_table:
        return quality
    import ibis
    con = ibis.duckdb.from_connection(db)
    return Dataset(config=config, con=con, table=con.table("sales"), quality=quality, _tmpdir=tmpdir,
                   source_state=reader.state)
