"""The vendored real-data extracts in tests/fixtures/ (see README.md there): they run in every
clone, without ../shared/data. The load figures are recomputed here with pandas from the same
files; a findings run, CLV and the recommendations are held to invariants."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from salesnb.render.narrative import revenue as narrative
from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.findings import build_findings, dumps
from salesnb.metrics import customers
from salesnb.periods import parse_period
from salesnb.models.clv_findings import clv_findings
from salesnb.recommend.evidence import resolve
from support.findings import item_values
from support.paths import FIXTURES
from support.textnumbers import unexplained_numbers

#: name: (params, extract, invoice column, customer column, price column, period)
RETAIL = {
    "online_retail": ("online_retail.yaml", "online_retail_extract.parquet", "InvoiceNo", "CustomerID", "UnitPrice",
                      "2011Q4"),
    "online_retail_ii": ("online_retail_ii.yaml", "online_retail_ii_extract.parquet", "Invoice", "Customer ID",
                         "Price", "2010Q3"),
}
#: sha256 of CDNOW_sample.txt as published (shared/data/README.md; the lifetimes 0.11.3 wheel)
CDNOW_SAMPLE_SHA256 = "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a"


def _raw(name: str) -> pd.DataFrame:
    _, extract, invoice, customer, price, _ = RETAIL[name]
    raw = pd.read_parquet(FIXTURES / extract)
    return pd.DataFrame({"invoice": raw[invoice].astype(str), "customer": raw[customer],
                         "date": pd.to_datetime(raw["InvoiceDate"]), "rev": raw["Quantity"] * raw[price],
                         "country": raw["Country"]}), raw


@pytest.fixture(scope="module", params=sorted(RETAIL))
def retail(request):
    with load_data(load_config(FIXTURES / RETAIL[request.param][0])) as ds:
        yield request.param, ds


# --------------------------------------------------------------------------- the files

def test_the_extracts_are_small_and_the_cdnow_sample_is_the_published_file():
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3_000_000
    sample = (FIXTURES / "cdnow" / "CDNOW_sample.txt").read_bytes()
    assert hashlib.sha256(sample).hexdigest() == CDNOW_SAMPLE_SHA256


def test_the_cdnow_master_extract_holds_exactly_the_sample_customers_purchases():
    cols = ["customer", "date", "cds", "value"]
    sample = pd.read_csv(FIXTURES / "cdnow" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                         names=["customer", "sample_id", "date", "cds", "value"]).drop(columns="sample_id")
    master = pd.read_csv(FIXTURES / "cdnow" / "CDNOW_master_sample.txt", sep=r"\s+", header=0, names=cols)
    assert (len(master), master.customer.nunique()) == (6919, 2357)   # the paper's 1/10 sample
    key = cols[:2]
    pd.testing.assert_frame_equal(master.sort_values(key).reset_index(drop=True),
                                  sample[cols].sort_values(key).reset_index(drop=True))


# --------------------------------------------------------------------------- load figures

def test_load_figures_are_the_pandas_figures(retail):
    name, ds = retail
    lines, raw = _raw(name)
    q = ds.quality
    assert (q.rows_read, q.rows_used, q.rows_dropped) == (len(raw), len(raw), {})
    assert q.revenue_total == pytest.approx(lines.rev.sum(), abs=0.005)
    assert (q.first_date, q.last_date) == (lines.date.min().date().isoformat(), lines.date.max().date().isoformat())
    assert q.partial_months == [lines.date.max().strftime("%Y-%m")]   # both end on the 9th of December
    assert q.duplicates == {"rows": int(raw.duplicated().sum()), "dropped": 0}
    assert q.missing_customer["rows"] == int(lines.customer.isna().sum())
    negative = lines[lines.rev < 0]
    assert q.returns["lines"] == len(negative)

    def one(sql):
        return ds.sql(sql).iloc[0, 0]
    assert one("SELECT count(DISTINCT order_id) FROM sales") == lines.invoice.nunique()
    assert one("SELECT count(DISTINCT customer_id) FROM sales") == lines.customer.nunique() == 1000
    assert one("SELECT count(DISTINCT region) FROM sales") == lines.country.nunique()
    assert one("SELECT count(*) FROM sales WHERE order_id LIKE 'C%'") == int(lines.invoice.str.startswith("C").sum())
    assert one("SELECT count(*) FROM sales WHERE customer_id LIKE '%.%'") == 0   # float ids read as text


def test_validate_on_the_command_line_reports_the_pandas_figures(capsys):
    from salesnb.cli import main
    lines, raw = _raw("online_retail")
    assert main(["validate", str(FIXTURES / "online_retail.yaml")]) == 0
    out = capsys.readouterr().out
    from salesnb.fmt import fmt_count, fmt_money
    assert fmt_count(len(raw)) in out
    assert fmt_money(lines.rev.sum(), "GBP") in out


# --------------------------------------------------------------------------- findings

@pytest.fixture(scope="module", params=sorted(RETAIL))
def revenue_findings(request):
    name = request.param
    return name, build_findings(FIXTURES / RETAIL[name][0], RETAIL[name][5], sections=("revenue",)).data


def test_revenue_findings_are_the_pandas_figures(revenue_findings):
    name, f = revenue_findings
    period = RETAIL[name][5]
    lines, _ = _raw(name)
    r = f["revenue"]
    p = parse_period(period)
    q = lines[(lines.date >= pd.Timestamp(p.start)) & (lines.date < pd.Timestamp(p.end))]
    assert r["total"] == pytest.approx(q.rev.sum())
    per_order = q.groupby("invoice").rev.sum()
    positive = per_order[per_order > 0].index
    assert r["orders"] == len(positive)
    assert r["customers"] == q[q.invoice.isin(positive)].customer.nunique()
    assert r["returns"]["lines"] == int((q.rev < 0).sum())
    assert r["returns"]["value"] == pytest.approx(-q[q.rev < 0].rev.sum())
    regions = r["by_dimension"]["region"]
    assert sum(row["revenue"] for row in regions) == pytest.approx(r["total"])
    assert sum(row["share_pct"] for row in regions) == pytest.approx(100.0)


def test_every_number_in_every_revenue_sentence_is_a_finding(revenue_findings):
    _, f = revenue_findings
    sentences = narrative.revenue_sentences(f)
    assert sentences
    for text in sentences:
        assert unexplained_numbers(text, f) == [], text


@pytest.fixture(scope="module")
def online_retail_findings():
    params, period = FIXTURES / "online_retail.yaml", RETAIL["online_retail"][5]
    first, second = (dumps(build_findings(params, period).data) for _ in range(2))
    assert first == second, "the findings are deterministic, byte for byte"
    return json.loads(first)


def test_every_number_of_an_action_is_a_finding(online_retail_findings):
    f = online_retail_findings
    recs = f["recommendations"]
    actions = recs["actions"]
    shown = [a for a in actions if a["shown"]]
    assert len(shown) == recs["shown_actions"] <= 7 and actions[:len(shown)] == shown
    for item in actions + recs["opportunities"] + recs["risks"]:
        assert item["evidence"], item["title"]
        for e in item["evidence"]:   # each piece of evidence is a finding, at the key it names
            assert resolve(f, e["key"]) == e["value"], e["key"]
        own = {"currency": f["currency"], "values": item_values(item), "owner": item.get("owner")}
        for text in (item["title"], item["formula"]):   # every number is one of the item's own figures
            assert unexplained_numbers(text, own) == [], text
    for a in actions:
        assert a["metric"] and a["target"] is not None


def test_customer_findings_are_consistent(online_retail_findings):
    from salesnb.render.narrative import customers as narrative_customers
    f = online_retail_findings
    sentences = narrative_customers.customer_sentences(f)
    assert sentences
    for text in sentences:
        assert unexplained_numbers(text, f) == [], text
    c = f["customers"]
    assert c["available"] is True and c["count"] <= 1000
    assert 0 <= c["at_risk_share_pct"] <= 100 and 0 <= c["top20_revenue_share_pct"] <= 100
    v = c["clv"]["validation"]
    assert isinstance(v["used"], bool)
    if not v["used"]:
        assert c["clv"]["predicted_revenue"] is None


# --------------------------------------------------------------------------- CLV on the CDNOW sample

def test_cdnow_sample_clv_findings():
    with load_data(load_config(FIXTURES / "cdnow.yaml")) as ds:
        assert ds.quality.rows_used == 6919
        out, tables = customers.customer_findings(ds, parse_period("1998Q2"), clv=clv_findings)
        again, _ = customers.customer_findings(ds, parse_period("1998Q2"), clv=clv_findings)
    assert dumps({"clv": again["clv"]}) == dumps({"clv": out["clv"]}), "deterministic"
    clv, v = out["clv"], out["clv"]["validation"]
    assert (v["holdout_start"], v["holdout_end"]) == ("1997-12-31", "1998-06-30")
    # the check's figures in pandas: customers with a positive net spend before the holdout, and
    # their purchase days (a customer's day) within it
    lines = pd.read_csv(FIXTURES / "cdnow" / "CDNOW_master_sample.txt", sep=r"\s+", header=0, dtype={"date": str},
                        names=["customer", "date", "cds", "value"])
    lines["date"] = pd.to_datetime(lines.date, format="%Y%m%d")
    before = lines[lines.date < "1997-12-31"].groupby("customer").value.sum()
    calibrated = set(before[before > 0].index)
    held = lines[(lines.date >= "1997-12-31") & (lines.date <= "1998-06-30") & lines.customer.isin(calibrated)]
    assert (v["customers"], v["actual_purchases"]) == (len(calibrated), held.groupby(["customer", "date"]).ngroups)
    assert v["error_pct"] == pytest.approx(100 * (v["predicted_purchases"] - v["actual_purchases"])
                                           / v["actual_purchases"])
    # the model is sound on the paper's sample, as on the full CDNOW file: its predictions are shown
    assert v["used"] is True and v["reason"] == "passed" and v["failed"] == []
    assert abs(v["error_pct"]) <= 20 and v["mae"] <= v["naive_mae"]
    assert clv["status"] == "ok" and clv["predicted_revenue"] > 0
    top = tables["customers_top_clv"]
    assert len(top) == 20 and top.p_alive.between(0, 1).all() and (top.predicted_value_12m > 0).all()
