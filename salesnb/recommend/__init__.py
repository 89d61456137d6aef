"""Recommendations: deterministic rules over the findings (SPEC 4 item 4, SPEC 5 ``recommendations``).

:func:`recommendations` is a pure function of the plain findings dict (its ``revenue``,
``customers``, ``data``, ``period`` and ``comparison`` sections). It never queries data, reads no
clock and no randomness: the same findings always give byte-identical recommendations.

Every item (opportunity, risk or action) carries

* ``kind`` (``opportunity`` / ``risk`` / ``action``), ``rule`` (the rule's name), ``title``;
* ``evidence``: ``[{key, value}]`` -- dotted findings paths (``revenue.aov``,
  ``revenue.by_dimension.region[Central].revenue``, ``customers.at_risk_share_pct``); a ``[x]``
  selects the list element whose ``value`` / ``month`` / ``quarter`` / ``segment`` / ``sales_rep``
  is ``x``. :func:`resolve` reads a key back, so every piece of evidence can be checked;
* ``derived``: ``[{name, value, formula}]`` -- the intermediate figures a rule computed from the
  evidence (a median, a percentile, a regression slope), rounded as shown;
* ``parameters``: the rule's constants that appear in its text (a threshold, "12 months");
* ``impact``: money (the source currency) where one applies, else ``None``; risks give the money
  at stake as a positive amount;
* ``formula``: the arithmetic as text, with the numbers. Rates and amounts are rounded as shown
  *before* they are multiplied, so the formula can be checked by hand to the cent;
* ``confidence``: ``high`` / ``medium`` / ``low`` by the criteria in each rule below;
* ``priority``: the ranking score (see *Ranking*).

An action adds ``metric`` (a findings key), ``current`` (its value now), ``target``,
``deadline_days``, ``owner`` / ``owner_dimension`` (the dimension value concerned, else ``None``)
and ``basis`` (the opportunity or risk it comes from).

Rules (a rule stays silent when the findings lack what it needs -- no customers section, no
previous period, a dimension the data does not have, null values):

Opportunities
  ``aov_uplift``       raise AOV by x% -> revenue × x%. x = (top-quartile AOV − median AOV) / 2 /
                       median AOV, across the values of the first dimension among sales_rep,
                       segment, channel, region, category with 3..30 values of >= 10 orders each;
                       else across the trailing complete months (>= 6). high: >= 5 peers; medium:
                       3-4 peers; low: months.
  ``aov_recovery``     AOV below its year-ago level (by more than 1%) -> (year-ago AOV − AOV) ×
                       orders. high on full periods, medium when compared like for like.
  ``dimension_gap``    a region / segment / category / channel / sales rep below the median of its
                       peers -> median revenue − its revenue. Dimensions with 3..30 values (never
                       products); only values with >= 20 orders and >= 50% of the median revenue
                       (a meaningful base); at most 3 per dimension (the largest gaps). high: >= 100
                       orders and >= 4 peers; medium: >= 30 orders; else low.
  ``recover_decline``  a value whose revenue fell >= 5% on the previous period -> previous revenue
                       − revenue. Values with >= 1% of the previous period's revenue and >= 10
                       orders; products only among the 10 largest by previous revenue; at most 3
                       per dimension. high: >= 100 orders; medium: >= 30; else low.
  ``win_back``         at-risk customers' revenue in the last 12 months × the share of the customers
                       in the churn-risk segments at the end of the previous period (RFM scored as
                       of then) who ordered in the period (``customers.win_back.rate_pct``; sample
                       = those customers, >= 30). medium when they are >= 100, else low.
  ``repeat_purchase``  one-time buyers × observed second-order rate × AOV. medium when the rate
                       rests on >= 100 eligible customers and there are >= 30 one-time buyers, else low.
  ``returns``          return rate (returns / gross revenue) above the previous period's -> returns
                       − previous rate × gross revenue. medium.
  ``loss_makers``      (profit mapped) the loss-making products (finest dimension) -> their loss;
  ``discount_cap``     the discount bands that lose money -> the profit lost there
                       (:mod:`salesnb.recommend.margin`). The two overlap (loss-making lines
                       with a losing discount): when both fire, each carries ``overlap`` with
                       their ``combined_loss``; their impacts are not to be added up.
Risks
  ``revenue_trend``    least-squares fit (scipy.stats.linregress) of monthly revenue on the
                       trailing complete months (>= 6; gap months left out): negative slope with
                       p < 0.10. Impact = |slope| × 12 (a year of the decline), at most the last
                       complete month's revenue. high: p < 0.01;
                       medium: p < 0.05; low: p < 0.10.
  ``revenue_decline``  revenue down more than 1% on a year ago (impact = the fall); when there is no
                       year-ago period, on the previous period (low confidence: seasonality).
  ``target_gap``       revenue below its target (impact = target − revenue). high.
  ``forecast_target``  the forecast reaches a revenue target (the next quarter's, or a partial
                       period's projected end) with a probability under 50% (impact = target −
                       forecast when positive; sample = the forecast's complete months, >= 18).
                       Confidence by the used method's 80% coverage on the backtest: >= 70% high,
                       >= 50% medium, else low.
  ``churn_exposure``   ``customers.at_risk_share_pct`` >= 20% -> impact = at-risk customers' revenue
                       in the last 12 months. Confidence by customers scored (>= 500 high, >= 100
                       medium).
  ``customer_concentration``  top 20% of customers >= 70% of customer revenue, or the single largest
                       customer >= 10%. Confidence by customers (>= 500 high, >= 100 medium).
  ``dimension_concentration`` one region or channel > 50% of revenue, one sales rep > 40%. high when
                       the share was above the threshold in the previous period too, else medium.
  ``retention_decline``  recent cohorts' month-1 retention below earlier cohorts' by >= 2 points.
  ``data_quality``     partial months in the period, gap months, dropped rows, revenue without a
                       customer id (> 0.5%), exact duplicate rows. high (they are counts).

Ranking (``priority``, higher first; ties broken by title):
  money items: 100 × |impact| / period revenue (the impact as % of the period's revenue) ×
  confidence weight (high 1.0, medium 0.7, low 0.4). Items without money: severity in percentage
  points (how far past its threshold, or the share of revenue/rows affected) × 0.1 × the weight.

Actions: every opportunity, and the risks that have a lever (target gap, year-on-year decline,
concentration with a lower previous share, fixable data problems), propose one action. They are
ranked by priority; at most one action per metric and two per rule are taken, up to 7; when that
gives fewer than 5, the per-rule cap is lifted. Deadlines by the relative size of the change
|target − current| / |current|: <= 5% → 30 days, <= 15% → 60, <= 30% → 90, else 120; data fixes
(a process change) 30 days.
"""
from __future__ import annotations

from .actions import _make_action, _shown_first, actions_note, select_actions
from .evidence import _Ctx
from .margin import note_margin_overlap, rule_discount_cap, rule_loss_makers
from .opportunities import (rule_aov_recovery, rule_aov_uplift, rule_dimension_gap, rule_recover_decline,
                            rule_repeat_purchase, rule_returns, rule_win_back)
from .risks import (rule_churn_exposure, rule_customer_concentration, rule_data_quality,
                    rule_dimension_concentration, rule_no_acquisition, rule_retention_decline, rule_revenue_decline,
                    rule_revenue_trend, rule_target_gap, rule_forecast_target)


OPPORTUNITY_RULES = (rule_aov_uplift, rule_aov_recovery, rule_dimension_gap, rule_recover_decline, rule_win_back,
                     rule_repeat_purchase, rule_returns, rule_loss_makers, rule_discount_cap)
RISK_RULES = (rule_revenue_trend, rule_revenue_decline, rule_no_acquisition, rule_target_gap, rule_forecast_target,
              rule_churn_exposure,
              rule_customer_concentration, rule_dimension_concentration, rule_retention_decline, rule_data_quality)


def recommendations(findings: dict) -> dict:
    """Opportunities, risks and SMART actions derived by the rules above from ``findings``.

    Each list holds the shown items (material, on enough sample) by priority, then the items that
    fail the evidence rules, flagged ``shown: false`` -- findings keep them, the report does not
    show them."""
    f = getattr(findings, "data", findings) or {}
    ctx = _Ctx(f)
    opportunities, risks = [], []
    for rule in OPPORTUNITY_RULES:
        opportunities.extend(rule(ctx))
    note_margin_overlap(ctx, opportunities)
    for rule in RISK_RULES:
        risks.extend(rule(ctx))
    candidates = [_make_action(i, ctx) for i in opportunities + risks if "_action" in i]
    for item in opportunities + risks:
        item.pop("_action", None)
    actions = select_actions(candidates)
    n_shown = sum(1 for a in actions if a["shown"])
    return {
        "opportunities": _shown_first(opportunities),
        "risks": _shown_first(risks),
        "actions": actions,
        "shown_actions": n_shown,
        "actions_note": actions_note(n_shown),
    }
