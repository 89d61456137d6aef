#!/usr/bin/env python
"""Time the BG/NBD and Gamma-Gamma fits on the CDNOW sample (2,357 customers, the vendored
tests/fixtures/cdnow/CDNOW_sample.txt): the median of ``--runs`` fits against a budget.

    .venv/bin/python benchmarks/clv_fit.py [--runs 5] [--budget 2.0]

Exit 1 when the median BG/NBD fit takes longer than the budget (seconds). The tests hold the
fitted values to the published ones (tests/models/test_clv.py); their speed is measured here, where a
loaded machine gives a slow figure, not a failing test.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from salesnb.models.clv import BetaGeoModel, GammaGammaModel
from salesnb.models.clv_data import rfm_summary

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "cdnow" / "CDNOW_sample.txt"


def summary() -> pd.DataFrame:
    df = pd.read_csv(SAMPLE, sep=r"\s+", header=None, dtype={2: str}, names=["master_id", "customer", "date", "cds", "value"])
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return rfm_summary(df, "customer", "date", "value", observation_end="1997-09-30", time_unit="W")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds for the median BG/NBD fit")
    args = parser.parse_args(argv)
    s = summary()
    repeat = s[s["frequency"] > 0]
    times = {"bgnbd": [], "gamma_gamma": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
        times["bgnbd"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])
        times["gamma_gamma"].append(time.perf_counter() - t0)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f}, "
              f"{args.runs} runs)")
    return 0 if statistics.median(times["bgnbd"]) <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
