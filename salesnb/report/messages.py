"""Progress lines and one-line error messages of a run (shared by its threads)."""
from __future__ import annotations

import datetime as dt
import re
import threading

from ..errors import SalesnbError, interrupted


_SAY_LOCK = threading.Lock()


def say(progress, message: str) -> None:
    """Report progress; calls are serialized (notebooks and reports run in threads)."""
    if progress and not interrupted():   # after Ctrl-C, "salesnb: interrupted" is the last word
        with _SAY_LOCK:
            progress(message)


def one_line(text, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def error_line(exc: BaseException) -> str:
    """One line for a user-facing error (message and hint)."""
    if isinstance(exc, SalesnbError):
        text = exc.message + (f" (what to do: {exc.hint})" if exc.hint else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return one_line(text, 500)


def now_text() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
