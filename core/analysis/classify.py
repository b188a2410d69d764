"""What a resolved session is evidence of, given its path and the flow it matched.

* ``conforming``: it followed the flow to a resolution: the flow works, nothing to propose.
* ``enhancement``: it left the flow (a typed answer, steps the tree lacks, an end the tree
  does not reach): one ``Deviation`` per place it left, each a change to propose.
* ``new_flow``: no flow matched; its path up to the resolution could become one.
* ``unusable``: nothing can be learnt from it, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.analysis.answers import matching_option
from core.analysis.paths import DOING, TERMINAL, PathStep, clip_label, normal
from core.analysis.tree_building import CannotGraft, End, graft, split_terminal


@dataclass(frozen=True)
class Deviation:
    anchor: str  # the last node of the published tree before the session left it
    exit_kind: str  # free | option | next
    label: str | None  # the typed answer (free) or the option chosen (option)
    steps: tuple[PathStep, ...]  # what the session did off the tree
    end: End  # the tree node it came back to, or the end it reached instead

    def key(self, flow: str, version: int) -> str:
        """Sessions with the same key support the same change. Typed answers that carry on at
        the same place are paraphrases of one missing option, so the answer is not in it."""
        label = normal(self.label)[:60] if self.exit_kind == "option" else ""
        end = self.end.node or self.end.kind
        return f"enh:{flow}:v{version}:{self.anchor}:{self.exit_kind}:{label}:{end}"[:255]

    def describe(self, nodes: dict[str, Any]) -> str:
        anchor_text = nodes.get(self.anchor, {}).get("text", self.anchor)
        where = f"“{anchor_text}”"
        if self.end.node:
            goes = f"then “{nodes.get(self.end.node, {}).get('text', self.end.node)}”"
        else:
            goes = f"then {self.end.kind} “{self.end.text}”"
        extra = f"{len(self.steps)} new step{'s' if len(self.steps) != 1 else ''}, " if self.steps else ""
        if self.exit_kind == "free":
            return f"New option “{self.label}” at {where}: {extra}{goes}"
        if self.exit_kind == "option":
            return f"New branch after answering “{self.label}” at {where}: {extra}{goes}"
        return f"New branch after {where}: {extra}{goes}"


@dataclass(frozen=True)
class Verdict:
    kind: str  # conforming | enhancement | new_flow | unusable
    reason: str = ""
    deviations: tuple[Deviation, ...] = field(default=())
    path: tuple[PathStep, ...] = ()


def classify(path: Sequence[PathStep], tree: dict[str, Any] | None, matched: bool,
             resolution_summary: str | None, current: dict[str, Any] | None = None) -> Verdict:
    """``tree`` is the version of the matched flow the session followed (None when no flow
    matched); ``current``, when it is another version, the flow's current tree: proposals
    change the current version, so only the places the session left that it still lacks count."""
    if not matched:
        return _new_flow(path)
    assert tree is not None
    verdict = _against_flow(path, tree["nodes"], resolution_summary)
    if current is None or current is tree or verdict.kind != "enhancement":
        return verdict
    return still_open(verdict, current)


def still_open(verdict: Verdict, current: dict[str, Any]) -> Verdict:
    """``verdict``, found against an older version, with only the deviations the current
    version still lacks (each worded on the current tree). A session that typed "New Outlook"
    on a version without that answer is no evidence for adding it to a version that has it."""
    kept = [moved for d in verdict.deviations if (moved := _on_current(d, current)) is not None]
    if not kept:
        return Verdict("unusable", "the session followed an older version of the flow; the current version "
                                   "already has what it did there, or no longer has that part of the tree")
    return replace(verdict, deviations=tuple(kept))


def _on_current(deviation: Deviation, current: dict[str, Any]) -> Deviation | None:
    nodes = current["nodes"]
    anchor = nodes.get(deviation.anchor)
    if anchor is None or (deviation.end.node is not None and deviation.end.node not in nodes):
        return None
    if deviation.exit_kind != "next":
        if anchor.get("type") != "question":
            return None
        labels = [o["label"] for o in anchor.get("options", [])]
        index = matching_option(deviation.label, labels)
        if deviation.exit_kind == "free" and index is not None:
            return None  # the current version offers the answer the session typed
        if deviation.exit_kind == "option":
            if index is None:
                return None  # the option it picked is gone
            deviation = replace(deviation, label=labels[index])
    elif anchor.get("type") == "question":
        return None
    try:
        grafted = graft(current, deviation.anchor, deviation.exit_kind, deviation.label, deviation.steps,
                        deviation.end)
    except CannotGraft:
        return None
    return None if grafted is current else deviation


def _new_flow(path: Sequence[PathStep]) -> Verdict:
    if not any(step.kind in DOING for step in path):
        return Verdict("unusable", "no action or script before the resolution: nothing to turn into a flow")
    if path[-1].kind == "escalation":
        return Verdict("unusable", "the path ends in an escalation, not a resolution")
    return Verdict("new_flow", path=tuple(path))


def _against_flow(path: Sequence[PathStep], nodes: dict[str, Any], resolution_summary: str | None) -> Verdict:
    deviations: list[Deviation] = []
    anchor: str | None = None
    exit_kind, label = "next", None
    expected: str | None = None
    off: list[PathStep] = []
    ended = False
    for step in path:
        node = nodes.get(step.node_id) if step.node_id else None
        if node is None or node.get("type") != step.kind:
            off.append(step)  # not a node of this version of the tree: off the flow
            continue
        if anchor is None and off:
            return Verdict("unusable", "the session left the flow before its first node; "
                                       "the flow's start cannot take a branch")
        if anchor is not None and (off or exit_kind == "free" or step.node_id != expected):
            deviations.append(Deviation(anchor, exit_kind, label, tuple(off), End(node=step.node_id)))
        off = []
        anchor = step.node_id
        if step.kind == "question":
            chosen = _option(node, step.answer)
            if chosen is not None:
                exit_kind, label, expected = "option", chosen["label"], chosen["next"]
            else:
                exit_kind, label, expected = "free", clip_label(step.answer), None
        elif step.kind in TERMINAL:
            ended = True
            break
        else:
            exit_kind, label, expected = "next", None, node.get("next")
    if anchor is None:
        return Verdict("unusable", "no step of the session is a node of the matched flow")
    if not ended:
        steps, end = split_terminal(off, resolution_summary)
        if end.kind == "escalation":
            return Verdict("unusable", "the session left the flow and ended in an escalation")
        deviations.append(Deviation(anchor, exit_kind, label, tuple(steps), end))
    if not deviations:
        return Verdict("conforming")
    return Verdict("enhancement", deviations=tuple(deviations), path=tuple(path))


def _option(node: dict[str, Any], answer: str | None) -> dict[str, Any] | None:
    """The option the answer picked; a typed answer that means an offered option picks it
    (``answers.matching_option``), so it is never proposed as a missing one."""
    options = node.get("options", [])
    index = matching_option(clip_label(answer), [o["label"] for o in options])
    return options[index] if index is not None else None
