"""Revenue findings: golden figures computed independently with plain pandas, and invariants."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from salesnb.config import config_from_dict, load_config
from salesnb.data import load_data
from salesnb.errors import NoDataError
from salesnb.findings import build_findings
from support.paths import PARAMS, SHARED_DATA, needs_shared_data

SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
RETAIL = SHARED_DATA / "online-retail" / "online_retail.parquet"


def revenue_only(params, period):
    return build_findings(params, period, sections=("revenue",)).data


# --------------------------------------------------------------------------- hand-made table

HAND = """order_id,date,customer,amount,qty,region
A1,2024-01-05,c1,100.00,1,North
A1,2024-01-05,c1,50.00,2,North
A2,2024-01-20,c2,200.00,4,South
A3,2024-02-03,,80.00,1,South
A4,2024-02-10,c1,-30.00,-1,North
A5,2024-02-11,c3,40.00,1,North
A5,2024-02-11,c3,-40.00,-1,North
A6,2024-03-01,c2,300.00,3,South
A7,2024-03-31,c4,100.00,2,North
A8,2024-04-05,c4,60.00,1,South
"""


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    (folder / "sales.csv").write_text(HAND)
    cfg = config_from_dict({"name": "hand", "source": "sales.csv", "columns": {
        "order_id": "order_id", "order_date": "date", "customer_id": "customer", "revenue": "amount",
        "quantity": "qty", "region": "region"}}, base_dir=folder)
    return cfg


def test_hand_quarter_kpis(hand):
    f = revenue_only(hand, "2024Q1")
    r = f["revenue"]
    # lines Jan..Mar: 100+50+200+80-30+40-40+300+100 = 800
    assert r["total"] == pytest.approx(800.0)
    # orders with positive net: A1 150, A2 200, A3 80, A6 300, A7 100; A4 is -30, A5 nets to 0
    assert r["orders"] == 5
    assert r["units"] == pytest.approx(1 + 2 + 4 + 1 - 1 + 1 - 1 + 3 + 2)
    assert r["aov"] == pytest.approx(800 / 5)
    # customers with a positive order: c1 (A1), c2 (A2, A6), c4 (A7); c3's only order nets to zero
    assert r["customers"] == 3
    # identified revenue: everything but A3's 80
    assert r["revenue_per_customer"] == pytest.approx(720 / 3)
    assert r["returns"] == {"lines": 2, "value": pytest.approx(70.0)}
    months = {m["month"]: m for m in r["by_month"]}
    assert months["2024-01"]["revenue"] == pytest.approx(350)
    assert months["2024-02"]["revenue"] == pytest.approx(50)
    assert months["2024-03"]["revenue"] == pytest.approx(400)
    assert months["2024-02"]["orders"] == 1  # only A3 is positive in February
    # January's data starts on the 5th: 27/31 = 87% < 90% → partial, left out of best/worst
    assert months["2024-01"]["partial"] is True
    assert r["best_month"] == {"month": "2024-03", "revenue": pytest.approx(400)}
    assert r["worst_month"] == {"month": "2024-02", "revenue": pytest.approx(50)}
    assert r["avg_monthly_growth_pct"] == pytest.approx((400 - 50) / 50 * 100)
    assert r["cmgr_pct"] == pytest.approx(((400 / 50) ** (1 / 1) - 1) * 100)
    regions = {d["value"]: d for d in r["by_dimension"]["region"]}
    assert regions["North"]["revenue"] == pytest.approx(100 + 50 - 30 + 40 - 40 + 100)
    assert regions["South"]["revenue"] == pytest.approx(200 + 80 + 300)
    assert f["period"]["partial"] is True  # the quarter holds a partial month
    assert f["comparison"]["previous"]["available"] is False  # no data in 2023Q4


def test_hand_partial_last_month(hand):
    f = revenue_only(hand, "2024-04")
    r = f["revenue"]
    assert r["total"] == pytest.approx(60)
    assert r["by_month"] == [{"month": "2024-04", "revenue": pytest.approx(60), "orders": 1,
                              "units": pytest.approx(1), "partial": True}]
    # no complete month: no best/worst, no growth
    assert r["best_month"] is None and r["avg_monthly_growth_pct"] is None and r["cmgr_pct"] is None
    # like for like: March cut to the same 5 days (1..5) holds only A6 (300)
    assert f["comparison"]["like_for_like"] is True
    assert f["comparison"]["previous"]["start"] == "2024-03-01"
    assert f["comparison"]["previous"]["end"] == "2024-03-05"
    assert r["previous"]["total"] == pytest.approx(300)
    assert r["change"]["total"]["vs_previous_pct"] == pytest.approx((60 - 300) / 300 * 100)


def test_period_without_data_is_a_clear_error(hand):
    with pytest.raises(NoDataError, match="2025Q1.*has no data.*2024-01-05"):
        revenue_only(hand, "2025Q1")


# --------------------------------------------------------------------------- Superstore

@pytest.fixture(scope="module")
def superstore_raw():
    raw = pd.read_csv(SUPERSTORE, encoding="cp1252")
    raw["date"] = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y")
    return raw


def _window(raw, start, end):
    return raw[(raw["date"] >= start) & (raw["date"] < end)]


def _kpis(frame):
    per_order = frame.groupby("Order ID")["Sales"].sum()
    positive = per_order[per_order > 0].index
    customers = frame[frame["Order ID"].isin(positive)]["Customer ID"].nunique()
    total = frame["Sales"].sum()
    return {"total": total, "orders": len(positive), "units": frame["Quantity"].sum(),
            "customers": customers, "aov": total / len(positive), "revenue_per_customer": total / customers}


@pytest.mark.slow  # a full real data set: in make test-all
@needs_shared_data
def test_superstore_2017q4_golden(superstore_raw):
    f = revenue_only(PARAMS / "superstore.yaml", "2017Q4")
    r = f["revenue"]
    cur = _kpis(_window(superstore_raw, "2017-10-01", "2018-01-01"))
    prev = _kpis(_window(superstore_raw, "2017-07-01", "2017-10-01"))
    yago = _kpis(_window(superstore_raw, "2016-10-01", "2017-01-01"))
    for key in ("total", "orders", "units", "customers", "aov", "revenue_per_customer"):
        assert r[key] == pytest.approx(cur[key], rel=1e-9), key
        assert r["previous"][key] == pytest.approx(prev[key], rel=1e-9), key
        assert r["year_ago"][key] == pytest.approx(yago[key], rel=1e-9), key
    assert r["change"]["total"]["vs_previous_pct"] == pytest.approx((cur["total"] / prev["total"] - 1) * 100)
    monthly = _window(superstore_raw, "2017-10-01", "2018-01-01").groupby(
        superstore_raw["date"].dt.strftime("%Y-%m"))["Sales"].sum()
    assert r["best_month"]["month"] == monthly.idxmax() == "2017-11"
    assert r["worst_month"]["month"] == monthly.idxmin()
    assert r["best_month"]["revenue"] == pytest.approx(monthly.max())
    values = monthly.tolist()
    mom = [(b - a) / a * 100 for a, b in zip(values, values[1:])]
    assert r["avg_monthly_growth_pct"] == pytest.approx(sum(mom) / len(mom))
    assert r["cmgr_pct"] == pytest.approx(((values[-1] / values[0]) ** 0.5 - 1) * 100)
    region = _window(superstore_raw, "2017-10-01", "2018-01-01").groupby("Region")["Sales"].sum()
    got = {d["value"]: d["revenue"] for d in r["by_dimension"]["region"]}
    assert got == pytest.approx(region.to_dict())
    prev_region = _window(superstore_raw, "2017-07-01", "2017-10-01").groupby("Region")["Sales"].sum()
    for d in r["by_dimension"]["region"]:
        assert d["growth_pct"] == pytest.approx((region[d["value"]] / prev_region[d["value"]] - 1) * 100)
    assert f["period"]["partial"] is False and f["comparison"]["like_for_like"] is False


@pytest.mark.slow  # a full real data set: in make test-all
@needs_shared_data
def test_superstore_whole_data_and_year(superstore_raw):
    f = revenue_only(PARAMS / "superstore.yaml", "all")
    assert f["revenue"]["total"] == pytest.approx(2297200.8603)
    assert f["revenue"]["orders"] == 5009
    assert f["revenue"]["customers"] == 793
    assert f["comparison"]["previous"]["available"] is False
    y = revenue_only(PARAMS / "superstore.yaml", "2016")
    exp = _kpis(_window(superstore_raw, "2016-01-01", "2017-01-01"))
    assert y["revenue"]["total"] == pytest.approx(exp["total"])
    assert len(y["revenue"]["by_month"]) == 12
    assert len(y["revenue"]["trend_by_month"]) == 24


@pytest.mark.slow  # a full real data set: in make test-all
@needs_shared_data
@pytest.mark.parametrize("period", ["2017Q4", "2016", "2015-06"])
def test_breakdowns_sum_to_total_and_shares_to_100(period):
    r = revenue_only(PARAMS / "superstore.yaml", period)["revenue"]
    for dim, rows in r["by_dimension"].items():
        assert sum(x["revenue"] for x in rows) == pytest.approx(r["total"]), dim
        assert sum(x["share_pct"] for x in rows) == pytest.approx(100.0), dim
        revenues = [x["revenue"] for x in rows]
        assert revenues == sorted(revenues, reverse=True)
    assert sum(m["revenue"] for m in r["by_month"]) == pytest.approx(r["total"])
    if r["previous"]:
        for dim, rows in r["by_dimension"].items():
            change = sum(x["change"] for x in rows)
            assert change == pytest.approx(r["total"] - r["previous"]["total"]), dim


# --------------------------------------------------------------------------- Online Retail

@pytest.mark.slow  # the full Online Retail file; fast: test_hand_partial_last_month and the 2011Q4 extract's
@needs_shared_data  # pandas figures (tests/test_fixture_data.py)
def test_online_retail_2011q4_partial_december():
    f = revenue_only(PARAMS / "online_retail.yaml", "2011Q4")
    r = f["revenue"]
    raw = pd.read_parquet(RETAIL)
    raw["rev"] = raw["Quantity"] * raw["UnitPrice"]
    q = raw[(raw["InvoiceDate"] >= "2011-10-01") & (raw["InvoiceDate"] < "2012-01-01")]
    assert r["total"] == pytest.approx(q["rev"].sum())
    per_order = q.groupby("InvoiceNo")["rev"].sum()
    positive = per_order[per_order > 0].index
    assert r["orders"] == len(positive)
    ident = q[q["CustomerID"].notna()]
    customers = ident[ident["InvoiceNo"].isin(positive)]["CustomerID"].nunique()
    assert r["customers"] == customers
    # revenue per customer uses identified customers' revenue only (SPEC 2.4)
    assert r["revenue_per_customer"] == pytest.approx(ident["rev"].sum() / customers)
    neg = q[q["rev"] < 0]
    assert r["returns"]["lines"] == len(neg)
    assert r["returns"]["value"] == pytest.approx(-neg["rev"].sum())
    # December 2011 ends on the 9th: partial, excluded from best/worst and growth
    assert f["period"]["partial"] is True
    assert r["partial_months_excluded"] == ["2011-12"]
    assert r["best_month"]["month"] == "2011-11"
    assert r["worst_month"]["month"] == "2011-10"
    oct_, nov = (q[q["InvoiceDate"].dt.month == m]["rev"].sum() for m in (10, 11))
    assert r["avg_monthly_growth_pct"] == pytest.approx((nov - oct_) / oct_ * 100)
    # like for like: 2011Q3 cut to Jul 1 .. Sep 8 (the quarter's first 70 days, as Oct 1 .. Dec 9)
    assert f["comparison"]["like_for_like"] is True
    assert f["comparison"]["previous"]["end"] == "2011-09-08"
    p = raw[(raw["InvoiceDate"] >= "2011-07-01") & (raw["InvoiceDate"] < "2011-09-09")]
    assert r["previous"]["total"] == pytest.approx(p["rev"].sum())
    # the year-ago quarter is not fully in the data (it starts 2010-12-01)
    assert f["comparison"]["year_ago"]["available"] is False and r["year_ago"] is None
    assert r["change"]["total"]["vs_year_ago_pct"] is None


@needs_shared_data
@pytest.mark.parametrize("params,period", [("superstore.yaml", "2017Q4"), ("online_retail.yaml", "2011Q4")])
@pytest.mark.slow
def test_findings_json_is_byte_identical_and_valid(params, period):
    """The same data gives the same findings.json, byte for byte (exact money sums)."""
    import json
    from salesnb.findings import dumps
    a = dumps(build_findings(PARAMS / params, period).data)
    b = dumps(build_findings(PARAMS / params, period).data)
    assert a == b
    a_data = json.loads(a)
    assert "NaN" not in a and "Infinity" not in a
    for key in ("schema_version", "name", "period", "data", "revenue", "customers", "recommendations"):
        assert key in a_data
    for key in ("rows_read", "rows_used", "rows_dropped", "first_date", "last_date", "sha256"):
        assert key in a_data["data"]
    for key in ("total", "orders", "units", "aov", "revenue_per_unit", "customers", "revenue_per_customer",
                "returns", "previous", "year_ago", "by_month", "trend_by_month", "best_month", "worst_month",
                "avg_monthly_growth_pct", "cmgr_pct", "by_dimension", "top_performers"):
        assert key in a_data["revenue"], key


@needs_shared_data
def test_sales_reps_on_crm_pipeline():
    r = revenue_only(PARAMS / "crm_pipeline.yaml", "2017Q4")["revenue"]
    raw = pd.read_csv(SHARED_DATA / "crm-sales-opportunities" / "sales_pipeline.csv")
    won = raw[(raw["deal_stage"] == "Won") & (raw["close_date"] >= "2017-10-01") & (raw["close_date"] <= "2017-12-31")]
    by_rep = won.groupby("sales_agent")["close_value"].sum().sort_values(ascending=False)
    top = r["top_performers"][0]
    assert top["sales_rep"] == by_rep.index[0]
    assert top["revenue"] == pytest.approx(by_rep.iloc[0])
    assert top["orders"] == int((won["sales_agent"] == by_rep.index[0]).sum())
    assert sum(p["share_pct"] for p in r["top_performers"]) == pytest.approx(100)
    assert math.isclose(r["total"], won["close_value"].sum())
