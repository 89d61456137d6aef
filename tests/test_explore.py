"""The exploration API (issue 21 part 3): ``salesnb.open(...)`` → DataFrames, checked against
pandas sums computed here from the raw rows, plus params path lookup and ``help()``."""
from __future__ import annotations

import inspect
import math
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

import salesnb
from salesnb.errors import ConfigError, SalesnbError
from support.paths import ROOT


ROWS = [  # order, date, customer, amount, region, category
    ("1", "2024-01-03", "a", 100.50, "West", "Chairs"), ("2", "2024-01-20", "b", 20.00, "East", "Desks"),
    ("3", "2024-02-11", "a", 35.25, "West", "Desks"), ("4", "2024-03-30", "c", 10.00, "East", "Chairs"),
    ("5", "2024-04-02", "b", 99.00, "West", "Chairs"), ("5", "2024-04-02", "b", 1.00, "West", "Desks"),
    ("6", "2024-05-15", "c", 12.50, "East", "Chairs"), ("7", "2024-06-29", "a", 40.00, "West", "Desks"),
    ("8", "2024-06-30", "d", -5.00, "East", "Desks"), ("9", "2024-06-30", "d", 7.25, "South", "Desks"),
]
RAW = pd.DataFrame(ROWS, columns=["order", "date", "cust", "amount", "region", "category"])
Q1, Q2 = ("2024-01-01", "2024-04-01"), ("2024-04-01", "2024-07-01")


def _in(frame, window):
    return frame[(frame["date"] >= window[0]) & (frame["date"] < window[1])]


def _orders(frame) -> int:
    """Orders with positive net revenue (SPEC 2.4)."""
    net = frame.groupby("order")["amount"].sum()
    return int((net > 0).sum())


@pytest.fixture
def sb(tmp_path):
    RAW.to_csv(tmp_path / "sales.csv", index=False)
    params = {"name": "t", "source": "sales.csv", "period": "2024Q2",
              "columns": {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
                          "region": "region", "category": "category"}}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    with salesnb.open(path) as explorer:
        yield explorer


def test_kpis(sb):
    k = sb.kpis("2024Q2")
    assert list(k.columns) == ["2024Q2", "2024Q1", "vs_previous_pct", "vs_year_ago_pct"]
    q1, q2 = _in(RAW, Q1), _in(RAW, Q2)
    assert k.loc["total", "2024Q2"] == pytest.approx(math.fsum(q2["amount"]))
    assert k.loc["total", "2024Q1"] == pytest.approx(math.fsum(q1["amount"]))
    assert k.loc["orders", "2024Q2"] == _orders(q2) == 4          # order 8 nets -5: not an order
    assert k.loc["customers", "2024Q2"] == 4                       # b, c, a, d (d: order 9)
    assert k.loc["aov", "2024Q2"] == pytest.approx(math.fsum(q2["amount"]) / 4)
    change = (math.fsum(q2["amount"]) - math.fsum(q1["amount"])) / math.fsum(q1["amount"]) * 100
    assert k.loc["total", "vs_previous_pct"] == pytest.approx(change)
    assert math.isnan(k.loc["total", "vs_year_ago_pct"])           # 2023Q2 is not in the data
    # the same numbers as the report's findings
    f = sb.findings("2024Q2", sections=("revenue",))
    assert f["revenue"]["total"] == k.loc["total", "2024Q2"] and f["revenue"]["orders"] == 4


def test_breakdown_and_drill_down(sb):
    b = sb.breakdown("region", "2024Q2")
    assert list(b.columns[:2]) == ["region", "revenue"]
    expected = _in(RAW, Q2).groupby("region")["amount"].sum().sort_values(ascending=False)
    assert list(b["region"]) == list(expected.index)
    assert b.set_index("region")["revenue"].to_dict() == pytest.approx(expected.to_dict())
    assert b["share_pct"].sum() == pytest.approx(100.0)
    # "West, 2024Q2, by category" in one line
    west = sb.filter(region="West").breakdown("category", "2024Q2")
    sub = _in(RAW, Q2)
    want = sub[sub.region == "West"].groupby("category")["amount"].sum()
    assert west.set_index("category")["revenue"].to_dict() == pytest.approx(want.to_dict())
    prev = _in(RAW, Q1)
    want_prev = prev[prev.region == "West"].groupby("category")["amount"].sum()
    assert west.set_index("category")["previous_revenue"].to_dict() == pytest.approx(want_prev.to_dict())
    with pytest.raises(ConfigError, match="segment"):
        sb.breakdown("segment")
    with pytest.raises(ConfigError, match="not a dimension"):
        sb.breakdown("colour")


def test_filters_follow_the_params_rules(sb):
    west = sb.filter(region=["West", "East"])
    assert west.config.filters == {"include": {"region": ["West", "East"]}}
    only_west = west.filter(region="West", exclude={"category": "Desks"})
    assert only_west.config.filters == {"include": {"region": ["West"]}, "exclude": {"category": ["Desks"]}}
    mask = (RAW.region == "West") & (RAW.category != "Desks")
    assert only_west.kpis("2024Q2").loc["total", "2024Q2"] == pytest.approx(_in(RAW[mask], Q2)["amount"].sum())
    assert sb.config.filters == {}                                  # the original explorer is unchanged
    with pytest.raises(SalesnbError, match="would keep no value"):
        west.filter(region="South")
    with pytest.raises(ConfigError, match="Cannot filter on 'revenue'"):
        sb.filter(revenue="1")
    west.close(), only_west.close()


def test_monthly_customers_and_sql(sb):
    m = sb.monthly()
    expected = RAW.groupby(RAW["date"].str[:7])["amount"].sum()
    assert m.set_index("month")["revenue"].to_dict() == pytest.approx(expected.to_dict())
    rfm = sb.customers("2024Q2")
    assert list(rfm["customer_id"]) == ["a", "b", "c", "d"]
    upto = RAW[RAW.date < Q2[1]]
    money = upto.groupby("cust")["amount"].sum()
    assert rfm.set_index("customer_id")["monetary"].to_dict() == pytest.approx(money.to_dict())
    assert set(rfm.columns) >= {"recency_days", "frequency", "r_score", "f_score", "m_score", "segment"}
    assert rfm.set_index("customer_id").loc["a", "recency_days"] == 1      # last order 06-29, period ends 06-30
    frame = sb.sql("SELECT region, sum(revenue) AS revenue FROM sales WHERE order_date >= ? GROUP BY region "
                   "ORDER BY region", ["2024-04-01"])
    assert frame.set_index("region")["revenue"].to_dict() == pytest.approx(
        _in(RAW, Q2).groupby("region")["amount"].sum().to_dict())


def test_open_without_params_is_the_sample():
    sb = salesnb.open()
    assert sb.config.name == "sample" and "<salesnb Explorer sample" in repr(sb)
    sb.close()


def test_params_paths_resolve_from_the_working_folder_then_the_project_root(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")           # where a notebook's kernel runs
    config = salesnb.load_config("params/sample.yaml")
    assert Path(config.params_path) == ROOT / "params" / "sample.yaml"
    with pytest.raises(ConfigError) as err:
        salesnb.load_config("params/nope.yaml")
    assert str(ROOT / "notebooks" / "params" / "nope.yaml") in err.value.message
    assert str(ROOT / "params" / "nope.yaml") in err.value.message
    from salesnb.findings import default_params_file
    assert default_params_file("params/sample.yaml") == ROOT / "params" / "sample.yaml"
    # a file in the working folder wins over the project's
    (ROOT / "notebooks" / "params").mkdir(exist_ok=True)
    local = ROOT / "notebooks" / "params" / "sample.yaml"
    try:
        local.write_text((ROOT / "params" / "sample.yaml").read_text().replace("name: sample", "name: local"))
        assert salesnb.load_config("params/sample.yaml").name == "local"
    finally:
        local.unlink()
        (ROOT / "notebooks" / "params").rmdir()
    assert os.getcwd() == str(ROOT / "notebooks")


@pytest.mark.parametrize("name", ["open", "load_config", "load_data", "build_findings", "run_report", "run_batch"])
def test_public_functions_have_signatures_and_numpydoc(name):
    func = getattr(salesnb, name)
    params = inspect.signature(func).parameters
    assert not any(p.kind == p.VAR_KEYWORD for p in params.values()) or name in ("open", "load_config")
    doc = inspect.getdoc(func)
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    for p in params.values():
        if p.kind not in (p.VAR_KEYWORD,) and p.name not in ("out", "pdf", "timeout", "progress", "notebooks",
                                                               "workers", "warm_kernels"):
            assert p.name in doc, f"{name}: {p.name} is not described"
    assert {"sections", "cache", "dataset"} <= set(inspect.signature(salesnb.build_findings).parameters)


def test_explorer_methods_are_documented():
    for name in ("kpis", "breakdown", "monthly", "customers", "filter", "sql", "findings"):
        doc = inspect.getdoc(getattr(salesnb.Explorer, name))
        assert doc and len(doc) > 80, name
    assert "sales" in inspect.getdoc(salesnb.Explorer.sql)
