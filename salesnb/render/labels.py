"""The words and thresholds every page shares, said once: the headline KPI rows, the metric
definitions, how a change is coloured, and a dimension's noun (defined beside the dimensions, in
:data:`salesnb.config.DIMENSION_NOUNS`, because the recommendation rules write it into findings)."""
from __future__ import annotations

from ..config import DIMENSION_NOUNS
from ..fmt import direction, fmt_count, fmt_money

#: The headline KPIs in report order: (label, ``revenue.<key>``, kind: money or count).
KPI_ROWS = (
    ("Revenue", "total", "money"), ("Orders", "orders", "count"), ("Units", "units", "count"),
    ("Average order value", "aov", "money"), ("Revenue per unit", "revenue_per_unit", "money"),
    ("Unique customers", "customers", "count"), ("Revenue per customer", "revenue_per_customer", "money"),
)
#: KPIs a data set without quantities or customer ids does not have (left out, not shown as —).
OPTIONAL_KPIS = ("units", "revenue_per_unit", "customers", "revenue_per_customer")
KPI_KINDS = {key: kind for _, key, kind in KPI_ROWS}

#: SPEC 2.4 (and the SPEC 5 customer keys), in the report's words
METRIC_DEFINITIONS = (
    ("revenue", "Sum of net line revenue: returns are negative lines, so every figure is net."),
    ("units", "Sum of quantity (net)."),
    ("orders", "Distinct order ids whose net revenue within the period is positive."),
    ("aov", "Average order value = revenue / orders."),
    ("revenue_per_unit", "Revenue / units."),
    ("customers", "Distinct non-empty customer ids with at least one of those orders."),
    ("revenue_per_customer", "Revenue of lines that have a customer id / customers."),
    ("returns", "lines = lines with negative revenue; value = minus their sum."),
    ("best_month / worst_month", "The highest / lowest revenue among the period's complete months."),
    ("avg_monthly_growth_pct", "The mean of month-over-month % changes between consecutive complete months of "
                               "the period (a pair whose earlier month has zero revenue is skipped); null with "
                               "fewer than two complete months."),
    ("cmgr_pct", "Compound monthly growth rate = ((last / first) ^ (1 / (n − 1)) − 1) × 100 over the n complete "
                 "months of the period; null with fewer than two complete months or when the first month's "
                 "revenue is not positive."),
    ("partial month", "An edge month whose calendar days the data's date range covers less than 90% of; a "
                      "quarter or year is partial when any of its months is. Partial months are left out of "
                      "best/worst and growth statistics."),
    ("like for like", "When the report's period is itself partial, comparisons with the previous period and the "
                      "year before use the same span of days in those periods."),
    ("new / returning customers", "Customers of the period whose first order is in the period / before it."),
    ("rfm_customers", "Customers scored by RFM: every identified customer with an order in the RFM window up to "
                      "the period end; recency, frequency and monetary value are scored in quintiles (1–5)."),
    ("at_risk_share_pct", "Share of rfm_customers in the churn-risk segments."),
    ("top20_revenue_share_pct", "Share of revenue from the top 20% of customers."),
    ("clv", "Lifetime value: historical revenue per customer, and the predicted revenue of the next months "
            "from a BG/NBD purchase model with a Gamma-Gamma spend model."),
)

#: The profit KPIs (``revenue.profit.<key>``, shown when profit or cost is mapped): label, key, kind.
PROFIT_KPI_ROWS = (("Profit", "profit", "money"), ("Margin", "margin_pct", "pct"))
#: the discount bands of ``revenue.profit.discount`` in words
DISCOUNT_BAND_LABELS = {"0%": "no discount", "0-10%": "up to 10%", "10-20%": "over 10% to 20%",
                        "20-30%": "over 20% to 30%", ">30%": "over 30%", "(missing)": "no discount value"}
#: The note beside the opportunities when both margin rules are shown (their impacts overlap).
MARGIN_OVERLAP_NOTE = ("The loss-making {items} and the discount cap count some of the same lines: {shared} of "
                       "the loss is on lines of loss-making {items} with {above} ({lines} lines in {orders} "
                       "orders). Their impacts are not to be added up: the lines either rule "
                       "counts lose {combined} in all, not {sum}.")
PROFIT_DEFINITIONS = (
    ("profit", "Sum of the lines' profit (the profit column, else revenue − cost); net of returns."),
    ("margin", "Profit / revenue × 100, over the lines that have a profit."),
    ("loss-making", "A value whose profit in the period, summed over its lines, is below zero."),
    ("discount band", "The lines by their discount rate (a rate of the list price: 0.2 = 20%)."),
)


#: The bridge's parts (SPEC 9.1) in waterfall order, in words: (chart label, phrase in a sentence).
#: ``{items}`` is the price-volume-mix dimension's plural noun ("products"), ``{amount}`` what the
#: bridge splits (revenue, or profit for ``revenue.profit.bridge``).
CUSTOMER_PART_WORDS = {
    "gained": ("New customers", "new customers"),
    "lost": ("Lost customers", "lost customers"),
    "expansion": ("Customers buying more", "customers buying more"),
    "contraction": ("Customers buying less or the same", "customers buying less or the same"),
    "unidentified": ("No customer id", "{amount} without a customer id"),
}
PVM_PART_WORDS = {
    "volume": ("Volume", "volume"),
    "mix": ("Mix", "mix"),
    "price": ("Price", "price"),
    "new_items": ("New {items}", "new {items}"),
    "discontinued_items": ("Discontinued {items}", "discontinued {items}"),
    "other": ("Other {items}", "{items} without net units in one window"),
}


def plural_noun(dim) -> str:
    """A dimension's plural noun: ``category`` → ``categories``, ``sales_rep`` → ``sales reps``."""
    noun = dimension_noun(dim)
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def bridge_part_words(part: str, dim=None, amount: str = "revenue") -> tuple[str, str]:
    """(chart label, phrase) of a bridge part; item parts name ``dim``'s plural noun."""
    label, phrase = {**CUSTOMER_PART_WORDS, **PVM_PART_WORDS}[part]
    items = plural_noun(dim) if dim else "items"
    return label.format(items=items, amount=amount), phrase.format(items=items, amount=amount)


def format_kpi(key: str, value, currency: str) -> str:
    """A headline KPI's value: money or a count, as its row says."""
    return fmt_money(value, currency) if KPI_KINDS.get(key) == "money" else fmt_count(value)


def dimension_noun(dim) -> str:
    """A dimension as a word in a sentence: ``sales_rep`` → ``sales rep``."""
    return DIMENSION_NOUNS.get(dim, dim or "")


def delta_class(pct) -> str:
    """``up`` / ``down`` / ``""`` for a % change: the CSS class that colours it, by the same flat
    band as the words "up", "down" and "flat" in the sentences (:func:`salesnb.fmt.direction`)."""
    word = direction(pct)
    return word if word in ("up", "down") else ""


#: The forecast's methods (``forecast.candidates[].method``, SPEC 9.5) as the report names them.
FORECAST_METHODS = {
    "seasonal_naive": "Seasonal naive (same month last year)", "naive": "Naive (last month's value)",
    "ets": "Exponential smoothing (ETS)", "theta": "Theta", "run_rate": "Run-rate (mean of recent months)",
}
#: The benchmark a forecast's error is compared with, by the benchmark's method.
FORECAST_BENCHMARKS = {"seasonal_naive": "same-month-last-year", "naive": "last-month's-value"}


def forecast_method_name(method) -> str:
    """A forecast method's name in the report: ``ets`` → ``Exponential smoothing (ETS)``."""
    return FORECAST_METHODS.get(method, str(method or ""))


# --------------------------------------------------------------------------- pipeline (SPEC 10)

#: The pipeline's headline KPIs in report order: (label, ``pipeline.<key>`` path, kind).
PIPELINE_KPI_ROWS = (
    ("Won revenue", "won.revenue", "money"), ("Deals won", "won.deals", "count"),
    ("Deals lost", "lost.deals", "count"), ("Win rate", "win_rate_pct", "pct"),
    ("Average deal size", "avg_deal_size", "money"), ("Median sales cycle (days)", "cycle_days.median", "days"),
)
#: SPEC 10 in the report's words
PIPELINE_DEFINITIONS = (
    ("deal", "One row of the source: an opportunity with a stage. Won and lost stages are named in the params "
             "(stages:); every other stage is open."),
    ("won / lost", "Deals whose close date is in the period, by stage; won revenue = the sum of their values."),
    ("win_rate_pct", "Won / (won + lost) × 100 of the deals closed in the period."),
    ("avg_deal_size", "Won revenue / deals won."),
    ("cycle_days", "Days from the created date to the close date of the deals won in the period (those with a "
                   "created date): median and quartiles."),
    ("open", "Deals whose stage is neither won nor lost, created by the period's last day or without a created "
             "date; their age is counted to the period's last day (no created date: age band unknown)."),
    ("expected_value", "Σ value × win rate of the open deals: without stage history, the win rate of the deals "
                       "closed in the 12 months up to the period's end applies to every open deal."),
    ("stalled", "Open deals older than the 90th percentile of the cycle days of the deals won in the 12 months "
                "up to the period's end."),
    ("material (leaderboard)", "A rep with at least 20 closed deals in the period (another dimension value: 30); "
                               "reps below that are listed, flagged, and left out of the win-rate comparisons."),
)
