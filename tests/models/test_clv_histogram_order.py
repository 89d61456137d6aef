"""The CLV distribution table (customers_clv_distribution) sums the customers' values per bin in the
order the engine returns them, which varies with the engine's threads and the layout of the order
rows: the sums must not change a digit with that order."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from salesnb.models.clv_findings import _histogram

money = st.floats(min_value=0.01, max_value=1e7, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=60, deadline=None)
@given(st.lists(money, min_size=2, max_size=300), st.randoms(use_true_random=False))
def test_the_bins_are_the_same_in_any_row_order(values, rnd):
    shuffled = list(values)
    rnd.shuffle(shuffled)
    a = _histogram(np.array(values), "historical revenue")
    b = _histogram(np.array(shuffled), "historical revenue")
    assert a.equals(b)
    assert a.customers.sum() == len(values)
    assert math.isclose(math.fsum(a.value_sum), math.fsum(values), rel_tol=1e-12)


def test_a_sum_that_float_addition_gets_wrong_in_one_order():
    # added left to right, each 1.0 is lost against 1e16 (spacing 2 there): 2e16 + 2; the true sum is 2e16 + 4
    values = np.array([1e16, 1.0, 1.0, 1e16 + 2.0])
    rows = _histogram(values, "historical revenue", bins=1)
    assert rows.value_sum.iloc[0] == math.fsum(values.tolist()) == 2e16 + 4.0
