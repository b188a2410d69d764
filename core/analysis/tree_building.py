"""Paths into trees: a new flow from a discovery path, a published flow with a deviation
grafted on, more paths merged in as branches where they diverge, and the diff of two trees.

Every function works on plain tree dicts (the interchange format) and returns new ones; the
caller checks the result with ``core.flows.trees.tree_problems`` before storing it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.analysis.paths import DOING, PathStep, clip, clip_label, normal
from core.flows.trees import MAX_NODES, MAX_OPTIONS

UNEXPLORED = "e_unexplored"
UNEXPLORED_TEXT = "No session has taken this answer yet: escalate to second line"
OTHER_ANSWER = "Something else"
FORK_PREFIX = "q_fork"
MAX_WALK = 2 * MAX_NODES  # a merge that has not settled by then never will


class CannotGraft(ValueError):
    """The path cannot be expressed in the tree (e.g. a question would need too many options)."""


@dataclass(frozen=True)
class End:
    """Where a path ends: an existing node it rejoins, or a new terminal with this text."""

    node: str | None = None
    kind: str = "resolution"
    text: str = ""


Edge = tuple[str | None, Any]  # (None, None): the root; (node, "next"); (node, option index)


class _Graph:
    def __init__(self, tree: dict[str, Any] | None, *, read_only: bool = False):
        self.root: str | None = tree["root"] if tree else None
        nodes = tree["nodes"] if tree else {}
        self.nodes: dict[str, dict[str, Any]] = nodes if read_only else copy.deepcopy(nodes)

    # --- edges -----------------------------------------------------------------------------

    def target(self, edge: Edge) -> str | None:
        parent, how = edge
        if parent is None:
            return self.root
        node = self.nodes[parent]
        return node.get("next") if how == "next" else node["options"][how]["next"]

    def point(self, edge: Edge, target: str) -> None:
        parent, how = edge
        if parent is None:
            self.root = target
        elif how == "next":
            self.nodes[parent]["next"] = target
        else:
            self.nodes[parent]["options"][how]["next"] = target

    # --- building ----------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        n = 1
        while f"{prefix}{n}" in self.nodes:
            n += 1
        return f"{prefix}{n}"

    def build(self, steps: Sequence[PathStep], end: End) -> str:
        """New nodes for ``steps`` in order, ending at ``end``; returns the first node's id."""
        following = self.build_end(end)
        for step in reversed(steps):
            following = self.build_step(step, following)
        return following

    def build_end(self, end: End) -> str:
        if end.node is not None:
            return end.node
        node_id = self.new_id("r_new" if end.kind == "resolution" else "e_new")
        self.nodes[node_id] = {"type": end.kind, "text": clip(end.text) or "Resolved"}
        return node_id

    def build_step(self, step: PathStep, following: str | None) -> str:
        """One new node; ``following`` None leaves its way on open for the walk to fill in."""
        if step.kind in DOING:
            node_id = self.new_id("a_new" if step.kind == "action" else "s_new")
            self.nodes[node_id] = {"type": step.kind, "text": step.text}
            if following is not None:
                self.nodes[node_id]["next"] = following
            return node_id
        node_id = self.new_id("q_new")
        answer = clip_label(step.answer)
        options = [{"label": answer, "next": following}]
        for offered in step.options:
            if offered and normal(offered) != normal(answer):
                options.append({"label": offered, "next": self.unexplored()})
        if len(options) < 2:
            options.append({"label": OTHER_ANSWER, "next": self.unexplored()})
        self.nodes[node_id] = {"type": "question", "text": step.text, "options": _distinct(options)[:MAX_OPTIONS]}
        return node_id

    def unexplored(self) -> str:
        self.nodes.setdefault(UNEXPLORED, {"type": "escalation", "text": UNEXPLORED_TEXT})
        return UNEXPLORED

    def add_option(self, question: str, label: str, target: str) -> int:
        options = self.nodes[question]["options"]
        if len(options) >= MAX_OPTIONS:
            raise CannotGraft(f"question {question!r} already has {MAX_OPTIONS} options")
        options.append({"label": _unique_label(label, options), "next": target})
        return len(options) - 1

    def fork(self, edge: Edge, old: str, new: str) -> None:
        """Sessions went two ways here: a question lets the engineer say which way applies."""
        node_id = self.new_id(FORK_PREFIX)
        options = [{"label": clip_label(self.nodes[old]["text"]), "next": old}]
        options.append({"label": _unique_label(clip_label(self.nodes[new]["text"]), options), "next": new})
        # The working tree's own marker; ``wording.present`` asks the reader's question here.
        self.nodes[node_id] = {"type": "question", "text": "What happened next?", "options": options}
        self.point(edge, node_id)

    # --- matching ----------------------------------------------------------------------------

    def matches(self, node_id: str | None, step: PathStep) -> bool:
        node = self.nodes.get(node_id) if node_id else None
        return bool(node) and node["type"] == step.kind and normal(node["text"]) == normal(step.text)

    def ends(self, node_id: str | None, end: End) -> bool:
        if node_id is None:
            return False
        if end.node is not None:
            return node_id == end.node
        node = self.nodes.get(node_id)
        return bool(node) and node["type"] == end.kind and normal(node["text"]) == normal(end.text)

    def option_for(self, question: str, answer: str | None) -> int | None:
        wanted = normal(clip_label(answer))  # labels were clipped when they were made
        for index, option in enumerate(self.nodes[question]["options"]):
            if normal(option["label"]) == wanted:
                return index
        return None

    def reachable(self, start: str) -> set[str]:
        seen, stack = {start}, [start]
        while stack:
            node = self.nodes.get(stack.pop(), {})
            for target in [o.get("next") for o in node.get("options", [])] + [node.get("next")]:
                if target and target not in seen:
                    seen.add(target)
                    stack.append(target)
        return seen

    def entry(self, parent: str | None, steps: Sequence[PathStep], end: End) -> str:
        """Where the rest of a path enters the graph: an existing node that already does what
        it does next (so branches share their common tail instead of copying it), else new
        nodes. A node the parent is reachable from is never reused: that would close a cycle."""
        if not steps:
            return self.end_node(end)
        for node_id in self.nodes:
            if (node_id != UNEXPLORED and not node_id.startswith(FORK_PREFIX) and self.matches(node_id, steps[0])
                    and (parent is None or parent not in self.reachable(node_id))):
                return node_id
        # One node at a time: the walk goes on into it and may find the next one already there.
        return self.build_step(steps[0], None)

    def end_node(self, end: End) -> str:
        if end.node is None:
            for node_id in self.nodes:
                if node_id != UNEXPLORED and self.ends(node_id, end):
                    return node_id
        return self.build_end(end)

    # --- merging -----------------------------------------------------------------------------

    def merge(self, edge: Edge, steps: Sequence[PathStep], end: End) -> None:
        """Walk the graph from ``edge`` along the path; where they part, graft the rest on.

        Each turn either follows the path one step, or changes the graph so that the next
        turn can follow it (a new option, a fork, new nodes), so the walk always ends."""
        i = 0
        for _ in range(4 * MAX_WALK):
            target = self.target(edge)
            rest = steps[i:]
            if target is None or target == UNEXPLORED:
                self.point(edge, self.entry(edge[0], rest, end))
                continue
            if not rest:
                if self.ends(target, end):
                    return
                if target.startswith(FORK_PREFIX):
                    index = next((k for k, o in enumerate(self.nodes[target]["options"]) if self.ends(o["next"], end)),
                                 None)
                    if index is None:
                        new = self.end_node(end)
                        index = self.add_option(target, clip_label(self.nodes[new]["text"]), new)
                    edge = (target, index)
                else:
                    self.fork(edge, target, self.end_node(end))
                continue
            step = rest[0]
            if self.matches(target, step):
                if step.kind in DOING:
                    edge, i = (target, "next"), i + 1
                    continue
                index = self.option_for(target, step.answer)
                if index is None:
                    index = self.add_option(target, clip_label(step.answer) or OTHER_ANSWER,
                                            self.entry(target, rest[1:], end))
                elif self.nodes[target]["options"][index]["next"] == UNEXPLORED:
                    self.nodes[target]["options"][index]["next"] = self.entry(target, rest[1:], end)
                edge, i = (target, index), i + 1
                continue
            if target.startswith(FORK_PREFIX):
                options = self.nodes[target]["options"]
                index = next((k for k, o in enumerate(options) if self.matches(o["next"], step)), None)
                if index is None:
                    new = self.entry(target, rest, end)
                    index = self.add_option(target, clip_label(self.nodes[new]["text"]), new)
                edge = (target, index)
                continue
            if end.node is not None and end.node == target:
                # Extra steps before the node the flow goes to anyway: an insertion, no fork.
                self.point(edge, self.build(rest, end))
                continue
            self.fork(edge, target, self.entry(edge[0], rest, end))
        raise CannotGraft("the path does not settle into the tree")

    def fits(self, edge: Edge, steps: Sequence[PathStep], end: End) -> bool:
        """Whether the graph already holds the path from ``edge`` on: merging it changes nothing."""
        i = 0
        for _ in range(MAX_WALK):
            target = self.target(edge)
            rest = steps[i:]
            if target is None or target == UNEXPLORED:
                return False
            if not rest and self.ends(target, end):
                return True
            if rest and self.matches(target, rest[0]):
                if rest[0].kind in DOING:
                    edge, i = (target, "next"), i + 1
                    continue
                index = self.option_for(target, rest[0].answer)
                if index is None:
                    return False
                edge, i = (target, index), i + 1
                continue
            if not target.startswith(FORK_PREFIX):
                return False
            options = self.nodes[target]["options"]
            want = (lambda o: self.matches(o["next"], rest[0])) if rest else (lambda o: self.ends(o["next"], end))
            index = next((k for k, o in enumerate(options) if want(o)), None)
            if index is None:
                return False
            edge = (target, index)
        return False

    def tree(self) -> dict[str, Any]:
        """The tree with unreachable nodes dropped and the rest in walking order from the root."""
        order, seen, queue = [], {self.root}, [self.root]
        while queue:
            node_id = queue.pop(0)
            order.append(node_id)
            node = self.nodes.get(node_id, {})
            for target in [o.get("next") for o in node.get("options", [])] + [node.get("next")]:
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return {"root": self.root, "nodes": {k: self.nodes[k] for k in order if k in self.nodes}}


def _unique_label(label: str, options: list[dict[str, Any]]) -> str:
    taken = {o["label"].strip().casefold() for o in options}
    candidate, n = label, 2
    while candidate.strip().casefold() in taken:
        suffix = f" ({n})"
        candidate, n = label[: 200 - len(suffix)] + suffix, n + 1
    return candidate


def _distinct(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for option in options:
        key = option["label"].strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(option)
    return out


def split_terminal(path: Sequence[PathStep], fallback: str | None) -> tuple[list[PathStep], End]:
    """The path's steps before its end, and the end (its resolution or escalation)."""
    steps = list(path)
    if steps and steps[-1].kind in ("resolution", "escalation"):
        last = steps.pop()
        return steps, End(kind=last.kind, text=last.text or clip(fallback) or "Resolved")
    return steps, End(kind="resolution", text=clip(fallback) or "Resolved")


def tree_from_path(path: Sequence[PathStep], resolution_summary: str | None = None) -> dict[str, Any]:
    """A new flow's tree: the path up to its resolution, unexplored answers escalating."""
    steps, end = split_terminal(path, resolution_summary)
    graph = _Graph(None)
    graph.merge((None, None), steps, end)
    return graph.tree()


def merge_into_tree(tree: dict[str, Any], path: Sequence[PathStep], resolution_summary: str | None = None) -> dict[str, Any]:
    """``tree`` with one more new-flow path merged in from the root (``tree`` itself, the same
    object, when it already holds the path)."""
    steps, end = split_terminal(path, resolution_summary)
    if _Graph(tree, read_only=True).fits((None, None), steps, end):
        return tree
    graph = _Graph(tree)
    graph.merge((None, None), steps, end)
    return graph.tree()


def graft(tree: dict[str, Any], anchor: str, exit_kind: str, label: str | None,
          steps: Sequence[PathStep], end: End) -> dict[str, Any]:
    """``tree`` with a deviation grafted on at ``anchor``.

    ``exit_kind`` says how the session left the anchor: ``free`` (a typed answer: a new option
    named ``label``, or the option already carrying that label), ``option`` (the existing
    option ``label``) or ``next`` (an action's or script's next). Returns ``tree`` itself when
    it already holds the deviation.
    """
    look = _Graph(tree, read_only=True)
    if anchor in look.nodes:
        index = "next" if exit_kind == "next" else look.option_for(anchor, label)
        if index is not None and look.fits((anchor, index), list(steps), end):
            return tree
    graph = _Graph(tree)
    if anchor not in graph.nodes:
        raise CannotGraft(f"node {anchor!r} is not in the tree")
    if exit_kind == "next":
        edge: Edge = (anchor, "next")
    else:
        index = graph.option_for(anchor, label)
        if index is None:
            if exit_kind != "free":
                raise CannotGraft(f"question {anchor!r} has no option {label!r}")
            index = graph.add_option(anchor, clip_label(label) or OTHER_ANSWER, graph.entry(anchor, steps, end))
        edge = (anchor, index)
    graph.merge(edge, list(steps), end)
    return graph.tree()


def rename_option(tree: dict[str, Any], question: str, old: str, new: str) -> dict[str, Any]:
    """The option ``old`` of ``question`` relabelled ``new`` (unless another option has it)."""
    graph = _Graph(tree)
    index = graph.option_for(question, old) if question in graph.nodes else None
    if index is None or graph.option_for(question, new) not in (None, index):
        return tree
    graph.nodes[question]["options"][index]["label"] = clip_label(new)
    return graph.tree()
