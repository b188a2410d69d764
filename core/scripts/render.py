"""Turning a template and the engineer's values into a ready script, and into a tree node.

Public API::

    render(template, values: dict[str, str | int]) -> RenderedScript
    ParameterError        # .errors: {parameter name: message}, every bad value at once
    RenderedScript        # template_id, title, language, body, filename, risk, risk_label, explanation
    as_script_node(rendered, next_node="", text=None) -> dict   # a tree's `script` node

Each value is checked by ``core.scripts.validation`` (type, pattern, control characters),
then quoted by ``core.scripts.escaping`` for the template's shell; the quoted literal, quotes
included, replaces its ``{{param}}``. Integers and ports, which validation leaves as plain
digits, go in bare so they work in arithmetic too. A blank value takes the parameter's
default; a blank optional parameter without one becomes the empty string literal.

The rendered body starts with a comment header (a shebang too for bash) naming the template
and its risk. Nothing here runs anything: the dashboard only shows, copies and downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.flows.trees import MAX_TEXT
from core.scripts.escaping import quote
from core.scripts.placeholders import find_placeholders, placeholder_problems
from core.scripts.templates import Template
from core.scripts.validation import validate_value

MAX_SCRIPT_BODY = 20_000  # the tree schema's limit for a script node's body


class ParameterError(ValueError):
    """One or more values were refused; ``errors`` maps each parameter's name to why."""

    def __init__(self, errors: dict[str, str], labels: dict[str, str] | None = None):
        self.errors = dict(errors)
        labels = labels or {}
        super().__init__("; ".join(f"{labels.get(name, name)}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class RenderedScript:
    template_id: str
    title: str
    language: str
    body: str
    filename: str
    risk: str
    risk_label: str
    explanation: str
    values: dict[str, str]


def check_values(template: Template, values: dict[str, Any]) -> dict[str, str]:
    """Every parameter's checked text (defaults applied), or ``ParameterError`` for all bad ones."""
    checked: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in values:
        if name not in {p.name for p in template.parameters}:
            errors[str(name)] = f"{template.id} has no parameter {name!r}"
    for parameter in template.parameters:
        value = values.get(parameter.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if parameter.default is not None:
                value = parameter.default
            elif parameter.required:
                errors[parameter.name] = "is required"
                continue
            else:
                checked[parameter.name] = ""
                continue
        text, error = validate_value(parameter, value)
        if error:
            errors[parameter.name] = error
        else:
            checked[parameter.name] = text
    if errors:
        raise ParameterError(errors, {p.name: p.label for p in template.parameters})
    return checked


def render(template: Template, values: dict[str, Any]) -> RenderedScript:
    """The ready script; ``ParameterError`` for bad values, ``ValueError`` for a template the
    loader would have refused (a placeholder without a parameter, or in an unsafe position)."""
    names = {p.name for p in template.parameters}
    unknown = sorted({p.raw for p in find_placeholders(template.body) if p.name not in names})
    unsafe = placeholder_problems(template.body, template.language)
    if unknown or unsafe:
        raise ValueError(f"template {template.id} is malformed: " + "; ".join(
            [f"{raw} has no parameter" for raw in unknown] + unsafe))
    checked = check_values(template, values)
    literals = {}
    for parameter in template.parameters:
        text = checked[parameter.name]
        bare = parameter.type in ("integer", "port") and text != ""
        literals[parameter.name] = text if bare else quote(text, template.language)
    pieces, last = [], 0
    for placeholder in find_placeholders(template.body):
        pieces.append(template.body[last:placeholder.start])
        pieces.append(literals[placeholder.name])
        last = placeholder.end
    pieces.append(template.body[last:])
    return RenderedScript(
        template_id=template.id, title=template.title, language=template.language,
        body=_header(template) + "".join(pieces), filename=template.id + template.extension,
        risk=template.risk, risk_label=template.risk_label, explanation=template.explanation,
        values=checked,
    )


def _header(template: Template) -> str:
    title = " ".join(template.title.split())
    lines = [
        f"# {title}",
        f"# FlowPilot script template '{template.id}' - risk: {template.risk_label}.",
        "# Review before running. FlowPilot never runs scripts itself.",
    ]
    if template.risk == "disruptive":
        lines.append("# DISRUPTIVE: restarts services, disconnects users or deletes files. Read the explanation.")
    shebang = "#!/usr/bin/env bash\n" if template.language == "bash" else ""
    return shebang + "\n".join(lines) + "\n\n"


def as_script_node(rendered: RenderedScript, next_node: str = "", text: str | None = None) -> dict[str, Any]:
    """A tree node of type ``script`` carrying the rendered body.

    ``next_node`` is the id of the node that follows; the tree editor sets it where the node
    is inserted. ``text`` defaults to the title and the risk. Raises ``ValueError`` when the
    body is longer than a script node allows.
    """
    if len(rendered.body) > MAX_SCRIPT_BODY:
        raise ValueError(f"the script has {len(rendered.body)} characters; a script node allows {MAX_SCRIPT_BODY}")
    if text is None:
        text = f"Run the script \u201c{rendered.title}\u201d ({rendered.risk_label})"
    text = text.strip()[:MAX_TEXT] or rendered.title[:MAX_TEXT]
    return {
        "type": "script",
        "text": text,
        "script": {"language": rendered.language, "body": rendered.body},
        "next": next_node,
    }
