"""SPEC 2.3 on DuckDB, in SQL: the canonical columns (ids, dates, money, dimensions), the rows
dropped per reason, the duplicates, the filters, and the canonical table ``sales``.

The DuckDB path keeps measured shortcuts (see benchmarks/results.md) that the Ibis path of the
other engines (:mod:`salesnb.data.rules_ibis`) does not need or cannot express:

* Parquet/DuckDB/Excel sources of at least ``VIEW_MIN_ROWS`` rows are read in place (views, no
  copy); smaller ones are parsed once into a table that becomes ``sales`` without a copy.
* One prescan of a columnar source counts the exact duplicates and finds the text columns that
  need no cleaning, which are then read as they are.
* ``trim()`` runs only on the values it can change (:func:`~salesnb.data.parsing.trimmed_sql`).
* Dates are inferred by value shape (:func:`~salesnb.data.parsing._format_counts`).
* Money sums are exact (``DECIMAL(38, 6)``), so they do not depend on the scan order.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..config import DIMENSIONS, NUMBER_ROLES, ORDER_ID_PARTS_SHOWN, PROFIT_ROLES, Config
from ..errors import DataError, NoDataError
from .backends.duckdb import _Reader, _columns
from .dataset import Dataset
from .parsing import (
    EXAMPLES, _family_sql, _infer_date_family, _strptime_sql, money_sql, quote_ident, sql_literal, trimmed_sql,
)
from .quality import Stats, build_quality
from .rules import (
    _CURRENCY_MARKS, MAX_LINE_REVENUE, MISSING_ID_WORDS, ORDER_ID_SEPARATOR, OUTLIER_GAP_YEARS, _check_columns,
    _check_duplicate_headers, count_duplicates_dropped, date_format_unused, first_failing, no_usable_rows,
    order_id_notes, plausible_year_range,
)
from .sources import fingerprint_later

# Columnar sources with at least this many rows are read in place (views), not copied: at 10M
# lines a report is faster that way too and needs half the memory (benchmarks/results.md).
# Smaller ones are copied: cheap, and then independent of the file.
VIEW_MIN_ROWS = 1_000_000

# sources read as typed columns: cheap to scan more than once, row count in the metadata
COLUMNAR_KINDS = ("parquet", "duckdb", "excel")


# --------------------------------------------------------------------------- canonical columns

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


def _date_sql(db, col: str, dtype: str, config: Config, source_desc: str) -> tuple[str, str, str | None]:
    """(SQL expression giving a TIMESTAMP, the format used, a note or None)."""
    c = quote_ident(col)
    fmt = config.date_format
    upper = dtype.upper()
    if upper.startswith("TIMESTAMP") or upper == "DATE":
        note = date_format_unused(fmt, col)
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


# --------------------------------------------------------------------------- notes

def currency_note(db, config: Config, stored_raw: list[str], table: str = "parsed") -> str | None:
    """A data-quality note when one money column's text values carry more than one currency
    (summed as they are, without conversion); None otherwise."""
    from ..fmt import fmt_count
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


# --------------------------------------------------------------------------- the load

@dataclass
class _Parsed:
    """Stage 1: every row parsed once into "parsed" (a table, or a view over a big columnar
    source), with the raw text of the columns whose dropped rows are shown as examples."""

    canonical: list[str]     # the canonical columns, in order
    helpers: list[str]       # the helper columns of "parsed" (raw text, row hash)
    stored_raw: list[str]    # roles whose raw text "parsed" keeps (_raw_<role>)
    missing_raw: list[str]   # raw columns not kept: read again from ``inner`` for the examples
    inner: str               # the SELECT over raw that "parsed" holds
    as_view: bool
    rows_read: int
    dup_rows: int | None     # exact duplicate rows, when the prescan counted them


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
    parsed, date_fmt, date_note = _parse(db, config, raw_cols, rows_read, reader.kind in COLUMNAR_KINDS, source_desc)
    dropped, examples, dup_rows, valid = _dropped_rows(db, config, parsed)
    notes = list(reader.notes) + ([date_note] if date_note else []) + order_id_notes(config)
    decimal_hint = _decimal_hint(db, config, raw_cols, dropped)
    if decimal_hint:
        notes.append(decimal_hint)
    mixed_currency = currency_note(db, config, parsed.stored_raw)
    if mixed_currency:
        notes.append(mixed_currency)
    _make_sales(db, config, parsed, valid, dropped, dup_rows)
    rows_used = db.execute("SELECT count(*) FROM sales").fetchone()[0]
    dup_dropped = count_duplicates_dropped(config, dup_rows, parsed.rows_read, rows_used, dropped)
    if rows_used == 0:
        raise no_usable_rows(config, source_desc, parsed.rows_read, dropped, examples, decimal_hint)

    stats = _stats(db, config)
    # the files' sha256 was started when they were registered (a query has no files)
    sha = sha.result() if sha is not None else hashlib.sha256((config.query or "").encode()).hexdigest()
    quality = build_quality(config, stats, source=config.source or "query", source_label=config.source or "the query",
                            sha256=sha, encoding=reader.encoding, rows_read=parsed.rows_read, rows_used=rows_used,
                            dropped=dropped, examples=examples, dup_rows=dup_rows, dup_dropped=dup_dropped,
                            date_format=date_fmt, notes=notes)
    if not with_table:
        return quality
    import ibis
    con = ibis.duckdb.from_connection(db)
    table = con.table("sales")
    return Dataset(config=config, con=con, table=table, quality=quality, _tmpdir=tmpdir,
                   source_state=reader.state)


def _selects(config: Config, raw_cols: dict[str, str], date_expr: str, clean: set[str]) -> dict[str, str]:
    """The SQL of each canonical column over ``raw``."""
    cols = config.columns
    if config.order_id_parts:
        order_id = _composite_id_sql(config, raw_cols, date_expr)
    else:
        order_id = _id_sql(cols["order_id"], raw_cols[cols["order_id"]], clean=cols["order_id"] in clean)
    selects = {"order_id": order_id, "order_date": date_expr}
    if "customer_id" in cols:
        selects["customer_id"] = _id_sql(cols["customer_id"], raw_cols[cols["customer_id"]], missing_words=True,
                                         clean=cols["customer_id"] in clean)
    for role in NUMBER_ROLES:
        if role in cols:
            selects[role] = _number_sql(cols[role], raw_cols[cols[role]], config.decimal)
    if "revenue" not in cols:
        selects["revenue"] = "quantity * unit_price"
    for dim in DIMENSIONS:
        if dim in cols:
            selects[dim] = _dim_sql(cols[dim], clean=cols[dim] in clean)
    return selects


def _parse(db, config: Config, raw_cols: dict[str, str], rows_read: int | None, prescan: bool,
           source_desc: str) -> tuple[_Parsed, str, str | None]:
    """Stage 1: create "parsed"; (it, the date format, a date note or None)."""
    # long: one SELECT built clause by clause, each with the reason it is kept or left out
    cols = config.columns
    date_expr, date_fmt, date_note = _date_sql(db, cols["order_date"], raw_cols[cols["order_date"]], config,
                                               source_desc)
    hash_cols = ", ".join(quote_ident(c) for c in raw_cols)
    # Columnar sources (Parquet, DuckDB, Excel converted to Parquet) are cheap to read twice: one
    # scan first counts the exact duplicates and finds the text columns that need no cleaning
    # (no value to trim, none empty, no "17850.0" id, no "N/A" customer), which are then copied
    # as they are instead of through trim() and friends. Text sources are parsed once, as before.
    clean: set[str] = set()
    dup_rows = None
    if prescan:
        clean, dup_rows = _prescan(db, config, raw_cols, hash_cols)
    selects = _selects(config, raw_cols, date_expr, clean)
    first = [f"{selects[k]} AS {k}" for k in ("order_id", "order_date")]
    for role in ("customer_id", "quantity", "unit_price"):
        if role in selects:
            first.append(f"{selects[role]} AS {role}")
    if "revenue" in cols:
        first.append(f"{selects['revenue']} AS revenue")
    first += [f"{selects[d]} AS {d}" for d in DIMENSIONS + PROFIT_ROLES if d in selects]
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
    canonical += ["revenue"] + [d for d in DIMENSIONS + PROFIT_ROLES if d in selects]
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
    parsed = _Parsed(canonical=canonical, helpers=helpers, stored_raw=stored_raw, missing_raw=missing_raw,
                     inner=inner, as_view=as_view, rows_read=rows_read, dup_rows=dup_rows)
    return parsed, date_fmt, date_note


def _dropped_rows(db, config: Config, parsed: _Parsed):
    """Stage 2: the rows each reason drops (one scan, with the exact duplicates when the prescan
    did not count them) and up to EXAMPLES values of each; (dropped, examples, duplicate rows,
    the SQL condition of a valid row)."""
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
                   "unparseable revenue": "CAST(_raw_revenue AS VARCHAR)" if "revenue" in config.columns else
                   "concat_ws(' × ', coalesce(CAST(_raw_quantity AS VARCHAR), '(empty)'), "
                   "coalesce(CAST(_raw_unit_price AS VARCHAR), '(empty)'))"}
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    wheres = first_failing(reasons, lambda a, b: f"{a} AND {b}", lambda a: f"NOT ({a})")
    dup_rows = parsed.dup_rows
    # one scan counts every reason and the exact duplicates
    dup_count = ", count(*) - count(DISTINCT _row_hash)" if dup_rows is None else ""
    counts = db.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {w})" for w in wheres.values())
                        + f"{dup_count} FROM parsed").fetchone()
    if dup_rows is None:
        dup_rows = counts[-1]
    for (reason, where), n in zip(wheres.items(), counts):
        if n:
            dropped[reason] = n
            src = f"({parsed.inner})" if any(m in example_col[reason] for m in parsed.missing_raw) else "parsed"
            ex = db.execute(f"SELECT v FROM (SELECT DISTINCT coalesce({example_col[reason]}, '(empty)') AS v "
                            f"FROM {src} WHERE {where}) ORDER BY v LIMIT {EXAMPLES}").fetchall()
            examples[reason] = [str(r[0]) for r in ex]
    valid = " AND ".join(f"NOT ({c})" for c in reasons.values())
    return dropped, examples, dup_rows, valid


def _make_sales(db, config: Config, parsed: _Parsed, valid: str, dropped: dict[str, int], dup_rows: int) -> None:
    """Stage 3: the filters (counted under "filtered"), dedupe, and "parsed" made "sales" (a view,
    a deduplicated copy, or the same table with the dropped rows deleted)."""
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

    col_list = ", ".join(parsed.canonical)
    if parsed.as_view:
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
        for helper in parsed.helpers:
            db.execute(f"ALTER TABLE parsed DROP COLUMN {helper}")
        db.execute("ALTER TABLE parsed RENAME TO sales")


def plausible_years(db, table: str = "parsed") -> tuple[int, int] | None:
    """The first and last year of the dates to keep, when some dates are implausible
    (:func:`~salesnb.data.rules.plausible_year_range`); None when every date is plausible. One
    cheap scan unless the dates span more than OUTLIER_GAP_YEARS years."""
    lo, hi, n = db.execute(f"SELECT min(year(order_date)), max(year(order_date)), count(order_date) "
                           f"FROM {table}").fetchone()
    if not n or lo is None:
        return None
    if hi - lo <= OUTLIER_GAP_YEARS and lo >= 1 and hi <= 9998:
        return None
    per_year = db.execute(f"SELECT year(order_date) AS y, count(*) FROM {table} WHERE order_date IS NOT NULL "
                          "AND year(order_date) BETWEEN 1 AND 9998 GROUP BY 1 ORDER BY 1").fetchall()
    return plausible_year_range(per_year, lo, hi, n)


def _exact_sum(col: str, where: str | None = None) -> str:
    """SQL for an exact, order-independent money sum (see salesnb.metrics.money)."""
    flt = f" FILTER (WHERE {where})" if where else ""
    return f"(sum(CAST({col} AS DECIMAL(38, 6))){flt})::DOUBLE"


def _stats(db, config: Config) -> Stats:
    """The figures of ``sales`` that the quality record needs: one aggregate scan, and the months."""
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
    # months as numbers: strftime on every row costs more than the rest of these statistics
    months = {r[0] for r in db.execute(
        "SELECT DISTINCT year(order_date) * 12 + month(order_date) - 1 FROM sales").fetchall()}
    return Stats(first=first.date(), last=last.date(), total=total, return_lines=int(ret_lines),
                 return_value=ret_value, zero_lines=int(zero_lines), nocust_rows=int(nocust_rows),
                 nocust_revenue=nocust_rev, biggest=big or 0.0, negative_prices=int(neg or 0),
                 customers=0 if cust_max is None else (1 if cust_min == cust_max else 2), months=months)
