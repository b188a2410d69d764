"""Trees as the review panel shows them: the proposed tree at full width with its changes drawn
and listed, the published version one click away in the same place, the wording warnings, and
after a decision what was published, with a link to that version on the Flows page."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.flows.diagram import tree_to_dot
from core.flows.diff import TreeDiff, diff_trees
from core.flows.trees import tree_warnings
from core.proposals.queue import ProposalDetail
from dashboard import page_links
from dashboard.text import md_escape, trusted

LARGE = 12  # nodes: a tree this size may be drawn smaller than its own size to fit the panel
SHOWN_LINES = 6  # changes listed above the diagram; the rest one click away
FULLSCREEN_HINT = "To read a large tree, open it full screen (the chart's top-right button) and scroll."


# In its place a diagram is drawn at its own size (labels 11 pt, about 15 px) and, when wider than
# the panel, scaled down to fit: the whole tree at a glance. In full screen (the chart's toolbar) it
# keeps its own size however large the tree, and the screen scrolls across it: every label legible.
# The full-screen frame is the one whose inner box Streamlit gives a height. Constant CSS, no text
# of any session in it.
FULLSCREEN_CSS = """<style>
[data-testid="stFullScreenFrame"] > div[height] [data-testid="stGraphVizChart"] {
  overflow: auto; width: 100%; height: 100%; }
[data-testid="stFullScreenFrame"] > div[height] [data-testid="stGraphVizChart"] > svg {
  width: auto !important; height: auto !important; max-width: none !important; max-height: none !important; }
</style>"""


def tree_chart(tree: Any, changes: TreeDiff | None = None) -> None:
    """A tree drawn to fit the panel; its full-screen view shows it at its own size, scrolling."""
    st.html(FULLSCREEN_CSS)
    st.graphviz_chart(tree_to_dot(tree, changes))


def warnings(tree: dict[str, Any], base: dict[str, Any] | None) -> None:
    """What does not read as an engineer would write it (``core.flows.trees.tree_warnings``)."""
    found = tree_warnings(tree, base)
    if found:
        st.warning(f"**Check the wording before publishing** ({len(found)}):\n\n"
                   + "\n".join(f"- {md_escape(str(w), limit=300)}" for w in found[:10]),
                   icon=":material/edit_note:")


def change_list(changes: TreeDiff) -> None:
    lines = [f"- {md_escape(line, limit=300)}" for line in changes.lines]
    st.markdown("\n".join(lines[:SHOWN_LINES]))
    if len(lines) > SHOWN_LINES:
        with st.expander(f"{len(lines) - SHOWN_LINES} more change{'s' if len(lines) - SHOWN_LINES != 1 else ''}"):
            st.markdown("\n".join(lines[SHOWN_LINES:]))


def proposed(d: ProposalDetail) -> None:
    """The proposed tree; for an enhancement, its changes drawn and listed, and the published
    version in a second tab of the same width."""
    compare = d.proposal_type == "enhancement" and d.target_tree is not None
    warnings(d.tree, d.target_tree if compare else None)
    if not compare:
        if len(d.tree.get("nodes", {})) > LARGE:
            st.caption(FULLSCREEN_HINT)
        tree_chart(d.tree)
        return
    changes = diff_trees(d.target_tree, d.tree)
    # describe() is counts and fixed words only.
    st.caption(f"Changes against the published version: {trusted(changes.describe())}. "
               "New nodes and answers are drawn green, changed nodes amber. "
               f"{FULLSCREEN_HINT}")
    change_list(changes)
    mine, theirs = st.tabs(["Proposed", f"Published (v{d.target_flow_current_version:d})"])
    with mine:
        tree_chart(d.tree, changes)
    with theirs:
        tree_chart(d.target_tree)


def published(d: ProposalDetail) -> None:
    """What the decision published (an edit may differ from the proposal), and where it lives."""
    external_id, version = d.published_as
    st.markdown(f"**Published as {md_escape(external_id)} version {version:d}:** what engineers follow now.")
    if d.published_flow_id is not None:
        st.page_link(page_links.link_to(page_links.FLOWS), label=md_escape(f"Open {external_id} v{version} on Flows"),
                     icon=":material/account_tree:",
                     query_params={"flow": str(d.published_flow_id), "version": str(version)})
    tree_chart(d.published_tree)


def tree_comparison(before_tree: dict[str, Any], after_tree: dict[str, Any], before_title: str, after_title: str,
                    against: str) -> None:
    """Two versions of a tree in the proposal panel's layout: the changes in words, then the later
    version with what changed highlighted and the earlier one in a second tab of the same width.
    The titles are the code's own words and numbers; the trees' texts are escaped where shown."""
    changes = diff_trees(before_tree, after_tree)
    # describe() is counts and fixed words only.
    st.caption(f"Changes against {trusted(against)}: {trusted(changes.describe())}. "
               f"New nodes and answers are drawn green, changed nodes amber. {FULLSCREEN_HINT}")
    change_list(changes)
    later, earlier = st.tabs([trusted(after_title), trusted(before_title)])
    with later:
        tree_chart(after_tree, changes)
    with earlier:
        tree_chart(before_tree)


def proposal_trees(d: ProposalDetail) -> None:
    if d.published_as is not None and d.published_tree is not None:
        published(d)
    elif d.status == "pending":
        proposed(d)
    else:
        # Dismissed or rejected: the proposal as it stood; comparing with a flow that may have moved on would mislead.
        tree_chart(d.tree)
