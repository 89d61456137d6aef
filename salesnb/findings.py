"""``build_findings(config, period)``: the single source of every number the report shows.

It loads the data (or takes a loaded :class:`~salesnb.data.Dataset`), computes each section's
findings once — revenue, customers, recommendations — and returns a :class:`Findings`: one
JSON-ready dict (the SPEC 5 keys) and a few small pandas tables for charts. A run folder holds
them as ``findings.json`` and ``tables/*.parquet``; notebooks load them with
:func:`load_findings` instead of computing again.

Outside a report run, a notebook asks :func:`notebook_findings` for only the sections it shows,
and the findings are cached on disk (:func:`cache_dir`), keyed by the source files' fingerprint,
the params' content, the period, the salesnb version and code: Run All of the notebooks one after
the other, or again, builds once; a changed source or params file is never read from the cache.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, load_config
from .errors import NoDataError, SalesnbError
from .paths import find_params, sample_data, sample_params
from .periods import Period, parse_period

SCHEMA_VERSION = 1
#: the sections :func:`build_findings` can compute; ``revenue`` is always computed (the others use it)
SECTIONS = ("revenue", "customers", "recommendations")


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

    def keys(self):
        return self.data.keys()

    def _summary(self) -> tuple[str, list[tuple[str, str]]]:
        """(heading, [(label, value)]): the headline KPIs, formatted by :mod:`salesnb.fmt`."""
        from .fmt import fmt_count, fmt_delta, fmt_money
        d, rev = self.data, self.data.get("revenue") or {}
        period = (d.get("period") or {}).get("label", "?")
        change = (rev.get("change") or {}).get("total") or {}
        rows = [("revenue", fmt_money(rev.get("total"), self.currency)),
                ("vs previous period", fmt_delta(change.get("vs_previous_pct"))),
                ("orders", fmt_count(rev.get("orders"))),
                ("average order", fmt_money(rev.get("aov"), self.currency))]
        if rev.get("customers") is not None:
            rows.append(("customers", fmt_count(rev.get("customers"))))
        sections = [k for k in SECTIONS if k in d]
        rows.append(("sections", ", ".join(sections)))
        rows.append(("tables", fmt_count(len(self.tables))))
        return f"Findings {d.get('title') or d.get('name', '')}, {period}", rows

    def __repr__(self) -> str:
        heading, rows = self._summary()
        body = "; ".join(f"{k} {v}" for k, v in rows)
        return f"<{heading}: {body}. findings.data holds every key (SPEC 5), findings.tables the frames>"

    def _repr_html_(self) -> str:
        from .fmt import esc_html
        heading, rows = self._summary()
        cells = "".join(f"<tr><th style='text-align:left'>{esc_html(k)}</th><td>{esc_html(v)}</td></tr>"
                        for k, v in rows)
        return (f"<div class='salesnb-findings'><b>{esc_html(heading)}</b><table>{cells}</table>"
                "<small>findings.data holds every key (SPEC 5), findings.tables the frames.</small></div>")

    def save(self, folder: str | Path) -> Path:
        """Write ``findings.json`` and ``tables/*.parquet`` into ``folder``; return the JSON's path."""
        folder = Path(folder)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        (folder / "findings.json").write_text(dumps(self.data), encoding="utf-8")
        for name, frame in self.tables.items():
            if frame is not None:
                frame.to_parquet(folder / "tables" / f"{name}.parquet", index=False)
        return folder / "findings.json"


def load_findings(folder: str | Path) -> Findings:
    """The findings a run folder (or a cache entry) holds, as :meth:`Findings.save` wrote them."""
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


# one function (~65 lines): mostly its docstring (the public API's arguments)
def build_findings(config, period=None, *, dataset=None, progress=None, sections=SECTIONS,
                   cache: bool = False) -> Findings:
    """Compute the findings of one period: every number the report shows (SPEC 5).

    Parameters
    ----------
    config : Config or str or Path
        A loaded :class:`~salesnb.config.Config`, or a params file (read with
        :func:`~salesnb.config.load_config`).
    period : str, optional
        ``2024Q3``, ``2024-07``, ``2024``, ``2023Q3..2024Q3`` or ``all``. Default: the params'
        ``period``, else the quarter of the data's last date.
    dataset : Dataset, optional
        Data already loaded with :func:`~salesnb.data.load_data` (not closed here). Default: the
        source is loaded, and closed when done.
    progress : callable, optional
        Called with a short message before each step.
    sections : sequence of str
        Which of ``revenue``, ``customers``, ``recommendations`` to compute (``revenue`` always
        is). A notebook asks for what it shows: the revenue notebook needs no customer models.
    cache : bool
        Read and write the on-disk cache (:func:`cache_dir`): findings of the same source files
        (same size, times and content hash), params, period and salesnb code are read back instead
        of computed. A query source is never cached (the database may change unseen).

    Returns
    -------
    Findings
        ``findings.data`` (the JSON-ready dict: ``period``, ``revenue``, ``customers``, …) and
        ``findings.tables`` (small pandas frames for charts).

    Raises
    ------
    SalesnbError
        Bad params, unreadable data, or a period without data; the message says what to do.

    Examples
    --------
    >>> f = build_findings("params/sample.yaml", "2024Q3", sections=("revenue",))  # doctest: +SKIP
    >>> f["revenue"]["total"]  # doctest: +SKIP
    """
    from .data import load_data
    if isinstance(config, (str, Path)):
        config = load_config(config)
    sections = _sections(sections)
    key = cache_key(config, period) if cache else None
    if key is not None:
        hit = _cache_read(key, sections)
        if hit is not None:
            _progress(progress, f"findings read from the cache ({cache_dir()})")
            return hit
    own = dataset is None
    if own:
        _progress(progress, f"loading {config.source or 'query'}")
        dataset = load_data(config)
    try:
        p = resolve_period(config, period, dataset)
        findings = _build(config, p, dataset, progress, sections)
    finally:
        if own:
            dataset.close()
    if key is not None:
        _cache_write(key, findings, sections)
    return findings


def _sections(sections) -> tuple[str, ...]:
    if isinstance(sections, str):
        sections = (sections,)
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise SalesnbError(f"Unknown findings section {bad[0]!r}.", hint="sections are: " + ", ".join(SECTIONS))
    wanted = set(sections) | {"revenue"}
    return tuple(s for s in SECTIONS if s in wanted)


def ensure_sample(rows: int = 200_000, seed: int = 7) -> Path:
    """Generate the sample data set when it is missing (the kit's demo and notebook defaults)."""
    path = sample_data()
    if not path.exists():
        from .data.sample import write_sample
        path.parent.mkdir(parents=True, exist_ok=True)
        write_sample(path, rows=rows, seed=seed)
    return path


def default_params_file(params_file=None) -> Path:
    """The params file a notebook runs on: the given one (found as :func:`find_params` does), else
    the sample's (its data generated if needed)."""
    if params_file:
        return find_params(params_file)
    ensure_sample()
    return sample_params()


def notebook_findings(params_file=None, period=None, run_dir=None, *, sections=SECTIONS, kind: str = "sales") -> Findings:
    """What a notebook's setup cell needs: the findings of a report run (``run_dir``, as papermill
    passes it), else those of ``params_file`` (default: the kit's sample) for ``period``, built for
    ``sections`` only and through the on-disk cache (:func:`build_findings` with ``cache=True``).
    ``kind``: the kind of params the notebook reads (``pipeline`` for notebooks/pipeline.ipynb);
    findings of the other kind are one clear error."""
    if run_dir:
        found = load_findings(run_dir)
    else:
        found = build_findings(load_config(default_params_file(params_file)), period, sections=sections, cache=True)
    if found.data.get("kind", "sales") != kind:
        from .errors import ConfigError
        other = found.data.get("kind", "sales")
        raise ConfigError(f"These findings are of {other} params; this notebook reads {kind} params.",
                          hint="open notebooks/pipeline.ipynb for kind: pipeline params, notebooks/revenue.ipynb "
                               "(customers, recommendations) for sales params")
    return found


# --------------------------------------------------------------------------- the on-disk cache

CACHE_KEEP = 16  # entries kept; older ones are removed when a new one is written


def cache_dir() -> Path:
    """Where cached findings live: ``$SALESNB_CACHE``, else ``.cache/salesnb/`` in the project
    root when it can be written, else the user's cache folder (``$XDG_CACHE_HOME/salesnb``)."""
    env = os.environ.get("SALESNB_CACHE")
    if env:
        return Path(env).expanduser()
    from .paths import project_root
    root = project_root()
    if os.access(root, os.W_OK):
        return root / ".cache" / "salesnb"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "salesnb"


def _versions() -> dict:
    import importlib.metadata as md
    versions = {}
    for pkg in ("salesnb", "duckdb", "ibis-framework", "pandas", "numpy", "scipy", "matplotlib", "seaborn",
                "papermill", "nbconvert"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return versions


_CODE_FINGERPRINT: list = []


def _code_fingerprint() -> str:
    """The salesnb code as installed (every module's size and time): an edited module is new code."""
    if not _CODE_FINGERPRINT:
        package = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for f in sorted(package.rglob("*.py")):
            st = f.stat()
            digest.update(f"{f.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        _CODE_FINGERPRINT.append(digest.hexdigest())
    return _CODE_FINGERPRINT[0]


HASH_LIMIT = 256 << 20  # source files up to this size (in all) are also hashed for the cache key


def source_fingerprint(config: Config) -> str | None:
    """A cheap fingerprint of the source files: each one's path, size, modification and change
    times, plus their content's sha256 when they are small (up to :data:`HASH_LIMIT` in all).
    None (no caching) for a query or a database source."""
    from .config import is_url
    from .data import _source_files, fingerprint
    if not config.source or config.query or is_url(config.source) or config.engine not in ("duckdb", "", None):
        return None
    files = _source_files(config.source)
    stats = []
    for f in files:
        st = f.stat()
        stats.append([str(f.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    if sum(s[1] for s in stats) <= HASH_LIMIT:
        stats.append(fingerprint(files))
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()


def cache_key(config: Config, period=None) -> str | None:
    """The cache key of ``config``'s findings for ``period`` (None when the source cannot be cached)."""
    from .version import __version__
    source = source_fingerprint(config)
    if source is None:
        return None
    params = config.to_dict()
    params.pop("params_path", None)
    text = json.dumps({"schema": SCHEMA_VERSION, "salesnb": __version__, "code": _code_fingerprint(),
                       "versions": _versions(), "params": params, "source": source,
                       "period": period or config.period}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cache_read(key: str, sections: tuple[str, ...]) -> Findings | None:
    entry = cache_dir() / key
    try:
        have = json.loads((entry / "sections.json").read_text(encoding="utf-8"))
        findings = load_findings(entry)
    except (OSError, ValueError):
        return None
    missing = [s for s in sections if s not in have]
    if not missing:
        os.utime(entry)  # recently used: kept longest
        return findings
    if missing == ["recommendations"] and "customers" in have:
        # the recommendations are rules over the findings: no data needed
        from . import recommend
        data = {k: v for k, v in findings.data.items() if k != "method"}
        data["recommendations"] = recommend.recommendations(data)
        data["method"] = findings.data["method"]
        findings = Findings(_clean(data), findings.tables)
        _cache_write(key, findings, tuple(have) + ("recommendations",))
        return findings
    return None


def _cache_write(key: str, findings: Findings, sections) -> None:
    """Write the entry into a temporary folder beside it, then rename it into place (a reader sees
    the old entry, none, or the new one, never half of one). A cache that cannot be written is
    skipped silently: it only saves time."""
    root = cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        findings.save(tmp)
        (tmp / "sections.json").write_text(json.dumps([s for s in SECTIONS if s in sections]), encoding="utf-8")
        final = root / key
        old = None
        if final.exists():
            old = root / f".{key}-old-{os.getpid()}"
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in entries[CACHE_KEEP:]:
            shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        if "tmp" in locals():
            shutil.rmtree(tmp, ignore_errors=True)


def clear_cache() -> None:
    """Remove every cached findings entry."""
    shutil.rmtree(cache_dir(), ignore_errors=True)


def _build(config: Config, period: Period, dataset, progress, sections) -> Findings:
    from .version import __version__
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
    if config.kind == "pipeline":   # CRM deals (SPEC 10)
        return _build_pipeline(config, period, dataset, progress, data)
    _progress(progress, f"revenue findings for {period.label}")
    rev, rev_tables = revenue_metrics.revenue_findings(dataset, period)
    data["period"] = rev.pop("period")
    data["comparison"] = rev.pop("comparison")
    data["data"] = data_section(dataset)
    data["revenue"] = rev
    tables.update(rev_tables)
    _progress(progress, f"forecast after {period.label}")
    from .models.forecast import forecast_findings
    data["forecast"] = forecast_findings(
        rev_tables["revenue_monthly_all"], period, period_revenue=rev["total"], period_partial=data["period"]["partial"],
        data_last_date=q.last_date, targets=config.targets.get("revenue", {}))
    if "customers" in sections:
        _progress(progress, f"customer findings for {period.label}")
        if dataset.has_customers:
            from .metrics import customers as customer_metrics
            from .models.clv_findings import clv_findings
            cust, cust_tables = customer_metrics.customer_findings(dataset, period, data["revenue"], clv=clv_findings)
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


def _build_pipeline(config: Config, period: Period, dataset, progress, data: dict) -> Findings:
    """The findings of ``kind: pipeline`` params: ``pipeline`` and its recommendations."""
    from .metrics.pipeline import pipeline_findings
    from .recommend.pipeline import pipeline_recommendations
    _progress(progress, f"pipeline findings for {period.label}")
    pipe, keys, tables = pipeline_findings(dataset, period)
    data.update(kind="pipeline", **keys)
    data["data"] = dict(data_section(dataset), deals=dataset.quality.deals)
    data["pipeline"] = pipe
    _progress(progress, "recommendations")
    data["recommendations"] = pipeline_recommendations(_clean(data))
    data["method"] = method_section(config, dataset)
    return Findings(_clean(data), tables)


def data_section(dataset) -> dict:
    from .metrics.orders import order_notes
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
        "has_quantity": dataset.has_quantity, "revenue_total": q.revenue_total,
        # a pipeline's rows are deals, not order lines: no order to resolve
        "notes": list(q.notes) + (order_notes(dataset) if dataset.config.kind != "pipeline" else []),
        # what each filter kept and removed (only with filters: findings without them are unchanged)
        **({"filters": [dict(f) for f in q.filters]} if q.filters else {}),
    }


def method_section(config: Config, dataset) -> dict:
    versions = _versions()
    params = config.to_dict()
    params.pop("params_path", None)
    return {"params": params, "versions": versions, "python": sys.version.split()[0]}
