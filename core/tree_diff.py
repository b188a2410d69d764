"""What changed between two valid trees, per node: for highlighted diagrams and change lists.

The diff itself is the analysis's (``core.analysis.tree_building.tree_diff``, the one stored on
proposals); this module only folds it into node ids to colour and lines to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.analysis.tree_building import tree_diff


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


def diff_trees(before: dict[str, Any] | None, after: dict[str, Any]) -> TreeDiff:
    raw = tree_diff(before, after)
    lines = [f"added {n['type']} {n['id']}: {n['text']}" for n in raw["nodes_added"]]
    lines += [f"removed {n['type']} {n['id']}: {n['text']}" for n in raw["nodes_removed"]]
    for change in raw["nodes_changed"]:
        lines += [f"{change['id']}: {field} {value['from']!r} → {value['to']!r}"
                  for field, value in change.items() if field != "id"]
    lines += [f"{o['node']}: new option {o['label']!r} → {o['next']}" for o in raw["options_added"]]
    lines += [f"{o['node']}: option {o['label']!r} removed" for o in raw["options_removed"]]
    lines += [f"{o['node']}: option {o['label']!r} now leads to {o['next']['to']} (was {o['next']['from']})"
              for o in raw["options_changed"]]
    if "root_changed" in raw:
        lines.append(f"root {raw['root_changed']['from']} → {raw['root_changed']['to']}")
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
