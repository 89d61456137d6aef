"""Exact money sums, shared by every metric module.

Money is summed as DECIMAL(38, 6): each line is rounded to 6 decimals and the sum is exact, so a
result does not depend on the order the engine adds rows in (float sums do, in the last bits —
enough to flip an order that nets to zero, +0.1 +0.2 −0.3, between "positive" and not, or to make
two runs of the same report differ). Results come back as float64.
"""
from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt_

MONEY = dt_.Decimal(38, 6)


def money_sum(col, where=None):
    """Exact, order-independent sum of a money column (returned as float64)."""
    return col.cast(MONEY).sum(where=where).cast("float64")


def money_cumsum(col, order_by):
    """Exact running sum of a money column over ``order_by`` (float64)."""
    return col.cast(MONEY).sum().over(ibis.cumulative_window(order_by=order_by)).cast("float64")
