"""CLV models against the published CDNOW numbers, plus input guards and the RFM summary."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from salesnb.models import clv
from salesnb.models.clv import BetaGeoModel, CLVError, ConvergenceError, GammaGammaModel
from salesnb.models.clv_data import rfm_summary

from support.paths import FIXTURES

#: the 2,357-customer sample of the paper, vendored byte for byte (tests/fixtures/README.md)
CDNOW_SAMPLE = FIXTURES / "cdnow" / "CDNOW_sample.txt"

# Fader, Hardie & Lee (2005) "Counting Your Customers the Easy Way", full precision as in
# CLVTools' tests.
BG_PUBLISHED = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
BG_LL_PUBLISHED = -9582.4
# Fader & Hardie (2013) "The Gamma-Gamma Model of Monetary Value".
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
GG_LL_PUBLISHED = -4055.92


# --------------------------------------------------------------------------- CDNOW fixtures


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    df = pd.read_csv(CDNOW_SAMPLE, sep=r"\s+", header=None, dtype={2: str},
                     names=["master_id", "customer", "date", "cds", "value"])
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_transactions) -> pd.DataFrame:
    # 39-week calibration 1997-01-01..1997-09-30; an inclusive end day gives T = 272/7 = 38.86
    # for a first purchase on Jan 1, as in lifetimes' cdnow_customers_summary.csv.
    return rfm_summary(cdnow_transactions, "customer", "date", "value",
                       observation_end="1997-09-30", time_unit="W")


@pytest.fixture(scope="module")
def cdnow_bg(cdnow_summary) -> BetaGeoModel:
    s = cdnow_summary
    return BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])


def test_cdnow_summary_shape(cdnow_transactions, cdnow_summary):
    assert len(cdnow_transactions) == 6919
    s = cdnow_summary
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946
    assert s["T"].max() == pytest.approx(38.86, abs=0.005)
    assert s["T"].min() == pytest.approx(27.0)  # last first purchase 1997-03-25
    assert (s["recency"] <= s["T"]).all()
    # customer 1 is the paper's worked example of eq. (10)
    assert s.loc[1, "frequency"] == 2
    assert s.loc[1, "recency"] == pytest.approx(30.43, abs=0.005)
    assert s.loc[1, "T"] == pytest.approx(38.86, abs=0.005)
    assert (s.loc[s["frequency"] == 0, "monetary_value"] == 0).all()


def test_bgnbd_fit_matches_published(cdnow_summary):
    s = cdnow_summary
    model = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])  # its speed: benchmarks/clv_fit.py
    for name, ref in BG_PUBLISHED.items():
        assert abs(model.params_[name] - ref) < 0.005, (name, model.params_[name], ref)
    # the optimum is flat, but we land within 1e-4 of the full-precision values
    for name, ref in BG_PUBLISHED.items():
        assert model.params_[name] == pytest.approx(ref, abs=1e-4), name
    assert abs(model.log_likelihood_ - BG_LL_PUBLISHED) < 0.5
    assert model.n_customers_ == 2357


def test_bgnbd_weights_equal_repeated_rows(cdnow_summary):
    s = cdnow_summary.head(600)
    repeated = pd.concat([s, s])
    a = BetaGeoModel().fit(repeated["frequency"], repeated["recency"], repeated["T"])
    b = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"], weights=np.full(len(s), 2.0))
    for name in BetaGeoModel.param_names:
        assert a.params_[name] == pytest.approx(b.params_[name], rel=1e-4)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-8)


def test_conditional_expectation_published_example(cdnow_bg):
    # paper, section 4: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in the next 39 weeks
    published = BetaGeoModel.from_params(**BG_PUBLISHED)
    value = published.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
    assert isinstance(value, float)
    assert abs(value - 1.226) < 0.01
    fitted = cdnow_bg.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
    assert abs(fitted - 1.226) < 0.01


def test_conditional_expectation_equals_eq10_as_printed():
    # the module uses Euler's transformation of eq. (10); the printed form must agree
    r, alpha, a, b = BG_PUBLISHED.values()
    model = BetaGeoModel.from_params(**BG_PUBLISHED)
    x = np.array([0, 1, 2, 7, 29, 60])
    t_x = np.array([0, 5.0, 30.43, 20.0, 38.0, 38.5])
    T = np.array([30.0, 33.0, 38.86, 38.0, 38.8, 38.86])
    t = 52.0
    printed = (
        (a + b + x - 1) / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)
           * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
        / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    )
    got = model.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
    np.testing.assert_allclose(got, printed, rtol=1e-9)
    # and it stays finite where the printed 2F1 overflows
    heavy = model.conditional_expected_number_of_purchases_up_to_time(365, 3000, 360.0, 365.0)
    assert np.isfinite(heavy) and heavy > 0


def test_new_customer_expectation_is_unconditional():
    model = BetaGeoModel.from_params(**BG_PUBLISHED)
    t = np.array([1.0, 39.0, 78.0])
    unconditional = model.expected_number_of_purchases_up_to_time(t)
    conditional = model.conditional_expected_number_of_purchases_up_to_time(t, 0, 0.0, 0.0)
    np.testing.assert_allclose(conditional, unconditional, rtol=1e-10)
    assert np.all(np.diff(unconditional) > 0)


def test_probability_alive():
    model = BetaGeoModel.from_params(**BG_PUBLISHED)
    assert model.conditional_probability_alive(0, 0.0, 38.86) == 1.0
    recencies = np.array([38.0, 30.0, 20.0, 10.0, 2.0])
    p = model.conditional_probability_alive(np.full(5, 4), recencies, np.full(5, 38.86))
    assert np.all((p > 0) & (p < 1))
    assert np.all(np.diff(p) < 0)  # falls as the last purchase lies further back
    # a last purchase at T leaves only the 'dropped at the last purchase' chance
    assert model.conditional_probability_alive(4, 38.86, 38.86) == pytest.approx(1 / (1 + 0.7929199 / (2.4258881 + 3)))


def test_gamma_gamma_matches_published(cdnow_summary):
    # zbar is the mean spend of the repeat purchase DAYS (lifetimes' definition, same-day
    # transactions summed). That reproduces the published p, q, gamma and LL; a mean over
    # repeat transactions (not grouped by day) gives p=6.05, q=3.89, gamma=16.4 instead.
    s = cdnow_summary
    model = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    assert model.n_used_ == 946
    assert model.n_excluded_ == 2357 - 946
    for name, ref in GG_PUBLISHED.items():
        assert abs(model.params_[name] - ref) < 0.01, (name, model.params_[name], ref)
    assert abs(model.log_likelihood_ - GG_LL_PUBLISHED) < 0.05


def test_gamma_gamma_expected_spend_and_clv(cdnow_summary, cdnow_bg):
    s = cdnow_summary
    gg = GammaGammaModel.from_params(**GG_PUBLISHED)
    p, q, gamma = GG_PUBLISHED.values()
    spend = gg.conditional_expected_average_profit(s["frequency"], s["monetary_value"])
    population_mean = p * gamma / (q - 1)
    assert np.allclose(spend[s["frequency"].to_numpy() == 0], population_mean)
    # a repeat buyer's expectation lies between their own mean and the population mean
    repeat = s["frequency"].to_numpy() > 0
    own = s["monetary_value"].to_numpy()[repeat]
    low, high = np.minimum(own, population_mean), np.maximum(own, population_mean)
    assert np.all((spend[repeat] >= low - 1e-9) & (spend[repeat] <= high + 1e-9))

    # without discounting, CLV is expected purchases over the horizon times expected spend
    args = (s["frequency"], s["recency"], s["T"], s["monetary_value"])
    undiscounted = gg.customer_lifetime_value(cdnow_bg, *args, time=12, discount_rate=0.0,
                                              freq_multiplier=4.345)
    purchases = cdnow_bg.conditional_expected_number_of_purchases_up_to_time(
        12 * 4.345, s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(undiscounted, purchases * spend, rtol=1e-9)
    discounted = gg.customer_lifetime_value(cdnow_bg, *args, freq_multiplier=4.345)
    assert np.all(discounted < undiscounted) and np.all(discounted > 0.85 * undiscounted)


# --------------------------------------------------------------------------- guards


def test_all_one_time_buyers_cannot_identify_bgnbd():
    with pytest.raises(CLVError, match="repeat purchase"):
        BetaGeoModel().fit([0, 0, 0], [0, 0, 0], [10, 20, 30])


@pytest.mark.parametrize("frequency, recency, T, match", [
    ([], [], [], "empty"),
    ([1, 2], [3.0, 5.0], [4.0, 4.0], "recency > T"),
    ([1, -1], [1.0, 1.0], [4.0, 4.0], "negative"),
    ([1, 2], [1.0, np.nan], [4.0, 4.0], "NaN"),
    ([1.5, 2], [1.0, 1.0], [4.0, 4.0], "whole numbers"),
    ([0, 2], [1.0, 1.0], [4.0, 4.0], "frequency 0 but recency > 0"),
    ([1, 2], [1.0, 1.0], [4.0, 4.0, 5.0], "same length"),
])
def test_bgnbd_input_guards(frequency, recency, T, match):
    with pytest.raises(CLVError, match=match) as info:
        BetaGeoModel().fit(frequency, recency, T)
    assert info.value.message


def test_dataframe_transpose_hint(cdnow_summary):
    s = cdnow_summary
    with pytest.raises(CLVError, match=r"df\['T'\]"):
        BetaGeoModel().fit(s.frequency, s.recency, s.T)


def test_predicting_before_fit_raises():
    with pytest.raises(CLVError, match="not fitted"):
        BetaGeoModel().conditional_probability_alive(1, 1.0, 2.0)
    with pytest.raises(CLVError, match="not fitted"):
        GammaGammaModel().conditional_expected_average_profit(1, 10.0)


def test_convergence_failure_is_reported(monkeypatch, cdnow_summary):
    class Failed:
        success = False
        x = np.zeros(4)
        fun = 1.0
        message = "ABNORMAL"

    monkeypatch.setattr(clv.optimize, "minimize", lambda *a, **k: Failed())
    s = cdnow_summary
    with pytest.raises(ConvergenceError, match="did not converge"):
        BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    assert issubclass(ConvergenceError, CLVError)


def test_gamma_gamma_excludes_non_positive_spend(cdnow_summary):
    s = cdnow_summary
    base = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    freq = np.concatenate([s["frequency"], [3, 2, 1]])
    spend = np.concatenate([s["monetary_value"], [-20.0, 0.0, -5.0]])
    model = GammaGammaModel().fit(freq, spend)
    assert model.n_used_ == base.n_used_ == 946
    assert model.n_excluded_ == base.n_excluded_ + 3
    assert model.params_ == pytest.approx(base.params_)


def test_gamma_gamma_needs_repeat_buyers():
    with pytest.raises(CLVError, match="at least 3"):
        GammaGammaModel().fit([0, 0, 2, 1, 4], [0.0, 0.0, 10.0, -3.0, 12.0])
    with pytest.raises(CLVError, match="NaN"):
        GammaGammaModel().fit([1, 2, 3], [10.0, np.nan, 3.0])


def test_reprs(cdnow_bg):
    assert repr(BetaGeoModel()) == "<BetaGeoModel (not fitted)>"
    assert repr(cdnow_bg) == "<BetaGeoModel r=0.243 alpha=4.414 a=0.793 b=2.426 ll=-9582.43 n=2357>"
    text = repr(GammaGammaModel.from_params(6.25, 3.74, 15.44))
    assert all(f"{name}=" in text for name in ("p", "q", "gamma"))


# --------------------------------------------------------------------------- rfm_summary


@pytest.fixture
def small_transactions() -> pd.DataFrame:
    rows = [
        ("A", "2024-01-01 10:00", 10.0),
        ("A", "2024-01-01 17:30", 5.0),   # same day as above: one purchase of 15
        ("A", "2024-01-08 09:00", 20.0),
        ("A", "2024-01-22 12:00", 30.0),
        ("B", "2024-01-15 09:00", 7.0),
        ("B", "2024-01-15 12:00", 3.0),   # only one purchase day -> frequency 0
        ("C", "2024-01-03 00:00", 12.0),
        ("C", "2024-02-05 00:00", 99.0),  # after observation end: ignored
        ("D", "2024-02-01 00:00", 1.0),   # only after the end: not a customer yet
        ("E", "2024-01-10 08:00", 4.0),
        ("E", "2024-01-17 23:59", 6.0),
        ("E", "2024-01-29 18:00", 10.0),  # on the end day: included
    ]
    df = pd.DataFrame(rows, columns=["customer", "ts", "amount"])
    df["ts"] = pd.to_datetime(df["ts"])
    return df


# worked out by hand; observation end 2024-01-29, weeks
SMALL_EXPECTED_WEEKS = pd.DataFrame(
    {
        "frequency": [2, 0, 0, 2],
        "recency": [21 / 7, 0.0, 0.0, 19 / 7],
        "T": [28 / 7, 14 / 7, 26 / 7, 19 / 7],
        "monetary_value": [(20 + 30) / 2, 0.0, 0.0, (6 + 10) / 2],
    },
    index=pd.Index(["A", "B", "C", "E"], name="customer"),
)


def _small_summary(source, **kw):
    return rfm_summary(source, "customer", "ts", "amount", observation_end="2024-01-29", **kw)


def test_rfm_summary_pandas_golden(small_transactions):
    got = _small_summary(small_transactions, time_unit="W")
    pd.testing.assert_frame_equal(got, SMALL_EXPECTED_WEEKS, check_index_type=False)
    days = _small_summary(small_transactions, time_unit="D")
    assert days.loc["A", "recency"] == 21 and days.loc["A", "T"] == 28


def test_rfm_summary_ibis_matches_pandas(small_transactions):
    ibis = pytest.importorskip("ibis")
    expected = _small_summary(small_transactions, time_unit="W")
    con = ibis.duckdb.connect()
    table = con.create_table("tx", small_transactions)
    pd.testing.assert_frame_equal(_small_summary(table, time_unit="W"), expected)
    pd.testing.assert_frame_equal(_small_summary(table, time_unit="W"), SMALL_EXPECTED_WEEKS,
                                  check_index_type=False)
    as_text = small_transactions.assign(ts=small_transactions["ts"].dt.strftime("%Y-%m-%d %H:%M"))
    pd.testing.assert_frame_equal(_small_summary(ibis.memtable(as_text), time_unit="W"), expected)
    start = {"time_unit": "D", "calibration_start": "2024-01-08"}
    pd.testing.assert_frame_equal(_small_summary(table, **start), _small_summary(small_transactions, **start))
    assert _small_summary(table, **start).loc["A", "frequency"] == 1


def test_rfm_summary_ibis_matches_pandas_on_cdnow(cdnow_transactions, cdnow_summary):
    ibis = pytest.importorskip("ibis")
    table = ibis.duckdb.connect().create_table("cdnow", cdnow_transactions)
    got = rfm_summary(table, "customer", "date", "value", observation_end="1997-09-30", time_unit="W")
    pd.testing.assert_frame_equal(got, cdnow_summary)


def test_rfm_summary_guards(small_transactions):
    with pytest.raises(CLVError, match="time_unit"):
        _small_summary(small_transactions, time_unit="M")
    with pytest.raises(CLVError, match="not in the transactions"):
        rfm_summary(small_transactions, "client", "ts", "amount", observation_end="2024-01-29")
    with pytest.raises(CLVError, match="No transactions"):
        rfm_summary(small_transactions, "customer", "ts", "amount", observation_end="2023-01-01")
    missing = small_transactions.copy()
    missing.loc[0, "amount"] = np.nan
    with pytest.raises(CLVError, match="missing"):
        _small_summary(missing)
