"""salesnb batch: one report per period from one load of the data, an index page, and failures
that stop only their own report (exit 3, one line each, no traceback)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from salesnb.fmt import fmt_count, fmt_money
from support.paths import PARAMS, ROOT, needs_shared_data


pytestmark = [needs_shared_data, pytest.mark.slow]   # every test runs reports


def run_cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "salesnb.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"#][^"]*)"', html)


def assert_self_contained(html: str):
    refs = re.findall(r'\s(?:src|href)="([^"]*)"', html)
    assert not [r for r in refs if r.lower().startswith(("http:", "https:", "//"))]
    assert "<script" not in html.lower() and "<link" not in html.lower()


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    proc = run_cli("batch", PARAMS / "superstore.yaml", "--periods", "2017Q1..2017Q4", "--jobs", "2", "--out", out)
    return {"out": out, "proc": proc}


@pytest.mark.slow
def test_batch_writes_four_reports_and_an_index(quarters):
    proc, out = quarters["proc"], quarters["out"]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    name_dir = out / "superstore"
    index = Path(proc.stdout.strip().splitlines()[-1])
    assert index == name_dir / "index.html"
    assert sorted(p.name for p in name_dir.iterdir()) == ["2017Q1", "2017Q2", "2017Q3", "2017Q4", "index.html"]
    for q in ("2017Q1", "2017Q2", "2017Q3", "2017Q4"):
        assert (name_dir / q / "report.html").is_file() and (name_dir / q / "findings.json").is_file()
        assert list((name_dir / q / "notebooks").glob("*.ipynb"))
    # progress names the period and the notebook
    assert re.search(r"\[2017Q2\] running notebook \w+\.ipynb", proc.stderr)


@pytest.mark.slow
def test_index_shows_every_report_with_its_kpis(quarters):
    name_dir = quarters["out"] / "superstore"
    html = (name_dir / "index.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    hrefs = [unquote(h) for h in links(html)]
    assert sorted(hrefs) == [f"2017Q{i}/report.html" for i in range(1, 5)]
    for href in hrefs:
        assert (name_dir / href).is_file(), "relative links resolve"
    for q in ("2017Q1", "2017Q2", "2017Q3", "2017Q4"):
        f = json.loads((name_dir / q / "findings.json").read_text(encoding="utf-8"))
        rev = f["revenue"]
        assert fmt_money(rev["total"], "USD") in html
        assert fmt_count(rev["orders"]) in html and fmt_money(rev["aov"], "USD") in html
        assert fmt_count(rev["customers"]) in html
    assert "<svg" in html and "<polyline" in html, "an inline chart of revenue across periods"
    assert html.count("<circle") == 4
    assert "Failed" not in html


@pytest.mark.slow
def test_batch_with_periods_without_data_fails_only_those(tmp_path):
    proc = run_cli("batch", PARAMS / "superstore.yaml", "--periods", "2017Q4..2018Q2", "--jobs", "2", "--out", tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("FAILED ")]
    assert len(failed) == 2, proc.stderr
    assert failed[0].startswith("FAILED 2018Q1: Period 2018Q1") and "has no data" in failed[0]
    assert failed[1].startswith("FAILED 2018Q2: ")
    name_dir = tmp_path / "superstore"
    assert sorted(p.name for p in name_dir.iterdir()) == ["2017Q4", "index.html"], "no temp folder left"
    html = (name_dir / "index.html").read_text(encoding="utf-8")
    assert html.count("Failed: Period 2018Q") == 2 and "2017Q4/report.html" in html
    assert "1 written" in html and "2 failed" in html


def test_batch_by_unknown_dimension_is_a_params_error(tmp_path):
    proc = run_cli("batch", PARAMS / "superstore.yaml", "--periods", "2017Q4", "--by", "sales_rep", "--out", tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "--by 'sales_rep'" in proc.stderr and "region" in proc.stderr
    assert not (tmp_path / "superstore").exists()


def test_batch_bad_range_is_a_usage_message(tmp_path):
    proc = run_cli("batch", PARAMS / "superstore.yaml", "--periods", "2017Q4..2017-06", "--out", tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "mixes" in proc.stderr
