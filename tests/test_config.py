"""The params file (SPEC 2.1): every problem is a ConfigError that names the key and says what to do."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from salesnb.config import VALID_KEYS, config_from_dict, load_config
from salesnb.errors import ConfigError, SalesnbError
from support.paths import ROOT

TEMPLATE = ROOT / "params" / "template.yaml"
BASE = {"name": "acme", "source": "sales.csv",
        "columns": {"order_id": "Invoice", "order_date": "Date", "revenue": "Sales"}}


def _cfg(**changes):
    data = {**BASE, **changes}
    return config_from_dict({k: v for k, v in data.items() if v is not ...}, base_dir="/data", params_path="p.yaml")


def _error(**changes) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        _cfg(**changes)
    return err.value


def test_a_valid_params_mapping():
    cfg = _cfg(currency="eur", period="2024Q3", targets={"revenue": {"2024Q3": 250000, "2024-10": "1e6"}})
    assert cfg.name == "acme" and cfg.currency == "EUR" and cfg.period == "2024Q3"
    assert cfg.source == "/data/sales.csv"
    assert cfg.targets == {"revenue": {"2024Q3": 250000.0, "2024-10": 1e6}}
    assert cfg.target_for("2024Q3") == 250000.0 and cfg.target_for("2023Q1") is None
    assert cfg.has("revenue") and not cfg.has("customer_id")


def test_unknown_key_names_it_and_lists_the_valid_ones():
    err = _error(colums={"order_id": "x"})
    assert "'colums'" in err.message and "Did you mean 'columns'" in err.message
    assert all(key in err.hint for key in VALID_KEYS)
    assert "p.yaml" in err.message


def test_unknown_column_role():
    err = _error(columns={**BASE["columns"], "client": "Customer"})
    assert "'client'" in err.message and "customer_id" in err.hint


@pytest.mark.parametrize("changes, fragment", [
    ({"source": 5}, "'source'"),
    ({"columns": ["Invoice", "Date"]}, "'columns'"),
    ({"columns": {**BASE["columns"], "region": ["A", "B"]}}, "columns.region"),
    ({"dedupe": "yes please"}, "dedupe"),
    ({"fiscal_year_start": 13}, "fiscal_year_start"),
    ({"fiscal_year_start": "4"}, "fiscal_year_start"),
    ({"fiscal_year_start": True}, "fiscal_year_start"),
    ({"rfm_lookback_months": 0}, "rfm_lookback_months"),
    ({"rfm_lookback_months": 1.5}, "rfm_lookback_months"),
    ({"targets": [1, 2]}, "targets"),
    ({"targets": {"revenue": {"2024Q3": "lots"}}}, "targets.revenue.2024Q3"),
    ({"targets": {"revenue": {"2024Q9": 1}}}, "targets.revenue"),
    ({"decimal": ";"}, "decimal"),
    ({"currency": "dollars"}, "currency"),
    ({"date_format": "european"}, "date_format"),
    ({"encoding": "klingon-8"}, "encoding"),
    ({"delimiter": ";;"}, "delimiter"),
    ({"delimiter": 5}, "delimiter"),
    ({"sheet": -1}, "sheet"),
    ({"sheet": [1]}, "sheet"),
    ({"memory_limit": "lots"}, "memory_limit"),
    ({"engine": "oracle"}, "engine"),
    ({"filters": {"keep": {"region": ["A"]}}}, "filters"),
    ({"filters": {"exclude": {"revenue": [0]}}}, "filters.exclude.revenue"),
    ({"filters": {"exclude": {"order_id": [None]}}}, "filters.exclude.order_id"),
    ({"title": ["a"]}, "title"),
    ({"source": ...}, "Neither 'source' nor 'query'"),
    ({"source": "  "}, "'source'"),
    ({"query": "SELECT 1"}, "Both 'source' and 'query'"),
])
def test_wrong_types_and_values_name_the_key(changes, fragment):
    err = _error(**changes)
    assert fragment in err.message
    assert isinstance(err, SalesnbError) and err.exit_code == 1


@pytest.mark.parametrize("name", ["../x", "a b", "a/b", "x.y", "", "é", "a;rm -rf"])
def test_unsafe_name_is_an_error_never_rewritten(name):
    err = _error(name=name)
    assert "'name'" in err.message and "letters, digits" in err.message


def test_missing_name():
    assert "'name'" in _error(name=...).message


@pytest.mark.parametrize("name", ["acme", "ACME_2024", "a-b", "123"])
def test_safe_names(name):
    assert _cfg(name=name).name == name


@pytest.mark.parametrize("period", ["2024Q5", "2024-13", "soon", "2024Q3..2023Q1"])
def test_bad_period(period):
    err = _error(period=period)
    assert "period" in err.message and period.split("..")[0] in err.message
    assert "2024Q3" in err.hint


@pytest.mark.parametrize("period", ["2024Q3", "2024-07", "2024", "2023Q3..2024Q3", "all"])
def test_good_periods(period):
    assert _cfg(period=period).period == period


@pytest.mark.parametrize("columns, fragment", [
    ({"order_date": "Date", "revenue": "Sales"}, "columns.order_id"),
    ({"order_id": "Invoice", "revenue": "Sales"}, "columns.order_date"),
    ({"order_id": "Invoice", "order_date": "Date"}, "'revenue', or both 'quantity' and 'unit_price'"),
    ({"order_id": "Invoice", "order_date": "Date", "quantity": "Qty"}, "'unit_price'"),
    ({"order_id": "Invoice", "order_date": None, "revenue": "Sales"}, "columns.order_date"),
])
def test_missing_required_column_roles(columns, fragment):
    assert fragment in _error(columns=columns).message


def test_quantity_and_unit_price_stand_in_for_revenue():
    cfg = _cfg(columns={"order_id": "I", "order_date": "D", "quantity": "Q", "unit_price": "P"})
    assert cfg.has("revenue") and "revenue" not in cfg.columns


def test_delimiter_words():
    assert _cfg(delimiter="tab").delimiter == "\t"
    assert _cfg(delimiter="\\t").delimiter == "\t"
    assert _cfg(delimiter=";").delimiter == ";"
    assert _cfg(delimiter="whitespace").delimiter == "whitespace"


# --------------------------------------------------------------------------- files

def _write(tmp_path, text, name="p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as err:
        load_config(tmp_path / "nope.yaml")
    assert "salesnb init" in err.value.hint


def test_params_path_is_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_yaml_syntax_error_has_the_line_number(tmp_path):
    path = _write(tmp_path, "name: acme\nsource: sales.csv\ncolumns:\n  order_id: Invoice\n order_date: [Date\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "not valid YAML" in err.value.message and "line 5" in err.value.message
    assert str(path) in err.value.message


def test_yaml_tab_indentation_error(tmp_path):
    path = _write(tmp_path, "name: acme\ncolumns:\n\torder_id: Invoice\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_config(path)


def test_empty_and_non_mapping_params_files(tmp_path):
    with pytest.raises(ConfigError, match="is empty"):
        load_config(_write(tmp_path, "# nothing yet\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))


def test_params_file_not_utf8(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_relative_paths_resolve_against_the_params_folder(tmp_path, monkeypatch):
    (tmp_path / "params").mkdir()
    path = _write(tmp_path / "params", yaml.safe_dump({**BASE, "source": "../data/sales.csv"}))
    monkeypatch.chdir("/")
    cfg = load_config(path)
    assert cfg.source == str(tmp_path / "data" / "sales.csv")  # normalised: no '..' left
    assert cfg.base_dir == str((tmp_path / "params").resolve())
    assert cfg.params_path == str(path)


def test_absolute_source_and_globs_are_kept(tmp_path):
    cfg = load_config(_write(tmp_path, yaml.safe_dump({**BASE, "source": "/srv/x/*.csv"})))
    assert cfg.source == "/srv/x/*.csv"
    cfg = load_config(_write(tmp_path, yaml.safe_dump({**BASE, "source": "parts/*.csv.gz"})))
    assert cfg.source == str(tmp_path / "parts" / "*.csv.gz")


def test_overrides_replace_keys(tmp_path):
    cfg = load_config(_write(tmp_path, yaml.safe_dump({**BASE, "period": "2024Q3"})), period="2024Q4")
    assert cfg.period == "2024Q4"
    with pytest.raises(ConfigError, match="period"):
        load_config(_write(tmp_path, yaml.safe_dump(BASE)), period="2024Q7")


def test_to_dict_round_trips(tmp_path):
    cfg = _cfg(filters={"exclude": {"order_id": ["X"]}})
    data = cfg.to_dict()
    assert data["name"] == "acme" and "base_dir" not in data
    assert data["filters"] == {"exclude": {"order_id": ["X"]}}


def test_template_lists_every_valid_key():
    text = TEMPLATE.read_text(encoding="utf-8")
    for key in VALID_KEYS:
        assert f"\n{key}:" in text or f"\n# {key}:" in text, key


def test_template_is_a_valid_params_file(tmp_path):
    """The template parses; only its example source does not exist."""
    data = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    cfg = config_from_dict(data, base_dir=tmp_path)
    assert cfg.name and cfg.columns["order_id"]


def test_a_key_given_twice_is_an_error(tmp_path):
    path = _write(tmp_path, "name: acme\nsource: a.csv\ncolumns: {order_id: I}\nperiod: 2024Q1\n"
                            "columns: {order_id: I, order_date: D, revenue: S}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "'columns' is given twice" in err.value.message and "line 5" in err.value.message
    assert "first on line 3" in err.value.message


def test_nested_duplicate_keys_and_merge_keys(tmp_path):
    path = _write(tmp_path, "name: acme\nsource: a.csv\ncolumns:\n  order_id: I\n  order_id: J\n")
    with pytest.raises(ConfigError, match="'order_id' is given twice"):
        load_config(path)
    ok = _write(tmp_path, "base: &b {order_id: I, order_date: D}\n", name="anchors.yaml")
    assert yaml.safe_load(ok.read_text())  # anchors still parse (merge keys are not checked)


# --------------------------------------------------------------------------- composite order ids

def test_order_id_as_a_list_of_columns():
    cfg = _cfg(columns={"order_id": ["Customer", "Date"], "order_date": "Date", "revenue": "Sales"})
    assert cfg.order_id_parts == ("Customer", "Date")
    assert cfg.columns["order_id"] == "Customer + Date"
    assert cfg.source_columns() == [("order_id", "Customer"), ("order_id", "Date"), ("order_date", "Date"),
                                    ("revenue", "Sales")]
    one = _cfg(columns={"order_id": ["Invoice"], "order_date": "Date", "revenue": "Sales"})
    assert one.order_id_parts == () and one.columns["order_id"] == "Invoice"


@pytest.mark.parametrize("parts, fragment", [
    ([], "empty list"),
    (["Customer", "Customer"], "'Customer' twice"),
    (["Customer", None], "must list column names"),
    (["Customer", ["Date"]], "must list column names"),
    (["Customer", " "], "must list column names"),
])
def test_bad_order_id_lists_name_the_key(parts, fragment):
    err = _error(columns={"order_id": parts, "order_date": "Date", "revenue": "Sales"})
    assert "columns.order_id" in err.message and fragment in err.message
    assert "order_id: [" in err.hint


def test_other_roles_take_one_column_only():
    err = _error(columns={"order_id": "Invoice", "order_date": ["Date", "Time"], "revenue": "Sales"})
    assert "columns.order_date" in err.message and "one column name" in err.message


def test_no_filter_on_a_composite_order_id():
    err = _error(columns={"order_id": ["Customer", "Date"], "order_date": "Date", "revenue": "Sales"},
                 filters={"exclude": {"order_id": ["X"]}})
    assert "filters.exclude.order_id" in err.message and "Customer + Date" in err.message
    assert "query:" in err.hint
