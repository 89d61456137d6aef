"""Helpers for tests that hold rendered text to the findings: every number in a text must be
a finding's value formatted by salesnb.fmt."""
from __future__ import annotations

import re

from salesnb.fmt import currency_symbol, fmt_count, fmt_money, fmt_number, fmt_pct

NUMBER = re.compile(r"(?<![\w.])[-+]?[$£€¥]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")
DATE_LIKE = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b|\b\d{4}Q[1-4]\b|\bFY\d{4}\b")
MONTH_NAME = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b")


def numeric_leaves(obj, out=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        for v in obj.values():
            numeric_leaves(v, out)
    elif isinstance(obj, list):
        for v in obj:
            numeric_leaves(v, out)
    elif isinstance(obj, bool):
        pass
    elif isinstance(obj, (int, float)):
        out.append(float(obj))
    return out


def renderings(values, currency: str) -> set[str]:
    """Every way salesnb.fmt could show these values (money, percent, count, magnitudes)."""
    shown = set()
    for v in values:
        for text in (fmt_money(v, currency), fmt_money(abs(v), currency), fmt_pct(v), fmt_pct(abs(v)),
                     fmt_pct(v, signed=True), fmt_pct(v, 0), fmt_count(v), fmt_count(abs(v)),
                     fmt_money(v, currency, compact=True), fmt_money(abs(v), currency, compact=True),
                     fmt_number(v, 0), fmt_number(v, 2), f"{v:+.1f}", f"{abs(v):.1f}"):
            shown.add(text.replace(currency_symbol(currency).strip(), "").lstrip("+").replace("-", ""))
    return shown


def unexplained_numbers(text: str, findings: dict, extra_values=()) -> list[str]:
    """Numbers in ``text`` that no finding (or extra value) formats to."""
    text = MONTH_NAME.sub("", DATE_LIKE.sub("", text))
    # names in the data (e.g. product codes) are not figures
    for name in _names(findings):
        if any(ch.isdigit() for ch in name):
            text = text.replace(name, "")
    currency = findings.get("currency", "USD")
    allowed = renderings(numeric_leaves(findings) + list(extra_values), currency)
    bad = []
    for token in NUMBER.findall(text):
        core = token.replace(currency_symbol(currency).strip(), "").lstrip("+").replace("-", "")
        for sym in "$£€¥":
            core = core.replace(sym, "")
        if core in allowed:
            continue
        bad.append(token)
    return bad


def _names(obj, out=None):
    out = set() if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("value", "sales_rep", "segment", "owner", "month", "label", "quarter") and isinstance(v, str):
                out.add(v)
            _names(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _names(v, out)
    return out
