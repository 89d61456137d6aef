"""``run_report``: one report, from the findings to the published folder (see :mod:`salesnb.report`)."""
from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReportError, SalesnbError, check_interrupted, clear_interrupted, interrupted, mark_interrupted
from ..periods import safe_folder_name
from .execute import NOTEBOOK_SECTIONS, NotebookFailed, execute_notebook, notebook_paths, notebooks_for
from .messages import error_line, now_text, say
from .pdf import render_pdf, require_chromium
from .publish import (RunLock, clean_leftovers, disk_full, disown_tmp, own_tmp, publish, remove_our_tmp, rmtree,
                      writable_folder, write_atomic)


def assemble(findings: dict, executed: dict[str, Path | None], *, by: dict | None = None,
             generated: str | None = None, bodies: dict[str, str] | None = None) -> str:
    """One report.html from the findings and the executed notebooks (None = missing notebook).

    ``bodies``: notebook HTML bodies already converted (:func:`salesnb.render.html.notebook_body`)."""
    from ..render import html as H
    sections = []
    body, toc = H.rework_headings(str(H.executive_summary(findings)), "executive-summary", drop_title=False)
    sections.append({"id": "executive-summary", "title": "Executive summary", "body": H.Markup(body),
                     "toc": toc, "note": None})
    for name in notebooks_for(findings.get("kind")):
        sid = name
        title = NOTEBOOK_SECTIONS[name]
        path = executed.get(name)
        if path is None:
            sections.append({"id": sid, "title": title, "body": H.Markup(""), "toc": [],
                             "note": f"The {name} notebook (notebooks/{name}.ipynb) is not part of this "
                                     "installation, so this section is left out."})
            continue
        body = (bodies or {}).get(name)
        body, toc = H.rework_headings(body if body is not None else H.notebook_body(path), sid)
        sections.append({"id": sid, "title": title, "body": H.Markup(body), "toc": toc, "note": None})
    body, toc = H.rework_headings(str(H.data_quality(findings)), "data-quality-and-method", drop_title=False)
    sections.append({"id": "data-quality-and-method", "title": "Data quality and method", "body": H.Markup(body),
                     "toc": toc, "note": None})
    return H.report_page(findings, sections, generated=generated or now_text(), by=by)


@dataclass
class Job:
    """One report to produce: its findings (or the error that stopped them) and where it goes."""

    config: object
    params_file: Path
    label: str
    parent: Path
    folder: str
    findings: object = None
    error: str | None = None
    by: dict | None = None
    path: Path | None = None
    failed_dir: Path | None = None
    timings: dict = field(default_factory=dict)
    sources: tuple = ()   # the source files' (path, size, mtime) when the data was loaded

    @property
    def final(self) -> Path:
        return self.parent / self.folder

    @property
    def tag(self) -> str:
        scope = f" {self.by['dimension']}={self.by['value']}" if self.by else ""
        return f"[{self.label}{scope}] "


def check_unchanged(sources) -> None:
    """Raise a DataError if a source file changed since the data was loaded."""
    from ..data import source_changes
    changed = source_changes(sources)
    if changed:
        from ..errors import DataError
        raise DataError(f"The source file {changed!r} changed while the report was being made, so its "
                        "numbers could mix the old and the new file; nothing was published.",
                        hint="run again once the file is no longer being written")


def findings_of(dataset, period, progress=None):
    """build_findings on a loaded dataset; an engine error caused by the source file changing
    underneath (overwritten, truncated) is said as such, not as a traceback."""
    from ..findings import build_findings
    try:
        findings = build_findings(dataset.config, period, dataset=dataset, progress=progress)
        check_interrupted()   # a Ctrl-C that a metric's fallback took for a failed query
        return findings
    except SalesnbError:
        check_unchanged(dataset.source_state)
        raise
    except Exception as exc:
        if interrupted():
            raise KeyboardInterrupt from None
        check_unchanged(dataset.source_state)
        import duckdb
        if isinstance(exc, duckdb.Error) and not isinstance(exc, duckdb.InternalException):
            from ..errors import DataError
            text = " ".join(str(exc).split())[:300]
            raise DataError(f"Cannot read {dataset.config.source or 'the query'} while building the findings: {text}",
                            hint="check that the source file is complete and is not being written") from None
        raise


def check_source_unchanged(job: "Job") -> None:
    check_unchanged(job.sources)


# one function (~115 lines): the lock, the temp folder and its fate on every kind of failure belong together
def produce_report(job: Job, notebooks: dict[str, Path | None], *, pdf: bool, timeout: int | None, progress,
                   workers: int, kernels=None) -> Path:
    """Lock, run the notebooks into a temp folder, assemble, publish. Returns report.html's path."""
    # long: the temp folder's whole life (run, assemble, publish, or keep as .failed) under one lock and one try
    findings = job.findings
    with RunLock(job.parent / f"{job.folder}.lock"):
        clean_leftovers(job.parent, job.folder)
        tmp = job.parent / f".tmp-{job.folder}-{secrets.token_hex(4)}"
        (tmp / "notebooks").mkdir(parents=True)
        own_tmp(tmp)
        ran_any = False
        try:
            t0 = time.perf_counter()
            findings.save(tmp)
            job.timings["save_findings"] = time.perf_counter() - t0
            # run_dir is relative to the notebook's own folder (``<run>/notebooks``): the temp
            # folder is renamed when the report is published (or kept as ``.failed``), and a kept
            # notebook opened there and run again must still find its findings
            params = {"params_file": str(Path(job.params_file).resolve()), "period": job.label,
                      "run_dir": ".."}
            executed: dict[str, Path | None] = {}
            todo = [(n, p) for n, p in notebooks.items() if p is not None]
            for name, p in notebooks.items():
                executed[name] = tmp / "notebooks" / f"{name}.ipynb" if p is not None else None
            failures: list[NotebookFailed] = []
            bodies: dict[str, str] = {}
            t0 = time.perf_counter()

            def run_one(item):
                name, src = item
                say(progress, f"{job.tag}running notebook {name}.ipynb")
                secs = execute_notebook(name, src, executed[name], params, timeout, tmp / "notebooks",
                                        kernels=kernels)
                say(progress, f"{job.tag}notebook {name}.ipynb done in {secs:.1f} s")
                # converted now, while the other notebooks still run (the first conversion also
                # imports nbconvert: about a second); a failure here is left to assemble() to report
                try:
                    from ..render import html as H
                    bodies[name] = H.notebook_body(executed[name])
                except Exception:  # noqa: BLE001
                    pass
                return name, secs

            ran_any = bool(todo)
            if todo:
                pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo))),
                                          thread_name_prefix="salesnb-nb")
                futures = [pool.submit(run_one, item) for item in todo]
                try:
                    for fut in futures:
                        try:
                            name, secs = fut.result()
                            job.timings[f"notebook_{name}"] = secs
                        except NotebookFailed as exc:
                            failures.append(exc)
                except KeyboardInterrupt:
                    # Ctrl-C: start no queued notebook, stop the running ones (their kernels run in
                    # sessions of their own, so the terminal's SIGINT does not reach them)
                    mark_interrupted()
                    pool.shutdown(wait=False, cancel_futures=True)
                    if kernels is not None:
                        kernels.kill()
                    from concurrent.futures import wait as wait_futures
                    wait_futures([f for f in futures if not f.cancelled()], timeout=10)
                    raise
                finally:
                    pool.shutdown(wait=not interrupted(), cancel_futures=interrupted())
            job.timings["notebooks"] = time.perf_counter() - t0
            if failures:
                raise failures[0]
            say(progress, f"{job.tag}assembling report.html")
            t0 = time.perf_counter()
            page = assemble(findings.data, executed, by=job.by, bodies=bodies)
            write_atomic(tmp / "report.html", page)
            job.timings["assemble"] = time.perf_counter() - t0
            if pdf:
                say(progress, f"{job.tag}printing report.pdf with Chromium")
                t0 = time.perf_counter()
                render_pdf(tmp / "report.html", tmp / "report.pdf")
                job.timings["pdf"] = time.perf_counter() - t0
            check_interrupted()   # nothing is published after Ctrl-C
            check_source_unchanged(job)
            publish(tmp, job.final)
            disown_tmp(tmp)
            rmtree(job.parent / f"{job.folder}.failed")
        except BaseException as exc:
            if interrupted() and not isinstance(exc, KeyboardInterrupt):
                rmtree(tmp)
                raise KeyboardInterrupt from None
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not ran_any or disk_full(exc):
                # interrupted, or a full disk (where a kept run would only take more room)
                rmtree(tmp)
                raise
            failed = job.parent / f"{job.folder}.failed"
            rmtree(failed)
            os.rename(tmp, failed)
            disown_tmp(tmp)
            job.failed_dir = failed
            if isinstance(exc, NotebookFailed):
                kept = failed / "notebooks" / f"{exc.name}.ipynb"
                where = f"; the executed notebook is kept at {kept}" if kept.exists() else \
                    f"; the run is kept at {failed}"
                message = f"Notebook {exc.reason}{where}"
                try:
                    write_atomic(failed / "error.txt", message + "\n")
                except OSError:
                    pass
                raise ReportError(message, hint="open that notebook to see the failing cell"
                                  if not exc.timeout else "raise --timeout, or look at the notebook's slow cell") \
                    from None
            try:
                write_atomic(failed / "error.txt", error_line(exc) + "\n")
            except OSError:
                pass   # the error itself says more than a failure to note it
            raise
    job.path = job.final / "report.html"
    return job.path


def config_of(params):
    """``params``: a params file or a loaded Config → (Config, params file path)."""
    from ..config import Config, load_config
    if isinstance(params, Config):
        if not params.params_path:
            raise ReportError("This Config has no params file (params_path); the notebooks need one.",
                              hint="load it with salesnb.load_config(path)")
        return params, Path(params.params_path)
    config = load_config(params)
    return config, Path(config.params_path)


def run_report(params, period=None, *, out=None, pdf: bool = False, timeout: int | None = 1800, progress=None,
               notebooks=None, workers: int = 2, warm_kernels: bool = True):
    """Produce ``OUT/<name>/<period>/report.html`` (and report.pdf with ``pdf``); returns its path.

    ``notebooks``: the folder of the notebooks (default: the kit's ``notebooks/``).
    ``workers`` notebooks run at a time, each on a kernel of a pool (:mod:`salesnb.report.kernels`,
    ``warm_kernels``) started once the findings are built: on 2 cores, two kernels that run the
    three notebooks between them are about a second faster at 10M lines than a fresh kernel per
    notebook (less CPU spent on kernel starts and imports). The pool is not started earlier:
    idle kernels beside the engine would add about 0.6 GB to the run's peak memory.
    """
    t_start = time.perf_counter()
    clear_interrupted()
    try:
        return _run_report(params, period, out=out, pdf=pdf, timeout=timeout, progress=progress,
                           notebooks=notebooks, workers=workers, warm_kernels=warm_kernels, t_start=t_start)
    except KeyboardInterrupt:
        mark_interrupted()
        remove_our_tmp()
        raise


def _run_report(params, period, *, out, pdf, timeout, progress, notebooks, workers, warm_kernels, t_start):
    from ..data import load_data
    from ..paths import reports_dir
    config, params = config_of(params)
    if pdf:
        require_chromium()
    # absolute: papermill's file writes briefly chdir the whole process (its handler's cwd, shared
    # by the notebooks running in parallel), so a relative path could resolve elsewhere
    root = Path(out).resolve() if out else reports_dir().resolve()
    writable_folder(root / safe_folder_name(config.name))
    timings = {}
    t0 = time.perf_counter()
    say(progress, f"loading {config.source or 'the query'}")
    with load_data(config) as dataset:
        timings["load_data"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        findings = findings_of(dataset, period, progress=progress)
        timings["findings"] = time.perf_counter() - t0
        sources = dataset.source_state
    check_interrupted()
    check_unchanged(sources)
    label = findings.data["period"]["label"]
    job = Job(config=config, params_file=Path(params), label=label, parent=root / safe_folder_name(config.name),
               folder=safe_folder_name(label), findings=findings, sources=sources)
    nbs = notebook_paths(notebooks, progress, job.tag, kind=config.kind)
    n_nb = sum(1 for p in nbs.values() if p is not None)
    with ExitStack() as stack:
        kernels = None
        if warm_kernels and n_nb:
            from .kernels import KernelPool
            kernels = stack.enter_context(KernelPool(min(workers, n_nb)))
        path = produce_report(job, nbs, pdf=pdf, timeout=timeout, progress=progress, workers=workers, kernels=kernels)
    job.timings.update(timings)
    job.timings["total"] = time.perf_counter() - t_start
    say(progress, f"{job.tag}done in {job.timings['total']:.1f} s (" + ", ".join(
        f"{k} {v:.1f} s" for k, v in job.timings.items() if k != "total") + ")")
    run_report.last_timings = dict(job.timings)
    return path


run_report.last_timings = {}
