"""Other data shapes for benchmarks (``salesnb sample --shape``): a warehouse export.

``typed``: what a data warehouse exports, unlike the kit's own sample (text ids, timestamps):
``order_id`` int64, ``order_date`` date32, ``customer_id`` int32 (null for ~1 % of orders, guest
checkouts), four dimensions (``region``, ``segment``, ``category``, ``sales_rep``; no product),
``quantity``, ``unit_price`` and ``revenue``. Two lines per order (one when ``rows`` is odd, for the
last order), one customer per ~25 orders (``rows / 50`` customers, at least 50: 200K at 10M
lines), repeat buyers with a heavy-tailed rate; ~2 % of orders are returns (negative quantities).
Order ids count up with the date over 2022-01-01 .. 2024-12-31; volume grows ~9 %/yr with a Q4
peak and quiet weekends. Each customer has a fixed region, segment and rep.

``typed-nonatomic``: the same rows, except 0.1 % of orders whose second line is dated the next
day (an invoice that straddles midnight) and another 0.1 % whose second line names another
customer. Which orders: a fixed share drawn per chunk, never an order on the last day.

Randomness comes from one generator per block of :data:`BLOCK_DAYS` days
(``default_rng([seed, tag, block])``) plus one for the customer pool, so the same ``seed`` and
``rows`` give the same file. Streamed block by block into a Parquet file (zstd) written to a
temporary name and renamed into place.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq

SHAPES = ("sample", "typed", "typed-nonatomic")
FIRST_DAY = dt.date(2022, 1, 1)
N_DAYS = (dt.date(2025, 1, 1) - FIRST_DAY).days
BLOCK_DAYS = 16
LINES_PER_ORDER = 2
ORDERS_PER_CUSTOMER = 25
SPLIT_SHARE = 0.001           # of orders, for each kind of non-atomic order (typed-nonatomic)
P_GUEST = 0.01
P_RETURN = 0.02
ORDER_BASE = 10_000_000       # the first order id is ORDER_BASE + 1

REGIONS = ["North America", "EMEA", "Asia Pacific", "Latin America"]
SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]
CATEGORIES = ["Electronics", "Furniture", "Software", "Office Supplies", "Services"]
CATEGORY_PRICE = np.array([420.0, 310.0, 190.0, 24.0, 650.0])
CATEGORY_P = np.array([0.3, 0.15, 0.2, 0.25, 0.1])
REPS = [f"Rep {r}-{k}" for r in ("NA", "EM", "AP", "LA") for k in (1, 2, 3)]
_TAG_POOL, _TAG_BLOCK, _TAG_SPLIT = 1, 2, 3

SCHEMA = pa.schema([
    ("order_id", pa.int64()), ("order_date", pa.date32()), ("customer_id", pa.int32()),
    ("region", pa.dictionary(pa.int8(), pa.string())), ("segment", pa.dictionary(pa.int8(), pa.string())),
    ("category", pa.dictionary(pa.int8(), pa.string())), ("sales_rep", pa.dictionary(pa.int8(), pa.string())),
    ("quantity", pa.int32()), ("unit_price", pa.float64()), ("revenue", pa.float64()),
])
COLUMNS = [f.name for f in SCHEMA]


def _day_weights() -> np.ndarray:
    day = np.arange(N_DAYS)
    date = np.datetime64(FIRST_DAY.isoformat()) + day
    month = (date.astype("datetime64[M]").astype(int) % 12) + 1
    weekday = (date.astype("datetime64[D]").astype(int) + 3) % 7      # 0 = Monday
    w = 1.09 ** (day / 365.25)
    w *= np.where(month >= 11, 1.35, np.where((month >= 6) & (month <= 8), 0.88, 1.0))
    w *= np.where(weekday >= 5, 0.45, 1.0)
    return w / w.sum()


def _plan(rows: int, seed: int):
    n_orders = (rows + LINES_PER_ORDER - 1) // LINES_PER_ORDER
    n_cust = max(50, round(n_orders / ORDERS_PER_CUSTOMER))
    g = np.random.default_rng([seed, _TAG_POOL])
    per_day = g.multinomial(n_orders, _day_weights())
    rate = g.lognormal(0.0, 1.0, n_cust)                      # heavy-tailed repeat rate
    cust_cdf = np.cumsum(rate / rate.sum())
    cust_region = np.minimum(np.searchsorted(np.cumsum([0.38, 0.3, 0.2, 0.12]), g.random(n_cust)), 3)
    cust_segment = np.minimum(np.searchsorted(np.cumsum([0.6, 0.3, 0.1]), g.random(n_cust)), 2)
    cust_rep = cust_region * 3 + g.integers(0, 3, n_cust)
    return {"n_orders": n_orders, "n_cust": n_cust, "per_day": per_day, "cust_cdf": cust_cdf,
            "region": cust_region.astype(np.int8), "segment": cust_segment.astype(np.int8),
            "rep": cust_rep.astype(np.int8)}


def _block(plan: dict, seed: int, block: int, order_start: int, rows_left: int, nonatomic: bool) -> pa.Table:
    """The lines of the orders of days [block * BLOCK_DAYS, +BLOCK_DAYS), in date order."""
    d0 = block * BLOCK_DAYS
    d1 = min(d0 + BLOCK_DAYS, N_DAYS)
    counts = plan["per_day"][d0:d1]
    n = int(counts.sum())
    g = np.random.default_rng([seed, _TAG_BLOCK, block])
    o_day = np.repeat(np.arange(d0, d1, dtype=np.int32), counts)
    o_cust = np.minimum(np.searchsorted(plan["cust_cdf"], g.random(n)), plan["n_cust"] - 1).astype(np.int32)
    o_guest = g.random(n) < P_GUEST
    o_sign = np.where(g.random(n) < P_RETURN, -1, 1)
    o_id = ORDER_BASE + order_start + 1 + np.arange(n, dtype=np.int64)
    k = LINES_PER_ORDER
    line_order = np.repeat(np.arange(n), k)
    l_day = o_day[line_order].copy()
    l_cust = o_cust[line_order].copy()
    if nonatomic:               # its own generator: every other value stays the typed shape's
        gs = np.random.default_rng([seed, _TAG_SPLIT, block])
        u = gs.random(n)
        second = np.arange(n) * k + 1
        straddle = (u < SPLIT_SHARE) & (o_day < N_DAYS - 1)
        two_customers = (u >= SPLIT_SHARE) & (u < 2 * SPLIT_SHARE) & ~o_guest
        l_day[second[straddle]] += 1
        l_cust[second[two_customers]] = (o_cust[two_customers] + 1 + gs.integers(
            0, plan["n_cust"] - 1, int(two_customers.sum()))) % plan["n_cust"]
    r_cust = o_cust[line_order]                                 # the order's customer: its dimensions
    cat = np.minimum(np.searchsorted(np.cumsum(CATEGORY_P), g.random(n * k)), 4).astype(np.int8)
    qty = (g.geometric(0.45, n * k) + (plan["segment"][r_cust] == 2) * 2).astype(np.int32)   # Enterprise: more
    qty *= o_sign[line_order].astype(np.int32)
    price = np.round(CATEGORY_PRICE[cat] * g.uniform(0.7, 1.3, n * k) * 1.035 ** (l_day // 365), 2)
    revenue = np.round(qty * price, 2)
    m = min(n * k, rows_left)                                   # an odd row count: the last order has one line
    cust = pa.array(l_cust[:m] + 1, mask=o_guest[line_order][:m], type=pa.int32())
    dicts = {"region": REGIONS, "segment": SEGMENTS, "category": CATEGORIES, "sales_rep": REPS}
    codes = {"region": plan["region"][r_cust], "segment": plan["segment"][r_cust], "category": cat,
             "sales_rep": plan["rep"][r_cust]}
    cols = {
        "order_id": pa.array(o_id[line_order][:m]),
        "order_date": pa.Array.from_buffers(pa.date32(), m, [None, pa.py_buffer(
            (l_day[:m] + (FIRST_DAY - dt.date(1970, 1, 1)).days).astype(np.int32))]),
        "customer_id": cust,
        **{name: pa.DictionaryArray.from_arrays(pa.array(codes[name][:m].astype(np.int8)), pa.array(dicts[name]))
           for name in dicts},
        "quantity": pa.array(qty[:m]), "unit_price": pa.array(price[:m]), "revenue": pa.array(revenue[:m]),
    }
    return pa.Table.from_arrays([cols[c] for c in COLUMNS], schema=SCHEMA)


def write_shape(path, shape: str, rows: int = 200_000, seed: int = 7) -> dict:
    """Write ``rows`` lines of ``shape`` (``typed`` or ``typed-nonatomic``) to ``path`` (Parquet).

    Returns ``{"rows", "orders", "customers", "first_date", "last_date", "path", "seed", "shape"}``
    like :func:`salesnb.data.sample.write_sample` (``customers``: the size of the pool)."""
    if shape not in SHAPES[1:]:
        raise ValueError(f"shape must be one of {', '.join(SHAPES[1:])}, not {shape!r}")
    rows, seed = int(rows), int(seed)
    if rows < 1:
        raise ValueError(f"rows must be at least 1, not {rows}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, not {seed}")
    path = Path(path)
    plan = _plan(rows, seed)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, SCHEMA, compression="zstd", store_schema=False,
                              write_statistics=["order_id", "order_date", "revenue"]) as writer:
            done = written = 0
            first = last = None
            for block in range((N_DAYS + BLOCK_DAYS - 1) // BLOCK_DAYS):
                table = _block(plan, seed, block, done, rows - written, shape == "typed-nonatomic")
                done += int(plan["per_day"][block * BLOCK_DAYS:(block + 1) * BLOCK_DAYS].sum())
                if table.num_rows:
                    writer.write_table(table)
                    written += table.num_rows
                    days = table.column("order_date")
                    lo, hi = pa.compute.min(days).as_py(), pa.compute.max(days).as_py()
                    first = lo if first is None else min(first, lo)
                    last = hi if last is None else max(last, hi)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"rows": written, "orders": plan["n_orders"], "customers": plan["n_cust"],
            "first_date": first.isoformat(), "last_date": last.isoformat(), "path": str(path), "seed": seed,
            "shape": shape}
