"""Forecast with its measured error (SPEC 9.2, 9.5; issue 25): origins and horizons worked by hand,
candidates on synthetic series with known structure, interval coverage on simulated data,
determinism, the run-rate path (Online Retail), Superstore end to end with the seasonal-naive
row of the backtest table recomputed from the raw CSV, target probability."""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesnb.models import forecast as F
from salesnb.periods import month_index, parse_period
from support.paths import PARAMS
from support.paths import SHARED_DATA as SHARED

SUPERSTORE_CSV = SHARED / "superstore" / "Sample - Superstore.csv"
ONLINE_RETAIL = SHARED / "online-retail" / "online_retail.parquet"
Z80 = 1.2815515655446004  # Φ⁻¹(0.90)


def monthly_frame(values, first="2020-01", partial_last=False) -> pd.DataFrame:
    start = int(first[:4]) * 12 + int(first[5:7]) - 1
    months = [f"{(start + i) // 12:04d}-{(start + i) % 12 + 1:02d}" for i in range(len(values))]
    return pd.DataFrame({"month": months, "revenue": list(map(float, values)),
                         "partial": [False] * (len(values) - 1) + [partial_last]})


def seasonal_trend(n=40, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (1000 + 15 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 20, n)


_MODEL_PART: dict = {}


def _memoized(real):
    """``_model_forecast`` (the backtest and the winner's prediction, the costly part) computed
    once per series, horizon and seed; each call gets its own copy."""
    def model_forecast(y, labels, h, simulations, seed):
        key = (np.asarray(y).tobytes(), tuple(labels), h, simulations, repr(seed))
        if key not in _MODEL_PART:
            _MODEL_PART[key] = real(y, labels, h, simulations, seed)
        return copy.deepcopy(_MODEL_PART[key])
    return model_forecast


@pytest.fixture(scope="module")
def season30():
    """30 months of trend + season (2020-01 .. 2022-06), their forecast findings for 2022Q2 with a
    2022Q3 target and the warnings raised while computing them: computed once for the module."""
    frame = monthly_frame(seasonal_trend(30, seed=9))
    patch = pytest.MonkeyPatch()
    patch.setattr(F, "_model_forecast", _memoized(F._model_forecast))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = F.forecast_findings(frame, parse_period("2022Q2"), targets={"2022Q3": 3e4})
    finally:
        patch.undo()
    return frame, found, [str(w.message) for w in caught]


@pytest.fixture
def memo_models(monkeypatch):
    """Tests that vary only targets reuse the model part of the findings (its determinism is
    tested on its own, without this)."""
    monkeypatch.setattr(F, "_model_forecast", _memoized(F._model_forecast))


# --------------------------------------------------------------------------- origins and horizons

@pytest.mark.parametrize("n, expected", [
    (14, []),                      # 12 up to the origin + 3 after needs 15
    (15, [12]),
    (18, [12, 13, 14, 15]),        # fewer than 12 origins when history is short
    (27, list(range(13, 25))),     # 13 possible (12..24): the latest 12
    (45, list(range(31, 43))),     # Superstore up to 2017-09: origins 2016-07 .. 2017-06
])
def test_origins_worked_by_hand(n, expected):
    assert F.backtest_origins(n) == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=120))
def test_origins_follow_the_definition(n):
    ks = F.backtest_origins(n)
    possible = [k for k in range(1, n + 1) if k >= 12 and k + 3 <= n]
    assert ks == possible[-12:]


@pytest.mark.parametrize("period, fys, label, first", [
    ("2017Q3", 1, "2017Q4", "2017-10"),
    ("2017Q4", 1, "2018Q1", "2018-01"),
    ("2017-08", 1, "2017Q4", "2017-10"),   # the quarter after Q3, which holds August
    ("2017", 1, "2018Q1", "2018-01"),
    ("2017Q3", 4, "2017Q4", "2017-01"),    # FY2017 starts 2016-04: Q3 = Oct..Dec 2016
    ("2024-02", 4, "2025Q1", "2024-04"),   # Feb 2024 is in FY2024 Q4; next: FY2025 Q1
])
def test_next_quarter_fiscal(period, fys, label, first):
    p = parse_period(period, fys)
    got_label, start = F.next_quarter(p.end, fys)
    assert got_label == label
    assert f"{start // 12:04d}-{start % 12 + 1:02d}" == first
    assert parse_period(label, fys).start == dt.date(start // 12, start % 12 + 1, 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2000 * 12, max_value=2040 * 12), st.integers(min_value=1, max_value=12))
def test_next_quarter_starts_right_after_the_quarter_holding_the_last_month(last, fys):
    end = dt.date((last + 1) // 12, (last + 1) % 12 + 1, 1)
    label, start = F.next_quarter(end, fys)
    q = parse_period(label, fys)
    assert month_index(q.start) == start and q.months == 3
    assert 1 <= start - last <= 3   # the next quarter begins 1..3 months after the last month


def test_horizon_runs_through_the_next_quarter():
    y = seasonal_trend(30)
    f = F.forecast_findings(monthly_frame(y, "2015-03"), parse_period("2017-08"))
    # the series ends 2017-08: months 2017-09 .. 2017-12, the next quarter 2017Q4
    assert [m["month"] for m in f["months"]] == ["2017-09", "2017-10", "2017-11", "2017-12"]
    assert f["next_quarter"]["label"] == "2017Q4"
    months = {m["month"]: m["revenue"] for m in f["months"]}
    assert f["next_quarter"]["revenue"] == pytest.approx(months["2017-10"] + months["2017-11"] + months["2017-12"])
    assert f["backtest"] == {"origins": [f"{(month_index(dt.date(2015, 3, 1)) + k - 1) // 12}-"
                                         f"{(month_index(dt.date(2015, 3, 1)) + k - 1) % 12 + 1:02d}"
                                         for k in range(16, 28)], "horizon_months": 3}


# --------------------------------------------------------------------------- candidates

def test_seasonal_naive_by_hand():
    y = np.arange(30, dtype=float) ** 1.5
    m = F.SeasonalNaiveModel().fit(y)
    assert (m.lag_, m.method_) == (12, "seasonal_naive")
    errors = y[12:] - y[:-12]
    assert m.sigma_ == pytest.approx(np.std(errors, ddof=1))
    pred = m.predict(14)
    assert pred.mean[:12].tolist() == y[18:30].tolist() and pred.mean[12] == y[18]
    # ± z·σ·√(⌊(h−1)/12⌋ + 1): h = 1..12 one σ, h = 13, 14 √2 σ
    assert pred.upper[80][0] - pred.mean[0] == pytest.approx(Z80 * m.sigma_)
    assert pred.upper[80][12] - pred.mean[12] == pytest.approx(Z80 * m.sigma_ * math.sqrt(2))
    short = F.SeasonalNaiveModel().fit(y[:20])
    assert (short.lag_, short.method_) == (1, "naive")
    assert short.forecast(3).tolist() == [y[19]] * 3
    assert "lag=12" in repr(m) and "not fitted" in repr(F.SeasonalNaiveModel())


def test_ets_beats_seasonal_naive_on_trend_and_season():
    y = seasonal_trend(40)
    scores = [F.backtest(y, name) for name in F.CANDIDATES]
    by = {s.method: s for s in scores}
    assert all(s.error is None for s in scores)
    assert by["ets"].mase < 0.5 * by["seasonal_naive"].mase
    assert F.choose(scores) != "seasonal_naive"
    fit = F.ETSForecastModel().fit(y)
    assert fit.config_.endswith(("A)", "M)"))  # it found the season
    assert fit.aicc_ == min(fit.candidates_.values())
    assert fit.config_ in repr(fit)


@pytest.mark.parametrize("n, positive, expected", [
    (23, True, ["ETS(A,N,N)", "ETS(A,Ad,N)"]),          # no season before 24 months
    (24, False, ["ETS(A,N,N)", "ETS(A,Ad,N)", "ETS(A,N,A)", "ETS(A,Ad,A)"]),
    (24, True, ["ETS(A,N,N)", "ETS(A,Ad,N)", "ETS(A,N,A)", "ETS(A,Ad,A)", "ETS(M,N,M)", "ETS(M,Ad,M)"]),
])
def test_ets_configurations_by_hand(n, positive, expected):
    assert [F.ets_label(c) for c in F.ets_configurations(n, positive)] == expected


def test_ets_fit_on_rescaled_months_reports_the_original_likelihood():
    # the fits run on y / mean|y|; the kept model is re-smoothed on y, and its AICc recomputed
    # from that model's own likelihood must equal the one the search ranked it by
    y = seasonal_trend(36, seed=12)
    fit = F.ETSForecastModel().fit(y)
    res = fit.results_
    k = len(res.model.param_names) + 1
    aicc = -2 * res.llf + 2 * k + 2 * k * (k + 1) / (36 - k - 1)
    assert fit.aicc_ == pytest.approx(aicc, rel=1e-9) and fit.aicc_ == min(fit.candidates_.values())
    assert np.allclose(res.fittedvalues, y, rtol=0.1)   # states on the revenue scale, not on y / c
    assert set(fit.candidates_) <= {F.ets_label(c) for c in F.ets_configurations(36, True)}


def test_ets_simulation_uses_the_small_sample_error_variance():
    # ETS(A,N,N): y[t+1] = l[t] + e, l[t+1] = l[t] + α·e, so the simulated one-step paths have sd σ
    # and the two-step ones σ·√(1 + α²); σ² is the residual sum of squares over n − p
    rng = np.random.default_rng(21)
    e = rng.normal(0, 40, 20)
    y = 1000 + np.cumsum(0.4 * e) + e
    fit = F.ETSForecastModel().fit(y)
    assert fit.config_ == "ETS(A,N,N)"
    p = len(fit.results_.model.param_names)          # α and the initial level
    assert p == 2
    resid = y - np.asarray(fit.results_.fittedvalues)
    assert fit.sigma_ == pytest.approx(math.sqrt(np.sum(resid ** 2) / (20 - p)), rel=1e-9)
    assert fit.sigma_ > math.sqrt(fit.results_.scale)  # statsmodels' ML scale divides by n
    pred = fit.predict(2, n=20000)
    alpha = fit.params_["smoothing_level"]
    assert np.std(pred.paths[:, 0]) == pytest.approx(fit.sigma_, rel=0.02)
    assert np.std(pred.paths[:, 1]) == pytest.approx(fit.sigma_ * math.sqrt(1 + alpha ** 2), rel=0.02)
    assert pred.upper[80][0] - pred.mean[0] == pytest.approx(Z80 * fit.sigma_, rel=0.03)


def test_ets_iteration_cap_keeps_stopped_fits_without_warnings():
    y = seasonal_trend(30, seed=13)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        capped = F.ETSForecastModel(maxiter=3).fit(y)
    assert not caught, [str(w.message) for w in caught]
    assert capped.stopped_ and set(capped.stopped_) <= set(capped.candidates_)
    assert not capped.skipped_ and capped.aicc_ == min(capped.candidates_.values())
    full = F.ETSForecastModel().fit(y)
    # a stopped search has not climbed as far: no configuration scores better than when it runs on
    for label, aicc in capped.candidates_.items():
        assert aicc >= full.candidates_[label] - 1e-6 or label in full.stopped_


def test_white_noise_nothing_beats_the_best_possible_forecast():
    # on white noise the best forecast is the mean, whose expected MASE against the lag-12
    # seasonal-naive scale is 1/√2 ≈ 0.71 (seasonal naive's own is 1): no candidate may claim
    # much better than that, and ETS finds neither trend nor season
    y = np.random.default_rng(3).normal(1000, 100, 40)
    scores = {name: F.backtest(y, name) for name in F.CANDIDATES}
    assert scores["seasonal_naive"].mase == pytest.approx(1.0, abs=0.35)
    for s in scores.values():
        assert s.mase > 0.55
    assert F.ETSForecastModel().fit(y).config_ in ("ETS(A,N,N)", "ETS(M,N,N)")


def test_seasonal_naive_interval_coverage_on_its_own_process():
    # a seasonal random walk y[t] = y[t-12] + e: the interval formula holds with the true σ; with σ
    # estimated from 24 errors the normal quantile undercovers slightly (t with 23 df: ~78.5%)
    rng = np.random.default_rng(11)
    inside = {80: 0, 95: 0}
    n_rep, h = 1000, 3
    for _ in range(n_rep):
        e = rng.normal(0, 50, 39)
        y = np.concatenate([rng.normal(1000, 100, 12), np.zeros(27)])
        for t in range(12, 39):
            y[t] = y[t - 12] + e[t]
        pred = F.SeasonalNaiveModel().fit(y[:36]).predict(h, n=10)
        for lv in inside:
            inside[lv] += int(np.sum((y[36:] >= pred.lower[lv]) & (y[36:] <= pred.upper[lv])))
    assert inside[80] / (n_rep * h) == pytest.approx(0.785, abs=0.03)
    assert inside[95] / (n_rep * h) == pytest.approx(0.945, abs=0.02)


@pytest.mark.slow
def test_ets_and_theta_interval_coverage_on_a_local_level_process():
    # local level (ETS(A,N,N), alpha 0.3): Theta is SES with drift, ETS should find the level model
    rng = np.random.default_rng(5)
    inside = {"ets": 0, "theta": 0}
    n_rep, h = 60, 3
    for _ in range(n_rep):
        e = rng.normal(0, 30, 23)
        level, y = 1000.0, []
        for t in range(23):
            y.append(level + e[t])
            level += 0.3 * e[t]
        y = np.array(y)
        for name, cls in (("ets", F.ETSForecastModel), ("theta", F.ThetaForecastModel)):
            pred = cls().fit(y[:20]).predict(h, n=500, seed=[1, _])
            inside[name] += int(np.sum((y[20:] >= pred.lower[80]) & (y[20:] <= pred.upper[80])))
    coverage = {name: count / (n_rep * h) for name, count in inside.items()}
    assert coverage["theta"] == pytest.approx(0.80, abs=0.10)
    # ETS on 20 months undercovers: its σ² already divides by n − p (test below), but the intervals
    # leave out the uncertainty of the parameters and of the AICc choice (FPP3 5.5) -- the reason
    # the backtest reports coverage. Measured with 400 repetitions: ETS 72.6%, Theta 76.5%; these
    # 60 give 66.7% and 73.3%, within two standard errors (~3.5 points each) of those
    assert coverage["ets"] == pytest.approx(0.726, abs=0.07)
    assert coverage["ets"] < 0.80


def test_theta_interval_matches_its_simulated_paths():
    y = seasonal_trend(30, seed=4)
    pred = F.ThetaForecastModel().fit(y).predict(3, n=20000)
    sim_lo = np.quantile(pred.paths, 0.10, axis=0)
    assert np.allclose(sim_lo, pred.lower[80], rtol=0.01)


def test_failed_candidate_is_dropped_with_a_note_never_the_report(monkeypatch):
    def fail(self, y):
        raise F.ForecastFitError("synthetic failure")
    monkeypatch.setattr(F.ThetaForecastModel, "fit", fail)
    f = F.forecast_findings(monthly_frame(seasonal_trend(30)), parse_period("2022Q2"))
    theta = next(c for c in f["candidates"] if c["method"] == "theta")
    assert theta["mase"] is None and "synthetic failure" in theta["note"]
    assert "Theta was dropped" in f["note"] and f["method"] != "theta"
    assert f["next_quarter"]["revenue"] is not None


# --------------------------------------------------------------------------- findings

def test_forecast_is_deterministic_and_warning_free(season30):
    frame, a, caught_a = season30
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = F.forecast_findings(frame, parse_period("2022Q2"), targets={"2022Q3": 3e4})
    assert not caught_a and not caught, caught_a + [str(w.message) for w in caught]
    assert a["method"] in F.CANDIDATES and a["next_quarter"]["revenue"] > 0
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_target_probability_is_the_share_of_simulated_quarter_totals(season30, memo_models):
    frame, base, _ = season30
    period = parse_period("2022Q2")
    nq = base["next_quarter"]
    assert nq["lo95"] < nq["lo80"] < nq["revenue"] < nq["hi80"] < nq["hi95"]
    # the same seed gives the same simulated totals: lo80 / hi80 are their 10% / 90% quantiles
    lo = F.forecast_findings(frame, period, targets={"2022Q3": nq["lo80"]})["target"]
    hi = F.forecast_findings(frame, period, targets={"2022Q3": nq["hi80"]})["target"]
    assert lo["value"] == nq["lo80"] and lo["probability_pct"] == pytest.approx(90.0, abs=0.1)
    assert hi["probability_pct"] == pytest.approx(10.0, abs=0.1)
    far = F.forecast_findings(frame, period, targets={"2022Q3": nq["hi95"] * 10})["target"]
    assert far["probability_pct"] == 0.0
    assert F.forecast_findings(frame, period, targets={"2022Q4": 1.0})["target"] is None  # not the next quarter


def test_seasonal_naive_quarter_total_from_simulation():
    # lag 12, h <= 12: the three months' errors are independent, so the quarter total has sd σ√3,
    # narrower than the sum of the monthly bounds
    y = seasonal_trend(36, seed=2)
    m = F.SeasonalNaiveModel().fit(y)
    pred = m.predict(3, n=20000)
    totals = pred.paths.sum(axis=1)
    assert np.std(totals) == pytest.approx(m.sigma_ * math.sqrt(3), rel=0.03)
    half_width = np.quantile(totals, 0.9) - totals.mean()
    assert half_width < np.sum(pred.upper[80] - pred.mean) * 0.7


def test_run_rate_with_short_history_and_partial_projection():
    values = [100.0] * 9 + [120.0, 130.0, 170.0, 50.0]  # 12 complete months + a partial last one
    frame = monthly_frame(values, "2021-01", partial_last=True)
    f = F.forecast_findings(frame, parse_period("2022Q1"), period_revenue=50.0, period_partial=True,
                            data_last_date="2022-01-10", targets={"2022Q1": 400.0, "2022Q2": 450.0})
    assert f["method"] == "run_rate" and f["candidates"][0]["method"] == "run_rate"
    assert "12 complete months" in f["note"] and "18" in f["note"]
    rate = (120 + 130 + 170) / 3
    assert [m["month"] for m in f["months"]] == ["2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"]
    assert all(m["revenue"] == pytest.approx(rate) and m["lo80"] is None for m in f["months"])
    assert f["next_quarter"]["label"] == "2022Q2" and f["next_quarter"]["revenue"] == pytest.approx(3 * rate)
    assert f["target"] == {"value": 450.0, "probability_pct": None}
    proj = f["period_projection"]
    rest = rate * 21 / 31 + rate + rate  # Jan 11..31, all of Feb and Mar
    assert proj["forecast_rest"] == pytest.approx(rest)
    assert proj["revenue"] == pytest.approx(50 + rest)
    assert proj["vs_target_pct"] == pytest.approx((50 + rest - 400) / 400 * 100)


def test_model_projection_of_a_partial_period_has_an_interval():
    values = list(seasonal_trend(31, seed=6))
    frame = monthly_frame(values, "2020-01", partial_last=True)   # 2022-07 is partial
    f = F.forecast_findings(frame, parse_period("2022Q3"), period_revenue=values[-1], period_partial=True,
                            data_last_date="2022-07-15", targets={"2022Q3": 1.0})
    proj = f["period_projection"]
    july, aug, sep = (m["revenue"] for m in f["months"][:3])
    assert proj["forecast_rest"] == pytest.approx(july * 16 / 31 + aug + sep)
    assert proj["lo80"] < proj["revenue"] < proj["hi80"]
    assert proj["probability_pct"] == 100.0


# --------------------------------------------------------------------------- real data

@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="shared Online Retail data not present")
def test_online_retail_short_history_runs_at_the_run_rate():
    from salesnb.findings import build_findings
    f = build_findings(PARAMS / "online_retail.yaml", "2011Q4", sections=("revenue",))["forecast"]
    raw = pd.read_parquet(ONLINE_RETAIL, columns=["InvoiceDate", "Quantity", "UnitPrice"])
    by_month = (raw["Quantity"] * raw["UnitPrice"]).groupby(raw["InvoiceDate"].dt.strftime("%Y-%m")).sum()
    rate = by_month[["2011-09", "2011-10", "2011-11"]].mean()
    assert f["method"] == "run_rate" and f["series"]["months"] == 12
    assert "12 complete months" in f["note"]
    assert f["months"][0]["month"] == "2011-12" and f["months"][0]["revenue"] == pytest.approx(rate, rel=1e-9)
    assert f["next_quarter"]["label"] == "2012Q1"
    assert f["next_quarter"]["revenue"] == pytest.approx(3 * rate, rel=1e-9)
    proj = f["period_projection"]   # data ends 2011-12-09: 22 of December's 31 days are projected
    to_date = by_month[["2011-10", "2011-11", "2011-12"]].sum()
    assert proj["actual_to_date"] == pytest.approx(to_date, rel=1e-9)
    assert proj["revenue"] == pytest.approx(to_date + rate * 22 / 31, rel=1e-9)


@pytest.mark.slow
@pytest.mark.skipif(not SUPERSTORE_CSV.exists(), reason="shared Superstore data not present")
def test_superstore_2017q3_end_to_end():
    from salesnb.findings import build_findings, dumps
    findings = build_findings(PARAMS / "superstore.yaml", "2017Q3", sections=("revenue",))
    f = findings["forecast"]
    assert f["next_quarter"]["label"] == "2017Q4"
    assert [m["month"] for m in f["months"]] == ["2017-10", "2017-11", "2017-12"]
    assert f["backtest"]["origins"] == [f"2016-{m:02d}" for m in range(7, 13)] + [f"2017-{m:02d}" for m in range(1, 7)]
    assert [c["method"] for c in f["candidates"]] == ["seasonal_naive", "ets", "theta"]
    assert sum(c["chosen"] for c in f["candidates"]) == 1
    chosen = next(c for c in f["candidates"] if c["chosen"])
    sn = f["candidates"][0]
    # measured: ETS(A,N,A) scores MASE 1.04 on the 12 origins against seasonal naive's 1.36
    assert (f["method"], f["model"]) == ("ets", "ETS(A,N,A)") and chosen["mase"] < 0.8 * sn["mase"]
    assert chosen["method"] == f["method"]
    assert chosen is sn or chosen["mase"] < sn["mase"]
    assert all(c["mase"] >= chosen["mase"] for c in f["candidates"] if c["mase"] is not None and c is not sn) \
        or chosen is sn

    # the seasonal-naive row, recomputed with pandas from the raw CSV
    raw = pd.read_csv(SUPERSTORE_CSV, encoding="cp1252")
    month = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y").dt.strftime("%Y-%m")
    y = raw.groupby(month)["Sales"].sum().loc["2014-01":"2017-09"].to_numpy()
    assert len(y) == 45
    mases, apes, inside = [], [], 0
    for k in range(31, 43):
        train, actual = y[:k], y[k:k + 3]
        forecast = y[k - 12:k - 9]
        in_sample = train[12:] - train[:-12]
        sigma = pd.Series(in_sample).std()
        err = np.abs(actual - forecast)
        mases.append(err.mean() / np.abs(in_sample).mean())
        apes.extend(err / actual * 100)
        inside += int(np.sum(np.abs(actual - forecast) <= Z80 * sigma))
    assert sn["mase"] == pytest.approx(np.mean(mases), rel=1e-9)
    assert sn["mape"] == pytest.approx(np.mean(apes), rel=1e-9)
    assert sn["coverage80_pct"] == pytest.approx(inside / 36 * 100, rel=1e-12)

    nq = f["next_quarter"]
    assert nq["lo95"] < nq["lo80"] < nq["revenue"] < nq["hi80"] < nq["hi95"]
    # the quarter's interval comes from simulated totals, narrower than the summed monthly bounds
    assert nq["hi80"] - nq["revenue"] < sum(m["hi80"] - m["revenue"] for m in f["months"])
    if f["method"] == "seasonal_naive":
        assert nq["revenue"] == pytest.approx(y[-12:-9].sum(), rel=1e-9)
    # re-running the forecast on the same months gives the same bytes
    again = F.forecast_findings(findings.tables["revenue_monthly_all"], parse_period("2017Q3"),
                                period_revenue=findings["revenue"]["total"], period_partial=False,
                                data_last_date=findings["data"]["last_date"])
    assert dumps({"forecast": again}) == dumps({"forecast": f})
