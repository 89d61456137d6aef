"""The world of the synthetic sample (:mod:`salesnb.data.sample`): its constants (regions,
segments, reps, products, seasons), the customer pool and calendar it is drawn from, and the
vectorised helpers that draw from them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

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
    # long: the customer pool is drawn in one pass; each draw uses the ones before
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
