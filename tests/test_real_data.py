"""The real data sets in ../shared/data load through tests/params/ with the figures that
shared/data/README.md states (numbers found there by others, not by this code), plus every
source format of SPEC 2.1 on small files made here.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.findings import build_findings
from support.paths import PARAMS, SHARED_DATA, needs_shared_data
from support.superstore import assert_superstore_loaded




def _open(name: str):
    config = load_config(PARAMS / name)
    if config.source and not Path(config.source).exists():
        pytest.skip(f"{config.source} is missing (see shared/data/README.md)")
    return load_data(config)


def _one(dataset, sql):
    return dataset.sql(sql).iloc[0, 0]


@pytest.fixture(scope="module")
def superstore():
    with _open("superstore.yaml") as ds:
        yield ds


@pytest.fixture(scope="module")
def online_retail():
    with _open("online_retail.yaml") as ds:
        yield ds


@pytest.fixture(scope="module")
def online_retail_ii():
    with _open("online_retail_ii.yaml") as ds:
        yield ds


@pytest.fixture(scope="module")
def crm():
    with _open("crm_pipeline.yaml") as ds:
        yield ds


@pytest.fixture(scope="module")
def cdnow():
    with _open("cdnow.yaml") as ds:
        yield ds


# --------------------------------------------------------------------------- Superstore

@needs_shared_data
def test_superstore(superstore):
    q = superstore.quality
    assert_superstore_loaded(q)
    assert _one(superstore, "SELECT count(DISTINCT order_id) FROM sales") == 5009
    assert _one(superstore, "SELECT count(DISTINCT customer_id) FROM sales") == 793
    assert _one(superstore, "SELECT sum(quantity) FROM sales") == 37873
    assert q.returns["lines"] == 0 and q.partial_months == [] and q.gap_months == []
    assert q.dimensions == ["region", "segment", "category", "product"]
    assert q.duplicates["rows"] == 0  # the one near-duplicate differs in Row ID


@needs_shared_data
def test_superstore_cp1252_text_is_decoded(superstore):
    names = set(superstore.sql("SELECT DISTINCT product FROM sales")["product"])
    assert sum(1 for n in names if any(ord(ch) > 127 for ch in n)) > 0
    assert not any("\ufffd" in n for n in names)  # no replacement characters


# --------------------------------------------------------------------------- Online Retail

@needs_shared_data
def test_online_retail(online_retail):
    ds, q = online_retail, online_retail.quality
    assert (q.rows_read, q.rows_used) == (541_909, 541_909)
    assert q.revenue_total == pytest.approx(9_747_747.93, abs=0.01)
    assert q.duplicates == {"rows": 5268, "dropped": 0}
    assert (q.first_date, q.last_date) == ("2010-12-01", "2011-12-09")
    assert q.partial_months == ["2011-12"] and q.gap_months == []
    assert q.missing_customer["rows"] == 135_080
    assert _one(ds, "SELECT count(DISTINCT order_id) FROM sales") == 25_900
    assert _one(ds, "SELECT count(DISTINCT customer_id) FROM sales") == 4372
    assert _one(ds, "SELECT count(DISTINCT region) FROM sales") == 38
    assert _one(ds, "SELECT count(DISTINCT order_id) FROM sales WHERE order_id LIKE 'C%'") == 3836
    assert _one(ds, "SELECT count(*) FROM sales WHERE order_id LIKE 'C%'") == 9288
    assert _one(ds, "SELECT count(*) FROM sales WHERE unit_price < 0") == 2


@needs_shared_data
def test_online_retail_ids_are_text(online_retail):
    ds = online_retail
    assert _one(ds, "SELECT count(*) FROM sales WHERE customer_id = '17850'") > 0
    assert _one(ds, "SELECT count(*) FROM sales WHERE customer_id LIKE '%.%'") == 0
    assert _one(ds, "SELECT count(*) FROM sales WHERE order_id = 'C536379'") == 1
    assert str(ds.table.schema()["order_id"]).startswith("string")
    assert str(ds.table.schema()["customer_id"]).startswith("string")


@pytest.mark.slow
@needs_shared_data
def test_online_retail_dedupe(tmp_path):
    """A second load of the 541,909 rows (a few seconds): dedupe drops exactly the 5,268 copies."""
    text = (PARAMS / "online_retail.yaml").read_text() + "\ndedupe: true\n"
    text = text.replace("../../../shared/data", str(SHARED_DATA))
    (tmp_path / "p.yaml").write_text(text)
    with load_data(load_config(tmp_path / "p.yaml")) as ds:
        q = ds.quality
        assert q.rows_dropped == {"duplicate": 5268}
        assert q.rows_used == 541_909 - 5268


@needs_shared_data
def test_online_retail_ii(online_retail_ii):
    ds, q = online_retail_ii, online_retail_ii.quality
    assert (q.rows_read, q.rows_used) == (525_461, 525_461)
    assert q.revenue_total == pytest.approx(9_539_484.63, abs=0.01)
    assert q.duplicates["rows"] == 6865
    assert q.date_format == "%Y-%m-%d %H:%M:%S"  # InvoiceDate is text
    assert (q.first_date, q.last_date) == ("2009-12-01", "2010-12-09")
    assert q.partial_months == ["2010-12"]
    assert q.missing_customer["rows"] == 107_927
    assert _one(ds, "SELECT count(DISTINCT order_id) FROM sales") == 28_816
    assert _one(ds, "SELECT count(DISTINCT customer_id) FROM sales") == 4383
    assert _one(ds, "SELECT count(DISTINCT region) FROM sales") == 40
    assert _one(ds, "SELECT min(unit_price) FROM sales") == pytest.approx(-53_594.36)
    last = ds.sql("SELECT max(order_date) AS m FROM sales")["m"].iloc[0]
    assert str(last) == "2010-12-09 20:01:00"


# --------------------------------------------------------------------------- CRM (query: join)

@needs_shared_data
def test_crm_pipeline_query_join(crm):
    ds, q = crm, crm.quality
    assert (q.rows_read, q.rows_used) == (4238, 4238)
    assert q.revenue_total == pytest.approx(10_005_534)
    assert (q.first_date, q.last_date) == ("2017-03-01", "2017-12-31")
    assert set(ds.sql("SELECT DISTINCT region FROM sales")["region"]) == {"Central", "East", "West"}
    assert _one(ds, "SELECT count(DISTINCT sales_rep) FROM sales") == 30  # 35 agents, 5 without deals
    assert q.source == "query"


@needs_shared_data
def test_crm_region_is_the_agents_regional_office(crm):
    teams = pd.read_csv(SHARED_DATA / "crm-sales-opportunities" / "sales_teams.csv")
    office = dict(zip(teams.sales_agent, teams.regional_office))
    pairs = crm.sql("SELECT DISTINCT sales_rep, region FROM sales")
    assert all(office[rep] == region for rep, region in zip(pairs.sales_rep, pairs.region))


# --------------------------------------------------------------------------- CDNOW

@needs_shared_data
def test_cdnow_whitespace_text(cdnow):
    ds, q = cdnow, cdnow.quality
    assert (q.rows_read, q.rows_used) == (69_659, 69_659)
    assert (q.first_date, q.last_date) == ("1997-01-01", "1998-06-30")
    assert _one(ds, "SELECT count(DISTINCT customer_id) FROM sales") == 23_570
    assert _one(ds, "SELECT count(*) FROM sales WHERE customer_id = '00001'") >= 1  # zero-padded ids kept
    assert q.zero_revenue_lines == 80
    raw = pd.read_csv(SHARED_DATA / "cdnow" / "CDNOW_master.txt", sep=r"\s+")
    assert q.revenue_total == pytest.approx(raw.dollar_value.sum(), abs=1e-6)
    assert _one(ds, "SELECT sum(quantity) FROM sales") == raw.number_of_cds.sum()


@needs_shared_data
def test_cdnow_orders_are_customer_days(cdnow):
    """CDNOW has no order id; ``order_id: [customer_id, date]`` makes an order of each customer's
    purchases on one day. 1997Q4 against pandas on the raw file."""
    raw = pd.read_csv(SHARED_DATA / "cdnow" / "CDNOW_master.txt", sep=r"\s+", dtype={"customer_id": str, "date": str})
    q4 = raw[(raw.date >= "19971001") & (raw.date <= "19971231")]
    net = q4.groupby(["customer_id", "date"]).dollar_value.sum()
    positive = net[net > 0].reset_index()
    assert (len(positive), positive.customer_id.nunique()) == (7_412, 4_221)
    assert _one(cdnow, "SELECT count(DISTINCT order_id) FROM sales") == raw.groupby(["customer_id", "date"]).ngroups
    rev = build_findings(cdnow.config, "1997Q4", dataset=cdnow, sections=("revenue",)).data["revenue"]
    assert (rev["orders"], rev["customers"]) == (7_412, 4_221)
    assert rev["total"] == pytest.approx(q4.dollar_value.sum(), abs=0.005)
    assert rev["aov"] == pytest.approx(q4.dollar_value.sum() / 7_412, abs=1e-9)


# --------------------------------------------------------------------------- every source format

FRAME = pd.DataFrame({
    "order": ["A1", "A2", "A3", "A4"],
    "date": ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-28"],
    "cust": ["Zoë", "Ana", None, "Zoë"],
    "amount": [10.5, 20.25, -3.0, 1234.5],
})
TOTAL = float(FRAME.amount.sum())


def _load(make_params, data=None, **keys):
    return load_data(load_config(make_params(data, **keys)))


def _check(ds, total=TOTAL, rows=4):
    q = ds.quality
    assert q.rows_read == rows and q.rows_used == rows
    assert q.revenue_total == pytest.approx(total)
    assert (q.first_date, q.last_date) == ("2024-01-05", "2024-02-28")
    customers = set(ds.sql("SELECT DISTINCT customer_id FROM sales WHERE customer_id IS NOT NULL").customer_id)
    assert customers == {"Zoë", "Ana"}
    ds.close()


def test_xlsx(make_params, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["nothing here"])
    ws = wb.create_sheet("Orders")
    ws.append(list(FRAME.columns))
    for row in FRAME.itertuples(index=False):
        ws.append([row.order, pd.Timestamp(row.date).to_pydatetime(), row.cust, row.amount])
    wb.save(tmp_path / "s.xlsx")
    _check(_load(make_params, filename="s.xlsx", sheet="Orders"))
    _check(_load(make_params, filename="s.xlsx", sheet=1))


def test_gzip_csv(make_params):
    _check(_load(make_params, gzip.compress(FRAME.to_csv(index=False).encode()), filename="s.csv.gz"))


def test_gzip_cp1252_csv(make_params):
    data = gzip.compress(FRAME.to_csv(index=False).encode("cp1252"))
    ds = _load(make_params, data, filename="s.csv.gz")
    assert ds.quality.encoding == "cp1252"
    _check(ds)


def test_glob_of_two_csvs(make_params, tmp_path):
    (tmp_path / "part").mkdir()
    FRAME.iloc[:2].to_csv(tmp_path / "part" / "jan.csv", index=False)
    FRAME.iloc[2:].to_csv(tmp_path / "part" / "feb.csv", index=False)
    ds = _load(make_params, None, filename="part/*.csv")
    assert ds.quality.sha256  # a fingerprint over both files
    _check(ds)


def test_semicolon_decimal_comma_dayfirst_money_text(make_params):
    def euro(a):  # 1234.5 → "1.234,50 €"
        return f"{a:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") + " €"
    text = "order;date;cust;amount\n" + "".join(
        f"{o};{pd.Timestamp(d):%d.%m.%Y};{'' if pd.isna(c) else c};\"{euro(a)}\"\n"
        for o, d, c, a in FRAME.itertuples(index=False))
    assert '"1.234,50 €"' in text and "05.01.2024" in text
    ds = _load(make_params, text, decimal=",")
    assert ds.quality.date_format == "%d.%m.%Y"
    _check(ds)


def test_dayfirst_slash_dates(make_params):
    text = "order,date,cust,amount\n" + "".join(
        f"{o},{pd.Timestamp(d):%d/%m/%Y},{'' if pd.isna(c) else c},{a}\n" for o, d, c, a in FRAME.itertuples(index=False))
    ds = _load(make_params, text)
    assert ds.quality.date_format == "%d/%m/%Y"  # 20/01/2024 fits only day-first
    _check(ds)


def test_tsv(make_params):
    _check(_load(make_params, FRAME.to_csv(index=False, sep="\t"), filename="s.tsv"))


def test_pipe_delimiter_given(make_params):
    _check(_load(make_params, FRAME.to_csv(index=False, sep="|"), filename="s.txt", delimiter="|"))


def test_duckdb_file_with_table(make_params, tmp_path):
    import duckdb
    db = duckdb.connect(str(tmp_path / "s.duckdb"))
    db.register("frame", FRAME.assign(date=pd.to_datetime(FRAME.date)))
    db.execute("CREATE TABLE orders AS SELECT * FROM frame")
    db.close()
    ds = _load(make_params, None, filename="s.duckdb", table="orders")
    assert ds.quality.date_format.startswith("native")
    _check(ds)


def test_parquet(make_params, tmp_path):
    FRAME.to_parquet(tmp_path / "s.parquet")
    _check(_load(make_params, None, filename="s.parquet"))


def test_cp1252_csv(make_params):
    data = FRAME.to_csv(index=False).encode("cp1252")
    assert b"Zo\xeb" in data
    ds = _load(make_params, data)
    assert ds.quality.encoding == "cp1252"
    _check(ds)


def test_utf8_bom_csv(make_params):
    data = b"\xef\xbb\xbf" + FRAME.to_csv(index=False).encode("utf-8")
    ds = _load(make_params, data)  # the BOM must not end up in the first column's name
    assert ds.quality.encoding == "utf-8"
    _check(ds)


def test_utf16_csv(make_params):
    _check(_load(make_params, FRAME.to_csv(index=False).encode("utf-16")))


def test_query_reads_files_relative_to_the_params_file(make_params, tmp_path):
    FRAME.to_csv(tmp_path / "a.csv", index=False)
    _check(_load(make_params, None, query="SELECT * FROM 'a.csv' WHERE amount IS NOT NULL"))


def test_source_file_is_not_changed(make_params, tmp_path):
    data = FRAME.to_csv(index=False).encode("cp1252")
    _check(_load(make_params, data))
    assert (tmp_path / "sales.csv").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml", "sales.csv"]
