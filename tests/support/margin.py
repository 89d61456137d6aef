"""A hand-made ``revenue.profit`` section where both margin rules fire (two loss-making products,
discounts losing money from the 20-30% band up), and findings around it, for the margin rules'
tests (salesnb.recommend.margin)."""
from __future__ import annotations

import copy

PROFIT = {
    "profit": 900.0, "revenue": 10_000.0, "margin_pct": 9.0,
    "loss_makers": {"dimension": "product", "count": 2, "loss": 250.0, "revenue": 1_000.0, "orders": 40,
                    "items": [{"value": "P1", "revenue": 600.0, "profit": -200.0, "margin_pct": -33.3, "orders": 25},
                              {"value": "P2", "revenue": 400.0, "profit": -50.0, "margin_pct": -12.5, "orders": 15}]},
    "discount": {"scale": "rate", "negative_from": "20-30%", "negative_from_pct": 20.0, "negative_profit": -300.0,
                 "negative_revenue": 2_000.0, "negative_lines": 60, "negative_orders": 35,
                 "bands": [{"band": "0%", "revenue": 6_000.0, "profit": 1_000.0, "margin_pct": 16.7},
                           {"band": "10-20%", "revenue": 2_000.0, "profit": 200.0, "margin_pct": 10.0},
                           {"band": "20-30%", "revenue": 1_500.0, "profit": -100.0, "margin_pct": -6.7},
                           {"band": ">30%", "revenue": 500.0, "profit": -200.0, "margin_pct": -40.0}]},
}


def margin_findings(profit=PROFIT) -> dict:
    """Findings of 2024Q2 ($10,000 of revenue) with ``profit`` as ``revenue.profit`` (none when None)."""
    rev = {"total": 10_000.0, "by_dimension": {}, "dimensions": []}
    if profit is not None:
        rev["profit"] = copy.deepcopy(profit)
    return {"currency": "USD", "period": {"label": "2024Q2"}, "revenue": rev, "data": {}}
