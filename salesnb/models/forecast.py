"""Monthly revenue forecast with its measured error: the ``forecast`` section of the findings
(SPEC 9.2, 9.5).

The series is the monthly revenue of the complete months up to the report period's end (a
calendar month without rows counts as 0). Three candidates compete
(:mod:`salesnb.models.forecast_models`: seasonal naive, ETS, Theta), scored on a rolling origin
(:mod:`salesnb.models.forecast_backtest`: MAPE, MASE, 80% coverage); the lowest MASE wins, and a
model that does not beat seasonal naive is not used. With fewer than :data:`MIN_MODEL_MONTHS`
complete months the forecast is the run-rate. :func:`forecast_findings` builds the section; the
names of the two modules above are importable from here too.
"""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from ..periods import _label_for, month_label, month_start
from . import forecast_backtest, forecast_models
from .forecast_backtest import HORIZON, MAX_ORIGINS, MIN_TRAIN, Backtest, backtest, backtest_origins, choose, mase_scale
from .forecast_models import (CANDIDATES, ETS_MAXITER, LEVELS, SEASON, SEASONAL_MIN, SEED, SIMULATIONS,
                              ETSForecastModel, ForecastFitError, Prediction, SeasonalNaiveModel,
                              ThetaForecastModel, ets_configurations, ets_label, quantile_intervals,
                              single_thread)

__all__ = [*forecast_models.__all__, *forecast_backtest.__all__, "next_quarter", "forecast_findings",
           # the constants of the candidates and the backtest, for callers of this module
           "SEASON", "SEASONAL_MIN", "LEVELS", "SIMULATIONS", "ETS_MAXITER", "SEED", "HORIZON", "MIN_TRAIN",
           "MAX_ORIGINS", "MIN_MODEL_MONTHS", "RUN_RATE_MONTHS"]

MIN_MODEL_MONTHS = 18   #: with fewer complete months: run-rate only
RUN_RATE_MONTHS = 3     #: the run-rate is the mean of this many last complete months


def _month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _month_days(index: int) -> int:
    return calendar.monthrange(index // 12, index % 12 + 1)[1]


def next_quarter(period_end: dt.date, fiscal_year_start: int = 1) -> tuple[str, int]:
    """(label, first month index) of the quarter after the one holding the month before
    ``period_end`` (the period's last month; fiscal quarters with ``fiscal_year_start``)."""
    last = period_end.year * 12 + period_end.month - 1 - 1
    offset = (last - (fiscal_year_start - 1)) % 12
    start = last - offset % 3 + 3
    return _label_for("quarter", month_start(start), month_start(start + 3), fiscal_year_start), start


def _interval(values: np.ndarray) -> dict:
    """``lo80``, ``hi80``, ``lo95``, ``hi95`` of the simulated totals ``values``."""
    lower, upper = quantile_intervals(values)
    out = {}
    for level in LEVELS:
        out[f"lo{level}"] = float(lower[level])
        out[f"hi{level}"] = float(upper[level])
    return out


def _no_interval() -> dict:
    return {f"{side}{level}": None for level in LEVELS for side in ("lo", "hi")}


def _remaining_fractions(months: list[int], data_last: dt.date, period_last: dt.date) -> dict[int, float]:
    """Per forecast month, the share of its days after ``data_last`` and up to ``period_last``."""
    out = {}
    for m in months:
        first = dt.date(m // 12, m % 12 + 1, 1)
        last = dt.date(m // 12, m % 12 + 1, _month_days(m))
        lo, hi = max(first, data_last + dt.timedelta(days=1)), min(last, period_last)
        if hi >= lo:
            out[m] = ((hi - lo).days + 1) / _month_days(m)
    return out


def _complete_series(monthly) -> tuple[list[str], np.ndarray]:
    """The labels and revenue of the trailing run of complete months (partial months only sit at
    the data's edges)."""
    complete = monthly[~monthly["partial"].astype(bool)]
    labels = complete["month"].tolist()
    y = complete["revenue"].astype(float).to_numpy()
    if labels:
        idx = [_month_index(m) for m in labels]
        start = len(idx) - 1
        while start > 0 and idx[start - 1] == idx[start] - 1:
            start -= 1
        labels, y = labels[start:], y[start:]
    return labels, y


def _empty_section(labels: list[str], q_label: str, q_start: int) -> dict:
    return {"method": None, "model": None, "note": None, "candidates": [],
            "backtest": {"origins": [], "horizon_months": HORIZON},
            "series": {"first_month": labels[0] if labels else None, "last_month": labels[-1] if labels else None,
                       "months": len(labels)},
            "months": [], "next_quarter": {"label": q_label, "start": f"{month_label(q_start)}-01",
                                           "end": f"{month_label(q_start + 2)}-{_month_days(q_start + 2):02d}",
                                           "revenue": None, **_no_interval()},
            "target": None, "period_projection": None, "simulations": None, "seed": None}


def forecast_findings(monthly, period, *, period_revenue: float | None = None, period_partial: bool = False,
                      data_last_date: str | dt.date | None = None, targets: dict | None = None,
                      simulations: int = SIMULATIONS, seed=SEED) -> dict:
    """The ``forecast`` section of the findings (SPEC 9.2, 9.5).

    Parameters
    ----------
    monthly : DataFrame
        ``month`` ("YYYY-MM"), ``revenue`` and ``partial`` of every month from the data's first up
        to the period's last (the revenue findings' ``revenue_monthly_all`` table; months without
        rows hold 0).
    period : Period
        The report period; the horizon runs through the end of the quarter after the one holding
        its last month (fiscal quarters).
    period_revenue, period_partial, data_last_date
        The period's revenue to date, whether it is partial, and the data's last day: a partial
        period that ends after the data gets ``period_projection`` (actual to date + the forecast
        of its remaining days, pro rata by each month's days).
    targets : dict
        ``{period label: revenue target}`` (the params' ``targets.revenue``).
    """
    targets = targets or {}
    labels, y = _complete_series(monthly)
    q_label, q_start = next_quarter(period.end, period.fiscal_year_start)
    horizon = list(range(_month_index(labels[-1]) + 1, q_start + 3)) if labels else []
    out = _empty_section(labels, q_label, q_start)
    if not labels:
        out["note"] = "No complete month of revenue up to the period's end: nothing to forecast from."
        return out

    paths = lower = upper = None
    if len(y) < MIN_MODEL_MONTHS:
        mean = _run_rate(out, y, labels, len(horizon))
    else:
        with single_thread():
            found = _model_forecast(y, labels, len(horizon), simulations, seed)
        mean, lower, upper, paths = found.pop("prediction")
        out.update(found)

    out["months"] = _month_rows(horizon, mean, lower, upper)
    q_cols = [i for i, m in enumerate(horizon) if m >= q_start]
    nq = out["next_quarter"]
    nq["revenue"] = float(np.sum(mean[q_cols]))
    totals = paths[:, q_cols].sum(axis=1) if paths is not None else None
    if totals is not None:
        nq.update(_interval(totals))
    target = targets.get(q_label)
    if target is not None:
        prob = float(np.mean(totals >= target) * 100.0) if totals is not None else None
        out["target"] = {"value": float(target), "probability_pct": prob}

    if period_partial and data_last_date is not None:
        out["period_projection"] = _period_projection(period, horizon, mean, paths, period_revenue,
                                                      data_last_date, targets)
    return out


def _run_rate(out: dict, y: np.ndarray, labels: list[str], h: int) -> np.ndarray:
    """Fill ``out``'s model keys for the run-rate (too short a series for a model); its ``h``
    monthly forecasts."""
    from ..fmt import fmt_count
    recent = y[-RUN_RATE_MONTHS:]
    rate = float(np.mean(recent))
    out.update(method="run_rate", model=f"mean of the last {len(recent)} complete months")
    out["candidates"] = [{"method": "run_rate", "mase": None, "mape": None, "coverage80_pct": None,
                          "chosen": True, "model": out["model"], "note": None}]
    out["note"] = (f"Only {fmt_count(len(y))} complete months of history ({labels[0]} to {labels[-1]}): "
                   f"a forecasting model needs at least {fmt_count(MIN_MODEL_MONTHS)}, so the forecast is "
                   f"the run-rate (the mean of the last {fmt_count(len(recent))} complete months), without "
                   "an interval.")
    return np.full(h, rate)


def _month_rows(horizon: list[int], mean: np.ndarray, lower: dict | None, upper: dict | None) -> list[dict]:
    rows = []
    for i, m in enumerate(horizon):
        row = {"month": month_label(m), "revenue": float(mean[i])}
        if lower is None:
            row.update(_no_interval())
        else:
            for level in LEVELS:
                row[f"lo{level}"] = float(lower[level][i])
                row[f"hi{level}"] = float(upper[level][i])
        rows.append(row)
    return rows


def _period_projection(period, horizon: list[int], mean: np.ndarray, paths: np.ndarray | None,
                       period_revenue: float | None, data_last_date, targets: dict) -> dict | None:
    """A partial period's actual to date plus the forecast of its remaining days (None when no
    forecast month reaches into the period or its revenue to date is unknown)."""
    last = dt.date.fromisoformat(str(data_last_date)[:10])
    fractions = _remaining_fractions(horizon, last, period.end - dt.timedelta(days=1))
    if not fractions or period_revenue is None:
        return None
    period_revenue = float(period_revenue)
    cols = [horizon.index(m) for m in fractions]
    weights = np.array([fractions[m] for m in fractions])
    rest = float(np.sum(mean[cols] * weights))
    proj = {"label": period.label, "through": last.isoformat(), "actual_to_date": period_revenue,
            "forecast_rest": rest, "revenue": period_revenue + rest, **_no_interval(),
            "target": None, "vs_target_pct": None, "probability_pct": None}
    sims = period_revenue + paths[:, cols] @ weights if paths is not None else None
    if sims is not None:
        proj.update(_interval(sims))
    p_target = targets.get(period.label)
    if p_target is not None:
        proj["target"] = float(p_target)
        proj["vs_target_pct"] = (proj["revenue"] - p_target) / abs(p_target) * 100.0 if p_target else None
        proj["probability_pct"] = float(np.mean(sims >= p_target) * 100.0) if sims is not None else None
    return proj

def _model_forecast(y: np.ndarray, labels: list[str], h: int, simulations: int, seed) -> dict:
    """Backtest every candidate, choose (:func:`choose`), refit the winner on all of ``y`` and
    predict ``h`` months: the forecast section's model keys plus ``prediction``."""
    origins = backtest_origins(len(y))
    scores, fitted, notes = [], {}, []
    out = {"backtest": {"origins": [labels[k - 1] for k in origins], "horizon_months": HORIZON}}
    for name in CANDIDATES:
        score = backtest(y, name, origins, seed=seed)
        model = None
        if score.error is None:
            try:
                model = CANDIDATES[name]().fit(y)
            except ForecastFitError as exc:
                score.error = f"on all {len(y)} months: {exc}"
        if name == "seasonal_naive" and model is not None:
            score.method = model.method_
        if score.error is not None:
            notes.append(f"{name.upper() if name == 'ets' else name.title()} was dropped: its fit failed "
                         f"{score.error}.")
        fitted[score.method] = model
        scores.append(score)
    winner = choose(scores)
    model = fitted[winner]
    pred = model.predict(h, n=simulations, seed=seed)
    out["prediction"] = (pred.mean, pred.lower, pred.upper, pred.paths)
    base = scores[0]
    out.update(method=winner, model=getattr(model, "config_", None) or _model_label(model),
               simulations=simulations, seed=seed)
    out["candidates"] = [{**s.to_dict(), "chosen": s.method == winner,
                          "model": _model_label(fitted[s.method]) if fitted.get(s.method) else None,
                          "note": None if s.error is None else f"dropped: the fit failed {s.error}"}
                         for s in scores]
    if winner == base.method:
        beaten = [s for s in scores if s is not base and s.error is None]
        why = ("no model beat it on the backtest (lower MASE)" if beaten else "no other model could be fitted")
        text = f"{'Seasonal naive' if winner == 'seasonal_naive' else 'Naive'} is used: {why}."
    else:
        text = f"{_model_label(model)} is used: the lowest MASE on the backtest, below seasonal naive's."
    out["note"] = " ".join([text] + notes)
    return out


def _model_label(model) -> str:
    if model is None:
        return None
    if isinstance(model, ETSForecastModel):
        return model.config_
    if isinstance(model, ThetaForecastModel):
        return "Theta" + ("" if model.seasonal_ == "none" else f" ({model.seasonal_}ly deseasonalized)")
    return "seasonal naive (lag 12)" if model.lag_ > 1 else "naive (last value)"