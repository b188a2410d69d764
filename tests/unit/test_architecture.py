"""The layering rules, checked on the source: dependencies point inward, pages stay thin."""

from __future__ import annotations

import ast
import importlib
import re
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
    ("launcher", ("streamlit", "plotly", "dashboard", "pages", "scheduler")),
    ("pages", ("sqlalchemy", "psycopg", "apscheduler")),
])
def test_a_layer_imports_nothing_from_the_layers_outside_it(package, forbidden):
    assert offenders(package, forbidden) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    # The rule holds for imports tucked into functions too, the usual way round a layering rule.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("def f():\n    import streamlit as st\n    return st\n")
    assert offenders("pkg", ("streamlit",), tmp_path) == ["pkg/m.py imports streamlit"]


PROJECT = ("core", "dashboard", "pages", "scheduler", "launcher")


def project_import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in the file. ``from core import review``
    is an edge to ``core.proposals.review``; ``from core.gaps import GapReport`` one to ``core.gaps``."""
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


def concept_of(module: str) -> str:
    """``core.gaps.report`` -> ``core.gaps``; a module at the top of ``core`` is its own concept."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "core" else parts[0]


def concept_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, deps in graph.items():
        for dep in deps:
            if concept_of(module) != concept_of(dep):
                edges.setdefault(concept_of(module), set()).add(concept_of(dep))
    return edges


def test_the_concepts_of_core_depend_on_each_other_one_way_only():
    # Modules may be acyclic while their packages are not (a.x -> b.y -> a.z); a package-level
    # cycle means two concepts that cannot be read, or moved, one without the other.
    core_only = {m: {d for d in deps if d.startswith("core.")}
                 for m, deps in project_import_graph().items() if m.startswith("core.")}
    assert find_cycle(concept_graph(core_only)) is None


def test_concepts_are_packages_and_modules_at_the_top_of_core():
    assert concept_of("core.gaps.report") == "core.gaps"
    assert concept_of("core.models") == "core.models"
    assert concept_graph({"core.a.x": {"core.b.y"}, "core.b.y": {"core.a.z"}, "core.a.z": set()}) == {
        "core.a": {"core.b"}, "core.b": {"core.a"}}


def documented_concept_graph(text: str) -> dict[str, set[str]]:
    """The arrows of docs/architecture.md's concept map: ``gaps ──► impact, metrics (why)``."""
    graph: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+) ─+► (.+)$", line)
        if match:
            targets = re.sub(r"\([^)]*\)", "", match.group(2))
            graph[f"core.{match.group(1)}"] = {f"core.{t.strip()}" for t in targets.split(",") if t.strip()}
    return graph


def test_the_documented_map_of_core_is_the_code_s():
    # The map in docs/architecture.md is what a newcomer reads first; it must not drift.
    concepts = {f"core.{p.name}" for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()} - {"core.migrations"}
    core_only = {m: {d for d in deps if d.startswith("core.")}
                 for m, deps in project_import_graph().items() if m.startswith("core.")}
    actual = {concept: {d for d in deps if d in concepts}
              for concept, deps in concept_graph(core_only).items() if concept in concepts}
    documented = documented_concept_graph((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert {c: d for c, d in actual.items() if d} == {c: d for c, d in documented.items() if d}


def test_the_documented_map_reads_each_arrow_with_its_notes_left_out():
    assert documented_concept_graph("x\nsessions ──► flows, metrics (its SQL helpers)\nflows ─► accounts") == {
        "core.sessions": {"core.flows", "core.metrics"}, "core.flows": {"core.accounts"}}


IMPORTABLE = sorted(
    str(path.relative_to(ROOT)).removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    for package in PROJECT for path in (ROOT / package).rglob("*.py")
    # The app script runs on import, __main__ files run their command, migrations load through Alembic.
    if path.name not in ("app.py", "__main__.py") and "migrations" not in path.parts)


@pytest.mark.parametrize("module", IMPORTABLE)
def test_every_module_imports(module):
    # A moved name (a class that changed modules) fails here, not in the page that imports it.
    importlib.import_module(module)
