"""What changed between two valid trees, per node: for highlighted diagrams and change lists.

``tree_diff`` is the raw diff, the one the analysis stores on proposals; ``TreeDiff`` folds it into
node ids to colour and lines to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def tree_diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """What ``after`` adds to, changes in and removes from ``before``, node by node and option
    by option (options are matched by label, case-insensitively)."""
    old = (before or {}).get("nodes", {})
    new = after.get("nodes", {})
    diff: dict[str, Any] = {
        "nodes_added": [{"id": k, "type": v["type"], "text": v["text"]} for k, v in new.items() if k not in old],
        "nodes_removed": [{"id": k, "type": v["type"], "text": v["text"]} for k, v in old.items() if k not in new],
        "nodes_changed": [], "options_added": [], "options_removed": [], "options_changed": [],
    }
    if before is not None and before.get("root") != after.get("root"):
        diff["root_changed"] = {"from": before.get("root"), "to": after.get("root")}
    for node_id in (k for k in new if k in old):
        was, now = old[node_id], new[node_id]
        changes = {f: {"from": was.get(f), "to": now.get(f)} for f in ("type", "text", "next") if was.get(f) != now.get(f)}
        if changes:
            diff["nodes_changed"].append({"id": node_id, **changes})
        was_options = {o["label"].strip().casefold(): o for o in was.get("options", [])}
        now_options = {o["label"].strip().casefold(): o for o in now.get("options", [])}
        for key, option in now_options.items():
            if key not in was_options:
                diff["options_added"].append({"node": node_id, "label": option["label"], "next": option["next"]})
            elif was_options[key]["next"] != option["next"]:
                diff["options_changed"].append({"node": node_id, "label": option["label"],
                                                "next": {"from": was_options[key]["next"], "to": option["next"]}})
        for key, option in was_options.items():
            if key not in now_options:
                diff["options_removed"].append({"node": node_id, "label": option["label"], "next": option["next"]})
    return diff


@dataclass(frozen=True)
class TreeDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]  # same id; its type, text, next or options differ
    root_changed: bool
    lines: tuple[str, ...]  # each change in words, for a list beside the diagrams
    new_options: frozenset[tuple[str, str]] = frozenset()  # (question id, label casefolded): new or re-routed

    def is_new_option(self, node_id: str, label: object) -> bool:
        return isinstance(label, str) and (node_id, label.strip().casefold()) in self.new_options

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.root_changed)

    def status_of(self, node_id: str) -> str | None:
        if node_id in self.added:
            return "added"
        if node_id in self.changed:
            return "changed"
        if node_id in self.removed:
            return "removed"
        return None

    def describe(self) -> str:
        parts = [f"{len(ids)} node{'s' if len(ids) != 1 else ''} {what}" for what, ids in
                 (("added", self.added), ("changed", self.changed), ("removed", self.removed)) if ids]
        if self.root_changed:
            parts.append("new root")
        return ", ".join(parts) or "no change"


def _unique(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _quote(nodes: dict[str, Any], node_id: Any, limit: int = 90) -> str:
    node = nodes.get(node_id) if isinstance(node_id, str) else None
    text = node.get("text") if isinstance(node, dict) else None
    if not isinstance(text, str):
        return f"node {node_id}"
    flat = " ".join(text.split())
    # A line quotes a step by its opening words; the diagram and the editor show it whole.
    return f"“{flat}”" if len(flat) <= limit else f"“{flat[:limit].rsplit(' ', 1)[0]} …”"


def change_lines(before: dict[str, Any] | None, after: dict[str, Any], raw: dict[str, Any]) -> list[str]:
    """Each change in words an admin reads, by the nodes' texts (never their ids): "Added the
    answer “New Outlook” to “Which Outlook is the user on?” → then “Rebuild the OST”"."""
    old, new = (before or {}).get("nodes", {}), after.get("nodes", {})
    lines = [f"Added the answer “{o['label']}” to {_quote(new, o['node'])} → then {_quote(new, o['next'])}"
             for o in raw["options_added"]]
    lines += [f"The answer “{o['label']}” to {_quote(new, o['node'])} now leads to {_quote(new, o['next']['to'])} "
              f"(was {_quote(old, o['next']['from'])})" for o in raw["options_changed"]]
    lines += [f"Removed the answer “{o['label']}” from {_quote(old, o['node'])}" for o in raw["options_removed"]]
    for change in raw["nodes_changed"]:
        if "text" in change:
            lines.append(f"Reworded {_quote(old, change['id'])} → {_quote(new, change['id'])}")
        if "type" in change:
            lines.append(f"{_quote(new, change['id'])} is now a {change['type']['to']} (was a {change['type']['from']})")
        if "next" in change:
            lines.append(f"After {_quote(new, change['id'])} now {_quote(new, change['next']['to'])} "
                         f"(was {_quote(old, change['next']['from'])})")
    lines += [f"New {n['type']} {_quote(new, n['id'])}" for n in raw["nodes_added"]]
    lines += [f"Removed {n['type']} {_quote(old, n['id'])}" for n in raw["nodes_removed"]]
    if "root_changed" in raw:
        lines.append(f"Starts with {_quote(new, raw['root_changed']['to'])} "
                     f"(was {_quote(old, raw['root_changed']['from'])})")
    return lines


def diff_trees(before: dict[str, Any] | None, after: dict[str, Any]) -> TreeDiff:
    raw = tree_diff(before, after)
    lines = change_lines(before, after, raw)
    changed = [c["id"] for c in raw["nodes_changed"]]
    changed += [o["node"] for key in ("options_added", "options_removed", "options_changed") for o in raw[key]]
    return TreeDiff(
        added=_unique([n["id"] for n in raw["nodes_added"]]),
        removed=_unique([n["id"] for n in raw["nodes_removed"]]),
        changed=_unique(changed),
        root_changed="root_changed" in raw,
        lines=tuple(lines),
        new_options=frozenset((o["node"], o["label"].strip().casefold())
                              for key in ("options_added", "options_changed") for o in raw[key]),
    )
