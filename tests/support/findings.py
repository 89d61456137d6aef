"""Hand-made findings dicts (small, self-consistent) and the findings of the real data sets, for
the recommendation and summary tests."""
from __future__ import annotations

import functools

from support.paths import ROOT

#: real data sets whose findings the recommendation and summary tests hold to their rules
REAL = {"superstore": ("tests/params/superstore.yaml", "2017Q4"),
        "online_retail": ("tests/params/online_retail.yaml", "2011Q4")}


def dim_row(value, revenue, orders, previous):
    """One row of a by-dimension table, its growth from ``previous``."""
    return {"value": value, "revenue": revenue, "share_pct": None, "growth_pct":
            None if not previous else (revenue - previous) / previous * 100.0,
            "previous_revenue": previous, "change": revenue - (previous or 0.0), "orders": orders,
            "avg_order_value": revenue / orders if orders else None}


def ranked_rows(rows):
    """``rows`` with their revenue shares, largest first."""
    total = sum(r["revenue"] for r in rows)
    for r in rows:
        r["share_pct"] = r["revenue"] / total * 100.0
    return sorted(rows, key=lambda r: (-r["revenue"], r["value"]))


def month_rows(values, start=(2023, 7), partial=()):
    """Monthly revenue rows from ``start`` (year, month); months in ``partial`` are flagged."""
    y, m = start
    out = []
    for v in values:
        label = f"{y}-{m:02d}"
        out.append({"month": label, "revenue": float(v), "orders": 100, "units": 200.0, "partial": label in partial})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def make_findings(**changes) -> dict:
    """A small, self-consistent findings dict: four regions, no customers section."""
    f = {
        "currency": "USD",
        "period": {"label": "2024Q2", "start": "2024-04-01", "end": "2024-07-01", "partial": False},
        "comparison": {"like_for_like": False, "previous": {"label": "2024Q1", "available": True},
                       "year_ago": {"label": "2023Q2", "available": True}},
        "data": {"rows_read": 1000, "rows_used": 1000, "rows_dropped": {}, "partial_months": [], "gap_months": [],
                 "month_coverage": {}, "missing_customer": {"rows": 0, "revenue": 0.0, "revenue_share_pct": 0.0},
                 "duplicates": {"rows": 0, "dropped": 0}, "dimensions": ["region"], "has_customers": True},
        "revenue": {
            "total": 100000.0, "orders": 400, "aov": 250.0, "customers": 200, "returns": {"lines": 0, "value": 0.0},
            "previous": {"total": 90000.0, "orders": 380, "aov": 236.84, "returns": {"lines": 0, "value": 0.0}},
            "year_ago": {"total": 95000.0, "orders": 390, "aov": 243.59, "returns": {"lines": 0, "value": 0.0}},
            "change": {"total": {"vs_previous_abs": 10000.0, "vs_previous_pct": 11.11, "vs_year_ago_abs": 5000.0,
                                 "vs_year_ago_pct": 5.26},
                       "aov": {"vs_previous_abs": 13.16, "vs_previous_pct": 5.56, "vs_year_ago_abs": 6.41,
                               "vs_year_ago_pct": 2.63}},
            "targets": None,
            "by_month": month_rows([33000, 34000, 33000], start=(2024, 4)),
            # flat with noise: no trend
            "trend_by_month": month_rows([30000, 31000, 29000, 30500, 29500, 30000, 31000, 29000, 30000, 30500,
                                       29500, 30000]),
            "best_month": {"month": "2024-05", "revenue": 34000.0}, "worst_month": {"month": "2024-04", "revenue": 33000.0},
            "partial_months_excluded": [], "complete_months": 3,
            "dimensions": ["region"],
            "by_dimension": {"region": ranked_rows([
                dim_row("North", 40000.0, 100, 35000.0), dim_row("South", 30000.0, 120, 25000.0),
                dim_row("East", 20000.0, 100, 17500.0), dim_row("West", 10000.0, 50, 12500.0)])},
            "top_performers": [],
        },
        "customers": {"available": False, "note": "No customer id is mapped."},
    }
    for path, value in changes.items():
        node = f
        *head, last = path.split("__")
        for part in head:
            node = node[part]
        node[last] = value
    return f


def customers_section(**changes) -> dict:
    c = {"available": True, "count": 200, "rfm_customers": 400, "at_risk_customers": 100, "at_risk_share_pct": 25.0,
         "at_risk_revenue": 20000.0, "at_risk_segments": ["At Risk", "Can't Lose Them", "About to Sleep"],
         "reactivation_rate_pct": 25.0, "reactivation": {"lapsed_customers": 120, "reactivated_customers": 30},
         "win_back": {"previous_period": "2024Q2", "as_of": "2024-06-30", "at_risk_customers": 120,
                      "ordered_in_period": 30, "rate_pct": 25.0},
         "one_time_buyers": 80, "second_order_rate_pct": 30.0, "second_order": {"eligible_customers": 150},
         "top20_revenue_share_pct": 55.0, "top20_customers": 40, "top_customer_share_pct": 3.0,
         "unidentified_revenue_share_pct": 0.0,
         "cohort_retention": {"retention_trend": {"recent_avg_pct": 20.0, "earlier_avg_pct": 21.0, "change_pts": -1.0,
                                                  "recent_cohorts": ["2024-01", "2024-02", "2024-03"],
                                                  "earlier_cohorts": ["2023-10", "2023-11", "2023-12"]}}}
    c.update(changes)
    return c


def item_values(item: dict) -> list:
    """Every figure of a recommendation item: what its title and formula may show."""
    return [item.get("impact"), item.get("target"), item.get("current"), item.get("priority"),
            [e["value"] for e in item["evidence"]], [d["value"] for d in item.get("derived") or []],
            list((item.get("parameters") or {}).values())]


@functools.lru_cache(maxsize=None)
def built_findings(params: str, period: str) -> dict:
    """The findings of a params file (its path from the repository root) for a period, built once per
    test run and shared by every test module that reads them (none may change them)."""
    from salesnb.findings import build_findings
    return build_findings(str(ROOT / params), period).data


def real_findings(name: str) -> dict:
    """Findings of a real data set, built once per test session."""
    return built_findings(*REAL[name])
