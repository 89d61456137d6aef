"""The ``customers.clv`` section of the findings: historical CLV always, the 12-month BG/NBD +
Gamma-Gamma prediction when it passes its checks (SPEC 9.3; see :func:`clv_findings`)."""
from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd

from ..metrics.ids import id_order, id_text
from ..metrics.literals import date_literal
from ..metrics.missing import finite_or_none as _f, one_row as _row, ratio as _div, whole as _i
from ..metrics.money import money_sum
from ..periods import Period
from .clv import BetaGeoModel, CLVError, GammaGammaModel
from .clv_check import (CLV_MIN_CUSTOMERS, CLV_MIN_REPEAT_CUSTOMERS, enough, fit_check, fit_index, holdout_check,
                        new_validation)
from .clv_data import CLV_VALUE_SCALE, _clv_days, clv_purchases, purchase_summary

HORIZON_MONTHS = 12
WEEKS_PER_MONTH = 365.25 / 7 / 12
CLV_PLAUSIBLE_FACTOR = 10.0
TOP_CLV_CUSTOMERS = 20
CLV_MIN_HISTORY_WEEKS = 26
NOT_VALIDATED = ("The lifetime-value model did not pass its check on the most recent weeks, so only historical "
                 "CLV is shown.")


def _histogram(values: np.ndarray, basis: str, bins: int = 20) -> pd.DataFrame:
    """Customers and value per bin of ``values``, in any row order (the engine gives no order): the
    sums are correctly rounded (math.fsum), so the order does not change a digit."""
    columns = ["bin", "bin_low", "bin_high", "customers", "value_sum", "open_ended", "basis"]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return pd.DataFrame(columns=columns)
    lo = float(values.min())
    hi = float(np.quantile(values, 0.99))
    if hi <= lo:
        hi = float(values.max()) if values.max() > lo else lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = idx == b
        rows.append({"bin": b, "bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                     "customers": int(sel.sum()), "value_sum": math.fsum(values[sel].tolist()),
                     "open_ended": b == bins - 1 and bool((values > hi).any()), "basis": basis})
    return pd.DataFrame(rows, columns=columns)


class _NotUsed(Exception):
    """The predictions are not used; ``validation['reason']`` says why."""


def _not_used_status(validation: dict) -> str:
    reason = validation.get("reason")
    if reason == "too_few_customers":
        return (f"Only {validation['customers']:,} customer(s) bought before the last {validation['holdout_weeks']} "
                f"weeks, {validation['repeat_customers']:,} of them more than once: the CLV models need at least "
                f"{CLV_MIN_CUSTOMERS} customers and {CLV_MIN_REPEAT_CUSTOMERS} repeat buyers to be estimated and "
                "checked, so only historical CLV is shown.")
    if reason == "short_history":
        return "Less than three weeks of history: too little to check the CLV models, so only historical CLV is shown."
    if reason in ("fit_failed", "refit_failed"):
        return "The CLV models could not be fitted to this data, so only historical CLV is shown."
    return NOT_VALIDATED


def _max_annual_customer_revenue(days, end: dt.date) -> float:
    """The largest net revenue of one customer in one calendar year, before ``end``."""
    d = days.filter(days.order_date < date_literal(end))
    per_year = d.group_by([d.customer_id, d.order_date.year().name("year")]).aggregate(v=d.revenue.sum())
    row = _row(per_year.aggregate(m=per_year.v.max()))
    return (_f(row.get("m")) or 0.0) / CLV_VALUE_SCALE


# one function (~155 lines): each check may end the prediction, and every exit fills the same record
def clv_findings(dataset, period: Period, summary, *, trailing_revenue: float | None = None) -> tuple[dict, dict]:
    """Historical CLV always; the 12-month BG/NBD + Gamma-Gamma prediction when it passes its checks.

    Inputs (:func:`clv_purchases`): purchases are customer-days with positive net revenue, less
    those a later return reverses; customers whose net revenue to date is ≤ 0 get no prediction.
    The observation ends on the period's last day, or on the data's last day when that is earlier
    (``observation_end``). Time unit: **weeks** (recency and T may be fractional), so 12 months =
    52.18 weeks.

    Before the prediction is used, :func:`holdout_check` fits the models on the history before
    the last H weeks and compares their prediction of those weeks with what happened
    (``validation``). Only when it passes are the models refitted on all history; the refit must
    not be degenerate either. Predicted revenue per customer = E[purchases in the next 52.18
    weeks] × E[spend per purchase] (negative mean spends count as 0), summed over customers,
    undiscounted; it is not used when one customer's prediction exceeds ten times the largest
    revenue one customer brought in one calendar year, or the total ten times the trailing 12
    months' revenue. Whenever the prediction is not used, ``params`` and ``predicted_revenue`` are
    null, ``status`` says why, ``validation.reason`` gives the check's verdict and the top-customer
    table lists historical revenue only. The models are not fitted on fewer than 30 customers or
    fewer than 10 repeat buyers; with more than 50,000 customers they are fitted on a fixed random
    sample of 50,000 (``customers_fitted``) and predict for every customer.
    """
    s = summary
    has = s.filter(s.h_orders > 0)
    hist_row = _row(has.aggregate(n=has.count(), total=money_sum(has.h_revenue)))
    n_hist = _i(hist_row.get("n"))
    hist_total = _f(hist_row.get("total")) or 0.0
    q = dataset.quality
    obs_end = period.last_day
    if q.last_date:
        obs_end = min(obs_end, dt.date.fromisoformat(q.last_date))
    first_day = dt.date.fromisoformat(q.first_date) if q.first_date else None
    validation = new_validation()
    out = {
        "params": None, "horizon_months": HORIZON_MONTHS, "predicted_revenue": None, "status": "ok",
        "historical_total": hist_total, "historical_per_customer": _div(hist_total, n_hist),
        "historical_customers": n_hist, "time_unit": "weeks", "observation_end": obs_end.isoformat(),
        "discounted": False, "customers_modelled": None, "repeat_customers": None,
        "predicted_per_customer": None, "expected_purchases": None, "p_alive_mean": None, "p_alive_mean_pct": None,
        "frequency_monetary_corr": None, "gamma_gamma_customers": None,
        "history_weeks": None, "caveat": None, "validation": validation,
    }
    if first_day:
        weeks = (obs_end - first_day).days / 7.0
        out["history_weeks"] = max(0.0, weeks)
        if weeks < CLV_MIN_HISTORY_WEEKS:
            out["caveat"] = (f"The models rest on only {max(0.0, weeks):.0f} weeks of history (less than half a "
                             "year), so the prediction is rough.")
    tables: dict[str, pd.DataFrame] = {}
    top = None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            days = _clv_days(dataset)
            holdout_check(days, first_day, obs_end, validation)
            if not validation["used"]:
                raise _NotUsed
            frame = purchase_summary(clv_purchases(days, obs_end + dt.timedelta(days=1)), obs_end)
            f = frame["frequency"].to_numpy(float)
            r = frame["recency"].to_numpy(float)
            T = frame["T"].to_numpy(float)
            m = np.clip(frame["monetary_value"].to_numpy(float), 0.0, None)
            out["customers_modelled"] = int(len(frame))
            out["repeat_customers"] = int((f > 0).sum())
            if not enough(frame):
                raise CLVError(
                    f"Only {len(frame):,} customer(s), {int((f > 0).sum()):,} with a repeat purchase: the CLV "
                    f"models need at least {CLV_MIN_CUSTOMERS} customers and {CLV_MIN_REPEAT_CUSTOMERS} repeat "
                    "buyers to be estimated, so only historical CLV is shown.")
            fit_idx = fit_index(len(frame))
            out["customers_fitted"] = int(len(fit_idx))
            try:
                bg = BetaGeoModel().fit(f[fit_idx], r[fit_idx], T[fit_idx])
            except CLVError:
                validation.update(used=False, reason="refit_failed", failed=["refit_failed"])
                raise _NotUsed
            validation["refit_degenerate"] = fit_check(bg, f, r, T)["degenerate"]
            if validation["refit_degenerate"]:
                validation.update(used=False, reason="refit_degenerate", failed=["refit_degenerate"])
                raise _NotUsed
            gg = GammaGammaModel().fit(f[fit_idx], m[fit_idx])
            horizon = HORIZON_MONTHS * WEEKS_PER_MONTH
            purchases = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(horizon, f, r, T), float)
            spend = np.asarray(gg.conditional_expected_average_profit(f, m), float)
            alive = np.asarray(bg.conditional_probability_alive(f, r, T), float)
            value = purchases * spend
            if not (np.isfinite(value).all() and np.isfinite(alive).all()):
                raise CLVError("The fitted models gave non-finite predictions for some customers.")
            predicted = float(value.sum())
            if predicted < 0:
                raise CLVError("The fitted models predict negative revenue.")
            annual = _max_annual_customer_revenue(days, obs_end + dt.timedelta(days=1))
            validation["max_annual_customer_revenue"] = annual
            validation["max_predicted_customer_value"] = float(value.max())
            implausible = (value.max() > CLV_PLAUSIBLE_FACTOR * annual or
                           (trailing_revenue and trailing_revenue > 0
                            and predicted > CLV_PLAUSIBLE_FACTOR * trailing_revenue))
            if implausible:
                validation.update(used=False, reason="implausible", failed=["implausible"])
                raise _NotUsed
        repeat = (f > 0) & (m > 0)
        corr = None
        if repeat.sum() >= 3 and np.std(f[repeat]) > 0 and np.std(m[repeat]) > 0:
            corr = float(np.corrcoef(f[repeat], m[repeat])[0, 1])
        out.update({
            "params": {"bgnbd": dict(bg.params_), "gamma_gamma": dict(gg.params_),
                       "bgnbd_log_likelihood": bg.log_likelihood_, "gamma_gamma_log_likelihood": gg.log_likelihood_},
            "predicted_revenue": predicted,
            "predicted_per_customer": predicted / len(frame) if len(frame) else None,
            "expected_purchases": float(purchases.sum()),
            "p_alive_mean": float(alive.mean()),
            "p_alive_mean_pct": 100.0 * float(alive.mean()),
            "p_alive_below_50_pct": 100.0 * float((alive < 0.5).mean()),
            "frequency_monetary_corr": corr,
            "gamma_gamma_customers": gg.n_used_,
        })
        # the 20 highest predictions (ties by customer id): only the customers at or above the
        # 20th-highest value are sorted, not millions
        k = min(TOP_CLV_CUSTOMERS, len(value))
        cut = np.partition(value, len(value) - k)[len(value) - k]
        cand = np.flatnonzero(value >= cut)
        pred = pd.DataFrame({"customer_id": frame.index[cand].astype(str), "predicted_value_12m": value[cand],
                             "expected_purchases_12m": purchases[cand], "p_alive": alive[cand],
                             "frequency": f[cand].astype(int), "recency_weeks": r[cand], "T_weeks": T[cand],
                             "monetary_value": frame["monetary_value"].to_numpy(float)[cand]})
        top = pred.sort_values(["predicted_value_12m", "customer_id"], ascending=[False, True]).head(k)
        tables["customers_clv_distribution"] = _histogram(value, "predicted 12-month value")
    except _NotUsed:
        out["status"] = _not_used_status(validation)
    except CLVError as exc:
        out["status"] = exc.message
    except Exception as exc:  # noqa: BLE001 - a model failure must not stop the report
        out["status"] = f"The CLV models could not be fitted ({type(exc).__name__}: {exc}); only historical CLV is shown."
    if out["status"] != "ok":
        validation["used"] = False
        if validation["reason"] == "passed":     # the check passed, the refit did not work out
            validation.update(reason="refit_failed", failed=["refit_failed"])
        out["params"] = None
        out["predicted_revenue"] = None
        top = None
    if top is None:
        hist = has.select("customer_id", value=has.h_revenue)
        top = (hist.order_by([hist.value.desc(), id_order(hist.customer_id).asc()]).limit(20).to_pandas()
               .rename(columns={"value": "historical_revenue"}))
        top["customer_id"] = [id_text(v) for v in top["customer_id"]]
        for col in ("predicted_value_12m", "expected_purchases_12m", "p_alive", "frequency", "recency_weeks",
                    "T_weeks", "monetary_value"):
            top[col] = np.nan
        values = has.select(v=has.h_revenue).to_pandas()["v"].to_numpy(float)
        tables["customers_clv_distribution"] = _histogram(values, "historical revenue")
    else:
        ids = frame.index[cand].tolist()      # as the engine holds them (text or integers)
        hist = has.filter(has.customer_id.isin(ids)).select("customer_id", historical_revenue=has.h_revenue).to_pandas()
        hist["customer_id"] = [id_text(v) for v in hist["customer_id"]]
        top = top.merge(hist, on="customer_id", how="left")
    cols = ["customer_id", "predicted_value_12m", "expected_purchases_12m", "p_alive", "frequency",
            "recency_weeks", "T_weeks", "monetary_value", "historical_revenue"]
    tables["customers_top_clv"] = top[cols].reset_index(drop=True)
    return out, tables
