"""Trees as DOT: every node and option drawn, styled by type, and untrusted text kept inert."""

from __future__ import annotations

import copy

from core.flows.diagram import dot_string, tree_to_dot
from core.flows.diff import diff_trees
from tests.factories import TREE, enhanced_tree


def test_every_node_and_option_is_drawn_and_styled_by_type():
    dot = tree_to_dot(TREE)
    assert dot.startswith("digraph tree {") and dot.endswith("}")
    assert sum(line.strip().startswith(("n0 [", "n1 [", "n2 [", "n3 [")) for line in dot.splitlines()) == 4
    assert 'n0 -> n1 [label="Yes"]' in dot and 'n0 -> n3 [label="No"]' in dot and "n1 -> n2;" in dot
    assert "#dcfce7" in dot and "#fee2e2" in dot  # resolution green, escalation red
    assert "peripheries=2" in dot  # the root


def test_untrusted_text_cannot_break_out_of_its_label():
    tree = copy.deepcopy(TREE)
    tree["nodes"]["a1"]["text"] = 'Say "hi"\\" ]; evil [shape=box]; x -> y; \\N\nnext line\x07'
    tree["nodes"]["q1"]["options"][0]["label"] = '"]; injected -> n0 ["'
    dot = tree_to_dot(tree)
    assert '\\"hi\\"' in dot and "\\\\N" in dot and "\x07" not in dot
    # Each label is one quoted string: unescaped quotes come in pairs on every line.
    for line in dot.splitlines():
        assert line.replace('\\\\', "").replace('\\"', "").count('"') % 2 == 0, line


def test_dot_string_wraps_and_truncates():
    text = dot_string("word " * 200, limit=50, wrap=20)
    assert text.endswith("…") and "\\n" in text and len(text) < 70
    assert dot_string(None) == ""


def test_a_diff_highlights_added_and_changed_nodes():
    changes = diff_trees(TREE, enhanced_tree())
    assert changes.added == ("a2",) and changes.changed == ("q1",) and not changes.removed
    assert changes.describe() == "1 node added, 1 node changed"
    dot = tree_to_dot(enhanced_tree(), changes)
    assert 'label="NEW · ACTION' in dot and 'label="CHANGED · QUESTION' in dot
    assert 'n0 -> n4 [label="Only for one user", color="#16a34a"' in dot  # the new answer's edge
    assert 'n0 -> n1 [label="Yes"];' in dot  # an old one stays plain
    assert changes.lines[0] == ("Added the answer “Only for one user” to “Does the printer show as offline?” → "
                                "then “Re-add the printer for that user”")
    assert not any("a2" in line or "q1" in line for line in changes.lines)  # texts, never node ids


def test_a_malformed_tree_still_draws():
    assert tree_to_dot({"root": 1, "nodes": {"a": "x", "b": {"type": "question", "options": [{"next": ["b"]}]}}})
    assert tree_to_dot(None) == tree_to_dot({})
