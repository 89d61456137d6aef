"""Make the vendored real-data extracts in tests/fixtures/ from the full sets in ../shared/data.

    .venv/bin/python tools/make_test_fixtures.py           # write them
    .venv/bin/python tools/make_test_fixtures.py --check   # recompute and compare with the committed ones

Only data sets whose licence allows redistribution are extracted (tests/fixtures/README.md says
which and why). The selection is reproducible: no random generator, only sha256 of the ids.

* Online Retail and Online Retail II: the complete histories (every line, returns and
  cancellations included) of the CUSTOMERS customers whose id has the smallest sha256, plus
  every line of the guest invoices (no customer id) whose invoice number has a sha256 below
  GUEST_SHARE, plus the "A" (bad debt) invoices. Rows keep their order, columns and dtypes.
* CDNOW: the 1/10 sample of the paper (CDNOW_sample.txt) byte for byte, and the same 2,357
  customers' lines of CDNOW_master.txt (the loadable format, with its header), byte for byte.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "tests" / "fixtures"

CUSTOMERS = 1000
GUEST_SHARE = 0.05

#: (source under ../shared/data, its sha256, extract under tests/fixtures, invoice, customer column)
RETAIL = [
    ("online-retail/online_retail.parquet",
     "302a3c6c9655be9ec6c0f21f38a3d4c5280d09a0a9ff9d9a0176910e0dc960f1",
     "online_retail_extract.parquet", "InvoiceNo", "CustomerID"),
    ("online-retail-ii/online_retail_II_Year_2009-2010.parquet",
     "e92bcbbce1b7a1041ad79462879d4774bf050c7b8fee9f4eef89f09fb6330664",
     "online_retail_ii_extract.parquet", "Invoice", "Customer ID"),
]
CDNOW_MASTER = ("cdnow/CDNOW_master.txt", "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef")
CDNOW_SAMPLE = ("cdnow/CDNOW_sample.txt", "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rank(values: pd.Series) -> pd.Series:
    """A reproducible pseudo-random number in [0, 1) per value: its text's sha256."""
    return values.map(lambda v: int(sha256(str(v).encode())[:12], 16) / 16 ** 12)


def _source(rel: str, digest: str) -> Path:
    path = SHARED / rel
    if not path.is_file():
        sys.exit(f"{path} is missing: the full data sets are expected in ../shared/data")
    if sha256(path.read_bytes()) != digest:
        sys.exit(f"{path} is not the file the extract is made from (sha256 differs)")
    return path


def retail_extract(rel: str, digest: str, invoice: str, customer: str) -> pd.DataFrame:
    raw = pd.read_parquet(_source(rel, digest))
    ids = pd.Series(raw[customer].dropna().unique())
    chosen = set(ids[_rank(ids).sort_values(kind="stable").index[:CUSTOMERS]])
    guests = raw[raw[customer].isna()][invoice].drop_duplicates()
    guest_invoices = set(guests[_rank(guests) < GUEST_SHARE])
    keep = (raw[customer].isin(chosen) | raw[invoice].isin(guest_invoices)
            | raw[invoice].astype(str).str.startswith("A"))
    return raw[keep].reset_index(drop=True)


def cdnow_files() -> dict[str, bytes]:
    sample = _source(*CDNOW_SAMPLE).read_bytes()
    master = _source(*CDNOW_MASTER).read_bytes()
    ids = {int(line.split()[0]) for line in sample.decode("ascii").splitlines() if line.strip()}
    lines = master.decode("ascii").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    kept = [line for line in body if line.split() and int(line.split()[0]) in ids]
    return {"cdnow/CDNOW_sample.txt": sample, "cdnow/CDNOW_master_sample.txt": (header + "".join(kept)).encode("ascii")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed extracts, write nothing")
    args = parser.parse_args(argv)
    problems = []
    for rel, digest, name, invoice, customer in RETAIL:
        frame = retail_extract(rel, digest, invoice, customer)
        target = OUT / name
        if args.check:
            if not target.is_file() or not pd.read_parquet(target).equals(frame):
                problems.append(f"{target} differs from a fresh extract")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(target, compression="zstd", index=False)
        print(f"{name}: {len(frame):,} rows, {frame[customer].nunique():,} customers, "
              f"{frame[invoice].nunique():,} invoices, sha256 {sha256(target.read_bytes()) if target.exists() else '-'}")
    for name, data in cdnow_files().items():
        target = OUT / name
        if args.check:
            if not target.is_file() or target.read_bytes() != data:
                problems.append(f"{target} differs from a fresh extract")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        rows = data.count(b"\n") - (1 if "master" in name else 0)   # the master file has a header
        print(f"{name}: {rows:,} lines, sha256 {sha256(data)}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
