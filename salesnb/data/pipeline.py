"""Loading ``kind: pipeline`` params (SPEC 10): one row per deal → the canonical table ``deals``.

The source is read as for sales params (:mod:`.sources` and the DuckDB reader, or a Spark /
PostgreSQL source), then mapped with Ibis expressions that run on every engine:

* ``stage`` text (trimmed); ``outcome`` ``won`` / ``lost`` / ``open`` from ``stages:`` (every
  other stage is open);
* ``created_date`` / ``close_date`` timestamps (the format inferred as for order dates, or
  ``date_format``); ``value`` a number (the money grammar of :mod:`.parsing`);
* ``deal_id``, ``sales_rep``, ``account``, ``product``, ``region``, ``team`` text.

The rules: an open deal has no close date, and that is its state, never a problem: it is kept
and counted as open. A row without a stage, and a won or lost deal whose close date is missing or
unreadable, cannot be placed and is dropped and counted with examples. An unreadable created date
or value is kept as missing (the deal is in the age band ``unknown``, adds 0 to value) and noted.
``filters`` may name a role or any column of the source.
"""
from __future__ import annotations

import hashlib
import shutil

from ..config import Config
from ..config_pipeline import PIPELINE_TEXT_ROLES
from ..errors import DataError, NoDataError
from ..fmt import fmt_count
from .backends import POSTGRES, SPARK, engine_kind
from .canonical import Dialect, filter_keys, source_filter_match
from .dataset import Dataset, EngineDataset
from .parsing import EXAMPLES, _MONEY_STRIP, _NUMBER, infer_date_format
from .load import filter_record
from .quality import DataQuality, month_coverage, partial_months
from .rules import _check_columns

DATE_ROLES = ("created_date", "close_date")
DATE_SAMPLE = 200_000
REASONS = {"missing stage": "no stage", "closed deal without close date": "won or lost, no readable close date"}


def _date_expr(raw, col: str, config: Config, d: Dialect, desc: str):
    """(timestamp expression, the format read or None): text read by the engine's dialect
    (:class:`~.backends.duckdb_run.DuckDBDialect`, :class:`~.backends.engines.EngineDialect`),
    as the sales rules read order dates (:func:`~.canonical.date_plan`)."""
    import ibis
    dtype = raw.schema()[col]
    if dtype.is_timestamp() or dtype.is_date():
        return d.native_timestamp(raw[col], dtype)[0], "native"
    text = raw[col].cast("string").strip()
    fmt = config.date_format
    if "%" in fmt:
        d.check_date_format(fmt, config.params_path or "the params")
    else:
        sample = raw.select(v=text).filter(lambda t: t.v.notnull() & (t.v != "")).distinct().limit(DATE_SAMPLE)
        values = [v for v in sample.to_pyarrow().column("v").to_pylist()]
        if not values:
            return ibis.null("timestamp"), None
        try:
            fmt = infer_date_format(values, config.date_format)
        except DataError as exc:
            raise DataError(f"Column {col!r} in {desc}: {exc.message}", hint=exc.hint) from None
    return d.parse_timestamp(text, fmt), fmt


def _value_expr(raw, col: str, config: Config, d: Dialect):
    import ibis
    dtype = raw.schema()[col]
    if dtype.is_numeric() or dtype.is_boolean():
        x = raw[col].cast("float64")
        return ibis.cases((x.isnan() | x.isinf(), ibis.null("float64")), else_=x)
    body = raw[col].cast("string").replace("\u2212", "-").re_replace(_MONEY_STRIP, "")
    number = body.replace(",", "") if config.decimal == "." else body.replace(".", "").replace(",", ".")
    valid = body.re_search(f"^(?:{_NUMBER[config.decimal]})$")
    return ibis.cases((valid, d.to_float(number)), else_=ibis.null("float64"))


def _filter_conditions(raw, config: Config, d: Dialect, desc: str) -> tuple[list, list]:
    """The ``filters`` (:func:`~.canonical.filter_keys`) and, for each, the condition of a row it
    keeps: a role compares its column's trimmed text, a source column as
    :func:`~.canonical.source_filter_match` does (the same rules as sales params)."""
    filters = filter_keys(config, raw, desc)
    at = f" in {config.params_path}" if config.params_path else ""
    conds = []
    for kind_, key, values, role in filters:
        if role:
            match = raw[config.columns[role]].cast("string").strip().fill_null("").isin(values)
        else:
            match = source_filter_match(d, raw, key, values, f"filters.{kind_}.{key}{at}", desc)
        conds.append(match if kind_ == "include" else ~match)
    return filters, conds


def canonical_deals(raw, config: Config, d: Dialect, desc: str):
    """(the source rows with the canonical ``_c_*`` columns, ``_keep`` and each filter's ``_keep<i>``,
    date formats, the filters); ``d`` the engine's dialect."""
    import ibis
    cols = config.columns
    out: dict = {}
    for role in PIPELINE_TEXT_ROLES:
        if role in cols:
            out[f"_c_{role}"] = raw[cols[role]].cast("string").strip().nullif("")
    formats = {}
    for role in DATE_ROLES:
        if role in cols:
            out[f"_c_{role}"], formats[role] = _date_expr(raw, cols[role], config, d, desc)
    if "value" in cols:
        out["_c_value"] = _value_expr(raw, cols["value"], config, d)
    stage = out["_c_stage"]
    out["_c_outcome"] = ibis.cases((stage.isin(config.stages["won"]), "won"),
                                   (stage.isin(config.stages["lost"]), "lost"), else_="open")
    filters, conds = _filter_conditions(raw, config, d, desc)
    keep = ibis.literal(True)
    for i, cond in enumerate(conds):
        out[f"_keep{i}"] = cond
        keep = cond if i == 0 else keep & cond
    out["_keep"] = keep
    return raw.mutate(**out), formats, filters


def _select_deals(t, config: Config):
    import ibis
    names = {"outcome": t._c_outcome}
    for role in ("deal_id", "stage", "created_date", "close_date", "value", "sales_rep", "account", "product",
                 "region", "team"):
        if f"_c_{role}" in t.columns:
            names[role] = t[f"_c_{role}"]
    if "created_date" not in names:
        names["created_date"] = ibis.null("timestamp")
    if "value" not in names:
        names["value"] = ibis.null("float64")
    return t.select(**names)


def _counts(t, config: Config, n_filters: int):
    """One aggregate: rows, dropped per reason, filtered, unreadable created dates and values."""
    cols = config.columns
    no_stage = t._c_stage.isnull()
    closed_no_date = ~no_stage & (t._c_outcome != "open") & t._c_close_date.isnull()
    usable = ~no_stage & ~closed_no_date
    aggs = {"rows": t.count(), "missing_stage": no_stage.sum(), "closed_no_date": closed_no_date.sum(),
            "filtered": (usable & ~t._keep).sum(), "usable": usable.sum()}
    # each filter's removed rows, in the order they apply (salesnb.data.load.filter_record)
    before = usable
    for i in range(n_filters):
        aggs[f"removed{i}"] = (before & ~t[f"_keep{i}"]).sum()
        before = before & t[f"_keep{i}"]
    for role in ("created_date", "value"):
        if role in cols:
            raw_text = t[cols[role]].cast("string").strip()
            aggs[f"bad_{role}"] = (usable & t._keep & raw_text.notnull() & (raw_text != "")
                                   & t[f"_c_{role}"].isnull()).sum()
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    return {k: int(v or 0) for k, v in row.items()}, usable


def _examples(t, cond, col: str) -> list[str]:
    ex = (t.filter(cond).select(v=t[col].cast("string").fill_null("(empty)")).distinct().order_by("v")
          .limit(EXAMPLES).to_pyarrow())
    return [str(v) for v in ex.column("v").to_pylist()]


def _deal_stats(deals) -> dict:
    """Deals kept, per outcome and per open stage; the date range over both dates."""
    return (deals.group_by(["outcome", "stage"])
           .aggregate(deals=deals.count(), no_value=deals.value.isnull().sum(),
                      no_created=deals.created_date.isnull().sum(), no_close=deals.close_date.isnull().sum(),
                      first_c=deals.created_date.min(), last_c=deals.created_date.max(),
                      first_x=deals.close_date.min(), last_x=deals.close_date.max(),
                      value=deals.value.sum())
           .order_by(["outcome", "stage"]).to_pandas())


def _quality(config: Config, per, counts: dict, examples: dict, formats: dict, source: str, sha: str,
             encoding) -> DataQuality:
    import pandas as pd
    # the data's date range is the close dates' (they place deals in periods, and a comparison
    # window must lie inside it); the created dates only give open deals their age
    firsts = [d for d in per.first_x if pd.notna(d)] or [d for d in per.first_c if pd.notna(d)]
    lasts = [d for d in per.last_x if pd.notna(d)] or [d for d in per.last_c if pd.notna(d)]
    if not firsts:
        raise NoDataError(f"No deal in {source} has a readable close or created date.",
                          hint="check columns.close_date, columns.created_date and date_format")
    first, last = min(firsts).date(), max(lasts).date()
    created = [d for d in per.first_c if pd.notna(d)]
    dropped = {}
    if counts["missing_stage"]:
        dropped["missing stage"] = counts["missing_stage"]
    if counts["closed_no_date"]:
        dropped["closed deal without close date"] = counts["closed_no_date"]
    if counts["filtered"]:
        dropped["filtered"] = counts["filtered"]
    by_outcome = {o: int(per.loc[per.outcome == o, "deals"].sum()) for o in ("won", "lost", "open")}
    open_rows = per[per.outcome == "open"]
    open_stages = [{"stage": None if pd.isna(r.stage) else str(r.stage), "deals": int(r.deals),
                    "without_close_date": int(r.no_close), "without_created_date": int(r.no_created),
                    "without_value": int(r.no_value)} for r in open_rows.itertuples()]
    deals = {"won": by_outcome["won"], "lost": by_outcome["lost"], "open": by_outcome["open"],
             "open_by_stage": open_stages,
             "unreadable_created_date": counts.get("bad_created_date", 0),
             "unreadable_value": counts.get("bad_value", 0),
             "won_value": float(per.loc[per.outcome == "won", "value"].fillna(0).sum())}
    notes = []
    if created and min(created).date() < first:
        notes.append(f"The date range is that of the close dates; deals were created from "
                     f"{min(created).date().isoformat()} on.")
    notes += [f"{fmt_count(by_outcome['open'])} open deals (a stage neither won nor lost) are kept as open: an open deal "
             "has no close date, and that is not a data problem."] if by_outcome["open"] else []
    if deals["unreadable_created_date"]:
        notes.append(f"{fmt_count(deals['unreadable_created_date'])} deals have a created date that does not read as a date: "
                     "they are kept, in the age band 'unknown' and out of the cycle times.")
    if deals["unreadable_value"]:
        notes.append(f"{fmt_count(deals['unreadable_value'])} deals have a value that does not read as a number: kept "
                     "with no value (they add 0).")
    rows_used = sum(by_outcome.values())
    shown_formats = ", ".join(f"{r} {f}" for r, f in formats.items() if f)
    return DataQuality(
        source=source, sha256=sha, rows_read=counts["rows"], rows_used=rows_used, rows_dropped=dropped,
        examples=examples, first_date=first.isoformat(), last_date=last.isoformat(),
        partial_months=partial_months(first, last),
        month_coverage={k: round(v, 4) for k, v in month_coverage(first, last).items()},
        date_format=shown_formats or None, encoding=encoding, columns=dict(config.columns),
        dimensions=config.dimensions, revenue_total=deals["won_value"], notes=notes, deals=deals)


def load_pipeline(config: Config, with_table: bool = True):
    """Load pipeline params' source into the canonical ``deals`` table (see the module)."""
    kind = engine_kind(config.engine) if config.engine not in ("duckdb", "", None) else "duckdb"
    if kind == "duckdb":
        return _load_duckdb(config, with_table)
    from .backends.engines import EngineDialect, open_source
    con, source = open_source(config, kind)
    desc = repr(source.description)
    try:
        dataset = _finish(config, con, kind, EngineDialect(kind), source.table, desc, source.description, None,
                          source.encoding, (), None)
    except BaseException:
        if kind == POSTGRES:
            con.disconnect()
        raise
    if not with_table:   # check_data (salesnb validate): only the quality record
        dataset.close()
        return dataset.quality
    return dataset


def _load_duckdb(config: Config, with_table: bool):
    import ibis

    from ..paths import owned_temp_folder
    from .backends.duckdb import _columns, _connect, _Reader
    from .backends.duckdb_run import DuckDBDialect
    from .sources import fingerprint_later
    tmpdir = str(owned_temp_folder("salesnb-"))
    db = None
    try:
        db = _connect(config, tmpdir)
        reader = _Reader(config, db, tmpdir)
        reader.register()
        sha = fingerprint_later(reader.files) if reader.files else None
        con = ibis.duckdb.from_connection(db)
        source = config.source or "query"
        desc = repr(config.source) if config.source else "the query's result"
        dataset = _finish(config, con, "duckdb", DuckDBDialect(db, _columns(db)), con.table("raw"), desc, source,
                          sha, reader.encoding, reader.state, tmpdir)
        if not with_table:
            dataset.close()
            return dataset.quality
        return dataset
    except BaseException:
        if db is not None:
            db.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise


def _finish(config, con, kind, dialect, raw, desc, source, sha, encoding, state, tmpdir):
    _check_columns(config, {n: str(t) for n, t in raw.schema().items()}, desc)
    t, formats, filters = canonical_deals(raw, config, dialect, desc)
    counts, usable = _counts(t, config, len(filters))
    applied, rows = [], counts["usable"]
    for i, spec in enumerate(filters):
        applied.append(filter_record(config, spec, rows, counts[f"removed{i}"]))
        rows -= applied[-1]["removed"]
    if counts["rows"] == 0:
        raise NoDataError(f"{desc} has no rows.", hint="export the data again with its rows")
    examples = {}
    if counts["missing_stage"]:
        examples["missing stage"] = _examples(t, t._c_stage.isnull(), config.columns["stage"])
    if counts["closed_no_date"]:
        examples["closed deal without close date"] = _examples(
            t, t._c_stage.notnull() & (t._c_outcome != "open") & t._c_close_date.isnull(), config.columns["close_date"])
    deals_expr = _select_deals(t.filter(usable & t._keep), config)
    if kind == "duckdb":
        con.raw_sql("CREATE TEMP TABLE deals AS " + con.compile(deals_expr))
        table, release = con.table("deals"), None
    elif kind == SPARK:
        from .backends import spark
        table, _, release = spark.materialise(deals_expr)
    else:
        from .backends import postgres
        table, _, release = postgres.materialise(con, deals_expr, collate=True)
    per = _deal_stats(table)
    if sha is not None:
        sha = sha.result()
    else:
        sha = hashlib.sha256(f"{config.engine} {config.query or config.table or config.source} "
                             f"{counts['rows']}".encode()).hexdigest()
    quality = _quality(config, per, counts, examples, formats, source, sha, encoding)
    quality.filters = applied
    if quality.rows_used == 0:
        raise NoDataError(f"No usable deal in {desc}: " + ", ".join(f"{k} {fmt_count(v)}" for k, v in quality.rows_dropped.items()),
                          hint="check columns.stage, stages: and the filters in the params file")
    if kind == "duckdb":
        return Dataset(config=config, con=con, table=table, quality=quality, _tmpdir=tmpdir, source_state=state)
    return EngineDataset(config=config, con=con, table=table, quality=quality, kind=kind,
                         table_name=table.get_name(), _release=release)
