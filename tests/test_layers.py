"""The architecture as a test: imports run one way through the layers, and no cycles.

vocabulary (errors, filters, results, categories) <- stores / encoders / heads <- index <- eval
<- plots <- ingest / trainer <- tui / cli / serve. Every import counts, lazy ones inside
functions too; ``TYPE_CHECKING`` imports are exempt (they never run). ``eval.metrics`` is pure
numpy and imports nothing from vtrsearch.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {
    "vtrsearch": "vtrsearch",
    "ingest": "vtrsearch.ingest",
    "trainer": "vtrsearch.trainer",
    "tui": "vtrsearch.tui",
}
#: Vocabulary modules form one group: they may import each other.
VOCABULARY = ("errors", "extras", "filters", "paths", "results", "categories", "tables")
LAYERS = {
    "vocabulary": 0,
    "stores": 1,
    "encoders": 1,
    "heads": 1,
    "index": 2,
    "eval": 3,
    "plots": 4,
    "ingest": 5,
    "trainer": 5,
    "tui": 6,
    "cli": 6,
    "serve": 6,
    "__main__": 6,
}
#: Allowed imports between peers of one layer (importer -> imported).
PEERS = {("cli", "tui"), ("cli", "serve"), ("__main__", "cli")}


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in ROOTS.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> list[tuple[str, bool]]:
    """``(imported module, at module level)`` for every vtrsearch import that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (child.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                if base.startswith("vtrsearch"):
                    for alias in child.names:
                        out.append((f"{base}.{alias.name}", top))
            elif isinstance(child, ast.Import):
                out.extend((a.name, top) for a in child.names if a.name.startswith("vtrsearch"))
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not nested)

    visit(tree, True)
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> tuple[str, int] | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package root re-exports everything lazily
    group = "vocabulary" if parts[1] in VOCABULARY else parts[1]
    return group, LAYERS[group]


MODULES = _modules()
EDGES = {
    m: [(r, top) for n, top in _imports(m, p) if (r := _resolve(n, MODULES))]
    for m, p in MODULES.items()
}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.count(".") >= 1))
def test_imports_follow_the_layers(module):
    mine = _layer(module)
    assert mine is not None, f"{module}: no layer for it in LAYERS"
    for target, _ in EDGES[module]:
        theirs = _layer(target)
        if theirs is None or theirs[0] == mine[0]:
            continue
        assert theirs[1] < mine[1] or (mine[0], theirs[0]) in PEERS, (
            f"{module} imports {target}: layer {mine[0]} ({mine[1]}) may not depend on "
            f"{theirs[0]} ({theirs[1]})"
        )


def test_metrics_are_pure():
    for module, edges in EDGES.items():
        if module.startswith("vtrsearch.eval.metrics"):
            outside = [t for t, _ in edges if not t.startswith("vtrsearch.eval.metrics")]
            assert not outside, f"{module} imports {outside}"


def test_no_import_cycles_at_module_level():
    graph = {m: {t for t, top in e if top and t != m} for m, e in EDGES.items()}
    # a package's __init__ importing its own submodules is not a cycle of design
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_no_private_names_imported_across_modules():
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("vtrsearch")
            ):
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
                assert not private, f"{module} imports private {private} from {node.module}"
