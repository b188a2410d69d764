"""Flows: the account's published flows with their usage, and one flow's diagram and history."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.auth import Actor
from core.flow_catalog import FlowDetail, flow_detail, flow_list
from core.settings import get_settings
from core.tree_diagram import tree_to_dot
from core.tree_diff import diff_trees
from dashboard import resources, url_params
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
SOURCE_LABEL = {"import": "imported", "proposal": "approved proposal", "edit": "edited proposal"}
_SELECTED = "fl_selected"


@st.cache_data(ttl=TTL, show_spinner=False)
def _flows(url: str, actor: Actor, account_id: int) -> pd.DataFrame:
    with resources.read_session(url) as db:
        return flow_list(db, actor, account_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def _flow(url: str, actor: Actor, account_id: int, flow_id: int) -> FlowDetail | None:
    with resources.read_session(url) as db:
        return flow_detail(db, actor, account_id, flow_id)


def clear_caches() -> None:
    _flows.clear()
    _flow.clear()


def _table(frame: pd.DataFrame) -> int | None:
    key = "fl_table_" + hashlib.sha1(",".join(map(str, frame["id"])).encode()).hexdigest()[:12]
    event = st.dataframe(
        frame, key=key, on_select="rerun", selection_mode="single-row", hide_index=True, width="stretch",
        column_order=["name", "external_id", "domain", "current_version", "versions", "sessions",
                      "resolution_rate", "last_used"],
        column_config={
            "name": st.column_config.TextColumn("Flow", width="medium"),
            "external_id": st.column_config.TextColumn("Id"),
            "domain": st.column_config.TextColumn("Domain", width="small"),
            "current_version": st.column_config.NumberColumn("Version", width="small", format="v%d"),
            "versions": st.column_config.NumberColumn("Versions", width="small"),
            "sessions": st.column_config.NumberColumn("Sessions matched", format="localized"),
            "resolution_rate": st.column_config.ProgressColumn("Resolution rate", min_value=0.0, max_value=1.0,
                                                               format="percent"),
            "last_used": st.column_config.DatetimeColumn("Last used", format="YYYY-MM-DD HH:mm"),
        },
    )
    rows = event.selection.rows
    return int(frame.iloc[rows[0]]["id"]) if rows else None


def _history(detail: FlowDetail) -> None:
    st.dataframe(
        pd.DataFrame([(v.version, SOURCE_LABEL.get(v.source, v.source), v.published_at, v.published_by or "–",
                       f"#{v.source_proposal_id} {v.source_proposal_title or ''}".strip() if v.source_proposal_id else "–",
                       v.note or "") for v in detail.versions],
                     columns=["Version", "Source", "Published", "Published by", "From proposal", "Note"]),
        hide_index=True, width="stretch",
        column_config={"Published": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )


def flows_page() -> None:
    actor, account = resources.require("view_flows")
    url = resources.database_url()
    st.title("Flows")
    st.caption("The published troubleshooting flows of this account, how often sessions followed them "
               "and how those sessions ended. Select one to see its diagram and version history.")
    frame = _flows(url, actor, account.id)
    if frame.empty:
        st.info("This account has no published flows yet. Import them (`python -m core import --flows FILE`) "
                "or approve a proposal in the review queue.", icon=":material/inbox:")
        return
    picked = _table(frame)
    linked = url_params.url_int("flow", what="a flow number")
    selected = picked or st.session_state.get(_SELECTED) or linked
    if selected not in set(frame["id"]):
        return
    st.session_state[_SELECTED] = selected
    st.query_params["flow"] = str(selected)
    detail = _flow(url, actor, account.id, selected)
    if detail is None:
        return

    with st.container(border=True):
        st.subheader(md_escape(detail.name), anchor=False)
        st.caption(f"{md_escape(detail.external_id)} · {md_escape(detail.domain or 'no domain')} · "
                   f"current version v{detail.current_version:d} · {len(detail.versions)} "
                   f"version{'s' if len(detail.versions) != 1 else ''} stored")
        numbers = frame.loc[frame["id"] == selected].iloc[0]
        left, middle, right = st.columns(3)
        left.metric("Sessions matched", f"{numbers['sessions']:,}", border=True)
        rate = numbers["resolution_rate"]
        middle.metric("Resolution rate", "–" if pd.isna(rate) else f"{rate:.1%}", border=True)
        last = numbers["last_used"]
        right.metric("Last used", "never" if pd.isna(last) else f"{last:%d %b %Y}", border=True)

        stored = len(detail.versions)
        diagram, history = st.tabs(["Diagram", f"History ({stored} version{'s' if stored != 1 else ''})"])
        with diagram:
            versions = {v.version: v for v in detail.versions}
            shown = st.selectbox("Version", list(versions), key=f"fl_version_{detail.id}",
                                 format_func=lambda n: f"v{n}" + (" (current)" if n == detail.current_version else ""))
            earlier = versions.get(max((n for n in versions if n < shown), default=-1))
            changes = diff_trees(earlier.tree, versions[shown].tree) if earlier else None
            if changes is not None:
                # describe() is counts and fixed words only.
                st.caption(f"Against v{earlier.version:d}: {trusted(changes.describe())} (new nodes and answers green, changed nodes amber).")
            st.graphviz_chart(tree_to_dot(versions[shown].tree, changes))
        with history:
            _history(detail)
