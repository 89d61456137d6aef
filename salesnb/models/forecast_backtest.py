"""The forecast's rolling-origin backtest and its scores (SPEC 9.2).

:func:`backtest` scores a candidate of :data:`~salesnb.models.forecast_models.CANDIDATES` on the
rolling origins of :func:`backtest_origins`: MAPE, MASE (FPP3 section 5.8: each origin's mean
absolute error divided by the in-sample mean absolute seasonal-naive error of that origin's
training months, averaged over origins) and the coverage of the 80% interval. :func:`choose`
takes the lowest MASE, and a model that does not beat seasonal naive is not used.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .forecast_models import CANDIDATES, SEASON, SEASONAL_MIN, SEED, ForecastFitError, _as_series, naive_errors

__all__ = ["Backtest", "backtest_origins", "backtest", "mase_scale", "choose"]

MIN_TRAIN = 12          #: months up to a backtest origin
HORIZON = 3             #: months each backtest origin forecasts
MAX_ORIGINS = 12        #: the latest this many origins are used


def backtest_origins(n: int, horizon: int = HORIZON, min_train: int = MIN_TRAIN,
                     max_origins: int = MAX_ORIGINS) -> list[int]:
    """The training lengths of the backtest origins of an ``n``-month series (SPEC 9.2): an origin
    is a month-end with >= ``min_train`` months up to it and ``horizon`` months after it inside the
    series; the latest ``max_origins`` of them. ``k`` months of training end at month ``k − 1``."""
    return list(range(min_train, n - horizon + 1))[-max_origins:]


def mase_scale(train, season: int = SEASON, seasonal_min: int = SEASONAL_MIN) -> float:
    """The in-sample mean absolute seasonal-naive error of ``train``: lag 12, lag 1 with fewer than
    24 months (the MASE denominator, FPP3 section 5.8)."""
    _, errors = naive_errors(np.asarray(train, dtype=float), season, seasonal_min)
    return float(np.mean(np.abs(errors)))


@dataclass
class Backtest:
    """One candidate's rolling-origin scores: ``mase``, ``mape`` and ``coverage80_pct`` (None
    when undefined), the per-origin ``forecasts`` and ``error`` (why the candidate was dropped)."""

    method: str
    mase: float | None = None
    mape: float | None = None
    coverage80_pct: float | None = None
    forecasts: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return {"method": self.method, "mase": self.mase, "mape": self.mape, "coverage80_pct": self.coverage80_pct}


def backtest(y, candidate: str, origins: list[int] | None = None, horizon: int = HORIZON,
             seed=SEED) -> Backtest:
    """Score ``candidate`` (a key of :data:`CANDIDATES`) on the rolling origins of ``y``: from each
    origin a fresh fit on the months up to it (choosing its own configuration) forecasts the next
    ``horizon`` months. MAPE pools every forecast whose actual is > 0; MASE averages the origins'
    mean |error| / :func:`mase_scale` (origins with a zero scale are left out); coverage is the
    share of actuals inside the 80% interval. A failed fit at any origin drops the candidate
    (``error``)."""
    y = _as_series(y)
    origins = backtest_origins(len(y), horizon) if origins is None else origins
    result = Backtest(candidate)
    ape, mases, inside, total = [], [], 0, 0
    for k in origins:
        train, actual = y[:k], y[k:k + horizon]
        try:
            model = CANDIDATES[candidate]().fit(train)
            pred = model.predict(len(actual), seed=[seed, k])
        except ForecastFitError as exc:
            result.error = f"at the origin with {k} months: {exc}"
            return result
        err = actual - pred.mean
        scale = mase_scale(train)
        if scale > 0:
            mases.append(float(np.mean(np.abs(err)) / scale))
        positive = actual > 0
        ape.extend((np.abs(err[positive]) / actual[positive] * 100.0).tolist())
        inside += int(np.sum((actual >= pred.lower[80]) & (actual <= pred.upper[80])))
        total += len(actual)
        result.forecasts.append({"origin": k, "forecast": pred.mean.tolist(), "actual": actual.tolist(),
                                 "lo80": pred.lower[80].tolist(), "hi80": pred.upper[80].tolist()})
    result.mase = float(np.mean(mases)) if mases else None
    result.mape = float(np.mean(ape)) if ape else None
    result.coverage80_pct = inside / total * 100.0 if total else None
    return result


def choose(scores: list[Backtest]) -> str:
    """The winner: the lowest MASE among the candidates that were not dropped, provided it beats
    seasonal naive (strictly lower MASE); otherwise seasonal naive."""
    base = next(s for s in scores if s.method in ("seasonal_naive", "naive"))
    usable = [s for s in scores if s.error is None and s.mase is not None]
    if base.mase is None or not usable:
        return base.method
    best = min(usable, key=lambda s: (s.mase, s is not base))
    return best.method if best is not base and best.mase < base.mase else base.method
