"""The two margin rules count some of the same lines (salesnb.recommend.margin.note_margin_overlap):
when both fire, each item says by how much and gives the loss of the lines either counts, and the
recommendations notebook says it in one sentence (salesnb.render.recommendations.overlap_note).
A hand-worked case, and Superstore 2017Q4 (both rules fire) recomputed with pandas."""
from __future__ import annotations

import copy

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.findings import build_findings
from salesnb.recommend import recommendations
from salesnb.recommend.evidence import resolve
from salesnb.render import recommendations as rec
from support.margin import PROFIT as MARGIN_PROFIT, margin_findings
from support.paths import PARAMS, shared_file

# P1 and P2 lose $180.25 on 21 lines (17 orders) with discounts above 20%
PROFIT = {**MARGIN_PROFIT,
          "margin_overlap": {"dimension": "product", "from_band": "20-30%", "loss": 180.254, "lines": 21, "orders": 17}}


def _margin_items(f: dict) -> dict:
    return {o["rule"]: o for o in recommendations(f)["opportunities"] if o["rule"] in ("loss_makers", "discount_cap")}


def test_both_rules_say_what_they_share_and_their_combined_loss():
    f = margin_findings(PROFIT)
    items = _margin_items(f)
    lm, dc = items["loss_makers"], items["discount_cap"]
    assert (lm["impact"], dc["impact"]) == (250.0, 300.0)   # each impact stays its own
    for item, other in ((lm, "discount_cap"), (dc, "loss_makers")):
        assert item["overlap"] == {"rule": other, "shared_loss": 180.25, "lines": 21, "orders": 17,
                                   "combined_loss": 369.75}   # 250 + 300 - 180.25
        [d] = [d for d in item["derived"] if d["name"] == "combined_loss"]
        assert d["value"] == 369.75
        assert d["formula"] == "$250.00 + $300.00 − $180.25 counted by both (21 lines) = $369.75"
        for ev in item["evidence"]:
            assert resolve(f, ev["key"]) == ev["value"]
    assert rec.overlap_note(f) == (
        "The loss-making products and the discount cap count some of the same lines: $180.25 of the loss is on "
        "lines of loss-making products with discounts above 20% (21 lines in 17 orders). Their impacts are not "
        "to be added up: the lines either rule counts lose $369.75 in all, not $550.00.")


def test_no_note_unless_both_are_shown():
    p = copy.deepcopy(PROFIT)
    p["discount"]["negative_profit"] = -50.0   # 0.5% of revenue: the discount cap is not material
    f = margin_findings(p)
    items = _margin_items(f)
    assert items["discount_cap"]["shown"] is False and "overlap" in items["loss_makers"]
    assert rec.overlap_note(f) is None
    p = copy.deepcopy(PROFIT)
    p["discount"]["negative_from"] = None        # no losing band: one rule, no overlap
    p["margin_overlap"] = None
    f = margin_findings(p)
    assert set(_margin_items(f)) == {"loss_makers"} and "overlap" not in _margin_items(f)["loss_makers"]
    assert rec.overlap_note(f) is None
    frame = rec.opportunities_frame(f)
    assert list(frame["Rule"]).count("loss_makers") == 1


def test_superstore_2017q4_overlap_recomputed_with_pandas():
    path = shared_file("superstore", "Sample - Superstore.csv")
    d = pd.read_csv(path, encoding="cp1252")
    d["date"] = pd.to_datetime(d["Order Date"], format="%m/%d/%Y")
    q = d[(d.date >= "2017-10-01") & (d.date < "2018-01-01")]
    loss_making = q.groupby("Product Name")["Profit"].transform("sum") < 0
    losing = q["Discount"] > 0.20   # Superstore's bands lose money from 20-30% up
    both, either = q[loss_making & losing], q[loss_making | losing]
    f = build_findings(load_config(PARAMS / "superstore.yaml"), "2017Q4").data
    o = f["revenue"]["profit"]["margin_overlap"]
    assert o["from_band"] == "20-30%"
    assert o["loss"] == pytest.approx(-both["Profit"].sum(), abs=0.005) == pytest.approx(23545.15, abs=0.005)
    assert (o["lines"], o["orders"]) == (len(both), both["Order ID"].nunique()) == (132, 112)
    items = _margin_items(f)
    lm, dc = items["loss_makers"], items["discount_cap"]
    assert lm["shown"] and dc["shown"]
    assert lm["impact"] == pytest.approx(-q[loss_making]["Profit"].sum(), abs=0.005)
    assert dc["impact"] == pytest.approx(-q[losing]["Profit"].sum(), abs=0.005)
    # the combined loss is that of the lines either rule counts (to the cent of the rounded parts); the
    # loss-making products' undiscounted lines make money, so it is even below the discount cap's own
    combined = lm["overlap"]["combined_loss"]
    assert combined == dc["overlap"]["combined_loss"]
    assert combined == pytest.approx(-either["Profit"].sum(), abs=0.015)
    assert combined < dc["impact"] < lm["impact"] + dc["impact"]
    note = rec.overlap_note(f)
    assert note == (
        "The loss-making products and the discount cap count some of the same lines: $23,545.15 of the loss is on "
        "lines of loss-making products with discounts above 20% (132 lines in 112 orders). Their impacts are not "
        "to be added up: the lines either rule counts lose $23,491.54 in all, not $47,036.69.")
