"""The one formatting layer: tables, chart labels and sentences all format numbers here.

Metrics never format; these functions never compute anything but presentation.
``None`` (a finding that does not exist) renders as an em dash "—".
"""
from __future__ import annotations

import html
import math

MISSING = "—"

_SYMBOLS = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "CAD": "CA$",
    "AUD": "A$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ", "DKK": "DKK ", "BRL": "R$",
    "MXN": "MX$", "KRW": "₩", "ZAR": "R ",
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def currency_symbol(currency: str = "USD") -> str:
    return _SYMBOLS.get(currency.upper(), currency.upper() + " ")


def fmt_money(value, currency: str = "USD", *, compact: bool = False, decimals: int | None = None) -> str:
    """``1234.5`` → ``$1,234.50``; compact: ``$1.2M``. Negative → ``-$1,234.50``."""
    if _missing(value):
        return MISSING
    value = float(value)
    sign = "-" if value < 0 else ""
    amount = abs(value)
    symbol = currency_symbol(currency)
    if compact:
        for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
            if amount >= limit:
                return f"{sign}{symbol}{amount / limit:,.{1 if decimals is None else decimals}f}{suffix}"
        return f"{sign}{symbol}{amount:,.0f}"
    places = 2 if decimals is None else decimals
    return f"{sign}{symbol}{amount:,.{places}f}"


def fmt_pct(value, decimals: int = 1, *, signed: bool = False) -> str:
    """A value already in percent: ``12.345`` → ``12.3%``; signed: ``+12.3%``."""
    if _missing(value):
        return MISSING
    text = f"{float(value):{'+' if signed else ''},.{decimals}f}%"
    return text.replace("+-", "-")


def fmt_count(value) -> str:
    """``12345`` → ``12,345``; non-integers keep one decimal."""
    if _missing(value):
        return MISSING
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def fmt_number(value, decimals: int = 2) -> str:
    if _missing(value):
        return MISSING
    return f"{float(value):,.{decimals}f}"


def fmt_delta(value, kind: str = "pct", currency: str = "USD", decimals: int = 1) -> str:
    """A change with its sign: ``+12.3%``, ``-$1,200.00``, ``+35``."""
    if _missing(value):
        return MISSING
    if kind == "pct":
        return fmt_pct(value, decimals, signed=True)
    if kind == "money":
        text = fmt_money(value, currency)
        return text if text.startswith("-") else "+" + text
    text = fmt_count(value)
    return text if text.startswith("-") else "+" + text


def direction(value, flat_band: float = 0.5) -> str:
    """Word for a % change: ``up``, ``down`` or ``flat`` (within ±flat_band points)."""
    if _missing(value):
        return "unchanged"
    if value > flat_band:
        return "up"
    if value < -flat_band:
        return "down"
    return "flat"


def esc(text) -> str:
    """Escape a data string for Markdown that is rendered to HTML: Markdown specials first
    (so a value cannot become a link, emphasis, math or a table break), then HTML markup."""
    if text is None:
        return ""
    out = str(text).replace("\\", "\\\\")
    for ch in ("`", "*", "_", "[", "]", "|", "#", "$"):
        out = out.replace(ch, "\\" + ch)
    return html.escape(out, quote=False)


def esc_html(text) -> str:
    """Escape for raw HTML (no Markdown)."""
    return "" if text is None else html.escape(str(text), quote=True)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def fmt_month(label) -> str:
    """``"2024-07"`` → ``"July 2024"`` (a month label is a name, not a figure)."""
    if not label:
        return MISSING
    text = str(label)
    try:
        year, month = int(text[:4]), int(text[5:7])
        return f"{_MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return text
