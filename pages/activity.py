"""Activity: who decided what in this account (the audit log), newest first, and what each change was.

The filters, the page number and the opened entry live in the URL, so a link reopens the same view.
The reads are not cached: a decision made a moment ago on the review queue shows at once.
"""

from __future__ import annotations


import pandas as pd
import streamlit as st

from core.proposals.activity import (ActivityChoices, ActivityDetail, ActivityFilters, ActivityPage, action_words, activity,
                           activity_choices, activity_csv, activity_entry)
from core.accounts.auth import Actor
from core.accounts.directory import AccountRef
from core.flows.diagram import tree_to_dot
from dashboard import page_links, resources, table_pick, url_params
from dashboard.periods import url_date
from dashboard.text import md_escape
from dashboard.tree_view import tree_comparison

_SELECTED = "ac_selected"
_PICK = "_ac_pick"
_PAGE = "ac_page"
_SHOWN = "_ac_filters"
EMPTY = ("Nothing has been decided in this account yet. Every review decision (approve, edit & publish, dismiss, "
         "reject) and every change of the knowledge-gap thresholds will appear here: who, when, on which flow, "
         "why, and what changed.")


def _from_url(choices: ActivityChoices) -> None:
    """Seed the filters from the link on the page's first run (the widgets' keys are gone once the
    page is left, so a link followed later seeds them again)."""
    if "ac_person" in st.session_state:
        return
    # "" and 0 stand for "any": a selectbox shows None as no choice at all.
    for name, key, allowed in (("person", "ac_person", choices.persons), ("action", "ac_action", choices.actions)):
        value = st.query_params.get(name)
        if value and value not in allowed:
            url_params.ignored(name, value, f"no such {name} in this account's activity")
            value = None
        st.session_state[key] = value or ""
    flow = url_params.url_int("flow", what="a flow number")
    if flow is not None and flow not in {i for i, _ in choices.flows}:
        url_params.ignored("flow", str(flow), "no decision on such a flow in this account")
        flow = None
    st.session_state["ac_flow"] = flow or 0
    st.session_state["ac_from"] = url_date("from")
    st.session_state["ac_to"] = url_date("to")
    st.session_state[_PAGE] = url_params.url_int("page", high=1_000_000, what="a page number") or 1
    st.session_state[_SELECTED] = url_params.url_int("entry", what="an entry number")
    st.session_state.pop(_SHOWN, None)  # the link's page number stands, whatever was filtered before


def _to_url(f: ActivityFilters, page: int, selected: int | None) -> None:
    wanted = {"person": f.person or "", "action": f.action or "", "flow": str(f.flow_id) if f.flow_id else "",
              "from": f.date_from.isoformat() if f.date_from else "", "to": f.date_to.isoformat() if f.date_to else "",
              "page": str(page) if page > 1 else "", "entry": str(selected) if selected else ""}
    url_params.sync(wanted)


def _filters(choices: ActivityChoices) -> ActivityFilters:
    names = dict(choices.flows)
    person, action, flow, first, last = st.columns([1.6, 1.3, 1.6, 1, 1])
    person.selectbox("Person", ["", *choices.persons], key="ac_person", format_func=lambda p: p or "Everyone")
    action.selectbox("Action", ["", *choices.actions], key="ac_action",
                     format_func=lambda a: action_words(a) if a else "Every action")
    flow.selectbox("Flow", [0, *names], key="ac_flow",
                   format_func=lambda i: names.get(i, f"Flow {i}") if i else "Every flow")
    first.date_input("From", key="ac_from", format="YYYY-MM-DD")
    last.date_input("To", key="ac_to", format="YYYY-MM-DD")
    s = st.session_state
    return ActivityFilters(s["ac_person"] or None, s["ac_action"] or None, s["ac_flow"] or None, s["ac_from"], s["ac_to"])


# The columns a reader scans first come first, and every column has a width, so the table fits a
# laptop's page; the reason is cut in its cell and shown whole when the row is opened.
COLUMNS = {
    "created_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm", width=125,
                                                  help="When it was decided (UTC)."),
    "actor": st.column_config.TextColumn("Who", width=185),
    "action": st.column_config.TextColumn("Action", width=170),
    "flow": st.column_config.TextColumn("Flow", width=185),
    "proposal_id": st.column_config.NumberColumn("Proposal", format="#%d", width=75),
    "reason": st.column_config.TextColumn("Reason or note", width=155),
}


def activity_frame(page: ActivityPage) -> pd.DataFrame:
    """The entries as the table shows them: the action in words, the flow by its name, and the
    table's "–" where there is no flow, proposal or reason."""
    return pd.DataFrame({
        "id": [r.id for r in page.rows],
        "created_at": pd.to_datetime([r.created_at for r in page.rows], utc=True),
        "actor": [r.actor for r in page.rows],
        "action": [r.action_words for r in page.rows],
        "flow": [r.flow_name or r.flow_external_id for r in page.rows],
        "proposal_id": pd.array([r.proposal_id for r in page.rows], dtype="Int64"),
        "reason": [r.reason for r in page.rows],
    })


def _table(page: ActivityPage) -> int | None:
    """The entries; returns the id of a row just picked, -1 when the selection was cleared."""
    frame = activity_frame(page)
    key = table_pick.table_key("ac_table_", frame["id"])
    event = st.dataframe(frame, key=key, on_select="rerun", selection_mode="single-row", hide_index=True,
                         width="stretch", placeholder="–", column_order=list(COLUMNS), column_config=COLUMNS)
    return table_pick.new_pick(event, frame, key, _PICK)


def _pager(page: ActivityPage) -> None:
    if page.pages <= 1:
        return
    back, where, forward = st.columns([1, 2, 1], vertical_alignment="center")
    if back.button("Newer", icon=":material/chevron_left:", disabled=page.page <= 1, width="stretch"):
        st.session_state[_PAGE] = page.page - 1
        st.rerun()
    where.caption(f"Page {page.page:,} of {page.pages:,}")
    if forward.button("Older", icon=":material/chevron_right:", disabled=page.page >= page.pages, width="stretch"):
        st.session_state[_PAGE] = page.page + 1
        st.rerun()


def _detail(actor: Actor, account: AccountRef, d: ActivityDetail) -> None:
    e = d.entry
    with st.container(border=True):
        st.markdown(f"##### {md_escape(e.action_words)} · {e.created_at:%d %b %Y %H:%M} UTC")
        about = [f"By {md_escape(e.actor)}"]
        if e.flow_name or e.flow_external_id:
            about.append(f"flow {md_escape(e.flow_name or e.flow_external_id)}")
        if e.proposal_id is not None:
            about.append(f"proposal #{e.proposal_id:d}" + (f" “{md_escape(d.proposal_title, limit=120)}”" if d.proposal_title else ""))
        st.caption(" · ".join(about))
        if e.reason:
            st.markdown(f"**{'Note' if d.kind == 'tree' else 'Reason'}:** {md_escape(e.reason)}")
        if d.kind == "settings":
            _settings(d)
        elif d.kind == "tree":
            _published(d)
        else:
            st.caption("Nothing was published: the proposal was " + ("dismissed (it may come back with new evidence)."
                       if e.action == "dismiss" else "rejected (it will not be proposed again)."))
            if d.proposed_tree is not None:
                with st.expander("The proposed tree, as it was then"):
                    st.graphviz_chart(tree_to_dot(d.proposed_tree))
        if e.proposal_id is not None and actor.may(account.id, "view_queue"):
            st.page_link(page_links.link_to(page_links.REVIEW_QUEUE), label=f"Open proposal #{e.proposal_id:d}",
                         icon=":material/rule:", query_params={"proposal": str(e.proposal_id), "status": "all"})


def _settings(d: ActivityDetail) -> None:
    if not d.settings:
        st.caption("No value changed.")
        return
    st.caption(f"{len(d.settings):d} setting{'s' if len(d.settings) != 1 else ''} changed; every other one kept its value.")
    st.dataframe(pd.DataFrame([(c.name, c.before, c.after) for c in d.settings], columns=["Setting", "Before", "After"]),
                 hide_index=True, width="stretch", placeholder="–",
                 column_config={"Setting": st.column_config.TextColumn(width=340),
                                "Before": st.column_config.TextColumn(width=120),
                                "After": st.column_config.TextColumn(width=120)})


def _published(d: ActivityDetail) -> None:
    if d.tree_after is None:
        st.caption("The tree was not recorded with this entry.")
        return
    if d.edited:
        st.caption("The reviewer edited the proposed tree before publishing it.")
    if d.tree_before is None:
        version = f" as version {d.flow_version:d}" if d.flow_version else ""
        st.caption(f"A new flow: the tree as it was published{version}.")
        st.graphviz_chart(tree_to_dot(d.tree_after))
        return
    before = f"Before (v{d.base_flow_version:d})" if d.base_flow_version else "Before"
    after = f"After (v{d.flow_version:d})" if d.flow_version else "After"
    tree_comparison(d.tree_before, d.tree_after, before, after, "the version before")


def activity_page() -> None:
    actor, account = resources.require("view_activity")
    url = resources.database_url()
    st.title("Activity")
    st.caption("Who decided what in this account: every review decision and every change of the knowledge-gap "
               "thresholds, newest first. Select a row to see what changed.")
    if st.session_state.get("_ac_account") not in (None, account.id):
        st.session_state.pop("ac_person", None)  # filters and entries of another account mean nothing here
        st.session_state[_SELECTED] = None
    st.session_state["_ac_account"] = account.id
    with resources.read_session(url) as db:
        choices = activity_choices(db, actor, account.id)
    _from_url(choices)
    filters = _filters(choices)
    if st.session_state.get(_SHOWN, filters) != filters:
        st.session_state[_PAGE] = 1  # other filters: start again from the newest
    st.session_state[_SHOWN] = filters
    with resources.read_session(url) as db:
        page = activity(db, actor, account.id, filters, st.session_state.get(_PAGE) or 1)
        if page.page > page.pages:
            page = activity(db, actor, account.id, filters, page.pages)
    st.session_state[_PAGE] = page.page

    picked = None
    if not page.total:
        st.info(EMPTY if not choices.actions else "No activity matches these filters.", icon=":material/history:")
    else:
        first = (page.page - 1) * page.page_size
        st.caption((f"{page.total:,} entries" if page.total != 1 else "1 entry") if page.pages == 1
                   else f"Entries {first + 1:,}–{first + len(page.rows):,} of {page.total:,}, newest first")
        picked = _table(page)
        _pager(page)
        # Below the table: above it, the table's own toolbar would cover the button.
        st.download_button("Download CSV", lambda: activity_csv(resources.engine(), actor, account.id, account.slug,
                                                                filters),
                           file_name=f"{account.slug}-activity.csv", mime="text/csv", key="ac_download",
                           icon=":material/download:", on_click="ignore", type="tertiary",
                           help="Every entry matching the filters (not only this page), formula-safe.")
    if picked == table_pick.CLEARED:
        st.session_state[_SELECTED] = None
    elif picked is not None:
        st.session_state[_SELECTED] = picked
    selected = st.session_state.get(_SELECTED)
    _to_url(filters, page.page, selected)
    if selected is None:
        return
    with resources.read_session(url) as db:
        detail = activity_entry(db, actor, account.id, selected)
    if detail is None:
        st.warning(f"Entry {selected:d} does not exist in this account's activity.", icon=":material/search_off:")
        st.session_state[_SELECTED] = None
        return
    _detail(actor, account, detail)
