"""The optional roles ``profit``, ``cost`` and ``discount`` (SPEC 9.1): read as numbers like the
other number roles, named in the params' role list, and guessed by ``salesnb init`` where a data
file has them (Superstore's ``Profit`` and ``Discount``), never where it has not."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from salesnb.config import CANONICAL_COLUMNS, NUMBER_ROLES, PROFIT_ROLES, config_from_dict
from salesnb.errors import ConfigError
from salesnb.guess import guess_columns, params_text, read_column_names
from support.paths import SHARED_DATA

COLUMNS = {"order_id": "order", "order_date": "date", "revenue": "amount", "profit": "prof", "cost": "cogs",
           "discount": "disc"}


def test_roles_are_number_roles_in_the_role_list():
    assert set(PROFIT_ROLES) == {"profit", "cost", "discount"}
    assert set(PROFIT_ROLES) <= set(NUMBER_ROLES) and set(PROFIT_ROLES) <= set(CANONICAL_COLUMNS)
    with pytest.raises(ConfigError) as err:
        config_from_dict({"name": "t", "source": "x.csv", "columns": {**COLUMNS, "proft": "p"}})
    assert "Did you mean 'profit'?" in err.value.message and "profit, cost, discount" in err.value.hint
    # a number role is not a filter role
    with pytest.raises(ConfigError, match="not one"):
        config_from_dict({"name": "t", "source": "x.csv", "columns": COLUMNS,
                          "filters": {"exclude": {"profit": ["1"]}}})


def test_has_profit():
    base = {k: v for k, v in COLUMNS.items() if k not in PROFIT_ROLES}
    assert not config_from_dict({"name": "t", "source": "x.csv", "columns": base}).has_profit
    assert not config_from_dict({"name": "t", "source": "x.csv", "columns": {**base, "discount": "d"}}).has_profit
    assert config_from_dict({"name": "t", "source": "x.csv", "columns": {**base, "cost": "c"}}).has_profit
    assert config_from_dict({"name": "t", "source": "x.csv", "columns": {**base, "profit": "p"}}).has_profit


@pytest.mark.parametrize("decimal", [".", ","])
def test_values_read_like_revenue(load, decimal):
    """Currency marks, thousands separators, (parentheses) and trailing minus read as the revenue
    column's do; a value that does not read is missing (the row stays: its revenue reads)."""
    rows = [("$1,234.50", "(12.25)", "1,000", "0.2"), ("7", "3-", "abc", "20%"), ("10", "", "2", "")]
    if decimal == ",":
        rows = [tuple(v.replace(",", "_").replace(".", ",").replace("_", ".") for v in r) for r in rows]
    text = "order;date;amount;prof;cogs;disc\n" + "".join(
        f"{i};2024-01-0{i};{a};{p};{c};{d}\n" for i, (a, p, c, d) in enumerate(rows, start=1))
    ds = load(text, columns=COLUMNS, decimal=decimal, delimiter=";")
    got = ds.table.order_by("order_id").select("revenue", "profit", "cost", "discount").to_pandas()
    assert ds.quality.rows_used == 3 and not ds.quality.rows_dropped
    assert got["revenue"].tolist() == [1234.5, 7.0, 10.0]
    assert got["profit"].tolist() == [-12.25, -3.0, pytest.approx(float("nan"), nan_ok=True)]
    assert got["cost"].iloc[0] == 1000.0 and got["cost"].isna().iloc[1] and got["cost"].iloc[2] == 2.0
    assert got["discount"].iloc[0] == 0.2 and got["discount"].isna().iloc[1:].all()


def test_unmapped_roles_are_not_in_the_table(load):
    ds = load("order,date,amount,Profit\n1,2024-01-01,10,2\n",
              columns={"order_id": "order", "order_date": "date", "revenue": "amount"})
    assert not set(PROFIT_ROLES) & set(ds.table.columns)


def test_guess_names():
    assert guess_columns(["Order ID", "Order Date", "Sales", "Profit", "Discount"]) == {
        "order_id": "Order ID", "order_date": "Order Date", "revenue": "Sales", "profit": "Profit",
        "discount": "Discount"}
    assert guess_columns(["order", "date", "amount", "COGS"])["cost"] == "COGS"
    assert guess_columns(["order", "date", "amount", "Cost of Goods Sold"])["cost"] == "Cost of Goods Sold"
    # a per-unit cost or a margin percentage is not a line's amount
    assert not set(PROFIT_ROLES) & set(guess_columns(["order", "date", "amount", "Unit Cost", "Margin"]))


def _written_columns(data: Path, tmp_path) -> dict:
    text = params_text(data, tmp_path / "params" / "p.yaml", read_column_names(data), probe=False)
    return yaml.safe_load(text)["columns"], text


def test_init_maps_superstore_profit_and_discount(tmp_path):
    data = SHARED_DATA / "superstore" / "Sample - Superstore.csv"
    if not data.is_file():
        pytest.skip(f"shared data not found: {data}")
    columns, text = _written_columns(data, tmp_path)
    assert (columns["profit"], columns["discount"]) == ("Profit", "Discount")
    assert "cost" not in columns and "  # cost:  (not guessed; optional:" in text
    # the written params load, with the roles
    cfg = config_from_dict({"name": "s", "source": str(data), "columns": columns})
    assert cfg.has_profit


@pytest.mark.parametrize("parts", [("online-retail", "online_retail.parquet"), ("cdnow", "CDNOW_master.txt")])
def test_init_leaves_them_out_where_there_are_none(tmp_path, parts):
    data = SHARED_DATA.joinpath(*parts)
    if not data.is_file():
        pytest.skip(f"shared data not found: {data}")
    columns, text = _written_columns(data, tmp_path)
    assert not set(PROFIT_ROLES) & set(columns)
    for role in PROFIT_ROLES:
        assert f"  # {role}:  (not guessed; optional:" in text
