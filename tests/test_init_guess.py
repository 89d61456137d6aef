"""`salesnb init` guesses (SPEC 2.1, issue 21 part 5) and the safety of what it writes (issue 22 item 8).

The real data sets' headers come from ../shared/data (skipped with a reason when absent); the
expected mappings below were read off each file's header by hand (shared/data/README.md).
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from salesnb.cli import main
from salesnb.config import CANONICAL_COLUMNS, VALID_KEYS, load_config
from salesnb.guess import (comment_text, guess_columns, last_complete_quarter, params_text, suggested_title,
                           yaml_scalar)
from support.paths import SHARED_DATA

SUPERSTORE = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
ONLINE_RETAIL = SHARED_DATA / "online-retail" / "online_retail.parquet"
ONLINE_RETAIL_II = SHARED_DATA / "online-retail-ii" / "online_retail_II_Year_2009-2010.parquet"
CDNOW = SHARED_DATA / "cdnow" / "CDNOW_master.txt"
CRM = SHARED_DATA / "crm-sales-opportunities" / "sales_pipeline.csv"

REAL = {
    "superstore": (SUPERSTORE, {
        "order_id": "Order ID", "order_date": "Order Date", "customer_id": "Customer ID", "revenue": "Sales",
        "quantity": "Quantity", "region": "Region", "segment": "Segment", "category": "Category",
        "product": "Product Name", "profit": "Profit", "discount": "Discount"}, "Sample - Superstore", "2017Q4"),
    "online-retail": (ONLINE_RETAIL, {
        "order_id": "InvoiceNo", "order_date": "InvoiceDate", "customer_id": "CustomerID", "quantity": "Quantity",
        "unit_price": "UnitPrice", "region": "Country", "product": "Description"}, "Online Retail", "2011Q3"),
    "online-retail-ii": (ONLINE_RETAIL_II, {
        "order_id": "Invoice", "order_date": "InvoiceDate", "customer_id": "Customer ID", "quantity": "Quantity",
        "unit_price": "Price", "region": "Country", "product": "Description"},
        "Online Retail II Year 2009-2010", "2010Q3"),
    "cdnow": (CDNOW, {
        "order_id": ["customer_id", "date"], "order_date": "date", "customer_id": "customer_id",
        "revenue": "dollar_value", "quantity": "number_of_cds"}, "CDNOW Master", "1998Q2"),
    # a stage column: pipeline params (SPEC 10)
    "crm": (CRM, {
        "deal_id": "opportunity_id", "stage": "deal_stage", "created_date": "engage_date", "close_date": "close_date",
        "value": "close_value", "sales_rep": "sales_agent", "account": "account", "product": "product"},
        "Sales Pipeline", "2017Q4"),
}


def _need(path: Path):
    if not path.exists():
        pytest.skip(f"{path} is missing (the repository expects ../shared/data beside it; see its README)")


def _init(datafile: Path, out: Path, capsys=None) -> dict:
    assert main(["init", str(datafile), "-o", str(out)]) == 0
    return yaml.safe_load(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", sorted(REAL))
def test_init_on_the_real_data_sets(key, tmp_path):
    path, columns, title, period = REAL[key]
    _need(path)
    params = _init(path, tmp_path / "params" / "x.yaml")
    assert params["columns"] == columns
    assert params["title"] == title
    # outside the project (tmp_path): an absolute path, not ../../..
    assert params["source"] == str(path.resolve())
    assert params["period"] == period
    # no currency column in any of them: left for the user, with a comment that says so
    assert "currency" not in params
    text = (tmp_path / "params" / "x.yaml").read_text(encoding="utf-8")
    assert "# currency: USD          # NOT GUESSED (the data has no currency column)" in text
    assert set(params) <= set(VALID_KEYS)


def _with_currency(path: Path, code: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [f"currency: {code}" if ln.startswith("# currency:") else ln for ln in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_init_superstore_runs_without_edits_beyond_currency(tmp_path):
    _need(SUPERSTORE)
    import pandas as pd
    from salesnb.findings import build_findings
    out = tmp_path / "params" / "superstore.yaml"
    _init(SUPERSTORE, out)
    _with_currency(out, "USD")
    assert main(["validate", str(out)]) == 0
    findings = build_findings(load_config(out))
    assert findings["period"]["label"] == "2017Q4"
    # independently: the Sales of the order lines dated October to December 2017
    raw = pd.read_csv(SUPERSTORE, encoding="cp1252")
    dates = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y")
    expected = math.fsum(raw.loc[(dates >= "2017-10-01") & (dates < "2018-01-01"), "Sales"])
    assert findings["revenue"]["total"] == pytest.approx(expected, abs=0.005)
    # Ship Mode is not a channel: no channel breakdown, no channel finding
    assert "channel" not in findings["revenue"]["dimensions"]
    assert findings["title"] == "Sample - Superstore"


@pytest.mark.slow
def test_init_online_retail_runs_without_edits_beyond_currency(tmp_path):
    _need(ONLINE_RETAIL)
    import pandas as pd
    from salesnb.findings import build_findings
    out = tmp_path / "params" / "online.yaml"
    _init(ONLINE_RETAIL, out)
    _with_currency(out, "GBP")
    assert main(["validate", str(out)]) == 0
    findings = build_findings(load_config(out), sections=("revenue",))
    assert findings["period"]["label"] == "2011Q3" and findings["currency"] == "GBP"
    # the top products are descriptions (text a reader recognises), and the top one is the
    # Description with the highest Quantity × UnitPrice in 2011Q3, computed here independently
    raw = pd.read_parquet(ONLINE_RETAIL, columns=["Description", "Quantity", "UnitPrice", "InvoiceDate"])
    when = pd.to_datetime(raw["InvoiceDate"])
    q3 = raw[(when >= "2011-07-01") & (when < "2011-10-01")]
    by = (q3["Quantity"] * q3["UnitPrice"]).groupby(q3["Description"].str.strip()).sum()
    top = findings["revenue"]["by_dimension"]["product"][0]
    assert top["value"] == by.idxmax()
    assert top["revenue"] == pytest.approx(by.max(), rel=1e-9)
    assert " " in top["value"] and not top["value"].isdigit()


# --------------------------------------------------------------------------- single guesses

def test_channel_only_from_channel_like_names():
    names = ["Order ID", "Order Date", "Sales", "Ship Mode", "Lead Source", "Source"]
    assert "channel" not in guess_columns(names)
    assert guess_columns(names + ["Sales Channel"])["channel"] == "Sales Channel"


def test_a_description_is_preferred_to_a_code_beside_it():
    assert guess_columns(["StockCode", "Description"])["product"] == "Description"
    assert guess_columns(["Product ID", "Product Name"])["product"] == "Product Name"
    assert guess_columns(["SKU", "Sales"])["product"] == "SKU"   # a code when it is all there is


@pytest.mark.parametrize("first, last, partial, expected", [
    ("2014-01-03", "2017-12-30", [], "2017Q4"),                    # Superstore: December 97% covered
    ("2010-12-01", "2011-12-09", ["2011-12"], "2011Q3"),           # December partial: Q4 is not complete
    ("2024-01-01", "2024-05-31", [], "2024Q1"),                    # Q2 lacks June
    ("2024-02-01", "2024-06-30", [], "2024Q2"),
    ("2024-02-10", "2024-06-30", ["2024-02"], "2024Q2"),           # Q1 lacks January and most of February
    ("2024-04-01", "2024-06-30", [], "2024Q2"),
    ("2024-04-01", "2024-08-15", ["2024-08"], "2024Q2"),
    ("2024-05-01", "2024-08-31", [], None),
])
def test_last_complete_quarter(first, last, partial, expected):
    assert last_complete_quarter(dt.date.fromisoformat(first), dt.date.fromisoformat(last), partial) == expected


def test_currency_from_a_currency_column(tmp_path):
    (tmp_path / "s.csv").write_text("Order ID,Order Date,Amount,Currency\n1,2024-01-01,10,eur\n"
                                    "2,2024-02-05,12,EUR\n3,2024-03-31,3,USD\n", encoding="utf-8")
    params = _init(tmp_path / "s.csv", tmp_path / "params" / "s.yaml")
    assert params["currency"] == "EUR"
    assert params["period"] == "2024Q1"
    # inside the project (the params folder's parent): relative to the params file
    assert params["source"] == "../s.csv"


def test_readable_titles():
    assert suggested_title(Path("sales_pipeline.csv")) == "Sales Pipeline"
    assert suggested_title(Path("Sample - Superstore.csv")) == "Sample - Superstore"
    assert suggested_title(Path("data/2024/*.csv")) == "2024"
    assert suggested_title(Path("acme-orders.csv.gz")) == "Acme-orders"


# --------------------------------------------------------------------------- injection (issue 22 item 8)

INJECTED = "x\nperiod: 1999Q1\ntitle: injected"


def test_a_column_name_cannot_add_keys(tmp_path):
    import pandas as pd
    product = "product\n:\nperiod: 1999Q1"       # normalises to "product1999q1": not guessed
    desc = "Description\ntitle: injected"         # "descriptiontitleinjected": not guessed
    item = "item\n"                               # "item": guessed as the product, newline and all
    frame = pd.DataFrame({"Order ID": ["1", "2"], "Order Date": pd.to_datetime(["2024-01-01", "2024-03-31"]),
                          "Sales": [10.0, 20.0], INJECTED: ["a", "b"], product: ["p", "q"], desc: ["d", "e"],
                          item: ["i", "j"]})
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    out = tmp_path / "params" / "f.yaml"
    params = _init(tmp_path / "f.parquet", out)
    assert params["period"] == "2024Q1" and params["title"] == "F"
    assert params["columns"] == {"order_id": "Order ID", "order_date": "Order Date", "revenue": "Sales",
                                 "product": item}
    config = load_config(out)
    assert config.period == "2024Q1" and config.columns["product"] == "item\n"
    assert main(["validate", str(out)]) == 0
    # every comment stays on its line: the file has exactly the lines the writer made
    text = out.read_text(encoding="utf-8")
    assert "x\\nperiod: 1999Q1\\ntitle: injected" in text
    assert not any(line.startswith(("period: 1999", "title: injected")) for line in text.splitlines())


_names = st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=8, unique=True)
_aliases = st.sampled_from(["Order ID", "InvoiceDate", "Sales", "Customer ID", "Description", "Country",
                            "Sales Channel", "Quantity", "Price"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=_names, extra=st.lists(_aliases, unique=True, max_size=5),
       file_name=st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s and "\x00" not in s))
def test_any_column_names_give_params_that_load_with_exactly_those_columns(names, extra, file_name):
    names = list(dict.fromkeys(names + extra))
    text = params_text(Path("/data") / file_name, Path("/project/params/p.yaml"), names, probe=False)
    params = yaml.safe_load(text)
    assert set(params) <= set(VALID_KEYS)
    assert "period" not in params and "currency" not in params      # not probed: both left as comments
    guessed = guess_columns(names)
    expected = dict(guessed)
    if "order_id" not in guessed and {"customer_id", "order_date"} <= set(guessed):
        expected["order_id"] = [guessed["customer_id"], guessed["order_date"]]
    assert (params["columns"] or {}) == {r: expected[r] for r in CANONICAL_COLUMNS if r in expected}
    assert all(v in names for v in guessed.values())
    assert params["source"] == str(Path("/data") / file_name)
    # one line per role under columns:, guessed or commented out
    lines = text.splitlines()
    start = lines.index("columns:")
    assert all(lines[start + 1 + i].startswith((f"  {r}:", f"  # {r}:")) for i, r in enumerate(CANONICAL_COLUMNS))


@given(st.text(max_size=40))
def test_yaml_scalar_reads_back_exactly(value):
    scalar = yaml_scalar(value)
    assert "\n" not in scalar
    assert yaml.safe_load(f"k: {scalar}\n") == {"k": value}


@given(st.text(max_size=40))
def test_comment_text_is_one_printable_line(value):
    text = comment_text(value)
    assert text.isprintable()
    assert yaml.safe_load(f"a: 1 # {text}\nb: 2\n") == {"a": 1, "b": 2}
