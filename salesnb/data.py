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

Reading text (where the SPEC is silent, these are the choices):

* ``encoding: auto`` reads UTF-8 (BOM or not) and UTF-16 (BOM), else Windows-1252, else
  Latin-1. A named encoding must decode the whole file, or loading stops with the line of the
  first bad byte (wrong text is never read silently); a single-byte encoding named for a file
  that is valid UTF-8 adds a note.
* An Excel ``sep=;`` first line names the delimiter. A header that arrives as one column
  holding ``;``/tab/``|``/``,`` is reported as a wrong delimiter.
* Dates (``auto``): one family of formats per column (a date part, with or without a time of
  day); an inferred format reads years 1900..2100 only; ISO wins ties; text with a UTC offset
  becomes UTC. A native date/timestamp column ignores ``date_format`` (with a note).
* Money and numbers: see :func:`parse_money`. Non-finite values (inf, nan, overflow) are
  unreadable; huge finite values are kept with a note; a total that overflows is an error.
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import errno
import glob as globlib
import gzip
import hashlib
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, asdict
from pathlib import Path

from .config import ORDER_ID_PARTS_SHOWN, Config, DIMENSIONS, is_url
from .errors import ColumnError, DataError, NoDataError, SalesnbError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".psv", ".tab")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
PARTIAL_COVERAGE = 0.9
HUGE_VALUE = 1e12  # a line revenue this large (in any currency) is flagged in the notes
MAX_LINE_REVENUE = 1e15  # a line revenue this large is dropped and counted (no real sale is)
EXAMPLES = 5
# Every DuckDB connection: no extension is installed or loaded on its own (a read_csv of an
# http:// path would otherwise download and load httpfs, i.e. code from the network).
DUCKDB_SETTINGS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
WEB_SCHEMES = ("http", "https", "s3", "s3a", "gs", "gcs", "az", "azure", "abfss", "hf", "r2", "ftp")
_URL_IN_SQL = re.compile(r"""['"]\s*([a-z][a-z0-9+.-]*)://""", re.I)
# A date is implausible when its year is outside 1..9998 (placeholders such as 9999-12-31), or
# when it lies in a group of dates separated from the bulk of the data by more than
# OUTLIER_GAP_YEARS years without a row, and that group holds at most OUTLIER_SHARE of the dated
# rows (one 1900-01-01 typo among recent sales): such rows are dropped and counted.
OUTLIER_GAP_YEARS = 5
OUTLIER_SHARE = 0.01

# Candidate date formats for ``date_format: auto``, in families that share a date part (a
# family's formats differ only in the time of day, so a column may mix "5/1/2024" and
# "5/1/2024 10:30"). ISO is preferred; D/M/Y vs M/D/Y is decided by the values that only one
# reading fits. An inferred format only reads years 1900..2100, so "05/01/24" is never year 24.
_TIMES = ("", " %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p")
ISO_FAMILIES = (
    tuple(f"%Y-%m-%d{t}" for t in _TIMES + ("T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f", "T%H:%M",
                                              "T%H:%M:%SZ", "T%H:%M:%S.%fZ", "T%H:%M:%S%z",
                                              " %H:%M:%S%z", "T%H:%M:%S.%f%z")),
    tuple(f"%Y/%m/%d{t}" for t in _TIMES[:3]),
    ("%Y%m%d",),
    ("%Y.%m.%d",),
)
DMY_FAMILIES = tuple(tuple(f"%d{s}%m{s}%Y{t}" for t in _TIMES) for s in "/.-") + tuple(
    tuple(f"%d{s}%m{s}%y{t}" for t in _TIMES[:3]) for s in "/.-") + (
    ("%d %b %Y",), ("%d-%b-%Y",), ("%d %B %Y",), ("%d-%b-%y",))
MDY_FAMILIES = tuple(tuple(f"%m{s}%d{s}%Y{t}" for t in _TIMES) for s in "/-") + (
    tuple(f"%m/%d/%y{t}" for t in _TIMES[:3]), ("%b %d, %Y",), ("%B %d, %Y",), ("%b %d %Y",))
ISO_FORMATS = tuple(f for fam in ISO_FAMILIES for f in fam)
DMY_FORMATS = tuple(f for fam in DMY_FAMILIES for f in fam)
MDY_FORMATS = tuple(f for fam in MDY_FAMILIES for f in fam)
YEAR_RANGE = (1900, 2100)


# --------------------------------------------------------------------------- text parsing

# Money and numbers as text (SPEC 2.2). The Python and SQL versions follow one grammar:
#  1. a Unicode minus becomes '-';
#  2. currency symbols and codes, spaces (any kind) and apostrophes are removed: every
#     non-ASCII character, '$', ASCII whitespace, "'", a run of 2+ ASCII letters (EUR, kr, CHF)
#     and 1-3 letters right before '$' (R$, US$);
#  3. what is left must be a number: optional '(' … ')' or a trailing '-' (negative), an
#     optional sign, digits whose thousands groups are separated by the non-decimal mark
#     ("1,234,567.89", or "1.234.567,89" with decimal ","), and an optional exponent;
#  4. a value that is not finite (inf, nan, 1e400) is unreadable.
# Anything else is unreadable (None / NULL): such a row is dropped and counted.
_MONEY_STRIP = r"[A-Za-z]{1,3}\$|[A-Za-z]{2,}|[^\x00-\x7F]|[ \t\n\r\f\x0b'$]"
_NUMBER = {
    ".": r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
    ",": r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]*)?|[0-9]+(?:,[0-9]*)?|,[0-9]+)(?:[eE][+-]?[0-9]+)?",
}
# the cleaned text: "(number)" → p, "number-" → t, "number" → n (exactly one group matches)
_MONEY = {d: rf"^(?:\((?P<p>{n})\)|(?P<t>{n})-|(?P<n>{n}))$" for d, n in _NUMBER.items()}
# plain numbers ("12.50", "-3") need none of that: a fast path in SQL (same result)
_PLAIN = {".": r"-?[0-9]{1,15}(\.[0-9]{1,15})?", ",": r"-?[0-9]{1,15}"}
_MONEY_STRIP_RE = re.compile(_MONEY_STRIP)
_MONEY_RE = {d: re.compile(p) for d, p in _MONEY.items()}


def _to_float(number: str, decimal: str) -> float | None:
    text = number.replace(",", "") if decimal == "." else number.replace(".", "").replace(",", ".")
    value = float(text)
    return value if math.isfinite(value) else None


def parse_money(text, decimal: str = ".") -> float | None:
    """Python twin of :func:`money_sql`: ``"$1,234.56"`` → 1234.56, ``"(12.00)"`` → -12.0,
    ``"1.234,56 €"`` with ``decimal=","`` → 1234.56, ``"5-"`` → -5.0. Unreadable → None."""
    if text is None:
        return None
    m = _MONEY_RE[decimal].match(_MONEY_STRIP_RE.sub("", str(text).replace("\u2212", "-")))
    if not m:
        return None
    value = _to_float(m["p"] or m["t"] or m["n"], decimal)
    if value is None:
        return None
    return -abs(value) if (m["p"] or m["t"]) else value


def money_sql(col: str, decimal: str = ".") -> str:
    """SQL expression turning the text column ``col`` into DOUBLE (NULL when unreadable).

    The text is cleaned and matched once (``list_transform`` over a one-element list binds the
    match to a name, so DuckDB does not repeat the regular expressions)."""
    text = f"CAST({col} AS VARCHAR)"
    clean = f"regexp_replace(replace({text}, '\u2212', '-'), {sql_literal(_MONEY_STRIP)}, '', 'g')"
    match = f"regexp_extract({clean}, {sql_literal(_MONEY[decimal])}, ['p', 't', 'n'])"
    number = "m.p || m.t || m.n"
    number = (f"replace({number}, ',', '')" if decimal == "." else
              f"replace(replace({number}, '.', ''), ',', '.')")
    parsed = (f"list_transform([{match}], lambda m: list_transform([TRY_CAST({number} AS DOUBLE)], lambda v: "
              f"CASE WHEN isfinite(v) THEN CASE WHEN m.p <> '' OR m.t <> '' THEN -abs(v) ELSE v END END)[1])[1]")
    return (f"(CASE WHEN {col} IS NULL THEN NULL "
            f"WHEN regexp_full_match({text}, {sql_literal(_PLAIN[decimal])}) THEN CAST({text} AS DOUBLE) "
            f"ELSE {parsed} END)")


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
    # the source files' (path, size, mtime) as they were read: see source_changes()
    source_state: tuple = ()
    # aggregates shared by the metrics and the reports of one load (salesnb.metrics.orders.shared)
    _shared: dict = field(default_factory=dict, repr=False, compare=False)

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
        _release_shared(self)
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


def _release_shared(dataset) -> None:
    """Drop the engine tables cached for the dataset's metrics (before the connection closes)."""
    shared, dataset._shared = dataset._shared, {}
    for value in shared.values():
        try:
            value.release()
        except Exception:  # noqa: BLE001 - not an engine table, or already gone
            pass


# --------------------------------------------------------------------------- sources

def _source_files(source: str) -> list[Path]:
    if any(ch in source for ch in "*?[") and not Path(source).is_file():
        files = sorted(Path(p) for p in globlib.glob(source, recursive=True))
        files = [f for f in files if f.is_file()]
        if not files:
            raise DataError(f"No file matches the source pattern {source!r}.",
                            hint="check the folder and the pattern (relative to the params file)")
        return files
    path = Path(source)
    if not path.exists() and path.is_symlink():
        try:
            path.resolve(strict=True)
            cause = "leads to a file that does not exist"
        except RuntimeError:
            cause = "is a symbolic link that leads back to itself (a loop)"
        except OSError as exc:
            cause = ("is a symbolic link that leads back to itself (a loop)" if exc.errno == errno.ELOOP
                     else f"is a symbolic link that leads to a file that does not exist ({os.readlink(path)!r})")
        raise DataError(f"Source file {source!r} {cause}.",
                        hint="point source: at the data file itself, or fix the link")
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


def file_state(files) -> tuple:
    """(path, size, mtime in ns) of each file: compared with source_changes() before a report is
    published, so that a file overwritten while a run reads it fails the run."""
    out = []
    for f in files:
        st = os.stat(f)
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


def source_changes(state) -> str | None:
    """The first file of ``state`` (from file_state) that is gone or differs now; None if none."""
    for path, size, mtime in state or ():
        try:
            st = os.stat(path)
        except OSError:
            return path
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return path
    return None


def fingerprint_later(files: list[Path]):
    """``fingerprint(files)`` in a background thread (a Future): hashlib lets go of the GIL while it
    hashes, so reading a big file for its sha256 overlaps the engine's first scans."""
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesnb-sha256")
    future = pool.submit(fingerprint, list(files))
    pool.shutdown(wait=False)
    return future


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def _interrupt_error(exc: BaseException) -> bool:
    """DuckDB's error for a query stopped by Ctrl-C (or Ctrl-C itself)."""
    from .errors import interrupted
    return interrupted() or isinstance(exc, KeyboardInterrupt) or "INTERRUPT" in str(exc).upper()[:200]


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


UTF8_REPLACED = "utf-8 (invalid bytes replaced)"


def _utf8_counts(path: Path) -> tuple[int, int]:
    """(invalid byte sequences, valid non-ASCII characters) of a file read as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    bad = good = 0
    with _open_text(path) as fh:
        while True:
            chunk = fh.read(1 << 22)
            text = decoder.decode(chunk, final=not chunk)
            if not text.isascii():
                n_bad = text.count("\ufffd")
                bad += n_bad
                good += sum(1 for ch in text if ord(ch) > 127) - n_bad
            if not chunk:
                return bad, good


def detect_encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as UTF-8 (BOM allowed); UTF-8 with the few invalid bytes
    replaced when valid UTF-8 characters outnumber them (a mostly UTF-8 file with a stray
    byte); else cp1252, else latin-1."""
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
    bad, good = _utf8_counts(path)
    if good > bad:
        return UTF8_REPLACED
    cp = codecs.getincrementaldecoder("cp1252")()
    try:
        with _open_text(path) as fh:
            while chunk := fh.read(1 << 22):
                cp.decode(chunk)
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _check_encoding(path: Path, encoding: str) -> None:
    """A declared ``encoding`` must decode the whole file: wrong text is never read silently."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with _open_text(path) as fh:
        while True:
            chunk = fh.read(1 << 22)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                pos = offset + exc.start
                with _open_text(path) as again:
                    head = again.read(pos)
                line = head.count(b"\n") + 1
                bad = exc.object[exc.start:exc.start + 1]
                guess = detect_encoding(path)
                raise DataError(
                    f"Source file {str(path)!r} is not {encoding} text: byte 0x{bad.hex()} on line {line} "
                    f"(byte offset {pos:,}) does not decode.",
                    hint=f"set encoding: auto (this file reads as {guess}) or the encoding it was saved in") from None
            if not chunk:
                return
            offset += len(chunk)


def _looks_binary(path: Path) -> bool:
    with _open_text(path) as fh:
        try:
            sample = fh.read(8192)
        except (OSError, EOFError) as exc:
            raise DataError(f"Source file {str(path)!r} cannot be read as gzip: {exc}.",
                            hint="check that the .gz file is complete (download it again)") from None
    if not sample:
        return False
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        return True
    return False


def _packed_kind(path: Path) -> tuple[str, str] | None:
    """(what, what to do) for a compressed file or archive behind a text file's name."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\x1f\x8b"):
        return ("gzip-compressed", f"name it {path.name}.gz (salesnb reads .csv.gz files), or unpack it with gunzip")
    if head.startswith(b"PK\x03\x04"):
        return ("a zip archive (or an Excel workbook)",
                "unzip it and point source: at the CSV inside; if it is an Excel workbook, name it .xlsx")
    for magic, what in ((b"PAR1", "a Parquet file"), (b"BZh", "bzip2-compressed"), (b"\xfd7zXZ", "xz-compressed"),
                        (b"\x28\xb5\x2f\xfd", "zstd-compressed")):
        if head.startswith(magic):
            return (what, "give the file its real extension (.parquet), or unpack it" if what == "a Parquet file"
                    else "unpack it and point source: at the CSV inside")
    return None


def _mixed_line_endings(path: Path) -> bool:
    """Whether the file ends its lines in more than one way (CRLF, LF, CR)."""
    kinds = set()
    prev_cr = False
    with _open_text(path) as fh:
        while chunk := fh.read(1 << 20):
            if prev_cr:
                chunk = b"\r" + chunk
            prev_cr = chunk.endswith(b"\r")
            if prev_cr:
                chunk = chunk[:-1]
            crlf = chunk.count(b"\r\n")
            if crlf:
                kinds.add("crlf")
            if chunk.count(b"\n") > crlf:
                kinds.add("lf")
            if chunk.count(b"\r") > crlf:
                kinds.add("cr")
            if len(kinds) > 1:
                return True
    return False


def _normalized_line_endings(path: Path, tmpdir: str) -> Path:
    """A copy of the file with every line ending (CRLF, LF, CR) made LF."""
    out = Path(tmpdir) / f"{len(list(Path(tmpdir).glob('*.lf.csv')))}_{path.name.removesuffix('.gz')}.lf.csv"
    prev_cr = False
    with _open_text(path) as src, open(out, "wb") as dst:
        while chunk := src.read(1 << 20):
            if prev_cr and chunk.startswith(b"\n"):
                chunk = chunk[1:]
            prev_cr = chunk.endswith(b"\r")
            dst.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    return out


def _unclosed_quote_line(path: Path, encoding: str = "utf-8") -> int | None:
    """The line on which a quoted field starts that no quote ever closes; None if the quotes pair up."""
    count, start = 0, None
    with _open_text(path) as raw:
        reader = codecs.getreader(encoding)(raw, errors="replace")
        for number, line in enumerate(reader, 1):
            n = line.count('"')
            if n % 2 and count % 2 == 0:
                start = number
            count += n
    return start if count % 2 else None


SINGLE_BYTE = ("latin1", "iso88591", "cp1252", "windows1252", "iso885915", "latin9", "cp850", "cp437", "macroman")


def _has_non_ascii(path: Path) -> bool:
    with _open_text(path) as fh:
        while chunk := fh.read(1 << 22):
            if not chunk.isascii():
                return True
    return False


def _sep_line(path: Path, encoding: str) -> str | None:
    """The delimiter named by an Excel-style first line ``sep=;``, if the file has one."""
    with _open_text(path) as fh:
        head = fh.read(64)
    enc = "utf-8-sig" if encoding.replace("-", "").lower() in ("utf8", "ascii", "utf8sig") else encoding
    first = head.decode(enc, errors="replace").splitlines()[0] if head else ""
    m = re.fullmatch(r'\s*"?sep=(.)"?\s*', first)
    return m.group(1) if m else None


def _transcode(path: Path, encoding: str, tmpdir: str, whitespace: bool = False,
               skip_first_line: bool = False) -> Path:
    """Stream a text file through Python's codecs into a UTF-8 (optionally comma-split) copy."""
    out = Path(tmpdir) / (path.name.removesuffix(".gz") + ".utf8.csv")
    n = 0
    while out.exists():
        n += 1
        out = Path(tmpdir) / f"{n}_{path.name.removesuffix('.gz')}.utf8.csv"
    with _open_text(path) as raw, open(out, "w", encoding="utf-8", newline="") as dst:
        reader = codecs.getreader(encoding)(raw, errors="replace")
        if skip_first_line:
            reader.readline()
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
        self.rows: int | None = None  # rows of ``raw`` when registering already counted them
        self.sep: str | None = None  # the delimiter an Excel "sep=" line names
        self.notes: list[str] = []  # caveats found while reading, shown in the quality report
        self.kind: str | None = None  # parquet, duckdb, excel, text; None for a query
        self.state: tuple = ()  # file_state(self.files) before reading
        self.headers: list[tuple[str, list[str]]] = []  # (file name, header names as written)

    def register(self) -> None:
        cfg = self.config
        if cfg.query:
            self._register_query(cfg.query)
            return
        source = cfg.source
        if is_url(source) and source.split("://")[0].lower() in WEB_SCHEMES:
            raise DataError(f"Source {source[:200]!r} is a URL: salesnb reads local files only and never "
                            "downloads data.", hint="download the file first and point source: at its local path")
        if is_url(source):
            raise DataError(f"Database URL sources ({source.split('://')[0]}://) need engine support "
                            "that this installation does not have.",
                            hint="use a file source, or see the README section 'Scaling up'")
        self.files = _source_files(source)
        self.state = file_state(self.files)
        kinds = {_kind(f) for f in self.files}
        if len(kinds) > 1:
            raise DataError(f"The source pattern {source!r} matches files of different kinds: {sorted(kinds)}.",
                            hint="use a pattern that matches one kind, e.g. *.csv")
        kind = kinds.pop()
        self.kind = kind
        getattr(self, f"_register_{kind}")()

    def _fail_read(self, exc: Exception, what: str, hint: str | None = None):
        from .errors import interrupted
        if interrupted() or isinstance(exc, KeyboardInterrupt):   # Ctrl-C, not a data problem
            raise KeyboardInterrupt from None
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        if any("Out of Memory" in ln for ln in lines[:1]):
            raise DataError(f"DuckDB ran out of memory reading {what}.",
                            hint="raise memory_limit in the params file (e.g. memory_limit: 4GB), or "
                                 "SALESNB_MEMORY_LIMIT") from None
        # DuckDB's CSV errors: "CSV Error on Line: N", the line itself ("Original Line: …", cut: it
        # can be megabytes), then the reason (shown whole), then the sniffer's settings
        if lines and lines[0].startswith("Invalid Input Error: CSV Error"):
            rest = [ln for ln in lines[1:4] if not ln.startswith(("Original Line", "Possible Solution", "file ="))]
            text = " ".join([lines[0]] + rest[:1])
        else:
            text = lines[0] if lines else type(exc).__name__
        raise DataError(f"Cannot read {what}: {text if len(text) <= 600 else text[:599] + '…'}",
                        hint=hint or "check that the file is a complete file of the kind its name says") from None

    def _register_query(self, query: str) -> None:
        base = sql_literal(self.config.base_dir)
        self.db.execute(f"SET file_search_path = {base}")
        q = query.strip().rstrip(";").strip()
        where = self.config.params_path or "the params"
        import duckdb
        try:
            statements = duckdb.extract_statements(q)
        except Exception as exc:  # noqa: BLE001 - duckdb.ParserException and friends
            text = " ".join(str(exc).split())
            raise DataError(f"The 'query:' in {where} is not valid SQL: {text[:500]}",
                            hint="fix the SQL (DuckDB dialect); file paths in it are relative to the params file") from None
        url = _URL_IN_SQL.search(q)
        if url:
            raise DataError(f"The 'query:' in {where} reads a URL ({url.group(1)}://…): salesnb reads local files "
                            "only and never downloads data or DuckDB extensions.",
                            hint="download the file first and name its local path in the query")
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            kinds = ", ".join(st.type.name for st in statements) or "nothing"
            raise DataError(f"The 'query:' in {where} must be one SELECT statement, not {kinds}.",
                            hint="write e.g. SELECT * FROM 'sales.csv' (no ';'-separated statements)")
        try:
            self.db.execute(f"CREATE TEMP VIEW raw AS {q}")
            self.db.execute("SELECT * FROM raw LIMIT 0")
        except Exception as exc:  # duckdb raises many error classes
            text = " ".join(str(exc).split())
            raise DataError(f"The 'query:' in {where} failed: {text[:500]}",
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
            try:
                wb = CalamineWorkbook.from_path(str(f))
                sheet = self.config.sheet
                if sheet is None:
                    ws = wb.get_sheet_by_index(0)
                elif isinstance(sheet, int):
                    if not 0 <= sheet < len(wb.sheet_names):
                        raise DataError(f"Sheet number {sheet} is not in {str(f)!r}: it has "
                                        f"{len(wb.sheet_names)} sheet(s), numbered from 0.",
                                        hint="sheets there: " + ", ".join(wb.sheet_names))
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
            self.headers.append((f.name, [str(int(h) if isinstance(h, float) and h.is_integer() else h).strip()
                                          for h in rows[0] if h not in (None, "")]))
            frames.append(_excel_frame(rows))
        if len(frames) > 1:
            # a column typed differently in two workbooks is read as text in all of them
            names = {c for fr in frames for c in fr.columns}
            for name in names:
                kinds = {str(fr[name].dtype) for fr in frames if name in fr.columns}
                if len(kinds) > 1:
                    for fr in frames:
                        if name in fr.columns:
                            fr[name] = fr[name].map(lambda v: None if pd.isna(v) else str(v)).astype("object")
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = frames[0]
        arrow_path = Path(self.tmpdir) / "excel.parquet"
        frame.to_parquet(arrow_path, index=False)
        self.db.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM read_parquet({sql_literal(str(arrow_path))})")

    def _register_text(self) -> None:
        cfg = self.config
        readable = []
        for f in self.files:
            if _looks_binary(f):
                packed = _packed_kind(f)
                if packed:
                    raise DataError(f"Source file {str(f)!r} is {packed[0]}, not text.", hint=packed[1])
                raise DataError(f"Source file {str(f)!r} is not text (it holds binary bytes).",
                                hint="export the data as CSV, Parquet or .xlsx")
            if cfg.encoding == "auto":
                encoding = detect_encoding(f)
                if encoding == UTF8_REPLACED:
                    bad, _ = _utf8_counts(f)
                    self.notes.append(f"{f.name} is UTF-8 but for {bad:,} invalid byte sequence(s), read as "
                                      "'\ufffd'; set encoding: to the file's encoding if that is wrong.")
            else:
                encoding = cfg.encoding
                _check_encoding(f, encoding)
                if encoding.replace("-", "").replace("_", "").lower() in SINGLE_BYTE and _has_non_ascii(f) \
                        and detect_encoding(f) == "utf-8":
                    self.notes.append(f"{f.name} is declared {encoding} but also reads as UTF-8: if names show "
                                      "characters such as 'Ã©', set encoding: auto.")
            self.encoding = encoding
            codec = "utf-8-sig" if encoding.lower().replace("-", "") == "utf8" or encoding == UTF8_REPLACED \
                else encoding
            sep = _sep_line(f, codec)
            if sep:
                self.sep = sep
            whitespace = cfg.delimiter == "whitespace" or (cfg.delimiter is None and not sep
                                                           and _whitespace_separated(f, codec))
            if encoding.replace("-", "").lower() in ("utf8", "ascii", "utf8sig") and not whitespace and not sep:
                readable.append(f)
            else:
                readable.append(_transcode(f, codec, self.tmpdir, whitespace, skip_first_line=bool(sep)))
        options = ["header = true", "all_varchar = true", "sample_size = 20480",
                   "quote = '\"'", "escape = '\"'", "null_padding = true"]
        if cfg.delimiter and cfg.delimiter != "whitespace":
            delim = {"\\t": "\t", "tab": "\t"}.get(cfg.delimiter, cfg.delimiter)
            options.append(f"delim = {sql_literal(delim)}")
        elif self.sep:  # Excel's "sep=;" first line names the delimiter
            options.append(f"delim = {sql_literal(self.sep)}")
        elif any(f.suffix.lower() == ".tsv" or f.name.lower().endswith(".tsv.gz") for f in self.files):
            options.append("delim = '\t'")
        paths = [str(p) for p in readable]
        normalized = False
        for attempt in (1, 2, 3):
            try:
                self.db.execute(f"CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM read_csv({_path_list(paths)}, "
                                f"{', '.join(options)}, union_by_name = true)")
                # a full scan here, so that CSV errors name the file (and the count is reused)
                self.rows = self.db.execute("SELECT count(*) FROM raw").fetchone()[0]
                break
            except Exception as exc:
                if attempt == 1 and "parallel" in str(exc).lower():
                    # ragged rows together with quoted line breaks need the serial reader
                    options.append("parallel = false")
                    continue
                if attempt == 1 and not normalized and not _interrupt_error(exc):
                    # lines ended in several ways (CRLF, LF, CR) confuse DuckDB's sniffer: read an
                    # LF-only copy of such files
                    mixed = [i for i, f in enumerate(readable) if _mixed_line_endings(f)]
                    if mixed:
                        for i in mixed:
                            readable[i] = _normalized_line_endings(readable[i], self.tmpdir)
                        paths = [str(p) for p in readable]
                        normalized = True
                        self.notes.append("Lines end in more than one way (CRLF, LF, CR): read with every "
                                          "line ending taken as one.")
                        continue
                self._fail_text(exc, readable)
        self._check_one_column(readable)
        n_cols = len(_columns(self.db))
        for f, shown in zip(readable, self.files):
            self.headers.append((shown.name, _header_names(f, n_cols)))

    def _fail_text(self, exc: Exception, readable: list[Path]):
        cfg = self.config
        what = f"text source {cfg.source!r}"
        text = str(exc)
        if _interrupt_error(exc):
            self._fail_read(exc, what)
        if "Out of Memory" in text or "could not allocate" in text:
            raise DataError(f"DuckDB ran out of memory reading {cfg.source!r}"
                            + (f" (memory_limit: {cfg.memory_limit})" if cfg.memory_limit else "") + ".",
                            hint="raise memory_limit in the params file (e.g. memory_limit: 4GB), or "
                                 "SALESNB_MEMORY_LIMIT") from None
        size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+) bytes", text)
        if size:
            line = re.search(r"CSV Error on Line: (\d+)", text)
            where = f"data row {line.group(1)}" if line else "a row"
            raise DataError(f"Cannot read {what}: {where} is more than {int(size.group(1)):,} bytes long, "
                            "the most a line may have.",
                            hint="a field that long is usually an unclosed quote (\") or a broken export: check "
                                 "that line of the file") from None
        for f in readable:
            line = _unclosed_quote_line(f)
            if line is not None:
                raise DataError(f"Cannot read {what}: the quote (\") opened on line {line} of {f.name} is never "
                                "closed.", hint="close the quote on that line (or double a quote that belongs to "
                                                "the text: \"\"), then run again") from None
        self._fail_read(exc, what, hint="check that the file is complete, that its quotes (\") are balanced, "
                                        "and the delimiter (set delimiter: if it is not detected)")

    def _check_one_column(self, readable: list[Path]) -> None:
        """A file read as one column whose quotes do not pair up: the unclosed quote swallowed
        the delimiters, which would otherwise look like a wrong delimiter."""
        cols = _columns(self.db)
        if len(cols) != 1 or self.config.delimiter:
            return
        name = next(iter(cols))
        if not any(d in name for d in ",;|\t"):
            return
        for f in readable:
            line = _unclosed_quote_line(f)
            if line is not None:
                raise DataError(f"Cannot read text source {self.config.source!r}: the quote (\") opened on line "
                                f"{line} of {f.name} is never closed, so the rest of the file reads as one field.",
                                hint="close the quote on that line (or double a quote that belongs to the text: "
                                     "\"\"), then run again")


# --------------------------------------------------------------------------- canonical table

def _header_names(path: Path, n_cols: int) -> list[str]:
    """The first line of a (UTF-8) text file split into names, with the delimiter that gives the
    column count DuckDB read; [] when none does."""
    import csv
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline(1 << 20)
    for delim in (",", ";", "|", "\t"):
        try:
            names = next(csv.reader([first.rstrip("\r\n")], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        if len(names) == n_cols:
            return [n.strip() for n in names]
    return []


def _check_duplicate_headers(config: Config, headers, source_desc: str) -> None:
    """A mapped column whose name the header gives twice: DuckDB would read the first and call
    the other NAME_1, silently. An error naming both."""
    for file_name, names in headers:
        for role, col in config.source_columns():
            places = [i + 1 for i, n in enumerate(names) if n == col]
            if len(places) > 1:
                raise DataError(f"The header of {file_name} names {col!r} (columns.{role}) twice: columns "
                                f"{places[0]} and {places[1]}.",
                                hint="rename one of them in the file, so that columns: can say which one "
                                     f"holds the {role.replace('_', ' ')}")


# A money value's currency, from its symbol or ISO code ("$" is taken as US dollars)
_CURRENCY_MARKS = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
                   "USD": "USD", "EUR": "EUR", "GBP": "GBP", "JPY": "JPY", "CHF": "CHF", "CAD": "CAD", "AUD": "AUD",
                   "INR": "INR", "CNY": "CNY", "SEK": "SEK", "NOK": "NOK", "DKK": "DKK"}


def currency_note(db, config: Config, stored_raw: list[str], table: str = "parsed") -> str | None:
    """A data-quality note when one money column's text values carry more than one currency
    (summed as they are, without conversion); None otherwise."""
    from .fmt import fmt_count
    for role in ("revenue", "unit_price"):
        if role not in stored_raw:
            continue
        col = f"_raw_{role}"
        marks = list(_CURRENCY_MARKS)
        # "US$" also contains "$": count "$" only where "US$" is not
        conds = []
        for m in marks:
            cond = f"contains(upper({col}), {sql_literal(m)})"
            if m == "$":
                cond += f" AND NOT contains(upper({col}), 'US$')"
            conds.append(f"count(*) FILTER (WHERE {cond})")
        # only values with a character that is not part of a plain number are looked at (one
        # regex per row: about 0.4 s at 10M text values; a column of numbers costs nothing)
        counts = db.execute(f"SELECT {', '.join(conds)} FROM {table} "
                            f"WHERE regexp_matches({col}, '[^0-9.,+() -]')").fetchone()
        per: dict[str, int] = {}
        for m, n in zip(marks, counts):
            if n:
                per[_CURRENCY_MARKS[m]] = per.get(_CURRENCY_MARKS[m], 0) + n
        if len(per) > 1:
            listed = ", ".join(f"{code} {fmt_count(n)} {'row' if n == 1 else 'rows'}"
                               for code, n in sorted(per.items(), key=lambda kv: -kv[1]))
            return (f"columns.{role} ({config.columns.get(role)}) holds amounts in more than one currency ({listed}); "
                    f"they are added up as {config.currency} without conversion. Convert them first, or filter "
                    "the rows of one currency (query:).")
    return None


def _columns(db) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("DESCRIBE raw").fetchall()}


def _closest_column(col: str, names: list[str]) -> str | None:
    lowered = {n.lower().strip(): n for n in names}
    if col.strip().lower() in lowered:
        return lowered[col.strip().lower()]
    containing = [n for n in names if col.strip().lower() in n.lower()]
    if containing and len(col.strip()) >= 3:  # "date" → "Order Date"
        return containing[0]
    match = difflib.get_close_matches(col, names, n=1, cutoff=0.7) or \
        difflib.get_close_matches(col.lower(), [n.lower() for n in names], n=1, cutoff=0.7)
    return lowered.get(match[0].lower(), match[0]) if match else None


def _check_columns(config: Config, raw_cols: dict[str, str], source_desc: str) -> None:
    """Every column named under ``columns:`` must exist: one error naming all that are missing,
    each with the closest real column, and a delimiter hint when the header did not split."""
    names = list(raw_cols)
    missing = [(role, col) for role, col in config.source_columns() if col not in raw_cols]
    if not missing:
        return
    shown = ", ".join(repr(n) for n in names[:30]) + (" …" if len(names) > 30 else "")
    split = next((d for d in (";", "\t", "|", ",") for n in names if d in n and
                  any(m in n.split(d) for _, m in missing)), None)
    # with a wrong delimiter, the "closest" column is the whole header line: no suggestions
    parts = [(role, col, None if split else _closest_column(col, names)) for role, col in missing]
    if len(parts) == 1:
        role, col, near = parts[0]
        text = f"Column {col!r} (columns.{role}) is not in {source_desc}."
        text += f" The closest column is {near!r}." if near else ""
        hint = f"fix columns.{role} in the params file; the source's columns are: {shown}"
    else:
        listed = ", ".join(f"{col!r} (columns.{role}" + (f"; closest: {near!r})" if near else ")")
                           for role, col, near in parts)
        text = f"{len(parts)} mapped columns are not in {source_desc}: {listed}."
        hint = ("fix " + ", ".join(f"columns.{role}" for role, _, _ in parts)
                + f" in the params file; the source's columns are: {shown}")
    datalike = sum(1 for n in names if parse_money(n) is not None or re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*", n))
    if split is None and names and datalike * 2 >= len(names):
        text += " Its first row looks like data, not column names: the file may have no header row."
        hint = "add a first line with the column names to the file, then map them under columns:"
    if split is not None:
        shown_d = "\\t" if split == "\t" else split
        text += (f" The header looks like one column holding names separated by {shown_d!r}: "
                 "the delimiter is probably wrong.")
        hint = (f"set delimiter: {shown_d!r} in the params file (or remove delimiter: to detect it); "
                f"the source's columns are read as: {shown}")
    role, col, _ = parts[0]
    raise ColumnError(text, hint=hint, column=col, role=role, missing=[c for _, c, _ in parts])


# text a missing customer id is often exported as (pandas' str(NaN), R's NA, Excel's #N/A)
# Columnar sources with at least this many rows are read in place (views), not copied: at 10M
# lines a report is faster that way too and needs half the memory (benchmarks/results.md).
# Smaller ones are copied: cheap, and then independent of the file.
VIEW_MIN_ROWS = 1_000_000
# sources read as typed columns: cheap to scan more than once, row count in the metadata
COLUMNAR_KINDS = ("parquet", "duckdb", "excel")

MISSING_ID_WORDS = ("nan", "na", "n/a", "#n/a", "null", "none")


def trimmed_sql(text_sql: str) -> str:
    """``trim(text_sql)``, called only on the values it can change. trim() strips spaces and
    Unicode space separators (not tabs) and copies every value; most values have none, and
    checking for a space at either end or any non-ASCII character is about 3 × cheaper
    (10M lines: 0.2 s against 0.55 s a column)."""
    v = text_sql
    return (f"(CASE WHEN {v} LIKE ' %' OR {v} LIKE '% ' OR strlen({v}) <> length({v}) "
            f"THEN trim({v}) ELSE {v} END)")


def _id_sql(col: str, dtype: str, missing_words: bool = False, clean: bool = False) -> str:
    """SQL that reads an id column as text (NULL when missing). ``clean``: a text column the
    prescan found needs none of the cleaning below, read as it is."""
    c = quote_ident(col)
    if clean and dtype.upper() == "VARCHAR":
        return c
    if dtype.upper() in ("DOUBLE", "FLOAT", "REAL", "DECIMAL") or dtype.upper().startswith("DECIMAL"):
        # float ids such as 17850.0 (a NaN made the column float) become "17850"
        return (f"CASE WHEN {c} IS NULL OR isnan({c}::DOUBLE) THEN NULL "
                f"WHEN {c} = trunc({c}) AND abs({c}::DOUBLE) < 1e30 "
                f"THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END")
    text = trimmed_sql(f"CAST({c} AS VARCHAR)")
    if dtype.upper() == "VARCHAR":
        # text ids exported from a float column: "17850.0" → "17850"
        # (the regular expression only runs on the ids that hold a '.': most hold none)
        text = (f"(CASE WHEN contains({text}, '.') THEN regexp_replace({text}, '^([0-9]+)\\.0+$', '\\1') "
                f"ELSE {text} END)")
    if missing_words:
        words = ", ".join(sql_literal(w) for w in MISSING_ID_WORDS)
        return f"(CASE WHEN lower({text}) IN ({words}) THEN NULL ELSE NULLIF({text}, '') END)"
    return f"NULLIF({text}, '')"


# between the parts of a composite order id: a control character no id text holds, so that
# ("a b", "c") and ("a", "b c") stay two orders
ORDER_ID_SEPARATOR = "\x1f"


def _composite_id_sql(config: Config, raw_cols: dict[str, str], date_expr: str) -> str:
    """``columns.order_id: [a, b, …]``: the order id is the parts' text joined, NULL (a row
    without an order id) when any part is missing. A part that is the order date column stands
    for its calendar day, read as the order date is (``[customer, date]``: one order per
    customer and day, whatever the date's format or time of day)."""
    parts = []
    for col in config.order_id_parts:
        if col == config.columns["order_date"]:
            parts.append(f"strftime(CAST(({date_expr}) AS DATE), '%Y-%m-%d')")
        else:
            parts.append(_id_sql(col, raw_cols[col]))
    # || is NULL when any operand is: a row missing a part has no order id
    return "(" + f" || chr({ord(ORDER_ID_SEPARATOR)}) || ".join(parts) + ")"


def order_id_notes(config: Config) -> list[str]:
    """What the report says of a composite order id: its orders are not the source's own."""
    if not config.order_id_parts:
        return []
    date_col = config.columns["order_date"]
    parts = [f"the calendar day of {p!r}" if p == date_col else repr(p) for p in config.order_id_parts]
    return [f"The data has no order id: as columns.order_id says, an order is one combination of "
            f"{' and '.join(parts)}; orders and average order value count those."]


def _dim_sql(col: str, clean: bool = False) -> str:
    if clean:
        return quote_ident(col)
    return f"NULLIF({trimmed_sql(f'CAST({quote_ident(col)} AS VARCHAR)')}, '')"


def _prescan(db, config: Config, raw_cols: dict[str, str], hash_cols: str) -> tuple[set[str], int]:
    """One scan of ``raw``: the exact duplicate rows, and the text columns (ids and dimensions)
    whose every value reads as it is: no value that trim() changes, none empty; for ids none
    with a '.' (a "17850.0" export); for the customer id none of the missing-value words."""
    cols = config.columns
    ids = {cols.get("order_id"), cols.get("customer_id")} - {None}
    id_cols, dim_cols = [], []
    for role, col in cols.items():
        if role not in ("order_id", "customer_id") and role not in DIMENSIONS:
            continue
        if raw_cols.get(col, "").upper() != "VARCHAR" or col in id_cols + dim_cols:
            continue
        (id_cols if col in ids else dim_cols).append(col)

    def checks(col: str, value: str) -> list[str]:
        """The column's cleaning flag, then its non-ASCII flag, over ``value`` (SQL)."""
        # ASCII spaces by pattern (cheap); trim() also strips Unicode spaces, so a column with
        # any non-ASCII text is checked with trim() itself below
        cond = f"{value} LIKE ' %' OR {value} LIKE '% ' OR {value} = ''"
        if col in ids:
            cond += f" OR contains({value}, '.')"
        if col == cols.get("customer_id"):
            words = ", ".join(sql_literal(w) for w in MISSING_ID_WORDS)
            cond += f" OR (strlen({value}) <= 4 AND lower({value}) IN ({words}))"
        return [f"bool_or({cond})", f"bool_or(strlen({value}) <> length({value}))"]

    sql = f"SELECT count(*) - count(DISTINCT hash({hash_cols}))"
    for col in id_cols:
        sql += ", " + ", ".join(checks(col, quote_ident(col)))
    row = db.execute(sql + " FROM raw").fetchone()
    flags = list(row[1:])
    if dim_cols:
        # a dimension has few distinct values: checking those is a third of the cost of checking
        # every row (10M lines: 0.4 s against 1.1 s)
        parts = [f"SELECT {i} AS k, {', '.join(checks(col, 'v'))} FROM (SELECT DISTINCT {quote_ident(col)} AS v FROM raw)"
                 for i, col in enumerate(dim_cols)]
        found = {r[0]: r[1:] for r in db.execute(" UNION ALL ".join(parts)).fetchall()}
        for i in range(len(dim_cols)):   # each part is one aggregate row
            flags += found[i]
    text_cols = id_cols + dim_cols
    dirty = {col: bool(flags[2 * i]) for i, col in enumerate(text_cols)}
    unicode = [col for i, col in enumerate(text_cols) if flags[2 * i + 1] and not dirty[col]]
    if unicode:
        again = db.execute("SELECT " + ", ".join(f"bool_or(trim({quote_ident(c)}) <> {quote_ident(c)})"
                                                 for c in unicode) + " FROM raw").fetchone()
        dirty.update({col: bool(bad) for col, bad in zip(unicode, again)})
    return {col for col, bad in dirty.items() if not bad}, int(row[0])


def _number_sql(col: str, dtype: str, decimal: str) -> str:
    c = quote_ident(col)
    if dtype.upper() in ("VARCHAR", "BLOB"):
        return money_sql(c, decimal)
    if dtype.upper() == "BOOLEAN":
        return f"CAST({c} AS DOUBLE)"
    return f"(CASE WHEN isfinite(TRY_CAST({c} AS DOUBLE)) THEN TRY_CAST({c} AS DOUBLE) END)"


def _strptime_sql(value_sql: str, fmt: str) -> str:
    """``try_strptime`` as a naive TIMESTAMP (a ``%z`` offset is converted to UTC)."""
    expr = f"try_strptime({value_sql}, {sql_literal(fmt)})"
    if "%z" in fmt:
        expr = f"CAST(timezone('UTC', {expr}) AS TIMESTAMP)"
    return expr


def _family_sql(value_sql: str, family) -> str:
    parts = [_strptime_sql(value_sql, f) for f in family]
    expr = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
    lo, hi = YEAR_RANGE
    return f"(CASE WHEN year({expr}) BETWEEN {lo} AND {hi} THEN {expr} END)"


# At most this many value shapes are matched against the formats; past it every value is tried
# with every format.
MAX_DATE_SHAPES = 2_000


def _format_counts(db, from_sql: str, formats: list[str], families: list) -> tuple[tuple, dict[str, int]]:
    """(count(*) then the values each family reads, the values each format reads) over the text
    values ``v`` of ``from_sql``; a value reads when its year is in YEAR_RANGE.

    Trying 65 formats on 200k values takes seconds (a failed try_strptime costs as much as a good
    one), so each value is tried only with the formats that can read its *shape*: the value
    with every digit made '1'. A format that reads a value reads its shape too (each field
    takes a '1' wherever it takes a digit, and strptime does not check the year's range), so
    a format that reads no shape of a value is never tried on it; the counts are exact."""
    db.execute("CREATE OR REPLACE TEMP TABLE _salesnb_date_values AS "
               f"SELECT v, translate(v, '0123456789', '1111111111') AS _shape FROM {from_sql}")
    try:
        shapes = [r[0] for r in db.execute("SELECT DISTINCT _shape FROM _salesnb_date_values "
                                           f"LIMIT {MAX_DATE_SHAPES + 1}").fetchall()]
        lo, hi = YEAR_RANGE
        flags = []
        fits: list = [None] * len(formats)   # per format: the shapes it reads (None: not known)
        if len(shapes) <= MAX_DATE_SHAPES:
            db.register("_salesnb_date_shapes", _shape_frame(shapes))
            try:
                row = db.execute("SELECT " + ", ".join(
                    f"list(_shape) FILTER (WHERE {_strptime_sql('_shape', f)} IS NOT NULL)" for f in formats)
                    + " FROM _salesnb_date_shapes").fetchone()
            finally:
                db.unregister("_salesnb_date_shapes")
            fits = [list(x or []) for x in row]
        for i, (f, fit) in enumerate(zip(formats, fits)):
            reads = f"coalesce(year({_strptime_sql('v', f)}) BETWEEN {lo} AND {hi}, false)"
            if fit is not None and not fit:
                reads = "false"
            elif fit is not None and len(fit) < len(shapes):
                # CASE, not AND: DuckDB evaluates only the rows a WHEN selects
                reads = f"CASE WHEN _shape IN ({', '.join(sql_literal(x) for x in fit)}) THEN {reads} ELSE false END"
            flags.append(f"{reads} AS _f{i}")
        flag = {f: f"_f{i}" for i, f in enumerate(formats)}
        counts_sql = ", ".join(f"count_if({' OR '.join(flag[f] for f in fam)})" for _, fam in families)
        per_sql = ", ".join(f"count_if({flag[f]})" for f in formats)
        row = db.execute(f"SELECT count(*), {counts_sql}, {per_sql} "
                         f"FROM (SELECT {', '.join(flags)} FROM _salesnb_date_values)").fetchone()
    finally:
        db.execute("DROP TABLE IF EXISTS _salesnb_date_values")
    return row[:1 + len(families)], dict(zip(formats, row[1 + len(families):]))


def _shape_frame(shapes: list[str]):
    import pyarrow as pa
    return pa.table({"_shape": pa.array(shapes, pa.string())})


def _infer_date_family(db, from_sql: str, what: str, date_format: str = "auto") -> tuple[tuple, str]:
    """Pick one date family for the text values ``v`` of ``from_sql`` (SPEC 2.1).

    Returns (the family's formats, the format most values read with). ``what`` names the
    column and source in messages."""
    groups = {"iso": ISO_FAMILIES, "dmy": DMY_FAMILIES, "mdy": MDY_FAMILIES}
    if date_format == "dayfirst":
        groups.pop("mdy")
    elif date_format == "monthfirst":
        groups.pop("dmy")
    families = [(g, fam) for g, fams in groups.items() for fam in fams]
    formats = list(dict.fromkeys(f for _, fam in families for f in fam))
    row, per_format = _format_counts(db, from_sql, formats, families)
    total, counts = row[0], row[1:]
    if total == 0:
        raise NoDataError(f"{what} is empty on every row.",
                          hint="map columns.order_date to the column that holds the order dates")
    best = {}
    for (g, fam), n in zip(families, counts):
        if g not in best or n > best[g][1]:
            best[g] = (fam, n)
    iso_n = best["iso"][1]
    dmy = best.get("dmy", ((), -1))
    mdy = best.get("mdy", ((), -1))
    if iso_n >= max(dmy[1], mdy[1]):
        family, n = best["iso"]
    elif dmy[1] == mdy[1]:
        examples = [r[0] for r in db.execute(f"SELECT v FROM {from_sql} ORDER BY v LIMIT 3").fetchall()]
        every = "every value reads" if dmy[1] == total else f"as many values ({dmy[1]:,}) read"
        raise DataError(
            f"Dates in {what} are ambiguous: {every} both as day/month and as month/day "
            f"(e.g. {', '.join(map(repr, examples))}).",
            hint="set date_format: dayfirst, monthfirst, or a pattern such as '%d/%m/%Y'")
    else:
        family, n = max((dmy, mdy), key=lambda x: x[1])
    if n == 0:
        examples = [r[0] for r in db.execute(f"SELECT v FROM {from_sql} ORDER BY v LIMIT {EXAMPLES}").fetchall()]
        raise NoDataError(
            f"No value of {what} reads as a date ({total:,} distinct values, e.g. "
            f"{', '.join(map(repr, examples))}).",
            hint="check columns.order_date, or set date_format to a strftime pattern such as '%d.%m.%Y'")
    if len(family) == 1:
        return family, family[0]
    per = [per_format[f] for f in family]
    # Most common format first: coalesce() stops at the first format that reads a value, and a
    # failed try_strptime costs as much as a good one (3M lines "%d/%m/%Y %H:%M": 2.8 s with the
    # family's own order, 0.6 s with the main format first). A value reads with one format of a
    # family at most (strptime must consume the whole text), so the order changes no result.
    ranked = sorted(zip(family, per), key=lambda x: -x[1])
    return tuple(f for f, _ in ranked), ranked[0][0]


def infer_date_format(values, date_format: str = "auto") -> str:
    """The date format ``date_format: auto`` (or dayfirst/monthfirst) picks for these text
    values; raises :class:`DataError` when they are ambiguous or none reads as a date."""
    import duckdb
    db = duckdb.connect(config=dict(DUCKDB_SETTINGS))
    try:
        db.execute("CREATE TABLE vals AS SELECT unnest(?::VARCHAR[]) AS v",
                   [[None if v is None else str(v) for v in values]])
        src = "(SELECT DISTINCT trim(v) AS v FROM vals WHERE v IS NOT NULL AND trim(v) <> '')"
        return _infer_date_family(db, src, "the values", date_format)[1]
    finally:
        db.close()


def _date_sql(db, col: str, dtype: str, config: Config, source_desc: str) -> tuple[str, str, str | None]:
    """(SQL expression giving a TIMESTAMP, the format used, a note or None)."""
    c = quote_ident(col)
    fmt = config.date_format
    upper = dtype.upper()
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        note = None
        if fmt != "auto":
            note = (f"date_format {fmt!r} is not used: column {col!r} is already a date/timestamp "
                    "in the source.")
        if "WITH TIME ZONE" in upper:
            return f"CAST(timezone('UTC', {c}) AS TIMESTAMP)", "native timestamp (UTC)", note
        return f"CAST({c} AS TIMESTAMP)", "native " + upper.lower(), note
    text = trimmed_sql(f"CAST({c} AS VARCHAR)")
    if "%" in fmt:
        try:
            db.execute(f"SELECT {_strptime_sql(sql_literal('2024-01-01'), fmt)}").fetchone()
        except Exception as exc:  # noqa: BLE001 - duckdb's InvalidInputException
            raise DataError(f"date_format {fmt!r} in {config.params_path or 'the params'} is not a valid "
                            f"date pattern: {str(exc).splitlines()[0][:200]}",
                            hint="use strftime codes such as '%d/%m/%Y' or '%Y-%m-%d %H:%M'") from None
        return _strptime_sql(text, fmt), fmt, None
    distinct = (f"(SELECT DISTINCT {text} AS v FROM raw WHERE {c} IS NOT NULL AND {text} <> '' "
                f"LIMIT 200000)")
    what = f"column {col!r} (columns.order_date) in {source_desc}"
    family, main = _infer_date_family(db, distinct, what, fmt)
    return _family_sql(text, family), main, None


def _excel_header(cells) -> list[str]:
    """Header names of a sheet: blanks become column1…, repeats get a suffix (as DuckDB does)."""
    out: list[str] = []
    for i, h in enumerate(cells):
        if isinstance(h, float) and h.is_integer():
            h = int(h)
        name = str(h).strip() if h not in (None, "") else f"column{i}"
        base, n = name, 0
        while name in out:
            n += 1
            name = f"{base}_{n}"
        out.append(name)
    return out


def _excel_frame(rows):
    """A sheet's rows (header first) as a frame whose columns have one Arrow-friendly type each:
    whole columns of numbers stay numbers, of dates/datetimes become timestamps, anything mixed
    becomes text (then parsed like CSV text)."""
    import pandas as pd
    header = _excel_header(rows[0])
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:]]
    columns = {}
    for i, name in enumerate(header):
        values = [None if (v is None or (isinstance(v, str) and not v.strip())) else v for v in (r[i] for r in body)]
        types = {type(v) for v in values if v is not None}
        if types and types <= {int, float}:
            columns[name] = pd.array([None if v is None else float(v) for v in values], dtype="Float64")
        elif types and types <= {dt.date, dt.datetime}:
            columns[name] = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce")
        elif types == {bool}:
            columns[name] = pd.array(values, dtype="boolean")
        else:
            columns[name] = pd.Series([None if v is None else (v.isoformat(sep=" ") if isinstance(v, dt.datetime)
                                                                 else str(v)) for v in values], dtype="object")
    return pd.DataFrame(columns)


def _connect(config: Config, tmpdir: str):
    """A plain DuckDB connection; Ibis wraps it once the data has loaded (importing Ibis takes
    a while, and a bad input should fail fast)."""
    import duckdb
    settings = {"temp_directory": os.path.join(tmpdir, "spill"), "preserve_insertion_order": False,
                **DUCKDB_SETTINGS}
    limit = config.memory_limit or os.environ.get("SALESNB_MEMORY_LIMIT")
    if limit:
        settings["memory_limit"] = str(limit)
    try:
        db = duckdb.connect(config=settings)
    except duckdb.Error as exc:
        raise DataError(f"Cannot start DuckDB with memory_limit {limit!r}: {str(exc).splitlines()[0][:200]}",
                        hint="write memory_limit like 4GB (params file or SALESNB_MEMORY_LIMIT)") from None
    # No progress bar: it is noise in reports, and inside a Jupyter kernel DuckDB wants ipywidgets
    # for it (setting it there can itself fail for that reason).
    for setting in ("SET enable_progress_bar = false", "SET enable_progress_bar_print = false"):
        try:
            db.execute(setting)
        except duckdb.Error:
            pass
    return db


def load_data(config: Config) -> Dataset:
    """Load the config's source into the canonical table and check it (SPEC 2.2, 2.3)."""
    warm = _import_in_background(WARM_MODULES) if config.engine in ("duckdb", "", None) else None
    dataset = _load(config, with_table=True)   # on an error (or Ctrl-C) the imports are not waited for
    if warm is not None:
        warm.join()
    return dataset


# What the findings import once the data has loaded: Ibis, pandas, scipy (about 2 s in all).
# The DuckDB loader needs none of it, so a thread imports it while the engine scans (DuckDB
# releases the GIL), and load_data waits for that thread before it returns.
WARM_MODULES = ("ibis", "ibis.backends.duckdb", "salesnb.metrics.revenue", "salesnb.metrics.customers",
                "salesnb.models.clv_findings", "salesnb.recommend")


def _import_in_background(modules):
    import importlib
    import threading

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
    if config.engine not in ("duckdb", "", None):
        with load_data(config) as dataset:
            return dataset.quality
    return _load(config, with_table=False)


def _load(config: Config, with_table: bool):
    if config.engine not in ("duckdb", "", None):
        try:
            from . import engines
        except ImportError:
            raise DataError(f"engine {config.engine!r} is not available in this installation.",
                            hint="use engine: duckdb (the default), or see the README section 'Scaling up'") from None
        return engines.load_on_engine(config)
    from .kernels import owned_temp_folder
    tmpdir = str(owned_temp_folder("salesnb-"))   # swept by a later run if this one is killed
    db = None
    try:
        db = _connect(config, tmpdir)
        dataset = _load_duckdb(config, db, tmpdir, with_table)
        if not with_table:
            db.close()
            shutil.rmtree(tmpdir, ignore_errors=True)
    except BaseException as exc:
        if db is not None:
            db.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        import duckdb

        from .errors import interrupted
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


def _load_duckdb(config: Config, db, tmpdir: str, with_table: bool = True):
    reader = _Reader(config, db, tmpdir)
    reader.register()
    sha = fingerprint_later(reader.files) if reader.files else None
    source_desc = repr(config.source) if config.source else "the query's result"
    raw_cols = _columns(db)
    # A text file was counted as it was read (so that a CSV error names the file) and a columnar
    # source counts from its metadata; a query is counted from its parsed copy below (a count
    # here would run the query once more).
    rows_read = reader.rows
    if rows_read is None and reader.kind in COLUMNAR_KINDS:
        rows_read = db.execute("SELECT count(*) FROM raw").fetchone()[0]
    elif rows_read is None and db.execute("SELECT 1 FROM raw LIMIT 1").fetchone() is None:
        rows_read = 0
    if rows_read == 0:
        raise NoDataError(f"{source_desc} has a header but no data rows." if raw_cols else f"{source_desc} has no rows.",
                          hint="export the data again with its rows")
    _check_columns(config, raw_cols, source_desc)
    _check_duplicate_headers(config, reader.headers, source_desc)
    cols = config.columns

    date_expr, date_fmt, date_note = _date_sql(db, cols["order_date"], raw_cols[cols["order_date"]], config,
                                               source_desc)
    hash_cols = ", ".join(quote_ident(c) for c in raw_cols)
    # Columnar sources (Parquet, DuckDB, Excel converted to Parquet) are cheap to read twice: one
    # scan first counts the exact duplicates and finds the text columns that need no cleaning
    # (no value to trim, none empty, no "17850.0" id, no "N/A" customer), which are then copied
    # as they are instead of through trim() and friends. Text sources are parsed once, as before.
    prescan = reader.kind in COLUMNAR_KINDS
    clean: set[str] = set()
    dup_rows = None
    if prescan:
        clean, dup_rows = _prescan(db, config, raw_cols, hash_cols)
    if config.order_id_parts:
        order_id = _composite_id_sql(config, raw_cols, date_expr)
    else:
        order_id = _id_sql(cols["order_id"], raw_cols[cols["order_id"]], clean=cols["order_id"] in clean)
    selects = {"order_id": order_id, "order_date": date_expr}
    if "customer_id" in cols:
        selects["customer_id"] = _id_sql(cols["customer_id"], raw_cols[cols["customer_id"]], missing_words=True,
                                         clean=cols["customer_id"] in clean)
    for role in ("quantity", "unit_price"):
        if role in cols:
            selects[role] = _number_sql(cols[role], raw_cols[cols[role]], config.decimal)
    if "revenue" in cols:
        selects["revenue"] = _number_sql(cols["revenue"], raw_cols[cols["revenue"]], config.decimal)
    else:
        selects["revenue"] = "quantity * unit_price"
    for dim in DIMENSIONS:
        if dim in cols:
            selects[dim] = _dim_sql(cols[dim], clean=cols[dim] in clean)

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
    raw_sql = {k: quote_ident(c) for k, c in raw_keep.items()}
    if config.order_id_parts:   # the parts as written, for the examples of rows without an order id
        raw_sql["order_id"] = f"concat_ws({sql_literal(ORDER_ID_PARTS_SHOWN)}, " + ", ".join(
            f"coalesce(CAST({quote_ident(c)} AS VARCHAR), '(empty)')" for c in config.order_id_parts) + ")"
    first += [f"{raw_sql[k]} AS _raw_{k}" for k in raw_keep]
    # the row hash is stored only when it is still needed: to count the duplicates (no prescan)
    # or to drop them (dedupe: true and some found)
    keep_hash = dup_rows is None or (config.dedupe and dup_rows > 0)
    dup_sql = f", hash({hash_cols}) AS _row_hash" if keep_hash else ""
    inner = f"SELECT {', '.join(first)}{dup_sql} FROM raw"
    if "revenue" not in cols:
        inner = f"SELECT *, quantity * unit_price AS revenue FROM ({inner})"
    canonical = ["order_id", "order_date"] + [k for k in ("customer_id", "quantity", "unit_price") if k in selects]
    canonical += ["revenue"] + [d for d in DIMENSIONS if d in selects]
    stored_raw = [k for k, c in raw_keep.items() if k != "order_id" and raw_cols[c].upper() == "VARCHAR"]
    helpers = [f"_raw_{k}" for k in stored_raw] + (["_row_hash"] if keep_hash else [])
    # The rows are parsed and stored once: "parsed" becomes "sales" in place below. The raw text is
    # kept for the examples of dropped rows only where it is text; a typed value or an order id is
    # read from the source again, and only for a reason that dropped rows.
    # Big columnar sources are not copied at all: "parsed" and "sales" are views over the file,
    # and every query reads only the columns it needs (a copy of 100M lines would not fit in a
    # few GB and would spill to disk). Not with filters (their values are bound parameters) or
    # when duplicates must be dropped (dedupe needs the stored row hash). The file must not
    # change while the dataset is open (the sha256 in the quality record is of the file read).
    has_filters = any(config.filters.get(k) for k in ("include", "exclude"))
    as_view = prescan and not keep_hash and not has_filters and rows_read >= VIEW_MIN_ROWS
    kind = "VIEW" if as_view else "TABLE"
    db.execute(f"CREATE {kind} parsed AS SELECT {', '.join(canonical + helpers)} FROM ({inner})")
    if rows_read is None:   # a query: "parsed" is a table
        rows_read = db.execute("SELECT count(*) FROM parsed").fetchone()[0]
    missing_raw = [f"_raw_{k}" for k in raw_keep if k not in stored_raw]

    years = plausible_years(db)
    reasons = {
        "unparseable date": "order_date IS NULL",
        **({"implausible date": f"(year(order_date) < {years[0]} OR year(order_date) > {years[1]})"}
           if years else {}),
        "unparseable revenue": "revenue IS NULL",
        # beyond any real line amount, and past what exact money sums (DECIMAL(38, 6)) can hold
        "revenue out of range": f"abs(revenue) >= {MAX_LINE_REVENUE:.0f}",
        "missing order id": "order_id IS NULL",
    }
    example_col = {"unparseable date": "CAST(_raw_order_date AS VARCHAR)",
                   "implausible date": "CAST(_raw_order_date AS VARCHAR)",
                   "missing order id": "CAST(_raw_order_id AS VARCHAR)",
                   "revenue out of range": "CAST(revenue AS VARCHAR)",
                   "unparseable revenue": "CAST(_raw_revenue AS VARCHAR)" if "revenue" in cols else
                   "concat_ws(' × ', coalesce(CAST(_raw_quantity AS VARCHAR), '(empty)'), "
                   "coalesce(CAST(_raw_unit_price AS VARCHAR), '(empty)'))"}
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    bad_so_far, wheres = [], {}
    for reason, cond in reasons.items():
        # each row counts under its first failing reason, so the counts add up to the rows dropped
        wheres[reason] = cond + "".join(f" AND NOT ({b})" for b in bad_so_far)
        bad_so_far.append(cond)
    # one scan counts every reason and the exact duplicates
    dup_count = ", count(*) - count(DISTINCT _row_hash)" if dup_rows is None else ""
    counts = db.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {w})" for w in wheres.values())
                        + f"{dup_count} FROM parsed").fetchone()
    if dup_rows is None:
        dup_rows = counts[-1]
    for (reason, where), n in zip(wheres.items(), counts):
        if n:
            dropped[reason] = n
            src = f"({inner})" if any(m in example_col[reason] for m in missing_raw) else "parsed"
            ex = db.execute(f"SELECT v FROM (SELECT DISTINCT coalesce({example_col[reason]}, '(empty)') AS v "
                            f"FROM {src} WHERE {where}) ORDER BY v LIMIT {EXAMPLES}").fetchall()
            examples[reason] = [str(r[0]) for r in ex]
    valid = " AND ".join(f"NOT ({c})" for c in reasons.values())
    notes = list(reader.notes) + ([date_note] if date_note else []) + order_id_notes(config)
    decimal_hint = _decimal_hint(db, config, raw_cols, dropped)
    if decimal_hint:
        notes.append(decimal_hint)
    mixed_currency = currency_note(db, config, stored_raw)
    if mixed_currency:
        notes.append(mixed_currency)

    # filters: values are bound parameters, never pasted into the SQL
    filter_sql, params = [], []
    for role, values in config.filters.get("include", {}).items():
        filter_sql.append(f"coalesce(CAST({role} AS VARCHAR), '') IN (SELECT unnest(?::VARCHAR[]))")
        params.append(values)
    for role, values in config.filters.get("exclude", {}).items():
        filter_sql.append(f"coalesce(CAST({role} AS VARCHAR), '') NOT IN (SELECT unnest(?::VARCHAR[]))")
        params.append(values)
    keep = valid
    if filter_sql:
        keep_filters = " AND ".join(filter_sql)
        n = db.execute(f"SELECT count(*) FROM parsed WHERE {valid} AND NOT ({keep_filters})", params).fetchone()[0]
        if n:
            dropped["filtered"] = n
        keep = f"{valid} AND {keep_filters}"

    col_list = ", ".join(canonical)
    if as_view:
        where = f" WHERE coalesce(({keep}), false)" if dropped else ""
        db.execute(f"CREATE VIEW sales AS SELECT {col_list} FROM parsed{where}")
    elif config.dedupe and dup_rows:
        body = (f"SELECT {col_list} FROM (SELECT *, row_number() OVER (PARTITION BY _row_hash) AS _copy "
                f"FROM parsed WHERE {keep}) WHERE _copy = 1")
        db.execute(f"CREATE TABLE sales AS {body}", params)
        db.execute("DROP TABLE parsed")
    else:
        # no copy: drop the unusable / filtered rows and the helper columns (DuckDB drops a column
        # without copying the others), then rename
        if dropped:
            db.execute(f"DELETE FROM parsed WHERE NOT coalesce(({keep}), false)", params)
        for helper in helpers:
            db.execute(f"ALTER TABLE parsed DROP COLUMN {helper}")
        db.execute("ALTER TABLE parsed RENAME TO sales")
    rows_used = db.execute("SELECT count(*) FROM sales").fetchone()[0]
    dup_dropped = count_duplicates_dropped(config, dup_rows, rows_read, rows_used, dropped)
    if rows_used == 0:
        raise no_usable_rows(config, source_desc, rows_read, dropped, examples, decimal_hint)

    quality = _quality(db, config, reader, rows_read, rows_used, dropped, examples, dup_rows, dup_dropped, date_fmt,
                       notes, sha=sha)
    if not with_table:
        return quality
    import ibis
    con = ibis.duckdb.from_connection(db)
    table = con.table("sales")
    return Dataset(config=config, con=con, table=table, quality=quality, _tmpdir=tmpdir,
                   source_state=reader.state)


def plausible_years(db, table: str = "parsed") -> tuple[int, int] | None:
    """The first and last year of the dates to keep, when some dates are implausible (see
    OUTLIER_GAP_YEARS); None when every date is plausible. One cheap scan unless the dates
    span more than OUTLIER_GAP_YEARS years."""
    lo, hi, n = db.execute(f"SELECT min(year(order_date)), max(year(order_date)), count(order_date) "
                           f"FROM {table}").fetchone()
    if not n or lo is None:
        return None
    if hi - lo <= OUTLIER_GAP_YEARS and lo >= 1 and hi <= 9998:
        return None
    per_year = db.execute(f"SELECT year(order_date) AS y, count(*) FROM {table} WHERE order_date IS NOT NULL "
                          "AND year(order_date) BETWEEN 1 AND 9998 GROUP BY 1 ORDER BY 1").fetchall()
    if not per_year:
        return (1, 0)   # every date is a placeholder: all implausible
    groups: list[list] = [[per_year[0][0], per_year[0][0], per_year[0][1]]]   # first year, last year, rows
    for year, rows in per_year[1:]:
        if year - groups[-1][1] > OUTLIER_GAP_YEARS:
            groups.append([year, year, rows])
        else:
            groups[-1][1] = year
            groups[-1][2] += rows
    biggest = max(g[2] for g in groups)
    kept = [g for g in groups if g[2] == biggest or g[2] > OUTLIER_SHARE * n]
    first, last = min(g[0] for g in kept), max(g[1] for g in kept)
    if first == lo and last == hi:
        return None
    return (first, last)


def count_duplicates_dropped(config: Config, dup_rows: int | None, rows_read: int, rows_used: int,
                             dropped: dict[str, int]) -> int:
    """With ``dedupe: true``, the copies dropped: the rows read that no other reason dropped and
    that did not stay. They are added to ``dropped`` as "duplicate"."""
    if not (config.dedupe and dup_rows):
        return 0
    dup_dropped = rows_read - sum(dropped.values()) - rows_used
    if dup_dropped:
        dropped["duplicate"] = dup_dropped
    return dup_dropped


def no_usable_rows(config: Config, source_desc: str, rows_read: int, dropped: dict[str, int],
                   examples: dict[str, list[str]], decimal_hint: str | None = None) -> NoDataError:
    """The error for a source whose every row was dropped: each reason with its count and
    examples, and the params setting most likely at fault."""
    detail = "; ".join(f"{k}: {v:,}" + (f" (e.g. {', '.join(map(repr, examples[k][:3]))})" if examples.get(k) else "")
                       for k, v in dropped.items())
    if decimal_hint:
        hint = decimal_hint
    elif set(dropped) == {"filtered"}:
        hint = "the filters in the params file leave no row: check their values (they match exactly)"
    elif "unparseable date" in dropped and "%" in config.date_format:
        hint = f"no date reads with date_format {config.date_format!r}: fix the pattern, or use date_format: auto"
    else:
        hint = "check the column mapping, date_format, decimal and filters in the params file"
    return NoDataError(f"No usable row in {source_desc}: all {rows_read:,} rows were dropped ({detail}).", hint=hint)


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


def _decimal_hint(db, config: Config, raw_cols: dict, dropped: dict) -> str | None:
    """When rows with unreadable money would read with the other ``decimal``, say so."""
    if not dropped.get("unparseable revenue"):
        return None
    other = "," if config.decimal == "." else "."
    cols = config.columns
    roles = ["revenue"] if "revenue" in cols else ["quantity", "unit_price"]
    for role in roles:
        if raw_cols.get(cols[role], "").upper() != "VARCHAR":
            continue
        c = quote_ident(cols[role])
        n, alt = db.execute(f"SELECT count(*), count({money_sql(c, other)}) FROM raw "
                            f"WHERE {c} IS NOT NULL AND {money_sql(c, config.decimal)} IS NULL").fetchone()
        if n and alt >= max(1, n // 2):
            return (f"{alt:,} unreadable values of {cols[role]!r} (columns.{role}) read as numbers with "
                    f"decimal: {other!r}; set decimal: {other!r} in the params file if the data writes "
                    f"numbers like {'1.234,56' if other == ',' else '1,234.56'}.")
    return None


def _exact_sum(col: str, where: str | None = None) -> str:
    """SQL for an exact, order-independent money sum (see salesnb.metrics.money)."""
    flt = f" FILTER (WHERE {where})" if where else ""
    return f"(sum(CAST({col} AS DECIMAL(38, 6))){flt})::DOUBLE"


def shape_notes(*, total: float, negative_prices: int, has_customers: bool, customers: int,
                first: dt.date, last: dt.date) -> list[str]:
    """The data-quality notes on what the data as a whole holds, the same for every engine:
    negative unit prices, net revenue that is not positive, no or a single customer, a single
    day. ``customers``: how many distinct customer ids (only 0, 1 or more matters)."""
    notes = []
    if negative_prices:
        notes.append(f"{negative_prices:,} line{' has' if negative_prices == 1 else 's have'} a negative unit "
                     "price (adjustments such as bad debt); kept, they reduce revenue.")
    if total <= 0:
        notes.append(f"Net revenue is not positive ({total:,.2f}): the data holds mostly returns or zero lines, "
                     "so shares and growth rates are not meaningful.")
    if has_customers and customers == 0:
        notes.append("No row has a customer id: customer analyses are left out.")
    elif has_customers and customers == 1:
        notes.append("The data holds a single customer: customer analyses (RFM, cohorts, concentration) "
                     "are not meaningful.")
    if first == last:
        notes.append(f"The data holds a single day ({first.isoformat()}): trends and growth cannot be computed.")
    if not has_customers:
        notes.append("No customer id is mapped: customer analyses are left out.")
    return notes


def _quality(db, config, reader, rows_read, rows_used, dropped, examples, dup_rows, dup_dropped, date_fmt,
             notes=None, sha=None) -> DataQuality:
    has_cust = "customer_id" in config.columns
    stats = db.execute(f"""
        SELECT min(order_date), max(order_date), {_exact_sum("revenue")},
               count(*) FILTER (WHERE revenue < 0), coalesce(-{_exact_sum("revenue", "revenue < 0")}, 0),
               count(*) FILTER (WHERE revenue = 0),
               {"count(*) FILTER (WHERE customer_id IS NULL), coalesce(" + _exact_sum("revenue", "customer_id IS NULL") + ", 0)" if has_cust else "count(*), " + _exact_sum("revenue")},
               max(abs(revenue)),
               {"count(*) FILTER (WHERE unit_price < 0)" if "unit_price" in config.columns else "0"},
               {"min(customer_id), max(customer_id)" if has_cust else "NULL, NULL"}
        FROM sales""").fetchone()
    (first, last, total, ret_lines, ret_value, zero_lines, nocust_rows, nocust_rev, big, neg,
     cust_min, cust_max) = stats
    from .periods import month_index, month_label
    # months as numbers: strftime on every row costs more than the rest of these statistics
    months = [month_label(r[0]) for r in db.execute(
        "SELECT DISTINCT year(order_date) * 12 + month(order_date) - 1 FROM sales").fetchall()]
    first_d, last_d = first.date(), last.date()
    present = set(months)
    gaps = [month_label(i) for i in range(month_index(first_d), month_index(last_d) + 1)
            if month_label(i) not in present]
    coverage = month_coverage(first_d, last_d)
    # the files' sha256 was started when they were registered (a query has no files)
    sha = sha.result() if sha is not None else hashlib.sha256((config.query or "").encode()).hexdigest()
    notes = list(notes or [])
    if total is None or not math.isfinite(total):
        raise DataError(f"The revenue of {config.source or 'the query'} does not add up to a finite number: "
                        "some values are too large.",
                        hint="check the revenue column (or quantity and unit_price) for overflowing values")
    big = big or 0.0
    if big >= HUGE_VALUE:
        notes.append(f"Some line revenues are implausibly large (up to {big:.3g}); they are kept. "
                     "Check the revenue column and decimal.")
    n_cust = 0 if cust_max is None else (1 if cust_min == cust_max else 2)  # 2: two or more
    notes += shape_notes(total=total, negative_prices=int(neg or 0), has_customers=has_cust,
                         customers=n_cust, first=first_d, last=last_d)
    share = (100.0 * nocust_rev / total) + 0.0 if has_cust and total > 0 else None
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
