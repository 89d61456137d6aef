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


def fmt_points(value, decimals: int = 1, *, signed: bool = True) -> str:
    """A change of a percentage in percentage points, signed: ``-3.94`` → ``-3.9 pts`` (``signed=False``
    for a size the words give the direction of: ``3.9 pts``)."""
    if _missing(value):
        return MISSING
    return fmt_pct(value, decimals, signed=signed).removesuffix("%") + " pts"


def direction(value, flat_band: float = 0.5) -> str:
    """Word for a % change: ``up``, ``down`` or ``flat`` (within ±flat_band points)."""
    if _missing(value):
        return "unchanged"
    if value > flat_band:
        return "up"
    if value < -flat_band:
        return "down"
    return "flat"


#: In a notebook front end (JupyterLab 4, Notebook 7) MathJax reads ``$…$``, ``\\(…\\)``, ``$$…$$`` and
#: ``\\begin{…}`` as maths, in Markdown *and* HTML outputs, and ``\\$`` does not stop it (JupyterLab
#: strips the backslash before MathJax runs). Markdown also turns bare ``http://…``, ``www.…`` and
#: e-mail addresses into links. So data text is made inert here, the one place:
#:
#: * Markdown (:func:`esc`): every ``$`` and ``\\`` becomes a character reference in its own ``<span>``
#:   (MathJax never pairs delimiters across elements, and the Markdown math pre-pass never sees a
#:   ``$``); ``://``, ``www.`` and ``@`` are broken with character references, so no autolink forms;
#: * HTML (:func:`no_math`): the fragment's top element carries MathJax's ignore classes
#:   (``mathjax_ignore`` for MathJax 3, ``tex2jax_ignore`` for MathJax 2).
#:
#: Both render as the plain text in report.html, the PDF, JupyterLab, Notebook 7 and VS Code.
NO_MATH_CLASSES = "tex2jax_ignore mathjax_ignore"
_MD_SPECIALS = ("`", "*", "_", "[", "]", "|", "#", "~", "!")
_MD_INERT = (("$", "<span>&#36;</span>"), ("\x00", "<span>&#92;</span>"), ("://", "&#58;//"),
             ("www.", "www&#46;"), ("WWW.", "WWW&#46;"), ("@", "&#64;"))


def esc(text) -> str:
    """Escape a data string for Markdown that is rendered to HTML: it shows as the same plain text
    wherever the Markdown is rendered -- never a link, emphasis, maths, a table break or markup."""
    if text is None:
        return ""
    out = str(text).replace("\x00", "").replace("\\", "\x00")   # a data backslash is made inert below
    for ch in _MD_SPECIALS:
        out = out.replace(ch, "\\" + ch)
    out = html.escape(out, quote=False)
    for raw, inert in _MD_INERT:
        out = out.replace(raw, inert)
    return out


def esc_html(text) -> str:
    """Escape for raw HTML (no Markdown)."""
    return "" if text is None else html.escape(str(text), quote=True)


def no_math(fragment: str, tag: str = "div") -> str:
    """An HTML fragment for a notebook output, wrapped so that MathJax leaves its text alone."""
    return f'<{tag} class="{NO_MATH_CLASSES}">{fragment}</{tag}>'


def html_text(text, tag: str = "p") -> str:
    """One data string as an HTML paragraph a notebook shows as plain text (escaped, no maths)."""
    return f'<{tag} class="salesnb-text {NO_MATH_CLASSES}">{esc_html(text)}</{tag}>'


def html_list(items) -> str:
    """Sentences as an HTML bullet list a notebook shows as plain text ("" when there are none)."""
    lis = "".join(f"<li>{esc_html(t)}</li>" for t in items if t)
    return f'<ul class="salesnb-text {NO_MATH_CLASSES}">{lis}</ul>' if lis else ""


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
