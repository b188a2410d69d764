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
