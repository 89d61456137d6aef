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


# --------------------------------------------------------------------------- "Did you mean"

#: how alike (difflib's ratio, 0-1) a name must be to a misspelt word to be suggested
SUGGEST_CUTOFF = 0.6


def closest_name(word, choices) -> str | None:
    """The one of ``choices`` a user most likely meant by ``word``, or None: the same name in
    another case first, then a name holding ``word`` (3 characters or more: "date" → "Order Date"),
    then the most alike by difflib (case ignored) at ``SUGGEST_CUTOFF`` or above."""
    import difflib
    word = str(word).strip()
    names = [str(c) for c in choices]
    if not word or len(word) > 100:   # difflib is quadratic: a pasted paragraph gets no suggestion
        return None
    folded: dict[str, str] = {}
    for name in names:
        folded.setdefault(name.strip().casefold(), name)
    key = word.casefold()
    if key in folded:
        return folded[key]
    if len(word) >= 3:
        holding = [name for name in names if key in name.casefold()]
        if holding:
            return holding[0]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=SUGGEST_CUTOFF)
    return folded[match[0]] if match else None


def did_you_mean(word, choices, show=None) -> str:
    """The text " Did you mean 'x'?" for the closest of ``choices`` (``closest_name``), or "".
    ``show`` turns the name into the text shown (a path's full form), ``repr`` by default."""
    name = closest_name(word, choices)
    if name is None:
        return ""
    return f" Did you mean {(show or repr)(name)}?"


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
