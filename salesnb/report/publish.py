"""Publishing a finished run: atomic writes and folder swaps, the per-period run lock, the
run folders this process owns (removed after Ctrl-C), and the output folder checked before any work."""
from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ..errors import ReportError


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


def rmtree(path: Path) -> None:
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
            rmtree(tmp)  # now holds the old report
            return
        aside = final.parent / f".old-{final.name}-{secrets.token_hex(4)}"
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(aside, final)
            raise
        rmtree(aside)
    else:
        os.rename(tmp, final)


_HELD: set[str] = set()


_OUR_TMP: set[Path] = set()   # this process's run folders, removed after Ctrl-C whatever a thread did


def remove_our_tmp() -> None:
    """After Ctrl-C: remove this process's run folders and locks, whatever its threads did."""
    with _HELD_GUARD:
        folders = list(_OUR_TMP)
        _OUR_TMP.clear()
        locks = list(_HELD)
        _HELD.clear()
    for folder in folders:
        rmtree(folder)
    for lock in locks:
        try:
            os.unlink(lock)
        except OSError:
            pass


_HELD_GUARD = threading.Lock()


def own_tmp(folder: Path) -> None:
    """Note a run folder of this process (removed by :func:`remove_our_tmp` after Ctrl-C)."""
    with _HELD_GUARD:
        _OUR_TMP.add(folder)


def disown_tmp(folder: Path) -> None:
    """The run folder was published or kept: no longer this process's to remove."""
    with _HELD_GUARD:
        _OUR_TMP.discard(folder)


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


# Not filelock: it is not installed with jupyter here, and an flock lock would not show the pid that holds
# it nor refuse a lock file that names a live process (tests/report/test_run.py: a live lock refuses a second writer)
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


def disk_full(exc: BaseException) -> bool:
    import errno
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def clean_leftovers(parent: Path, folder: str) -> None:
    """Temp and aside folders of this report left by a run that was killed (we hold its lock)."""
    if not parent.is_dir():
        return
    for child in parent.iterdir():
        for prefix in (".tmp-", ".old-"):
            if child.name.startswith(prefix) and child.name[len(prefix):].rsplit("-", 1)[0] == folder:
                rmtree(child)


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
