"""The data layer: read a source in place with DuckDB, map its columns to the canonical names,
parse dates and money, apply the data rules of SPEC 2.3, and expose the result as an Ibis table.

Flow: ``source → raw view → canonical table "sales" (materialised once) → Ibis table``.
Nothing here changes the input: non-UTF-8 text is transcoded into a temporary UTF-8 copy, and
Excel is read into Arrow, both in a temp folder removed when the :class:`Dataset` closes.

Data rules (SPEC 2.3), in the order they apply:

1. A row whose date cannot be read, or whose revenue (or quantity × unit price) cannot be read,
   is dropped and counted per reason with up to 5 example values. A row without an order id is
   dropped the same way (it cannot be counted as an order).
2. ``filters`` (include / exclude by value) drop rows, counted under ``filtered``.
3. Exact duplicate source rows are counted; with ``dedupe: true`` all but one copy are dropped.
4. Returns (negative revenue) are kept: every figure is net.
5. Rows without a customer id are kept for revenue; customer analyses leave them out.
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import glob as globlib
import gzip
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, asdict
from pathlib import Path

from .config import Config, DIMENSIONS, is_url
from .errors import ColumnError, DataError, NoDataError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".psv", ".tab")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
PARTIAL_COVERAGE = 0.9
EXAMPLES = 5

# Candidate date formats for ``date_format: auto``; ISO is preferred, D/M/Y vs M/D/Y is
# decided by the values that only one reading fits.
_TIME_SUFFIXES = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f", " %I:%M:%S %p", " %I:%M %p")
ISO_FORMATS = tuple(f"%Y-%m-%d{t}" for t in _TIME_SUFFIXES) + ("%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y%m%d", "%Y.%m.%d")
DMY_FORMATS = tuple(f"%d{s}%m{s}%Y{t}" for s in "/.-" for t in _TIME_SUFFIXES[:3] + (" %I:%M %p",)) + (
    "%d/%m/%y", "%d.%m.%y", "%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%b-%y")
MDY_FORMATS = tuple(f"%m{s}%d{s}%Y{t}" for s in "/-" for t in _TIME_SUFFIXES[:3] + (" %I:%M %p",)) + (
    "%m/%d/%y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y")


# --------------------------------------------------------------------------- text parsing

_MONEY_JUNK = re.compile(r"[^0-9.,+\-()eE]")


def parse_money(text, decimal: str = ".") -> float | None:
    """Python twin of :func:`money_sql`: ``"$1,234.56"`` → 1234.56, ``"(12.00)"`` → -12.0,
    ``"1.234,56"`` with ``decimal=","`` → 1234.56. Unreadable → None."""
    if text is None:
        return None
    s = str(text).strip()
    if not s:
        return None
    negative = (s.startswith("(") and s.endswith(")")) or s.endswith("-")
    s = _MONEY_JUNK.sub("", s.replace("\u2212", "-")).strip("()")
    if s.endswith("-"):
        s = s[:-1]
    if decimal == ",":
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        return None
    value = float(s)
    if not (value == value) or value in (float("inf"), float("-inf")):
        return None
    return -abs(value) if negative else value


def money_sql(col: str, decimal: str = ".") -> str:
    """SQL expression turning the text column ``col`` into DOUBLE (NULL when unreadable)."""
    s = f"trim(replace(CAST({col} AS VARCHAR), '\u2212', '-'))"
    neg = f"(({s} LIKE '(%)') OR ({s} LIKE '%-' AND length({s}) > 1))"
    body = f"rtrim(trim(regexp_replace({s}, '[^0-9.,+\\-()eE]', '', 'g'), '()'), '-')"
    if decimal == ",":
        body = f"replace(replace({body}, '.', ''), ',', '.')"
    else:
        body = f"replace({body}, ',', '')"
    valid = f"regexp_full_match({body}, '[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?')"
    value = f"TRY_CAST({body} AS DOUBLE)"
    return (f"(CASE WHEN {s} IS NULL OR {s} = '' OR NOT {valid} OR NOT isfinite({value}) THEN NULL "
            f"WHEN {neg} THEN -abs({value}) ELSE {value} END)")


def _path_list(paths) -> str:
    return "[" + ", ".join(sql_literal(p) for p in paths) + "]"


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


# --------------------------------------------------------------------------- results

@dataclass
class DataQuality:
    """What loading found: rows read, used and dropped per reason, quirks, and the fingerprint."""

    source: str
    sha256: str | None
    rows_read: int = 0
    rows_used: int = 0
    rows_dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    returns: dict = field(default_factory=lambda: {"lines": 0, "value": 0.0})
    zero_revenue_lines: int = 0
    missing_customer: dict = field(default_factory=lambda: {"rows": 0, "revenue": 0.0, "revenue_share_pct": None})
    duplicates: dict = field(default_factory=lambda: {"rows": 0, "dropped": 0})
    first_date: str | None = None
    last_date: str | None = None
    partial_months: list[str] = field(default_factory=list)
    gap_months: list[str] = field(default_factory=list)
    month_coverage: dict[str, float] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    dimensions: list[str] = field(default_factory=list)
    revenue_total: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Dataset:
    """The loaded data: an Ibis table on the engine, and what loading found."""

    config: Config
    con: object  # ibis backend
    table: object  # ibis Table over the canonical "sales" table
    quality: DataQuality
    _tmpdir: str | None = None

    @property
    def dimensions(self) -> list[str]:
        return list(self.quality.dimensions)

    @property
    def has_customers(self) -> bool:
        return "customer_id" in self.config.columns

    @property
    def has_quantity(self) -> bool:
        return "quantity" in self.config.columns

    def sql(self, query: str, params=None):
        """Run SQL on the engine and return a small pandas frame."""
        return self.con.con.execute(query, params or []).df()

    def close(self) -> None:
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001 - closing twice is harmless
            pass
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


# --------------------------------------------------------------------------- sources

def _source_files(source: str) -> list[Path]:
    if any(ch in source for ch in "*?["):
        files = sorted(Path(p) for p in globlib.glob(source, recursive=True))
        files = [f for f in files if f.is_file()]
        if not files:
            raise DataError(f"No file matches the source pattern {source!r}.",
                            hint="check the folder and the pattern (relative to the params file)")
        return files
    path = Path(source)
    if not path.exists():
        parent = path.parent
        near = ""
        if parent.is_dir():
            match = difflib.get_close_matches(path.name, [p.name for p in parent.iterdir()], n=1, cutoff=0.6)
            if match:
                near = f" Did you mean {str(parent / match[0])!r}?"
        raise DataError(f"Source file {source!r} does not exist.{near}",
                        hint="fix 'source:' in the params file (paths are relative to it)")
    if path.is_dir():
        raise DataError(f"Source {source!r} is a folder, not a file.",
                        hint="point 'source:' at a file, or a glob such as folder/*.csv")
    if path.stat().st_size == 0:
        raise DataError(f"Source file {source!r} is empty (0 bytes).", hint="export the data again")
    return [path]


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in DUCKDB_SUFFIXES:
        return "duckdb"
    return "text"


def _open_text(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def detect_encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as UTF-8 (BOM allowed), else cp1252, else latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_text(path) as fh:
            head = fh.read(4)
            if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
                return "utf-16"
            decoder.decode(head)
            while chunk := fh.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    except (OSError, EOFError) as exc:
        raise DataError(f"Source file {str(path)!r} cannot be read: {exc}.",
                        hint="check that it is a complete, uncompressed or gzip text file") from None
    cp = codecs.getincrementaldecoder("cp1252")()
    try:
        with _open_text(path) as fh:
            while chunk := fh.read(1 << 22):
                cp.decode(chunk)
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_binary(path: Path) -> bool:
    with _open_text(path) as fh:
        try:
            sample = fh.read(8192)
        except (OSError, EOFError):
            return True
    if not sample:
        return False
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        return True
    return False


def _transcode(path: Path, encoding: str, tmpdir: str, whitespace: bool = False) -> Path:
    """Stream a text file through Python's codecs into a UTF-8 (optionally comma-split) copy."""
    out = Path(tmpdir) / (path.name.removesuffix(".gz") + ".utf8.csv")
    n = 0
    while out.exists():
        n += 1
        out = Path(tmpdir) / f"{n}_{path.name.removesuffix('.gz')}.utf8.csv"
    with _open_text(path) as raw, open(out, "w", encoding="utf-8", newline="") as dst:
        reader = codecs.getreader(encoding)(raw, errors="replace")
        if whitespace:
            import csv
            writer = csv.writer(dst)
            for line in reader:
                parts = line.split()
                if parts:
                    writer.writerow(parts)
        else:
            shutil.copyfileobj(reader, dst, 1 << 20)
    return out


def _whitespace_separated(path: Path, encoding: str) -> bool:
    """True when lines hold runs of spaces but no usual delimiter (e.g. CDNOW's fixed-width text)."""
    with _open_text(path) as fh:
        sample = fh.read(65536).decode(encoding if encoding != "auto" else "utf-8", errors="replace")
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if len(lines) < 1:
        return False
    if any(d in ln for ln in lines for d in (",", ";", "\t", "|")):
        return False
    return all(len(ln.split()) > 1 for ln in lines)


class _Reader:
    """Creates the view ``raw`` over the source on a DuckDB connection."""

    def __init__(self, config: Config, db, tmpdir: str):
        self.config = config
        self.db = db
        self.tmpdir = tmpdir
        self.encoding = None
        self.files: list[Path] = []

    def register(self) -> None:
        cfg = self.config
        if cfg.query:
            self._register_query(cfg.query)
            return
        source = cfg.source
        if is_url(source):
            raise DataError(f"Database URL sources ({source.split('://')[0]}://) need engine support "
                            "that this installation does not have.",
                            hint="use a file source, or see the README section 'Scaling up'")
        self.files = _source_files(source)
        kinds = {_kind(f) for f in self.files}
        if len(kinds) > 1:
            raise DataError(f"The source pattern {source!r} matches files of different kinds: {sorted(kinds)}.",
                            hint="use a pattern that matches one kind, e.g. *.csv")
        kind = kinds.pop()
        getattr(self, f"_register_{kind}")()

    def _fail_read(self, exc: Exception, what: str):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Cannot read {what}: {text[:300]}",
                        hint="check that the file is a complete file of the kind its name says") from None

    def _register_query(self, query: str) -> None:
        base = sql_literal(self.config.base_dir)
        self.db.execute(f"SET file_search_path = {base}")
        q = query.strip().rstrip(";")
        if not re.match(r"(?is)^\s*(with|select|from|\()", q):
            raise DataError("The 'query:' must be a SELECT (or WITH … SELECT).", hint="write e.g. SELECT * FROM 'sales.csv'")
        try:
            self.db.execute(f"CREATE TEMP VIEW raw AS {q}")
            self.db.execute("SELECT * FROM raw LIMIT 0")
        except Exception as exc:  # duckdb raises many error classes
            text = str(exc).strip()
            raise DataError(f"The 'query:' in {self.config.params_path or 'the params'} failed: {text[:500]}",
                            hint="fix the SQL; file paths in it are relative to the params file") from None
        self.files = []

    def _register_parquet(self) -> None:
        paths = [str(f) for f in self.files]
        try:
            self.db.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM read_parquet({_path_list(paths)}, union_by_name=true)")
            self.db.execute("SELECT * FROM raw LIMIT 0")
        except Exception as exc:
            self._fail_read(exc, f"Parquet source {self.config.source!r}")

    def _register_duckdb(self) -> None:
        path = str(self.files[0])
        table = self.config.table
        if not table:
            raise DataError(f"Source {path!r} is a DuckDB database: name the table with 'table:'.",
                            hint="add table: <table name> to the params file")
        try:
            self.db.execute(f"ATTACH {sql_literal(path)} AS src (READ_ONLY)")
        except Exception as exc:
            self._fail_read(exc, f"DuckDB file {path!r}")
        tables = [r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'").fetchall()]
        if table not in tables:
            near = difflib.get_close_matches(table, tables, n=1)
            raise DataError(f"Table {table!r} is not in {path!r}." + (f" Did you mean {near[0]!r}?" if near else ""),
                            hint="tables there: " + ", ".join(tables[:20]))
        self.db.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM src.{quote_ident(table)}")

    def _register_excel(self) -> None:
        import pandas as pd
        try:
            from python_calamine import CalamineWorkbook
        except ImportError:  # pragma: no cover - dependency of the package
            raise DataError("Reading Excel needs python-calamine.", hint="pip install python-calamine") from None
        frames = []
        for f in self.files:
            if f.suffix.lower() == ".xls":
                pass
            try:
                wb = CalamineWorkbook.from_path(str(f))
                sheet = self.config.sheet
                if sheet is None:
                    ws = wb.get_sheet_by_index(0)
                elif isinstance(sheet, int):
                    ws = wb.get_sheet_by_index(sheet)
                else:
                    if sheet not in wb.sheet_names:
                        raise DataError(f"Sheet {sheet!r} is not in {str(f)!r}.",
                                        hint="sheets there: " + ", ".join(wb.sheet_names))
                    ws = wb.get_sheet_by_name(sheet)
                rows = ws.to_python(skip_empty_area=True)
            except DataError:
                raise
            except Exception as exc:
                self._fail_read(exc, f"Excel file {str(f)!r}")
            if not rows:
                raise DataError(f"Excel file {str(f)!r} has an empty first sheet.", hint="set sheet: to the data's sheet")
            header = [str(h).strip() if h not in (None, "") else f"column{i}" for i, h in enumerate(rows[0])]
            body = rows[1:]
            frame = pd.DataFrame(body, columns=header)
            for col in frame.columns:
                values = frame[col]
                types = {type(v) for v in values if v not in (None, "")}
                if len(types) > 1 or types <= {str}:
                    frame[col] = values.map(lambda v: None if v in (None, "") else str(v)).astype("object")
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        arrow_path = Path(self.tmpdir) / "excel.parquet"
        frame.to_parquet(arrow_path, index=False)
        self.db.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM read_parquet({sql_literal(str(arrow_path))})")

    def _register_text(self) -> None:
        cfg = self.config
        readable = []
        for f in self.files:
            if _looks_binary(f):
                raise DataError(f"Source file {str(f)!r} is not text (it holds binary bytes).",
                                hint="export the data as CSV, Parquet or .xlsx")
            encoding = cfg.encoding if cfg.encoding != "auto" else detect_encoding(f)
            self.encoding = encoding
            whitespace = cfg.delimiter == "whitespace" or (cfg.delimiter is None and _whitespace_separated(f, encoding))
            if encoding.replace("-", "").lower() in ("utf8", "ascii", "utf8sig") and not whitespace:
                readable.append(f)
            else:
                readable.append(_transcode(f, "utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding,
                                           self.tmpdir, whitespace))
        options = ["header = true", "all_varchar = true", "sample_size = 20480",
                   "quote = '\"'", "escape = '\"'", "null_padding = true"]
        if cfg.delimiter and cfg.delimiter != "whitespace":
            delim = {"\\t": "\t", "tab": "\t"}.get(cfg.delimiter, cfg.delimiter)
            options.append(f"delim = {sql_literal(delim)}")
        elif any(f.suffix.lower() == ".tsv" or f.name.lower().endswith(".tsv.gz") for f in self.files):
            options.append("delim = '\t'")
        paths = [str(p) for p in readable]
        try:
            self.db.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM read_csv({_path_list(paths)}, "
                            f"{', '.join(options)}, union_by_name = true)")
            self.db.execute("SELECT * FROM raw LIMIT 0")
        except Exception as exc:
            self._fail_read(exc, f"text source {cfg.source!r}")


# --------------------------------------------------------------------------- canonical table

def _columns(db) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("DESCRIBE raw").fetchall()}


def _check_columns(config: Config, raw_cols: dict[str, str], source_desc: str) -> None:
    names = list(raw_cols)
    lowered = {n.lower().strip(): n for n in names}
    for role, col in config.columns.items():
        if col in raw_cols:
            continue
        if col.strip().lower() in lowered:
            hint_col = lowered[col.strip().lower()]
        else:
            match = difflib.get_close_matches(col, names, n=1, cutoff=0.4) or \
                difflib.get_close_matches(col.lower(), [n.lower() for n in names], n=1, cutoff=0.4)
            hint_col = lowered.get(match[0].lower(), match[0]) if match else None
        near = f" The closest column is {hint_col!r}." if hint_col else ""
        shown = ", ".join(repr(n) for n in names[:30]) + (" …" if len(names) > 30 else "")
        raise ColumnError(f"Column {col!r} (columns.{role}) is not in {source_desc}.{near}",
                          hint=f"fix columns.{role} in the params file; the source's columns are: {shown}",
                          column=col, role=role)


def _id_sql(col: str, dtype: str) -> str:
    c = quote_ident(col)
    if dtype.upper() in ("DOUBLE", "FLOAT", "REAL", "DECIMAL") or dtype.upper().startswith("DECIMAL"):
        # float ids such as 17850.0 (a NaN made the column float) become "17850"
        return (f"CASE WHEN {c} IS NULL OR isnan({c}::DOUBLE) THEN NULL WHEN {c} = trunc({c}) "
                f"THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END")
    text = f"trim(CAST({c} AS VARCHAR))"
    if dtype.upper() == "VARCHAR":
        # text ids exported from a float column: "17850.0" → "17850"
        text = f"regexp_replace({text}, '^([0-9]+)\\.0+$', '\\1')"
    return f"NULLIF({text}, '')"


def _dim_sql(col: str) -> str:
    return f"NULLIF(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"


def _number_sql(col: str, dtype: str, decimal: str) -> str:
    c = quote_ident(col)
    if dtype.upper() in ("VARCHAR", "BLOB"):
        return money_sql(c, decimal)
    if dtype.upper() == "BOOLEAN":
        return f"CAST({c} AS DOUBLE)"
    return f"(CASE WHEN isfinite(TRY_CAST({c} AS DOUBLE)) THEN TRY_CAST({c} AS DOUBLE) END)"


def _infer_date_format(db, col: str, date_format: str, source_desc: str) -> str:
    """Pick one strptime format for a text date column (SPEC 2.1)."""
    c = quote_ident(col)
    if date_format == "dayfirst":
        candidates = DMY_FORMATS + ISO_FORMATS
    elif date_format == "monthfirst":
        candidates = MDY_FORMATS + ISO_FORMATS
    else:
        candidates = ISO_FORMATS + DMY_FORMATS + MDY_FORMATS
    distinct = f"(SELECT DISTINCT trim(CAST({c} AS VARCHAR)) AS v FROM raw WHERE {c} IS NOT NULL LIMIT 200000)"
    counts_sql = ", ".join(f"count(try_strptime(v, {sql_literal(f)}))" for f in candidates)
    counts = db.execute(f"SELECT count(*), {counts_sql} FROM {distinct}").fetchone()
    total, counts = counts[0], dict(zip(candidates, counts[1:]))
    if total == 0:
        raise NoDataError(f"Column {col!r} (columns.order_date) in {source_desc} is empty on every row.",
                          hint="map columns.order_date to the column that holds the order dates")
    best_iso = max(ISO_FORMATS, key=lambda f: counts[f])
    best_dmy = max(DMY_FORMATS, key=lambda f: counts[f])
    best_mdy = max(MDY_FORMATS, key=lambda f: counts[f])
    if date_format == "dayfirst":
        best = max((best_dmy, best_iso), key=lambda f: counts[f])
    elif date_format == "monthfirst":
        best = max((best_mdy, best_iso), key=lambda f: counts[f])
    else:
        best = max((best_iso, best_dmy, best_mdy), key=lambda f: counts[f])
        if counts[best_iso] >= counts[best]:
            best = best_iso
        elif counts[best_dmy] == counts[best_mdy] and counts[best_dmy] > 0 and best != best_iso:
            examples = [r[0] for r in db.execute(f"SELECT v FROM {distinct} LIMIT 3").fetchall()]
            raise DataError(
                f"Dates in column {col!r} of {source_desc} are ambiguous: every value reads both as "
                f"day/month and as month/day (e.g. {', '.join(map(repr, examples))}).",
                hint="set date_format: dayfirst, monthfirst, or a pattern such as '%d/%m/%Y'")
    if counts[best] == 0:
        examples = [r[0] for r in db.execute(f"SELECT v FROM {distinct} LIMIT {EXAMPLES}").fetchall()]
        raise NoDataError(
            f"No value of column {col!r} (columns.order_date) in {source_desc} reads as a date "
            f"({total:,} distinct values, e.g. {', '.join(map(repr, examples))}).",
            hint="check columns.order_date, or set date_format to a strftime pattern such as '%d.%m.%Y'")
    return best


def _date_sql(db, col: str, dtype: str, config: Config, source_desc: str) -> tuple[str, str]:
    c = quote_ident(col)
    fmt = config.date_format
    upper = dtype.upper()
    if "%" in fmt:
        return f"try_strptime(trim(CAST({c} AS VARCHAR)), {sql_literal(fmt)})", fmt
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        if "WITH TIME ZONE" in upper:
            return f"CAST(timezone('UTC', {c}) AS TIMESTAMP)", "native timestamp (UTC)"
        return f"CAST({c} AS TIMESTAMP)", "native " + upper.lower()
    chosen = _infer_date_format(db, col, fmt, source_desc)
    return f"try_strptime(trim(CAST({c} AS VARCHAR)), {sql_literal(chosen)})", chosen


def _connect(config: Config, tmpdir: str):
    import ibis
    kwargs = {"temp_directory": os.path.join(tmpdir, "spill")}
    limit = config.memory_limit or os.environ.get("SALESNB_MEMORY_LIMIT")
    if limit:
        kwargs["memory_limit"] = limit
    con = ibis.duckdb.connect(**kwargs)
    con.con.execute("SET preserve_insertion_order = false")
    return con


def load_data(config: Config) -> Dataset:
    """Load the config's source into the canonical table and check it (SPEC 2.2, 2.3)."""
    if config.engine not in ("duckdb", "", None):
        from . import engines
        return engines.load_on_engine(config)
    tmpdir = tempfile.mkdtemp(prefix="salesnb-")
    try:
        con = _connect(config, tmpdir)
        dataset = _load_duckdb(config, con, tmpdir)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return dataset


def _load_duckdb(config: Config, con, tmpdir: str) -> Dataset:
    db = con.con
    reader = _Reader(config, db, tmpdir)
    reader.register()
    source_desc = repr(config.source) if config.source else "the query's result"
    raw_cols = _columns(db)
    rows_read = db.execute("SELECT count(*) FROM raw").fetchone()[0]
    if rows_read == 0:
        raise NoDataError(f"{source_desc} has a header but no data rows." if raw_cols else f"{source_desc} has no rows.",
                          hint="export the data again with its rows")
    _check_columns(config, raw_cols, source_desc)
    cols = config.columns

    date_expr, date_fmt = _date_sql(db, cols["order_date"], raw_cols[cols["order_date"]], config, source_desc)
    selects = {
        "order_id": _id_sql(cols["order_id"], raw_cols[cols["order_id"]]),
        "order_date": date_expr,
    }
    if "customer_id" in cols:
        selects["customer_id"] = _id_sql(cols["customer_id"], raw_cols[cols["customer_id"]])
    for role in ("quantity", "unit_price"):
        if role in cols:
            selects[role] = _number_sql(cols[role], raw_cols[cols[role]], config.decimal)
    if "revenue" in cols:
        selects["revenue"] = _number_sql(cols["revenue"], raw_cols[cols["revenue"]], config.decimal)
    else:
        selects["revenue"] = "quantity * unit_price"
    for dim in DIMENSIONS:
        if dim in cols:
            selects[dim] = _dim_sql(cols[dim])

    # Stage 1: parse every row once into "parsed", keeping the raw text for the examples.
    first = [f"{selects[k]} AS {k}" for k in ("order_id", "order_date") ]
    for role in ("customer_id", "quantity", "unit_price"):
        if role in selects:
            first.append(f"{selects[role]} AS {role}")
    if "revenue" in cols:
        first.append(f"{selects['revenue']} AS revenue")
    first += [f"{selects[d]} AS {d}" for d in DIMENSIONS if d in selects]
    raw_keep = {"order_date": cols["order_date"]}
    if "revenue" in cols:
        raw_keep["revenue"] = cols["revenue"]
    else:
        raw_keep["quantity"] = cols["quantity"]
        raw_keep["unit_price"] = cols["unit_price"]
    raw_keep["order_id"] = cols["order_id"]
    first += [f"CAST({quote_ident(c)} AS VARCHAR) AS _raw_{k}" for k, c in raw_keep.items()]
    hash_cols = ", ".join(quote_ident(c) for c in raw_cols)
    dup_sql = f", hash({hash_cols}) AS _row_hash"
    inner = f"SELECT {', '.join(first)}{dup_sql} FROM raw"
    if "revenue" not in cols:
        inner = f"SELECT *, quantity * unit_price AS revenue FROM ({inner})"
    db.execute(f"CREATE TEMP TABLE parsed AS {inner}")

    reasons = {
        "unparseable date": "order_date IS NULL",
        "unparseable revenue": "revenue IS NULL",
        "missing order id": "order_id IS NULL",
    }
    example_col = {"unparseable date": "_raw_order_date", "missing order id": "_raw_order_id",
                   "unparseable revenue": "_raw_revenue" if "revenue" in cols else
                   "concat_ws(' × ', coalesce(_raw_quantity, '(empty)'), coalesce(_raw_unit_price, '(empty)'))"}
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    bad_so_far = []
    for reason, cond in reasons.items():
        # each row counts under its first failing reason, so the counts add up to the rows dropped
        where = cond + "".join(f" AND NOT ({b})" for b in bad_so_far)
        n = db.execute(f"SELECT count(*) FROM parsed WHERE {where}").fetchone()[0]
        if n:
            dropped[reason] = n
            ex = db.execute(f"SELECT DISTINCT coalesce({example_col[reason]}, '(empty)') FROM parsed WHERE {where} "
                            f"LIMIT {EXAMPLES}").fetchall()
            examples[reason] = [str(r[0]) for r in ex]
        bad_so_far.append(cond)
    valid = " AND ".join(f"NOT ({c})" for c in reasons.values())

    # filters: values are bound parameters, never pasted into the SQL
    filter_sql, params = [], []
    for role, values in config.filters.get("include", {}).items():
        filter_sql.append(f"coalesce({role}, '') IN (SELECT unnest(?::VARCHAR[]))")
        params.append(values)
    for role, values in config.filters.get("exclude", {}).items():
        filter_sql.append(f"coalesce({role}, '') NOT IN (SELECT unnest(?::VARCHAR[]))")
        params.append(values)
    keep = valid
    if filter_sql:
        keep_filters = " AND ".join(filter_sql)
        n = db.execute(f"SELECT count(*) FROM parsed WHERE {valid} AND NOT ({keep_filters})", params).fetchone()[0]
        if n:
            dropped["filtered"] = n
        keep = f"{valid} AND {keep_filters}"

    dup_rows = db.execute("SELECT count(*) - count(DISTINCT _row_hash) FROM parsed").fetchone()[0]
    canonical = ["order_id", "order_date"] + [k for k in ("customer_id", "quantity", "unit_price") if k in selects]
    canonical += ["revenue"] + [d for d in DIMENSIONS if d in selects]
    col_list = ", ".join(canonical)
    if config.dedupe and dup_rows:
        body = (f"SELECT {col_list} FROM (SELECT *, row_number() OVER (PARTITION BY _row_hash) AS _copy "
                f"FROM parsed WHERE {keep}) WHERE _copy = 1")
    else:
        body = f"SELECT {col_list} FROM parsed WHERE {keep}"
    db.execute(f"CREATE TABLE sales AS {body}", params)
    db.execute("DROP TABLE parsed")
    rows_used = db.execute("SELECT count(*) FROM sales").fetchone()[0]
    dup_dropped = 0
    if config.dedupe and dup_rows:
        dup_dropped = rows_read - sum(dropped.values()) - rows_used
        if dup_dropped:
            dropped["duplicate"] = dup_dropped
    if rows_used == 0:
        detail = "; ".join(f"{k}: {v:,} (e.g. {', '.join(map(repr, examples.get(k, [])[:3]))})" for k, v in dropped.items())
        raise NoDataError(f"No usable row in {source_desc}: all {rows_read:,} rows were dropped ({detail}).",
                          hint="check the column mapping, date_format, decimal and filters in the params file")

    quality = _quality(db, config, reader, rows_read, rows_used, dropped, examples, dup_rows, dup_dropped, date_fmt)
    table = con.table("sales")
    return Dataset(config=config, con=con, table=table, quality=quality, _tmpdir=tmpdir)


def month_coverage(first: dt.date, last: dt.date) -> dict[str, float]:
    """Share of each edge month's calendar days that the data's date range covers."""
    import calendar
    out = {}
    for day, is_first in ((first, True), (last, False)):
        days = calendar.monthrange(day.year, day.month)[1]
        lo = first if (first.year, first.month) == (day.year, day.month) else day.replace(day=1)
        hi = last if (last.year, last.month) == (day.year, day.month) else day.replace(day=days)
        out[f"{day.year:04d}-{day.month:02d}"] = ((hi - lo).days + 1) / days
    return out


def partial_months(first: dt.date, last: dt.date) -> list[str]:
    return sorted(m for m, share in month_coverage(first, last).items() if share < PARTIAL_COVERAGE)


def _quality(db, config, reader, rows_read, rows_used, dropped, examples, dup_rows, dup_dropped, date_fmt) -> DataQuality:
    has_cust = "customer_id" in config.columns
    stats = db.execute(f"""
        SELECT min(order_date), max(order_date), sum(revenue),
               count(*) FILTER (WHERE revenue < 0), coalesce(-sum(revenue) FILTER (WHERE revenue < 0), 0),
               count(*) FILTER (WHERE revenue = 0),
               {"count(*) FILTER (WHERE customer_id IS NULL), coalesce(sum(revenue) FILTER (WHERE customer_id IS NULL), 0)" if has_cust else "count(*), sum(revenue)"}
        FROM sales""").fetchone()
    first, last, total, ret_lines, ret_value, zero_lines, nocust_rows, nocust_rev = stats
    months = [r[0] for r in db.execute(
        "SELECT DISTINCT strftime(order_date, '%Y-%m') FROM sales ORDER BY 1").fetchall()]
    first_d, last_d = first.date(), last.date()
    from .periods import month_index, month_label
    present = set(months)
    gaps = [month_label(i) for i in range(month_index(first_d), month_index(last_d) + 1)
            if month_label(i) not in present]
    coverage = month_coverage(first_d, last_d)
    files = reader.files
    sha = fingerprint(files) if files else hashlib.sha256((config.query or "").encode()).hexdigest()
    notes = []
    if first_d == last_d:
        notes.append(f"The data holds a single day ({first_d.isoformat()}): trends and growth cannot be computed.")
    if not has_cust:
        notes.append("No customer id is mapped: customer analyses are left out.")
    share = (100.0 * nocust_rev / total) if has_cust and total else None
    q = DataQuality(
        source=config.source or "query", sha256=sha, rows_read=int(rows_read), rows_used=int(rows_used),
        rows_dropped={k: int(v) for k, v in dropped.items()}, examples=examples,
        returns={"lines": int(ret_lines), "value": float(ret_value)}, zero_revenue_lines=int(zero_lines),
        missing_customer={"rows": int(nocust_rows), "revenue": float(nocust_rev), "revenue_share_pct": share},
        duplicates={"rows": int(dup_rows), "dropped": int(dup_dropped)},
        first_date=first_d.isoformat(), last_date=last_d.isoformat(),
        partial_months=partial_months(first_d, last_d), gap_months=gaps,
        month_coverage={k: round(v, 4) for k, v in coverage.items()}, date_format=date_fmt,
        encoding=reader.encoding, columns=dict(config.columns), dimensions=config.dimensions,
        revenue_total=float(total), notes=notes)
    return q
