"""Error types that carry user-facing text.

Every failure a user can cause (bad params, unreadable data, a period without data) is a
``SalesnbError``: its message names the file, key, column or period and says what to do.
The CLI prints the message and exits with ``exit_code``; tracebacks are for bugs only.
"""
from __future__ import annotations


class SalesnbError(Exception):
    """Base of every error the user can cause and fix."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, **context):
        self.message = message
        self.hint = hint
        self.context = context
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  What to do: {self.hint}"
        return text


class ConfigError(SalesnbError):
    """The params file is missing, malformed or has a bad value."""


class DataError(SalesnbError):
    """The data source cannot be read or mapped."""


class ColumnError(DataError):
    """A column named in ``columns:`` is not in the source."""


class NoDataError(DataError):
    """No usable row at all, or none in the requested period."""


class PeriodError(SalesnbError):
    """A period string cannot be parsed."""


class ReportError(SalesnbError):
    """A report could not be produced (notebook failure, timeout, missing browser)."""


# --------------------------------------------------------------------------- Ctrl-C

import threading as _threading

_INTERRUPTED = _threading.Event()


def mark_interrupted() -> None:
    """Note that the user interrupted the run (Ctrl-C): whatever error follows is the interrupt's
    doing (DuckDB turns it into "Query interrupted", a notebook's kernel into a failed cell), and
    nothing may be published from here on."""
    _INTERRUPTED.set()


def interrupted() -> bool:
    return _INTERRUPTED.is_set()


def clear_interrupted() -> None:
    _INTERRUPTED.clear()


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if the run was interrupted (a worker thread, before it publishes)."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def os_error_line(exc: OSError, verb: str = "write") -> str:
    """One line for an operating-system error: the path and the cause."""
    import errno
    path = exc.filename if exc.filename is not None else None
    cause = exc.strerror or str(exc) or type(exc).__name__
    text = f"Cannot {verb} {str(path)!r}: {cause}." if path else f"{cause}."
    if exc.errno == errno.ENOSPC:
        text += "\n  What to do: free some disk space (or choose another --out / -o), then run again"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        text += "\n  What to do: choose a folder you can write to (--out / -o)"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        text += "\n  What to do: a file is in the way of that folder: choose another --out / -o"
    return text
