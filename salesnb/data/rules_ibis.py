"""SPEC 2.3 as Ibis expressions, for the engines other than DuckDB (PySpark, PostgreSQL).

The source's columns are mapped to the canonical table with Ibis expressions that run *on that
engine* (nothing is pulled into pandas but a sample of distinct date texts for
``date_format: auto``); the data rules apply there, and the canonical table is materialised
once (a cached Spark DataFrame, a PostgreSQL temporary table). The returned
:class:`~salesnb.data.dataset.EngineDataset` has a ``table`` that the unchanged metric code
queries.

Where the engines differ, it is handled here, in one place:

* Canonical types: ``order_id``/``customer_id``/dimensions text, ``order_date`` a timestamp
  *without* time zone (Spark ``TIMESTAMP_NTZ``, sessions in UTC), ``revenue``/``quantity``/
  ``unit_price`` float64.
* Text dates: the format is inferred exactly as on DuckDB (same candidate families, from up to
  200,000 distinct values), then parsed with a full-match regular expression + the engine's
  own parser in a form that returns NULL instead of failing: Spark ``try_to_timestamp``,
  PostgreSQL a session-local ``pg_temp`` PL/pgSQL function around ``to_timestamp``.
* Text money: the grammar of :func:`salesnb.data.parsing.money_sql` (same regular
  expressions), cast with Spark ``try_cast`` / a ``pg_temp`` function around ``::float8``.

Data quality on an engine: rows read/used/dropped for the same reasons as on DuckDB
(:data:`salesnb.data.rules.REASONS`) with up to 5 examples, filters, exact duplicate rows
(``SELECT DISTINCT`` over every source column), returns, rows without a customer, first/last
date, partial and gap months, the same notes as on DuckDB except the ``decimal`` hint and the
mixed-currency note (DuckDB only). ``sha256``: a local file source is hashed as on DuckDB (the
same fingerprint); a table, query or remote path cannot be hashed by content without reading it
all out of the engine, so it is the sha256 of ``engine URL (password removed) + table/query/source + rows read
+ the revenue sum to the cent`` — it changes when the data's size or total changes, not for
every edit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math

from ..config import DIMENSIONS, NUMBER_ROLES, ORDER_ID_PARTS_SHOWN, PROFIT_ROLES, Config
from .backends import POSTGRES, SPARK, _Source, engine_kind, mask_url
from .dataset import EngineDataset
from .parsing import (
    EXAMPLES, YEAR_RANGE, _MONEY_STRIP, _NUMBER, _infer_date_family, _strptime_sql, convert_date_format,
)
from .quality import Stats, build_quality
from .rules import (
    MAX_LINE_REVENUE, MISSING_ID_WORDS, ORDER_ID_SEPARATOR, OUTLIER_GAP_YEARS, _check_columns,
    count_duplicates_dropped, date_format_unused, first_failing, no_usable_rows, order_id_notes,
    plausible_year_range, source_has_no_rows,
)
from .sources import DUCKDB_SETTINGS, fingerprint

DATE_SAMPLE = 200_000



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


# --------------------------------------------------------------------------- canonical columns

def _text(col):
    return col.cast("string").strip()


def _id_expr(col, dtype, missing_words: bool = False):
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
    if missing_words:
        return ibis.cases((text.lower().isin(MISSING_ID_WORDS), ibis.null("string")), else_=text.nullif(""))
    return text.nullif("")


def _composite_id_expr(t, schema, config: Config):
    """:func:`salesnb.data._composite_id_sql` on Ibis: the parts' text joined, NULL when any
    part is missing; the order date column stands for its calendar day."""
    import ibis
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
        note = date_format_unused(fmt, name)
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

    sample = raw.select(v=text).filter(lambda t: t.v.notnull() & (t.v != "")).distinct().limit(DATE_SAMPLE + 1)
    values = sample.to_pyarrow()
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

def load_on_engine(config: Config) -> EngineDataset:
    """Load the config's source on its Spark or PostgreSQL engine (SPEC 2.2, 2.3)."""
    kind = engine_kind(config.engine)
    if kind == SPARK:
        from .backends import spark
        session = spark.spark_session(config.engine)
        import ibis
        con = ibis.pyspark.connect(session)
        source = spark._spark_source(con, session, config)
    else:
        from .backends import postgres
        con = postgres.postgres_connect(config.engine)
        try:
            source = postgres._postgres_source(con, config)
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


def _materialise(con, kind: str, expr, collate: bool = False):
    """``expr`` computed once on the engine: (ibis table, its name, release())."""
    if kind == SPARK:
        from .backends import spark
        return spark.materialise(expr)
    from .backends import postgres
    return postgres.materialise(con, expr, collate=collate)


def _parsed(raw, schema, config: Config, dialect: _Dialect, desc: str):
    # long: four projections in a row, each reading the columns the previous one made
    """The source rows plus ``_c_<role>`` canonical values (NULL where a value does not read).

    The parse is a chain of projections (clean text → sign and body → number → value), so each
    regular expression runs once per row on every engine instead of once per use."""
    import ibis
    cols = config.columns
    s1: dict = {}
    if not config.order_id_parts:   # a composite one is made once the date is read, below
        s1["_c_order_id"] = _id_expr(raw[cols["order_id"]], schema[cols["order_id"]])
    if "customer_id" in cols:
        s1["_c_customer_id"] = _id_expr(raw[cols["customer_id"]], schema[cols["customer_id"]], missing_words=True)
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
    if native is None and "%" in config.date_format:   # a given format reads every year, as on DuckDB
        s3["_c_order_date"] = t._d_date
    elif native is None:   # an inferred format reads YEAR_RANGE only
        d = t._d_date
        s3["_c_order_date"] = ibis.cases((d.year().between(*YEAR_RANGE), d), else_=ibis.null("timestamp"))
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


def _load(config: Config, con, kind: str, source: _Source) -> EngineDataset:
    raw = source.table
    desc = repr(source.description)
    schema = raw.schema()
    _check_columns(config, {name: str(dtype) for name, dtype in schema.items()}, desc)
    dialect = _Dialect(kind)
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
        dropped, examples, valid, keep_filters, rows_read = _dropped_rows(parsed, config, desc)
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
        canonical += ["revenue"] + [d for d in DIMENSIONS + PROFIT_ROLES if f"_c_{d}" in parsed.columns]
        out = kept.select(**{k: kept[f"_c_{k}"] for k in canonical})
        table, table_name, release = _materialise(con, kind, out, collate=True)
        releases.append(release)
        quality = _quality(config, table, source, rows_read, dropped, examples, dup_rows, date_fmt, notes)
    except BaseException:
        for release in reversed(releases):
            release()
        raise
    releases[0]()  # the parsed copy (the canonical table is computed and cached by now)
    return EngineDataset(config=config, con=con, table=table, quality=quality, kind=kind, table_name=table_name,
                         _release=release)


def _dropped_rows(parsed, config: Config, desc: str):
    """The rows each reason drops (one aggregate query) and up to EXAMPLES values of each;
    (dropped, examples, the valid-row condition, the filters' condition or None, rows read)."""
    import ibis
    cols = config.columns
    date, revenue = parsed._c_order_date, parsed._c_revenue
    years = _plausible_years(parsed)
    reasons = {"unparseable date": date.isnull()}
    if years:
        reasons["implausible date"] = (date.year() < years[0]) | (date.year() > years[1])
    reasons["unparseable revenue"] = revenue.isnull()
    reasons["revenue out of range"] = revenue.abs() >= MAX_LINE_REVENUE
    reasons["missing order id"] = parsed._c_order_id.isnull()
    if "revenue" in cols:
        example = {"unparseable revenue": parsed[cols["revenue"]].cast("string")}
    else:
        example = {"unparseable revenue": parsed[cols["quantity"]].cast("string").fill_null("(empty)") + " × "
                   + parsed[cols["unit_price"]].cast("string").fill_null("(empty)")}
    example["unparseable date"] = example["implausible date"] = parsed[cols["order_date"]].cast("string")
    example["revenue out of range"] = revenue.cast("string")
    if config.order_id_parts:
        example["missing order id"] = ibis.literal(ORDER_ID_PARTS_SHOWN).join(
            [parsed[c].cast("string").fill_null("(empty)") for c in config.order_id_parts])
    else:
        example["missing order id"] = parsed[cols["order_id"]].cast("string")
    firsts = first_failing(reasons, lambda a, b: a & b, lambda a: ~a)
    valid = None
    for cond in reasons.values():
        valid = ~cond if valid is None else valid & ~cond
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
        raise source_has_no_rows(desc)
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
    return dropped, examples, valid, keep_filters, rows_read


def _plausible_years(parsed) -> tuple[int, int] | None:
    """:func:`~salesnb.data.rules.plausible_year_range` of the parsed dates (as on DuckDB)."""
    import pandas as pd
    year = parsed._c_order_date.year()
    row = parsed.aggregate(lo=year.min(), hi=year.max(), n=parsed._c_order_date.count()).to_pandas().iloc[0]
    if not row["n"] or pd.isna(row["lo"]):
        return None
    lo, hi, n = int(row["lo"]), int(row["hi"]), int(row["n"])
    if hi - lo <= OUTLIER_GAP_YEARS and lo >= 1 and hi <= 9998:
        return None
    dated = parsed.filter(parsed._c_order_date.notnull())
    dated = dated.mutate(y=dated._c_order_date.year())
    per = dated.filter((dated.y >= 1) & (dated.y <= 9998)).group_by("y").aggregate(n=lambda t: t.count())
    per = per.order_by("y")
    per_year = [(int(y), int(c)) for y, c in per.to_pandas().itertuples(index=False)]
    return plausible_year_range(per_year, lo, hi, n)


def _fingerprint(config: Config, source: _Source, rows_read: int, total: float) -> str:
    if source.files:
        return fingerprint(source.files)
    what = config.query or (f"table:{config.table}" if config.table else f"source:{config.source}")
    text = "\n".join([mask_url(config.engine), what, str(rows_read), f"{total:.2f}"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _quality(config: Config, t, source: _Source, rows_read, dropped, examples, dup_rows, date_fmt,
             notes):
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

    total = float(num("total"))
    months = t.select(m=t.order_date.year() * 12 + t.order_date.month() - 1).distinct().to_pandas()["m"]
    stats = Stats(
        first=_as_date(row["first"]), last=_as_date(row["last"]), total=total,
        return_lines=int(num("ret_lines", 0)), return_value=-float(num("ret_value")), zero_lines=int(num("zero", 0)),
        nocust_rows=int(num("nocust_rows", 0)) if has_cust else rows_used,
        nocust_revenue=float(num("nocust_rev")) if has_cust else total, biggest=float(num("big")),
        negative_prices=int(num("neg_price", 0)), customers=int(num("n_cust", 0)) if has_cust else 0,
        months={int(m) for m in months})
    return build_quality(config, stats, source=source.description, source_label=source.description,
                         sha256=_fingerprint(config, source, rows_read, total), encoding=source.encoding,
                         rows_read=rows_read, rows_used=rows_used, dropped=dropped, examples=examples,
                         dup_rows=dup_rows, dup_dropped=dup_dropped, date_format=date_fmt, notes=notes)


def _as_date(value) -> dt.date:
    import pandas as pd
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.date()
