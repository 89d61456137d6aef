"""``build_findings(config, period)``: the single source of every number the report shows.

It loads the data (or takes a loaded :class:`~salesnb.data.Dataset`), computes each section's
findings once — revenue, customers, recommendations — and returns a :class:`Findings`: one
JSON-ready dict (the SPEC 5 keys) and a few small pandas tables for charts. A run folder holds
them as ``findings.json`` and ``tables/*.parquet``; notebooks load them with
:func:`load_findings` instead of computing again.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, load_config
from .errors import NoDataError
from .periods import Period, parse_period

SCHEMA_VERSION = 1


@dataclass
class Findings:
    """Findings of one report: ``data`` (JSON-ready) and ``tables`` (small pandas frames)."""

    data: dict
    tables: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)

    @property
    def currency(self) -> str:
        return self.data.get("currency", "USD")

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        (folder / "findings.json").write_text(dumps(self.data), encoding="utf-8")
        for name, frame in self.tables.items():
            if frame is not None:
                frame.to_parquet(folder / "tables" / f"{name}.parquet", index=False)
        return folder / "findings.json"


def load_findings(folder: str | Path) -> Findings:
    import pandas as pd
    folder = Path(folder)
    data = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    tables = {p.stem: pd.read_parquet(p) for p in sorted((folder / "tables").glob("*.parquet"))}
    return Findings(data, tables)


def _clean(value):
    """Make a value JSON-ready: numpy scalars → Python, NaN/inf → None, dates → ISO."""
    import numpy as np
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    return value


def dumps(data: dict) -> str:
    """Deterministic JSON: the same findings always give the same bytes."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def resolve_period(config: Config, period, dataset) -> Period:
    q = dataset.quality
    text = period or config.period
    if text is None:
        # default: the last complete quarter of the data, else the whole data
        last = dt.date.fromisoformat(q.last_date)
        p = parse_period(f"{last.year}Q{(last.month - 1) // 3 + 1}", config.fiscal_year_start)
        text = p.label
    return parse_period(text, config.fiscal_year_start,
                        first_date=dt.date.fromisoformat(q.first_date), last_date=dt.date.fromisoformat(q.last_date))


def _progress(progress, message):
    if progress:
        progress(message)


def build_findings(config, period=None, *, dataset=None, progress=None, sections=("revenue", "customers", "recommendations")) -> Findings:
    """Compute every section's findings for ``period`` (default: the params' ``period``)."""
    from .data import load_data
    if isinstance(config, (str, Path)):
        config = load_config(config)
    own = dataset is None
    if own:
        _progress(progress, f"loading {config.source or 'query'}")
        dataset = load_data(config)
    try:
        p = resolve_period(config, period, dataset)
        return _build(config, p, dataset, progress, sections)
    finally:
        if own:
            dataset.close()


def _build(config: Config, period: Period, dataset, progress, sections) -> Findings:
    from . import __version__
    from .metrics import revenue as revenue_metrics
    q = dataset.quality
    first, last = dt.date.fromisoformat(q.first_date), dt.date.fromisoformat(q.last_date)
    if period.end <= first or period.start > last:
        raise NoDataError(f"Period {period.label} ({period.start} .. {period.last_day}) has no data: the data "
                          f"covers {q.first_date} .. {q.last_date}.",
                          hint=f"choose a period inside that range, e.g. --period {last.year}Q{(last.month - 1) // 3 + 1}")
    data = {
        "schema_version": SCHEMA_VERSION,
        "name": config.name,
        "title": config.title or config.name,
        "currency": config.currency,
        "generated_by": f"salesnb {__version__}",
    }
    tables: dict = {}
    _progress(progress, f"revenue findings for {period.label}")
    rev, rev_tables = revenue_metrics.revenue_findings(dataset, period)
    data["period"] = rev.pop("period")
    data["comparison"] = rev.pop("comparison")
    data["data"] = data_section(dataset)
    data["revenue"] = rev
    tables.update(rev_tables)
    if "customers" in sections:
        _progress(progress, f"customer findings for {period.label}")
        if dataset.has_customers:
            from .metrics import customers as customer_metrics
            cust, cust_tables = customer_metrics.customer_findings(dataset, period, data["revenue"])
            data["customers"] = cust
            tables.update(cust_tables)
        else:
            data["customers"] = {"available": False, "note": "No customer id is mapped: customer analyses are left out."}
    if "recommendations" in sections:
        _progress(progress, "recommendations")
        from . import recommend
        data["recommendations"] = recommend.recommendations(data)
    data["method"] = method_section(config, dataset)
    return Findings(_clean(data), tables)


def data_section(dataset) -> dict:
    q = dataset.quality
    return {
        "source": q.source, "rows_read": q.rows_read, "rows_used": q.rows_used,
        "rows_dropped": dict(q.rows_dropped), "dropped_examples": dict(q.examples),
        "first_date": q.first_date, "last_date": q.last_date, "sha256": q.sha256,
        "returns": dict(q.returns), "zero_revenue_lines": q.zero_revenue_lines,
        "missing_customer": dict(q.missing_customer), "duplicates": dict(q.duplicates),
        "partial_months": list(q.partial_months), "gap_months": list(q.gap_months),
        "month_coverage": dict(q.month_coverage), "date_format": q.date_format, "encoding": q.encoding,
        "dimensions": list(q.dimensions), "has_customers": dataset.has_customers,
        "has_quantity": dataset.has_quantity, "revenue_total": q.revenue_total, "notes": list(q.notes),
    }


def method_section(config: Config, dataset) -> dict:
    import importlib.metadata as md
    versions = {}
    for pkg in ("salesnb", "duckdb", "ibis-framework", "pandas", "numpy", "scipy", "matplotlib", "seaborn",
                "papermill", "nbconvert"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    params = config.to_dict()
    params.pop("params_path", None)
    return {"params": params, "versions": versions, "python": sys.version.split()[0]}
