"""Customer-lifetime-value models: BG/NBD for purchase counts, Gamma-Gamma for spend.

The API follows the ``lifetimes`` library: one class per model, ``fit`` returns the model,
fitted values end in ``_``, and the repr shows them.

* :class:`BetaGeoModel` -- Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your
  Customers the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science*
  24(2):275-284.
* :class:`GammaGammaModel` -- Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
  Monetary Value" (note), and Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV:
  Using Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research*
  42(4):415-430.

Their input, the per-customer ``frequency, recency, T, monetary_value`` table, comes from
:func:`salesnb.models.clv_data.rfm_summary`; the checks a fit must pass before its predictions
are shown (SPEC 9.3) are in :mod:`salesnb.models.clv_check`.

Times (``recency``, ``T``, ``t``) are in one unit throughout, the ``time_unit`` of
:func:`~salesnb.models.clv_data.rfm_summary`; the fitted parameters are only meaningful in that unit.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

__all__ = [
    "CLVError",
    "ConvergenceError",
    "BetaGeoModel",
    "GammaGammaModel",
]


class CLVError(Exception):
    """Input that a CLV model cannot use; ``message`` says what is wrong and what to do."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class ConvergenceError(CLVError):
    """The maximum-likelihood search did not reach a usable optimum."""


# --------------------------------------------------------------------------- helpers


def _as_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CLVError(f"{name} must be numbers; got values that cannot be read as numbers ({exc}).")
    if arr.ndim > 1:
        hint = " (df.T is the transposed frame; use df['T'])" if name == "T" else ""
        raise CLVError(f"{name} must be one-dimensional (one value per customer){hint}.")
    if np.isnan(arr).any():
        n = int(np.isnan(arr).sum())
        raise CLVError(f"{name} has {n} missing (NaN) value(s); drop or fill those customers first.")
    if np.isinf(arr).any():
        raise CLVError(f"{name} has infinite values; every value must be a finite number.")
    return arr


def rft_arrays(frequency, recency, T):
    """Validated, broadcast ``(x, t_x, T)`` arrays."""
    x = _as_array(frequency, "frequency")
    t_x = _as_array(recency, "recency")
    T = _as_array(T, "T")
    try:
        x, t_x, T = np.broadcast_arrays(x, t_x, T)
    except ValueError:
        raise CLVError("frequency, recency and T must have the same length (one value per customer).")
    if x.size == 0:
        raise CLVError("No customers: frequency, recency and T are empty.")
    for arr, name in ((x, "frequency"), (t_x, "recency"), (T, "T")):
        if (arr < 0).any():
            raise CLVError(f"{name} has negative values; counts and times must be >= 0.")
    if (x != np.round(x)).any():
        raise CLVError("frequency must be whole numbers (the count of repeat purchases).")
    # a tiny slack absorbs float noise from day/7 conversions
    if (t_x > T + 1e-9).any():
        n = int((t_x > T + 1e-9).sum())
        raise CLVError(
            f"{n} customer(s) have recency > T: the last purchase cannot come after the end of "
            "observation. Check that recency and T use the same time unit and observation end."
        )
    if ((x == 0) & (t_x > 0)).any():
        raise CLVError(
            "Some customers have frequency 0 but recency > 0; recency must be 0 for customers "
            "without repeat purchases (lifetimes convention)."
        )
    return x, t_x, T


def _scalar_or_array(result: np.ndarray):
    return float(result) if np.ndim(result) == 0 else result


def _maximise(neg_ll, start: np.ndarray, model: str, *, with_gradient: bool = False) -> np.ndarray:
    """Minimise ``neg_ll`` over log-parameters; returns the log-parameters.

    ``with_gradient``: ``neg_ll`` returns ``(value, gradient)`` (an analytic gradient: one
    likelihood evaluation per step instead of one per parameter and step)."""
    # tight tolerances: the likelihood is flat near the optimum, and the defaults stop
    # ~1e-4 away from the published estimates
    res = optimize.minimize(neg_ll, start, method="L-BFGS-B", jac=with_gradient or None,
                            options={"ftol": 1e-13, "gtol": 1e-9})
    if not res.success:
        # L-BFGS-B sometimes stops in a line search right at the optimum; Nelder-Mead from
        # there settles whether it really is one.
        value_only = (lambda p: neg_ll(p)[0]) if with_gradient else neg_ll
        res = optimize.minimize(
            value_only, res.x, method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10},
        )
    if not res.success or not np.isfinite(res.x).all() or not np.isfinite(res.fun):
        raise ConvergenceError(
            f"The {model} fit did not converge ({res.message}). The data may not identify the "
            "model (too few customers or repeat purchases, or a wrong time unit)."
        )
    if np.abs(res.x).max() > 30:
        raise ConvergenceError(
            f"The {model} fit ran off to a degenerate solution (a parameter near 0 or infinity: "
            f"{np.exp(res.x)}). The data do not identify the model."
        )
    return res.x


# --------------------------------------------------------------------------- BG/NBD


def _model_repr(model, sample: str) -> str:
    """``<Name p=… ll=… sample>`` of a fitted model, ``<Name (not fitted)>`` before ``fit``."""
    name = type(model).__name__
    if model.params_ is None:
        return f"<{name} (not fitted)>"
    text = " ".join(f"{k}={v:.3f}" for k, v in model.params_.items())
    if model.log_likelihood_ is not None:
        text += f" ll={model.log_likelihood_:.2f} {sample}"
    return f"<{name} {text}>"


class BetaGeoModel:
    """BG/NBD model of repeat-purchase counts (Fader, Hardie & Lee 2005, *Marketing Science*).

    While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each purchase they drop out for good with probability ``p ~ Beta(a, b)``.

    Inputs per customer: ``frequency`` x = number of repeat purchases, ``recency`` t_x = time
    of the last purchase since the first, ``T`` = time from first purchase to the end of
    observation (see :func:`rfm_summary`).

    Fitted attributes: ``params_`` (``r``, ``alpha``, ``a``, ``b``), ``log_likelihood_``
    (the paper's LL, summed over customers) and ``n_customers_``.
    """

    param_names = ("r", "alpha", "a", "b")

    def __init__(self):
        self.params_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_customers_: float | None = None

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> "BetaGeoModel":
        """A model with given (for example published) parameters, ready to predict."""
        model = cls()
        model.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        return model

    def __repr__(self) -> str:
        return _model_repr(self, f"n={self.n_customers_:g}" if self.log_likelihood_ is not None else "")

    @staticmethod
    def _log_likelihood(params, x, t_x, T):
        """Per-customer log-likelihood, eq. (6) of the paper, in log space."""
        r, alpha, a, b = params
        base = (
            gammaln(r + x) - gammaln(r) + r * np.log(alpha)
            + betaln(a, b + x) - betaln(a, b)
        )
        alive_term = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            dropped_term = np.where(
                x > 0,
                np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return base + np.logaddexp(alive_term, dropped_term)

    @staticmethod
    def _log_likelihood_and_gradient(params, x, t_x, T):
        """Eq. (6) per customer and its derivatives by r, alpha, a, b (a 4 × n array).

        With L = log(e^A + e^D), A the 'still alive' and D the 'dropped after the last purchase'
        term, dL/dθ = dbase/dθ + P(A)·dA/dθ + P(D)·dD/dθ, P(·) = e^(· − L).
        """
        r, alpha, a, b = params
        ll = BetaGeoModel._log_likelihood(params, x, t_x, T)
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + t_x)
        alive_term = -(r + x) * log_aT
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dropped_term = np.where(
                x > 0,
                np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) - (r + x) * log_atx,
                -np.inf,
            )
            logsum = np.logaddexp(alive_term, dropped_term)
            p_alive = np.exp(alive_term - logsum)
            p_dropped = np.where(x > 0, np.exp(dropped_term - logsum), 0.0)
            psi_ab, psi_abx = digamma(a + b), digamma(a + b + x)
            grad = np.array([
                digamma(r + x) - digamma(r) + np.log(alpha) - p_alive * log_aT - p_dropped * log_atx,
                r / alpha - p_alive * (r + x) / (alpha + T) - p_dropped * (r + x) / (alpha + t_x),
                psi_ab - psi_abx + p_dropped / a,
                digamma(b + x) - digamma(b) + psi_ab - psi_abx
                - p_dropped / np.where(x > 0, b + x - 1, 1.0),
            ])
        return ll, grad

    def fit(self, frequency, recency, T, weights=None) -> "BetaGeoModel":
        """Maximum-likelihood fit; ``weights`` are optional customer counts per row.

        Raises :class:`CLVError` on unusable input (empty, NaN, negative, recency > T, or no
        repeat purchase at all) and :class:`ConvergenceError` when the optimiser fails.
        """
        x, t_x, T = rft_arrays(frequency, recency, T)
        w = np.ones_like(x) if weights is None else _as_array(weights, "weights")
        if w.shape != x.shape:
            raise CLVError("weights must have one value per customer.")
        if (w < 0).any() or w.sum() <= 0:
            raise CLVError("weights must be >= 0 and not all zero.")
        if not (x[w > 0] > 0).any():
            raise CLVError(
                "No customer has a repeat purchase (every frequency is 0), so the BG/NBD model "
                "cannot separate purchase rate from dropout. Use a longer observation period or "
                "check that transactions were not all collapsed into one day per customer."
            )
        # customers with the same (x, t_x, T) share a likelihood term: fit on the unique rows
        rows, inverse = np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=w)
        ux, ut_x, uT = rows.T
        total = counts.sum()

        def neg_ll(log_params):
            params = np.exp(log_params)
            ll, grad = self._log_likelihood_and_gradient(params, ux, ut_x, uT)
            value = -(counts * ll).sum() / total
            # d/d log(theta) = theta * d/d theta
            gradient = -(grad @ counts) / total * params
            if not (np.isfinite(value) and np.isfinite(gradient).all()):
                return 1e100, np.zeros_like(log_params)
            return value, gradient

        # start from rough moments: r/alpha = mean purchase rate, a = b = 1
        rate = max((w * x).sum() / max((w * T).sum(), 1e-9), 1e-6)
        log_params = _maximise(neg_ll, np.log([1.0, 1.0 / rate, 1.0, 1.0]), "BG/NBD", with_gradient=True)
        params = np.exp(log_params)
        self.params_ = dict(zip(self.param_names, map(float, params)))
        self.log_likelihood_ = float((counts * self._log_likelihood(params, ux, ut_x, uT)).sum())
        self.n_customers_ = float(total)
        return self

    def _params(self):
        if self.params_ is None:
            raise CLVError("The BetaGeoModel is not fitted yet; call fit(...) first.")
        return (self.params_[k] for k in self.param_names)

    def conditional_probability_alive(self, frequency, recency, T):
        """P(customer still alive at T | x, t_x, T), eq. (A10) of the paper's technical appendix.

        Customers with no repeat purchase cannot have dropped out (dropout happens only right
        after a purchase), so their probability is 1.
        """
        r, alpha, a, b = self._params()
        x, t_x, T = rft_arrays(frequency, recency, T)
        with np.errstate(divide="ignore"):
            log_odds_dead = (
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return _scalar_or_array(np.where(x > 0, expit(-log_odds_dead), 1.0))

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """E[purchases in (T, T + t] | x, t_x, T], eq. (10) of the paper."""
        r, alpha, a, b = self._params()
        x, t_x, T = rft_arrays(frequency, recency, T)
        t = _as_array(t, "t")
        if (t < 0).any():
            raise CLVError("t (the forecast horizon) must be >= 0.")
        z = t / (alpha + T + t)
        # Euler's transformation of eq. (10)'s ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x;
        # a+b+x-1; z): same value, but 2F1 no longer overflows for frequent buyers.
        tail = ((alpha + T) / (alpha + T + t)) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        numerator = (a + b + x - 1) / (a - 1) * (1 - tail)
        with np.errstate(divide="ignore"):
            odds_dead = np.where(
                x > 0,
                a / np.maximum(b + x - 1, 1e-300) * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x))),
                0.0,
            )
        return _scalar_or_array(numerator / (1 + odds_dead))

    def expected_number_of_purchases_up_to_time(self, t):
        """E[X(t)], expected repeat purchases of a new customer in (0, t], eq. (9) of the paper."""
        r, alpha, a, b = self._params()
        t = _as_array(t, "t")
        if (t < 0).any():
            raise CLVError("t must be >= 0.")
        tail = (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return _scalar_or_array((a + b - 1) / (a - 1) * (1 - tail))


# --------------------------------------------------------------------------- Gamma-Gamma

MIN_REPEAT_CUSTOMERS = 3


class GammaGammaModel:
    """Gamma-Gamma model of average spend per transaction (Fader & Hardie 2013; Fader, Hardie
    & Lee 2005, *JMR*).

    Each transaction value is Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers;
    ``gamma`` is the scale that ``lifetimes`` calls ``v``. The model assumes spend is
    independent of purchase frequency -- check that correlation before trusting it.

    ``fit`` uses only customers with ``frequency > 0`` and ``monetary_value > 0``: the model
    describes the mean of repeat transactions, which one-time buyers do not have, and a Gamma
    variable cannot be zero or negative (returns, free orders). ``n_used_`` and
    ``n_excluded_`` tell how many customers were in and out.
    """

    param_names = ("p", "q", "gamma")

    def __init__(self):
        self.params_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_used_: int | None = None
        self.n_excluded_: int | None = None

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> "GammaGammaModel":
        """A model with given (for example published) parameters, ready to predict."""
        model = cls()
        model.params_ = {"p": float(p), "q": float(q), "gamma": float(gamma)}
        return model

    def __repr__(self) -> str:
        return _model_repr(self, f"n={self.n_used_} excluded={self.n_excluded_}"
                           if self.log_likelihood_ is not None else "")

    @staticmethod
    def _log_likelihood(params, x, m):
        """log f(zbar | p, q, gamma; x), eq. (4) of the 2013 note."""
        p, q, gamma = params
        px = p * x
        return (
            gammaln(px + q) - gammaln(px) - gammaln(q)
            + q * np.log(gamma) + (px - 1) * np.log(m) + px * np.log(x)
            - (px + q) * np.log(gamma + x * m)
        )

    def fit(self, frequency, monetary_value) -> "GammaGammaModel":
        """Maximum-likelihood fit on the repeat buyers with positive mean spend."""
        x = _as_array(frequency, "frequency")
        m = _as_array(monetary_value, "monetary_value")
        if x.shape != m.shape:
            raise CLVError("frequency and monetary_value must have one value per customer.")
        if x.size == 0:
            raise CLVError("No customers: frequency and monetary_value are empty.")
        if (x < 0).any():
            raise CLVError("frequency has negative values; it counts repeat purchases.")
        used = (x > 0) & (m > 0)
        n_used = int(used.sum())
        if n_used < MIN_REPEAT_CUSTOMERS:
            raise CLVError(
                f"Only {n_used} customer(s) have a repeat purchase with positive spend; the "
                f"Gamma-Gamma model needs at least {MIN_REPEAT_CUSTOMERS} (and far more to be useful)."
            )
        x, m = x[used], m[used]

        log_x, log_m = np.log(x), np.log(m)

        def neg_ll(log_params):
            params = np.exp(log_params)
            p, q, gamma = params
            px = p * x
            value = -self._log_likelihood(params, x, m).mean()
            # derivatives of eq. (4) by p, q, gamma, then by their logs
            psi_pxq = digamma(px + q)
            log_gxm = np.log(gamma + x * m)
            gradient = -np.array([
                (x * (psi_pxq - digamma(px) + log_m + log_x - log_gxm)).mean(),
                (psi_pxq - digamma(q) + np.log(gamma) - log_gxm).mean(),
                (q / gamma - (px + q) / (gamma + x * m)).mean(),
            ]) * params
            if not (np.isfinite(value) and np.isfinite(gradient).all()):
                return 1e100, np.zeros_like(log_params)
            return value, gradient

        # start with gamma/(q-1) near the observed mean spend
        log_params = _maximise(neg_ll, np.log([1.0, 2.0, m.mean()]), "Gamma-Gamma", with_gradient=True)
        params = np.exp(log_params)
        self.params_ = dict(zip(self.param_names, map(float, params)))
        self.log_likelihood_ = float(self._log_likelihood(params, x, m).sum())
        self.n_used_ = n_used
        self.n_excluded_ = int(used.size - n_used)
        return self

    def _params(self):
        if self.params_ is None:
            raise CLVError("The GammaGammaModel is not fitted yet; call fit(...) first.")
        return (self.params_[k] for k in self.param_names)

    def conditional_expected_average_profit(self, frequency, monetary_value):
        """E[spend per transaction | x, zbar], eq. (5) of the 2013 note.

        A weighted mean of the population mean ``p*gamma/(q-1)`` and the customer's own
        ``zbar``; customers with ``frequency == 0`` get the population mean.
        """
        p, q, gamma = self._params()
        x = _as_array(frequency, "frequency")
        m = _as_array(monetary_value, "monetary_value")
        if (x < 0).any():
            raise CLVError("frequency has negative values; it counts repeat purchases.")
        if q <= 1 and (x == 0).any():
            raise CLVError("With q <= 1 the population mean spend is infinite, so customers "
                           "without repeat purchases have no expected spend.")
        return _scalar_or_array(p * (gamma + x * m) / (p * x + q - 1))

    def customer_lifetime_value(self, bgnbd_model: BetaGeoModel, frequency, recency, T,
                                monetary_value, time: int = 12, discount_rate: float = 0.01,
                                *, freq_multiplier: float):
        """Discounted expected spend over the next ``time`` months, as in ``lifetimes``.

        Each month's expected purchases (from ``bgnbd_model``) times the expected spend per
        purchase, discounted by ``(1 + discount_rate) ** month``. ``freq_multiplier`` is the
        number of model time units in one month (4.345 for weeks, 30 for days); it has no
        default because a wrong unit silently scales the answer.
        """
        if freq_multiplier <= 0 or time < 0:
            raise CLVError("freq_multiplier must be > 0 and time (months) >= 0.")
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        months = np.arange(0, int(time) + 1)
        expected = np.array([
            np.broadcast_to(bgnbd_model.conditional_expected_number_of_purchases_up_to_time(
                k * freq_multiplier, frequency, recency, T), np.shape(spend))
            for k in months
        ])
        monthly = np.diff(expected, axis=0)
        discount = ((1 + discount_rate) ** months[1:]).reshape((-1,) + (1,) * np.ndim(spend))
        return _scalar_or_array((spend * monthly / discount).sum(axis=0))
