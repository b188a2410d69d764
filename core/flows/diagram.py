"""A tree as a Graphviz DOT diagram. Pure: text in, text out.

Every text in a tree may come from a session (untrusted), so nothing is pasted into the DOT
source unescaped: labels are quoted strings with backslashes and quotes escaped, control
characters dropped, and node ids are referenced by position, never by their own text.
"""

from __future__ import annotations

import textwrap
from typing import Any

from core.flows.diff import TreeDiff

WRAP = 34
MAX_LABEL = 240
MAX_EDGE_LABEL = 200  # an answer is drawn whole (a label is at most 200 characters)

# (shape, style, fill) per node type; colours readable on the light and the dark theme.
NODE_STYLES = {
    "question": ("box", "rounded,filled", "#dbeafe"),
    "action": ("box", "filled", "#f3f4f6"),
    "script": ("box", "filled,dashed", "#ede9fe"),
    "resolution": ("box", "rounded,filled,bold", "#dcfce7"),
    "escalation": ("box", "rounded,filled,bold", "#fee2e2"),
}
UNKNOWN_STYLE = ("box", "filled", "#ffffff")
HIGHLIGHT = {"added": ("#16a34a", "NEW"), "changed": ("#d97706", "CHANGED")}


def dot_string(text: Any, limit: int = MAX_LABEL, wrap: int = WRAP) -> str:
    """``text`` as the inside of a DOT double-quoted string, wrapped onto centred lines."""
    value = " ".join(str(text if text is not None else "").split())  # also drops newlines and tabs
    value = "".join(ch for ch in value if ch.isprintable())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    lines = textwrap.wrap(value, wrap) or [""]
    escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return "\\n".join(escaped)


def tree_to_dot(tree: Any, diff: TreeDiff | None = None) -> str:
    """The tree top to bottom, node types styled; with a diff, added and changed nodes stand out."""
    nodes = tree.get("nodes") if isinstance(tree, dict) else None
    if not isinstance(nodes, dict):
        nodes = {}
    ids = {node_id: f"n{index}" for index, node_id in enumerate(nodes)}
    root = tree.get("root") if isinstance(tree, dict) else None
    lines = [
        "digraph tree {",
        '  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, fontname="Helvetica", bgcolor="transparent"];',
        '  node [fontname="Helvetica", fontsize=11, margin="0.15,0.08", color="#64748b", fontcolor="#111827"];',
        '  edge [fontname="Helvetica", fontsize=10, color="#64748b", fontcolor="#334155"];',
    ]
    for node_id, node in nodes.items():
        node = node if isinstance(node, dict) else {}
        node_type = node.get("type")
        shape, style, fill = NODE_STYLES.get(node_type, UNKNOWN_STYLE)
        kind = dot_string(str(node_type or "?").upper(), limit=20)
        label = f"{kind}\\n{dot_string(node.get('text'))}"
        extra = ""
        status = diff.status_of(node_id) if diff else None
        if status in HIGHLIGHT:
            colour, tag = HIGHLIGHT[status]
            label = f"{tag} · {label}"
            extra = f', color="{colour}", penwidth=3'
        if node_id == root:
            extra += ", peripheries=2"
        lines.append(f'  {ids[node_id]} [label="{label}", shape={shape}, style="{style}", fillcolor="{fill}"{extra}];')
    for node_id, node in nodes.items():
        if not isinstance(node, dict):
            continue
        options = node.get("options")
        if isinstance(options, list):
            for option in options:
                if isinstance(option, dict) and isinstance(option.get("next"), str) and option["next"] in ids:
                    label = dot_string(option.get("label"), limit=MAX_EDGE_LABEL, wrap=20)
                    new = diff is not None and diff.is_new_option(node_id, option.get("label"))
                    style = f', color="{HIGHLIGHT["added"][0]}", fontcolor="{HIGHLIGHT["added"][0]}", penwidth=2.5' \
                        if new else ""
                    lines.append(f'  {ids[node_id]} -> {ids[option["next"]]} [label="{label}"{style}];')
        elif isinstance(node.get("next"), str) and node["next"] in ids:
            lines.append(f"  {ids[node_id]} -> {ids[node['next']]};")
    lines.append("}")
    return "\n".join(lines)
