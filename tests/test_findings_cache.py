"""Findings built for the sections a notebook shows, and the on-disk cache (issue 21 part 4).

The cache may save time only: a read must give exactly the findings a fresh build gives, and a
changed source or params file must never be answered from it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import yaml

import salesnb.data
import salesnb.findings as fnd
from salesnb.config import load_config
from salesnb.errors import SalesnbError

CSV = ("order,date,cust,amount,region\n"
       "1,2024-01-03,a,100.50,West\n2,2024-01-20,b,20,East\n3,2024-02-11,a,35.25,West\n"
       "4,2024-03-30,c,10,East\n5,2024-04-02,b,99,West\n6,2024-05-15,c,12.5,East\n7,2024-06-29,a,40,West\n")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SALESNB_CACHE", str(folder))
    return folder


@pytest.fixture
def loads(monkeypatch):
    """Count the data loads (a cache hit loads nothing)."""
    calls = []
    real = salesnb.data.load_data

    def counting(config):
        calls.append(config.source)
        return real(config)
    monkeypatch.setattr(salesnb.data, "load_data", counting)
    return calls


def _params(tmp_path, csv=CSV, **keys) -> Path:
    (tmp_path / "sales.csv").write_text(csv, encoding="utf-8")
    params = {"name": "t", "source": "sales.csv", "period": "2024Q2",
              "columns": {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount",
                          "region": "region"}} | keys
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def _total(csv: str, start: str, end: str) -> float:
    rows = [line.split(",") for line in csv.strip().splitlines()[1:]]
    return math.fsum(float(r[3]) for r in rows if start <= r[1] < end)


def test_notebooks_in_turn_build_once(tmp_path, cache, loads):
    """revenue.ipynb, customers.ipynb, recommendations.ipynb, then all three again: two loads in
    all (revenue alone, then revenue + customers); the recommendations come from the cached
    findings, and every read equals a fresh build byte for byte."""
    params = _params(tmp_path)
    rev = fnd.notebook_findings(params, sections=("revenue",))
    assert "customers" not in rev.data and "recommendations" not in rev.data
    cust = fnd.notebook_findings(params, sections=("revenue", "customers"))
    full = fnd.notebook_findings(params)
    assert len(loads) == 2
    again = [fnd.notebook_findings(params, sections=s) for s in (("revenue",), ("revenue", "customers"), fnd.SECTIONS)]
    assert len(loads) == 2
    fresh = fnd.build_findings(load_config(params))
    assert len(loads) == 3
    assert fnd.dumps(full.data) == fnd.dumps(fresh.data)
    assert all(fnd.dumps(a.data) == fnd.dumps(fresh.data) for a in again)
    assert rev["revenue"] == fresh["revenue"] and cust["customers"] == fresh["customers"]
    assert rev["revenue"]["total"] == pytest.approx(_total(CSV, "2024-04-01", "2024-07-01"), abs=1e-9)
    assert set(fresh.tables) == set(again[0].tables)
    # one entry, written atomically: no temporary folder is left beside it
    assert [p.name for p in cache.iterdir()] == [fnd.cache_key(load_config(params), None)]


def test_a_changed_source_is_never_read_from_the_cache(tmp_path, cache, loads):
    params = _params(tmp_path)
    first = fnd.notebook_findings(params, sections=("revenue",))
    changed = CSV.replace("7,2024-06-29,a,40,", "7,2024-06-29,a,41,")   # same size, one digit
    (tmp_path / "sales.csv").write_text(changed, encoding="utf-8")
    stat = (tmp_path / "sales.csv").stat()
    os.utime(tmp_path / "sales.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime too
    second = fnd.notebook_findings(params, sections=("revenue",))
    assert len(loads) == 2
    assert first["revenue"]["total"] == pytest.approx(_total(CSV, "2024-04-01", "2024-07-01"), abs=1e-9)
    assert second["revenue"]["total"] == pytest.approx(_total(changed, "2024-04-01", "2024-07-01"), abs=1e-9)
    assert second["revenue"]["total"] - first["revenue"]["total"] == pytest.approx(1.0)


def test_changed_params_or_period_are_never_read_from_the_cache(tmp_path, cache, loads):
    params = _params(tmp_path)
    base = fnd.notebook_findings(params, sections=("revenue",))
    # the same content written again: the same entry (the key is the params' content, not the file)
    params.write_text(params.read_text(encoding="utf-8"), encoding="utf-8")
    assert fnd.notebook_findings(params, sections=("revenue",))["revenue"] == base["revenue"]
    assert len(loads) == 1
    _params(tmp_path, filters={"include": {"region": ["West"]}})
    west = fnd.notebook_findings(params, sections=("revenue",))
    assert len(loads) == 2
    expected = math.fsum([99.0, 40.0])
    assert west["revenue"]["total"] == pytest.approx(expected) and base["revenue"]["total"] != west["revenue"]["total"]
    q1 = fnd.notebook_findings(params, "2024Q1", sections=("revenue",))
    assert len(loads) == 3 and q1["period"]["label"] == "2024Q1"
    assert q1["revenue"]["total"] == pytest.approx(100.50 + 35.25)


def test_a_new_salesnb_code_is_a_new_key(tmp_path, cache, monkeypatch):
    config = load_config(_params(tmp_path))
    key = fnd.cache_key(config, "2024Q2")
    monkeypatch.setattr(fnd, "_CODE_FINGERPRINT", ["edited"])
    assert fnd.cache_key(config, "2024Q2") != key
    monkeypatch.setattr("salesnb.version.__version__", "9.9.9")
    assert len({key, fnd.cache_key(config, "2024Q2")}) == 2


def test_a_query_source_is_not_cached(tmp_path, cache, loads):
    (tmp_path / "sales.csv").write_text(CSV, encoding="utf-8")
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump({"name": "q", "query": "SELECT * FROM 'sales.csv'", "period": "2024Q2",
                                    "columns": {"order_id": "order", "order_date": "date", "revenue": "amount"}}))
    assert fnd.cache_key(load_config(path)) is None
    fnd.notebook_findings(path, sections=("revenue",))
    fnd.notebook_findings(path, sections=("revenue",))
    assert len(loads) == 2 and not cache.exists()


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch, loads):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SALESNB_CACHE", str(blocker / "cache"))
    params = _params(tmp_path)
    a = fnd.notebook_findings(params, sections=("revenue",))
    b = fnd.notebook_findings(params, sections=("revenue",))
    assert len(loads) == 2 and a["revenue"] == b["revenue"]


def test_old_entries_are_pruned(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(fnd, "CACHE_KEEP", 2)
    params = _params(tmp_path)
    written = []
    for i, period in enumerate(("2024Q1", "2024Q2", "2024-01", "2024-02")):
        before = set(cache.iterdir()) if cache.exists() else set()
        fnd.notebook_findings(params, period, sections=("revenue",))
        [entry] = set(cache.iterdir()) - before
        os.utime(entry, (1_000_000 + i, 1_000_000 + i))   # a distinct age each, whatever the clock's resolution
        written.append(entry)
    assert sorted(cache.iterdir()) == sorted(written[-2:]), "the two newest entries are kept"


def test_the_revenue_notebook_computes_no_customer_findings(tmp_path, monkeypatch):
    import salesnb.metrics.customers as customers

    def boom(*a, **k):
        raise AssertionError("customer findings computed")
    monkeypatch.setattr(customers, "customer_findings", boom)
    f = fnd.build_findings(load_config(_params(tmp_path)), sections=("revenue",))
    assert "customers" not in f.data and f["revenue"]["orders"] == 3


def test_unknown_sections_are_an_error(tmp_path):
    with pytest.raises(SalesnbError, match="Unknown findings section 'clv'"):
        fnd.build_findings(load_config(_params(tmp_path)), sections=("revenue", "clv"))


def test_a_run_folder_is_read_as_it_is(tmp_path, cache, loads):
    params = _params(tmp_path)
    f = fnd.build_findings(load_config(params))
    f.save(tmp_path / "run")
    back = fnd.notebook_findings("does-not-matter.yaml", run_dir=tmp_path / "run")
    assert back.data == f.data and not loads[1:] and not cache.exists()


def test_findings_print_a_short_summary(tmp_path):
    f = fnd.build_findings(load_config(_params(tmp_path)), sections=("revenue",))
    text = repr(f)
    assert len(text) < 400
    total = _total(CSV, "2024-04-01", "2024-07-01")
    assert f"revenue ${total:,.2f}" in text and "orders 3" in text and "2024Q2" in text
    html = f._repr_html_()
    assert len(html) < 2000 and f"${total:,.2f}" in html
