"""Pipeline findings (SPEC 10) over the canonical ``deals`` table of :mod:`salesnb.data.pipeline`.

Every figure comes from a few aggregate queries on the engine (counts and sums per outcome and
dimension value, histograms of cycle days); only those small results reach pandas.

* ``won`` / ``lost``: deals whose close date is in the window, by outcome; won revenue = Σ value
  of the won ones. ``win_rate_pct`` = won / (won + lost) × 100 (null without closed deals).
* ``cycle_days``: close date − created date in days, of the won deals closed in the window that
  have a created date; median and quartiles with linear interpolation (pandas' default).
* ``open``: deals whose stage is neither won nor lost, created on or before the period's last
  day or without a created date; by stage and by age at the period's last day (bands
  :data:`AGE_BANDS`; no created date → ``unknown``).
* ``expected_value``: Σ value × the win rate of the deals closed in the 12 months up to the
  period's end (the data has no stage history, so one rate applies to every stage).
* ``stalled``: open deals older than the 90th percentile of the cycle days of the deals won in
  those 12 months.
* ``by_rep`` / ``by_product`` / ``by_region``: per value with a closed deal in the window;
  ``material`` when it has at least :data:`MIN_CLOSED` closed deals (SPEC 9.4: 20 for a rep,
  30 for another dimension value). A deal without a value of the dimension is ``(missing)``.
"""
from __future__ import annotations

import datetime as dt

from ..periods import Period, month_index, month_start
from .literals import midnight
from .windows import Window, period_windows

AGE_BANDS = (("0-30", 0, 30), ("31-90", 31, 90), ("91-180", 91, 180), (">180", 181, None))
UNKNOWN_BAND = "unknown"
MIN_CLOSED = {"sales_rep": 20, "product": 30, "region": 30, "team": 30, "account": 30}
DIMENSION_KEYS = {"by_rep": "sales_rep", "by_product": "product", "by_region": "region"}
MISSING = "(missing)"
STALLED_QUANTILE = 0.9
TRAILING_MONTHS = 12
DAY_SECONDS = 86400


def _in(ts, window: Window):
    return (ts >= midnight(window.start)) & (ts < midnight(window.end))


def _cycle(t):
    """Whole days from the created date to the close date (times of day ignored)."""
    days = (t.close_date.truncate("D").epoch_seconds() - t.created_date.truncate("D").epoch_seconds()) / DAY_SECONDS
    return days.round().cast("int64")


def quantiles(values, counts, qs) -> list[float | None]:
    """Quantiles (linear interpolation) of values given as a histogram (value, count)."""
    import numpy as np
    values = np.asarray(list(values), dtype="float64")
    counts = np.asarray(list(counts), dtype="int64")
    if counts.sum() == 0:
        return [None for _ in qs]
    order = np.argsort(values, kind="stable")
    data = np.repeat(values[order], counts[order])
    return [float(np.quantile(data, q)) for q in qs]


def _closed(t, window: Window):
    return t.filter((t.outcome != "open") & _in(t.close_date, window))


def _dim(t, dim: str):
    return t[dim].fill_null(MISSING) if dim in t.columns else None


def _outcome_counts(t, window: Window, dims: list[str]):
    """Closed deals of the window per (dims…, outcome): deals and value."""
    c = _closed(t, window)
    keys = {d: _dim(c, d) for d in dims}
    return (c.group_by([*[v.name(k) for k, v in keys.items()], c.outcome])
            .aggregate(deals=c.count(), value=c.value.fill_null(0).sum()).to_pandas())


def _cycle_hist(t, window: Window, dim: str | None = None):
    c = t.filter((t.outcome == "won") & _in(t.close_date, window) & t.created_date.notnull())
    c = c.mutate(cycle=_cycle(c))
    keys = ([_dim(c, dim).name(dim)] if dim else []) + [c.cycle]
    return c.group_by(keys).aggregate(n=c.count()).to_pandas()


def _summary(counts, hist) -> dict:
    won = counts[counts.outcome == "won"]
    won_deals, won_value = int(won.deals.sum()), float(won.value.sum())
    lost_deals = int(counts[counts.outcome == "lost"].deals.sum())
    med, p25, p75 = quantiles(hist.cycle, hist.n, (0.5, 0.25, 0.75))
    return {"won": {"deals": won_deals, "revenue": won_value}, "lost": {"deals": lost_deals},
            "win_rate_pct": _rate(won_deals, lost_deals),
            "avg_deal_size": won_value / won_deals if won_deals else None,
            "cycle_days": {"median": med, "p25": p25, "p75": p75, "deals": int(hist.n.sum())}}


def _rate(won: int, lost: int) -> float | None:
    return 100.0 * won / (won + lost) if won + lost else None


def _by_dimension(t, window: Window, dim: str, counts) -> list[dict]:
    """One row per value with a closed deal in the window (SPEC 10's by_rep shape)."""
    per = counts.groupby([dim, "outcome"], dropna=False)[["deals", "value"]].sum().reset_index()
    hist = _cycle_hist(t, window, dim)
    rows = []
    for value in sorted(per[dim].unique(), key=str):
        mine = per[per[dim] == value]
        won = int(mine.loc[mine.outcome == "won", "deals"].sum())
        lost = int(mine.loc[mine.outcome == "lost", "deals"].sum())
        h = hist[hist[dim] == value]
        rows.append({dim: str(value), "won_revenue": float(mine.loc[mine.outcome == "won", "value"].sum()),
                     "won": won, "lost": lost, "win_rate_pct": _rate(won, lost),
                     "median_cycle_days": quantiles(h.cycle, h.n, (0.5,))[0],
                     "material": won + lost >= MIN_CLOSED[dim]})
    rows.sort(key=lambda r: (-r["won_revenue"], -r["won"], r[dim]))
    return rows


def _age_band(t, last_day: dt.date):
    import ibis
    age = ((midnight(last_day).epoch_seconds() - t.created_date.truncate("D").epoch_seconds()) / DAY_SECONDS
           ).round().cast("int64")
    cases = [(t.created_date.isnull(), UNKNOWN_BAND)]
    for name, lo, hi in AGE_BANDS:
        cases.append(((age >= lo) & (age <= hi) if hi is not None else age >= lo, name))
    return ibis.cases(*cases, else_=UNKNOWN_BAND), age


def _open(t, period_end: dt.date):
    return t.filter((t.outcome == "open") & (t.created_date.isnull() | (t.created_date < midnight(period_end))))


def open_pipeline(t, period_end: dt.date, stalled_days: float | None) -> dict:
    """Open deals at the period's end: by stage, by age band, without value, stalled."""
    import ibis
    o = _open(t, period_end)
    band, age = _age_band(o, period_end - dt.timedelta(days=1))
    stalled = (age > stalled_days) if stalled_days is not None else ibis.literal(False)
    o = o.mutate(band=band, stalled=o.created_date.notnull() & stalled, value0=o.value.fill_null(0))
    per = (o.group_by([o.stage, o.band, o.stalled])
           .aggregate(deals=o.count(), value=o.value0.sum(), no_value=o.value.isnull().sum()).to_pandas())
    by_stage = (per.groupby("stage")[["deals", "value"]].sum().reset_index().sort_values("stage"))
    by_band = per.groupby("band")[["deals", "value"]].sum()
    bands = [b for b, _, _ in AGE_BANDS] + [UNKNOWN_BAND]
    st = per[per.stalled]
    return {
        "deals": int(per.deals.sum()), "value": float(per.value.sum()), "without_value": int(per.no_value.sum()),
        "by_stage": [{"stage": str(r.stage), "deals": int(r.deals), "value": float(r.value)}
                     for r in by_stage.itertuples()],
        "by_age": [{"band": b, "deals": int(by_band.deals.get(b, 0)), "value": float(by_band.value.get(b, 0.0))}
                   for b in bands],
        "stalled": {"threshold_days": stalled_days, "deals": int(st.deals.sum()), "value": float(st.value.sum())},
    }


def trailing_window(period: Period, current: Window) -> Window:
    """The 12 months up to the period's end (the expected value's and the stall threshold's)."""
    end = current.end
    start = month_start(month_index(period.end) - TRAILING_MONTHS)
    return Window(f"12 months to {(end - dt.timedelta(days=1)).isoformat()}", start, end)


def _concentration(t, window: Window, won_revenue: float) -> dict:
    """Won revenue's share of the top rep, and of the top ⌈20%⌉ of the accounts with a won deal."""
    import math
    c = t.filter((t.outcome == "won") & _in(t.close_date, window))
    out = {}
    for key, dim in (("top_rep", "sales_rep"), ("top_accounts", "account")):
        if dim not in t.columns or not won_revenue:
            out[key] = None
            continue
        named = c.filter(c[dim].notnull())
        per = (named.group_by(named[dim].name("name"))
               .aggregate(revenue=named.value.fill_null(0).sum(), deals=named.count()).to_pandas())
        count = len(per)   # one row per value: a small result
        n = 1 if dim == "sales_rep" else max(1, math.ceil(0.2 * count))
        top = per.sort_values(["revenue", "name"], ascending=[False, True]).head(n)
        out[key] = {"names": [str(x) for x in top.name], "revenue": float(top.revenue.sum()),
                    "deals": int(top.deals.sum()), "share_pct": 100.0 * float(top.revenue.sum()) / won_revenue,
                    "of": count}
    return out


def window_summary(t, window: Window) -> dict:
    return _summary(_outcome_counts(t, window, []), _cycle_hist(t, window))


def pipeline_findings(dataset, period: Period) -> tuple[dict, dict, dict]:
    """(the ``pipeline`` findings, the period's ``period``/``comparison`` keys, tables)."""
    t = dataset.table
    wins = period_windows(period, dataset.quality)
    cur: Window = wins["current"]
    dims = [d for d in DIMENSION_KEYS.values() if d in t.columns]
    counts = _outcome_counts(t, cur, dims)
    out = _summary(counts.groupby("outcome")[["deals", "value"]].sum().reset_index(), _cycle_hist(t, cur))
    for key, dim in DIMENSION_KEYS.items():
        out[key] = _by_dimension(t, cur, dim, counts) if dim in dims else None
    trailing = trailing_window(period, cur)
    trail = window_summary(t, trailing)
    hist = _cycle_hist(t, trailing)
    stall_days = quantiles(hist.cycle, hist.n, (STALLED_QUANTILE,))[0]
    out["open"] = open_pipeline(t, cur.end, stall_days)
    rate = trail["win_rate_pct"]
    out["expected_value"] = {
        "value": out["open"]["value"] * rate / 100.0 if rate is not None else None,
        "method": "trailing_12m_win_rate", "win_rate_pct": rate,
        "won": trail["won"]["deals"], "lost": trail["lost"]["deals"], "window": trailing.to_dict(),
        "note": "The data has no stage history, so the win rate of the deals closed in the 12 months up to the "
                "period's end applies to every open deal."}
    out["stalled"] = dict(out["open"].pop("stalled"), quantile=STALLED_QUANTILE, window=trailing.to_dict(),
                          won_in_window=int(hist.n.sum()))
    out["concentration"] = _concentration(t, cur, out["won"]["revenue"])
    for key in ("previous", "year_ago"):
        w = wins[key]["window"]
        out[key] = dict(window_summary(t, w), window=w.to_dict()) if w is not None else None
    period_info = dict(period.to_dict(), partial=bool(wins["partial"]), data_start=cur.start.isoformat(),
                       data_end=(cur.end - dt.timedelta(days=1)).isoformat(), kind=period.kind,
                       fiscal_year_start=period.fiscal_year_start)
    comparison = {"like_for_like": bool(wins["partial"]),
                  **{k: {kk: vv for kk, vv in wins[k].items() if kk != "window"} for k in ("previous", "year_ago")}}
    tables = {"pipeline_by_rep": _frame(out["by_rep"]), "pipeline_open_by_age": _frame(out["open"]["by_age"]),
              "pipeline_open_by_stage": _frame(out["open"]["by_stage"])}
    return out, {"period": period_info, "comparison": comparison}, tables


def _frame(rows):
    import pandas as pd
    return pd.DataFrame(rows or [])
