"""Order and customer ids as the metrics compare and show them.

The canonical table keeps an integer id column as the integers the source holds (SPEC 2.3):
grouping, joining and counting millions of integers is cheaper than of their text, and a view
over a Parquet file would otherwise cast every id to text in every query. Two things stay as they
are for text ids, so that the findings do not depend on how the source typed its ids:

* ties are broken by the id's *text* (``"10"`` before ``"9"``), by :func:`id_order`;
* ids shown in findings and tables are text, by :func:`id_text`.
"""
from __future__ import annotations


def id_order(col):
    """The key ties are broken by: the id's text (an integer id cast; only the rows being ranked
    pay for it)."""
    return col.cast("string") if col.type().is_integer() else col


def id_text(value) -> str | None:
    """An id read back from the engine as the text a report shows (None stays None)."""
    if value is None:
        return None
    if hasattr(value, "item"):      # a numpy scalar
        value = value.item()
    return str(value)
