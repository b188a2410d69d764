"""A rendered script becomes a `script` node the tree validator accepts."""

from __future__ import annotations

import pytest

from core.flows.trees import tree_problems
from core.scripts import as_script_node, load_library, render
from core.scripts.render import RenderedScript


def tree_with(node: dict) -> dict:
    return {"root": "q1", "nodes": {
        "q1": {"type": "question", "text": "Are jobs stuck in the queue?",
               "options": [{"label": "Yes", "next": "s1"}, {"label": "No", "next": "e1"}]},
        "s1": node,
        "r1": {"type": "resolution", "text": "Printing works again"},
        "e1": {"type": "escalation", "text": "Escalate to the print team"},
    }}


@pytest.fixture(scope="module")
def library():
    return load_library(extra_dir="")


def test_a_rendered_script_becomes_a_valid_script_node(library):
    rendered = render(library.get("clear-print-queue"), {})
    node = as_script_node(rendered, next_node="r1")
    assert node["type"] == "script" and node["next"] == "r1"
    assert node["script"] == {"language": "powershell", "body": rendered.body}
    assert "disruptive" in node["text"]
    assert tree_problems(tree_with(node)) == []


def test_every_shipped_template_makes_a_valid_script_node(library):
    for template in library.templates:
        values = {p.name: {"hostname": "srv01", "username": "jdoe", "email": "a@example.com",
                           "path": "/srv", "string": "nginx"}.get(p.type)
                  for p in template.parameters if p.required and p.default is None}
        node = as_script_node(render(template, values), next_node="r1")
        assert tree_problems(tree_with(node)) == [], template.id


def test_a_custom_node_text_is_kept_within_the_tree_s_limit(library):
    rendered = render(library.get("linux-disk-usage"), {})
    node = as_script_node(rendered, next_node="r1", text="x" * 5000)
    assert len(node["text"]) == 2000
    assert tree_problems(tree_with(node)) == []


def test_a_script_too_long_for_a_node_is_refused():
    rendered = RenderedScript("t", "T", "bash", "x" * 20_001, "t.sh", "read_only", "read-only", "", {})
    with pytest.raises(ValueError, match="20000"):
        as_script_node(rendered, next_node="r1")


def test_render_refuses_a_template_the_loader_would_have_refused():
    from core.scripts import Parameter, Template

    template = Template(id="t-unsafe", title="T", language="bash", domain="server", risk="read_only",
                        explanation="Read-only.", body='echo "{{v}}" {{w}}\n',
                        parameters=(Parameter("v", "V", "string"),))
    with pytest.raises(ValueError, match=r"\{\{w\}\} has no parameter.*double-quoted string"):
        render(template, {"v": "x"})
