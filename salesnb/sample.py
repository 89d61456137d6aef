"""Synthetic sales data set for demos, tests and benchmarks (``salesnb sample``).

The story: a B2B/B2C reseller of electronics, furniture, software, office supplies and
services sells in four regions, 2022-01-01 .. 2024-12-31. Volume grows ~9 %/yr and list
prices rise ~3.5 % each January (revenue +12-13 %/yr), with a summer dip, a Q4 peak
(Black Friday, December) and quiet weekends. Asia Pacific takes a growing share of the
business, Latin America a shrinking one, North America and EMEA stay flat-ish.

Customers are a fixed pool (rows/12, at least 50). A quarter already buy from us on
2022-01-01; the rest are acquired over the three years (their acquisition day is the day of
their first order). Each customer has a fixed region, segment (SMB / Mid-Market /
Enterprise) and account rep, and a churn day (some leave within months, a few big accounts
never). Many buy once; the others place repeat orders while active, at a heavy-tailed
customer-specific rate, so a few large accounts bring a large share of the revenue.
Enterprise buys more seats/units per line at bigger discounts; each of the 12 reps (3 per
region) has their own "conversion" (how often their accounts order) and order-size strength.
About 1 % of orders are guest checkouts (no customer id) and ~2 % of lines are returns: a
single-line order of its own, 3-21 days after a purchase by the same customer, same product
and unit price, negative quantity.

Generation is vectorised numpy and streams whole days chunk by chunk into a Parquet file
(zstd), so 100M rows need well under 1.5 GB. Randomness comes from one generator per
calendar day (``default_rng([seed, tag, day])``) plus one for the customer pool, so the rows
depend on ``seed`` and ``rows`` only, not on ``chunk_rows``; the same arguments give a
byte-identical file. The file is written to a temporary name and renamed into place.
"""
from __future__ import annotations

import itertools
import os
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["write_sample", "SCHEMA", "COLUMNS"]

# --------------------------------------------------------------------------- the world

START = np.datetime64("2022-01-01", "D")
END = np.datetime64("2024-12-31", "D")
N_DAYS = int((END - START).astype(int)) + 1  # 1096 (2024 is a leap year)

REGIONS = ("North America", "EMEA", "Asia Pacific", "Latin America")
REGION_SHARE = np.array([0.34, 0.28, 0.22, 0.16])     # order share on 2022-01-01
REGION_TREND = np.array([0.01, -0.01, 0.26, -0.26])  # log-share change per year
REGION_LIFE = np.array([1.0, 1.0, 1.1, 0.75])       # customer lifetime multiplier

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = np.array([0.62, 0.27, 0.11])      # of customers
SEG_ONE_TIMER = np.array([0.35, 0.25, 0.12])      # P(buys exactly once) for acquired customers
SEG_LIFE_YEARS = np.array([2.0, 2.5, 3.0])        # mean lifetime of repeat buyers
SEG_RATE = np.array([1.0, 1.2, 1.5])              # repeat-order rate multiplier
SEG_QTY = np.array([1.0, 1.6, 2.5])               # units per line multiplier
DISC_LO = np.array([0.00, 0.03, 0.08])
DISC_SPAN = np.array([0.05, 0.07, 0.12])

CHANNELS = ("Online", "Direct", "Partner")
SEG_CHANNEL = np.array([[0.68, 0.14, 0.18],
                        [0.38, 0.37, 0.25],
                        [0.10, 0.62, 0.28]])

# rep name, region index, conversion (repeat-order rate) multiplier, order-size multiplier
REPS = (
    ("Alice Moreno", 0, 1.45, 1.20), ("Brian Kowalski", 0, 1.00, 1.00), ("Dana Whitfield", 0, 0.70, 0.85),
    ("Lukas Becker", 1, 1.25, 1.10), ("Sofia Rossi", 1, 0.95, 1.30), ("Amara Okafor", 1, 0.75, 0.90),
    ("Kenji Tanaka", 2, 1.35, 1.00), ("Priya Raman", 2, 1.10, 1.25), ("Mei Lin Chen", 2, 0.80, 0.80),
    ("Carlos Mendes", 3, 1.20, 1.15), ("Valentina Cruz", 3, 0.90, 0.95), ("Diego Herrera", 3, 0.65, 0.75),
)
REP_NAMES = tuple(r[0] for r in REPS)
REP_CONV = np.array([r[2] for r in REPS])
REP_SIZE = np.array([r[3] for r in REPS])

CATEGORIES = ("Electronics", "Furniture", "Software", "Office Supplies", "Services")
SEG_CATEGORY = np.array([[0.26, 0.14, 0.14, 0.36, 0.10],
                         [0.25, 0.16, 0.22, 0.23, 0.14],
                         [0.22, 0.14, 0.28, 0.16, 0.20]])
# product, category index, list price (2022), popularity within category, mean extra units (SMB)
PRODUCTS = (
    ("Laptop Pro 14", 0, 1499.00, 0.14, 0.5), ("Laptop Air 13", 0, 1099.00, 0.16, 0.5),
    ("27in 4K Monitor", 0, 429.00, 0.16, 0.8), ("USB-C Dock", 0, 219.00, 0.12, 0.8),
    ("Wireless Mouse", 0, 39.99, 0.14, 1.5), ("Mechanical Keyboard", 0, 129.00, 0.10, 0.8),
    ("Noise-Cancelling Headset", 0, 249.00, 0.10, 0.8), ("HD Webcam", 0, 89.00, 0.08, 0.8),
    ("Ergonomic Chair", 1, 389.00, 0.26, 1.0), ("Standing Desk", 1, 649.00, 0.18, 0.6),
    ("Conference Table", 1, 1290.00, 0.06, 0.1), ("Filing Cabinet", 1, 219.00, 0.14, 0.6),
    ("Bookshelf", 1, 179.00, 0.12, 0.5), ("Monitor Arm", 1, 119.00, 0.16, 1.0),
    ("LED Desk Lamp", 1, 59.00, 0.08, 1.0),
    ("Office Suite License", 2, 149.00, 0.26, 3.0), ("CRM Cloud Seat", 2, 480.00, 0.16, 2.5),
    ("Antivirus Pro", 2, 59.00, 0.18, 3.0), ("Design Studio", 2, 599.00, 0.08, 0.8),
    ("Cloud Backup 1TB", 2, 99.00, 0.14, 1.5), ("Project Tracker Seat", 2, 120.00, 0.18, 3.0),
    ("Copy Paper A4 Box", 3, 42.00, 0.24, 4.0), ("Gel Pens 12-Pack", 3, 11.50, 0.14, 3.0),
    ("Sticky Notes Bulk", 3, 18.00, 0.12, 3.0), ("Toner Cartridge", 3, 89.00, 0.16, 1.5),
    ("Heavy-Duty Stapler", 3, 24.00, 0.08, 1.0), ("Whiteboard Markers", 3, 14.00, 0.10, 3.0),
    ("Desk Organizer", 3, 27.00, 0.08, 1.0), ("Notebook 5-Pack", 3, 16.00, 0.08, 3.0),
    ("Onsite Installation", 4, 350.00, 0.24, 0.5), ("Premium Support Plan", 4, 1200.00, 0.20, 0.1),
    ("Training Workshop", 4, 950.00, 0.16, 0.3), ("IT Consulting Hour", 4, 180.00, 0.28, 4.0),
    ("Extended Warranty", 4, 149.00, 0.12, 0.8),
)
PRODUCT_NAMES = tuple(p[0] for p in PRODUCTS)
PROD_CAT = np.array([p[1] for p in PRODUCTS], dtype=np.int8)
PROD_PRICE = np.array([p[2] for p in PRODUCTS])
PROD_EXTRA = np.array([p[4] for p in PRODUCTS])
YEAR_PRICE = np.array([1.0, 1.035, 1.035 ** 2])   # list prices are raised every January
MAX_QTY = 60
VOLUME_QTY, VOLUME_DISCOUNT = 10, 0.04   # extra discount on lines of 10+ units

MONTH_SEASON = np.array([0.86, 0.88, 1.00, 0.96, 0.97, 0.90, 0.82, 0.80, 0.97, 1.05, 1.22, 1.32])
WEEKDAY = np.array([1.12, 1.15, 1.14, 1.10, 1.00, 0.62, 0.52])  # Monday .. Sunday
SPECIAL_DAYS = {"2022-11-25": 1.9, "2022-11-28": 1.7, "2023-11-24": 1.9, "2023-11-27": 1.7,
                "2024-11-29": 1.9, "2024-12-02": 1.7}
VOLUME_GROWTH = 1.09
HOUR_WEIGHT = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.8, 4.5, 5.5, 5.8,
                        5.0, 5.4, 5.6, 5.3, 4.6, 3.6, 2.6, 2.2, 2.0, 1.6, 1.0, 0.6])

P_RETURN = 0.021      # share of lines that are returns
P_BREAK = 0.48        # P(next line starts a new order); orders have 1..5 lines
P_GUEST = 0.011       # share of repeat-sampled orders that are guest checkouts
P_CANDIDATE = 0.12    # share of purchase lines kept as candidates for returns
RETURN_DAYS = (3, 21)  # a return comes this many days after the purchase
BASE_SHARE = 0.25     # share of the customer pool already active on 2022-01-01
WHALE_SHARE = 0.004   # big accounts (never churn) ...
WHALE_BOOST = 2.5     # ... with this repeat-order rate multiplier
LIFE_SHAPE = 2.0      # gamma shape of the repeat buyers' lifetimes (1 = exponential)
RATE_SIGMA = 0.45     # lognormal spread of the customers' repeat-order rates
LUT_BITS = 16
_AHEAD = 1            # chunks generated ahead by worker threads (memory: ~400 MB each)

COLUMNS = ("order_id", "order_date", "customer_id", "region", "segment", "category", "product",
           "sales_rep", "channel", "quantity", "unit_price", "revenue")
SCHEMA = pa.schema([
    ("order_id", pa.string()), ("order_date", pa.timestamp("us")), ("customer_id", pa.string()),
    ("region", pa.string()), ("segment", pa.string()), ("category", pa.string()),
    ("product", pa.string()), ("sales_rep", pa.string()), ("channel", pa.string()),
    ("quantity", pa.int64()), ("unit_price", pa.float64()), ("revenue", pa.float64()),
])
_DICT_COLUMNS = {"region": REGIONS, "segment": SEGMENTS, "category": CATEGORIES,
                 "product": PRODUCT_NAMES, "sales_rep": REP_NAMES, "channel": CHANNELS}
# What is handed to the Parquet writer: low-cardinality columns as dictionary arrays (written
# straight into Parquet dictionary pages). store_schema=False, so readers see plain strings.
_WRITE_SCHEMA = pa.schema([
    pa.field(name, pa.dictionary(pa.int8(), pa.string())) if name in _DICT_COLUMNS
    else SCHEMA.field(name) for name in COLUMNS
])
_DICTIONARIES = {name: pa.array(values, pa.string()) for name, values in _DICT_COLUMNS.items()}

_TAG_CUSTOMERS, _TAG_DAYS, _TAG_DAY = 0x5A1E, 0xDA75, 0xD1A

# --------------------------------------------------------------------------- helpers


def _lut(probs: np.ndarray) -> np.ndarray:
    """Quantised inverse CDF: ``lut[..., int(u * 2**LUT_BITS)]`` samples from ``probs[...]``."""
    probs = np.asarray(probs, dtype=float)
    cdf = np.cumsum(probs / probs.sum(axis=-1, keepdims=True), axis=-1)
    mid = (np.arange(1 << LUT_BITS) + 0.5) / (1 << LUT_BITS)
    flat = cdf.reshape(-1, cdf.shape[-1])
    out = np.stack([np.minimum(np.searchsorted(c, mid, side="right"), c.size - 1) for c in flat])
    return out.reshape(cdf.shape[:-1] + (1 << LUT_BITS,)).astype(np.int8)


def _bins(u: np.ndarray) -> np.ndarray:
    return (u * (1 << LUT_BITS)).astype(np.intp)


_PAIRS = np.array([(48 + i // 10) | (48 + i % 10) << 8 for i in range(100)], dtype="<u2")


def _ascii_ids(numbers: np.ndarray, prefix: str, width: int) -> np.ndarray:
    """``prefix`` + zero-padded ``numbers`` as an (n, len(prefix)+width) uint8 array.

    Two digits at a time through a 100-entry uint16 table; the quotients are exact in
    float64 (numbers < 2**46), which numpy divides much faster than int64.
    """
    p = len(prefix)
    pad = (p + width) % 2           # work on an even row width so digit pairs are aligned
    out = np.empty((numbers.size, pad + p + width), dtype=np.uint8)
    out[:, pad:pad + p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    pairs = out.view("<u2")
    q = numbers.astype(np.float64)
    col = pairs.shape[1]
    for _ in range(width // 2):
        q2 = np.floor(q / 100.0)
        col -= 1
        pairs[:, col] = _PAIRS[(q - q2 * 100.0).astype(np.intp)]
        q = q2
    if width % 2:
        out[:, pad + p] = 48 + (q % 10.0).astype(np.uint8)
    return out[:, pad:] if pad else out


def _consecutive_ids(start: int, n: int, prefix: str, width: int) -> np.ndarray:
    """``_ascii_ids(start + arange(n), prefix, width)`` by copying: the last four digits
    repeat every 10,000 numbers, the leading ones change once per 10,000."""
    if width < 5 or n < 20_000:
        return _ascii_ids(start + np.arange(n), prefix, width)
    k = start % 10_000
    reps = -(-(k + n) // 10_000)
    low = np.tile(_LOW4, reps)[k:k + n]
    first = start // 10_000
    high = _ascii_ids(np.arange(first, first + reps), prefix, width - 4)
    counts = np.full(reps, 10_000)
    counts[0] -= k
    counts[-1] = n - counts[:-1].sum()
    out = np.empty((n, len(prefix) + width), dtype=np.uint8)
    out[:, :-4] = np.repeat(high, counts, axis=0)
    out[:, -4:] = low.view(np.uint8).reshape(n, 4)
    return out


_LOW4 = np.ascontiguousarray(_ascii_ids(np.arange(10_000), "", 4)).view("V4").reshape(-1)


def _take_rows(chars: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``chars[index]`` for an (n, w) uint8 matrix, as one fixed-width item per row (fast)."""
    chars = np.ascontiguousarray(chars)
    items = chars.view(f"V{chars.shape[1]}").reshape(-1)
    return np.take(items, index).view(np.uint8).reshape(index.size, chars.shape[1])


def _string_array(chars: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width ASCII rows (uint8 matrix) → pyarrow string array, without Python objects."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).reshape(-1))]
    null_count = 0
    if valid is not None and not valid.all():
        buffers[0] = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int(n - np.count_nonzero(valid))
    return pa.Array.from_buffers(pa.string(), n, buffers, null_count=null_count)


def _pick_region(cdf: np.ndarray, day: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Region index from the (days, 3) cumulative mix, one column at a time (low memory)."""
    out = (u >= cdf[day, 0]).astype(np.int64)
    out += u >= cdf[day, 1]
    out += u >= cdf[day, 2]
    return out


def _draw(gens, counts: np.ndarray, k: int) -> np.ndarray:
    """k uniforms per unit, ``counts[j]`` units from day generator j, concatenated → (k, sum)."""
    out = np.empty((k, int(counts.sum())))
    pos = 0
    for j in np.flatnonzero(counts):
        n = int(counts[j])
        g = gens[j]
        for row in out[:, pos:pos + n]:   # same stream as g.random((k, n)), without a copy
            g.random(out=row)
        pos += n
    return out


def _draw_exp(gens, counts: np.ndarray) -> np.ndarray:
    out = np.empty(int(counts.sum()))
    pos = 0
    for j in np.flatnonzero(counts):
        n = int(counts[j])
        gens[j].standard_exponential(out=out[pos:pos + n])
        pos += n
    return out


# --------------------------------------------------------------------------- the plan


@dataclass
class _World:
    """Everything that is fixed before the first row: calendar, rows per day, customers."""

    seed: int
    day_rows: np.ndarray      # rows per day (sums to rows)
    day_price: np.ndarray     # list price factor of each day
    day_sec0: np.ndarray      # epoch seconds of each day's midnight
    mix_cdf: np.ndarray       # (days, 3) cumulative region mix of repeat orders
    mix_lo: np.ndarray        # (days, 5) the same with 0 and 1 at the ends
    # customers, in "slot" order (sorted by region, then acquisition day)
    region: np.ndarray
    segment: np.ndarray
    rep: np.ndarray
    churn: np.ndarray         # last day the customer may order (day index)
    cumw: np.ndarray          # cumulative repeat-order weight
    region_lo: np.ndarray     # cumw before each region's first slot
    prefix: np.ndarray        # (4, days) one past the last slot acquired before that day
    top: np.ndarray           # (4, days) cumw at prefix - 1
    anchor: np.ndarray        # one never-churning customer per region
    new_slots: np.ndarray     # acquired customers by acquisition day
    new_off: np.ndarray       # (days + 1) offsets into new_slots
    guide: np.ndarray         # guide[b]: first slot with cumw > (b - 1) * cumw[-1] / (len - 1)
    cust_chars: np.ndarray    # (customers, width) ASCII of "C00042"
    order_width: int


def _calendar(seed: int, rows: int):
    days = START + np.arange(N_DAYS)
    months = days.astype("datetime64[M]")
    month = (months - months.astype("datetime64[Y]")).astype(int)
    year = days.astype("datetime64[Y]").astype(int) + 1970 - 2022
    weekday = (days.astype(int) + 3) % 7   # 1970-01-01 was a Thursday
    t = np.arange(N_DAYS) / 365.25
    weight = VOLUME_GROWTH ** t * MONTH_SEASON[month] * WEEKDAY[weekday]
    for day, factor in SPECIAL_DAYS.items():
        weight[int((np.datetime64(day) - START).astype(int))] *= factor
    dom = (days - months.astype("datetime64[D]")).astype(int) + 1
    for mm, dd, factor in ((12, 24, 0.5), (12, 25, 0.25), (12, 31, 0.6), (1, 1, 0.3)):
        weight[(month == mm - 1) & (dom == dd)] *= factor
    rng = np.random.default_rng([seed, _TAG_DAYS])
    weight *= rng.lognormal(0.0, 0.06, N_DAYS)
    day_rows = rng.multinomial(rows, weight / weight.sum()).astype(np.int64)
    share = REGION_SHARE * np.exp(np.outer(t, REGION_TREND))
    share /= share.sum(axis=1, keepdims=True)
    day_sec0 = days.astype("datetime64[s]").astype(np.int64)
    return day_rows, year, day_sec0, share, weight


def _guide(cumw: np.ndarray) -> np.ndarray:
    """guide[b] = first slot with cumw > (b - 1) * total / m, m = 2 * len(cumw); in blocks."""
    m = 2 * cumw.size
    guide = np.empty(m + 1, dtype=np.int32 if cumw.size < 2**31 - 1 else np.int64)
    step, block = cumw[-1] / m, 1 << 21
    for i in range(0, m + 1, block):
        k = np.arange(i - 1, min(i + block, m + 1) - 1)
        guide[i:i + k.size] = np.searchsorted(cumw, k * step, side="right")
    return guide


def _plan(rows: int, seed: int) -> _World:
    """Calendar and customer pool. Written to keep the temporaries small: at 100M rows the
    pool has 8.3M customers and every float64 temporary costs 67 MB."""
    day_rows, day_year, day_sec0, share, weight = _calendar(seed, rows)
    mix_cdf = np.cumsum(share, axis=1)[:, :3]
    rng = np.random.default_rng([seed, _TAG_CUSTOMERS])
    n = max(50, rows // 12)
    n_base = max(len(REGIONS), int(round(BASE_SHARE * n)))
    n_reg = len(REGIONS)
    base = np.arange(n) < n_base      # the existing base comes first; 0..3 are the anchors

    # acquisition day: before 2022 for the existing base, else following the order volume
    acq = np.empty(n, dtype=np.int32)
    acq[:n_base] = -rng.integers(1, 731, n_base)
    cdf = np.cumsum(weight) / weight.sum()
    acq[n_base:] = np.minimum(np.searchsorted(cdf, rng.random(n - n_base), side="right"),
                              N_DAYS - 1)
    # region from the mix on the acquisition day; segment; rep (stronger reps win more accounts)
    region = _pick_region(mix_cdf, np.maximum(acq, 0), rng.random(n)).astype(np.int8)
    region[:n_reg] = np.arange(n_reg)
    # the existing base is a survivor pool: its segment mix is tilted towards long lifetimes
    segment = np.empty(n, dtype=np.int8)
    segment[:n_base] = _lut(SEGMENT_SHARE * (1 - SEG_ONE_TIMER) * SEG_LIFE_YEARS)[
        _bins(rng.random(n_base))]
    segment[n_base:] = _lut(SEGMENT_SHARE)[_bins(rng.random(n - n_base))]
    segment[:n_reg] = 2
    rep = _lut(np.sqrt(REP_CONV).reshape(n_reg, 3))[region, _bins(rng.random(n))]
    rep += region * np.int8(3)

    # lifecycle: one-time buyers, early churners, gamma lifetimes, whales never churn
    one_timer = rng.random(n) < SEG_ONE_TIMER[segment]
    one_timer[:n_base] = False
    life = rng.gamma(LIFE_SHAPE, 365.25 / LIFE_SHAPE, n)
    life *= SEG_LIFE_YEARS[segment]
    life *= REGION_LIFE[region]
    early = rng.random(n) < 0.12
    life[early] = rng.uniform(20, 150, int(early.sum()))
    del early
    churn = np.maximum(acq, 0)
    churn += life.astype(np.int32)
    del life
    w = rng.lognormal(0.0, RATE_SIGMA, n)
    w *= SEG_RATE[segment]
    w *= REP_CONV[rep]
    whale = rng.random(n) < WHALE_SHARE / BASE_SHARE
    whale &= base & (segment > 0)
    whale[:n_reg] = True
    w[whale] *= WHALE_BOOST
    churn[whale] = 10 * N_DAYS
    churn[one_timer] = acq[one_timer]
    w[one_timer] = 0.0
    del whale, one_timer, base

    # customer numbers follow acquisition; slots are sorted by (region, customer number)
    by_acq = np.argsort(acq, kind="stable")               # rank → customer
    rank = np.argsort(region[by_acq], kind="stable")      # slot → rank (= customer number - 1)
    slot = by_acq[rank]                                   # slot → customer
    del by_acq
    anchor = np.array([np.flatnonzero(slot == r)[0] for r in range(n_reg)])
    region, segment, rep = region[slot], segment[slot], rep[slot]
    acq, churn, w = acq[slot], churn[slot], w[slot]
    del slot
    new_slots = np.empty(n, dtype=np.int32)
    new_slots[rank] = np.arange(n, dtype=np.int32)       # rank → slot
    new_slots = new_slots[n_base:].copy()                 # the acquired ones, by acquisition
    new_off = np.searchsorted(acq[new_slots], np.arange(N_DAYS + 1))
    width = max(5, len(str(n)))
    cust_chars = np.empty((n, 1 + width), dtype=np.uint8)
    for i in range(0, n, 1 << 20):
        cust_chars[i:i + (1 << 20)] = _ascii_ids(rank[i:i + (1 << 20)] + 1, "C", width)
    del rank
    cumw = np.cumsum(w)
    del w
    starts = np.searchsorted(region, np.arange(n_reg))
    region_lo = np.where(starts > 0, cumw[np.maximum(starts - 1, 0)], 0.0)
    ends = np.append(starts[1:], n)
    prefix = np.stack([starts[r] + np.searchsorted(acq[starts[r]:ends[r]], np.arange(N_DAYS))
                       for r in range(n_reg)])
    top = cumw[prefix - 1]
    assert (prefix > starts[:, None]).all() and (top > region_lo[:, None]).all()
    return _World(
        seed=seed, day_rows=day_rows, day_price=YEAR_PRICE[day_year], day_sec0=day_sec0,
        mix_cdf=mix_cdf, mix_lo=np.hstack([np.zeros((N_DAYS, 1)), mix_cdf, np.ones((N_DAYS, 1))]),
        region=region, segment=segment, rep=rep, churn=churn, cumw=cumw,
        region_lo=region_lo, prefix=prefix, top=top, anchor=anchor,
        new_slots=new_slots, new_off=new_off, guide=_guide(cumw), cust_chars=cust_chars,
        order_width=max(7, len(str(rows))),
    )


# --------------------------------------------------------------------------- one chunk of days

_SEG_CHANNEL_LUT = _lut(SEG_CHANNEL)
_SEG_PRODUCT_LUT = _lut(SEG_CATEGORY[:, PROD_CAT] * np.array([p[3] for p in PRODUCTS]))
_HOUR_CDF = np.concatenate([[0.0], np.cumsum(HOUR_WEIGHT) / HOUR_WEIGHT.sum()])
_HOUR_SEC = np.arange(25) * 3600.0
_RET_FIELDS = ("day", "slot", "guest", "region", "segment", "channel", "rep", "product",
               "price", "qty")


def _distinct_products(prod, seg, u, order_of_row) -> None:
    """Re-draw a line's product (in place) while it repeats another line of its order."""
    key = order_of_row * np.int32(64) + prod      # int32: < 2**25 orders per chunk
    dup = np.zeros(prod.size, dtype=bool)
    for lag in range(1, 5):          # orders have at most 5 (consecutive) lines
        dup[lag:] |= key[lag:] == key[:-lag]
    i = np.flatnonzero(dup)
    for _ in range(8):
        if not i.size:
            return
        u[i] = (u[i] * 7919.0) % 1.0    # a fresh uniform from the unused low-order digits
        prod[i] = _SEG_PRODUCT_LUT[seg[i], _bins(u[i])]
        key[i] = order_of_row[i] * np.int32(64) + prod[i]
        again = np.zeros(i.size, dtype=bool)
        for lag in range(1, 5):
            for j in (i - lag, i + lag):
                j = np.clip(j, 0, prod.size - 1)
                again |= (key[j] == key[i]) & (j != i)
        i = i[again]


def _locate(world: _World, x: np.ndarray) -> np.ndarray:
    """``searchsorted(cumw, x, "right")`` via the guide table: a few cache misses, not ~20."""
    cumw = world.cumw
    m = world.guide.size - 1
    b = np.minimum((x * (m / cumw[-1])).astype(np.int64), m - 1)
    i = world.guide[b].astype(np.int64)  # first slot with cumw > (b - 1) * total / m, <= answer
    todo = np.flatnonzero(cumw[i] <= x)
    last = cumw.size - 1
    while todo.size:
        i[todo] += 1
        i_t = np.minimum(i[todo], last)
        todo = todo[(cumw[i_t] <= x[todo]) & (i[todo] <= last)]
    return i


def _sample_customers(world: _World, gens, d0: int, day: np.ndarray, reg: np.ndarray,
                      u: np.ndarray) -> np.ndarray:
    """Active customer of region ``reg`` on ``day``, chosen by repeat-order weight.

    Draw among the region's customers acquired before ``day`` (a prefix of the slot order),
    reject those who churned already, draw again for those.
    """
    flat = reg * N_DAYS + day
    lo = world.region_lo[reg]
    span = world.top.reshape(-1)[flat] - lo
    cap = world.prefix.reshape(-1)[flat] - 1
    s = np.minimum(_locate(world, lo + u * span), cap)
    bad = np.flatnonzero(world.churn[s] < day)
    for _ in range(60):
        if not bad.size:
            return s
        u = _draw(gens, np.bincount(day[bad] - d0, minlength=len(gens)), 1)[0]
        s_b = np.minimum(_locate(world, lo[bad] + u * span[bad]), cap[bad])
        s[bad] = s_b
        bad = bad[world.churn[s_b] < day[bad]]
    s[bad] = world.anchor[reg[bad]]
    return s


def _lines(world: _World, d0: int, d1: int) -> dict:
    """Phase 1 of a chunk of days [d0, d1): every line except the returns' contents.

    Independent of the other chunks, so several can run at once (numpy releases the GIL)."""
    counts = world.day_rows[d0:d1]
    nd = d1 - d0
    L = int(counts.sum())
    gens = [np.random.default_rng([world.seed, _TAG_DAY, d]) for d in range(d0, d1)]
    day_u = np.array([g.random() for g in gens])
    row_day = np.repeat(np.arange(d0, d1, dtype=np.int32), counts)
    # Two uniforms per line and two per order; each is split into several independent ones
    # (threshold tests, then the rescaled remainder), which halves the random-number work.
    u_ret, u_prod = _draw(gens, counts, 2)

    # ---- orders: runs of 1..5 lines within a day; every return line is an order of its own
    is_ret = u_ret < P_RETURN
    u_brk = (u_ret - P_RETURN) * (1.0 / (1.0 - P_RETURN))   # uniform on purchase lines
    flag = u_brk < P_BREAK
    # purchase lines kept as return candidates: a P_CANDIDATE share of either side of P_BREAK
    is_cand = (u_brk >= 0) & (u_brk < P_BREAK * P_CANDIDATE)
    is_cand |= (u_brk >= P_BREAK) & (u_brk < P_BREAK + (1.0 - P_BREAK) * P_CANDIDATE)
    del u_brk
    flag[(np.cumsum(counts) - counts)[counts > 0]] = True
    flag |= is_ret
    flag[1:] |= is_ret[:-1]
    idx = np.arange(L, dtype=np.int32)
    pos = idx - np.maximum.accumulate(np.where(flag, idx, 0))
    flag |= pos % 5 == 0
    del idx, pos
    order_of_row = np.cumsum(flag, dtype=np.int32) - 1
    ostart = np.flatnonzero(flag)
    del flag
    n_orders = ostart.size
    o_day = row_day[ostart]
    o_cnt = np.bincount(o_day - d0, minlength=nd)
    o_ret = is_ret[ostart]

    # ---- time of day: sorted within the day (cumulated exponential spacings), business hours
    e_cnt = np.where(o_cnt > 0, o_cnt + 1, 0)
    cs = np.cumsum(_draw_exp(gens, e_cnt))
    seg_start = np.cumsum(e_cnt) - e_cnt
    before = np.concatenate([[0.0], cs])[seg_start]
    span = cs[np.minimum(seg_start + o_cnt, cs.size - 1)] - before
    jd = o_day - d0
    k = np.arange(n_orders) - (np.cumsum(o_cnt) - o_cnt)[jd]
    frac = (cs[seg_start[jd] + k] - before[jd]) / span[jd]
    secs = np.minimum(np.interp(frac, _HOUR_CDF, _HOUR_SEC).astype(np.int64), 86399)
    o_ts = (world.day_sec0[o_day] + secs) * 1_000_000
    del cs, frac, secs, k
    u_reg, u_chan = _draw(gens, o_cnt, 2)

    # ---- customers: first orders of the customers acquired that day, spread over the day
    o_slot = np.full(n_orders, -1, dtype=np.int64)
    nr = np.flatnonzero(~o_ret)
    m = np.bincount(o_day[nr] - d0, minlength=nd)
    kn = world.new_off[d0 + 1:d1 + 1] - world.new_off[d0:d1]
    a = np.minimum(kn, m)
    if a.sum():
        full = kn >= m
        ratio = np.where(full, 1.0, m / np.maximum(kn, 1))
        off = np.where(full, 0.0, day_u)
        aj = np.repeat(np.arange(nd), a)
        j = np.arange(int(a.sum())) - np.repeat(np.cumsum(a) - a, a)
        p = np.minimum(((j + off[aj]) * ratio[aj]).astype(np.int64), m[aj] - 1)
        o_slot[nr[(np.cumsum(m) - m)[aj] + p]] = world.new_slots[world.new_off[d0 + aj] + j]
    # ... everything else: a repeat order of an active customer (region by the day's mix)
    need = np.flatnonzero(o_slot < 0)
    o_guest = np.zeros(n_orders, dtype=bool)
    elig = ~o_ret[need]
    o_guest[need] = elig & (u_chan[need] < P_GUEST)
    u_chan[need[elig]] = (u_chan[need[elig]] - P_GUEST) * (1.0 / (1.0 - P_GUEST))
    np.maximum(u_chan, 0.0, out=u_chan)
    nd_ = o_day[need]
    u = u_reg[need]
    reg = _pick_region(world.mix_cdf, nd_, u)
    lo = world.mix_lo[nd_, reg]
    u = (u - lo) / (world.mix_lo[nd_, reg + 1] - lo)     # rescaled: uniform again
    o_slot[need] = _sample_customers(world, gens, d0, nd_, reg, np.clip(u, 0.0, 1.0))
    o_seg = world.segment[o_slot]
    o_seg[o_guest] = 0
    b = _bins(u_chan)
    o_chan = _SEG_CHANNEL_LUT[o_seg, b]
    o_chan[o_guest] = 0
    o_disc = u_chan * (1 << LUT_BITS) - b              # the remainder: uniform again
    del u_reg, u_chan, need, reg, u, lo, b, elig, nd_

    # ---- lines
    o_reg = world.region[o_slot]
    o_rep = world.rep[o_slot]
    o_qty = SEG_QTY[o_seg] * REP_SIZE[o_rep]                       # units per line factor
    o_disc = DISC_LO[o_seg] + o_disc * DISC_SPAN[o_seg]            # negotiated, per order
    o_price = world.day_price[o_day] * (1.0 - o_disc)              # price factor
    r_slot = o_slot[order_of_row]
    r_guest = o_guest[order_of_row]
    r_reg = o_reg[order_of_row]
    r_rep = o_rep[order_of_row]
    r_seg = o_seg[order_of_row]
    r_chan = o_chan[order_of_row]
    b = _bins(u_prod)
    prod = _SEG_PRODUCT_LUT[r_seg, b]
    u_qty = u_prod * (1 << LUT_BITS) - b
    del b
    _distinct_products(prod, r_seg, u_prod, order_of_row)
    prod_i = prod.astype(np.intp)
    lam = PROD_EXTRA[prod_i] * o_qty[order_of_row]
    qty = 1 + np.minimum(-np.log1p(-u_qty) * lam, MAX_QTY - 1).astype(np.int64)
    price = o_price[order_of_row]
    price[qty >= VOLUME_QTY] *= 1.0 - VOLUME_DISCOUNT
    price *= PROD_PRICE[prod_i]
    _round_cents(price)
    del lam, u_prod, u_qty, o_disc, o_price, o_qty, prod_i

    ret = np.flatnonzero(is_ret)
    return {
        "d1": d1, "rows": L, "n_orders": n_orders, "row_day": row_day, "ret": ret,
        "u_ret": u_ret[ret], "cand": np.flatnonzero(is_cand), "order_of_row": order_of_row,
        "o_slot": o_slot, "o_guest": o_guest, "ts0": int(o_ts[0]), "ts1": int(o_ts[-1]),
        "order_date": pa.Array.from_buffers(pa.timestamp("us"), L,
                                            [None, pa.py_buffer(o_ts[order_of_row])]),
        "rows_now": {"slot": r_slot, "guest": r_guest, "region": r_reg, "segment": r_seg,
                     "channel": r_chan, "rep": r_rep, "product": prod, "price": price,
                     "qty": qty},
        "cust_chars": _take_rows(world.cust_chars, r_slot),
    }


def _round_cents(x: np.ndarray) -> None:
    """In place, bit-identical to ``np.round(x, 2)`` (which is x*100 → rint → /100)."""
    x *= 100.0
    np.rint(x, out=x)
    x /= 100.0


def _finish(world: _World, part: dict, order_base: int, carry: dict):
    """Phase 2, in chunk order: fill in the returns (they copy an earlier purchase, maybe
    from the previous chunk: ``carry``), number the orders, build the Arrow table."""
    d1, L, row_day, ret, u_ret, cand = (part[k] for k in ("d1", "rows", "row_day", "ret",
                                                          "u_ret", "cand"))
    order_of_row, o_slot, o_guest = part["order_of_row"], part["o_slot"], part["o_guest"]
    rows_now = part["rows_now"]
    r_slot, r_guest, prod, price, qty = (rows_now[k] for k in ("slot", "guest", "product",
                                                               "price", "qty"))

    # ---- returns: copy a random earlier purchase line (3..21 days before), negate the quantity
    c_day = row_day[cand]
    rd = row_day[ret].astype(np.int64)
    lo_c = np.searchsorted(c_day, rd - RETURN_DAYS[1])
    hi_c = np.searchsorted(c_day, rd - RETURN_DAYS[0] + 1)
    lo_k = np.searchsorted(carry["day"], rd - RETURN_DAYS[1])
    hi_k = np.searchsorted(carry["day"], rd - RETURN_DAYS[0] + 1)
    nk = hi_k - lo_k
    total = nk + hi_c - lo_c
    has = total > 0
    ret, lo_c, lo_k, nk, total = ret[has], lo_c[has], lo_k[has], nk[has], total[has]
    t = u_ret[has] * (1.0 / P_RETURN) * total
    pick = np.minimum(t.astype(np.int64), total - 1)
    ub = t - pick                                   # the remainder: uniform again
    fc = pick < nk
    ic = ~fc
    src_c = cand[lo_c[ic] + pick[ic] - nk[ic]]
    src_k = lo_k[fc] + pick[fc]
    for name, arr in rows_now.items():
        vals = np.empty(ret.size, dtype=arr.dtype)
        vals[ic] = arr[src_c]
        vals[fc] = carry[name][src_k]
        arr[ret] = vals
    q = qty[ret]
    partial = np.minimum(1 + ((ub - 0.6) / 0.4 * q).astype(np.int64), q)
    qty[ret] = -np.where(ub < 0.6, q, partial)
    revenue = qty * price
    _round_cents(revenue)

    keep = cand[c_day >= d1 - RETURN_DAYS[1]]
    fresh = {"day": row_day[keep].astype(np.int64), **{k_: v[keep] for k_, v in rows_now.items()}}
    old = carry["day"] >= d1 - RETURN_DAYS[1]
    new_carry = {k_: np.concatenate([carry[k_][old], fresh[k_]]) for k_ in _RET_FIELDS}

    # ---- Arrow
    n_orders = part["n_orders"]
    order_chars = _consecutive_ids(order_base + 1, n_orders, "SO-", world.order_width)
    cust_chars = part["cust_chars"]
    cust_chars[ret] = _take_rows(world.cust_chars, r_slot[ret])
    cols = {
        "order_id": _string_array(_take_rows(order_chars, order_of_row)),
        "order_date": part["order_date"],
        "customer_id": _string_array(cust_chars, ~r_guest),
        "region": rows_now["region"], "segment": rows_now["segment"],
        "category": PROD_CAT[prod], "product": prod,
        "sales_rep": rows_now["rep"], "channel": rows_now["channel"],
        "quantity": pa.array(qty), "unit_price": pa.array(price), "revenue": pa.array(revenue),
    }
    for name in _DICT_COLUMNS:
        cols[name] = pa.DictionaryArray.from_arrays(pa.array(cols[name].astype(np.int8)),
                                                    _DICTIONARIES[name])
    table = pa.Table.from_arrays([cols[c] for c in COLUMNS], schema=_WRITE_SCHEMA)
    o_slot[order_of_row[ret]] = r_slot[ret]   # return lines are one-line orders
    o_guest[order_of_row[ret]] = r_guest[ret]
    seen = o_slot[~o_guest]
    return table, n_orders, new_carry, seen


def _empty_carry() -> dict:
    dtypes = {"day": np.int64, "slot": np.int64, "guest": bool, "region": np.int8,
              "segment": np.int8, "channel": np.int8, "rep": np.int8, "product": np.int8,
              "price": np.float64, "qty": np.int64}
    return {k: np.empty(0, dtype=v) for k, v in dtypes.items()}


# --------------------------------------------------------------------------- public API


def write_sample(path, rows: int = 200_000, seed: int = 7, chunk_rows: int = 2_000_000) -> dict:
    """Write the synthetic sales sample to ``path`` (Parquet, zstd) and return a summary.

    ``rows`` lines over 2022-01-01 .. 2024-12-31, generated day by day in chunks of at most
    ``chunk_rows`` lines (a chunk always holds whole days, so one busy day can exceed it).
    The same ``seed`` and ``rows`` give the same rows whatever ``chunk_rows``; the same three
    arguments give a byte-identical file. Returns ``{"rows", "orders", "customers",
    "first_date", "last_date", "path", "seed"}`` (dates as ISO ``YYYY-MM-DD`` strings).
    """
    rows, seed, chunk_rows = int(rows), int(seed), int(chunk_rows)
    if rows < 1:
        raise ValueError(f"rows must be at least 1, not {rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, not {seed}")
    chunk_rows = min(chunk_rows, 30_000_000)   # int32 string offsets and product keys
    path = Path(path)
    world = _plan(rows, seed)
    cum = np.concatenate([[0], np.cumsum(world.day_rows)])
    seen = np.zeros(world.cumw.size, dtype=bool)

    chunks, d0 = [], 0
    while d0 < N_DAYS:
        d1 = int(np.searchsorted(cum, cum[d0] + chunk_rows, side="right")) - 1
        d1 = min(max(d1, d0 + 1), N_DAYS)
        if cum[d1] > cum[d0]:
            chunks.append((d0, d1))
        d0 = d1

    # Pipeline: up to _AHEAD chunks generated by worker threads (phase 1), finished here in
    # order (phase 2), written by one writer thread; numpy and Parquet release the GIL.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    writer = pending = None
    parts: deque = deque()
    gen_pool = ThreadPoolExecutor(max_workers=_AHEAD, thread_name_prefix="salesnb-sample")
    write_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesnb-write")
    try:
        writer = pq.ParquetWriter(
            tmp, _WRITE_SCHEMA, compression="zstd", store_schema=False,
            use_dictionary=list(_DICT_COLUMNS) + ["quantity"],
            column_encoding={"order_date": "DELTA_BINARY_PACKED"},
            # min/max only where row groups differ (dates; measures): ids and categories
            # would cost ~20 % of the write time for statistics no reader can prune with
            write_statistics=["order_date", "quantity", "unit_price", "revenue"],
        )
        carry = _empty_carry()
        order_base = 0
        first = last = None
        todo = iter(chunks)
        for d0, d1 in itertools.islice(todo, _AHEAD):
            parts.append(gen_pool.submit(_lines, world, d0, d1))
        while parts:
            part = parts.popleft().result()
            for d0, d1 in itertools.islice(todo, 1):
                parts.append(gen_pool.submit(_lines, world, d0, d1))
            table, n_orders, carry, slots = _finish(world, part, order_base, carry)
            order_base += n_orders
            seen[slots] = True
            first = part["ts0"] if first is None else first
            last = part["ts1"]
            del part, slots
            if pending is not None:
                pending.result()
            pending = write_pool.submit(writer.write_table, table)
            del table
        if pending is not None:
            pending.result()
            pending = None
        writer.close()
        writer = None
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        for future in parts:
            future.cancel()
        for future in [*parts, pending]:
            if future is not None:
                try:
                    future.result()
                except BaseException:
                    pass
        if writer is not None:
            try:
                writer.close()
            except BaseException:
                pass
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        gen_pool.shutdown(wait=True, cancel_futures=True)
        write_pool.shutdown(wait=True)

    def iso(us):
        return str(np.datetime64(us, "us").astype("datetime64[D]"))

    return {"rows": rows, "orders": order_base, "customers": int(seen.sum()),
            "first_date": iso(first), "last_date": iso(last), "path": str(path), "seed": seed}


def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o22)
    os.umask(mask)
    return mask
