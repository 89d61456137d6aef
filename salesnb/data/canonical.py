"""SPEC 2.3, stage 1, written once as Ibis expressions: each source column read as its canonical
value (ids, dates, money and numbers, dimensions), NULL where a value does not read.

Every backend runs these expressions: DuckDB compiles them to SQL over its view ``raw``, Spark
and PostgreSQL run them through their Ibis backend. What an engine spells differently (a
timestamp text parsed, a number text cast, ``trim``) is a method of its :class:`Dialect`; what
only makes one engine faster is a flag of it (see the flags below), never a second copy of a rule.

Roles are handled from :mod:`salesnb.config` alone: the ids, the date, the dimensions
(``DIMENSIONS``), and every other canonical role is a number read by the money grammar
(``NUMBER_ROLES``), so a role added to ``CANONICAL_COLUMNS`` is read without a change here.
"""
from __future__ import annotations

from ..config import DIMENSIONS, NUMBER_ROLES, ORDER_ID_PARTS_SHOWN, Config
from .parsing import _MONEY_STRIP, _NUMBER, _PLAIN, YEAR_RANGE
from .rules import MISSING_ID_WORDS, ORDER_ID_SEPARATOR, date_format_unused

ID_ROLES = ("order_id", "customer_id")


def canonical_order(present) -> list[str]:
    """The canonical table's columns, in order: ids and date, the numbers (revenue last), the
    dimensions."""
    present = set(present)
    numbers = [r for r in NUMBER_ROLES if r != "revenue"] + ["revenue"]
    return [r for r in ("order_id", "order_date", "customer_id") + tuple(numbers) + DIMENSIONS if r in present]


class Dialect:
    """The functions whose spelling differs between engines, in portable Ibis; a backend
    overrides what its engine spells otherwise, and sets the flags of what makes it faster."""

    #: one scan of a columnar source first: exact duplicates, and the text columns needing no cleaning
    prescan = False
    #: money sums as DECIMAL(38, 6): exact, independent of the scan order
    exact_sums = False
    #: exact duplicate rows counted by a hash of the row (else: DISTINCT over the source columns)
    row_hash = False
    #: the decimal hint and the mixed-currency note (they read the money text once more)
    money_notes = False
    #: whole float ids below this are written as integers, cast through this type
    whole_id_limit, whole_id_type = 9e18, "int64"

    def trim(self, text):
        return text.strip()

    def trimmed(self, text):
        """``trim(text)``; DuckDB trims only the values it can change."""
        return self.trim(text)

    def parse_timestamp(self, text, fmt: str):   # pragma: no cover - every backend has one
        raise NotImplementedError

    def to_float(self, text):
        """Validated number text → float64 (NULL when the engine cannot represent it)."""
        return text.try_cast("float64")

    def native_timestamp(self, col, dtype):
        """A date/timestamp column as a naive timestamp (a zoned one in UTC) and its label."""
        if getattr(dtype, "timezone", None):
            return col.cast("timestamp"), "native timestamp (UTC)"
        return col.cast("timestamp"), "native date" if dtype.is_date() else "native timestamp"

    def check_date_format(self, fmt: str, where: str) -> None:
        """Raise a DataError when the engine cannot read with ``fmt``."""
        from .parsing import convert_date_format
        convert_date_format(fmt)

    def finite_or_null(self, x):
        """A float64 value, NULL when it is not finite (inf, NaN)."""
        import ibis
        return ibis.cases((x.isnan() | x.isinf(), ibis.null("float64")), else_=x)

    def full_match(self, text, pattern: str):
        """Whether the whole text matches the regular expression."""
        return text.re_search(f"^(?:{pattern})$")

    def whole_number_text(self, text):
        """``"17850.00"`` → ``"17850"``; any other text as it is."""
        import ibis
        return ibis.cases((text.re_search(r"^[0-9]+\.0+$"), text.substr(0, text.find("."))), else_=text)

    def is_whole(self, x):
        return x == x.floor()

    def row_hash_expr(self, raw):   # pragma: no cover - only with row_hash
        raise NotImplementedError

    def strlen(self, text):   # pragma: no cover - only with prescan
        raise NotImplementedError


# --------------------------------------------------------------------------- ids, dimensions

def id_expr(d: Dialect, col, dtype, missing_words: bool = False, clean: bool = False):
    """An id column, NULL when missing: text, or the integers of an integer column (read as they
    are: no cleaning, and no cast in every query of a view; :mod:`salesnb.metrics.ids` says how
    the metrics compare and show them). ``clean``: a text column the prescan found needs none of
    the cleaning below, read as it is."""
    import ibis
    if clean and dtype.is_string():
        return col
    if dtype.is_integer():
        return col
    if dtype.is_floating() or dtype.is_decimal():
        # float ids such as 17850.0 (a NaN made the column float) become "17850"
        x = col.cast("float64")
        whole = d.is_whole(x) & (x.abs() < d.whole_id_limit)
        return ibis.cases((col.isnull() | x.isnan(), ibis.null("string")),
                          (whole, col.cast(d.whole_id_type).cast("string")), else_=col.cast("string"))
    text = d.trimmed(col.cast("string"))
    if dtype.is_string():
        # text ids exported from a float column: "17850.0" → "17850" (the regular expression
        # runs only on the ids that hold a '.': most hold none)
        text = ibis.cases((text.contains("."), d.whole_number_text(text)), else_=text)
    if missing_words:
        return ibis.cases((text.lower().isin(MISSING_ID_WORDS), ibis.null("string")), else_=text.nullif(""))
    return text.nullif("")


def dim_expr(d: Dialect, col, clean: bool = False):
    return col if clean else d.trimmed(col.cast("string")).nullif("")


def composite_id_expr(d: Dialect, raw, schema, config: Config, date):
    """``columns.order_id: [a, b, …]``: the parts' text joined, NULL (a row without an order id)
    when any part is missing. A part that is the order date column stands for its calendar day,
    read as the order date is (``[customer, date]``: one order per customer and day)."""
    import ibis
    parts = []
    for col in config.order_id_parts:
        if col == config.columns["order_date"]:
            parts.append(date.date().cast("string"))
        else:
            parts.append(id_expr(d, raw[col], schema[col]))
    missing = parts[0].isnull()
    for p in parts[1:]:
        missing = missing | p.isnull()
    # explicit: some engines' concat() skips a NULL part
    return ibis.ifelse(missing, ibis.null("string"), ibis.literal(ORDER_ID_SEPARATOR).join(parts))


# --------------------------------------------------------------------------- numbers

def money_expr(d: Dialect, col, decimal: str):
    """Money text → float64 by the grammar of :func:`salesnb.data.parsing.parse_money` (NULL when
    unreadable). Plain numbers ("12.50", "-3") take a fast path with the same result; one
    expression, so the engine evaluates the rest only for the values that need it."""
    import ibis
    text = col.cast("string")
    clean = text.replace("\u2212", "-").re_replace(_MONEY_STRIP, "")
    n = clean.length()
    paren = (n > 1) & clean.startswith("(") & clean.endswith(")")
    minus = (n > 1) & clean.endswith("-") & ~paren
    body = ibis.cases((paren, clean.substr(1, n - 2)), (minus, clean.substr(0, n - 1)), else_=clean)
    number = body.replace(",", "") if decimal == "." else body.replace(".", "").replace(",", ".")
    value = ibis.cases((d.full_match(body, _NUMBER[decimal]), d.to_float(number)), else_=ibis.null("float64"))
    value = d.finite_or_null(value)
    signed = ibis.cases((paren | minus, -value.abs()), else_=value)
    return ibis.cases((text.isnull(), ibis.null("float64")),
                      (d.full_match(text, _PLAIN[decimal]), text.cast("float64")), else_=signed)


def number_expr(d: Dialect, col, dtype, decimal: str):
    import ibis
    if dtype.is_boolean():
        return col.cast("float64")
    if dtype.is_integer():   # always finite
        return col.cast("float64")
    if dtype.is_numeric():
        return d.finite_or_null(col.try_cast("float64"))
    return money_expr(d, col, decimal)


# --------------------------------------------------------------------------- dates

def date_plan(d: Dialect, col, dtype, config: Config, infer):
    """How to read the date column: (timestamp expression, the format used, a note or None).
    ``infer(text)``: the inferred family of formats and the main one (``date_format: auto``)."""
    import ibis
    name = config.columns["order_date"]
    fmt = config.date_format
    if dtype.is_timestamp() or dtype.is_date():
        expr, label = d.native_timestamp(col, dtype)
        return expr, label, date_format_unused(fmt, name)
    text = d.trimmed(col.cast("string"))
    if "%" in fmt:   # a given format reads every year
        d.check_date_format(fmt, config.params_path or "the params")
        return d.parse_timestamp(text, fmt), fmt, None
    family, main = infer(text)
    parts = [d.parse_timestamp(text, f) for f in family]
    parsed = parts[0] if len(parts) == 1 else ibis.coalesce(*parts)
    # an inferred format reads YEAR_RANGE only
    return ibis.cases((parsed.year().between(*YEAR_RANGE), parsed), else_=ibis.null("timestamp")), main, None


# --------------------------------------------------------------------------- the parsed rows

def parsed_columns(d: Dialect, raw, config: Config, clean: set[str], infer):
    """The canonical columns over ``raw`` ({name: expression}, in canonical order), the raw text
    kept for the examples of dropped rows ({_raw_<role>: expression}), the date format and a
    date note."""
    schema = raw.schema()
    cols = config.columns
    date, date_fmt, date_note = date_plan(d, raw[cols["order_date"]], schema[cols["order_date"]], config, infer)
    out = {"order_date": date}
    if config.order_id_parts:
        out["order_id"] = composite_id_expr(d, raw, schema, config, date)
    else:
        out["order_id"] = id_expr(d, raw[cols["order_id"]], schema[cols["order_id"]], clean=cols["order_id"] in clean)
    if "customer_id" in cols:
        c = cols["customer_id"]
        out["customer_id"] = id_expr(d, raw[c], schema[c], missing_words=True, clean=c in clean)
    for role in NUMBER_ROLES:
        if role in cols:
            out[role] = number_expr(d, raw[cols[role]], schema[cols[role]], config.decimal)
    if "revenue" not in cols:
        out["revenue"] = out["quantity"] * out["unit_price"]
    for dim in DIMENSIONS:
        if dim in cols:
            out[dim] = dim_expr(d, raw[cols[dim]], clean=cols[dim] in clean)
    # the money shown for a dropped row: the revenue column, or quantity and unit price
    shown = ("order_date", "revenue") if "revenue" in cols else ("order_date", "quantity", "unit_price")
    raw_text = {role: raw[cols[role]] for role in shown}
    if not config.order_id_parts:
        raw_text["order_id"] = raw[cols["order_id"]]
    if config.order_id_parts:   # the parts as written, for the examples of rows without an order id
        import ibis
        raw_text["order_id"] = ibis.literal(ORDER_ID_PARTS_SHOWN).join(
            [raw[c].cast("string").fill_null("(empty)") for c in config.order_id_parts])
    canonical = {k: out[k] for k in canonical_order(out)}
    return canonical, raw_text, date_fmt, date_note


def raw_examples(config: Config, t) -> dict:
    """Per reason, the text shown for a dropped row, over a table with the ``_raw_<role>``
    columns and the canonical ``revenue`` (only the reasons whose raw text ``t`` holds)."""
    raw = {k[5:]: t[k].cast("string") for k in t.columns if k.startswith("_raw_")}
    out = {"revenue out of range": t.revenue.cast("string")}
    if "order_date" in raw:
        out["unparseable date"] = out["implausible date"] = raw["order_date"]
    if "order_id" in raw:
        out["missing order id"] = raw["order_id"]
    if "revenue" in raw:
        out["unparseable revenue"] = raw["revenue"]
    elif "quantity" in raw and "unit_price" in raw and "revenue" not in config.columns:
        out["unparseable revenue"] = raw["quantity"].fill_null("(empty)") + " × " + raw["unit_price"].fill_null("(empty)")
    return out


# --------------------------------------------------------------------------- filters

def filter_keys(config: Config, raw, source_desc: str) -> list[tuple[str, str, list[str], str | None]]:
    """The ``filters`` in the order they apply (include, then exclude): (kind, key, values, the
    role or None). A key that no role maps is a column of the source; one that is neither is a
    DataError naming the closest source column (errors.did_you_mean)."""
    from ..config_pipeline import unmapped_filter_error
    out = []
    for kind in ("include", "exclude"):
        for key, values in config.filters.get(kind, {}).items():
            if key in config.columns:
                out.append((kind, key, list(values), key))
                continue
            if key not in raw.columns:
                raise unmapped_filter_error(f"filters.{kind}.{key}", key, config.columns, config.params_path,
                                            list(raw.columns), source_desc)
            out.append((kind, key, list(values), None))
    return out


def source_filter_match(d: Dialect, raw, key: str, values: list[str], where: str, source_desc: str):
    """Whether a row's source column ``key`` holds one of ``values`` (never NULL). Text compares
    trimmed (SPEC 2.1, as for roles; ``""`` matches an empty or missing value); a typed column
    compares as the source holds it: numbers as numbers, dates and timestamps by ISO date
    (``2017-11-08``, the whole day) or timestamp, booleans as true/false."""
    import ibis
    col, dtype = raw[key], raw.schema()[key]
    wanted = [v for v in values if v != ""]
    empty = "" in values
    if dtype.is_numeric() or dtype.is_boolean() or dtype.is_date() or dtype.is_timestamp():
        match = _typed_match(d, col, dtype, wanted, where, source_desc)
        if empty:
            match = col.isnull() if match is None else (match | col.isnull())
        return ibis.literal(False) if match is None else match.fill_null(False)
    return d.trimmed(col.cast("string")).fill_null("").isin(values)


def _typed_match(d: Dialect, col, dtype, wanted: list[str], where: str, source_desc: str):
    import datetime as dt_

    from ..errors import DataError

    def bad(value, what, example):
        return DataError(f"{where}: column {col.get_name()!r} of {source_desc} holds {what}, and {value!r} is not one.",
                         hint=f"write the values as the column holds them (e.g. {example}), or select the rows "
                              "with query: SELECT ... WHERE <column> IN (...)")
    if not wanted:
        return None
    if dtype.is_boolean():
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if any(v.lower() not in words for v in wanted):
            raise bad(next(v for v in wanted if v.lower() not in words), "true/false values", "true")
        return col.isin(sorted({words[v.lower()] for v in wanted}))
    if dtype.is_numeric():
        numbers = []
        for v in wanted:
            try:
                numbers.append(float(v))
            except ValueError:
                raise bad(v, "numbers", "42 or 2.5") from None
        return col.cast("float64").isin(sorted(set(numbers)))
    days, moments = [], []
    for v in wanted:
        try:
            (days if len(v) == 10 else moments).append(
                dt_.date.fromisoformat(v) if len(v) == 10 else dt_.datetime.fromisoformat(v))
        except ValueError:
            raise bad(v, "dates", "2017-11-08 or 2017-11-08 14:30:00") from None
    if dtype.is_date():
        return col.isin(days + [m.date() for m in moments if m == dt_.datetime.combine(m.date(), dt_.time())])
    ts = d.native_timestamp(col, dtype)[0]
    moments = [m.astimezone(dt_.timezone.utc).replace(tzinfo=None) if m.tzinfo else m for m in moments]   # as read: UTC
    parts = ([ts.date().isin(days)] if days else []) + ([ts.isin(moments)] if moments else [])
    return parts[0] if len(parts) == 1 else parts[0] | parts[1]
