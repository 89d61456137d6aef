"""The package reads in the order the data flows (ARCHITECTURE.md, issue 23): every import inside
salesnb, module level or inside a function, goes to a layer above the importing module's own (or
to the same layer), never back up, and no chain of imports comes back to where it started."""
from __future__ import annotations

import ast
from pathlib import Path

from support.paths import ROOT

PACKAGE = ROOT / "salesnb"

# Top to bottom, the flow of ARCHITECTURE.md; a module's layer is its longest matching prefix.
LAYERS = (
    ("config", ("salesnb.config", "salesnb.config_pipeline", "salesnb.config_yaml", "salesnb.periods")),
    ("data", ("salesnb.data",)),
    ("guess", ("salesnb.guess",)),
    ("metrics", ("salesnb.metrics",)),
    ("models", ("salesnb.models",)),
    ("recommend", ("salesnb.recommend",)),
    ("findings", ("salesnb.findings", "salesnb.cache")),
    ("render", ("salesnb.render",)),
    ("explore", ("salesnb.explore",)),
    ("report", ("salesnb.report",)),
    ("api", ("salesnb.cli", "salesnb")),
)
# Used by all, import only each other.
BASE = ("salesnb.errors", "salesnb.fmt", "salesnb.paths", "salesnb.version")
# Modules that are one node for the cycle check (they still may not import a layer below).
ONE_NODE = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    """The salesnb module ``name`` refers to (a name inside a module: that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """Every salesnb module ``module`` imports, wherever in the file the import is."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == "salesnb" or name.startswith("salesnb."):
                target = _target(name)
                if target and target != module:
                    found.add(target)
    return found


def layer(module: str) -> int | None:
    """The index of ``module``'s layer in LAYERS; -1 for a base module; None when it has none."""
    if module in BASE:
        return -1
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) >= best[1]):
                best = (i, len(p))
    return best[0] if best else None


def _node(module: str) -> str:
    for node, members in ONE_NODE.items():
        if module in members:
            return node
    return module


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list that starts and ends with the same module), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer(m) is None] == []


def test_imports_go_up_the_flow_only():
    wrong = []
    for module in MODULES:
        mine = layer(module)
        for target in sorted(imports(module)):
            theirs = layer(target)
            upward = theirs == -1 if mine == -1 else theirs <= mine
            if not upward:
                wrong.append(f"{module} ({LAYERS[mine][0] if mine >= 0 else 'base'}) imports {target} "
                             f"({LAYERS[theirs][0] if theirs >= 0 else 'base'})")
    assert wrong == []


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        graph.setdefault(_node(module), set()).update(
            _node(t) for t in imports(module) if _node(t) != _node(module))
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_checks_see_what_they_check():
    """The walker finds imports inside functions and relative ones, maps a name imported from a
    module to that module, and the cycle finder finds a cycle."""
    assert "salesnb.findings" in imports("salesnb.explore")                 # inside a method
    assert "salesnb.metrics.windows" in imports("salesnb.metrics.revenue")   # from .windows import …
    assert "salesnb.models.clv_findings" in imports("salesnb.findings")      # inside a function
    assert layer("salesnb.metrics.revenue") < layer("salesnb.models.clv") < layer("salesnb.findings")
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) in (["a", "b", "c", "a"],)
    assert find_cycle({"a": {"b"}, "b": set()}) is None

