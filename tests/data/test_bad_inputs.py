"""The bad-input corpus (tests/bad_inputs/cases.yaml) in-process, through ``salesnb.cli.main``:
the same expectations as test_cli_loading.py, with a readable failure when one breaks, and the
library-level errors behind them (every user error is a SalesnbError subclass)."""
from __future__ import annotations

import pytest
import yaml

from salesnb import cli
from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.errors import ColumnError, ConfigError, DataError, NoDataError, SalesnbError
from support.paths import TESTS

CASES = yaml.safe_load((TESTS / "bad_inputs" / "cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_in_process(bad_inputs, case, capsys):
    folder, _ = bad_inputs
    code = cli.main(["validate", str(folder / f"{case['id']}.yaml")])
    out, err = capsys.readouterr()
    assert code == case["exit"], err or out
    assert "Traceback" not in err and len(err) < 2000, err[:3000]   # one message, never a value printed whole
    for fragment in case.get("stderr" if code else "stdout", []):
        assert " ".join(fragment.split()) in " ".join((err if code else out).split()), (fragment, err or out)


@pytest.mark.parametrize("case_id, error", [
    ("missing_file", DataError), ("header_only", NoDataError), ("misspelt_column", ColumnError),
    ("wrong_delimiter", ColumnError), ("dates_unparseable", NoDataError), ("dates_ambiguous", DataError),
    ("unknown_key", ConfigError), ("unsafe_name", ConfigError), ("yaml_error", ConfigError),
    ("query_syntax_error", DataError), ("revenue_unreadable", NoDataError), ("latin1_as_utf8", DataError),
])
def test_error_classes(bad_inputs, case_id, error):
    folder, _ = bad_inputs
    with pytest.raises(error) as exc:
        load_data(load_config(folder / f"{case_id}.yaml"))
    assert isinstance(exc.value, SalesnbError) and exc.value.exit_code == 1
    assert exc.value.hint, "every user error says what to do"


def test_column_error_carries_the_column_and_role(bad_inputs):
    folder, _ = bad_inputs
    with pytest.raises(ColumnError) as exc:
        load_data(load_config(folder / "misspelt_column.yaml"))
    assert exc.value.context == {"column": "Date", "role": "order_date", "missing": ["Date", "amont"]}


def test_a_failed_load_leaves_no_temp_folder(bad_inputs, monkeypatch, tmp_path):
    folder, _ = bad_inputs
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for case_id in ("latin1_as_utf8", "revenue_unreadable", "query_syntax_error", "misspelt_column"):
        with pytest.raises(SalesnbError):
            load_data(load_config(folder / f"{case_id}.yaml"))
    assert list(tmp_path.iterdir()) == []
