"""Review queue: the account's flow proposals, filtered and sorted, and the selected one in detail.

The filters live in the URL query string, so a link reopens the same view; the selected
proposal is kept by id (``?proposal=ID``), never by its row in the table.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.accounts.auth import Actor
from core.models import PROPOSAL_STATUSES, PROPOSAL_TYPES
from core.proposals.queue import SORTS, ProposalDetail, QueueFilters, QueuePage, proposal_detail, queue_domains, review_queue
from core.settings import get_settings
from dashboard import proposal_panel, resources, table_pick, url_params
from dashboard.periods import url_date
from dashboard.queue_table import TYPE_LABEL, queue_frame, title_row_height
from dashboard.text import md_escape
from pages.flows import clear_caches as clear_flow_caches

TTL = get_settings().cache_ttl_seconds
SORT_LABEL = {"expected": "Expected impact", "created": "Created", "confidence": "Confidence", "support": "Supporting sessions",
              "title": "Title", "updated": "Last updated"}
_PICK = "_rq_pick"
_SELECTED = "rq_selected"


@st.cache_data(ttl=TTL, show_spinner=False)
def _queue(url: str, actor: Actor, account_id: int, filters: QueueFilters) -> QueuePage:
    with resources.read_session(url) as db:
        return review_queue(db, actor, account_id, filters)


@st.cache_data(ttl=TTL, show_spinner=False)
def _domains(url: str, actor: Actor, account_id: int) -> list[str]:
    with resources.read_session(url) as db:
        return queue_domains(db, actor, account_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def _detail(url: str, actor: Actor, account_id: int, proposal_id: int) -> ProposalDetail | None:
    with resources.read_session(url) as db:
        return proposal_detail(db, actor, account_id, proposal_id)


def clear_caches() -> None:
    _queue.clear()
    _domains.clear()
    _detail.clear()


# --- the filters <-> the URL -------------------------------------------------------------------

def _load_url_state() -> None:
    """Seed the widgets from the link on the page's first run in this browser session."""
    if "rq_status" in st.session_state:
        return
    statuses = st.query_params.get("status")
    st.session_state["rq_status"] = ([] if statuses == "all" else url_params.listed("status", PROPOSAL_STATUSES)) \
        if statuses else ["pending"]
    st.session_state["rq_types"] = url_params.listed("type", PROPOSAL_TYPES)
    st.session_state["rq_domains"] = url_params.listed("domain")
    low, high = url_params.url_range("confidence", 0, 1) or (0, 1)
    st.session_state["rq_confidence"] = (round(low * 100), round(high * 100))
    st.session_state["rq_from"] = url_date("from")
    st.session_state["rq_to"] = url_date("to")
    st.session_state["rq_text"] = st.query_params.get("q", "")
    sort = st.query_params.get("sort", "expected")
    st.session_state["rq_sort"] = sort if sort in SORTS else "expected"
    st.session_state["rq_ascending"] = st.query_params.get("order") == "asc"
    st.session_state[_SELECTED] = url_params.url_int("proposal", what="a proposal number")


def _save_url_state(f: QueueFilters, selected: int | None) -> None:
    wanted = {
        "status": ",".join(f.statuses) if f.statuses else "all",
        "type": ",".join(f.types), "domain": ",".join(f.domains),
        "confidence": f"{f.min_confidence:g}-{f.max_confidence:g}" if (f.min_confidence, f.max_confidence) != (0, 1) else "",
        "from": f.created_from.isoformat() if f.created_from else "",
        "to": f.created_to.isoformat() if f.created_to else "",
        "q": f.text, "sort": f.sort if f.sort != "expected" else "", "order": "" if f.descending else "asc",
        "proposal": str(selected) if selected else "",
    }
    if wanted["status"] == "pending":
        wanted["status"] = ""
    url_params.sync(wanted)


# --- the page ----------------------------------------------------------------------------------

def _filters(domains: list[str]) -> QueueFilters:
    st.session_state["rq_domains"] = [d for d in st.session_state.get("rq_domains", []) if d in domains]
    text, types, domain = st.columns([2, 1, 1])
    text.text_input("Search title and summary", key="rq_text", placeholder="e.g. printer spooler",
                    icon=":material/search:")
    types.multiselect("Type", PROPOSAL_TYPES, key="rq_types", format_func=TYPE_LABEL.get, placeholder="Any type")
    domain.multiselect("Domain", domains, key="rq_domains", placeholder="Any domain")
    confidence, created_from, created_to, sort, order = st.columns([2, 1, 1, 1.2, 1], vertical_alignment="bottom")
    confidence.slider("Confidence", 0, 100, step=5, key="rq_confidence", format="%d%%")
    created_from.date_input("Created from", key="rq_from", format="YYYY-MM-DD")
    created_to.date_input("Created to", key="rq_to", format="YYYY-MM-DD")
    sort.selectbox("Sort by", list(SORTS), key="rq_sort", format_func=SORT_LABEL.get)
    order.toggle("Ascending", key="rq_ascending_widget", value=st.session_state["rq_ascending"],
                 help="Off: newest, highest or Z first.")
    order.caption("")  # keeps the toggle level with the inputs beside it
    st.session_state["rq_ascending"] = st.session_state["rq_ascending_widget"]
    low, high = st.session_state["rq_confidence"]
    return QueueFilters(
        statuses=tuple(st.session_state.get("rq_status") or ()), types=tuple(st.session_state["rq_types"]),
        domains=tuple(st.session_state["rq_domains"]), min_confidence=low / 100, max_confidence=high / 100,
        created_from=st.session_state["rq_from"], created_to=st.session_state["rq_to"],
        text=st.session_state["rq_text"], sort=st.session_state["rq_sort"],
        descending=not st.session_state["rq_ascending"],
    )


# The columns a reviewer scans first come first; the summary stays out of the table (the panel
# shows it in full) and every column has a width, so that the table fits a laptop's page.
QUEUE_COLUMNS = ["title", "confidence", "support_count", "expected_per_month", "proposal_type", "domain", "status",
                 "created_at", "id"]


def _table(page: QueuePage) -> int | None:
    """The proposals table; returns the id of a row the admin just picked, if any."""
    frame = queue_frame(page.rows)
    # A new key whenever the rows change: a selection made on other rows must not carry over.
    key = table_pick.table_key("rq_table_", frame["id"])
    event = st.dataframe(
        frame, key=key, on_select="rerun", selection_mode="single-row", hide_index=True, width="stretch",
        row_height=title_row_height(frame["title"]), placeholder="–",
        column_order=QUEUE_COLUMNS,
        column_config={
            "title": st.column_config.TextColumn("Title", width=265,
                                                 help="The full title and the summary show when you select a row."),
            "confidence": st.column_config.ProgressColumn("Confidence", min_value=0.0, max_value=100.0,
                                                          format="%.1f%%", width=95),
            "support_count": st.column_config.NumberColumn("Sessions", width=70, format="localized",
                                                           help="Sessions that support the proposal."),
            "expected_per_month": st.column_config.NumberColumn(
                "A month", format="%.1f", width=70,
                help="Expected impact: the supporting sessions of the last 90 days, per 30 days."),
            "proposal_type": st.column_config.TextColumn("Type", width=110),
            "domain": st.column_config.TextColumn("Domain", width=85),
            "status": st.column_config.TextColumn("Status", width=75),
            "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD", width=90,
                                                          help="The day the analysis created the proposal (UTC)."),
            "id": st.column_config.NumberColumn("#", width=45, help="The proposal's number."),
        },
    )
    return table_pick.new_pick(event, frame, key, _PICK)


def review_queue_page() -> None:
    actor, account = resources.require("view_queue")
    can_review = actor.may(account.id, "review")
    url = resources.database_url()
    proposal_panel.show_flash()
    _load_url_state()
    if st.session_state.get("_rq_account") not in (None, account.id):
        st.session_state[_SELECTED] = None  # a proposal id means nothing in another account
    st.session_state["_rq_account"] = account.id

    st.title("Review queue")
    st.caption("Flow proposals from the analysis of resolved sessions. "
               + ("Select one to see its evidence and decide." if can_review
                  else "Read-only: only admins review proposals."))

    filters = _filters(_domains(url, actor, account.id))
    counts = _queue(url, actor, account.id, filters).status_counts
    st.pills("Status", PROPOSAL_STATUSES, selection_mode="multi", key="rq_status",
             format_func=lambda s: f"{md_escape(s.title())} · {counts.get(s, 0):,}",
             help="No status selected: every status.")
    filters = replace(filters, statuses=tuple(st.session_state.get("rq_status") or ()))
    page = _queue(url, actor, account.id, filters)

    if not page.rows:
        st.info("No proposals match these filters." if sum(counts.values()) or filters != QueueFilters()
                else "No proposals yet: the analysis adds them as resolved sessions come in.",
                icon=":material/inbox:")
        picked = None
    else:
        shown = f"{len(page.rows):,} of {page.total:,}" if page.total > len(page.rows) else f"{page.total:,}"
        st.caption(f"{shown} proposals")
        picked = _table(page)
    if picked == table_pick.CLEARED:
        st.session_state[_SELECTED] = None
    elif picked is not None:
        st.session_state[_SELECTED] = picked
    selected = st.session_state.get(_SELECTED)
    _save_url_state(filters, selected)

    if selected is None:
        return
    detail = _detail(url, actor, account.id, selected)
    if detail is None:
        st.warning(f"Proposal {selected:d} does not exist in this account.", icon=":material/search_off:")
        st.session_state[_SELECTED] = None
        return

    def done(_ok: bool) -> None:
        # Every outcome may have changed something (or found it changed): read it all again.
        clear_caches()
        clear_flow_caches()

    header, close = st.columns([6, 1])
    header.markdown(f"##### Proposal #{detail.id:d}")
    if close.button("Close", icon=":material/close:", key="rq_close", width="stretch"):
        st.session_state[_SELECTED] = None
        st.rerun()
    proposal_panel.proposal_panel(actor, account, detail, can_review, done)
