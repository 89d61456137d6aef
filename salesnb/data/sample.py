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
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .sample_world import (
    COLUMNS, DISC_LO, DISC_SPAN, LUT_BITS, MAX_QTY, N_DAYS, PROD_CAT, PROD_EXTRA, PROD_PRICE, P_BREAK,
    P_CANDIDATE, P_GUEST, P_RETURN, REP_SIZE, RETURN_DAYS, SCHEMA, SEG_QTY, VOLUME_DISCOUNT, VOLUME_QTY,
    _AHEAD, _DICTIONARIES, _DICT_COLUMNS, _HOUR_CDF, _HOUR_SEC, _RET_FIELDS, _SEG_CHANNEL_LUT,
    _SEG_PRODUCT_LUT, _TAG_DAY, _WRITE_SCHEMA, _World, _bins, _consecutive_ids, _distinct_products, _draw,
    _draw_exp, _pick_region, _plan, _sample_customers, _string_array, _take_rows,
)

__all__ = ["write_sample", "SCHEMA", "COLUMNS"]


def _lines(world: _World, d0: int, d1: int) -> dict:
    # long: one vectorised pass over a chunk's days, whose steps share a dozen arrays
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
    # long: the returns and the columns of a chunk in one pass over the same arrays
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
    # long: the writer pipeline (workers, ordered writes, rename) reads best in one piece
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
