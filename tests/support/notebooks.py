"""Throwaway notebooks and a tiny data set for the report, kernel and reliability tests."""
from __future__ import annotations

from pathlib import Path

import nbformat


def throwaway_notebook(path: Path, *code_cells: str, markdown: str = "## Revenue\n\nA throwaway notebook.") -> Path:
    """Write a notebook with a tagged parameters cell, one Markdown cell and ``code_cells``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("params_file = None\nperiod = None\nrun_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in code_cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def tiny_params(folder: Path) -> Path:
    """A small clean data set (a year of orders) for the tests that do not need real data."""
    rows = ["order,date,cust,amount"]
    for i in range(1, 241):
        rows.append(f"o{i},2023-{1 + (i - 1) % 12:02d}-{1 + (i * 7) % 27:02d},c{i % 23},{10 + (i * 37) % 300}.50")
    (folder / "tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    params = folder / "tiny.yaml"
    params.write_text("name: tiny\nsource: tiny.csv\nperiod: 2023Q4\n"
                      "columns: {order_id: order, order_date: date, customer_id: cust, revenue: amount}\n",
                      encoding="utf-8")
    return params


def file_tree(folder: Path) -> dict:
    """{relative path: bytes} of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
