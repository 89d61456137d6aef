"""The forecast's candidate models, their fits, intervals and simulated paths (SPEC 9.2).

The API follows the ``lifetimes`` style of :mod:`salesnb.models.clv`: one class per candidate,
``fit(y)`` returns the model, fitted values end in ``_`` and the repr shows them, ``forecast(h)``
gives point forecasts and ``predict(h)`` point forecasts, 80% / 95% intervals and simulated paths.

* :class:`SeasonalNaiveModel` -- the same month a year earlier (the last value with fewer than
  24 months); interval ``± z·σ·√(⌊(h−1)/m⌋ + 1)``, σ the standard deviation of its in-sample
  errors (Hyndman, R. J. & Athanasopoulos, G., *Forecasting: Principles and Practice*, 3rd ed.
  (FPP3), 2021, section 5.5).
* :class:`ETSForecastModel` -- exponential smoothing in state-space form (statsmodels
  ``ETSModel``), the error / trend / seasonality configuration chosen by AICc on the fit's own
  training months among six (:func:`ets_configurations`: no or damped trend, no, additive or --
  on positive data -- multiplicative season, the latter with multiplicative error; a season
  needs >= 24 months); intervals from simulated sample paths.
* :class:`ThetaForecastModel` -- the Theta method (Assimakopoulos, V. & Nikolopoulos, K.
  (2000), "The theta model: a decomposition approach to forecasting", *International Journal of
  Forecasting* 16(4):521-530), fitted as simple exponential smoothing with drift (Hyndman, R. J.
  & Billah, B. (2003), "Unmasking the Theta method", *IJF* 19(2):287-290) by statsmodels
  ``ThetaModel`` on the classically deseasonalized series (>= 24 months and a seasonality test);
  interval from the SES-with-drift error model, Var(h) = σ²(1 + (h−1)α²).

statsmodels is imported inside the fits, never at module load (importing its ETS and Theta
modules costs about 0.8 s of CPU on its own, 0.15 s once the revenue section's STL has loaded
statsmodels, and only a report whose series is long enough to model pays it).
Everything is deterministic: fits have no randomness and simulations use a fixed seed.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ForecastFitError",
    "Prediction",
    "SeasonalNaiveModel",
    "ETSForecastModel",
    "ThetaForecastModel",
    "CANDIDATES",
    "ets_configurations",
    "ets_label",
    "quantile_intervals",
    "single_thread",
]

SEASON = 12             #: months in a season
SEASONAL_MIN = 24       #: months a fit needs before it may use a season (two full years)
LEVELS = (80, 95)       #: interval levels (percent)
SIMULATIONS = 2000      #: simulated paths per forecast
ETS_MAXITER = 60        #: L-BFGS-B iterations of one ETS configuration's fit (see ETSForecastModel)
SEED = 2025             #: seed of every simulation (findings are deterministic)

_Z = {80: 1.2815515655446004, 95: 1.959963984540054}  # standard normal quantiles (1 + level) / 2


class ForecastFitError(Exception):
    """A candidate could not be fitted (it is dropped from the forecast, with this reason)."""


@dataclass
class Prediction:
    """Point forecasts ``mean`` (h,), intervals ``lower[level]`` / ``upper[level]`` (h,) and
    simulated paths ``paths`` (n, h) of one fitted model."""

    mean: np.ndarray
    lower: dict
    upper: dict
    paths: np.ndarray


def _as_series(y) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 1:
        raise ForecastFitError("the series must be one-dimensional (one value per month)")
    if not np.isfinite(arr).all():
        raise ForecastFitError("the series has missing or infinite values")
    return arr


def single_thread():
    """A context in which BLAS uses one thread: each fit makes thousands of tiny L-BFGS-B steps,
    and OpenBLAS threads contending for the cores made them about 7 times slower (measured on 2
    busy cores). Without ``threadpoolctl`` installed the fits still run, only slower."""
    # load the libraries first: threadpoolctl limits the BLAS copies loaded when it is entered
    # (scipy ships its own OpenBLAS, loaded with scipy.linalg / scipy.optimize)
    import scipy.linalg  # noqa: F401
    import scipy.optimize  # noqa: F401
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _rng(seed):
    return np.random.default_rng(seed)


def quantile_intervals(paths: np.ndarray, levels=LEVELS) -> tuple[dict, dict]:
    """``lower[level]``, ``upper[level]``: the central ``level``% interval of ``paths`` along its
    first axis (per column of an (n, h) array, a number for a 1-D one)."""
    lower, upper = {}, {}
    for level in levels:
        a = (100 - level) / 200
        lower[level] = np.quantile(paths, a, axis=0)
        upper[level] = np.quantile(paths, 1 - a, axis=0)
    return lower, upper


class _Model:
    """Common API: ``fit(y)`` → self; ``forecast(h)``; ``predict(h, n, seed)`` → :class:`Prediction`."""

    method = ""

    def _fitted(self):
        if not hasattr(self, "n_obs_"):
            raise ForecastFitError(f"{type(self).__name__} is not fitted: call fit(y) first")

    def _fields(self) -> list[tuple[str, object]]:
        return []

    def __repr__(self) -> str:
        if not hasattr(self, "n_obs_"):
            return f"<{type(self).__name__}: not fitted>"
        body = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self._fields())
        return f"<{type(self).__name__}: fitted on {self.n_obs_} months, {body}>"


def naive_errors(y: np.ndarray, season: int = SEASON, seasonal_min: int = SEASONAL_MIN) -> tuple[int, np.ndarray]:
    """The (seasonal) naive lag of ``y`` -- ``season``, or 1 with fewer than ``seasonal_min``
    months -- and its in-sample errors ``y[t] − y[t−lag]``."""
    lag = season if len(y) >= seasonal_min else 1
    return lag, y[lag:] - y[:-lag]


class SeasonalNaiveModel(_Model):
    """Seasonal naive: each month's forecast is the same month a year earlier (lag 12); with
    fewer than 24 months the naive method, the last value (lag 1).

    The h-step interval is ``± z·σ·√(⌊(h−1)/m⌋ + 1)`` with m the lag and σ the standard deviation
    (ddof 1) of the in-sample errors ``y[t] − y[t−m]`` (FPP3 section 5.5, "Benchmark methods";
    SPEC 9.2). Simulated paths follow the same model: ``y[T+h] = y[T+h−m] + e``, e ~ N(0, σ²).

    Fitted attributes: ``lag_``, ``sigma_``, ``n_obs_``; ``method_`` is ``seasonal_naive`` or ``naive``.
    """

    def __init__(self, season: int = SEASON, seasonal_min: int = SEASONAL_MIN):
        self.season = season
        self.seasonal_min = seasonal_min

    def fit(self, y) -> "SeasonalNaiveModel":
        y = _as_series(y)
        if len(y) < 2:
            raise ForecastFitError("the naive method needs at least 2 months")
        lag, errors = naive_errors(y, self.season, self.seasonal_min)
        self.lag_ = lag
        self.method_ = "seasonal_naive" if lag > 1 else "naive"
        self.sigma_ = float(np.std(errors, ddof=1)) if len(errors) > 1 else 0.0
        self.n_obs_ = len(y)
        self._last = y[-lag:].copy()
        return self

    def _fields(self):
        return [("method", self.method_), ("lag", self.lag_), ("sigma", self.sigma_)]

    def forecast(self, h: int) -> np.ndarray:
        self._fitted()
        return np.array([self._last[i % self.lag_] for i in range(h)], dtype=float)

    def _scale(self, h: int) -> np.ndarray:
        steps = np.arange(1, h + 1)
        return self.sigma_ * np.sqrt((steps - 1) // self.lag_ + 1)

    def predict(self, h: int, n: int = SIMULATIONS, seed=SEED) -> Prediction:
        mean = self.forecast(h)
        scale = self._scale(h)
        lower = {lv: mean - _Z[lv] * scale for lv in LEVELS}
        upper = {lv: mean + _Z[lv] * scale for lv in LEVELS}
        eps = _rng(seed).standard_normal((n, h)) * self.sigma_
        paths = np.empty((n, h))
        for i in range(h):
            base = paths[:, i - self.lag_] if i >= self.lag_ else self._last[i]
            paths[:, i] = base + eps[:, i]
        return Prediction(mean, lower, upper, paths)


def ets_configurations(n: int, positive: bool, seasonal_min: int = SEASONAL_MIN) -> list[tuple]:
    """The ETS configurations (error, trend, damped, seasonal) searched on ``n`` months: one per
    trend / season structure, limited for speed to the configurations valid at that length (SPEC
    9.2): ETS(A,N,N) and ETS(A,Ad,N); with ``n >= seasonal_min`` also ETS(A,N,A) and ETS(A,Ad,A);
    on positive data with a season also ETS(M,N,M) and ETS(M,Ad,M).

    Why these six of fable's / FPP3's fifteen (FPP3 8.6: no multiplicative trend, no additive
    error with multiplicative season):

    * a trend is damped only: over the backtest's 3-month horizon a damped trend (φ up to 0.98)
      follows a linear one almost exactly, damped trends forecast better on business series
      (Gardner, E. S. & McKenzie, E. (1985), "Forecasting trends in time series", *Management
      Science* 31(10):1237-1246; FPP3 8.2), and an undamped fit costs as much again;
    * one error type per structure: the error type changes the likelihood and the interval but
      hardly the point forecast, which is what the backtest scores; additive error, except that a
      multiplicative season needs a multiplicative error (FPP3 8.6).

    On Superstore 2017Q3 and the sample 2024Q3 the full search chose ETS(M,N,M), kept here; the
    dropped nine cost three quarters of the search's time on smooth series.
    """
    out = [("add", None, False, None), ("add", "add", True, None)]
    if n >= seasonal_min:
        out += [("add", None, False, "add"), ("add", "add", True, "add")]
        if positive:
            out += [("mul", None, False, "mul"), ("mul", "add", True, "mul")]
    return out


def ets_label(config: tuple) -> str:
    """``("mul", "add", True, None)`` → ``ETS(M,Ad,N)`` (FPP3's notation)."""
    error, trend, damped, seasonal = config
    letter = {None: "N", "add": "A", "mul": "M"}
    return f"ETS({letter[error]},{letter[trend]}{'d' if damped else ''},{letter[seasonal]})"


class ETSForecastModel(_Model):
    """Exponential smoothing (ETS, innovations state space; FPP3 chapter 8) with automatic choice:
    every configuration of :func:`ets_configurations` valid at the series' length is fitted by
    maximum likelihood (statsmodels ``ETSModel``, initial states estimated) and the one with the
    lowest AICc (FPP3 section 8.6) is kept. A configuration whose fit fails or has a non-finite
    likelihood is skipped (``skipped_``); when none is left the fit fails.

    Convergence: each L-BFGS-B search stops after ``maxiter`` iterations (:data:`ETS_MAXITER`).
    On smooth seasonal series the damped seasonal fits crawl for hundreds of iterations (each one
    costs a likelihood per parameter, 17 to 19 of them) while the AICc ranking is settled long
    before; a fit stopped at the cap is kept with the likelihood of the parameters it reached
    (``stopped_`` lists it). That likelihood is at most the converged one, so a stopped
    configuration can lose the AICc comparison it would have won, never win one it would lose.
    The iteration count, not a clock, bounds the time: findings stay byte-identical.

    Intervals are quantiles of simulated sample paths (statsmodels ``simulate`` with the errors
    drawn here, seeded). Their σ² is the sum of squared residuals over ``n − p`` (p the estimated
    parameters, initial states included), as R's ``forecast::ets`` and fable compute it;
    statsmodels' ``scale`` divides by ``n`` (the maximum-likelihood value), which on a seasonal
    fit of 24 to 36 months understates σ by a fifth to a half. Even so the intervals leave out
    the uncertainty of the parameters and of the AICc choice (FPP3 5.5), so on short series they
    undercover: about 73% of actuals fall in the 80% interval on 20 months of a simulated local
    level (the backtest's ``coverage80_pct`` shows it on the report's own data).

    Fitted attributes: ``config_`` (e.g. ``ETS(M,N,M)``), ``aicc_``, ``params_`` (smoothing
    parameters), ``sigma_`` (residual scale), ``n_obs_``, ``candidates_`` ({label: AICc}),
    ``skipped_`` ({label: reason}), ``stopped_`` (labels stopped at ``maxiter``).
    """

    method = "ets"

    def __init__(self, season: int = SEASON, seasonal_min: int = SEASONAL_MIN, initialization: str = "estimated",
                 maxiter: int | None = None):
        self.season = season
        self.seasonal_min = seasonal_min
        self.initialization = initialization
        self.maxiter = maxiter

    def fit(self, y) -> "ETSForecastModel":
        """Fit every configuration of :func:`ets_configurations` valid for ``y`` and keep the
        lowest AICc; raises :class:`ForecastFitError` when none can be fitted."""
        from statsmodels.tools.sm_exceptions import ConvergenceWarning
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel
        y = _as_series(y)
        n = len(y)
        if n < 4:
            raise ForecastFitError("ETS needs at least 4 months")
        with single_thread():
            return self._fit(y, n, ConvergenceWarning, ETSModel)

    def _fit(self, y, n, ConvergenceWarning, ETSModel):
        best = None
        self.candidates_, self.skipped_, self.stopped_ = {}, {}, []
        maxiter = ETS_MAXITER if self.maxiter is None else self.maxiter
        # the fits run on y / c, every state O(1) like the smoothing parameters: L-BFGS-B with a
        # finite-difference gradient converges in a third to a sixth of the iterations it needs
        # on revenue in the thousands. The maximum likelihood is scale-equivariant (states scale
        # by c, smoothing parameters and multiplicative seasons do not) and every configuration's
        # log-likelihood shifts by the same −n·log c, so the AICc ranking is unchanged.
        c = float(np.mean(np.abs(y)))
        c = c if math.isfinite(c) and c > 0 else 1.0
        shift = 2.0 * n * math.log(c)
        for config in ets_configurations(n, bool((y > 0).all()), self.seasonal_min):
            label = ets_label(config)
            try:
                with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
                    warnings.simplefilter("always")
                    model = self._model(ETSModel, y / c, config)
                    params = model.fit(disp=False, return_params=True, maxiter=maxiter)
                    llf = float(model.loglike(params))
            except Exception as exc:  # noqa: BLE001 -- any failure drops this configuration
                self.skipped_[label] = f"fit failed ({type(exc).__name__})"
                continue
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                self.stopped_.append(label)
            k = len(model.param_names) + 1  # + the error variance
            if not math.isfinite(llf) or n - k - 1 <= 0:
                self.skipped_[label] = "no finite likelihood" if not math.isfinite(llf) else "too many parameters"
                continue
            aicc = -2.0 * llf + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1) + shift
            self.candidates_[label] = aicc
            if best is None or aicc < best[0]:
                best = (aicc, config, model, params)
        if best is None:
            raise ForecastFitError("no ETS configuration could be fitted (" +
                                   "; ".join(f"{k}: {v}" for k, v in self.skipped_.items()) + ")")
        aicc, config, scaled, params = best
        seasonal = config[3]
        params = np.array([v * c if p in ("initial_level", "initial_trend")
                           or (seasonal == "add" and p.startswith("initial_seasonal")) else v
                           for p, v in zip(scaled.param_names, params)])
        model = self._model(ETSModel, y, config)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            self.results_ = model.smooth(params)
        self.config_ = ets_label(config)
        self.configuration_ = config
        self.aicc_ = float(aicc)
        names = [p for p in model.param_names if p.startswith(("smoothing", "damping"))]
        self.params_ = {p: float(v) for p, v in zip(model.param_names, params) if p in names}
        p = len(model.param_names)
        self.sigma_ = float(np.sqrt(np.sum(np.square(self.results_.resid)) / (n - p)))
        self.n_obs_ = n
        return self

    def _model(self, ETSModel, y, config):
        error, trend, damped, seasonal = config
        return ETSModel(y, error=error, trend=trend, damped_trend=damped, seasonal=seasonal,
                        seasonal_periods=self.season if seasonal else None,
                        initialization_method=self.initialization)

    def _fields(self):
        return [("config", self.config_), ("aicc", self.aicc_), ("sigma", self.sigma_)] + \
            [(k.replace("smoothing_", ""), v) for k, v in self.params_.items()]

    def forecast(self, h: int) -> np.ndarray:
        self._fitted()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return np.asarray(self.results_.forecast(h), dtype=float)

    def predict(self, h: int, n: int = SIMULATIONS, seed=SEED) -> Prediction:
        mean = self.forecast(h)
        eps = _rng(seed).standard_normal((h, n)) * self.sigma_
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sims = np.asarray(self.results_.simulate(h, anchor="end", repetitions=n, random_errors=eps), dtype=float)
        paths = sims.reshape(h, n).T
        if not np.isfinite(paths).all():
            raise ForecastFitError(f"{self.config_} simulated non-finite paths")
        lower, upper = quantile_intervals(paths)
        return Prediction(mean, lower, upper, paths)


class ThetaForecastModel(_Model):
    """The Theta method (Assimakopoulos & Nikolopoulos 2000) as simple exponential smoothing with
    drift (Hyndman & Billah 2003), fitted by statsmodels ``ThetaModel`` (OLS slope b0 + SES α,
    θ = 2). With >= 24 months the series is deseasonalized by classical decomposition when
    statsmodels' seasonality test (90%) finds a season, multiplicatively on positive data.

    Interval: the SES-with-drift errors e ~ N(0, σ²) accumulate as ``e[h] + α·Σ e[j<h]``, so
    Var(h) = σ²(1 + (h−1)α²) on the deseasonalized scale (scaled by the seasonal factor when it
    is multiplicative); σ² is the mean squared in-sample one-step error of that model.
    Simulated paths use the same error model.

    Fitted attributes: ``alpha_``, ``b0_`` (drift per month), ``sigma_``, ``seasonal_``
    (``multiplicative``, ``additive`` or ``none``), ``n_obs_``.
    """

    method = "theta"

    def __init__(self, season: int = SEASON, seasonal_min: int = SEASONAL_MIN):
        self.season = season
        self.seasonal_min = seasonal_min

    def fit(self, y) -> "ThetaForecastModel":
        from statsmodels.tsa.forecasting.theta import ThetaModel
        y = _as_series(y)
        n = len(y)
        if n < 4:
            raise ForecastFitError("Theta needs at least 4 months")
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model = ThetaModel(y, period=self.season, deseasonalize=n >= self.seasonal_min)
                res = model.fit()
                mean = np.asarray(res.forecast(1), dtype=float)
        except Exception as exc:  # noqa: BLE001 -- any failure drops the candidate
            raise ForecastFitError(f"Theta fit failed ({type(exc).__name__}: {exc})") from exc
        seasonal = np.asarray(getattr(res, "_seasonal", np.empty(0)), dtype=float)
        has_season = bool(model.deseasonalize and seasonal.shape[0])
        multiplicative = has_season and model.method.startswith("mul")
        self.alpha_ = float(res.params["alpha"])
        self.b0_ = float(res.params["b0"])
        if has_season:
            factors = seasonal[np.arange(n) % self.season]
            x = y / factors if multiplicative else y - factors
        else:
            x = y
        self.seasonal_ = ("multiplicative" if multiplicative else "additive") if has_season else "none"
        self._season_factors = seasonal if has_season else None
        self._multiplicative = multiplicative
        self.results_ = res
        # in-sample one-step errors of SES with drift (theta = 2), as statsmodels forecasts them
        a = self.alpha_
        level, errors = x[0], []
        for t in range(1, n):
            drift = 0.5 * self.b0_ * ((1 - (1 - a) ** t) / a if a > 0 else 0.0)
            errors.append(x[t] - (level + drift))
            level = a * x[t] + (1 - a) * level
        self.sigma_ = float(np.sqrt(np.mean(np.square(errors)))) if errors else 0.0
        if not (math.isfinite(self.sigma_) and np.isfinite(mean).all()):
            raise ForecastFitError("Theta fit gave non-finite values")
        self.n_obs_ = n
        return self

    def _fields(self):
        return [("alpha", self.alpha_), ("b0", self.b0_), ("sigma", self.sigma_), ("seasonal", self.seasonal_)]

    def forecast(self, h: int) -> np.ndarray:
        self._fitted()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return np.asarray(self.results_.forecast(h), dtype=float)

    def _factors(self, h: int) -> np.ndarray:
        if not self._multiplicative:
            return np.ones(h)
        return self._season_factors[(self.n_obs_ + np.arange(h)) % self.season]

    def predict(self, h: int, n: int = SIMULATIONS, seed=SEED) -> Prediction:
        mean = self.forecast(h)
        steps = np.arange(h)
        scale = self.sigma_ * np.sqrt(1 + steps * self.alpha_ ** 2) * self._factors(h)
        lower = {lv: mean - _Z[lv] * scale for lv in LEVELS}
        upper = {lv: mean + _Z[lv] * scale for lv in LEVELS}
        eps = _rng(seed).standard_normal((n, h)) * self.sigma_
        carried = np.cumsum(eps, axis=1) - eps  # Σ e[j<h]
        paths = mean + (eps + self.alpha_ * carried) * self._factors(h)
        return Prediction(mean, lower, upper, paths)


CANDIDATES = {"seasonal_naive": SeasonalNaiveModel, "ets": ETSForecastModel, "theta": ThetaForecastModel}
