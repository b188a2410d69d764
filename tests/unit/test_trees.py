"""The tree validator names every broken rule of the tree structure."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.flows.trees import InvalidTree, tree_problems, validate_tree

VALID = {
    "root": "q1",
    "nodes": {
        "q1": {"type": "question", "text": "Does the printer show as offline?",
               "options": [{"label": "Yes", "next": "a1"}, {"label": "No", "next": "e1"}]},
        "a1": {"type": "action", "text": "Restart the Print Spooler service", "next": "r1"},
        "r1": {"type": "resolution", "text": "Printer back online"},
        "e1": {"type": "escalation", "text": "Escalate to the network team"},
    },
}


def broken(change) -> dict:
    tree = copy.deepcopy(VALID)
    change(tree)
    return tree


def messages(tree) -> list[str]:
    return [str(p) for p in tree_problems(tree)]


def test_a_valid_tree_has_no_problems():
    assert tree_problems(VALID) == []
    validate_tree(VALID)


def test_the_readme_example_with_a_script_node_is_valid():
    tree = broken(lambda t: t["nodes"].update(
        a1={"type": "script", "text": "Restart spooler", "next": "r1",
            "script": {"language": "powershell", "body": "Restart-Service Spooler"}}))
    assert tree_problems(tree) == []


def test_a_cycle_is_rejected_and_named():
    def add_cycle(t):
        t["nodes"]["a1"]["next"] = "q1"
    problems = messages(broken(add_cycle))
    assert any("cycle: q1 → a1 → q1" in m for m in problems), problems


def test_a_dangling_next_is_rejected_with_its_field():
    problems = tree_problems(broken(lambda t: t["nodes"]["a1"].update(next="nowhere")))
    assert any(p.field == "nodes.a1.next" and "'nowhere'" in p.message for p in problems), problems


def test_a_dangling_option_next_is_rejected_with_its_field():
    def dangle(t):
        t["nodes"]["q1"]["options"][1]["next"] = "missing"
    problems = tree_problems(broken(dangle))
    assert [p.field for p in problems] == ["nodes.q1.options[1].next", "nodes.e1"]


def test_an_unreachable_node_is_rejected():
    def orphan(t):
        t["nodes"]["r2"] = {"type": "resolution", "text": "Nobody gets here"}
    problems = tree_problems(broken(orphan))
    assert [(p.field, p.message) for p in problems] == [
        ("nodes.r2", "node 'r2' cannot be reached from the root")]


def test_a_question_with_one_option_is_rejected():
    def one_option(t):
        t["nodes"]["q1"]["options"] = [{"label": "Yes", "next": "a1"}]
        t["nodes"]["a1"]["next"] = "r1"
        del t["nodes"]["e1"]
    problems = tree_problems(broken(one_option))
    assert any(p.field == "nodes.q1.options" for p in problems), problems


def test_duplicate_option_labels_are_rejected_even_when_case_differs():
    def duplicate(t):
        t["nodes"]["q1"]["options"][1]["label"] = "yes"
    problems = tree_problems(broken(duplicate))
    assert [p.field for p in problems] == ["nodes.q1.options[1].label"]
    assert "duplicate option label" in problems[0].message


def test_a_path_without_an_end_is_rejected():
    def no_end(t):
        del t["nodes"]["a1"]["next"]
    problems = tree_problems(broken(no_end))
    assert any(p.field == "nodes.a1.next" for p in problems), problems


def test_a_resolution_with_a_next_is_rejected():
    problems = tree_problems(broken(lambda t: t["nodes"]["r1"].update(next="e1")))
    assert any(p.field == "nodes.r1.next" for p in problems), problems


def test_a_root_that_names_no_node_is_rejected():
    problems = tree_problems(broken(lambda t: t.update(root="q9")))
    assert any(p.field == "root" for p in problems)


def test_an_empty_or_overlong_text_is_rejected():
    assert any(p.field == "nodes.r1.text" for p in tree_problems(broken(lambda t: t["nodes"]["r1"].update(text=""))))
    assert any(p.field == "nodes.r1.text" for p in tree_problems(broken(lambda t: t["nodes"]["r1"].update(text="x" * 2001))))


def test_a_blank_text_is_rejected_although_the_schema_allows_it():
    problems = tree_problems(broken(lambda t: t["nodes"]["r1"].update(text="   ")))
    assert [(p.field, p.message) for p in problems] == [("nodes.r1.text", "the text is empty")]


def test_more_than_500_nodes_are_rejected():
    nodes = {f"a{i}": {"type": "action", "text": f"step {i}", "next": f"a{i + 1}"} for i in range(500)}
    nodes["a500"] = {"type": "resolution", "text": "done"}
    problems = tree_problems({"root": "a0", "nodes": nodes})
    assert any(p.field == "nodes" for p in problems)


def test_malformed_input_is_reported_not_raised():
    for junk in (None, [], "tree", {"root": "x"}, {"root": 1, "nodes": {"x": "not a node"}}):
        assert tree_problems(junk), junk


def test_validate_tree_raises_with_every_problem():
    with pytest.raises(InvalidTree) as caught:
        validate_tree(broken(lambda t: t["nodes"]["a1"].update(next="nowhere")))
    assert caught.value.problems
    assert "nodes.a1.next" in str(caught.value)


def _nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = {"root": value} if depth % 2 else [value]
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=()), max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["root", "nodes", "a", "type", "text",
                                                                              "options", "next", "label"]) | st.text(max_size=3),
                                                               inner, max_size=4),
    max_leaves=30,
) | st.integers(200, 2000).map(_nested)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_the_validator_never_raises_whatever_it_is_given(value):
    problems = tree_problems(value)
    assert isinstance(problems, list)
    assert problems, "none of these is a valid tree"


def test_a_tree_nested_past_the_validators_limit_is_reported_not_raised():
    tree = {"root": "a", "nodes": {"a": {"type": "resolution", "text": _nested(300)}}}
    [problem] = tree_problems(tree)
    assert problem.field.startswith("nodes.a.text[0]") and "nested" in problem.message
