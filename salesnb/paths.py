"""Paths and locations in one place (cookiecutter-data-science style).

The kit's own sample lives at ``data/sample.parquet`` (generated, never committed) and its
params file at ``params/sample.yaml``; reports go to ``reports/<name>/<period>/``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout's root: ``$SALESNB_HOME``, else the folder above the package that holds
    ``params/``, else the current directory."""
    env = os.environ.get("SALESNB_HOME")
    if env:
        return Path(env).resolve()
    candidate = PACKAGE_DIR.parent
    if (candidate / "params").is_dir():
        return candidate
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return here


def sample_params() -> Path:
    return project_root() / "params" / "sample.yaml"


def sample_data() -> Path:
    return project_root() / "data" / "sample.parquet"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def reports_dir() -> Path:
    return project_root() / "reports"



def params_candidates(path) -> list[Path]:
    """Where a params path is looked for, in order: as given when absolute; else relative to the
    working folder, then to the project root (a kernel runs in ``notebooks/``, a shell in the root)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return [p]
    out = [Path.cwd() / p, project_root() / p]
    return [c for i, c in enumerate(out) if os.path.normpath(c) not in map(os.path.normpath, out[:i])]


def find_params(path) -> Path:
    """The params file ``path`` names (see :func:`params_candidates`): the first place it exists,
    or — when none — a :class:`~salesnb.errors.ConfigError` that lists every place looked."""
    from .errors import ConfigError
    candidates = params_candidates(path)
    for c in candidates:
        if c.exists():
            return c
    where = " and ".join(str(c) for c in candidates)
    raise ConfigError(f"Params file {str(path)!r} does not exist (looked for {where}).",
                      hint="check the path, or create one with: salesnb init DATAFILE")


# --------------------------------------------------------------------------- temp folders

TEMP_PREFIX = "salesnb-"        # every temp folder of a run (DuckDB's, Chromium's, the kernels')
OWNER_FILE = "owner.pid"       # in each: the process that made it, so a later run can tell it is stale
UNOWNED_AGE = 24 * 3600        # seconds before a folder without an owner file counts as stale


def owned_temp_folder(prefix: str = TEMP_PREFIX) -> Path:
    """A private (0700) folder in the temp folder that names this process as its owner: removed
    by :func:`sweep_temp_folders` once that process has gone (killed before it could clean up).
    Sweeps the folders of dead processes first."""
    sweep_temp_folders()
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    (folder / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    return folder


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process: it runs
        return True
    return True


def folder_owner(folder: Path) -> int | None:
    """The process id a socket folder names as its owner; None when it names none (yet).
    Raises ValueError for an owner file that holds no number."""
    try:
        return int((Path(folder) / OWNER_FILE).read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None


KERNEL_PID_FILE = "kernel.pid"   # in a kernel's folder: its process, killed by the sweep if orphaned


def _stop_orphan_kernel(folder: Path) -> None:
    """Kill the kernel a stale folder names, if that process still runs this folder's kernel."""
    import signal
    try:
        pid = int((folder / KERNEL_PID_FILE).read_text(encoding="ascii").strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError):
        return
    if str(folder) not in cmdline:   # gone, or the pid now belongs to another process
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    for _ in range(50):   # until it is gone (it cannot write anything once killed, but be sure)
        if not Path(f"/proc/{pid}").exists() or "Z" in _proc_state(pid):
            break
        time.sleep(0.02)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def sweep_temp_folders(root: Path | None = None, unowned_age: float = UNOWNED_AGE) -> list[Path]:
    """Remove the temp folders (kernel sockets, DuckDB's spill folder, Chromium's profile) of
    salesnb processes that no longer run; return them.

    A pool shuts its kernels down and removes their folders, except when the process is killed
    (SIGKILL, out of memory, power off): then its folders stay in the temp folder. Each folder
    names the process that made it (``owner.pid``); a folder whose owner has gone is removed
    when the next kernel starts. A folder without that file (made a moment ago and not written
    yet, or by an older salesnb) is removed only once it is ``unowned_age`` seconds old."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    now = time.time()
    for folder in root.glob(TEMP_PREFIX + "*"):
        try:
            if not folder.is_dir() or folder.is_symlink():
                continue
            owner = folder_owner(folder)
            stale = (now - folder.stat().st_mtime > unowned_age) if owner is None else not _process_running(owner)
        except (OSError, ValueError):   # unreadable or half-written: not ours to judge
            continue
        if stale:
            _stop_orphan_kernel(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
