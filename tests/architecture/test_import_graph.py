"""The platform's layers only point down: no import cycle among its packages, and the kit imports
nothing from the packages built on it. Every import counts, including those under TYPE_CHECKING
and inside functions."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import agyn

ROOT = Path(agyn.__file__).parent


def node_of(module: str) -> str:
    """`agyn.kit.db` → `agyn.kit`; a top-level module (`agyn.app`) is its own node."""
    parts = module.split(".")
    if len(parts) >= 2 and (ROOT / parts[1]).is_dir():
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) >= 2 else parts[0]


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                base = package.split(".")[: len(package.split(".")) - statement.level + 1]
                origin = ".".join([*base, statement.module] if statement.module else base)
            else:
                origin = statement.module or ""
            # `from agyn import migrations` imports the module agyn.migrations
            yield from (f"{origin}.{alias.name}" for alias in statement.names)


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        if "migrations/versions" in path.as_posix():
            continue
        source = node_of(module_name(path))
        targets = graph.setdefault(source, set())
        for target in imports(path):
            if target == "agyn" or target.startswith("agyn."):
                if node_of(target) != source and target != "agyn":
                    targets.add(node_of(target))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_packages() -> None:
    assert cycles(import_graph()) == []


def test_kit_imports_nothing_above_it() -> None:
    assert import_graph()["agyn.kit"] == set()


def test_the_graph_sees_what_it_should() -> None:
    """The walker itself: known edges are found (a walker that finds nothing passes everything)."""
    graph = import_graph()
    assert "agyn.kit" in graph["agyn.users"]
    assert "agyn.api" in graph["agyn.organizations"]
    assert {"agyn.modules", "agyn.migrations"} <= graph["agyn.app"]


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
