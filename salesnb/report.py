"""Reports: findings once → notebooks (papermill) → one self-contained ``report.html``.

``run_report(params, period=…)`` builds the findings once, saves them into a temporary run
folder, executes the notebooks there (in parallel; they load the saved findings through their
``run_dir`` parameter, ``".."`` from their own folder, so a published or kept notebook still finds
them), assembles ``report.html`` (and ``report.pdf`` with Chromium), and only
then moves the finished folder into place. ``run_batch`` does that for many periods (and
``--by`` dimension values) from one loaded dataset and writes an ``index.html``.

Layout under ``OUT/<name>/`` (``OUT`` defaults to ``reports/``)::

    <period>/                     a finished report (replaced as a whole, atomically)
        report.html               the report: self-contained, no code, no external requests
        report.pdf                with --pdf
        findings.json, tables/    the findings the report was rendered from
        notebooks/*.ipynb         the executed notebooks
    <period>.failed/              the last failed run of that period: findings.json, tables/,
        notebooks/*.ipynb         the executed notebooks (the failing one shows its error),
        error.txt                 and the one-line reason; removed by the next good run
    <period>.lock                 while a run writes that period (holds the pid)
    .tmp-<period>-<hex>/          while a run works (never left behind)
    <dim>=<value>/<period>/…      batch --by: the same layout one level down
    index.html                    batch: every report of the batch, with its KPIs

A failed run never touches ``<period>/``: the old report stays byte-identical.
"""
from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .errors import (ConfigError, ReportError, SalesnbError, check_interrupted, clear_interrupted, interrupted,
                     mark_interrupted)
from .periods import expand_range, safe_folder_name

NOTEBOOKS = ("revenue", "customers", "recommendations")
NOTEBOOK_SECTIONS = {"revenue": "Revenue", "customers": "Customers", "recommendations": "Recommendations"}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT = 180
MAX_BY_VALUES = 100


# --------------------------------------------------------------------------- small helpers

def write_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` all at once: a temp file in the same folder, then ``os.replace``."""
    path = Path(path)
    try:
        return _write_atomic(path, text, encoding)
    except OSError as exc:
        # name the file asked for, not the temp file beside it
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None


def _write_atomic(path: Path, text: str, encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


_SAY_LOCK = threading.Lock()


def _say(progress, message: str) -> None:
    """Report progress; calls are serialized (notebooks and reports run in threads)."""
    if progress and not interrupted():   # after Ctrl-C, "salesnb: interrupted" is the last word
        with _SAY_LOCK:
            progress(message)


def _one_line(text, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def error_line(exc: BaseException) -> str:
    """One line for a user-facing error (message and hint)."""
    if isinstance(exc, SalesnbError):
        text = exc.message + (f" (what to do: {exc.hint})" if exc.hint else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _one_line(text, 500)


def _now() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def publish(tmp: Path, final: Path) -> None:
    """Move the finished run folder ``tmp`` to ``final``, replacing an older report.

    Where the kernel allows, the two folders are swapped in one step, so ``final`` always holds
    a complete report; otherwise the old one is renamed aside, the new one moved in, then the
    old one deleted.
    """
    if final.exists():
        if _rename_exchange(tmp, final):
            _rmtree(tmp)  # now holds the old report
            return
        aside = final.parent / f".old-{final.name}-{secrets.token_hex(4)}"
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(aside, final)
            raise
        _rmtree(aside)
    else:
        os.rename(tmp, final)


# --------------------------------------------------------------------------- the lock

_HELD: set[str] = set()
_OUR_TMP: set[Path] = set()   # this process's run folders, removed after Ctrl-C whatever a thread did


def _remove_our_tmp() -> None:
    """After Ctrl-C: remove this process's run folders and locks, whatever its threads did."""
    with _HELD_GUARD:
        folders = list(_OUR_TMP)
        _OUR_TMP.clear()
        locks = list(_HELD)
        _HELD.clear()
    for folder in folders:
        _rmtree(folder)
    for lock in locks:
        try:
            os.unlink(lock)
        except OSError:
            pass
_HELD_GUARD = threading.Lock()


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """``<period>.lock`` next to the report folder: created with O_EXCL, holds the pid.

    A lock whose pid is dead (or this process's, left by a run that did not finish) is stale
    and taken over; a live one is a :class:`ReportError`.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.held = False

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    try:
                        os.unlink(self.path)
                    except FileNotFoundError:
                        pass
                    continue
                pid = self._pid()
                raise ReportError(
                    f"Another salesnb run (pid {pid}) is writing {self.path.with_suffix('')}: lock file {self.path}.",
                    hint="wait for it to finish; if no salesnb run is active, delete the lock file") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            with _HELD_GUARD:
                _HELD.add(str(self.path))
            self.held = True
            return self
        raise ReportError(f"Could not take the lock {self.path}.", hint="delete it if no salesnb run is active")

    def _pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
            return int(text.split()[0]) if text else None
        except (OSError, ValueError, IndexError):
            return None

    def _stale(self) -> bool:
        pid = self._pid()
        if pid is None:
            # being written this instant, or left empty by a crash: stale once it is a few seconds old
            try:
                return time.time() - self.path.stat().st_mtime > 5
            except FileNotFoundError:
                return True
        if pid == os.getpid():
            with _HELD_GUARD:
                return str(self.path) not in _HELD
        return not _pid_alive(pid)

    def release(self) -> None:
        if self.held:
            with _HELD_GUARD:
                _HELD.discard(str(self.path))
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


# --------------------------------------------------------------------------- notebooks

def notebook_paths(folder=None, progress=None, label: str = "") -> dict[str, Path | None]:
    """The kit's notebooks in report order; a missing one maps to None (and is logged)."""
    from .paths import notebooks_dir
    folder = Path(folder) if folder else notebooks_dir()
    out: dict[str, Path | None] = {}
    for name in NOTEBOOKS:
        path = folder / f"{name}.ipynb"
        out[name] = path if path.is_file() else None
        if out[name] is None:
            _say(progress, f"{label}notebook {path} not found: the {NOTEBOOK_SECTIONS[name]} section says so, "
                           "the rest of the report goes on")
    return out


class NotebookFailed(Exception):
    def __init__(self, name: str, reason: str, timeout: bool = False):
        super().__init__(reason)
        self.name, self.reason, self.timeout = name, reason, timeout


def execute_notebook(name: str, src: Path, dst: Path, parameters: dict, timeout: int | None, cwd: Path,
                     kernels=None) -> float:
    """Run one notebook with papermill into ``dst``; returns seconds. Raises NotebookFailed.

    ``kernels``: a :class:`salesnb.kernels.KernelPool` to take a warm kernel from; without one,
    papermill starts (and stops) a kernel of its own."""
    from .html import skip_slow_imports
    skip_slow_imports()
    import papermill as pm
    from .kernels import kernel_files, quiet_kernel_manager, remove_kernel_files
    start = time.perf_counter()
    log_path = None
    try:
        with ExitStack() as stack:
            options = dict(parameters=parameters, kernel_name="python3", progress_bar=False,
                           request_save_on_cell_execute=False, execution_timeout=timeout, log_output=False)
            if kernels is not None:
                kernel = stack.enter_context(kernels.kernel(cwd))
                log_path = kernel.log_path
                options["km"] = kernel.km
            else:
                log_path, sockets = kernel_files(prefix=f"salesnb-kernel-{name}-")
                stack.callback(remove_kernel_files, log_path, sockets)
                # the kernel's working folder, given per client (papermill's cwd= chdirs the whole process)
                options["resources"] = {"metadata": {"path": str(cwd)}}
                options["kernel_manager_class"] = quiet_kernel_manager(log_path, sockets)
            try:
                pm.execute_notebook(str(src), str(dst), **options)
            except OSError as exc:
                if _disk_full(exc):   # not the notebook's fault: the disk is full
                    raise OSError(exc.errno, exc.strerror, exc.filename or str(dst)) from None
                raise _notebook_failure(name, exc, timeout, log_path) from None
            except Exception as exc:  # noqa: BLE001 - described below, after the kernel is let go
                failure = _notebook_failure(name, exc, timeout, log_path)
                raise failure from None
    except NotebookFailed:
        raise
    except OSError as exc:
        if _disk_full(exc):
            raise
        raise _notebook_failure(name, exc, timeout, log_path) from None
    except Exception as exc:  # noqa: BLE001 - a pooled kernel that could not start
        raise _notebook_failure(name, exc, timeout, log_path) from None
    return time.perf_counter() - start


def _notebook_failure(name: str, exc: BaseException, timeout: int | None, log_path: Path | None) -> NotebookFailed:
    """One line for what went wrong running notebook ``name``."""
    from papermill.exceptions import PapermillExecutionError
    if isinstance(exc, PapermillExecutionError):
        cell = f" (cell [{exc.exec_count}])" if exc.exec_count is not None else ""
        evalue = str(exc.evalue).strip().splitlines()
        reason = f"{exc.ename}: {evalue[0] if evalue else ''}".rstrip(": ")
        return NotebookFailed(name, f"{name}.ipynb failed{cell}: {_one_line(reason)}")
    if isinstance(exc, TimeoutError):
        return NotebookFailed(name, f"{name}.ipynb timed out: a cell ran longer than {timeout} s "
                                    f"(--timeout {timeout})", timeout=True)
    if isinstance(exc, KeyError) and type(exc).__name__ == "NoSuchKernel":  # jupyter_client.NoSuchKernel
        return NotebookFailed(name, f"{name}.ipynb: no Jupyter kernel 'python3' in this environment "
                                    "(install ipykernel: pip install ipykernel)")
    if isinstance(exc, KeyError):
        return NotebookFailed(name, f"{name}.ipynb could not run: KeyError: {_one_line(exc)}")
    # a dead kernel, an unreadable notebook …: one line
    what = "the kernel died" if type(exc).__name__ == "DeadKernelError" else type(exc).__name__
    from .kernels import log_tail
    tail = _one_line(log_tail(log_path)) if log_path is not None else ""
    return NotebookFailed(name, f"{name}.ipynb could not run ({what}): {_one_line(exc)}"
                                + (f"; kernel log: {tail}" if tail else ""))


# --------------------------------------------------------------------------- PDF

def find_chromium() -> str | None:
    env = os.environ.get("SALESNB_CHROMIUM")
    for cand in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        path = shutil.which(cand) if not os.path.isabs(cand) else (cand if os.access(cand, os.X_OK) else None)
        if path:
            return path
    return None


def require_chromium() -> str:
    path = find_chromium()
    if not path:
        raise ReportError("Chromium is needed for --pdf: apt-get install chromium",
                          hint="or run without --pdf (report.html is written either way)")
    return path


def chromium_args(chromium: str, user_data_dir: str) -> list[str]:
    """Headless Chromium with every network request blocked (the report needs none)."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND"]


def render_pdf(html_path: Path, pdf_path: Path, timeout: int = PDF_TIMEOUT) -> Path:
    chromium = require_chromium()
    from .kernels import owned_temp_folder
    profile_dir = owned_temp_folder("salesnb-chromium-")   # swept by a later run if this one is killed
    with ExitStack() as cleanup:
        cleanup.callback(_rmtree, profile_dir)
        profile = str(profile_dir)
        cmd = chromium_args(chromium, profile) + [f"--print-to-pdf={pdf_path}", "--no-pdf-header-footer",
                                                  Path(html_path).resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish {pdf_path.name} within {timeout} s.",
                              hint="run again, or without --pdf") from None
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        last = [ln for ln in (proc.stderr or "").splitlines() if ln.strip() and "dbus" not in ln][-1:]
        raise ReportError(f"Chromium could not print {pdf_path.name} (exit {proc.returncode})"
                          + (f": {_one_line(last[0])}" if last else "."), hint="run again, or without --pdf")
    return pdf_path


# --------------------------------------------------------------------------- assembly

def assemble(findings: dict, executed: dict[str, Path | None], *, by: dict | None = None,
             generated: str | None = None, bodies: dict[str, str] | None = None) -> str:
    """One report.html from the findings and the executed notebooks (None = missing notebook).

    ``bodies``: notebook HTML bodies already converted (:func:`salesnb.html.notebook_body`)."""
    from . import html as H
    sections = []
    body, toc = H.rework_headings(str(H.executive_summary(findings)), "executive-summary", drop_title=False)
    sections.append({"id": "executive-summary", "title": "Executive summary", "body": H.Markup(body),
                     "toc": toc, "note": None})
    for name in NOTEBOOKS:
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
    return H.report_page(findings, sections, generated=generated or _now(), by=by)


# --------------------------------------------------------------------------- one report

@dataclass
class _Job:
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
    from .data import source_changes
    changed = source_changes(sources)
    if changed:
        from .errors import DataError
        raise DataError(f"The source file {changed!r} changed while the report was being made, so its "
                        "numbers could mix the old and the new file; nothing was published.",
                        hint="run again once the file is no longer being written")


def findings_of(dataset, period, progress=None):
    """build_findings on a loaded dataset; an engine error caused by the source file changing
    underneath (overwritten, truncated) is said as such, not as a traceback."""
    from .findings import build_findings
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
            from .errors import DataError
            text = " ".join(str(exc).split())[:300]
            raise DataError(f"Cannot read {dataset.config.source or 'the query'} while building the findings: {text}",
                            hint="check that the source file is complete and is not being written") from None
        raise


def check_source_unchanged(job: "_Job") -> None:
    check_unchanged(job.sources)


def _disk_full(exc: BaseException) -> bool:
    import errno
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _clean_leftovers(parent: Path, folder: str) -> None:
    """Temp and aside folders of this report left by a run that was killed (we hold its lock)."""
    if not parent.is_dir():
        return
    for child in parent.iterdir():
        for prefix in (".tmp-", ".old-"):
            if child.name.startswith(prefix) and child.name[len(prefix):].rsplit("-", 1)[0] == folder:
                _rmtree(child)


def _produce(job: _Job, notebooks: dict[str, Path | None], *, pdf: bool, timeout: int | None, progress,
             workers: int, kernels=None) -> Path:
    """Lock, run the notebooks into a temp folder, assemble, publish. Returns report.html's path."""
    findings = job.findings
    with RunLock(job.parent / f"{job.folder}.lock"):
        _clean_leftovers(job.parent, job.folder)
        tmp = job.parent / f".tmp-{job.folder}-{secrets.token_hex(4)}"
        (tmp / "notebooks").mkdir(parents=True)
        with _HELD_GUARD:
            _OUR_TMP.add(tmp)
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
                _say(progress, f"{job.tag}running notebook {name}.ipynb")
                secs = execute_notebook(name, src, executed[name], params, timeout, tmp / "notebooks",
                                        kernels=kernels)
                _say(progress, f"{job.tag}notebook {name}.ipynb done in {secs:.1f} s")
                # converted now, while the other notebooks still run (the first conversion also
                # imports nbconvert: about a second); a failure here is left to assemble() to report
                try:
                    from . import html as H
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
            _say(progress, f"{job.tag}assembling report.html")
            t0 = time.perf_counter()
            page = assemble(findings.data, executed, by=job.by, bodies=bodies)
            write_atomic(tmp / "report.html", page)
            job.timings["assemble"] = time.perf_counter() - t0
            if pdf:
                _say(progress, f"{job.tag}printing report.pdf with Chromium")
                t0 = time.perf_counter()
                render_pdf(tmp / "report.html", tmp / "report.pdf")
                job.timings["pdf"] = time.perf_counter() - t0
            check_interrupted()   # nothing is published after Ctrl-C
            check_source_unchanged(job)
            publish(tmp, job.final)
            with _HELD_GUARD:
                _OUR_TMP.discard(tmp)
            _rmtree(job.parent / f"{job.folder}.failed")
        except BaseException as exc:
            if interrupted() and not isinstance(exc, KeyboardInterrupt):
                _rmtree(tmp)
                raise KeyboardInterrupt from None
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not ran_any or _disk_full(exc):
                # interrupted, or a full disk (where a kept run would only take more room)
                _rmtree(tmp)
                raise
            failed = job.parent / f"{job.folder}.failed"
            _rmtree(failed)
            os.rename(tmp, failed)
            with _HELD_GUARD:
                _OUR_TMP.discard(tmp)
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


def _config(params):
    """``params``: a params file or a loaded Config → (Config, params file path)."""
    from .config import Config, load_config
    if isinstance(params, Config):
        if not params.params_path:
            raise ReportError("This Config has no params file (params_path); the notebooks need one.",
                              hint="load it with salesnb.load_config(path)")
        return params, Path(params.params_path)
    config = load_config(params)
    return config, Path(config.params_path)


def writable_folder(folder: Path) -> Path:
    """Make ``folder`` (and its parents) and check that a file can be written there, before any
    work: a read-only or full disk, or a file where the folder should be, is one clear error."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise ReportError(f"Cannot write reports into {str(folder)!r}: it is a file, not a folder.",
                              hint="give --out a folder (it is created if missing)")
        for up in (folder, *folder.parents):
            if up.exists() and not up.is_dir():
                raise ReportError(f"Cannot write reports into {str(folder)!r}: {str(up)!r} is a file, "
                                  "not a folder.", hint="give --out a folder (it is created if missing)")
            if up.exists():
                break
        created = [up for up in (folder, *folder.parents) if not up.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=str(folder), prefix=".salesnb-probe-")
        os.close(fd)
        os.unlink(probe)
        for up in created:   # made again when a report is written: a run that fails leaves none
            try:
                up.rmdir()
            except OSError:
                break
    except OSError as exc:
        raise ReportError(f"Cannot write reports into {str(folder)!r}: {exc.strerror or exc}.",
                          hint="choose an --out folder you can write to, on a disk with free space") from None
    return folder


def _folder_for(label: str) -> str:
    return safe_folder_name(label)


def run_report(params, period=None, *, out=None, pdf: bool = False, timeout: int | None = 1800, progress=None,
               notebooks=None, workers: int = 2, warm_kernels: bool = True):
    """Produce ``OUT/<name>/<period>/report.html`` (and report.pdf with ``pdf``); returns its path.

    ``notebooks``: the folder of the notebooks (default: the kit's ``notebooks/``).
    ``workers`` notebooks run at a time, each on a kernel of a pool (:mod:`salesnb.kernels`,
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
        _remove_our_tmp()
        raise


def _run_report(params, period, *, out, pdf, timeout, progress, notebooks, workers, warm_kernels, t_start):
    from .data import load_data
    from .findings import build_findings
    from .paths import reports_dir
    config, params = _config(params)
    if pdf:
        require_chromium()
    # absolute: papermill's file writes briefly chdir the whole process (its handler's cwd, shared
    # by the notebooks running in parallel), so a relative path could resolve elsewhere
    root = Path(out).resolve() if out else reports_dir().resolve()
    writable_folder(root / safe_folder_name(config.name))
    timings = {}
    t0 = time.perf_counter()
    _say(progress, f"loading {config.source or 'the query'}")
    with load_data(config) as dataset:
        timings["load_data"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        findings = findings_of(dataset, period, progress=progress)
        timings["findings"] = time.perf_counter() - t0
        sources = dataset.source_state
    check_interrupted()
    check_unchanged(sources)
    label = findings.data["period"]["label"]
    job = _Job(config=config, params_file=Path(params), label=label, parent=root / safe_folder_name(config.name),
               folder=_folder_for(label), findings=findings, sources=sources)
    nbs = notebook_paths(notebooks, progress, job.tag)
    n_nb = sum(1 for p in nbs.values() if p is not None)
    with ExitStack() as stack:
        kernels = None
        if warm_kernels and n_nb:
            from .kernels import KernelPool
            kernels = stack.enter_context(KernelPool(min(workers, n_nb)))
        path = _produce(job, nbs, pdf=pdf, timeout=timeout, progress=progress, workers=workers, kernels=kernels)
    job.timings.update(timings)
    job.timings["total"] = time.perf_counter() - t_start
    _say(progress, f"{job.tag}done in {job.timings['total']:.1f} s (" + ", ".join(
        f"{k} {v:.1f} s" for k, v in job.timings.items() if k != "total") + ")")
    run_report.last_timings = dict(job.timings)
    return path


run_report.last_timings = {}


# --------------------------------------------------------------------------- batch

@dataclass
class BatchResult:
    index_path: Path
    reports: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)


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

    from .data import DUCKDB_SETTINGS, Dataset
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


def _index_rows(jobs: list[_Job], name_dir: Path, by: str | None) -> tuple[list, list, list, bool]:
    from urllib.parse import quote

    from . import html as H
    rows, labels, series_map = [], [], {}
    any_lfl = False
    for job in jobs:
        value = job.by["value"] if job.by else None
        if job.label not in labels:
            labels.append(job.label)
        if job.path is not None:
            f = job.findings.data
            rel = job.final.relative_to(name_dir).as_posix()
            any_lfl = any_lfl or bool((f.get("comparison") or {}).get("like_for_like"))
            pdf_rel = rel + "/report.pdf" if (job.final / "report.pdf").exists() else None
            rows.append({"ok": True, "value": value, "period": job.label,
                         "partial": bool((f.get("period") or {}).get("partial")),
                         "kpis": H.index_kpis(f), "href": quote(rel + "/report.html"),
                         "pdf_href": quote(pdf_rel) if pdf_rel else None})
            series_map.setdefault(value, {})[job.label] = (f.get("revenue") or {}).get("total")
        else:
            failed_href = None
            if job.failed_dir is not None and job.failed_dir.exists():
                failed_href = quote(job.failed_dir.relative_to(name_dir).as_posix() + "/notebooks/")
            rows.append({"ok": False, "value": value, "period": job.label, "reason": job.error or "failed",
                         "failed_href": failed_href})
            series_map.setdefault(value, {})
    series = [(v if v is not None else "", [series_map[v].get(lb) for lb in labels]) for v in series_map]
    if by:
        series = [(name if name else "(missing)", vals) for name, vals in series]
    # many values: chart the ten largest
    if len(series) > 10:
        series = sorted(series, key=lambda s: -sum(x for x in s[1] if x is not None))[:10]
    return rows, labels, series, any_lfl


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
    from .paths import reports_dir
    t_start = time.perf_counter()
    clear_interrupted()
    config, params = _config(params)
    if pdf:
        require_chromium()
    period_list = expand_range(periods, config.fiscal_year_start)
    if by is not None:
        if by not in config.dimensions:
            from .config import DIMENSIONS
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
    all_jobs: list[_Job] = []
    nbs = notebook_paths(notebooks, progress, "")
    n_nb = sum(1 for p in nbs.values() if p is not None)
    jobs = max(1, int(jobs or 1))
    # no more kernels than cores: on 2 cores a third kernel only contends with the next report's
    # findings (4 quarters at 10M lines: 35.5 s with two kernels, 37.5-41.1 s with three)
    per_report = workers if workers else max(1, min(3, n_nb, os.cpu_count() or 1))

    def produce(job: _Job):
        try:
            _produce(job, nbs, pdf=pdf, timeout=timeout, progress=progress, workers=per_report,
                     kernels=kernels)
            _say(progress, f"{job.tag}report: {job.path}")
        except SalesnbError as exc:
            job.error = error_line(exc)
            _say(progress, f"{job.tag}FAILED: {job.error}")
        except Exception as exc:  # noqa: BLE001 - one report's bug must not stop the others
            job.error = error_line(exc)
            _say(progress, f"{job.tag}FAILED: {job.error}")

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
            _remove_our_tmp()
        raise
    finally:
        if kernels is not None:
            kernels.close()
    timings["reports"] = time.perf_counter() - t0
    if interrupted():
        _remove_our_tmp()
        raise KeyboardInterrupt
    return _batch_index(config, period_list, by, name_dir, all_jobs, timings, t_start, progress)


def _batch_findings(config, params, period_list, by, name_dir, timings, all_jobs, progress, submit) -> None:
    """Load once, build each report's findings in turn and hand each job to ``submit``."""
    from .data import load_data
    t0 = time.perf_counter()
    _say(progress, f"loading {config.source or 'the query'}")
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
                    job = _Job(config=sub.config, params_file=Path(params), label=p.label, parent=parent,
                               folder=_folder_for(p.label), by=job_by, sources=dataset.source_state)
                    _say(progress, f"{job.tag}building findings")
                    check_interrupted()
                    try:
                        job.findings = findings_of(sub, p.label)
                        if job_by:
                            job.findings.data["scope"] = dict(job_by)
                    except SalesnbError as exc:
                        job.error = error_line(exc)
                        _say(progress, f"{job.tag}FAILED: {job.error}")
                    all_jobs.append(job)
                    if job.findings is not None:
                        submit(job)
            finally:
                if sub is not dataset:
                    sub.close()
        timings["findings"] = time.perf_counter() - t0


def _batch_index(config, period_list, by, name_dir, all_jobs, timings, t_start, progress) -> BatchResult:
    """Write ``index.html`` over the batch's reports; the batch's result."""
    from . import html as H
    rows, labels, series, any_lfl = _index_rows(all_jobs, name_dir, by)
    currency = config.currency
    chart = H.revenue_chart_svg(labels, series, currency)
    title = config.title or config.name
    page = H.index_page(title=title, periods=f"{period_list[0].label} … {period_list[-1].label}"
                        if len(period_list) > 1 else period_list[0].label, by=by, rows=rows, chart=chart,
                        generated=_now(), any_like_for_like=any_lfl)
    index_path = write_atomic(name_dir / "index.html", page)
    failures = []
    for job in all_jobs:
        if job.error:
            failures.append(f"{job.tag.strip()[1:-1]}: {job.error}")
    timings["total"] = time.perf_counter() - t_start
    _say(progress, f"batch done in {timings['total']:.1f} s: {len(all_jobs) - len(failures)} reports, "
                   f"{len(failures)} failed; index: {index_path}")
    return BatchResult(index_path=index_path, reports=[j.path for j in all_jobs if j.path is not None],
                       failures=failures, timings=timings)


__all__ = ["run_report", "run_batch", "BatchResult", "write_atomic", "assemble", "render_pdf", "RunLock",
           "publish", "find_chromium", "chromium_args"]
