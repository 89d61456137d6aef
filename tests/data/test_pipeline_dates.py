"""A pipeline's dates are read through the engine's dialect (salesnb.data.backends.duckdb_run.
DuckDBDialect on DuckDB), as the sales rules read order dates: the same text gives the same
timestamp in ``deals`` as in ``sales``, offsets and zoned columns are read in UTC, and a date
pattern the engine cannot read is one clear error. Expected values are parsed by pandas."""
from __future__ import annotations

import pandas as pd
import pytest

from salesnb.config import config_from_dict
from salesnb.data import load_data
from salesnb.errors import DataError

STAGES = {"won": ["Won"], "lost": ["Lost"]}


def _load(folder, frame: pd.DataFrame, kind: str, **keys):
    """The canonical table of ``frame`` (written as CSV, or Parquet with ``parquet=True``) as sales
    (order_date = ``closed``) or pipeline (close_date = ``closed``) params, as pandas."""
    parquet = keys.pop("parquet", False)
    name = "deals.parquet" if parquet else "deals.csv"
    frame.to_parquet(folder / name) if parquet else frame.to_csv(folder / name, index=False)
    if kind == "sales":
        columns = {"order_id": "id", "order_date": "closed", "customer_id": "account", "revenue": "value"}
    else:
        columns = {"deal_id": "id", "stage": "stage", "close_date": "closed", "value": "value"}
    data = {"name": "t", "source": name, "columns": columns, **keys}
    if kind == "pipeline":
        data.update(kind="pipeline", stages=STAGES)
    dataset = load_data(config_from_dict(data, base_dir=folder))
    try:
        return dataset.table.to_pandas()
    finally:
        dataset.close()


def _deals(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"d{i}" for i in range(len(texts))], "stage": "Won", "account": "a",
                         "closed": texts, "value": 1.0})


@pytest.mark.parametrize("fmt, texts", [
    ("auto", ["03/01/2017", "12/31/2017", "07/04/2017", "not a date"]),
    ("%d.%m.%Y %H:%M", ["01.03.2017 09:30", "31.12.2017 23:59", "1.2.2017 7:05", "2017-03-01"]),
    ("%Y-%m-%d %H:%M:%S%z", ["2017-03-01 09:30:00+02:00", "2017-12-31 23:59:00-0500", "2017-06-01 00:00:00+0000",
                             "2017-06-01 00:00:00"]),
])
def test_pipeline_and_sales_read_the_same_text_to_the_same_timestamps(tmp_path, fmt, texts):
    frame = _deals(texts)
    (tmp_path / "s").mkdir(), (tmp_path / "p").mkdir()
    sales = _load(tmp_path / "s", frame, "sales", date_format=fmt).set_index("order_id").order_date
    deals = _load(tmp_path / "p", frame, "pipeline", date_format=fmt).set_index("deal_id").close_date
    pattern = "%m/%d/%Y" if fmt == "auto" else fmt
    expected = pd.to_datetime(pd.Series(texts, index=frame.id), format=pattern, errors="coerce", utc=True)
    expected = expected.dt.tz_convert(None).dropna()   # offsets in UTC; an unreadable date drops the won deal
    assert len(expected) == len(texts) - 1
    pd.testing.assert_series_equal(deals.sort_index(), expected.sort_index(), check_names=False,
                                   check_index_type=False, check_dtype=False)
    pd.testing.assert_series_equal(sales.sort_index(), deals.sort_index(), check_names=False, check_dtype=False)


def test_a_zoned_timestamp_column_is_read_in_utc(tmp_path):
    moments = pd.to_datetime(["2017-03-01 01:30", "2017-12-31 23:00"]).tz_localize("Europe/Berlin")
    frame = _deals(["x", "y"]).assign(closed=moments)
    deals = _load(tmp_path, frame, "pipeline", parquet=True).set_index("deal_id").close_date.sort_index()
    assert list(deals) == list(moments.tz_convert("UTC").tz_localize(None))


def test_a_date_pattern_the_engine_cannot_read_is_one_clear_error(tmp_path):
    with pytest.raises(DataError) as err:
        _load(tmp_path, _deals(["2017-03-01"]), "pipeline", date_format="%Y-%m-%d %Q")
    assert "date_format '%Y-%m-%d %Q'" in err.value.message and "not a valid date pattern" in err.value.message
    assert "%d/%m/%Y" in err.value.hint
