"""The bad-input corpus through the real command line (a subprocess per case), plus `salesnb init`.

Every case must end with exit 1 and one clear message on stderr, or exit 0 with the caveat in
the validate report, and never with a Python traceback (SPEC 6, 7).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))


def _squeeze(text: str) -> str:
    """Runs of spaces as one: the report's column width depends on its longest label."""
    return " ".join(text.split())


def salesnb(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "salesnb.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture(scope="module")
def results(bad_inputs):
    """Run every case once, in parallel (each run is a fresh interpreter)."""
    folder, cases = bad_inputs

    def run(case):
        return case["id"], salesnb("validate", folder / f"{case['id']}.yaml", cwd=folder)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, cases))


def test_every_params_file_in_the_corpus_has_a_case():
    ids = {c["id"] for c in CASES}
    files = {p.stem for p in CORPUS.glob("*.yaml")} - {"cases"}
    assert files - ids == set(), "params files without a case in cases.yaml"
    assert len(ids) == len(CASES), "duplicate case ids"


def test_the_committed_corpus_is_small():
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file() and "__pycache__" not in p.parts) < 20_000


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_through_the_cli(results, case):
    run = results[case["id"]]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == case["exit"], run.stderr or run.stdout
    if case["exit"] == 1:
        assert run.stderr.startswith("salesnb: error: "), run.stderr
        assert run.stderr.count("salesnb: error:") == 1
        assert run.stdout == ""
        for fragment in case.get("stderr", []):
            assert fragment in run.stderr, (fragment, run.stderr)
    else:
        assert "OK: the data loads" in run.stdout
        for fragment in case.get("stdout", []):
            assert _squeeze(fragment) in _squeeze(run.stdout), (fragment, run.stdout)


def test_validate_json(bad_inputs):
    folder, _ = bad_inputs
    run = salesnb("validate", "--json", folder / "dates_two_formats.yaml")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["rows_read"] == 4 and data["rows_used"] == 3
    assert data["rows_dropped"] == {"unparseable date": 1}
    assert data["examples"] == {"unparseable date": ["01/15/2024"]}


def test_usage_errors_exit_2():
    assert salesnb().returncode == 2
    assert salesnb("validate").returncode == 2
    assert salesnb("frobnicate", "x").returncode == 2


# --------------------------------------------------------------------------- salesnb init

def test_init_writes_a_params_file_that_validates(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "Sales 2024.csv").write_text(
        "Invoice,InvoiceDate,Customer ID,Quantity,Price,Country\n"
        "1,2024-01-05,17850,2,3.5,UK\n2,2024-01-20,,1,10,France\n", encoding="utf-8")
    out = tmp_path / "params" / "sales.yaml"
    run = salesnb("init", tmp_path / "data" / "Sales 2024.csv", "-o", out)
    assert run.returncode == 0, run.stderr
    params = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert params["name"] == "sales-2024"
    assert params["columns"] == {"order_id": "Invoice", "order_date": "InvoiceDate", "customer_id": "Customer ID",
                                 "quantity": "Quantity", "unit_price": "Price", "region": "Country"}
    assert params["source"] == "../data/Sales 2024.csv"  # relative to the params file
    run = salesnb("validate", out)
    assert run.returncode == 0, run.stderr
    assert "$17.00" in run.stdout
    again = salesnb("init", tmp_path / "data" / "Sales 2024.csv", "-o", out)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert salesnb("init", tmp_path / "data" / "Sales 2024.csv", "-o", out, "--force").returncode == 0


def test_init_on_bad_files(tmp_path, bad_inputs):
    folder, _ = bad_inputs
    for name, fragment in [("nope.csv", "does not exist"), ("garbage.csv", "not text"), ("empty.csv", "is empty")]:
        run = salesnb("init", folder / name, "-o", tmp_path / "p.yaml")
        assert run.returncode == 1, run.stderr
        assert fragment in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "p.yaml").exists()


def test_init_leaves_todo_notes_when_roles_are_not_guessed(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n")
    run = salesnb("init", tmp_path / "x.csv", "-o", tmp_path / "x.yaml")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "x.yaml").read_text()
    assert "TODO" in text and "order_id" in text
    run = salesnb("validate", tmp_path / "x.yaml")
    assert run.returncode == 1 and "columns.order_id is missing" in run.stderr


def test_init_on_a_purchase_log_without_order_ids(tmp_path):
    """CDNOW-like data (customer, date, amount): the order id becomes customer × day."""
    (tmp_path / "log.csv").write_text("customer_id,date,dollar_value\n00001,19970101,11.77\n"
                                      "00001,19970101,5.00\n00002,19970112,12.00\n00001,19970302,3.50\n")
    run = salesnb("init", tmp_path / "log.csv", "-o", tmp_path / "log.yaml")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "log.yaml").read_text()
    assert "TODO" not in text and "one customer's purchases on one day" in text
    params = yaml.safe_load(text)
    assert params["columns"]["order_id"] == ["customer_id", "date"]
    params["date_format"] = "%Y%m%d"
    (tmp_path / "log.yaml").write_text(yaml.safe_dump(params))
    run = salesnb("validate", tmp_path / "log.yaml")
    assert run.returncode == 0, run.stderr
    from salesnb.config import load_config
    from salesnb.data import load_data
    with load_data(load_config(tmp_path / "log.yaml")) as ds:
        assert ds.sql("SELECT count(DISTINCT order_id) AS n FROM sales")["n"].iloc[0] == 3


@pytest.mark.parametrize("path, name", [
    ("Sample - Superstore.csv", "sample-superstore"), ("sales.csv.gz", "sales"), ("data/2024/*.csv", "2024"),
    ("Online_Retail_II.xlsx", "online_retail_ii"), ("---.csv", "sales"), ("Ventes été.csv", "ventes-ete"),
])
def test_init_suggests_a_valid_name(path, name):
    from salesnb.config import _NAME
    from salesnb.guess import suggested_name
    assert suggested_name(Path(path)) == name
    assert _NAME.match(name)
