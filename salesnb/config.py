"""The params file (SPEC 2.1) → one typed, validated :class:`Config`.

Paths resolve against the params file's folder. Every problem is a :class:`ConfigError`
that names the key (and the file) and says what to do.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, asdict
from pathlib import Path

from .config_pipeline import (PIPELINE_COLUMNS, PIPELINE_DIMENSIONS, PIPELINE_TEXT_ROLES, check_kind,
                              check_pipeline_columns, check_stages)
from .config_yaml import read_params
from .errors import ConfigError, PeriodError, did_you_mean
from .periods import parse_period

#: optional roles beside revenue (SPEC 9.1): a line's ``profit`` (else revenue − ``cost``) and its
#: ``discount``, a rate of the list price (0.2 = 20%, as Superstore writes it; a column with a value
#: above 1 holds percentages, 20 = 20%: salesnb.metrics.profit)
PROFIT_ROLES = ("profit", "cost", "discount")
CANONICAL_COLUMNS = (
    "order_id", "order_date", "customer_id", "revenue", "quantity", "unit_price",
    "region", "segment", "category", "product", "sales_rep", "channel",
) + PROFIT_ROLES
DIMENSIONS = ("region", "segment", "category", "product", "sales_rep", "channel")
#: every canonical role that is not an id, the date or a dimension: read as a number (SPEC 2.3's
#: money grammar); revenue is quantity × unit_price when it is not mapped
NUMBER_ROLES = tuple(r for r in CANONICAL_COLUMNS if r not in ("order_id", "customer_id", "order_date") + DIMENSIONS)
#: each dimension as a word in a sentence (the report pages and the recommendations' titles)
DIMENSION_NOUNS = {dim: dim.replace("_", " ") for dim in DIMENSIONS}
REQUIRED_COLUMNS = ("order_id", "order_date")

VALID_KEYS = (
    "name", "source", "table", "query", "engine", "columns", "date_format", "decimal",
    "currency", "filters", "dedupe", "fiscal_year_start", "rfm_lookback_months", "targets",
    "period", "pvm_dimension", "kind", "stages",
    # salesnb extensions
    "encoding", "delimiter", "sheet", "memory_limit", "title",
)
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
DATE_FORMATS = ("auto", "dayfirst", "monthfirst")
URL_PREFIXES = ("postgres://", "postgresql://", "spark://", "sc://", "local[", "local", "yarn", "duckdb://")
# roles whose values are text, so that filters can name them (and any source column no role maps)
FILTER_ROLES = ("order_id", "customer_id") + DIMENSIONS
DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "whitespace": "whitespace"}
# how a composite order id's parts are shown: its label under columns, and the example values of
# rows that lack one (salesnb.data)
ORDER_ID_PARTS_SHOWN = " + "


@dataclass
class Config:
    """A validated params file. ``source`` is an absolute path (or URL/glob) after loading."""

    name: str
    source: str | None = None
    table: str | None = None
    query: str | None = None
    engine: str = "duckdb"
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = "auto"
    decimal: str = "."
    currency: str = "USD"
    filters: dict[str, dict[str, list]] = field(default_factory=dict)
    dedupe: bool = False
    fiscal_year_start: int = 1
    rfm_lookback_months: int | None = None
    targets: dict[str, dict[str, float]] = field(default_factory=dict)
    period: str | None = None
    encoding: str = "auto"
    delimiter: str | None = None
    sheet: str | int | None = None
    memory_limit: str | None = None
    title: str | None = None
    pvm_dimension: str | None = None
    params_path: str | None = None
    base_dir: str = "."
    # ``columns.order_id`` given as a list (data without an order id, e.g. CDNOW): an order is one
    # combination of these source columns; ``columns["order_id"]`` then shows them as "a + b"
    order_id_parts: tuple[str, ...] = ()
    kind: str = "sales"   # or "pipeline" (SPEC 10: one row per deal, ``stages``)
    stages: dict[str, list[str]] = field(default_factory=dict)

    @property
    def mapped(self) -> dict[str, str]:
        """canonical name → source column, for the columns the user has."""
        return dict(self.columns)

    def source_columns(self) -> list[tuple[str, str]]:
        """(role, source column) for each column the params map: a composite order id's parts
        each under ``order_id``."""
        out = []
        for role, col in self.columns.items():
            if role == "order_id" and self.order_id_parts:
                out += [(role, part) for part in self.order_id_parts]
            else:
                out.append((role, col))
        return out

    @property
    def has_profit(self) -> bool:
        """Profit can be computed: ``profit`` is mapped, or ``cost`` (profit = revenue − cost)."""
        return "profit" in self.columns or "cost" in self.columns

    def has(self, canonical: str) -> bool:
        return canonical in self.columns or (canonical == "revenue" and
                                             {"quantity", "unit_price"} <= set(self.columns))

    @property
    def dimensions(self) -> list[str]:
        return [d for d in (PIPELINE_DIMENSIONS if self.kind == "pipeline" else DIMENSIONS) if d in self.columns]

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("base_dir", None)
        if self.kind == "sales":   # the keys of version 1 only: sales findings stay as they were
            out.pop("kind"), out.pop("stages")
        return out

    def target_for(self, period_label: str, metric: str = "revenue") -> float | None:
        return self.targets.get(metric, {}).get(period_label)


def _where(path) -> str:
    return f" in {path}" if path else ""


def _expect(data: dict, key: str, types, path, what: str):
    value = data.get(key)
    if value is not None and not isinstance(value, types):
        raise ConfigError(f"Key {_short(key)}{_where(path)} must be {what}, not {type(value).__name__} {_short(value)}.",
                          hint=f"write {key}: <{what}>")
    return value


def is_url(text: str) -> bool:
    return "://" in text


def config_from_dict(data: dict, *, base_dir: str | Path = ".", params_path: str | None = None) -> Config:
    """Validate a params mapping (the parsed YAML) into a Config: the keys are checked in the
    order below, so the first problem of a file is the one reported."""
    path = params_path
    name = _check_name(data, path)
    base = Path(base_dir).resolve()
    source, query, table, engine = _source_keys(data, path, base)
    kind, stages, roles, columns, order_id_parts = _column_keys(data, path)
    date_format, decimal, currency = _format_keys(data, path)
    clean_filters = _filter_keys(data, path, kind, roles, columns, order_id_parts)
    dedupe, fys, lookback = _flag_keys(data, path)
    clean_targets = _target_keys(data, path, fys)
    period = data.get("period")
    if period is not None:
        period = str(period)
        try:
            parse_period(period, fys)
        except PeriodError as exc:
            raise ConfigError(f"period{_where(path)}: {exc.message}", hint=exc.hint) from None
    encoding, delimiter, sheet, memory_limit, title = _reading_keys(data, path)
    pvm_dimension = _pvm_dimension(data, path, columns)
    return Config(name=name, source=source, table=table, query=query, engine=engine, columns=columns,
                  date_format=date_format, decimal=decimal, currency=currency, filters=clean_filters,
                  dedupe=dedupe, fiscal_year_start=fys, rfm_lookback_months=lookback,
                  targets=clean_targets, period=period, encoding=encoding,
                  delimiter=None if delimiter is None else str(delimiter), sheet=sheet,
                  memory_limit=None if memory_limit is None else str(memory_limit),
                  title=None if title is None else str(title), pvm_dimension=pvm_dimension,
                  params_path=params_path, base_dir=str(base), order_id_parts=order_id_parts, kind=kind, stages=stages)


def _check_name(data, path) -> str:
    """The mapping has only known keys, and a valid ``name``."""
    if not isinstance(data, dict):
        raise ConfigError(f"The params file{_where(path)} must be a mapping of keys to values, "
                          f"not {type(data).__name__}.", hint="start from params/template.yaml")
    unknown = [k for k in data if k not in VALID_KEYS]
    if unknown:
        key = unknown[0]
        raise ConfigError(f"Unknown key {_short(key)}{_where(path)}.{did_you_mean(key, VALID_KEYS)}",
                          hint="valid keys are: " + ", ".join(VALID_KEYS))
    name = data.get("name")
    if name is None:
        raise ConfigError(f"Key 'name'{_where(path)} is missing.",
                          hint="add e.g. name: acme (letters, digits, '-', '_')")
    name = str(name)
    if not _NAME.match(name):
        raise ConfigError(f"Key 'name'{_where(path)} is {_short(name)}: only letters, digits, '-' and '_' "
                          "are allowed (it names the output folder).",
                          hint="rename it, e.g. " + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "acme"))
    return name


def _source_keys(data: dict, path, base: Path) -> tuple:
    """``source`` (absolute), ``query``, ``table`` and ``engine``."""
    source = _expect(data, "source", str, path, "a file path, glob or URL")
    query = _expect(data, "query", str, path, "a SQL SELECT")
    table = _expect(data, "table", str, path, "a table name")
    if not source and not query:
        raise ConfigError(f"Neither 'source' nor 'query' is given{_where(path)}.",
                          hint="add source: path/to/sales.csv (relative to the params file)")
    if source and query:
        raise ConfigError(f"Both 'source' and 'query' are given{_where(path)}; give one.",
                          hint="use query: alone to read files by path in SQL")
    if source is not None and not source.strip():
        raise ConfigError(f"Key 'source'{_where(path)} is empty.", hint="write source: path/to/sales.csv")
    if source and not is_url(source):
        src = Path(source).expanduser()
        source = os.path.normpath(str(src if src.is_absolute() else base / src))

    engine = _expect(data, "engine", str, path, "duckdb or a connection URL") or "duckdb"
    if engine != "duckdb" and not engine.startswith(URL_PREFIXES):
        raise ConfigError(f"engine {_short(engine)}{_where(path)} is not duckdb or a PySpark / PostgreSQL "
                          "connection URL.", hint="omit engine: (duckdb is the default), or write e.g. "
                          "postgresql://user@host/db or local[*] for Spark")
    return source, query, table, engine


def _column_keys(data: dict, path) -> tuple:
    """``kind``, ``stages``, the roles of that kind, ``columns`` (role → source column) and a
    composite order id's parts."""
    kind = check_kind(data.get("kind"), _where(path))
    stages = check_stages(data.get("stages"), kind, _where(path))
    roles = PIPELINE_COLUMNS if kind == "pipeline" else CANONICAL_COLUMNS
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise ConfigError(f"Key 'columns'{_where(path)} must be a mapping like 'order_id: Invoice'.")
    bad = [k for k in columns if k not in roles]
    if bad:
        raise ConfigError(f"Unknown column role {_short(bad[0])} under 'columns'{_where(path)}."
                          f"{did_you_mean(bad[0], roles)}", hint="roles are: " + ", ".join(roles))
    order_id_parts: tuple[str, ...] = ()
    if kind == "sales" and isinstance(columns.get("order_id"), list):
        order_id_parts = _order_id_parts(columns["order_id"], path)
        columns = dict(columns)
        columns["order_id"] = ORDER_ID_PARTS_SHOWN.join(order_id_parts)
        if len(order_id_parts) == 1:
            order_id_parts = ()
    for role, value in columns.items():
        if isinstance(value, (list, dict)):
            raise ConfigError(f"columns.{role}{_where(path)} must be one column name, not {_short(value)}.",
                              hint=f"write {role}: <your column name>")
    columns = {k: str(v) for k, v in columns.items() if v is not None and str(v) != ""}
    if kind == "pipeline":
        check_pipeline_columns(columns, _where(path))
    for req in REQUIRED_COLUMNS if kind == "sales" else ():
        if req not in columns:
            raise ConfigError(f"columns.{req} is missing{_where(path)}.",
                              hint=f"map it to your column, e.g. {req}: <your column name>")
    if kind == "sales" and "revenue" not in columns and not {"quantity", "unit_price"} <= set(columns):
        raise ConfigError(f"columns{_where(path)} must map 'revenue', or both 'quantity' and 'unit_price'.",
                          hint="add revenue: <your amount column>")
    return kind, stages, roles, columns, order_id_parts


def _format_keys(data: dict, path) -> tuple[str, str, str]:
    """``date_format``, ``decimal`` and ``currency``."""
    date_format = str(data.get("date_format") or "auto")
    if date_format not in DATE_FORMATS and "%" not in date_format:
        raise ConfigError(f"date_format {_short(date_format)}{_where(path)} is not auto, dayfirst, monthfirst "
                          "or a strftime pattern.", hint="e.g. date_format: '%d/%m/%Y'")
    decimal = str(data.get("decimal") or ".")
    if decimal not in (".", ","):
        raise ConfigError(f"decimal {_short(decimal)}{_where(path)} must be '.' or ','.")
    currency = str(data.get("currency") or "USD").upper()
    if not _CURRENCY.match(currency):
        raise ConfigError(f"currency {_short(currency)}{_where(path)} is not an ISO 4217 code.", hint="e.g. USD, EUR, GBP")
    return date_format, decimal, currency


def _filter_keys(data: dict, path, kind: str, roles, columns: dict, order_id_parts) -> dict[str, dict[str, list]]:
    """``filters``: include / exclude, each a text role or source column → its values as text."""
    filters = data.get("filters") or {}
    if not isinstance(filters, dict) or any(k not in ("include", "exclude") for k in filters):
        raise ConfigError(f"filters{_where(path)} takes 'include' and/or 'exclude', each a mapping "
                          "of a column role (or any source column) to a list of values.",
                          hint="e.g. filters: {exclude: {product: [POSTAGE]}}")
    clean_filters: dict[str, dict[str, list]] = {}
    text_roles = PIPELINE_TEXT_ROLES if kind == "pipeline" else FILTER_ROLES
    for fkind, spec in filters.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"filters.{fkind}{_where(path)} must map a column role (or any source column) to a list of values.")
        clean_filters[fkind] = {}
        for role, values in spec.items():
            if role in roles and role not in text_roles:
                raise ConfigError(f"filters.{fkind}.{role}{_where(path)}: filters keep or drop rows by a text "
                                  f"value, and {_short(role)} is not one.",
                                  hint="filter on one of: " + ", ".join(text_roles))
            if role == "order_id" and order_id_parts:
                raise ConfigError(f"filters.{fkind}.order_id{_where(path)}: the order id is made of several "
                                  f"columns ({columns['order_id']}), and a filter matches one column's values.",
                                  hint="filter on customer_id or a dimension, or select the rows with query:")
            # a key that no role maps names a source column: checked when the source is read
            if not isinstance(values, list):
                values = [values]
            if any(isinstance(v, (list, dict)) or v is None for v in values):
                raise ConfigError(f"filters.{fkind}.{role}{_where(path)} must be a list of values, "
                                  f"not {_short(values)}.", hint=f"e.g. filters: {{{fkind}: {{{role}: [A, B]}}}}")
            clean_filters[fkind][role] = [str(v).strip() for v in values]
    return clean_filters


def _flag_keys(data: dict, path) -> tuple:
    """``dedupe``, ``fiscal_year_start`` and ``rfm_lookback_months``."""
    dedupe = data.get("dedupe", False)
    if not isinstance(dedupe, bool):
        raise ConfigError(f"dedupe{_where(path)} must be true or false, not {_short(dedupe)}.")
    fys = data.get("fiscal_year_start", 1)
    if isinstance(fys, bool) or not isinstance(fys, int) or not 1 <= fys <= 12:
        raise ConfigError(f"fiscal_year_start{_where(path)} must be a month number 1..12, not {_short(fys)}.")
    lookback = data.get("rfm_lookback_months")
    if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1):
        raise ConfigError(f"rfm_lookback_months{_where(path)} must be a positive whole number of months "
                          f"or null, not {_short(lookback)}.")
    return dedupe, fys, lookback


def _target_keys(data: dict, path, fys: int) -> dict[str, dict[str, float]]:
    """``targets``: metric → {period label: number}."""
    targets = data.get("targets") or {}
    if not isinstance(targets, dict):
        raise ConfigError(f"targets{_where(path)} must map a metric to {{period: value}}.",
                          hint="e.g. targets: {revenue: {2024Q3: 250000}}")
    clean_targets: dict[str, dict[str, float]] = {}
    for metric, per in targets.items():
        if not isinstance(per, dict):
            raise ConfigError(f"targets.{metric}{_where(path)} must map periods to numbers.")
        clean_targets[str(metric)] = {}
        for label, value in per.items():
            try:
                p = parse_period(str(label), fys)
            except PeriodError as exc:
                raise ConfigError(f"targets.{metric}{_where(path)}: {exc.message}") from None
            if isinstance(value, str):
                try:  # PyYAML reads 1e6 (no dot) as text
                    value = float(value.replace("_", ""))
                except ValueError:
                    pass
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ConfigError(f"targets.{metric}.{label}{_where(path)} must be a number, not {_short(value)}.")
            clean_targets[str(metric)][p.label] = float(value)
    return clean_targets


def _reading_keys(data: dict, path) -> tuple:
    """How the source is read: ``encoding``, ``delimiter``, ``sheet``, ``memory_limit``; and ``title``."""
    encoding = str(data.get("encoding") or "auto")
    if encoding != "auto":
        import codecs
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"encoding {_short(encoding)}{_where(path)} is not a known text encoding.",
                              hint="e.g. utf-8, cp1252, latin-1, or auto") from None
    delimiter = data.get("delimiter")
    if delimiter is not None:
        delimiter = DELIMITER_WORDS.get(str(delimiter).lower(), str(delimiter)) if isinstance(delimiter, str) else delimiter
        if not isinstance(delimiter, str) or (len(delimiter) != 1 and delimiter != "whitespace") \
                or delimiter in ('"', "\n", "\r"):
            raise ConfigError(f"delimiter {_short(data.get('delimiter'))}{_where(path)} must be one character "
                              "(such as ',', ';', '|'), tab, or whitespace.",
                              hint="omit delimiter: to detect it from the file")
    sheet = data.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (int, str))
                              or (isinstance(sheet, int) and sheet < 0)):
        raise ConfigError(f"sheet {_short(sheet)}{_where(path)} must be a sheet name or a number from 0.",
                          hint="e.g. sheet: Orders, or sheet: 0 for the first sheet")
    memory_limit = data.get("memory_limit")
    if memory_limit is not None and not re.fullmatch(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|[KMGT])?\s*",
                                                     str(memory_limit), re.I):
        raise ConfigError(f"memory_limit {_short(memory_limit)}{_where(path)} is not a size.",
                          hint="e.g. memory_limit: 4GB")
    title = data.get("title")
    if title is not None and isinstance(title, (list, dict)):
        raise ConfigError(f"title{_where(path)} must be text, not {type(title).__name__}.")
    return encoding, delimiter, sheet, memory_limit, title


def _pvm_dimension(data: dict, path, columns: dict) -> str | None:
    pvm_dimension = data.get("pvm_dimension")
    if pvm_dimension is not None:
        pvm_dimension = str(pvm_dimension)
        if pvm_dimension not in DIMENSIONS or pvm_dimension not in columns:
            mapped = [d for d in DIMENSIONS if d in columns]
            raise ConfigError(f"pvm_dimension {pvm_dimension!r}{_where(path)} is not a dimension mapped under "
                              f"columns.{did_you_mean(pvm_dimension, mapped)}",
                              hint="mapped dimensions: " + (", ".join(mapped) or "none") +
                              "; or omit pvm_dimension (product, else category)")
    return pvm_dimension


def _order_id_parts(value: list, path) -> tuple[str, ...]:
    """``order_id: [customer, date]``: the source columns whose combination is one order."""
    example = "order_id: [Customer ID, Order Date]"
    if not value:
        raise ConfigError(f"columns.order_id{_where(path)} is an empty list.",
                          hint=f"name your order id column, or the columns that make one order: {example}")
    parts = []
    for item in value:
        if item is None or isinstance(item, (list, dict, bool)) or str(item).strip() == "":
            raise ConfigError(f"columns.order_id{_where(path)} must list column names, not {_short(item)}.",
                              hint=f"e.g. {example}")
        parts.append(str(item))
    if len(set(parts)) < len(parts):
        twice = next(p for p in parts if parts.count(p) > 1)
        raise ConfigError(f"columns.order_id{_where(path)} names {_short(twice)} twice.",
                          hint=f"list each column once, e.g. {example}")
    return tuple(parts)


def _short(value, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error never prints a huge value whole."""
    import reprlib
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = limit, limit, 6, 6, 3
    text = r.repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def load_config(path: str | Path, **overrides) -> Config:
    """Read and validate a params file (SPEC 2.1).

    Parameters
    ----------
    path : str or Path
        The params file. A relative path is looked for in the working folder, then in the project
        root (:func:`salesnb.paths.find_params`), so ``load_config("params/sample.yaml")`` works
        from a notebook kernel running in ``notebooks/`` too; when it is in neither, the error
        lists both places.
    **overrides
        Keys that replace the file's, e.g. ``period="2024Q3"`` or
        ``filters={"include": {"region": ["West"]}}``; ``None`` values are ignored.

    Returns
    -------
    Config
        The validated params; ``source`` is absolute (relative paths resolve against the params
        file's folder) and ``params_path`` is the file that was read.

    Raises
    ------
    ConfigError
        A missing or unreadable file, invalid YAML, or an invalid key; the message names the key.

    Examples
    --------
    >>> config = load_config("params/sample.yaml", period="2024Q3")  # doctest: +SKIP
    """
    from .paths import find_params
    p = find_params(path)
    if p.is_dir():
        raise ConfigError(f"Params path {str(p)!r} is a folder, not a YAML file.")
    data = read_params(p)
    if data is None:
        raise ConfigError(f"Params file {str(p)!r} is empty.", hint="start from params/template.yaml")
    if isinstance(data, dict):
        data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(data, base_dir=p.resolve().parent, params_path=str(p))
