"""The benchmark's warehouse shape (``salesnb sample --shape typed-nonatomic``: integer ids, DATE
dates, a few orders over two days or two customers) written small for a test, with its params."""
from __future__ import annotations

from pathlib import Path

from salesnb.data.sample_shapes import write_shape

#: the shape's columns, each mapped to the role of the same name
COLUMNS = ["order_id", "order_date", "customer_id", "revenue", "quantity", "unit_price", "region", "segment",
           "category", "sales_rep"]


def write_params(folder: Path, stem: str) -> Path:
    """``folder/<stem>.yaml``: params mapping every column of ``<stem>.parquet`` to its role."""
    params = folder / f"{stem}.yaml"
    params.write_text(f"name: t\nsource: {stem}.parquet\ncolumns:\n" + "".join(f"  {c}: {c}\n" for c in COLUMNS),
                      encoding="utf-8")
    return params


def typed_nonatomic(folder: Path, stem: str, rows: int, seed: int) -> Path:
    """``folder/<stem>.parquet`` of ``rows`` lines of the shape, and its params (returned)."""
    write_shape(folder / f"{stem}.parquet", "typed-nonatomic", rows=rows, seed=seed)
    return write_params(folder, stem)
