"""The forecast's sentences and tables (SPEC 9.2): rendered from ``findings["forecast"]``.

Like :mod:`~salesnb.render.narrative.revenue`, a function takes the findings dict and returns a
plain-text sentence (``None`` when the findings lack what it needs), or a display table whose
every cell is formatted by :mod:`salesnb.fmt`. Nothing is computed here: the words (above/below,
used or not) are chosen by comparing findings values.
"""
from __future__ import annotations

import pandas as pd

from ...fmt import MISSING, fmt_count, fmt_money, fmt_number, fmt_pct
from ..labels import FORECAST_BENCHMARKS, forecast_method_name

BENCHMARKS = ("seasonal_naive", "naive")


def _fc(f: dict) -> dict:
    return f.get("forecast") or {}


def _cur(f: dict) -> str:
    return f.get("currency", "USD")


def interval_text(lo, hi, currency: str = "USD") -> str:
    """``$1.00–$2.00``; the em dash of a missing value when either end is missing."""
    if lo is None or hi is None:
        return MISSING
    return f"{fmt_money(lo, currency)}–{fmt_money(hi, currency)}"


def is_run_rate(f: dict) -> bool:
    return _fc(f).get("method") == "run_rate"


def chosen(f: dict) -> dict | None:
    """The candidate the forecast uses (``chosen``), or None."""
    return next((c for c in _fc(f).get("candidates") or [] if c.get("chosen")), None)


def benchmark(f: dict) -> dict | None:
    """The seasonal-naive (or naive) candidate every model is measured against, or None."""
    return next((c for c in _fc(f).get("candidates") or [] if c.get("method") in BENCHMARKS), None)


def next_quarter_sentence(f: dict) -> str | None:
    """"Next quarter (2018Q1): $X (80% interval $a–$b); on this data the method's error over the
    last 12 origins was MAPE y%, against z% for same-month-last-year." The run-rate says so."""
    fc = _fc(f)
    nq = fc.get("next_quarter") or {}
    if nq.get("revenue") is None:
        return None
    cur = _cur(f)
    head = f"Next quarter ({nq['label']}): {fmt_money(nq['revenue'], cur)}"
    if is_run_rate(f):
        return f"{head} at the run-rate ({fc.get('model')}), without an interval."
    text = f"{head} (80% interval {interval_text(nq.get('lo80'), nq.get('hi80'), cur)})"
    win, base = chosen(f), benchmark(f)
    origins = len((fc.get("backtest") or {}).get("origins") or [])
    if win is None or win.get("mape") is None or not origins:
        return text + "."
    span = f"over the last {fmt_count(origins)} origins"
    if base is None or win is base or base.get("mape") is None:
        name = FORECAST_BENCHMARKS.get(win["method"]) or forecast_method_name(win["method"])
        text += (f"; on this data the method, {name}, had an error {span} of MAPE {fmt_pct(win['mape'])}, "
                 "and no model beat it")
    else:
        text += (f"; on this data the method's error {span} was MAPE {fmt_pct(win['mape'])}, against "
                 f"{fmt_pct(base['mape'])} for {FORECAST_BENCHMARKS.get(base['method'], base['method'])}")
    return text + "."


def method_sentence(f: dict) -> str | None:
    """Which method is used and why (the findings' ``note``: for the run-rate, why there is no
    model), with the used method's 80% coverage on the backtest."""
    fc = _fc(f)
    note = fc.get("note")
    if not note:
        return None
    win = chosen(f)
    if win is None or win.get("coverage80_pct") is None:
        return note
    return (f"{note} Its 80% intervals held {fmt_pct(win['coverage80_pct'])} of the actuals in the backtest "
            "(a well-calibrated interval holds about 80%).")


def target_sentence(f: dict) -> str | None:
    """The probability of reaching the next quarter's target (the share of simulated quarters at
    or above it); with the run-rate, only whether the forecast is above or below it."""
    fc = _fc(f)
    t, nq = fc.get("target"), fc.get("next_quarter") or {}
    if not t or t.get("value") is None:
        return None
    cur = _cur(f)
    target = fmt_money(t["value"], cur)
    if t.get("probability_pct") is None:
        if nq.get("revenue") is None:
            return None
        word = "above" if nq["revenue"] >= t["value"] else "below"
        return (f"The {nq['label']} forecast ({fmt_money(nq['revenue'], cur)}) is {word} its target of {target}; "
                "without a model there is no probability of reaching it.")
    sims = fc.get("simulations")
    basis = f" (the share of {fmt_count(sims)} simulated quarters at or above it)" if sims else ""
    return f"The probability of reaching the {nq['label']} target of {target} is {fmt_pct(t['probability_pct'])}{basis}."


def projection_sentence(f: dict) -> str | None:
    """A partial period's projected end: actual to date + the forecast of its remaining days,
    against its target where one is set."""
    p = _fc(f).get("period_projection")
    if not p or p.get("revenue") is None:
        return None
    cur = _cur(f)
    text = (f"{p['label']} is partial (data through {p['through']}): {fmt_money(p['actual_to_date'], cur)} to date "
            f"plus {fmt_money(p['forecast_rest'], cur)} forecast for its remaining days projects "
            f"{fmt_money(p['revenue'], cur)} by its end")
    if p.get("lo80") is not None:
        text += f" (80% interval {interval_text(p['lo80'], p['hi80'], cur)})"
    if p.get("target") is not None:
        pct = p.get("vs_target_pct")
        where = "above" if p["revenue"] >= p["target"] else "below"
        size = f"{fmt_pct(abs(pct))} " if pct is not None else ""
        text += f", {size}{where} its target of {fmt_money(p['target'], cur)}"
        if p.get("probability_pct") is not None:
            text += f" (probability of reaching it {fmt_pct(p['probability_pct'])})"
    return text + "."


def forecast_sentences(f: dict) -> list[str]:
    """The forecast part's sentences in reading order, skipping those without data."""
    out = [next_quarter_sentence(f), method_sentence(f), target_sentence(f), projection_sentence(f)]
    return [s for s in out if s]


# --------------------------------------------------------------------------- tables

def backtest_table(f: dict) -> pd.DataFrame:
    """One row per candidate of the backtest (SPEC 9.2): its MASE, MAPE and 80% coverage, the
    one used marked; empty for the run-rate (there is no backtest)."""
    rows = []
    for c in _fc(f).get("candidates") or []:
        if c.get("method") == "run_rate":
            continue
        rows.append({
            "Method": forecast_method_name(c["method"]), "Model": c.get("model") or MISSING,
            "MASE": fmt_number(c.get("mase"), 2), "MAPE": fmt_pct(c.get("mape")),
            "80% coverage": fmt_pct(c.get("coverage80_pct")),
            "Used": "✓ used" if c.get("chosen") else (c.get("note") or ""),
        })
    return pd.DataFrame(rows)


def months_table(f: dict) -> pd.DataFrame:
    """The forecast months and the next quarter's total, each with its 80% and 95% intervals."""
    fc, cur = _fc(f), _cur(f)
    rows = [{"Month": m["month"], "Forecast": fmt_money(m["revenue"], cur),
             "80% interval": interval_text(m.get("lo80"), m.get("hi80"), cur),
             "95% interval": interval_text(m.get("lo95"), m.get("hi95"), cur)} for m in fc.get("months") or []]
    nq = fc.get("next_quarter") or {}
    if nq.get("revenue") is not None:
        rows.append({"Month": f"{nq['label']} total", "Forecast": fmt_money(nq["revenue"], cur),
                     "80% interval": interval_text(nq.get("lo80"), nq.get("hi80"), cur),
                     "95% interval": interval_text(nq.get("lo95"), nq.get("hi95"), cur)})
    return pd.DataFrame(rows)


def backtest_note(f: dict) -> str | None:
    """How the backtest table was made and how to read it (None for the run-rate)."""
    bt = _fc(f).get("backtest") or {}
    origins = bt.get("origins") or []
    if is_run_rate(f) or not origins:
        return None
    span = origins[0] if len(origins) == 1 else f"{origins[0]} to {origins[-1]}"
    return (f"From each of the last {fmt_count(len(origins))} month-ends ({span}), every method was fitted on the "
            f"months up to it and forecast the next {fmt_count(bt.get('horizon_months'))}. MAPE is the mean absolute "
            "error as a share of the actual; MASE divides each origin's mean absolute error by same-month-last-year's "
            "own error on the training months (below 1 beats it); 80% coverage is the share of actuals inside the "
            "80% interval. The method with the lowest MASE is used, and only when it beats seasonal naive.")
