"""Home's two lists that start the day: the proposals waiting for review (for the roles that review
or follow the queue) and the most severe knowledge gaps, each line a link that opens the very item,
each list with an empty state that says what to do next.

Titles come from session text: every label goes through ``md_escape``, so a title is shown whole
and literally, never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from core.accounts.auth import Actor
from core.accounts.directory import AccountRef
from core.gaps.top import TopGaps, top_gaps
from core.gaps.words import GAP_TYPE_WORDS
from core.proposals.waiting import Waiting, waiting_proposals
from core.settings import get_settings
from dashboard import gap_reports, page_links, resources
from dashboard.gap_card import domain_name, severity_badge
from dashboard.queue_table import TYPE_LABEL
from dashboard.text import md_escape

TTL = get_settings().cache_ttl_seconds
GAP_DAYS = 30  # the Knowledge gaps page's default period: its link needs no ?days=

NO_PROPOSALS = (
    "**No proposals waiting.** The scheduler writes proposals from resolved sessions: `make run` starts "
    "it, `python -m scheduler --drain` runs it once, and `python -m core proposals --account SLUG` lists "
    "every proposal with its status."
)
NO_GAPS = (
    "**No knowledge gaps in the last 30 days**: either the flows cover what the engineers met, or there "
    "are too few sessions to judge. Import more with `python -m core import --sessions SESSIONS.jsonl`, "
    "or open Knowledge gaps and try a longer period."
)


@st.cache_data(ttl=TTL, show_spinner=False)
def _waiting(url: str, actor: Actor, account_id: int, version: tuple) -> Waiting:
    # ``version`` (the proposals' data version) is only part of the key: a decision shows at once.
    with resources.read_session(url) as db:
        return waiting_proposals(db, actor, account_id)


def waiting(actor: Actor, account: AccountRef) -> Waiting:
    """The account's waiting proposals, read again as soon as a proposal changes."""
    url = resources.database_url()
    _, version = gap_reports.stored_state(url, account.id, GAP_DAYS)
    return _waiting(url, actor, account.id, version.proposals)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _row(page: st.Page, query: dict[str, str], title: str):
    """A title shown whole, beside a short link that opens it: a link's label does not wrap, so a
    long title as the label would be cut. Returns the title's column, for the line under it."""
    text, link = st.columns([3.5, 1], gap="small", vertical_alignment="top")
    text.markdown(md_escape(title))
    link.page_link(page, label="Open", icon=":material/arrow_forward:", query_params=query)
    return text


def waiting_section(w: Waiting, account: AccountRef) -> None:
    st.subheader("Waiting for review", anchor=False)
    queue = page_links.link_to(page_links.REVIEW_QUEUE)
    if not w.total:
        st.info(NO_PROPOSALS, icon=":material/inbox:")
    else:
        st.caption(f"{w.total:,} proposal{'' if w.total == 1 else 's'} waiting; the first by expected impact, as the queue orders them:")
        for p in w.first:
            text = _row(queue, {"proposal": str(p.id), "account": account.slug}, f"#{p.id} {p.title}")
            words = [TYPE_LABEL.get(p.proposal_type, p.proposal_type), domain_name(p.domain),
                     f"expected impact about {p.expected_per_month:.1f} a month", _plural(p.support_count, "session"),
                     f"{p.confidence:.0%} confidence"]
            text.caption(md_escape(" · ".join(words)))
        st.page_link(queue, label=f"Open the review queue ({w.total:,} waiting)", icon=":material/arrow_forward:",
                     query_params={"account": account.slug})
    st.page_link(page_links.link_to(page_links.ACTIVITY), label="Who decided what: Activity",
                 icon=":material/history:", query_params={"account": account.slug})


def gaps_section(top: TopGaps, account: AccountRef) -> None:
    st.subheader("Top knowledge gaps", anchor=False)
    gaps_page = page_links.link_to(page_links.KNOWLEDGE_GAPS)
    if not top.total:
        st.info(NO_GAPS, icon=":material/task_alt:")
        st.page_link(gaps_page, label="Open Knowledge gaps", icon=":material/troubleshoot:",
                     query_params={"account": account.slug})
        return
    st.caption(f"The {len(top.first):d} most severe of {top.total:,} gap{'' if top.total == 1 else 's'} in the last "
               f"{top.period_days:d} days, as the Knowledge gaps page orders them:")
    for g in top.first:
        text = _row(gaps_page, {"gap": g.key, "account": account.slug}, f"{g.rank}. {g.title}")
        emerging = " · :orange-badge[:material/trending_up: Emerging]" if g.emerging else ""
        text.caption(f"{severity_badge(g.severity)} "
                   + md_escape(f"{GAP_TYPE_WORDS.get(g.gap_type, g.gap_type)} · {domain_name(g.domain)} · "
                               f"expected impact about {g.expected_per_month:.1f} a month")
                   + emerging)
    st.page_link(gaps_page, label=f"Open Knowledge gaps ({top.total:,} gaps)", icon=":material/arrow_forward:",
                 query_params={"account": account.slug})


def day_lists(actor: Actor, account: AccountRef) -> None:
    """The lists the role may see, side by side; nothing at all for a role that may see neither."""
    url = resources.database_url()
    shown = [s for s, permission in ((waiting_section, "view_queue"), (gaps_section, "knowledge_gaps"))
             if actor.may(account.id, permission)]
    if not shown:
        return
    thresholds, version = gap_reports.stored_state(url, account.id, GAP_DAYS)
    columns = st.columns(2, gap="large") if len(shown) == 2 else [st.container()]
    for section, column in zip(shown, columns):
        with column:
            if section is waiting_section:
                waiting_section(_waiting(url, actor, account.id, version.proposals), account)
            else:
                report = gap_reports.report(url, actor, account.id, GAP_DAYS, thresholds, version.sessions_and_flows)
                gaps_section(top_gaps(report), account)
