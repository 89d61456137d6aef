"""Leaders over time (findings ``revenue.leaders``): who led, quarter by quarter.

For each of the last 8 quarters (fiscal, per ``fiscal_year_start``) up to the period's end --
fewer when the data starts later -- the top sales rep, or without a ``sales_rep`` column the top
value of each dimension, overall and in each region. Leader = the value with the highest net
revenue in the quarter (ties by value); lines without a value of the dimension count toward the
totals but never lead. ``share_pct`` = the leader's revenue / all revenue of the quarter (of the
region, per region) × 100. A quarter cut by the data's edges or by the period's end is ``partial``.
Sums are exact (DECIMAL) and the ranking is done on the engine: one scan of the lines per dimension\n(kept as a small engine table), ranked overall and per region.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import ibis
import pandas as pd

from ..periods import Period, month_index, month_label, month_start
from .missing import is_missing
from .money import MONEY
from .orders import cache_table, release_table

QUARTERS = 8
SMALL = 50_000  # up to this many quarter × region × value rows are ranked here, more on the engine


def leader_quarters(period: Period, quality, n: int = QUARTERS) -> list[dict]:
    """The last ``n`` quarters up to ``period``'s end that overlap the data, oldest first: each
    {label, start, end (exclusive), partial} with start/end cut to the data and the period's end."""
    from .windows import data_bounds
    first, end, cover_start, cover_end = data_bounds(quality)
    fys = period.fiscal_year_start
    last = month_index(period.last_day)
    q_start = last - (last - (fys - 1)) % 3
    partial_months = set(quality.partial_months)
    out = []
    for k in range(n):
        s = q_start - 3 * k
        p = Period("", "quarter", month_start(s), month_start(s + 3), fys).shifted(0)
        start, stop = max(p.start, first), min(p.end, end, period.end)
        if stop <= start:
            break
        partial = (p.start < cover_start or p.end > cover_end or p.end > period.end
                   or any(month_label(i) in partial_months for i in range(s, s + 3)))
        out.append({"label": p.label, "start": start, "end": stop, "partial": bool(partial)})
    return out[::-1]


def _aggregate(t, dim: str, by_region: bool, quarters: list[dict]):
    """One scan of the lines of the quarters: exact net revenue per quarter (``qi``), region
    (when ``by_region``) and value of ``dim`` (null kept: it counts toward the totals)."""
    from .literals import midnight
    from .missing import MISSING_LABEL
    w = t.filter((t.order_date >= midnight(quarters[0]["start"])) & (t.order_date < midnight(quarters[-1]["end"])))
    cases = [((w.order_date >= midnight(q["start"])) & (w.order_date < midnight(q["end"])), i)
             for i, q in enumerate(quarters)]
    keys = {"qi": ibis.cases(*cases, else_=-1)}
    if by_region:
        keys["region"] = w.region.cast("string").fill_null(MISSING_LABEL)
    keys["value"] = w[dim].cast("string")
    return w.group_by(**keys).aggregate(revenue=w.revenue.cast(MONEY).sum())


def _leaders(agg, by: list[str]) -> pd.DataFrame:
    """Per quarter (and ``by`` group) of :func:`_aggregate`'s rows: the top value with its revenue
    and the group's total (ranked on the engine; ties by value)."""
    part = ["qi", *by]
    if "region" in agg.columns and "region" not in by:
        agg = agg.group_by(["qi", "value"]).aggregate(revenue=agg.revenue.sum())
    agg = agg.mutate(total=agg.revenue.sum().over(ibis.window(group_by=[agg[c] for c in part])))
    agg = agg.filter(agg.value.notnull() & (agg.qi >= 0))
    agg = agg.mutate(rank=ibis.row_number().over(
        ibis.window(group_by=[agg[c] for c in part], order_by=[ibis.desc(agg.revenue), agg.value])))
    top = agg.filter(agg["rank"] == 0).select(*part, "value", revenue=agg.revenue.cast("float64"),
                                              total=agg.total.cast("float64"))
    return top.to_pandas()


def _leaders_here(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """:func:`_leaders` on the rows of :func:`_aggregate` fetched as a frame."""
    from .bridge import _dec
    part = ["qi", *by]
    totals: dict = defaultdict(Decimal)
    values: dict = defaultdict(Decimal)
    for rec in frame.itertuples(index=False):
        if rec.qi < 0:
            continue
        key = tuple(getattr(rec, c) for c in part)
        rev = _dec(rec.revenue)
        totals[key] += rev
        if not is_missing(rec.value):
            values[(key, str(rec.value))] += rev
    best: dict = {}
    for (key, value), rev in values.items():
        if key not in best or (-rev, value) < (-best[key][1], best[key][0]):
            best[key] = (value, rev)
    rows = [{**dict(zip(part, key)), "value": v, "revenue": float(r), "total": float(totals[key])}
            for key, (v, r) in sorted(best.items())]
    return pd.DataFrame(rows, columns=[*part, "value", "revenue", "total"])


def leaders_findings(dataset, period: Period) -> tuple[dict, dict]:
    """``revenue.leaders`` and the table ``revenue_leaders`` (one row per quarter, dimension and
    region -- region null for the overall leader)."""
    dims = list(dataset.dimensions)
    lead_dims = ["sales_rep"] if "sales_rep" in dims else dims
    by_region = "region" in dims
    quarters = leader_quarters(period, dataset.quality)
    out = {"dimensions": lead_dims, "by_region": by_region, "quarters": []}
    rows = []
    if not quarters or not lead_dims:
        return out, {}
    t = dataset.table
    for q in quarters:
        out["quarters"].append({"quarter": q["label"], "start": q["start"].isoformat(),
                                "end": (q["end"] - dt.timedelta(days=1)).isoformat(), "partial": q["partial"],
                                "revenue": None, "top": {}})
    for dim in lead_dims:
        regions = by_region and dim != "region"
        agg = _aggregate(t, dim, regions, quarters)
        small = agg.limit(SMALL + 1).to_pandas()
        if len(small) <= SMALL:  # the usual case: rank the few rows here (exact Decimal sums)
            overall = _leaders_here(small, [])
            regional = _leaders_here(small, ["region"]) if regions else None
        else:  # many values (products by region): rank on the engine
            agg = cache_table(agg)
            try:
                overall = _leaders(agg, [])
                regional = _leaders(agg, ["region"]) if regions else None
            finally:
                release_table(agg)
        for i, entry in enumerate(out["quarters"]):
            o = overall[overall["qi"] == i]
            lead = None
            if len(o):
                r = o.iloc[0]
                lead = {"value": str(r["value"]), "revenue": float(r["revenue"]),
                        "share_pct": _share(r["revenue"], r["total"])}
                entry["revenue"] = float(r["total"])
                rows.append({"quarter": entry["quarter"], "dimension": dim, "region": None, **lead})
            per_region = None
            if regional is not None:
                per_region = []
                g = regional[regional["qi"] == i].sort_values("region")
                for r in g.itertuples(index=False):
                    item = {"region": str(r.region), "value": str(r.value), "revenue": float(r.revenue),
                            "share_pct": _share(r.revenue, r.total), "region_revenue": float(r.total)}
                    per_region.append(item)
                    rows.append({"quarter": entry["quarter"], "dimension": dim, "region": item["region"],
                                 "value": item["value"], "revenue": item["revenue"], "share_pct": item["share_pct"]})
            entry["top"][dim] = {"overall": lead, "by_region": per_region}
    if any(e["revenue"] is None for e in out["quarters"]):
        totals = _quarter_totals(t, quarters)
        for i, e in enumerate(out["quarters"]):
            if e["revenue"] is None:
                e["revenue"] = totals.get(i, 0.0)
    table = pd.DataFrame(rows, columns=["quarter", "dimension", "region", "value", "revenue", "share_pct"])
    return out, {"revenue_leaders": table}


def _quarter_totals(t, quarters) -> dict:
    from .literals import midnight
    aggs = {}
    for i, q in enumerate(quarters):
        c = (t.order_date >= midnight(q["start"])) & (t.order_date < midnight(q["end"]))
        aggs[f"q{i}"] = t.revenue.cast(MONEY).sum(where=c).cast("float64")
    row = t.aggregate(**aggs).to_pandas().iloc[0]
    return {i: (0.0 if pd.isna(row[f"q{i}"]) else float(row[f"q{i}"])) for i in range(len(quarters))}


def _share(part, total):
    if total is None or pd.isna(total) or float(total) == 0:
        return None
    return float(part) / float(total) * 100.0
