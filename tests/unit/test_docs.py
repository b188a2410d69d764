"""The docs say what the code does: every setting is in the operations table."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_in_the_operations_table_and_nothing_else_is():
    table = re.findall(r"^\| `([A-Z_]+)` \|", (DOCS / "operations.md").read_text(), flags=re.MULTILINE)
    assert sorted(table) == sorted(name.upper() for name in Settings.model_fields)


def test_every_setting_says_what_it_is_for():
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []
