"""The data layer's shape (issue 23): salesnb.data imports no module above it and has no import
cycle, imports included that run inside functions; and the engine fingerprint labels its source."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from types import SimpleNamespace

import salesnb

PACKAGE = Path(salesnb.__file__).parent
# what salesnb.data may import from the rest of the package: the rows above it
BELOW = {"salesnb", "salesnb.config", "salesnb.errors", "salesnb.fmt", "salesnb.periods", "salesnb.paths"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The salesnb modules a file imports, anywhere in it (``from . import x`` names x)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "salesnb"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "salesnb":
                continue
            found.add(target)
            for alias in node.names:   # "from . import spark": the submodule
                sub = f"{target}.{alias.name}"
                if (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").is_file():
                    found.add(sub)
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted((PACKAGE / "data").rglob("*.py"))}


def test_the_data_layer_imports_only_the_rows_above_it():
    outside = {(mod, dep) for mod, deps in _graph().items() for dep in deps
               if not dep.startswith("salesnb.data") and dep not in BELOW}
    assert not outside


def test_the_data_layer_has_no_import_cycle():
    graph = _graph()
    assert "salesnb.data.rules_duckdb" in graph and "salesnb.data.backends.spark" in graph
    state: dict[str, int] = {}   # 1: on the current path, 2: done

    def visit(mod, path):
        state[mod] = 1
        for dep in sorted(graph.get(mod, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " → ".join(path + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[mod] = 2

    for mod in graph:
        if mod not in state:
            visit(mod, [mod])


def test_an_engine_source_without_files_is_fingerprinted_by_its_own_label():
    """A Spark file source that is not local (hdfs://) has no files to hash: its label is
    ``source:<path>`` (it read ``table:None`` before issue 23), a table ``table:<name>``."""
    from salesnb.data.backends import _Source
    from salesnb.data.rules_ibis import _fingerprint

    def expected(engine, what, rows, total):
        return hashlib.sha256("\n".join([engine, what, str(rows), f"{total:.2f}"]).encode("utf-8")).hexdigest()

    remote = _Source(table=None, description="hdfs://x/sales/*.csv (read by Spark local[2])", files=[], encoding=None)
    spark = SimpleNamespace(engine="local[2]", query=None, table=None, source="hdfs://x/sales/*.csv")
    assert _fingerprint(spark, remote, 10, 12.5) == expected("local[2]", "source:hdfs://x/sales/*.csv", 10, 12.5)
    pg = SimpleNamespace(engine="postgresql://ann:secret@h/db", query=None, table="sales", source=None)
    assert _fingerprint(pg, remote, 3, 1.0) == expected("postgresql://ann:***@h/db", "table:sales", 3, 1.0)
    query = SimpleNamespace(engine="local", query="SELECT 1", table="ignored", source=None)
    assert _fingerprint(query, remote, 1, 0.0) == expected("local", "SELECT 1", 1, 0.0)
