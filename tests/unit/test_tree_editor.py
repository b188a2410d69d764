"""The editor's table form of a tree round-trips, and keeps what the table does not show."""

from __future__ import annotations

import copy

from dashboard.tree_editor import table_to_tree, tree_to_table
from tests.factories import TREE


def test_a_tree_survives_the_table():
    table = tree_to_table(TREE)
    assert list(table["id"]) == ["q1", "a1", "r1", "e1"]
    assert table.loc[0, "options"] == "Yes → a1 | No → e1"
    assert table_to_tree(table, "q1", TREE) == TREE


def test_edits_in_the_table_become_the_tree():
    table = tree_to_table(TREE)
    table.loc[0, "options"] = "Yes -> a1 | No → e1 | Not sure → e1"
    table.loc[len(table)] = {"id": "  ", "type": "action", "text": "blank row", "next": "", "options": ""}
    tree = table_to_tree(table, "q1", TREE)
    assert tree["nodes"]["q1"]["options"][2] == {"label": "Not sure", "next": "e1"}
    assert set(tree["nodes"]) == {"q1", "a1", "r1", "e1"}  # a row without an id is ignored


def test_a_scripts_body_is_kept():
    tree = copy.deepcopy(TREE)
    tree["nodes"]["a1"] = {"type": "script", "text": "Restart", "next": "r1",
                           "script": {"language": "powershell", "body": "Restart-Service Spooler"}}
    table = tree_to_table(tree)
    table.loc[1, "text"] = "Restart the spooler"
    out = table_to_tree(table, "q1", tree)
    assert out["nodes"]["a1"]["script"] == {"language": "powershell", "body": "Restart-Service Spooler"}
    assert out["nodes"]["a1"]["text"] == "Restart the spooler"
