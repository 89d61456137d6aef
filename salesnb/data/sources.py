"""Sources: which files a ``source:`` names, what kind each is, how its text is encoded, and
the file checks that make a bad file a clear error (SPEC 2.2). Engine-neutral: the backends
(:mod:`salesnb.data.backends`) read the rows; this module only looks at the files.

* ``encoding: auto`` reads UTF-8 (BOM or not) and UTF-16 (BOM), else Windows-1252, else
  Latin-1. A named encoding must decode the whole file, or loading stops with the line of the
  first bad byte (wrong text is never read silently); a single-byte encoding named for a file
  that is valid UTF-8 adds a note.
* An Excel ``sep=;`` first line names the delimiter. A header that arrives as one column
  holding ``;``/tab/``|``/``,`` is reported as a wrong delimiter.
* The fingerprint (``sha256``) of file sources is the hash of their bytes.
"""
from __future__ import annotations

import codecs
import datetime as dt
import errno
import glob as globlib
import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

from ..errors import DataError, did_you_mean

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".psv", ".tab")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")

# Every DuckDB connection: no extension is installed or loaded on its own (a read_csv of an
# http:// path would otherwise download and load httpfs, i.e. code from the network).
DUCKDB_SETTINGS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
WEB_SCHEMES = ("http", "https", "s3", "s3a", "gs", "gcs", "az", "azure", "abfss", "hf", "r2", "ftp")
_URL_IN_SQL = re.compile(r"""['"]\s*([a-z][a-z0-9+.-]*)://""", re.I)


# --------------------------------------------------------------------------- files

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
            near = did_you_mean(path.name, [p.name for p in parent.iterdir()], show=lambda n: repr(str(parent / n)))
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
    from ..errors import interrupted
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


# --------------------------------------------------------------------------- text files

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


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with _open_text(path) as fh:
        head = fh.read(65536).decode(encoding, errors="replace")
    line = next((ln for ln in head.splitlines() if ln.strip()), "")
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


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


# --------------------------------------------------------------------------- Excel

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
