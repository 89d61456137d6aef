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


class BatchError(SalesnbError):
    """A batch finished with some reports failed."""

    exit_code = 3
