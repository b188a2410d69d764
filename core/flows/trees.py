"""The tree validator: the shape and graph rules every stored or shown tree must satisfy.

One module, used by the flow import, by the analysis before it stores a proposal, and by the
review editor. It never raises on malformed input: it reports every problem it can name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from core.storable import unstorable

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
MAX_NODES = 500
MAX_TEXT = 2000
MIN_OPTIONS, MAX_OPTIONS = 2, 12
TERMINAL_TYPES = frozenset({"resolution", "escalation"})
STEP_TYPES = frozenset({"action", "script"})


@dataclass(frozen=True)
class TreeProblem:
    field: str  # where, relative to the tree: "nodes.q1.options[1].next"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidTree(ValueError):
    def __init__(self, problems: list[TreeProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _shape_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(load_schema("tree.schema.json"), validate_formats=True)


def tree_problems(tree: Any) -> list[TreeProblem]:
    """Every rule the tree breaks, shape first, then the graph; empty when the tree is valid.

    A value no column can hold (``core.storable``) is reported alone: the shape validator would
    fail on deep nesting, and the database on a NUL character."""
    problem = unstorable(tree)
    if problem:
        return [TreeProblem(*problem)]
    problems = [
        TreeProblem(field_path(error), short_message(error))
        for error in _shape_validator().iter_errors(tree)
    ]
    if isinstance(tree, dict) and isinstance(tree.get("nodes"), dict):
        problems.extend(graph_problems(tree))
    return _dedupe(problems)


def validate_tree(tree: Any) -> None:
    problems = tree_problems(tree)
    if problems:
        raise InvalidTree(problems)


def graph_problems(tree: dict[str, Any]) -> list[TreeProblem]:
    """The rules a JSON Schema cannot state: references, reachability, cycles, path ends."""
    nodes: dict[str, Any] = tree["nodes"]
    problems: list[TreeProblem] = []
    if len(nodes) > MAX_NODES:
        problems.append(TreeProblem("nodes", f"{len(nodes)} nodes; at most {MAX_NODES} are allowed"))
    root = tree.get("root")
    if not isinstance(root, str) or root not in nodes:
        problems.append(TreeProblem("root", f"root {root!r} does not name a node of this tree"))

    edges: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        if not isinstance(node, dict):
            continue
        edges[node_id] = _node_edges(node_id, node, nodes, problems)

    if isinstance(root, str) and root in nodes:
        reachable = _reachable(root, edges)
        for node_id in nodes:
            if node_id not in reachable:
                problems.append(TreeProblem(f"nodes.{node_id}", f"node {node_id!r} cannot be reached from the root"))
        cycle = _find_cycle(root, edges)
        if cycle:
            problems.append(TreeProblem(f"nodes.{cycle[0]}", "cycle: " + " → ".join(cycle)))
    return problems


def _node_edges(node_id: str, node: dict[str, Any], nodes: dict[str, Any], problems: list[TreeProblem]) -> list[str]:
    where = f"nodes.{node_id}"
    node_type = node.get("type")
    if not isinstance(node_type, str):
        node_type = repr(node_type)  # a list or an object is no type: reported below as unknown
    text = node.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(TreeProblem(f"{where}.text", "the text is empty"))
    elif len(text) > MAX_TEXT:
        problems.append(TreeProblem(f"{where}.text", f"the text has {len(text)} characters; at most {MAX_TEXT}"))

    targets: list[tuple[str, Any]] = []
    if node_type == "question":
        options = node.get("options")
        if not isinstance(options, list) or not (MIN_OPTIONS <= len(options) <= MAX_OPTIONS):
            count = len(options) if isinstance(options, list) else 0
            problems.append(TreeProblem(f"{where}.options", f"a question needs {MIN_OPTIONS} to {MAX_OPTIONS} options, it has {count}"))
        seen: dict[str, int] = {}
        for index, option in enumerate(options if isinstance(options, list) else []):
            if not isinstance(option, dict):
                continue
            label = option.get("label")
            if not isinstance(label, str) or not label.strip():
                problems.append(TreeProblem(f"{where}.options[{index}].label", "the option label is empty"))
            else:
                key = label.strip().casefold()
                if key in seen:
                    problems.append(TreeProblem(f"{where}.options[{index}].label", f"duplicate option label {label!r} (also option {seen[key]})"))
                seen.setdefault(key, index)
            targets.append((f"{where}.options[{index}].next", option.get("next")))
        if "next" in node:
            problems.append(TreeProblem(f"{where}.next", "a question leads on through its options, not a next"))
    elif node_type in STEP_TYPES:
        if "next" not in node:
            problems.append(TreeProblem(f"{where}.next", f"an {node_type} needs a next node: this path has no end"))
        else:
            targets.append((f"{where}.next", node.get("next")))
        if "options" in node:
            problems.append(TreeProblem(f"{where}.options", f"an {node_type} has no options"))
    elif node_type in TERMINAL_TYPES:
        for key in ("next", "options"):
            if key in node:
                problems.append(TreeProblem(f"{where}.{key}", f"a {node_type} ends its path and has no {key}"))
    else:
        problems.append(TreeProblem(f"{where}.type", f"unknown node type {node_type!r}"))

    edges = []
    for field, target in targets:
        if not isinstance(target, str) or target not in nodes:
            problems.append(TreeProblem(field, f"next {target!r} does not name a node of this tree"))
        else:
            edges.append(target)
    return edges


def _reachable(root: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {root}, [root]
    while stack:
        for target in edges.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _find_cycle(root: str, edges: dict[str, list[str]]) -> list[str] | None:
    """The first cycle met walking from the root, as a closed list of node ids."""
    on_path: dict[str, int] = {}
    done: set[str] = set()
    path: list[str] = []
    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        node, index = stack.pop()
        if index == 0:
            on_path[node] = len(path)
            path.append(node)
        targets = edges.get(node, [])
        if index < len(targets):
            stack.append((node, index + 1))
            target = targets[index]
            if target in on_path:
                return path[on_path[target]:] + [target]
            if target not in done:
                stack.append((target, 0))
        else:
            done.add(node)
            del on_path[node]
            path.pop()
    return None


def _dedupe(problems: list[TreeProblem]) -> list[TreeProblem]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for problem in problems:
        key = (problem.field, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def field_path(error: jsonschema_rs.ValidationError) -> str:
    """A JSON Schema error's location as a readable field path: ``steps[2].outcome``."""
    parts = list(error.instance_path)
    kind = error.kind
    kind_name = type(kind).__name__
    if kind_name == "Required":
        parts.append(kind.property)
    elif kind_name == "AdditionalProperties" and getattr(kind, "unexpected", None):
        parts.append(kind.unexpected[0])
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def short_message(error: jsonschema_rs.ValidationError, limit: int = 240) -> str:
    message = error.message
    return message if len(message) <= limit else message[: limit - 1] + "…"


# --- wording: how a tree reads (warnings, never errors) -----------------------------------------
#
# The analysis refuses to store a proposal that breaks one of these; a published flow or an
# admin's edit may, and is shown the warnings instead.

CUT_ENDINGS = ("…", "...")
# Phrases only a machine writes into a tree: the analysis's own framing from before these rules.
MACHINE_PHRASES = ("sessions went different ways", "which applies after")
# Past-tense openings engineers and copilots type for what they did, with the imperative an
# action states instead. Detection and correction share the table, so whatever is flagged can be
# put right (``imperative``); an opening not listed is never flagged.
PAST_TO_IMPERATIVE = {
    "added": "Add", "adjusted": "Adjust", "allowed": "Allow", "applied": "Apply", "assigned": "Assign",
    "changed": "Change", "checked": "Check", "cleared": "Clear", "configured": "Configure",
    "connected": "Connect", "created": "Create", "deleted": "Delete", "disabled": "Disable",
    "enabled": "Enable", "fixed": "Fix", "installed": "Install", "moved": "Move", "rebooted": "Reboot",
    "recreated": "Recreate", "reinstalled": "Reinstall", "removed": "Remove", "renamed": "Rename",
    "renewed": "Renew", "repaired": "Repair", "replaced": "Replace", "restarted": "Restart",
    "restored": "Restore", "synced": "Sync", "tested": "Test", "unlocked": "Unlock", "updated": "Update",
    "upgraded": "Upgrade", "verified": "Verify", "re-enabled": "Re-enable", "re-mapped": "Re-map",
    "remapped": "Remap", "re-added": "Re-add", "uninstalled": "Uninstall", "turned": "Turn", "ran": "Run",
    "tried": "Try", "asked": "Ask", "told": "Tell", "got": "Get",
}


def imperative(text: str) -> str:
    """``text`` opening with the imperative where it opens with a listed past tense."""
    first, _, rest = text.partition(" ")
    verb = PAST_TO_IMPERATIVE.get(first.casefold())
    return f"{verb} {rest}".rstrip() if verb else text


def is_cut(text: str) -> bool:
    """Whether a text ends the way a clipped one does ("…" or "...")."""
    return text.rstrip().endswith(CUT_ENDINGS)


def _machine_phrase(text: str) -> str | None:
    folded = text.casefold()
    return next((p for p in MACHINE_PHRASES if p in folded), None)


def tree_warnings(tree: Any, base: dict[str, Any] | None = None) -> list[TreeProblem]:
    """How the tree fails to read as an engineer's: questions that decide nothing, cut or
    machine-made texts, questions without a question mark, actions not stated as imperatives.

    With ``base`` (the published version a proposal changes), only what differs from it is
    judged: a published question whose answers all lead on to one step records a fact, and adding
    an answer to it is still right; what the flow already said is the admin's. Malformed trees
    get no warnings: ``tree_problems`` reports them."""
    if not isinstance(tree, dict) or not isinstance(tree.get("nodes"), dict):
        return []
    old = base.get("nodes", {}) if isinstance(base, dict) and isinstance(base.get("nodes"), dict) else {}
    warnings: list[TreeProblem] = []
    for node_id, node in tree["nodes"].items():
        if not isinstance(node, dict) or not isinstance(node.get("text"), str):
            continue
        was = old.get(node_id) if isinstance(old.get(node_id), dict) else None
        where, text, kind = f"nodes.{node_id}", node["text"], node.get("type")
        if was is None or was.get("text") != text:
            warnings.extend(_text_warnings(where, kind, text))
        if kind != "question" or not isinstance(node.get("options"), list):
            continue
        options = [o for o in node["options"] if isinstance(o, dict)]
        if was is None:
            targets = {o.get("next") for o in options}
            if len(options) >= 2 and len(targets) == 1:
                warnings.append(TreeProblem(f"{where}.options", "every answer leads to the same step: the question "
                                                                "decides nothing (drop it, or make the answers lead apart)"))
            elif len(options) < 2:
                warnings.append(TreeProblem(f"{where}.options", "a question with one answer is not a question"))
        old_labels = {o.get("label", "").strip().casefold() for o in (was or {}).get("options", [])
                      if isinstance(o, dict) and isinstance(o.get("label"), str)}
        for index, option in enumerate(options):
            label = option.get("label")
            if isinstance(label, str) and label.strip().casefold() not in old_labels:
                if is_cut(label):
                    warnings.append(TreeProblem(f"{where}.options[{index}].label",
                                                f"the answer {label!r} is cut off: use whole words from a shorter source"))
                elif _machine_phrase(label):
                    warnings.append(TreeProblem(f"{where}.options[{index}].label",
                                                f"the answer {label!r} reads as the analysis's, not an engineer's"))
    return warnings


def _text_warnings(where: str, kind: Any, text: str) -> list[TreeProblem]:
    out = []
    if is_cut(text):
        out.append(TreeProblem(f"{where}.text", "the text is cut off"))
    phrase = _machine_phrase(text)
    if phrase:
        out.append(TreeProblem(f"{where}.text", f"“{phrase}” reads as the analysis's, not an engineer's"))
    if kind == "question" and not text.rstrip().endswith("?"):
        out.append(TreeProblem(f"{where}.text", "a question ends with a question mark"))
    if kind in STEP_TYPES and imperative(text) != text:
        first, verb = text.split(" ", 1)[0], imperative(text).split(" ", 1)[0]
        out.append(TreeProblem(f"{where}.text", f"an {kind} says what to do (“{verb}”), not what was done (“{first}”)"))
    return out


# Words a phrase does not end on: a title ending on one was cut at a word ("… not updating at the").
DANGLING = frozenset("a an the at to of for from with and or but than".split())  # not "in": "sign in"


def title_warnings(title: str) -> list[TreeProblem]:
    """A proposal title is read whole in the queue: never cut, never the analysis's framing."""
    out = []
    words = title.rstrip(" .”\"'").split()
    if is_cut(title) or (words and words[-1].casefold() in DANGLING):
        out.append(TreeProblem("title", "the title is cut off"))
    if _machine_phrase(title):
        out.append(TreeProblem("title", "the title reads as the analysis's, not an engineer's"))
    return out
