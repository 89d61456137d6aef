"""The DuckDB backend: a connection, and the view ``raw`` over the source's rows.

Nothing here changes the input: non-UTF-8 text is transcoded into a temporary UTF-8 copy, and
Excel is read into Parquet, both in a temp folder removed when the :class:`Dataset` closes.
No extension is installed or loaded on its own, so a path or query never downloads code.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ...config import Config, is_url
from ...errors import DataError, did_you_mean
from ..parsing import _path_list, quote_ident, sql_literal
from ..sources import (
    DUCKDB_SETTINGS, SINGLE_BYTE, UTF8_REPLACED, WEB_SCHEMES, _URL_IN_SQL, _check_encoding, _excel_frame,
    _has_non_ascii, _header_names, _interrupt_error, _kind, _looks_binary, _mixed_line_endings,
    _normalized_line_endings, _packed_kind, _sep_line, _source_files, _transcode, _unclosed_quote_line,
    _utf8_counts, _whitespace_separated, detect_encoding, file_state,
)


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


def _columns(db) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("DESCRIBE raw").fetchall()}


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
        from ...errors import interrupted
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
            raise DataError(f"Table {table!r} is not in {path!r}.{did_you_mean(table, tables)}",
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
        # long: the read is retried (serial reader, line endings) with the state built above
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
