"""The tests mirror the package (issue 23): a folder of tests/ names a package folder of salesnb,
no test module imports another or rebuilds the path of the shared data from its own file, and no
test holds a wall-clock limit that a loaded machine could break (benchmarks/ measures speed)."""
from __future__ import annotations

import ast
import re

from support.paths import ROOT, TESTS

#: folders of tests/ that hold inputs and helpers, not test modules
NOT_MIRRORS = {"support", "fixtures", "params", "bad_inputs", "artifacts", "__pycache__"}
#: a hypothesis deadline under this many milliseconds fails on a loaded machine, not on a hang
MIN_DEADLINE_MS = 10_000


def _test_modules() -> list:
    return sorted(p for p in TESTS.rglob("test_*.py") if not NOT_MIRRORS & set(p.relative_to(TESTS).parts))


def test_every_test_folder_mirrors_a_package_folder():
    modules = _test_modules()
    assert len(modules) > 30, modules
    folders = {p.parent.relative_to(TESTS) for p in modules} - {TESTS.relative_to(TESTS)}
    assert folders, "the test modules are in folders that mirror the package"
    for folder in folders:
        assert (ROOT / "salesnb" / folder / "__init__.py").is_file(), f"tests/{folder} has no salesnb/{folder}"
    # the top level holds only the cross-cutting tests, and every folder has test modules
    subfolders = {p.name for p in TESTS.iterdir() if p.is_dir()} - NOT_MIRRORS
    assert subfolders == {str(f) for f in folders}


def _imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_no_test_module_imports_another_or_conftest():
    offenders = []
    for path in _test_modules():
        for name in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            top = name.split(".")[0]
            if top.startswith("test_") or top in ("conftest", "tests"):
                offenders.append(f"{path.relative_to(TESTS)}: import {name}")
    assert offenders == [], "shared helpers go to tests/support/, fixtures to tests/conftest.py"


def test_paths_come_from_support_paths():
    """tests/support/paths.py says once where the repository, tests/params, tests/fixtures and
    ../shared/data are; a test module moved to another folder keeps working."""
    rebuilt = [str(p.relative_to(TESTS)) for p in _test_modules() + [TESTS / "conftest.py"]
               if any(isinstance(n, ast.Name) and n.id == "__file__"
                      for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert rebuilt == []
    # the one definition is the one support/paths.py makes
    text = (TESTS / "support" / "paths.py").read_text(encoding="utf-8")
    assert 'SHARED_DATA = ROOT.parent / "shared" / "data"' in text


def _deadlines(tree: ast.AST) -> list[tuple[int, object]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "settings":
            for kw in node.keywords:
                if kw.arg == "deadline":
                    out.append((node.lineno, ast.literal_eval(kw.value) if isinstance(kw.value, ast.Constant)
                                else ast.unparse(kw.value)))
    return out


def test_no_wall_clock_limits():
    """A hypothesis deadline is None or long enough to catch only a hang; no test times itself."""
    short, timed = [], []
    for path in _test_modules():
        text = path.read_text(encoding="utf-8")
        for line, value in _deadlines(ast.parse(text)):
            if value is not None and not (isinstance(value, (int, float)) and value >= MIN_DEADLINE_MS):
                short.append(f"{path.relative_to(TESTS)}:{line}: deadline={value}")
        timed += [f"{path.relative_to(TESTS)}: {m}" for m in re.findall(r"\b(?:perf_counter|process_time)\(", text)]
    assert short == []
    assert timed == [], "speed is measured in benchmarks/, not asserted in tests"
