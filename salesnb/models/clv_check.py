"""The checks a CLV fit must pass before its predictions are shown (SPEC 9.3): the holdout window,
predicted against actual repeat purchases and the naive benchmark, and a degenerate fit (extreme
parameters, or P(alive) that does not fall for lapsed customers)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..metrics.literals import date_literal
from .clv import BetaGeoModel, CLVError, rft_arrays
from .clv_data import clv_purchases, purchase_summary

CLV_MIN_CUSTOMERS = 30
CLV_FIT_SAMPLE = 50_000  # customers the models are fitted on (all, when fewer)
CLV_FIT_SEED = 20050101
CLV_MIN_REPEAT_CUSTOMERS = 10
HOLDOUT_MAX_WEEKS = 26
HISTORY_DAYS_PER_HOLDOUT_WEEK = 21   # the holdout is at most a third of the history (7 of 21 days)
MAX_TOTAL_ERROR_PCT = 20.0
PARAM_RANGE = (1e-3, 1e4)            # BG/NBD parameters in weeks outside this range: degenerate
MIN_P_ALIVE_GAP = 0.10               # most recent minus most lapsed recency quintile, mean P(alive)
QUINTILES = 5


def holdout_window(first_day: dt.date, last_day: dt.date) -> tuple[int, dt.date | None]:
    """``(H, holdout_start)``: H = min(26, floor(history days / 21)) weeks ending on ``last_day``.

    History days count ``first_day`` to ``last_day`` inclusive; the holdout is the last ``7·H``
    days, ``holdout_start`` to ``last_day`` inclusive, so the calibration data ends the day
    before ``holdout_start``. ``(0, None)`` when the history is shorter than 21 days.
    """
    history_days = (last_day - first_day).days + 1
    weeks = min(HOLDOUT_MAX_WEEKS, max(0, history_days // HISTORY_DAYS_PER_HOLDOUT_WEEK))
    if weeks == 0:
        return 0, None
    return weeks, last_day - dt.timedelta(days=7 * weeks - 1)


def naive_purchases(frequency, T, weeks: float) -> np.ndarray:
    """The naive benchmark: each customer repeats at their calibration rate, x / T · H (0 when T is 0)."""
    x = np.asarray(frequency, float)
    T = np.asarray(T, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(T > 0, x / np.where(T > 0, T, 1.0) * weeks, 0.0)


def holdout_errors(predicted, actual, naive) -> dict:
    """Totals and per-customer errors of a holdout prediction (one value per customer each).

    ``error_pct`` = (predicted − actual) / actual × 100 (None when nothing happened);
    ``mae`` and ``naive_mae`` are mean absolute errors per customer of the model and of
    :func:`naive_purchases`. Sums are taken in a fixed order (math.fsum), so they are exact
    to the last bit whatever the order of the customers.
    """
    import math

    predicted = np.asarray(predicted, float)
    actual = np.asarray(actual, float)
    naive = np.asarray(naive, float)
    n = predicted.size
    total_pred = math.fsum(predicted)
    total_actual = math.fsum(actual)
    return {
        "customers": int(n),
        "predicted_purchases": total_pred,
        "actual_purchases": int(round(total_actual)),
        "naive_purchases": math.fsum(naive),
        "error_pct": 100.0 * (total_pred - total_actual) / total_actual if total_actual > 0 else None,
        "mae": math.fsum(np.abs(predicted - actual)) / n if n else None,
        "naive_mae": math.fsum(np.abs(naive - actual)) / n if n else None,
    }


def fit_check(model: BetaGeoModel, frequency, recency, T) -> dict:
    """Is a fitted BG/NBD model degenerate? (SPEC 9.3)

    * ``params_out_of_range``: the parameters below 1e-3 or above 1e4 (time unit weeks), for
      example ``a`` ≈ 0 (nobody ever drops out);
    * ``p_alive_recent_quintile`` / ``p_alive_lapsed_quintile``: the repeat buyers (frequency > 0;
      one-time buyers have P(alive) = 1 by the model's construction) ranked by the time since
      their last purchase (T − recency; ties in input order) and cut into five groups of equal
      size (the first ones one larger, as SQL's ntile); the mean P(alive) of the most recent and
      of the most lapsed group. The fit is degenerate when the lapsed group's mean is not at
      least 0.10 below the recent group's, or with fewer than five repeat buyers.
    """
    params = model.params_ or {}
    lo, hi = PARAM_RANGE
    out_of_range = [k for k in model.param_names if not (lo <= params.get(k, float("nan")) <= hi)]
    x, t_x, T_ = rft_arrays(frequency, recency, T)
    repeat = np.flatnonzero(x > 0)
    recent = lapsed = None
    if repeat.size >= QUINTILES:
        alive = np.asarray(model.conditional_probability_alive(x[repeat], t_x[repeat], T_[repeat]), float)
        order = np.argsort(T_[repeat] - t_x[repeat], kind="stable")
        groups = np.array_split(order, QUINTILES)
        recent = float(alive[groups[0]].mean())
        lapsed = float(alive[groups[-1]].mean())
    separates = recent is not None and recent - lapsed >= MIN_P_ALIVE_GAP - 1e-12
    return {
        "params_out_of_range": out_of_range,
        "p_alive_recent_quintile": recent,
        "p_alive_lapsed_quintile": lapsed,
        "degenerate": bool(out_of_range) or not separates,
    }


def fit_index(n: int) -> np.ndarray:
    """The customers the models are fitted on: all, or a fixed random sample of CLV_FIT_SAMPLE
    (seeded, over the customers in id order -- rfm_summary's frame is sorted by id)."""
    if n <= CLV_FIT_SAMPLE:
        return np.arange(n)
    rng = np.random.default_rng(CLV_FIT_SEED)
    return np.sort(rng.choice(n, CLV_FIT_SAMPLE, replace=False))


def enough(frame) -> bool:
    return len(frame) >= CLV_MIN_CUSTOMERS and int((frame["frequency"] > 0).sum()) >= CLV_MIN_REPEAT_CUSTOMERS


def new_validation() -> dict:
    """``customers.clv.validation`` before the check has run (SPEC 9.5 keys, then added ones)."""
    return {"holdout_start": None, "holdout_end": None, "predicted_purchases": None, "actual_purchases": None,
            "error_pct": None, "mae": None, "naive_mae": None, "used": False, "reason": None,
            "holdout_weeks": 0, "customers": None, "repeat_customers": None, "naive_purchases": None,
            "max_error_pct": MAX_TOTAL_ERROR_PCT, "failed": [], "params": None, "params_out_of_range": [],
            "p_alive_recent_quintile": None, "p_alive_lapsed_quintile": None,
            "p_alive_recent_quintile_pct": None, "p_alive_lapsed_quintile_pct": None,
            "min_p_alive_gap": MIN_P_ALIVE_GAP, "degenerate": None, "refit_degenerate": None,
            "min_customers": CLV_MIN_CUSTOMERS, "min_repeat_customers": CLV_MIN_REPEAT_CUSTOMERS}


def holdout_check(days, first_day: dt.date | None, observation_end: dt.date, validation: dict) -> None:
    """Fill ``validation`` (see :func:`new_validation`) with the holdout check of SPEC 9.3.

    H = min(26, ⌊history days / 21⌋) weeks ending on ``observation_end``; BG/NBD is fitted on
    the purchases before the holdout (returns matched with that data only) of the customers with
    a purchase before it and a positive net revenue then; each one's expected repeat purchases in
    the H weeks are compared with their purchases there (returns matched with all data up to
    ``observation_end``), in total and per customer against the naive x / T · H. ``used`` is true
    when |error| ≤ 20%, MAE ≤ naive MAE and :func:`fit_check` finds the fit sound;
    ``reason`` is ``passed`` or the first failure, ``failed`` lists every failed test.
    """
    weeks, start = holdout_window(first_day or observation_end, observation_end)
    validation["holdout_weeks"] = weeks
    if not weeks:
        validation["reason"] = "short_history"
        return
    validation["holdout_start"], validation["holdout_end"] = start.isoformat(), observation_end.isoformat()
    try:
        cal = purchase_summary(clv_purchases(days, start), start - dt.timedelta(days=1))
    except CLVError:                       # no purchase before the holdout
        cal = None
    validation["customers"] = 0 if cal is None else int(len(cal))
    validation["repeat_customers"] = 0 if cal is None else int((cal["frequency"] > 0).sum())
    if cal is None or not enough(cal):
        validation["reason"] = "too_few_customers"
        return
    f, r, T = (cal[k].to_numpy(float) for k in ("frequency", "recency", "T"))
    idx = fit_index(len(cal))
    try:
        bg = BetaGeoModel().fit(f[idx], r[idx], T[idx])
        predicted = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(weeks, f, r, T), float)
    except CLVError:
        validation["reason"] = "fit_failed"
        return
    held = clv_purchases(days, observation_end + dt.timedelta(days=1), positive_net=False)
    held = held.filter(held.order_date >= date_literal(start))
    counts = held.group_by("customer_id").aggregate(n=held.count()).to_pandas()
    actual = (pd.Series(counts["n"].to_numpy(float), index=counts["customer_id"].to_numpy())
              .reindex(cal.index, fill_value=0.0).to_numpy(float))
    validation.update(holdout_errors(predicted, actual, naive_purchases(f, T, weeks)))
    check = fit_check(bg, f, r, T)
    validation.update(check, params=dict(bg.params_))
    for key in ("p_alive_recent_quintile", "p_alive_lapsed_quintile"):
        validation[key + "_pct"] = None if check[key] is None else 100.0 * check[key]
    failed = []
    if check["params_out_of_range"]:
        failed.append("degenerate_parameters")
    if check["degenerate"] and not check["params_out_of_range"]:
        failed.append("no_lapse_signal")
    if validation["error_pct"] is None:
        failed.append("no_holdout_purchases")
    elif abs(validation["error_pct"]) > MAX_TOTAL_ERROR_PCT:
        failed.append("total_error")
    if validation["mae"] > validation["naive_mae"]:
        failed.append("worse_than_naive")
    validation["failed"] = failed
    validation["used"] = not failed
    validation["reason"] = failed[0] if failed else "passed"
