"""The layering rules, checked on the source: dependencies point inward, pages stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Every module a package's files import (at any depth of the file), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(root))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [f"{file} imports {name}"
            for file, names in imported_modules(package, root).items()
            for name in sorted(names)
            if name.split(".")[0] in forbidden]


@pytest.mark.parametrize("package, forbidden", [
    ("core", ("streamlit", "apscheduler", "plotly", "dashboard", "pages", "scheduler")),
    ("scheduler", ("streamlit", "plotly", "dashboard", "pages")),
    ("pages", ("sqlalchemy", "psycopg", "apscheduler")),
])
def test_a_layer_imports_nothing_from_the_layers_outside_it(package, forbidden):
    assert offenders(package, forbidden) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    # The rule holds for imports tucked into functions too, the usual way round a layering rule.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("def f():\n    import streamlit as st\n    return st\n")
    assert offenders("pkg", ("streamlit",), tmp_path) == ["pkg/m.py imports streamlit"]


PROJECT = ("core", "dashboard", "pages", "scheduler")


def project_import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in the file. ``from core import review``
    is an edge to ``core.review``; ``from core.gaps import GapReport`` one to ``core.gaps``."""
    files = {str(path.relative_to(root)).removesuffix(".py").removesuffix("/__init__").replace("/", "."): path
             for package in PROJECT for path in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    deps.add(submodule if submodule in files else node.module)
        graph[module] = {d for d in deps if d in files and d != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep in graph and dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_no_module_imports_itself_back_through_others():
    assert find_cycle(project_import_graph()) is None


def test_the_cycle_check_finds_a_cycle_of_three():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
