"""Customer sentences and display tables from findings (the ``customers`` section).

Like :mod:`salesnb.render.narrative.revenue`: each sentence function takes the findings dict and returns plain
text, or ``None`` when the findings lack what it needs. Every number comes from the findings and
is formatted by :mod:`salesnb.fmt`; the functions only choose words by comparing findings.
Data strings (segment names, dimension values, customer ids) are returned raw; HTML helpers here
escape them with :func:`salesnb.fmt.esc_html`.
"""
from __future__ import annotations

import pandas as pd

from ...fmt import esc_html, fmt_count, fmt_money, fmt_number, fmt_pct
from ..labels import dimension_noun



def _c(f: dict) -> dict:
    c = f.get("customers") or {}
    return c if c.get("available", True) else {}


def _cur(f: dict) -> str:
    return f.get("currency", "USD")


def _period(f: dict) -> str:
    return (f.get("period") or {}).get("label", "the period")


# --------------------------------------------------------------------------- sentences

def customers_sentence(f: dict) -> str | None:
    """'2,560 customers bought in 2011Q4: 722 new (28.2%) and 1,838 returning.'"""
    c = _c(f)
    if c.get("count") is None:
        return None
    if not c["count"]:
        return f"No identified customer placed an order in {_period(f)}."
    text = (f"{fmt_count(c['count'])} customers bought in {_period(f)}: {fmt_count(c['new'])} new "
            f"({fmt_pct(c.get('new_share_pct'))}) and {fmt_count(c['returning'])} returning.")
    if c.get("orders_per_customer") is not None and c.get("revenue_per_customer") is not None:
        text += (f" They placed {fmt_count(c['orders_per_customer'])} orders each on average and spent "
                 f"{fmt_money(c['revenue_per_customer'], _cur(f))} per customer.")
    return text


def new_customers_caveat(f: dict) -> str | None:
    """A warning when the data starts shortly before the period (early customers look new)."""
    c = _c(f)
    months = c.get("history_months_before_period")
    if months is None or months >= 12 or not c.get("count"):
        return None
    if months == 0:
        return ("The data starts in the period itself, so every customer counts as new: the split into new "
                "and returning customers says nothing here.")
    return (f"The data starts only {fmt_count(months)} months before the period, so some customers counted as new "
            "may have bought before the data begins.")


def unidentified_sentence(f: dict) -> str | None:
    """The revenue share of rows without a customer id (SPEC 2.3)."""
    c = _c(f)
    overall = c.get("missing_customer_revenue_share_pct")
    period_share = c.get("unidentified_revenue_share_pct")
    if overall is None and period_share is None:
        return None
    if not overall and not period_share:
        return "Every row has a customer id, so the customer analyses cover all revenue."
    text = f"Rows without a customer id hold {fmt_pct(overall)} of all revenue"
    if period_share is not None:
        text += f" ({fmt_pct(period_share)} in {_period(f)})"
    return text + "; they count toward revenue but are left out of every customer analysis."


def rfm_sentence(f: dict) -> str | None:
    """The largest RFM segment and what the Champions bring."""
    c = _c(f)
    segs = [s for s in c.get("rfm_segments") or [] if s.get("customers")]
    if not segs or not c.get("rfm_customers"):
        return None
    largest = max(segs, key=lambda s: s["customers"])  # the first of equals, in the fixed segment order
    text = (f"Of the {fmt_count(c['rfm_customers'])} customers scored by RFM, the largest segment is "
            f"{largest['segment']} ({fmt_count(largest['customers'])} customers, {fmt_pct(largest.get('share_pct'))})")
    champs = next((s for s in segs if s["segment"] == "Champions"), None)
    if champs and champs.get("revenue_share_pct") is not None:
        text += (f"; the {fmt_count(champs['customers'])} Champions bring {fmt_pct(champs['revenue_share_pct'])} "
                 f"of the scored customers' revenue, {fmt_money(champs.get('revenue_per_customer'), _cur(f))} each")
    return text + "."


def churn_risk_sentence(f: dict) -> str | None:
    c = _c(f)
    if c.get("at_risk_share_pct") is None:
        return None
    names = c.get("at_risk_segments") or []
    joined = ", ".join(names[:-1]) + (" or " + names[-1] if len(names) > 1 else "".join(names))
    text = (f"{fmt_pct(c['at_risk_share_pct'])} of the {fmt_count(c.get('rfm_customers'))} scored customers "
            f"({fmt_count(c.get('at_risk_customers'))}) are {joined}")
    if not c.get("at_risk_revenue"):     # nothing at stake: no money claim
        return text + "; none of them bought in the last 12 months."
    return text + (f": they spent {fmt_money(c.get('at_risk_revenue'), _cur(f))} in the last 12 months, the "
                   "revenue at stake if they lapse.")


def concentration_sentence(f: dict) -> str | None:
    c = _c(f)
    if c.get("top20_revenue_share_pct") is None:
        return None
    text = (f"The top {fmt_pct(c.get('top_group_pct'), 0)} of {_period(f)}'s customers "
            f"({fmt_count(c.get('top20_customers'))}) brought {fmt_pct(c['top20_revenue_share_pct'])} of the "
            "revenue of the period's customers")
    if c.get("top_customer_share_pct") is not None and c.get("count", 0) > 1:
        text += f"; the largest single customer {fmt_pct(c['top_customer_share_pct'])}"
    return text + "."


def repeat_sentence(f: dict) -> str | None:
    """Second-order rate and reactivation of lapsed customers."""
    c = _c(f)
    parts = []
    so = c.get("second_order") or {}
    if c.get("second_order_rate_pct") is not None:
        parts.append(f"{fmt_pct(c['second_order_rate_pct'])} of the customers whose first order was at least "
                     f"{fmt_count(so.get('min_days_since_first_order'))} days before the period's end have ordered "
                     "a second time")
    r = c.get("reactivation") or {}
    if c.get("reactivation_rate_pct") is not None:
        parts.append(f"of the {fmt_count(r.get('lapsed_customers'))} customers with no order in the "
                     f"{fmt_count(r.get('lapse_days'))} days before the period, "
                     f"{fmt_count(r.get('reactivated_customers'))} ({fmt_pct(c['reactivation_rate_pct'])}) came back "
                     "in it")
    if c.get("one_time_buyers") is not None and c.get("rfm_customers"):
        parts.append(f"{fmt_count(c['one_time_buyers'])} scored customers ({fmt_pct(c.get('one_time_buyers_share_pct'))}) "
                     "have bought only once")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def retention_sentence(f: dict) -> str | None:
    c = _c(f)
    cr = c.get("cohort_retention") or {}
    m1, m3 = cr.get("month1_avg_pct"), cr.get("month3_avg_pct")
    if m1 is None and m3 is None:
        return None
    bits = []
    if m1 is not None:
        bits.append(f"{fmt_pct(m1)} buy again in their first month after acquisition")
    if m3 is not None:
        bits.append(f"{fmt_pct(m3)} in their third")
    text = f"Across the recent monthly cohorts, {' and '.join(bits)}."
    trend = cr.get("retention_trend") or {}
    r, e = trend.get("recent_avg_pct"), trend.get("earlier_avg_pct")
    if r is not None and e is not None:
        if r < e:
            word = "worse"
        elif r > e:
            word = "better"
        else:
            word = "the same"
        if word == "the same":
            text += f" The latest cohorts retain as well as the earlier ones ({fmt_pct(r)} in month one)."
        else:
            text += (f" The latest cohorts retain {word} than the earlier ones in month one "
                     f"({fmt_pct(r)} against {fmt_pct(e)}).")
    return text


def clv_sentence(f: dict) -> str | None:
    c = _c(f)
    clv = c.get("clv") or {}
    if not clv:
        return None
    cur = _cur(f)
    if clv.get("status") == "ok" and clv.get("predicted_revenue") is not None:
        text = (f"The BG/NBD and Gamma-Gamma models expect {fmt_money(clv['predicted_revenue'], cur)} from these "
                f"customers over the next {fmt_count(clv.get('horizon_months'))} months "
                f"({fmt_money(clv.get('predicted_per_customer'), cur)} per customer)")
        if clv.get("p_alive_mean_pct") is not None:
            text += f"; on average a customer is still active with probability {fmt_pct(clv['p_alive_mean_pct'])}"
        text += "."
        if clv.get("historical_per_customer") is not None:
            text += (f" To date they have spent {fmt_money(clv['historical_per_customer'], cur)} each "
                     f"({fmt_money(clv.get('historical_total'), cur)} in all).")
        return text
    if clv.get("historical_per_customer") is None:
        return None
    return (f"Historical lifetime value: {fmt_money(clv['historical_per_customer'], cur)} per customer to date "
            f"({fmt_money(clv.get('historical_total'), cur)} over {fmt_count(clv.get('historical_customers'))} "
            "customers); no predicted value is shown.")


def _validation(f: dict) -> dict:
    return (_c(f).get("clv") or {}).get("validation") or {}


def clv_check_sentence(f: dict) -> str | None:
    """The holdout check's figures (SPEC 9.3): predicted against actual repeat purchases of the
    last weeks, and the per-customer error against the naive benchmark."""
    v = _validation(f)
    if v.get("predicted_purchases") is None or v.get("actual_purchases") is None:
        return None
    text = (f"Check on the last {fmt_count(v.get('holdout_weeks'))} weeks ({v.get('holdout_start')} to "
            f"{v.get('holdout_end')}): fitted on the data before them, the model expected "
            f"{fmt_number(v['predicted_purchases'], 0)} repeat purchases from {fmt_count(v.get('customers'))} "
            f"customers, and they made {fmt_count(v['actual_purchases'])}")
    if v.get("error_pct") is not None:
        text += f" ({fmt_pct(v['error_pct'], signed=True)})"
    if v.get("mae") is not None and v.get("naive_mae") is not None:
        text += (f"; it was off by {fmt_number(v['mae'])} purchases per customer on average, against "
                 f"{fmt_number(v['naive_mae'])} for simply extending each customer's past buying rate")
    return text + "."


def _lapse_figures(v: dict) -> str:
    return (f"even the customers who have gone longest without an order look active with probability "
            f"{fmt_pct(v.get('p_alive_lapsed_quintile_pct'))}, against {fmt_pct(v.get('p_alive_recent_quintile_pct'))} "
            "for the most recent buyers")


def clv_verdict_sentence(f: dict) -> str | None:
    """Whether the lifetime-value prediction passed its check, and if not why, in one sentence."""
    v = _validation(f)
    reason = v.get("reason")
    if not reason:
        return None
    if v.get("used"):
        return (f"The model passed its check (total within {fmt_pct(v.get('max_error_pct'), 0)}, closer per customer "
                "than the simple rule, and it tells lapsed customers from active ones), so it was refitted on all "
                "the data and its predictions are shown.")
    why = {
        "short_history": "the data covers less than three weeks, too little to test the model",
        "too_few_customers": (f"only {fmt_count(v.get('customers'))} customers, {fmt_count(v.get('repeat_customers'))} "
                              f"of them repeat buyers, bought before the last {fmt_count(v.get('holdout_weeks'))} weeks: "
                              f"the model needs at least {fmt_count(v.get('min_customers'))} and "
                              f"{fmt_count(v.get('min_repeat_customers'))} to be fitted and tested"),
        "fit_failed": "the model could not be fitted to this data",
        "refit_failed": "the model could not be refitted on all the data",
        "no_holdout_purchases": "nobody bought again in the check weeks, so the model could not be tested",
        "degenerate_parameters": ("the model concluded that customers practically never stop buying: "
                                  f"{_lapse_figures(v)}" if "a" in (v.get("params_out_of_range") or [])
                                  else "its estimates ran to an extreme, a sign that it does not describe this data"),
        "no_lapse_signal": f"it cannot tell lapsed customers from active ones: {_lapse_figures(v)}",
        "total_error": (f"its total was off by {fmt_pct(abs(v['error_pct']) if v.get('error_pct') is not None else None)}, "
                        f"more than the {fmt_pct(v.get('max_error_pct'), 0)} allowed"),
        "worse_than_naive": (f"per customer it did worse ({fmt_number(v.get('mae'))} purchases off on average) than "
                             f"simply extending each customer's past buying rate ({fmt_number(v.get('naive_mae'))})"),
        "refit_degenerate": "refitted on all the data, it no longer tells lapsed customers from active ones",
        "implausible": ("its predictions are implausibly large: one customer's is more than ten times what any "
                        "customer has spent in a year"),
    }.get(reason, "it did not pass its check")
    return f"The predicted lifetime value is not shown because {why}; the figures above are historical."


def clv_caveat_sentence(f: dict) -> str | None:
    """A caveat on a prediction resting on less than half a year of history."""
    clv = _c(f).get("clv") or {}
    if clv.get("predicted_revenue") is None or not clv.get("caveat") or clv.get("history_weeks") is None:
        return None
    return (f"The models rest on only {fmt_count(clv['history_weeks'])} weeks of history (less than half a year), so "
            "the prediction is rough.")


def high_value_sentence(f: dict) -> str | None:
    c = _c(f)
    hv = c.get("high_value") or {}
    top, rest = (hv.get("groups") or {}).get("top"), (hv.get("groups") or {}).get("rest")
    if not top or not rest:
        return None
    cur = _cur(f)
    text = (f"The top {fmt_pct(hv.get('share_pct'), 0)} of customers ({fmt_count(hv.get('customers'))}) bring "
            f"{fmt_pct(top.get('revenue_share_pct'))} of the scored revenue; they average "
            f"{fmt_count(top.get('avg_orders'))} orders against {fmt_count(rest.get('avg_orders'))} for the rest, "
            f"at {fmt_money(top.get('avg_order_value'), cur)} per order against "
            f"{fmt_money(rest.get('avg_order_value'), cur)}.")
    dims = hv.get("dimensions") or {}
    best = None
    for dim, d in dims.items():
        if d.get("overrepresented_rest_share_pct") is None:
            continue
        gap = d["overrepresented_top_share_pct"] - d["overrepresented_rest_share_pct"]
        if best is None or gap > best[0]:
            best = (gap, dim, d)
    if best and best[0] > 0:
        _, dim, d = best
        text += (f" {d['overrepresented_value']} ({dimension_noun(dim)}) is "
                 f"{fmt_pct(d['overrepresented_top_share_pct'])} of their revenue against "
                 f"{fmt_pct(d['overrepresented_rest_share_pct'])} for the other customers.")
    return text


def customer_sentences(f: dict) -> list[str]:
    """The section's sentences, in reading order (those the findings support)."""
    funcs = (customers_sentence, new_customers_caveat, unidentified_sentence, rfm_sentence, churn_risk_sentence,
             concentration_sentence, repeat_sentence, retention_sentence, clv_sentence, high_value_sentence)
    return [s for s in (fn(f) for fn in funcs) if s]


# --------------------------------------------------------------------------- tables and HTML

def segment_table(f: dict) -> pd.DataFrame:
    c, cur = _c(f), _cur(f)
    return pd.DataFrame([{
        "Segment": s["segment"], "R": s.get("r_range"), "FM": s.get("fm_range"),
        "Customers": fmt_count(s["customers"]), "Share of customers": fmt_pct(s.get("share_pct")),
        "Revenue": fmt_money(s.get("revenue"), cur), "Revenue share": fmt_pct(s.get("revenue_share_pct")),
        "Revenue per customer": fmt_money(s.get("revenue_per_customer"), cur),
        "Avg recency (days)": fmt_count(round(s["avg_recency_days"])) if s.get("avg_recency_days") is not None
        else fmt_count(None),
    } for s in c.get("rfm_segments") or []])


def top_clv_table(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Top customers by predicted 12-month value (or by historical revenue when CLV is off)."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    predicted = frame["predicted_value_12m"].notna().any()
    rows = []
    for r in frame.itertuples():
        row = {"Customer": r.customer_id}
        if predicted:
            row.update({"Predicted 12-month value": fmt_money(r.predicted_value_12m, currency),
                        "P(alive)": fmt_pct(100 * r.p_alive),
                        "Expected orders": fmt_count(round(r.expected_purchases_12m, 1)),
                        "Repeat purchases": fmt_count(r.frequency),
                        "Mean repeat spend": fmt_money(r.monetary_value, currency)})
        row["Historical revenue"] = fmt_money(r.historical_revenue, currency)
        rows.append(row)
    return pd.DataFrame(rows)


def high_value_table(f: dict) -> pd.DataFrame:
    c, cur = _c(f), _cur(f)
    hv = c.get("high_value") or {}
    groups = hv.get("groups") or {}
    rows = []
    for key, label in (("top", f"Top {fmt_pct(hv.get('share_pct'), 0)}"), ("rest", "Other customers")):
        g = groups.get(key)
        if not g:
            continue
        rows.append({"Group": label, "Customers": fmt_count(g["customers"]),
                     "Revenue share": fmt_pct(g.get("revenue_share_pct")),
                     "Orders per customer": fmt_count(g.get("avg_orders")),
                     "Average order value": fmt_money(g.get("avg_order_value"), cur),
                     "Revenue per customer": fmt_money(g.get("revenue_per_customer"), cur),
                     "Avg recency (days)": fmt_count(round(g["avg_recency_days"])) if g.get("avg_recency_days")
                     is not None else fmt_count(None)})
    return pd.DataFrame(rows)


def segment_grid_table(f: dict) -> pd.DataFrame:
    """The segment map: one row per R score (5 first), one column per FM score."""
    grid = _c(f).get("segment_grid") or {}
    return pd.DataFrame([{"R score": r_key[1:], **{f"FM {fm_key[2:]}": name for fm_key, name in row.items()}}
                         for r_key, row in grid.items()])


def high_value_dimension_table(f: dict) -> pd.DataFrame:
    hv = _c(f).get("high_value") or {}
    return pd.DataFrame([{
        "Dimension": dimension_noun(dim), "Top value": d["top_value"],
        "Share among top customers": fmt_pct(d.get("top_share_pct")),
        "Share among the others": fmt_pct(d.get("rest_share_pct")),
    } for dim, d in (hv.get("dimensions") or {}).items()])


_CARD_CSS = """<style>
.snb-cust-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.6rem;margin:.5rem 0 1rem}
.snb-cust-card{border:1px solid #d9dee5;border-radius:6px;padding:.55rem .7rem;background:#fafbfc;break-inside:avoid}
.snb-cust-card .l{font-size:.8rem;color:#555}.snb-cust-card .v{font-size:1.25rem;font-weight:600;margin-top:.15rem}
</style>"""


def kpi_cards(f: dict) -> list[tuple[str, str]]:
    """(label, formatted value) of the section's headline figures."""
    c, cur = _c(f), _cur(f)
    if not c:
        return []
    clv = c.get("clv") or {}
    cards = [("Customers", fmt_count(c.get("count"))), ("New", fmt_count(c.get("new"))),
             ("Returning", fmt_count(c.get("returning"))),
             ("Orders per customer", fmt_count(c.get("orders_per_customer"))),
             ("Revenue per customer", fmt_money(c.get("revenue_per_customer"), cur)),
             (f"Top {fmt_pct(c.get('top_group_pct'), 0)} revenue share", fmt_pct(c.get("top20_revenue_share_pct"))),
             ("Churn-risk share", fmt_pct(c.get("at_risk_share_pct")))]
    if clv.get("predicted_revenue") is not None:
        cards.append((f"Predicted {fmt_count(clv.get('horizon_months'))}-month revenue",
                      fmt_money(clv["predicted_revenue"], cur, compact=True)))
    else:
        cards.append(("Historical revenue per customer", fmt_money(clv.get("historical_per_customer"), cur)))
    return cards


def kpi_cards_html(f: dict) -> str:
    cards = "".join(f'<div class="snb-cust-card"><div class="l">{esc_html(label)}</div>'
                    f'<div class="v">{esc_html(value)}</div></div>' for label, value in kpi_cards(f))
    return f'{_CARD_CSS}<div class="snb-cust-cards tex2jax_ignore mathjax_ignore">{cards}</div>'


def sentences_html(sentences) -> str:
    """A bullet list of sentences, escaped (and kept away from MathJax, which reads '$' as math)."""
    items = "".join(f"<li>{esc_html(s)}</li>" for s in sentences if s)
    return f'<ul class="tex2jax_ignore mathjax_ignore">{items}</ul>' if items else ""
