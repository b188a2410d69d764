"""The tree editor of edit & publish: a table of nodes or the raw JSON, validated on every change.

The draft lives in the session state under the editor's key, so switching between the table and
the JSON, or any rerun, keeps the admin's work. Nothing here decides validity on its own: the
problems come from ``core.flows.trees.tree_problems``, the same rules the publish action enforces.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd
import streamlit as st

from core.flows.diagram import tree_to_dot
from core.flows.diff import diff_trees
from core.flows.trees import TreeProblem, tree_problems
from dashboard import script_picker
from dashboard.text import md_escape, trusted

NODE_TYPES = ["question", "action", "script", "resolution", "escalation"]
COLUMNS = ["id", "type", "text", "next", "options"]
ARROW = " → "


def tree_to_table(tree: dict[str, Any]) -> pd.DataFrame:
    """One row per node; a question's options as ``label → next | label → next``."""
    rows = []
    for node_id, node in (tree.get("nodes") or {}).items():
        node = node if isinstance(node, dict) else {}
        options = node.get("options")
        rows.append({
            "id": node_id,
            "type": node.get("type"),
            "text": node.get("text") or "",
            "next": node.get("next") or "",
            "options": " | ".join(f"{o.get('label', '')}{ARROW}{o.get('next', '')}"
                                  for o in options if isinstance(o, dict)) if isinstance(options, list) else "",
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _parse_options(text: str) -> list[dict[str, str]]:
    options = []
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        for arrow in ("→", "->"):
            if arrow in part:
                label, target = part.rsplit(arrow, 1)
                break
        else:
            label, target = part, ""
        options.append({"label": label.strip(), "next": target.strip()})
    return options


def table_to_tree(table: pd.DataFrame, root: str, base: dict[str, Any]) -> dict[str, Any]:
    """The tree the table describes. Fields the table does not show (a script's body) are kept
    from ``base`` while the node keeps its id and type."""
    base_nodes = base.get("nodes") or {}
    nodes: dict[str, Any] = {}
    for row in table.to_dict("records"):
        node_id = str(row.get("id") or "").strip()
        if not node_id:
            continue
        node_type = str(row.get("type") or "").strip()
        node: dict[str, Any] = {"type": node_type, "text": str(row.get("text") or "").strip()}
        if node_type == "question":
            node["options"] = _parse_options(str(row.get("options") or ""))
        elif node_type in ("action", "script"):
            node["next"] = str(row.get("next") or "").strip()
        previous = base_nodes.get(node_id)
        if node_type == "script" and isinstance(previous, dict) and previous.get("type") == "script" \
                and "script" in previous:
            node["script"] = previous["script"]
        nodes[node_id] = node
    return {"root": root, "nodes": nodes}


def _state(key: str, tree: dict[str, Any]) -> dict[str, Any]:
    state = st.session_state.setdefault(key, {"draft": copy.deepcopy(tree), "generation": 0, "json_error": None})
    return state


def reset(key: str) -> None:
    st.session_state.pop(key, None)


def tree_editor(key: str, tree: dict[str, Any], compare_to: dict[str, Any] | None = None
                ) -> tuple[dict[str, Any], list[TreeProblem]]:
    """Render the editor for ``tree``; returns the current draft and what is wrong with it."""
    state = _state(key, tree)
    generation = state["generation"]

    def switched() -> None:
        # The other editor starts from the current draft, not from its own stale widget state.
        state["generation"] += 1
        state["json_error"] = None

    mode = st.segmented_control("Edit as", ["Table", "JSON"], default="Table", key=f"{key}_mode",
                                on_change=switched)
    draft = state["draft"]
    if mode == "JSON":
        text = st.text_area("Tree (JSON)", value=json.dumps(draft, indent=2, ensure_ascii=False), height=420,
                            key=f"{key}_json_{generation}",
                            help="The tree format of shared/formats: root, and nodes by id.")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            state["json_error"] = f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        else:
            state["json_error"] = None
            state["draft"] = draft = parsed
    else:
        node_ids = list((draft.get("nodes") or {}) if isinstance(draft, dict) else {})
        root_default = draft.get("root") if isinstance(draft, dict) else None
        table = st.data_editor(
            tree_to_table(draft if isinstance(draft, dict) else {}), key=f"{key}_table_{generation}",
            num_rows="dynamic", hide_index=True, width="stretch",
            column_config={
                "id": st.column_config.TextColumn("Node id", required=True, width="small",
                                                  help="Letters, digits, _ . -; other nodes lead here by this id."),
                "type": st.column_config.SelectboxColumn("Type", options=NODE_TYPES, required=True, width="small"),
                "text": st.column_config.TextColumn("Text", width="large", required=True),
                "next": st.column_config.TextColumn("Next (action, script)", width="small"),
                "options": st.column_config.TextColumn(
                    "Options (question)", width="medium",
                    help="label → next id, separated by |   e.g.  Yes → a1 | No → e1"),
            },
        )
        root_choices = [n for n in table["id"].dropna().astype(str).str.strip() if n] or node_ids
        root_index = root_choices.index(root_default) if root_default in root_choices else 0
        root = st.selectbox("Root node", root_choices, index=root_index if root_choices else None,
                            key=f"{key}_root_{generation}")
        state["draft"] = draft = table_to_tree(table, root or "", draft if isinstance(draft, dict) else {})

    inserted = script_picker.script_node_inserter(key, draft)
    if inserted is not None:
        # The table and the JSON start again from the tree with the new node, validated below.
        state["draft"], state["json_error"] = inserted, None
        state["generation"] += 1
        st.rerun()

    problems = tree_problems(draft)
    if state["json_error"]:
        problems = [TreeProblem("", state["json_error"]), *problems]
    if problems:
        st.error("**The tree is not valid yet:**\n\n" + "\n".join(f"- {md_escape(p.field or 'tree')}: {md_escape(p.message)}"
                                                                   for p in problems[:20]),
                 icon=":material/rule:")
    else:
        # describe() is counts and fixed words only.
        changes = trusted(diff_trees(compare_to, draft).describe()) if compare_to is not None else None
        st.success("The tree is valid." + (f" Compared with the published version: {changes}." if changes else ""),
                   icon=":material/check_circle:")
        st.graphviz_chart(tree_to_dot(draft, diff_trees(compare_to, draft) if compare_to else None))
    return draft, problems
