"""Margin rules (salesnb.recommend.margin): loss-making products and the discount cap, with SPEC
9.4's evidence (rule id, current, target, material, sample) resolved back into the findings."""
from __future__ import annotations

import copy

import pytest

from salesnb.recommend import recommendations
from salesnb.recommend.evidence import resolve
from support.margin import PROFIT, margin_findings

def items(f: dict, rule: str) -> list:
    r = recommendations(f)
    return [i for i in r["opportunities"] if i["rule"] == rule]


def test_loss_makers_rule():
    f = margin_findings()
    [item] = items(f, "loss_makers")
    assert item["impact"] == 250 and item["title"] == "Reprice or drop the 2 loss-making products"
    assert (item["current"], item["target"]) == (250, 0)
    assert (item["sample"], item["min_sample"], item["sample_ok"], item["material"], item["shown"]) == (
        40, 30, True, True, True)
    assert item["confidence"] == "medium"
    for ev in item["evidence"]:
        assert resolve(f, ev["key"]) == ev["value"]
    assert "$250.00" in item["formula"]


def test_discount_cap_rule():
    f = margin_findings()
    [item] = items(f, "discount_cap")
    assert item["impact"] == 300 and item["parameters"] == {"cap_pct": 20.0}
    assert item["title"] == "Cap discounts at 20%: lines with discounts above 20% lose money"
    assert (item["current"], item["target"], item["sample"], item["shown"]) == (-300, 0, 35, True)
    keys = [ev["key"] for ev in item["evidence"]]
    assert "revenue.profit.discount.bands[>30%].margin_pct" in keys
    for ev in item["evidence"]:
        assert resolve(f, ev["key"]) == ev["value"]
    actions = [a for a in recommendations(f)["actions"] if a["rule"] == "discount_cap"]
    assert actions and actions[0]["metric"] == "revenue.profit.discount.negative_profit"


def test_thin_or_immaterial_evidence_is_not_shown():
    p = copy.deepcopy(PROFIT)
    p["loss_makers"]["orders"] = 12
    p["discount"]["negative_profit"] = -50.0   # 0.5% of revenue: not material
    f = margin_findings(p)
    [lm] = items(f, "loss_makers")
    [dc] = items(f, "discount_cap")
    assert (lm["sample_ok"], lm["shown"], lm["confidence"]) == (False, False, "low")
    assert (dc["material"], dc["shown"]) == (False, False)


@pytest.mark.parametrize("change", ["no_profit", "no_losses", "no_negative_band"])
def test_silent_without_what_they_need(change):
    p = copy.deepcopy(PROFIT)
    if change == "no_losses":
        p["loss_makers"].update(count=0, loss=0.0, items=[])
    if change == "no_negative_band":
        p["discount"].update(negative_from=None, negative_from_pct=None, negative_profit=0.0)
    f = margin_findings(None if change == "no_profit" else p)
    if change in ("no_profit", "no_losses"):
        assert not items(f, "loss_makers")
    if change in ("no_profit", "no_negative_band"):
        assert not items(f, "discount_cap")
