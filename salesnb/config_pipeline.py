"""The keys of ``kind: pipeline`` params (SPEC 10): the pipeline roles and ``stages``.

:func:`salesnb.config.config_from_dict` calls these for a params file with ``kind: pipeline``;
every problem is a :class:`ConfigError` that names the key.
"""
from __future__ import annotations

from .errors import ConfigError, did_you_mean

KINDS = ("sales", "pipeline")
#: the roles a pipeline params file maps under ``columns:`` (each row is one deal)
PIPELINE_COLUMNS = ("deal_id", "stage", "created_date", "close_date", "value", "sales_rep", "account",
                    "product", "region", "team")
PIPELINE_REQUIRED = ("stage", "close_date")
#: the text roles of a deal: grouped by in the findings, and filterable
PIPELINE_TEXT_ROLES = ("deal_id", "stage", "sales_rep", "account", "product", "region", "team")
PIPELINE_DIMENSIONS = ("sales_rep", "product", "region", "team", "account")
STAGE_EXAMPLE = "stages: {won: [Won], lost: [Lost]}"


def check_kind(value, where: str) -> str:
    kind = "sales" if value is None else value
    if kind not in KINDS:
        raise ConfigError(f"kind {kind!r}{where} is not one of: " + ", ".join(KINDS) + ".",
                          hint="omit kind: for sales transactions, or write kind: pipeline for CRM deals")
    return kind


def check_pipeline_columns(columns: dict, where: str) -> None:
    """Roles known and required ones present (the values are checked as for sales)."""
    for req in PIPELINE_REQUIRED:
        if req not in columns:
            raise ConfigError(f"columns.{req} is missing{where} (kind: pipeline needs "
                              + " and ".join(PIPELINE_REQUIRED) + ").",
                              hint=f"map it to your column, e.g. {req}: <your column name>")


def check_stages(stages, kind: str, where: str) -> dict[str, list[str]]:
    """``stages: {won: [...], lost: [...]}``: each a non-empty list of stage values, no value in both."""
    if kind != "pipeline":
        if stages is not None:
            raise ConfigError(f"stages{where} belongs to kind: pipeline params.",
                              hint="add kind: pipeline (and columns.stage), or remove stages:")
        return {}
    if not isinstance(stages, dict) or set(stages) != {"won", "lost"}:
        raise ConfigError(f"stages{where} must name the won and the lost stages.",
                          hint=f"e.g. {STAGE_EXAMPLE}; every other stage is open")
    out: dict[str, list[str]] = {}
    for key in ("won", "lost"):
        values = stages[key]
        if not isinstance(values, list):
            values = [values]
        if not values or any(v is None or isinstance(v, (list, dict)) or str(v).strip() == "" for v in values):
            raise ConfigError(f"stages.{key}{where} must be a list of stage values, not {values!r}.",
                              hint=f"e.g. {STAGE_EXAMPLE}")
        out[key] = [str(v).strip() for v in values]
    both = sorted(set(out["won"]) & set(out["lost"]))
    if both:
        raise ConfigError(f"stages{where}: {both[0]!r} is both won and lost.",
                          hint="list each stage under one of won: and lost:")
    return out


def unmapped_filter_error(key: str, name: str, columns: dict, path, source_columns, source_desc: str):
    """A filter (``key``: ``filters.include.<name>``) whose column is neither a mapped role nor a
    column of the source ``source_desc``: a DataError when the source is read (filters of both
    kinds of params may name any source column)."""
    from .errors import DataError
    where = f" in {path}" if path else ""
    source_columns = [str(c) for c in source_columns]
    return DataError(f"{key}{where}: {name!r} is neither a mapped role nor a column of {source_desc}."
                     f"{did_you_mean(name, source_columns)}",
                     hint="filter on a column of the source (" + ", ".join(repr(c) for c in source_columns)
                          + ") or a mapped role (" + (", ".join(columns) or "none") + "); to filter on a derived "
                          "column (or a joined table's), select the rows with query: SELECT ... WHERE <column> IN (...)")
