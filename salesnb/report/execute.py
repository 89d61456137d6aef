"""Running the report's notebooks with papermill (on a warm kernel of :mod:`salesnb.report.kernels`
when given one); a failure becomes one line naming the notebook and cell."""
from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from .messages import one_line, say
from .publish import disk_full


NOTEBOOKS = ("revenue", "customers", "recommendations")


NOTEBOOK_SECTIONS = {"revenue": "Revenue", "customers": "Customers", "recommendations": "Recommendations",
                     "pipeline": "Pipeline"}
#: the notebooks of a ``kind: pipeline`` report (SPEC 10)
PIPELINE_NOTEBOOKS = ("pipeline",)


def notebooks_for(kind: str | None) -> tuple[str, ...]:
    """The notebooks of a report on params of this kind, in report order."""
    return PIPELINE_NOTEBOOKS if kind == "pipeline" else NOTEBOOKS


def notebook_paths(folder=None, progress=None, label: str = "", kind: str | None = None) -> dict[str, Path | None]:
    """The kit's notebooks (of params of ``kind``) in report order; a missing one maps to None (and is logged)."""
    from ..paths import notebooks_dir
    folder = Path(folder) if folder else notebooks_dir()
    out: dict[str, Path | None] = {}
    for name in notebooks_for(kind):
        path = folder / f"{name}.ipynb"
        out[name] = path if path.is_file() else None
        if out[name] is None:
            say(progress, f"{label}notebook {path} not found: the {NOTEBOOK_SECTIONS[name]} section says so, "
                          "the rest of the report goes on")
    return out


class NotebookFailed(Exception):
    def __init__(self, name: str, reason: str, timeout: bool = False):
        super().__init__(reason)
        self.name, self.reason, self.timeout = name, reason, timeout


def execute_notebook(name: str, src: Path, dst: Path, parameters: dict, timeout: int | None, cwd: Path,
                     kernels=None) -> float:
    """Run one notebook with papermill into ``dst``; returns seconds. Raises NotebookFailed.

    ``kernels``: a :class:`salesnb.report.kernels.KernelPool` to take a warm kernel from; without one,
    papermill starts (and stops) a kernel of its own."""
    from ..render.html import skip_slow_imports
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
                if disk_full(exc):   # not the notebook's fault: the disk is full
                    raise OSError(exc.errno, exc.strerror, exc.filename or str(dst)) from None
                raise _notebook_failure(name, exc, timeout, log_path) from None
            except Exception as exc:  # noqa: BLE001 - described below, after the kernel is let go
                failure = _notebook_failure(name, exc, timeout, log_path)
                raise failure from None
    except NotebookFailed:
        raise
    except OSError as exc:
        if disk_full(exc):
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
        return NotebookFailed(name, f"{name}.ipynb failed{cell}: {one_line(reason)}")
    if isinstance(exc, TimeoutError):
        return NotebookFailed(name, f"{name}.ipynb timed out: a cell ran longer than {timeout} s "
                                    f"(--timeout {timeout})", timeout=True)
    if isinstance(exc, KeyError) and type(exc).__name__ == "NoSuchKernel":  # jupyter_client.NoSuchKernel
        return NotebookFailed(name, f"{name}.ipynb: no Jupyter kernel 'python3' in this environment "
                                    "(install ipykernel: pip install ipykernel)")
    if isinstance(exc, KeyError):
        return NotebookFailed(name, f"{name}.ipynb could not run: KeyError: {one_line(exc)}")
    # a dead kernel, an unreadable notebook …: one line
    what = "the kernel died" if type(exc).__name__ == "DeadKernelError" else type(exc).__name__
    from .kernels import log_tail
    tail = one_line(log_tail(log_path)) if log_path is not None else ""
    return NotebookFailed(name, f"{name}.ipynb could not run ({what}): {one_line(exc)}"
                                + (f"; kernel log: {tail}" if tail else ""))
