"""Packaging: pyproject and environment.yml in step, pins that keep Ibis working, CLI entry point."""
from __future__ import annotations

import re
import tomllib

import yaml
from support.paths import ROOT

# conda-forge names of PyPI packages where they differ
CONDA_NAMES = {"ibis-framework": "ibis-framework-core"}


def _pypi_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    out = {}
    for r in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", r)
        out[m.group(1).lower()] = m.group(3).replace(" ", "")
    return out


def _conda_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            m = re.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", dep)
            out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_mirrors_pyproject():
    pypi, conda = _pypi_requirements(), _conda_requirements()
    for name, spec in pypi.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[conda_name] == spec, f"{name}: pyproject says {spec!r}, environment.yml {conda[conda_name]!r}"
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in pypi} - {"python", "pip"}
    assert not extra, f"environment.yml has packages pyproject.toml lacks: {sorted(extra)}"


def test_pins_that_keep_ibis_working():
    pypi = _pypi_requirements()
    assert "<2" in pypi["duckdb"]          # ibis 12 breaks with duckdb 2.0 (ibis PR #12001)
    assert "<30.18" in pypi["sqlglot"]     # DROP loses its table name (ibis #12101, #12108)


def test_ibis_on_duckdb_really_works():
    """Would catch the duckdb 2.0 / sqlglot breakage: list_tables, .sql and DROP all work."""
    import ibis
    con = ibis.duckdb.connect()
    con.create_table("t", ibis.memtable({"a": [1, 2, 3]}))
    assert "t" in con.list_tables()
    assert con.sql("SELECT sum(a) AS s FROM t").to_pandas()["s"].iloc[0] == 6
    con.drop_table("t")
    assert "t" not in con.list_tables()


def test_console_script_and_public_api():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["salesnb"] == "salesnb.cli:main"
    import salesnb
    for name in ("load_config", "load_data", "build_findings", "run_report", "SalesnbError"):
        assert name in salesnb.__all__ and hasattr(salesnb, name)


def test_layout():
    for path in ("notebooks", "salesnb", "params", "tests", "environment.yml", "README.md", "pyproject.toml",
                 "Makefile", "benchmarks", ".ci/run", "params/sample.yaml", "params/template.yaml"):
        assert (ROOT / path).exists(), path


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", text, re.S)
    assert blocks, "README has no command block"
    first = [line.strip() for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert first == ["make report", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test-all" in ci   # CI runs the slow tests too
    make = (ROOT / "Makefile").read_text()
    assert re.search(r'^test:.*\n\t.*pytest .*-m "not slow"', make, re.M), "make test is the fast set"
    assert re.search(r"^test-all:.*\n\t.*pytest -q$", make, re.M), "make test-all runs everything"


def test_typing_is_imported_before_salesnb_starts_a_thread():
    # dataclasses reads sys.modules["typing"] without the import lock; a thread importing typing
    # for the first time made a batch fail once ("partially initialized module 'typing'")
    import subprocess
    import sys
    code = ("import sys, threading; import salesnb.cli; "
            "print('typing' in sys.modules and hasattr(sys.modules['typing'], 'ClassVar'), threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "1"]
