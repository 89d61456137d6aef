"""Customer findings (SPEC 4 item 3, SPEC 5 ``customers``): counts, RFM, cohorts,
concentration, lifetime value and what sets high-value customers apart.

Everything is computed in the engine as Ibis expressions; only small results (one row per
segment, cohort cell, curve point) and, for the CLV models, the one-row-per-customer summary
become pandas. The per-customer summary is materialised once as a temporary engine table
(``Table.cache()``) and released at the end. Money is summed exactly (DECIMAL, see
:func:`salesnb.metrics.rfm.money_sum`), so the same data gives byte-identical findings, CLV fit
included.

Definitions (identified customers only; rows without a customer id are left out of every
customer analysis, and their share of revenue is stated):

* *order*: a distinct ``order_id`` whose net revenue within the window (over all its lines) is
  positive (SPEC 2.4). Windows: the period, the RFM window, all history up to the period end.
* ``count``: distinct customer ids with an order in the period -- the same definition (and so the
  same number) as ``revenue.customers``.
* ``new``: period customers whose first order ever (all history up to the period end) is in the
  period; ``returning`` = ``count`` − ``new``. When the data starts inside or shortly before the
  period, "new" includes customers who bought before the data begins: ``history_months_before_period``
  says how much history the split rests on.
* ``orders_per_customer``: the period customers' orders / ``count``; ``revenue_per_customer`` =
  identified revenue of the period / ``count`` (SPEC 2.4).
* ``top20_revenue_share_pct``: period customers ranked by their net revenue in the period (ties by
  customer id); the top ``ceil(0.2 × count)`` customers' revenue / the revenue of all period
  customers × 100. The Pareto curve (``customers_pareto``) uses the same ranking and denominator.
* RFM (see :mod:`salesnb.metrics.rfm`): ``rfm_customers`` = customers with an order in the RFM
  window; ``at_risk_share_pct`` = customers in At Risk, Can't Lose Them and About to Sleep /
  ``rfm_customers`` × 100; ``at_risk_revenue`` = those customers' net revenue in the 12 months up to
  the period end.
* ``one_time_buyers``: RFM-window customers with exactly one order in the window.
* ``second_order_rate_pct``: of the customers whose first order was at least 90 days before the
  period's last day, the share with a second order (any time up to the period end).
* ``one_time_repeat``: the previous period's one-time buyers (customers whose only order before the
  period lies in the previous period), how many of them ordered again within one period length
  (in the period) and that rate; ``period_one_time_buyers`` = customers whose only order up to the
  period end lies in the period (the population the rate is applied to). ``previous_new``: new
  customers of the previous period; ``last_acquisition_month``: the month of the latest first order.
* ``reactivation_rate_pct``: reference day = the day before the period starts. Customers *lapsed*
  then (an order before the period, but none in the 180 days up to the reference day) who ordered
  again in the period / lapsed × 100; null without lapsed customers. ``reactivation`` also gives the
  customers lapsed at the period end (no order in the last 180 days) and their average order value,
  for win-back estimates.
* ``win_back``: the win-back rate, measured on the population it is applied to (SPEC 9.4): of the
  customers in the churn-risk segments when RFM is scored as of the previous period's last day
  (its own RFM window, same rules), the share who ordered in the period (``rate_pct``, on
  ``at_risk_customers`` of them). Absent for an all-history period (no previous period).
* ``cohort_retention``: see :func:`salesnb.metrics.cohorts.retention_summary`.
* ``high_value``: the top 10% of RFM customers by window revenue (``ceil``; ties by customer id)
  against the rest: customers, revenue share, orders per customer, average order value (revenue /
  orders), average recency; for each dimension the data has (region, segment, category, channel),
  the value with the most top-decile revenue and its share among top-decile vs other customers.
* ``clv``: historical CLV = net revenue of customers with an order, up to the period end
  (``historical_total``; ``historical_per_customer`` = / those customers). Predicted CLV = BG/NBD
  expected purchases in the next 12 months × Gamma-Gamma expected spend per purchase, summed over
  customers (undiscounted), given only when the models pass the holdout and degenerate-fit checks
  of SPEC 9.3 (``clv.validation``) -- computed by :mod:`salesnb.models.clv_findings`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math

import ibis
import pandas as pd

from ..periods import Period, month_index
from . import cohorts as cohort_metrics
from . import rfm
from .ids import id_order
from .literals import date_literal, midnight
from .missing import MISSING_LABEL, finite_or_none as _f, one_row as _row, pct as _pct, ratio as _div, whole as _i
from .money import MONEY
from .orders import atomic_orders, cache_table, release_table, shared
from .rfm import fsum, money_cumsum, money_sum

LAPSE_DAYS = 180
SECOND_ORDER_MIN_DAYS = 90
HIGH_VALUE_SHARE = 0.10
TOP_SHARE = 0.20
HIGH_VALUE_DIMENSIONS = ("region", "segment", "category", "channel")


# --------------------------------------------------------------------------- helpers

@contextlib.contextmanager
def _cached(expr):
    """Materialise ``expr`` as a temporary engine table for the block (if the backend can)."""
    cached = cache_table(expr)
    try:
        yield cached
    finally:
        if cached is not expr:
            release_table(cached)


# --------------------------------------------------------------------------- main entry

# one function (~80 lines): the cached per-customer tables live for exactly this block
def customer_findings(dataset, period: Period, revenue_findings: dict | None = None, *, clv=None) -> tuple[dict, dict]:
    """The ``customers`` section of the findings and its small tables (``customers_*``).

    ``clv``: computes ``customers.clv`` on the per-customer summary while it is cached
    (:func:`salesnb.models.clv_findings.clv_findings`, passed in by the findings: metrics never
    import models); without it the section has no ``clv``."""
    t = dataset.table
    config = dataset.config
    lookback = getattr(config, "rfm_lookback_months", None)
    end = period.end
    last_day = period.last_day
    w_start, _ = rfm.rfm_window(period, lookback)
    y_start = rfm.months_before(end, 12)
    windows = {
        "h": (None, end),                                        # all history up to the period end
        "w": (w_start, end),                                     # the RFM window
        "p": (period.start, end, ("orders", "revenue")),         # the period
        "y": (y_start, end, ("revenue",)),                       # the 12 months up to the period end
        "pre": (None, period.start, ("orders", "last")),         # before the period (reactivation)
    }
    rfm_name = "w"
    if w_start is None:            # the RFM window is all history: score on "h", compute it once
        del windows["w"]
        rfm_name = "h"
    prev = period.previous() if period.kind != "all" else None
    prev_rfm = None                # the RFM window as of the previous period's end (win-back rate)
    if prev is not None:
        pw_start = rfm.rfm_window(prev, lookback)[0]
        prev_rfm = "pw"
        if pw_start is None and prev.end == period.start:     # all history before the period: "pre"
            windows["pre"] = (None, period.start)
            prev_rfm = "pre"
        else:
            windows["pw"] = (pw_start, prev.end)
    q = dataset.quality
    tables: dict[str, pd.DataFrame] = {}
    with contextlib.ExitStack() as stack:
        orders = atomic_orders(dataset)
        summary = stack.enter_context(_cached(rfm.customer_summary(t, windows, orders)))
        out = _period_figures(dataset, summary, period)
        if revenue_findings and revenue_findings.get("customers") is not None:
            expected = int(revenue_findings["customers"])
            if expected != out["count"]:
                raise AssertionError(
                    f"customers.count ({out['count']}) differs from revenue.customers ({expected}) for "
                    f"{period.label}: the two customer definitions diverged (a bug in salesnb).")
        out["missing_customer_revenue_share_pct"] = _f((q.missing_customer or {}).get("revenue_share_pct"))
        out["missing_customer"] = {k: v for k, v in dict(q.missing_customer or {}).items()}

        # RFM
        scored = stack.enter_context(_cached(rfm.score(summary, rfm_name, last_day, keep=("y_revenue", "h_revenue"))))
        rfm_part, rfm_tables = _rfm_figures(scored, w_start, end, lookback)
        out.update(rfm_part)
        tables.update(rfm_tables)
        out["high_value"] = high_value(dataset, scored, w_start, end)
        if prev is not None:
            out["win_back"] = win_back_figures(summary, prev_rfm, prev, period, lookback, dataset.quality.last_date)

        # concentration
        conc, pareto = concentration(summary)
        out.update(conc)
        tables["customers_pareto"] = pareto

        # cohorts
        first_month = q.first_date[:7] if q.first_date else None
        months = None
        if orders is not None:      # every report of this load can reuse it
            months = shared(dataset, "customer_months", lambda: cohort_metrics.customer_months(t, None, orders))
        cells = cohort_metrics.cohort_cells(t, end, partial_months=q.partial_months, orders=orders, months=months)
        out["cohort_retention"] = cohort_metrics.retention_summary(cells, first_data_month=first_month)
        tables["customers_cohorts"] = cells[["cohort", "month_offset", "month", "cohort_customers",
                                             "active_customers", "retention_pct", "partial"]].reset_index(drop=True)
        tables["customers_cohort_revenue"] = cells[["cohort", "month_offset", "month", "cohort_customers",
                                                    "revenue", "revenue_retention_pct", "partial"]].reset_index(drop=True)

        if clv is not None:    # lifetime value
            out["clv"], clv_tables = clv(dataset, period, summary, trailing_revenue=out.get("trailing_12m_revenue"))
            tables.update(clv_tables)
    out["definitions"] = DEFINITIONS
    return out, tables


DEFINITIONS = {
    "order": "a distinct order id whose net revenue within the window is positive",
    "count": "distinct customer ids with an order in the period (rows without a customer id are left out)",
    "new": "period customers whose first order ever (up to the period end) is in the period",
    "rfm": "recency = days from the last order to the period's last day; frequency = orders; monetary = net "
           "revenue, all in the RFM window; quintile scores by ntile(5), ties split by customer id",
    "top20_revenue_share_pct": "revenue of the top ceil(20%) of period customers by period revenue / revenue of "
                               "all period customers",
    "at_risk_share_pct": "customers in At Risk, Can't Lose Them and About to Sleep / rfm_customers",
    "reactivation_rate_pct": f"customers with no order in the {LAPSE_DAYS} days before the period who ordered in "
                             "the period / those lapsed customers",
    "win_back_rate_pct": "customers in the churn-risk RFM segments as of the previous period's last day who "
                         "ordered in the period / those customers",
    "second_order_rate_pct": f"customers whose first order was >= {SECOND_ORDER_MIN_DAYS} days before the period's "
                             "last day with a second order / those customers",
    "clv": "predicted = BG/NBD expected purchases in the next 12 months x Gamma-Gamma expected spend, "
           "undiscounted, time unit weeks, shown only when the models pass a check on the last weeks "
           "(validation); purchases = customer-days with positive net revenue not reversed by a return "
           "within 30 days; historical = net revenue to date",
}


# --------------------------------------------------------------------------- period figures

# one function (~100 lines): one aggregate over the summary, then its figures in the section's key order
def _period_figures(dataset, summary, period: Period) -> dict:
    s = summary
    last_day = date_literal(period.last_day)
    ref_day = period.start - dt.timedelta(days=1)
    in_p = s.p_orders > 0
    has_h = s.h_orders > 0
    new = in_p & (s.h_first.isnull() | (s.h_first >= midnight(period.start)))
    eligible = has_h & (last_day.delta(s.h_first.date(), unit="day") >= SECOND_ORDER_MIN_DAYS)
    lapsed_then = (s.pre_orders > 0) & (date_literal(ref_day).delta(s.pre_last.date(), unit="day") >= LAPSE_DAYS)
    lapsed_now = has_h & (last_day.delta(s.h_last.date(), unit="day") >= LAPSE_DAYS)
    # one-time buyers (SPEC 9.4): the previous period's -- their only order before the period lies in
    # the previous period -- and whether they ordered again in the period (one period length on)
    prev = period.previous() if period.kind != "all" else None
    prev_start = prev.start if prev is not None else period.start
    prev_one_time = (s.pre_orders == 1) & (s.pre_last >= midnight(prev_start))
    period_one_time = (s.h_orders == 1) & (s.h_first >= midnight(period.start))
    row = _row(s.aggregate(
        previous_new=(has_h & (s.h_first >= midnight(prev_start)) & (s.h_first < midnight(period.start))).sum(),
        last_first_order=s.h_first.max(where=has_h),
        previous_one_time=prev_one_time.sum(),
        previous_one_time_reordered=(prev_one_time & in_p).sum(),
        period_one_time=period_one_time.sum(),
        count=in_p.sum(),
        new=new.sum(),
        period_orders=s.p_orders.sum(where=in_p),
        identified_revenue=money_sum(s.p_revenue),
        period_customers_revenue=money_sum(s.p_revenue, where=in_p),
        history_customers=has_h.sum(),
        historical_total=money_sum(s.h_revenue, where=has_h),
        trailing_12m_revenue=money_sum(s.y_revenue),
        eligible=eligible.sum(),
        second=(eligible & (s.h_orders >= 2)).sum(),
        lapsed=lapsed_then.sum(),
        reactivated=(lapsed_then & in_p).sum(),
        lapsed_now=lapsed_now.sum(),
        lapsed_now_revenue=money_sum(s.h_revenue, where=lapsed_now),
        lapsed_now_orders=s.h_orders.sum(where=lapsed_now),
    ))
    t = dataset.table
    w = t.filter((t.order_date >= midnight(period.start)) & (t.order_date < midnight(period.end)))
    tot = _row(w.aggregate(total=money_sum(w.revenue), unidentified=money_sum(w.revenue, where=w.customer_id.isnull()),
                           unidentified_rows=w.customer_id.isnull().sum()))
    count = _i(row.get("count"))
    new_n = _i(row.get("new"))
    identified = _f(row.get("identified_revenue")) or 0.0
    total = _f(tot.get("total")) or 0.0
    q = dataset.quality
    first = dt.date.fromisoformat(q.first_date) if q.first_date else period.start
    history_months = max(0, month_index(period.start) - month_index(first))
    lapsed = _i(row.get("lapsed"))
    reactivated = _i(row.get("reactivated"))
    eligible_n = _i(row.get("eligible"))
    lapsed_now_n = _i(row.get("lapsed_now"))
    prev_ot = _i(row.get("previous_one_time")) if prev is not None else 0
    return {
        "available": True,
        "count": count,
        "new": new_n,
        "returning": count - new_n,
        "new_share_pct": _pct(new_n, count),
        "history_months_before_period": history_months,
        "orders": _i(row.get("period_orders")),
        "orders_per_customer": _div(row.get("period_orders"), count),
        "revenue_per_customer": _div(identified, count),
        "identified_revenue": identified,
        "period_customers_revenue": _f(row.get("period_customers_revenue")) or 0.0,
        "unidentified_revenue": _f(tot.get("unidentified")) or 0.0,
        "unidentified_rows": _i(tot.get("unidentified_rows")),
        "unidentified_revenue_share_pct": _pct(_f(tot.get("unidentified")) or 0.0, total) if total else None,
        "trailing_12m_revenue": _f(row.get("trailing_12m_revenue")) or 0.0,
        "history_customers": _i(row.get("history_customers")),
        "historical_total": _f(row.get("historical_total")) or 0.0,
        "second_order_rate_pct": _pct(row.get("second"), eligible_n) if eligible_n else None,
        "second_order": {"eligible_customers": eligible_n, "with_second_order": _i(row.get("second")),
                         "min_days_since_first_order": SECOND_ORDER_MIN_DAYS},
        "previous_new": _i(row.get("previous_new")) if prev is not None else None,
        "last_acquisition_month": (pd.Timestamp(row["last_first_order"]).strftime("%Y-%m")
                                   if row.get("last_first_order") is not None
                                   and not pd.isna(row["last_first_order"]) else None),
        "one_time_repeat": {
            "previous_period": prev.label if prev is not None else None,
            "previous_one_time_buyers": prev_ot,
            "reordered": _i(row.get("previous_one_time_reordered")),
            "rate_pct": _pct(row.get("previous_one_time_reordered"), prev_ot) if prev_ot else None,
            "followup_start": period.start.isoformat(),
            "followup_end": min(period.last_day, dt.date.fromisoformat(q.last_date)).isoformat()
            if q.last_date else period.last_day.isoformat(),
            "followup_days": (period.end - period.start).days,
            "period_one_time_buyers": _i(row.get("period_one_time")),
        },
        "reactivation_rate_pct": _pct(reactivated, lapsed) if lapsed else None,
        "reactivation": {
            "lapse_days": LAPSE_DAYS,
            "reference_date": ref_day.isoformat(),
            "lapsed_customers": lapsed,
            "reactivated_customers": reactivated,
            "rate_pct": _pct(reactivated, lapsed) if lapsed else None,
            "lapsed_at_period_end": lapsed_now_n,
            "lapsed_at_period_end_revenue": _f(row.get("lapsed_now_revenue")) or 0.0,
            "lapsed_at_period_end_aov": _div(row.get("lapsed_now_revenue"), row.get("lapsed_now_orders")),
        },
    }


# --------------------------------------------------------------------------- RFM figures

def _rfm_figures(scored, w_start, end, lookback) -> tuple[dict, dict]:
    segments = rfm.segment_summary(scored)
    heat = rfm.rf_heatmap(scored)
    n = int(segments.customers.sum())
    risk = scored.filter(scored.segment.isin(list(rfm.CHURN_RISK_SEGMENTS)))
    row = _row(scored.aggregate(
        one_time=(scored.frequency == 1).sum(),
        revenue=money_sum(scored.monetary),
        frequency=scored.frequency.sum(),
        recency=scored.recency_days.sum(),
    ))
    risk_row = _row(risk.aggregate(n=risk.count(), revenue=money_sum(risk.y_revenue)))
    risk_n = _i(risk_row.get("n"))
    one_time = _i(row.get("one_time"))
    records = []
    for rec in segments.to_dict("records"):
        records.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in rec.items()
                        if k not in ("description",)})
    out = {
        "rfm_window": {"start": w_start.isoformat() if w_start else None,
                       "end": (end - dt.timedelta(days=1)).isoformat(),
                       "lookback_months": lookback},
        "rfm_customers": n,
        "rfm_revenue": _f(row.get("revenue")) or 0.0,
        "rfm_segments": records,
        "at_risk_customers": risk_n,
        "at_risk_share_pct": _pct(risk_n, n) if n else None,
        "at_risk_revenue": _f(risk_row.get("revenue")) or 0.0,
        "at_risk_segments": list(rfm.CHURN_RISK_SEGMENTS),
        "one_time_buyers": one_time,
        "one_time_buyers_share_pct": _pct(one_time, n) if n else None,
        "rfm_avg_frequency": _div(row.get("frequency"), n),
        "rfm_avg_recency_days": _div(row.get("recency"), n),
        "segment_grid": {f"R{r}": {f"FM{fm}": rfm.segment_of(r, fm) for fm in range(1, 6)} for r in range(5, 0, -1)},
    }
    return out, {"customers_rfm_segments": segments, "customers_rf_heatmap": heat,
                 "customers_segment_grid": rfm.grid_frame()}


def win_back_figures(summary, window: str, prev: Period, period: Period, lookback, last_date: str | None) -> dict:
    """The rate a win-back estimate applies (SPEC 9.4: measured on the population it is applied
    to): the customers in the churn-risk segments when RFM is scored as of the previous period's
    last day (``window`` of the summary: the RFM window ending then, the same rules), and how many
    of them ordered in the period. One extra scoring of the per-customer summary, no pass over the
    lines."""
    scored = rfm.score(summary, window, prev.last_day, keep=("p_orders",))
    risk = scored.segment.isin(list(rfm.CHURN_RISK_SEGMENTS))
    row = _row(scored.aggregate(total=scored.count(), n=risk.sum(), ordered=(risk & (scored.p_orders > 0)).sum()))
    total, n, ordered = _i(row.get("total")), _i(row.get("n")), _i(row.get("ordered"))
    w_start, _ = rfm.rfm_window(prev, lookback)
    followup_end = period.last_day if last_date is None else min(period.last_day, dt.date.fromisoformat(last_date))
    return {
        "previous_period": prev.label,
        "as_of": prev.last_day.isoformat(),
        "rfm_window": {"start": w_start.isoformat() if w_start else None, "end": prev.last_day.isoformat(),
                       "lookback_months": lookback},
        "rfm_customers": total,
        "at_risk_customers": n,
        "ordered_in_period": ordered,
        "rate_pct": _pct(ordered, n) if n else None,
        "followup_start": period.start.isoformat(),
        "followup_end": followup_end.isoformat(),
        "segments": list(rfm.CHURN_RISK_SEGMENTS),
    }


# --------------------------------------------------------------------------- concentration

def concentration(summary) -> tuple[dict, pd.DataFrame]:
    """Top-20% share and the Pareto curve of the period's customers (see module docstring)."""
    s = summary.filter(summary.p_orders > 0).select("customer_id", rev=summary.p_revenue)
    n = _i(_row(s.aggregate(n=s.count())).get("n"))
    empty = pd.DataFrame(columns=["customers", "customer_share_pct", "revenue_share_pct"])
    out = {"top20_revenue_share_pct": None, "top20_customers": 0, "top_group_pct": 100.0 * TOP_SHARE,
           "top10_revenue_share_pct": None,
           "top_customer_share_pct": None, "concentration_basis": "revenue of the period's customers"}
    if n == 0:
        return out, empty
    order = [s.rev.desc(), id_order(s.customer_id).asc()]
    ranked = s.mutate(rank=ibis.row_number().over(order_by=order) + 1,
                      cum=money_cumsum(s.rev, order))
    ks = sorted({math.ceil(p * n / 100 - 1e-9) for p in range(0, 101)} |
                {rfm.top_k(n, TOP_SHARE), rfm.top_k(n, HIGH_VALUE_SHARE), 1, n} - {0})
    pts = ranked.filter(ranked["rank"].isin(ks)).select("rank", "cum").to_pandas()
    cum = {int(r.rank): float(r.cum) for r in pts.itertuples()}
    total = cum.get(n, 0.0)
    share = (lambda k: 100.0 * cum[k] / total if total > 0 else None)
    k20, k10 = rfm.top_k(n, TOP_SHARE), rfm.top_k(n, HIGH_VALUE_SHARE)
    out.update({"top20_revenue_share_pct": share(k20), "top20_customers": k20,
                "top10_revenue_share_pct": share(k10), "top_customer_share_pct": share(1)})
    curve_ks = sorted({0} | {math.ceil(p * n / 100 - 1e-9) for p in range(0, 101)})
    rows = [{"customers": 0, "customer_share_pct": 0.0, "revenue_share_pct": 0.0}]
    rows += [{"customers": k, "customer_share_pct": 100.0 * k / n, "revenue_share_pct": share(k)}
             for k in curve_ks if k > 0]
    return out, pd.DataFrame(rows)


# --------------------------------------------------------------------------- high value

def high_value(dataset, scored, w_start, end) -> dict:
    """Top-decile RFM customers (by window revenue) against the rest."""
    n = _i(_row(scored.aggregate(n=scored.count())).get("n"))
    k = rfm.top_k(n, HIGH_VALUE_SHARE)
    out = {"definition": "top 10% of RFM customers by net revenue in the RFM window (ceil; ties by customer id)",
           "share_pct": 100.0 * HIGH_VALUE_SHARE, "customers": k, "groups": {}, "dimensions": {}}
    if n == 0:
        return out
    ranked = scored.mutate(_rank=ibis.row_number().over(order_by=[scored.monetary.desc(), id_order(scored.customer_id).asc()]))
    flags = ranked.select("customer_id", "monetary", "frequency", "recency_days", top=ranked._rank < k)
    agg = flags.group_by("top").aggregate(customers=flags.count(), revenue=money_sum(flags.monetary),
                                          orders=flags.frequency.sum(), recency=flags.recency_days.sum()).to_pandas()
    # The engine returns groups in any order; fix "top" before "rest" so findings.json is byte-stable.
    agg = agg.sort_values("top", ascending=False, key=lambda s: s.astype(bool))
    total_rev = fsum(agg.revenue) if len(agg) else 0.0
    for r in agg.itertuples():
        name = "top" if bool(r.top) else "rest"
        out["groups"][name] = {
            "customers": int(r.customers), "revenue": float(r.revenue),
            "revenue_share_pct": _pct(r.revenue, total_rev) if total_rev > 0 else None,
            "avg_orders": _div(r.orders, r.customers), "avg_order_value": _div(r.revenue, r.orders),
            "revenue_per_customer": _div(r.revenue, r.customers), "avg_recency_days": _div(r.recency, r.customers),
        }
    top, rest = out["groups"].get("top"), out["groups"].get("rest")
    if top and rest:
        out["orders_ratio"] = _div(top["avg_orders"], rest["avg_orders"])
        out["aov_ratio"] = _div(top["avg_order_value"], rest["avg_order_value"])
    t = dataset.table
    dims = [d for d in HIGH_VALUE_DIMENSIONS if d in dataset.dimensions and d in t.columns]
    if not dims:
        return out
    lines = t.filter(t.customer_id.notnull() & (t.order_date < midnight(end)))
    if w_start is not None:
        lines = lines.filter(lines.order_date >= midnight(w_start))
    flagged = lines.inner_join(flags.select("customer_id", "top"), "customer_id")
    # One scan of the lines for every dimension: exact revenue per (top, region, segment, …)
    # combination, kept on the engine; each dimension then sums that small table.
    cube = flagged.group_by([flagged.top, *(flagged[d].fill_null(MISSING_LABEL).name(d) for d in dims)]) \
        .aggregate(revenue=flagged.revenue.cast(MONEY).sum())
    with _cached(cube) as cube:
        return _high_value_dimensions(out, cube, dims)


def _high_value_dimensions(out: dict, cube, dims) -> dict:
    for dim in dims:
        frame = cube.group_by([cube.top, cube[dim].name("value")]).aggregate(
            revenue=money_sum(cube.revenue)).to_pandas()
        if frame.empty:
            continue
        tops = frame[frame.top.astype(bool)]
        rests = frame[~frame.top.astype(bool)]
        t_total, r_total = fsum(tops.revenue), fsum(rests.revenue)
        if tops.empty or t_total <= 0:
            continue
        shares = tops.assign(share=100.0 * tops.revenue / t_total)
        rest_share = {v: (100.0 * rv / r_total if r_total > 0 else None) for v, rv in zip(rests.value, rests.revenue)}
        best = shares.sort_values(["revenue", "value"], ascending=[False, True]).iloc[0]
        shares = shares.assign(rest=[rest_share.get(v) or 0.0 for v in shares.value])
        shares = shares.assign(diff=shares.share - shares.rest)
        over = shares.sort_values(["diff", "value"], ascending=[False, True]).iloc[0]
        out["dimensions"][dim] = {
            "top_value": str(best.value), "top_share_pct": float(best.share),
            "rest_share_pct": rest_share.get(best.value, 0.0 if r_total > 0 else None),
            "overrepresented_value": str(over.value), "overrepresented_top_share_pct": float(over.share),
            "overrepresented_rest_share_pct": float(over.rest) if r_total > 0 else None,
        }
    return out
