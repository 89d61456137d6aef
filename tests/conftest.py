"""Shared fixtures. Keep this small: fixtures used by more than one test file only. Plain helpers
and constants (paths, hand-made data) are in tests/support/, which test modules import."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.paths import FIXTURES, SHARED_DATA, TESTS, require_shared_data

#: the column mapping of the small hand-made CSVs (header ``order,date,cust,amount``)
DEFAULT_COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount"}


@pytest.fixture
def make_params(tmp_path):
    """Write a data file and a params file beside it; return the params file's path.

    ``make_params("order,date,cust,amount\\n1,2024-01-05,a,10\\n", decimal=",")``: ``data`` is
    text (written in ``encoding``) or bytes; extra keyword arguments become params keys.
    """
    def make(data=None, *, filename="sales.csv", encoding="utf-8", columns=None, params_name="params.yaml",
             **keys) -> Path:
        if data is not None:
            target = tmp_path / filename
            target.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        params = {"name": "t", "columns": DEFAULT_COLUMNS if columns is None else columns}
        if "query" not in keys:
            params["source"] = filename
        params.update(keys)
        path = tmp_path / params_name
        path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path
    return make


@pytest.fixture
def load(make_params):
    """``load(data, **keys)`` → a loaded :class:`salesnb.Dataset` (closed after the test)."""
    from salesnb.config import load_config
    from salesnb.data import load_data
    opened = []

    def _load(data=None, **keys):
        dataset = load_data(load_config(make_params(data, **keys)))
        opened.append(dataset)
        return dataset
    yield _load
    for dataset in opened:
        dataset.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of the full real data sets (../shared/data); skips the test when it is absent."""
    return require_shared_data()


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server (tests/support/postgres.py) with an empty database ``salesnb``;
    skips the test, with the reason, when the server binaries or psycopg are missing."""
    from support.postgres import running_server
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """(folder, cases): a prepared copy of the bad-input corpus in tests/bad_inputs/ and its cases."""
    from support import corpus
    return corpus.prepare(tmp_path_factory.mktemp("bad_inputs")), corpus.cases()


# --------------------------------------------------------------------------- raw data is read-only

def _input_files():
    files = []
    for folder in (SHARED_DATA, FIXTURES, TESTS / "params", TESTS / "bad_inputs"):
        if folder.is_dir():
            files += [p for p in sorted(folder.rglob("*")) if p.is_file()]
    return files


def _digest(path):
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session", autouse=True)
def inputs_never_change():
    """Checksums every input file (../shared/data, tests/fixtures, tests/params, tests/bad_inputs) before the
    session and after it: nothing the kit does may change an input."""
    before = {p: _digest(p) for p in _input_files()}
    yield
    changed = [str(p) for p, d in before.items() if not p.exists() or _digest(p) != d]
    assert not changed, f"input files changed during the tests: {changed}"


# --------------------------------------------------------------------------- the fast set

def pytest_collection_modifyitems(items):
    """A test that needs an outside program (Spark, PostgreSQL, Chromium) is slow too: `make test`
    (``-m "not slow"``) leaves it out and `make test-all` runs it."""
    for item in items:
        if any(item.get_closest_marker(name) for name in ("spark", "postgres", "browser")):
            item.add_marker(pytest.mark.slow)
