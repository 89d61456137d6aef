"""The bad-input corpus in tests/bad_inputs/: ``cases.yaml`` says what each params file there must produce.

Small text files are committed there; binary or awkward ones are made at run time by
:func:`prepare`, in a copy of that folder (so the tests never write into the repository).
"""
from __future__ import annotations

import gzip
import random
import shutil
from pathlib import Path

import yaml

from support.paths import TESTS

HERE = TESTS / "bad_inputs"
OK_ROWS = "order,date,cust,amount\n1,2024-01-05,a,10\n2,2024-01-20,b,25.5\n"


def cases() -> list[dict]:
    """Each case: ``id`` (the params file's stem), ``exit`` (0 or 1), and message fragments
    expected in ``stderr`` (exit 1) or in the validate report on ``stdout`` (exit 0)."""
    return yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


def prepare(target: Path) -> Path:
    """Copy the corpus to ``target`` and generate the files that are not committed."""
    shutil.copytree(HERE, target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "cases.yaml"),
                    dirs_exist_ok=True)
    rng = random.Random(8)
    (target / "garbage.csv").write_bytes(bytes([0, 1, 2, 0xFF]) + rng.randbytes(4000))
    (target / "empty.csv").write_bytes(b"")
    (target / "a_folder").mkdir(exist_ok=True)
    (target / "a_folder" / "x.csv").write_text(OK_ROWS)
    (target / "latin1.csv").write_bytes(
        "order,date,cust,amount\n1,2024-01-05,Müller,10\n2,2024-01-20,Françoise,5\n".encode("latin-1"))
    (target / "mostly_utf8.csv").write_bytes(
        "order,date,cust,amount\n1,2024-01-05,Müller,10\n2,2024-01-06,José,5\n".encode("utf-8")
        + "3,2024-01-07,François,5\n".encode("latin-1"))
    (target / "broken.csv.gz").write_bytes(gzip.compress(OK_ROWS.encode() * 50)[:60])
    (target / "utf16.csv").write_bytes(OK_ROWS.encode("utf-16"))
    (target / "not_really.xlsx").write_bytes(b"PK\x03\x04" + rng.randbytes(2000))
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    for row in OK_ROWS.splitlines():
        wb.active.append(row.split(","))
    wb.save(target / "book.xlsx")
    import duckdb
    db = duckdb.connect(str(target / "store.duckdb"))
    db.execute("CREATE TABLE orders AS SELECT 1 AS \"order\", DATE '2024-01-05' AS date, 'a' AS cust, 10.0 AS amount")
    db.close()
    (target / "mixed").mkdir(exist_ok=True)
    (target / "mixed" / "a.csv").write_text(OK_ROWS)
    shutil.copy(target / "store.duckdb", target / "mixed" / "b.duckdb")
    rows = [f"o{i},2024-{1 + i % 12:02d}-{1 + i % 28:02d},c{i % 40},{10 + i % 50}" for i in range(500)]
    (target / "date_outlier.csv").write_text("order,date,cust,amount\n" + "\n".join(rows) + "\no0,1900-01-01,c1,20\n")
    rows = [f"o{i},9999-{10 + i % 3:02d}-{1 + i % 28:02d},c{i % 5},{10 + i}" for i in range(30)]
    (target / "dates_9999.csv").write_text("order,date,cust,amount\n" + "\n".join(rows) + "\n")
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"order": ["1", "2"], "date": ["2024-01-05", "2024-01-20"], "cust": ["a", "b"],
                             "amount": [10.0, 25.5]}), target / "whole.parquet")
    data = (target / "whole.parquet").read_bytes()
    (target / "truncated.parquet").write_bytes(data[: len(data) // 2])
    _misleading_files(target)
    _hostile_params(target)
    return target


def _hostile_params(target: Path) -> None:
    """Params files that would exhaust the machine if read naively (issue 22, item 4)."""
    head = "name: hostile\nsource: ok.csv\ncolumns: {order_id: order, order_date: date, revenue: amount, segment: cust}\n"
    laughs = head + "filters:\n  include:\n    segment:\n      - &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
    for i in range(1, 10):
        laughs += f"      - &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    (target / "params_laughs.yaml").write_text(laughs)
    # below the alias limit, but far too big to print whole in the error
    laughs4 = head + "filters:\n  include:\n    segment:\n      - &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
    for i in range(1, 5):
        laughs4 += f"      - &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n"
    (target / "params_laughs_small.yaml").write_text(laughs4)
    (target / "params_deep.yaml").write_text(head + "title: " + "[" * 20_000 + "]" * 20_000 + "\n")
    (target / "params_huge.yaml").write_text(head + "# " + "x" * 1_100_000 + "\n")


def _misleading_files(target: Path) -> None:
    """Files whose first error messages were misleading (issue 22, item 10)."""
    import os
    import zipfile
    (target / "mixed_endings.csv").write_bytes(
        b"order,date,cust,amount\r\n1,2024-01-05,a,10\n2,2024-01-20,b,25.5\r3,2024-02-03,c,7\r\n")
    (target / "unclosed_quote.csv").write_text('order,date,cust,amount\n1,2024-01-05,"a,10\n2,2024-01-20,b,25.5\n')
    (target / "huge_field.csv").write_text("order,date,cust,amount\n1,2024-01-05," + "x" * 3_000_000 + ",10\n")
    (target / "gzip_inside.csv").write_bytes(gzip.compress(OK_ROWS.encode()))
    with zipfile.ZipFile(target / "zip_inside.csv", "w") as z:
        z.writestr("sales.csv", OK_ROWS)
    loop = target / "loop.csv"
    if not os.path.lexists(loop):
        os.symlink("loop.csv", loop)
    (target / "currencies.csv").write_text("order,date,cust,amount\n1,2024-01-05,a,$10.00\n2,2024-01-20,b,€25.50\n"
                                            "3,2024-02-03,c,£7\n4,2024-02-04,d,12\n")
    (target / "dup_header.csv").write_text("order,date,cust,amount,amount\n1,2024-01-05,a,10,99\n")
