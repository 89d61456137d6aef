"""``run_batch``: many periods (and ``--by`` dimension values) from one loaded dataset, reports
produced while the next findings are built, then the index."""
from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ConfigError, SalesnbError, check_interrupted, clear_interrupted, interrupted, mark_interrupted
from ..periods import expand_range, safe_folder_name
from .execute import notebook_paths
from .index import BatchResult, write_index
from .messages import error_line, say
from .pdf import require_chromium
from .publish import remove_our_tmp, writable_folder
from .run import Job, config_of, findings_of, produce_report


MAX_BY_VALUES = 100


def _by_values(dataset, dim: str) -> list:
    t = dataset.table
    counts = t.group_by(t[dim]).aggregate(revenue=t.revenue.sum()).to_pandas()
    values = []
    for v in counts[dim].tolist():
        values.append(None if v is None or (isinstance(v, float) and v != v) else str(v))
    present = sorted({v for v in values if v is not None})
    return present + ([None] if None in values else [])


def by_folders(dim: str, values: list) -> list[str]:
    """One folder name per value of ``dim``, all different: ``a/b`` and ``a_b`` both make
    ``a_b``, so the later one (in the values' sorted order) gets a suffix, ``-2``, ``-3`` …, that
    no other value's folder uses or would use (``a_b-2`` may be a value of its own). Compared
    ignoring case, for case-insensitive file systems."""
    base = [f"{safe_folder_name(dim)}={safe_folder_name(v if v is not None else '(missing)')}" for v in values]
    reserved = {b.lower() for b in base}
    used: set[str] = set()
    out = []
    for name in base:
        folder = name
        if folder.lower() in used:
            n = 2
            while f"{name}-{n}".lower() in used or f"{name}-{n}".lower() in reserved:
                n += 1
            folder = f"{name}-{n}"
        used.add(folder.lower())
        out.append(folder)
    return out


def _subset(dataset, dim: str, value):
    """The dataset restricted to ``dim == value`` (None: the rows without a value), on its own
    in-memory DuckDB connection so every metric (Ibis or SQL on ``sales``) sees only those rows."""
    import ibis

    from ..data import DUCKDB_SETTINGS, Dataset
    t = dataset.table
    expr = t.filter(t[dim].isnull()) if value is None else t.filter(t[dim] == value)
    arrow = expr.to_pyarrow()
    con = ibis.duckdb.connect(**DUCKDB_SETTINGS)
    con.con.register("_subset_arrow", arrow)
    con.con.execute("CREATE TABLE sales AS SELECT * FROM _subset_arrow")
    con.con.unregister("_subset_arrow")
    rows = arrow.num_rows
    q = dataset.quality
    shown = value if value is not None else "(missing)"
    note = (f"This report covers {dim} = {shown} only: {rows:,} of the {q.rows_used:,} rows used; the other "
            "figures in this section describe the whole source.")
    quality = dataclasses.replace(q, notes=list(q.notes) + [note])
    config = dataset.config
    include = {k: list(v) for k, v in config.filters.get("include", {}).items()}
    include[dim] = [shown]
    filters = {k: {kk: list(vv) for kk, vv in v.items()} for k, v in config.filters.items()}
    filters["include"] = include
    sub_config = dataclasses.replace(config, filters=filters)
    return Dataset(config=sub_config, con=con, table=con.table("sales"), quality=quality,
                   source_state=dataset.source_state), rows


# one function (~85 lines): the kernel pool, the report threads and Ctrl-C handling share one try block
def run_batch(params, periods, *, by: str | None = None, jobs: int = 2, out=None, pdf: bool = False,
              timeout: int | None = 1800, progress=None, notebooks=None, workers: int | None = None,
              warm_kernels: bool = True) -> BatchResult:
    """One report per period of ``periods`` (and per value of ``by``) and ``OUT/<name>/index.html``.

    The data is loaded and validated once; the findings of every report are built from it in
    turn, and each report's notebooks start as soon as its findings are ready (``jobs`` reports
    at a time), while the next findings are built. A report that fails (no
    data in its period, a notebook error) is listed in ``failures`` and marked in the index;
    the others are written. The notebooks of all reports share one pool of warm kernels
    (``warm_kernels``; one kernel per notebook of a report, at most ``workers``; by default at
    most three and no more than the machine's cores).
    """
    # long: the report pool, the kernel pool and their Ctrl-C handling share one try block
    from ..paths import reports_dir
    t_start = time.perf_counter()
    clear_interrupted()
    config, params = config_of(params)
    if pdf:
        require_chromium()
    period_list = expand_range(periods, config.fiscal_year_start)
    if by is not None:
        if by not in config.dimensions:
            from ..config import DIMENSIONS
            known = ", ".join(config.dimensions) or "none mapped"
            kind = "a dimension salesnb knows" if by not in DIMENSIONS else "mapped under columns:"
            raise ConfigError(f"--by {by!r} is not {kind}; the params file's dimensions: {known}.",
                              hint="choose one of: " + ", ".join(config.dimensions) if config.dimensions
                              else "map a dimension (region, segment, …) under columns:")
    # absolute: papermill's file writes briefly chdir the whole process (its handler's cwd, shared
    # by the notebooks running in parallel), so a relative path could resolve elsewhere
    root = Path(out).resolve() if out else reports_dir().resolve()
    name_dir = writable_folder(root / safe_folder_name(config.name))
    timings: dict = {}
    all_jobs: list[Job] = []
    nbs = notebook_paths(notebooks, progress, "", kind=config.kind)
    n_nb = sum(1 for p in nbs.values() if p is not None)
    jobs = max(1, int(jobs or 1))
    # no more kernels than cores: on 2 cores a third kernel only contends with the next report's
    # findings (4 quarters at 10M lines: 35.5 s with two kernels, 37.5-41.1 s with three)
    per_report = workers if workers else max(1, min(3, n_nb, os.cpu_count() or 1))

    def produce(job: Job):
        try:
            produce_report(job, nbs, pdf=pdf, timeout=timeout, progress=progress, workers=per_report,
                           kernels=kernels)
            say(progress, f"{job.tag}report: {job.path}")
        except SalesnbError as exc:
            job.error = error_line(exc)
            say(progress, f"{job.tag}FAILED: {job.error}")
        except Exception as exc:  # noqa: BLE001 - one report's bug must not stop the others
            job.error = error_line(exc)
            say(progress, f"{job.tag}FAILED: {job.error}")

    # A report's notebooks start as soon as its findings are built, while the next period's
    # findings are computed: the engine's queries and the kernels share the cores.
    kernels = None
    if warm_kernels and n_nb:
        from .kernels import KernelPool
        kernels = KernelPool(per_report)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="salesnb-report")
    t0 = time.perf_counter()
    try:
        _batch_findings(config, params, period_list, by, name_dir, timings, all_jobs, progress,
                        submit=lambda job: pool.submit(produce, job))
        pool.shutdown(wait=True)  # every report's notebooks are done before the kernels go
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            # Ctrl-C: stop the running notebooks (their kernels have sessions of their own and
            # did not get the signal), start no queued report; the reports publish nothing
            mark_interrupted()
            if kernels is not None:
                kernels.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        if isinstance(exc, KeyboardInterrupt):
            remove_our_tmp()
        raise
    finally:
        if kernels is not None:
            kernels.close()
    timings["reports"] = time.perf_counter() - t0
    if interrupted():
        remove_our_tmp()
        raise KeyboardInterrupt
    return write_index(config, period_list, by, name_dir, all_jobs, timings, t_start, progress)


def _batch_findings(config, params, period_list, by, name_dir, timings, all_jobs, progress, submit) -> None:
    """Load once, build each report's findings in turn and hand each job to ``submit``."""
    from ..data import load_data
    t0 = time.perf_counter()
    say(progress, f"loading {config.source or 'the query'}")
    with load_data(config) as dataset:
        timings["load_data"] = time.perf_counter() - t0
        groups = [(None, dataset, None)]
        if by is not None:
            values = _by_values(dataset, by)
            if len(values) > MAX_BY_VALUES:
                raise ConfigError(f"--by {by} has {len(values):,} values; one report each is at most "
                                  f"{MAX_BY_VALUES} reports.",
                                  hint=f"filter the values first (filters: include: {{{by}: [...]}}) or choose "
                                       "a dimension with fewer values")
            folders = by_folders(by, values)
            groups = [(value, None, folders[i]) for i, value in enumerate(values)]
        t0 = time.perf_counter()
        for value, ds, folder in groups:
            sub = ds
            if sub is None:
                sub, _ = _subset(dataset, by, value)
            try:
                for p in period_list:
                    job_by = {"dimension": by, "value": value if value is not None else "(missing)"} if by else None
                    parent = name_dir / folder if folder else name_dir
                    job = Job(config=sub.config, params_file=Path(params), label=p.label, parent=parent,
                               folder=safe_folder_name(p.label), by=job_by, sources=dataset.source_state)
                    say(progress, f"{job.tag}building findings")
                    check_interrupted()
                    try:
                        job.findings = findings_of(sub, p.label)
                        if job_by:
                            job.findings.data["scope"] = dict(job_by)
                    except SalesnbError as exc:
                        job.error = error_line(exc)
                        say(progress, f"{job.tag}FAILED: {job.error}")
                    all_jobs.append(job)
                    if job.findings is not None:
                        submit(job)
            finally:
                if sub is not dataset:
                    sub.close()
        timings["findings"] = time.perf_counter() - t0
