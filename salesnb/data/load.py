"""SPEC 2.3, written once as Ibis expressions and run by every backend: the rows parsed into the
canonical columns (:mod:`.canonical`), the rows dropped per reason with examples, the filters,
the exact duplicates, the canonical table ``sales``, and the figures of the quality record.

A backend gives a :class:`Runner`: its raw rows as an Ibis table, how it runs an expression and
how it stores the parsed rows and the canonical table; its :class:`~.canonical.Dialect` holds
what the engine spells differently and the flags of what only makes it faster.
"""
from __future__ import annotations

import datetime as dt

from ..config import DIMENSIONS, Config
from .canonical import ID_ROLES, Dialect, filter_keys, parsed_columns, raw_examples, source_filter_match
from .parsing import EXAMPLES, _infer_date_family, _strptime_sql
from .quality import Stats, build_quality
from .rules import (
    _CURRENCY_MARKS, MAX_LINE_REVENUE, MISSING_ID_WORDS, OUTLIER_GAP_YEARS, count_duplicates_dropped,
    first_failing, no_usable_rows, order_id_notes, plausible_year_range, source_has_no_rows,
)
from .sources import DUCKDB_SETTINGS

DATE_SAMPLE = 200_000   # distinct date texts the format is inferred from


class Runner:
    """What a backend provides to the load (each backend module subclasses it)."""

    dialect: Dialect
    raw: object                 # Ibis table of the source's raw rows
    source_desc: str            # the source, for messages
    rows_read: int | None = None    # when reading the source counted them
    columnar = False            # cheap to scan more than once (Parquet, DuckDB, Excel)

    def one(self, expr) -> dict:
        """The single row of an aggregate expression, as a dict."""
        return expr.to_pandas().iloc[0].to_dict()

    def all(self, expr) -> list[tuple]:
        return list(expr.to_pandas().itertuples(index=False, name=None))

    def infer_dates(self, values_expr, what: str, date_format: str):
        """The date family of ``values_expr`` (distinct texts ``v``): fetched, inferred on DuckDB."""
        import duckdb
        values = values_expr.to_pyarrow()
        db = duckdb.connect(config=dict(DUCKDB_SETTINGS))
        try:
            db.register("vals", values)
            return infer_on_duckdb(db, "vals", values.num_rows <= DATE_SAMPLE, what, date_format)
        finally:
            db.close()

    def store_parsed(self, expr, as_view: bool):   # pragma: no cover
        """``expr`` (the parsed rows) stored once: its Ibis table."""
        raise NotImplementedError

    def store_sales(self, parsed, kept, canonical: list[str], dedupe: bool, dropped: bool):   # pragma: no cover
        """The canonical table from the parsed rows (``kept``: they filtered); its Ibis table."""
        raise NotImplementedError


def load_rows(config: Config, run: Runner):
    """The canonical table and the quality record: (its Ibis table, DataQuality)."""
    d, raw = run.dialect, run.raw
    notes: list[str] = []

    def infer(text):
        values = raw.select(v=text).filter(lambda t: t.v.notnull() & (t.v != "")).distinct().limit(DATE_SAMPLE + 1)
        what = f"column {config.columns['order_date']!r} (columns.order_date) in {run.source_desc}"
        return run.infer_dates(values, what, config.date_format)

    prescan = d.prescan and run.columnar
    clean, dup_rows = _prescan(run, config) if prescan else (set(), None)
    canonical, raw_text, date_fmt, date_note = parsed_columns(d, raw, config, clean, infer)
    # the raw text is stored only where it is text (DuckDB: a typed value is read again for an example)
    stored = {f"_raw_{k}": v for k, v in raw_text.items()
              if not d.row_hash or (k != "order_id" and v.type().is_string())}
    full = {**canonical, **{f"_raw_{k}": v for k, v in raw_text.items()}}
    # the row hash is kept only when still needed: to count the duplicates (no prescan) or to
    # drop them (dedupe: true and some found)
    keep_hash = d.row_hash and (dup_rows is None or (config.dedupe and dup_rows > 0))
    extra = {"_row_hash": d.row_hash_expr(raw)} if keep_hash else {}
    source_cols = {} if d.row_hash else {f"_src_{i}": raw[c] for i, c in enumerate(raw.columns)}
    # a filter on a source column that no role maps: its match is stored beside the parsed rows
    filters = filter_keys(config, raw, run.source_desc)
    at = f" in {config.params_path}" if config.params_path else ""
    matches = {f"_flt{i}": source_filter_match(d, raw, key, values, f"filters.{kind}.{key}{at}", run.source_desc)
               for i, (kind, key, values, role) in enumerate(filters) if role is None}
    expr = raw.select(**canonical, **stored, **extra, **source_cols, **matches)
    inner = raw.select(**full)
    parsed = run.store_parsed(expr, as_view=prescan and not keep_hash and not filters)
    rows_read = run.rows_read
    if rows_read is None:
        rows_read = int(run.one(parsed.aggregate(n=parsed.count()))["n"] or 0)
        if rows_read == 0:
            raise source_has_no_rows(run.source_desc)

    dropped, examples, valid = _dropped_rows(run, config, parsed, inner)
    if dup_rows is None:
        dup_rows = _duplicates(run, parsed, rows_read, notes)
    notes = ([date_note] if date_note else []) + order_id_notes(config) + notes
    decimal_hint = _decimal_hint(run, config, dropped) if d.money_notes else None
    if decimal_hint:
        notes.append(decimal_hint)
    mixed = currency_note(run, config, parsed) if d.money_notes else None
    if mixed:
        notes.append(mixed)
    keep, applied = _apply_filters(run, config, parsed, valid, filters)
    if sum(f["removed"] for f in applied):
        dropped["filtered"] = sum(f["removed"] for f in applied)
    kept = parsed.filter(keep.fill_null(False))
    table = run.store_sales(parsed, kept, list(canonical), config.dedupe and bool(dup_rows), bool(dropped))
    stats, rows_used = _stats(run, config, table)
    dup_dropped = count_duplicates_dropped(config, dup_rows, rows_read, rows_used, dropped)
    if rows_used == 0:
        raise no_usable_rows(config, run.source_desc, rows_read, dropped, examples, decimal_hint)
    return table, dict(stats=stats, rows_read=rows_read, rows_used=rows_used, dropped=dropped, examples=examples,
                       dup_rows=dup_rows, dup_dropped=dup_dropped, date_format=date_fmt, notes=notes, filters=applied)


def quality_of(config: Config, found: dict, **source):
    """The DataQuality record of what :func:`load_rows` found (``source``: source, source_label,
    sha256, encoding; notes of the reading come first)."""
    read_notes = source.pop("read_notes", [])
    found = dict(found, notes=list(read_notes) + found["notes"])
    return build_quality(config, found.pop("stats"), **source, **found)


def _apply_filters(run: Runner, config: Config, parsed, valid, filters):
    """The condition of a kept row, and per filter (in the order they apply, one aggregate) the
    usable rows it saw, kept and removed (:func:`filter_record`). A role compares its canonical
    value; a source column its stored match."""
    if not filters:
        return valid, []
    keep, aggs = valid, {"n": parsed.count(where=valid)}
    for i, (kind, key, values, role) in enumerate(filters):
        match = parsed[role].cast("string").fill_null("").isin(values) if role else parsed[f"_flt{i}"]
        cond = match if kind == "include" else ~match
        aggs[f"r{i}"] = parsed.count(where=keep & ~cond)
        keep = keep & cond
    row = run.one(parsed.aggregate(**aggs))
    rows, applied = int(row["n"] or 0), []
    for i, spec in enumerate(filters):
        applied.append(filter_record(config, spec, rows, int(row[f"r{i}"] or 0)))
        rows -= applied[-1]["removed"]
    return keep, applied


def filter_record(config: Config, spec, rows: int, removed: int) -> dict:
    """What one filter did, for the quality record: ``spec`` (kind, key, values, role or None)."""
    kind, key, values, role = spec
    return {"kind": kind, "column": str(config.columns[role]) if role else key, "role": role,
            "values": list(values), "rows": rows, "kept": rows - removed, "removed": removed}


# --------------------------------------------------------------------------- stage 1: prescan

def _prescan(run: Runner, config: Config) -> tuple[set[str], int]:
    """One scan of the raw rows: the exact duplicate rows, and the text columns (ids and
    dimensions) whose every value reads as it is: no value that trim() changes, none empty; for
    ids none with a '.' (a "17850.0" export); for the customer id none of the missing-value words."""
    d, raw = run.dialect, run.raw
    schema = raw.schema()
    ids = {config.columns.get(r) for r in ID_ROLES} - {None}
    id_cols, dim_cols = [], []
    for role, col in config.columns.items():
        if role not in ID_ROLES and role not in DIMENSIONS:
            continue
        if col in raw.columns and schema[col].is_string() and col not in id_cols + dim_cols:
            (id_cols if col in ids else dim_cols).append(col)

    def checks(col: str, v):
        """The column's cleaning flag, then its non-ASCII flag, over ``v``."""
        # ASCII spaces by pattern (cheap); trim() also strips Unicode spaces, so a column with
        # any non-ASCII text is checked with trim() itself below
        cond = v.like(" %") | v.like("% ") | (v == "")
        if col in ids:
            cond = cond | v.contains(".")
        if col == config.columns.get("customer_id"):
            cond = cond | ((d.strlen(v) <= 4) & v.lower().isin(MISSING_ID_WORDS))
        return cond.any(), (d.strlen(v) != v.length()).any()

    aggs = {"dup": raw.count() - d.row_hash_expr(raw).nunique()}
    for i, col in enumerate(id_cols):
        aggs[f"c{i}"], aggs[f"u{i}"] = checks(col, raw[col])
    flags = run.one(raw.aggregate(**aggs))
    dirty, unicode = {}, []
    for i, col in enumerate(id_cols):
        dirty[col] = bool(flags[f"c{i}"])
        if flags[f"u{i}"] and not dirty[col]:
            unicode.append(col)
    # a dimension has few distinct values: checking those is a third of the cost of checking
    # every row (10M lines: 0.4 s against 1.1 s)
    if dim_cols:
        import ibis
        parts = []
        for i, col in enumerate(dim_cols):
            values = raw.select(v=raw[col]).distinct()
            bad, uni = checks(col, values.v)
            parts.append(values.aggregate(k=ibis.literal(i), c=bad, u=uni))
        found = {k: (c, u) for k, c, u in run.all(ibis.union(*parts) if len(parts) > 1 else parts[0])}
        for i, col in enumerate(dim_cols):
            dirty[col] = bool(found[i][0])
            if found[i][1] and not dirty[col]:
                unicode.append(col)
    if unicode:
        row = run.one(raw.aggregate(**{f"t{i}": (d.trim(raw[c]) != raw[c]).any() for i, c in enumerate(unicode)}))
        dirty.update({c: bool(row[f"t{i}"]) for i, c in enumerate(unicode)})
    return {col for col, bad in dirty.items() if not bad}, int(flags["dup"])


# --------------------------------------------------------------------------- stage 2: dropped rows

def _dropped_rows(run: Runner, config: Config, parsed, inner):
    """The rows each reason drops (one aggregate) and up to EXAMPLES values of each; (dropped,
    examples, the condition of a valid row)."""
    years = _plausible_years(run, parsed)
    reasons = _reasons(parsed, years)
    firsts = first_failing(reasons, lambda a, b: a & b, lambda a: ~a)
    row = run.one(parsed.aggregate(**{f"r{i}": parsed.count(where=c) for i, c in enumerate(firsts.values())}))
    dropped: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for i, (reason, cond) in enumerate(firsts.items()):
        n = int(row[f"r{i}"] or 0)
        if not n:
            continue
        dropped[reason] = n
        # a raw value not stored (typed, or an order id) is read from the source again
        shown = raw_examples(config, parsed).get(reason)
        src, src_firsts = parsed, firsts
        if shown is None:
            src = inner
            src_firsts = first_failing(_reasons(src, years), lambda a, b: a & b, lambda a: ~a)
            shown = raw_examples(config, src)[reason]
        shown = shown.fill_null("(empty)")
        ex = src.filter(src_firsts[reason]).select(v=shown).distinct().order_by("v").limit(EXAMPLES)
        examples[reason] = [str(r[0]) for r in run.all(ex)]
    valid = None
    for cond in reasons.values():
        valid = ~cond if valid is None else valid & ~cond
    return dropped, examples, valid


def _reasons(t, years) -> dict:
    """Each reason's condition over ``t`` (canonical columns), in REASONS order."""
    reasons = {"unparseable date": t.order_date.isnull()}
    if years:
        reasons["implausible date"] = (t.order_date.year() < years[0]) | (t.order_date.year() > years[1])
    # beyond any real line amount, and past what exact money sums (DECIMAL(38, 6)) can hold
    reasons.update({"unparseable revenue": t.revenue.isnull(), "revenue out of range": t.revenue.abs() >= MAX_LINE_REVENUE,
                    "missing order id": t.order_id.isnull()})
    return reasons


def _plausible_years(run: Runner, parsed) -> tuple[int, int] | None:
    """The first and last year of the dates to keep, when some dates are implausible
    (:func:`~salesnb.data.rules.plausible_year_range`); None when every date is plausible. One
    cheap scan unless the dates span more than OUTLIER_GAP_YEARS years."""
    year = parsed.order_date.year()
    row = run.one(parsed.aggregate(lo=year.min(), hi=year.max(), n=parsed.order_date.count()))
    if not row["n"] or row["lo"] is None or row["lo"] != row["lo"]:   # NULL, or NaN from pandas
        return None
    lo, hi, n = int(row["lo"]), int(row["hi"]), int(row["n"])
    if hi - lo <= OUTLIER_GAP_YEARS and lo >= 1 and hi <= 9998:
        return None
    dated = parsed.filter(parsed.order_date.notnull()).select(y=parsed.order_date.year())
    per = dated.filter(dated.y.between(1, 9998)).group_by("y").aggregate(n=lambda t: t.count()).order_by("y")
    return plausible_year_range([(int(y), int(c)) for y, c in run.all(per)], lo, hi, n)


def _duplicates(run: Runner, parsed, rows_read: int, notes: list[str]) -> int:
    """Exact duplicate source rows: by the stored row hash, or DISTINCT over the source columns."""
    if "_row_hash" in parsed.columns:
        return rows_read - int(run.one(parsed.aggregate(n=parsed._row_hash.nunique()))["n"])
    src = [c for c in parsed.columns if c.startswith("_src_")]
    try:
        return rows_read - int(run.one(parsed.select(*src).distinct().aggregate(n=lambda t: t.count()))["n"])
    except Exception as exc:  # noqa: BLE001 - a column type without equality (json, arrays)
        notes.append(f"Exact duplicate rows were not counted on this engine ({type(exc).__name__}).")
        return 0


# --------------------------------------------------------------------------- notes

def currency_note(run: Runner, config: Config, parsed) -> str | None:
    """A data-quality note when one money column's text values carry more than one currency
    (summed as they are, without conversion); None otherwise."""
    from ..fmt import fmt_count
    for role in ("revenue", "unit_price"):
        if f"_raw_{role}" not in parsed.columns:
            continue
        # only values with a character that is not part of a plain number are looked at (one
        # regex per row: about 0.4 s at 10M text values; a column of numbers costs nothing)
        some = parsed.filter(parsed[f"_raw_{role}"].re_search("[^0-9.,+() -]"))
        upper = some[f"_raw_{role}"].upper()
        marks = list(_CURRENCY_MARKS)
        # "US$" also contains "$": count "$" only where "US$" is not
        conds = [upper.contains(m) & ~upper.contains("US$") if m == "$" else upper.contains(m) for m in marks]
        row = run.one(some.aggregate(**{f"m{i}": some.count(where=c) for i, c in enumerate(conds)}))
        per: dict[str, int] = {}
        for i, m in enumerate(marks):
            n = int(row[f"m{i}"] or 0)
            if n:
                per[_CURRENCY_MARKS[m]] = per.get(_CURRENCY_MARKS[m], 0) + n
        if len(per) > 1:
            listed = ", ".join(f"{code} {fmt_count(n)} {'row' if n == 1 else 'rows'}"
                               for code, n in sorted(per.items(), key=lambda kv: -kv[1]))
            return (f"columns.{role} ({config.columns.get(role)}) holds amounts in more than one currency ({listed}); "
                    f"they are added up as {config.currency} without conversion. Convert them first, or filter "
                    "the rows of one currency (query:).")
    return None


def _decimal_hint(run: Runner, config: Config, dropped: dict) -> str | None:
    """When rows with unreadable money would read with the other ``decimal``, say so."""
    from .canonical import money_expr
    if not dropped.get("unparseable revenue"):
        return None
    other = "," if config.decimal == "." else "."
    cols = config.columns
    raw, d = run.raw, run.dialect
    for role in ["revenue"] if "revenue" in cols else ["quantity", "unit_price"]:
        c = raw[cols[role]]
        if not c.type().is_string():
            continue
        bad = raw.filter(c.notnull() & money_expr(d, c, config.decimal).isnull())
        row = run.one(bad.aggregate(n=bad.count(), alt=money_expr(d, bad[cols[role]], other).count()))
        n, alt = int(row["n"] or 0), int(row["alt"] or 0)
        if n and alt >= max(1, n // 2):
            return (f"{alt:,} unreadable values of {cols[role]!r} (columns.{role}) read as numbers with "
                    f"decimal: {other!r}; set decimal: {other!r} in the params file if the data writes "
                    f"numbers like {'1.234,56' if other == ',' else '1,234.56'}.")
    return None


# --------------------------------------------------------------------------- stage 3: the figures

def _stats(run: Runner, config: Config, t) -> tuple[Stats, int]:
    """The figures of ``sales`` that the quality record needs: one aggregate scan, and the months."""
    exact = run.dialect.exact_sums

    def total(where=None):
        x = t.revenue.cast("decimal(38, 6)") if exact else t.revenue
        return x.sum(where=where).cast("float64")

    has_cust = "customer_id" in config.columns
    aggs = {"rows": t.count(), "first": t.order_date.min(), "last": t.order_date.max(), "total": total(),
            "ret_lines": t.count(where=t.revenue < 0), "ret_value": total(t.revenue < 0),
            "zero": t.count(where=t.revenue == 0), "big": t.revenue.abs().max()}
    if has_cust:
        aggs.update(nocust_rows=t.count(where=t.customer_id.isnull()), nocust_rev=total(t.customer_id.isnull()),
                    cust_min=t.customer_id.min(), cust_max=t.customer_id.max())
    if "unit_price" in config.columns:
        aggs["neg_price"] = t.count(where=t.unit_price < 0)
    row = run.one(t.aggregate(**aggs))
    rows_used = int(row["rows"] or 0)
    if rows_used == 0:
        return None, 0

    def num(key, default=0.0):
        v = row.get(key)
        return default if v is None or (isinstance(v, float) and v != v) else v

    tot = float(num("total"))
    # months as numbers: strftime on every row costs more than the rest of these statistics
    months = {int(r[0]) for r in run.all(t.select(m=t.order_date.year() * 12 + t.order_date.month() - 1).distinct())}
    cust_max = row.get("cust_max") if has_cust else None
    customers = 0 if cust_max is None or cust_max != cust_max else (1 if row["cust_min"] == cust_max else 2)
    stats = Stats(first=_as_date(row["first"]), last=_as_date(row["last"]), total=tot,
                  return_lines=int(num("ret_lines", 0)), return_value=-float(row["ret_value"]) if num("ret_value", None) is not None else 0.0,
                  zero_lines=int(num("zero", 0)),
                  nocust_rows=int(num("nocust_rows", 0)) if has_cust else rows_used,
                  nocust_revenue=float(num("nocust_rev")) if has_cust else tot, biggest=float(num("big")),
                  negative_prices=int(num("neg_price", 0)), customers=customers, months=months)
    return stats, rows_used


def _as_date(value) -> dt.date:
    if type(value) is dt.datetime and value.tzinfo is None:   # DuckDB's (no pandas import)
        return value.date()
    import pandas as pd
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()


def infer_on_duckdb(db, table: str, every_value: bool, what: str, date_format: str):
    """The date family of the text values ``v`` of ``table`` on a DuckDB connection (the inference
    by value shape runs on DuckDB for every engine); (formats, the main one). ``every_value``:
    the table holds every distinct value, so formats that read none of them are left out."""
    family, main = _infer_date_family(db, f"(SELECT v FROM {table})", what, date_format)
    if every_value and len(family) > 1:
        per = db.execute("SELECT " + ", ".join(f"count({_strptime_sql('v', f)})" for f in family)
                         + f" FROM {table}").fetchone()
        family = tuple(f for f, n in zip(family, per) if n) or family
    return family, main


__all__ = ["Runner", "load_rows", "quality_of", "currency_note", "infer_on_duckdb", "filter_record"]
