"""One gap's card on the Knowledge gaps page: badges, title, description, suggested action, the
related pending proposals, and its evidence, which is built only while the card's Evidence is open.

Each card is a fragment: opening its evidence or picking one of its sessions reruns that card
alone, not the page. Every text of a gap comes from session free text in part: Markdown-escaped.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.accounts.auth import Actor
from core.gaps import Gap, GapReport
from core.gaps.related import RelatedProposal, gap_session_detail, gap_sessions
from core.gaps.top import gap_key
from core.gaps.words import GAP_TYPE_WORDS
from core.metrics.figures import percent
from core.models import status_words
from core.sessions.detail import SessionDetail
from core.settings import get_settings
from dashboard import page_links, resources
from dashboard.gap_figures import figure_tables, figures
from dashboard.proposal_panel import session_tables
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
SESSIONS_SHOWN = 50
NO_DOMAIN = "(no domain)"

SEVERITY_COLOR = {"high": "red", "medium": "orange", "low": "blue"}



@st.cache_data(ttl=TTL, show_spinner=False)
def _sessions(url: str, actor: Actor, account_id: int, ids: tuple[str, ...]) -> tuple[SessionDetail, ...]:
    with resources.read_session(url) as db:
        return gap_sessions(db, actor, account_id, ids, limit=SESSIONS_SHOWN)


@st.cache_data(ttl=TTL, show_spinner=False)
def _session(url: str, actor: Actor, account_id: int, external_id: str, version: tuple) -> SessionDetail | None:
    with resources.read_session(url) as db:
        return gap_session_detail(db, actor, account_id, external_id)


def clear_caches() -> None:
    for cached in (_sessions, _session):
        cached.clear()


def domain_name(domain: str | None) -> str:
    return NO_DOMAIN if domain is None else domain


def severity_badge(severity: str) -> str:
    """A coloured Markdown badge; a severity this page does not know gets a neutral grey one."""
    color = SEVERITY_COLOR.get(severity, "gray")
    return f":{color}-badge[{md_escape(severity.title() if severity in SEVERITY_COLOR else severity)}]"


def _sessions_behind(url: str, actor: Actor, account_id: int, gap: Gap, version: tuple) -> None:
    ids = tuple(gap.evidence.get("session_ids", []))
    if not ids:
        st.caption("No sessions are listed for this gap.")
        return
    sessions = _sessions(url, actor, account_id, ids)
    shown = f"the {len(sessions)} most recent of {len(ids):,} listed" if len(ids) > len(sessions) else f"{len(ids):,}"
    st.markdown(f"**Sessions behind it** ({shown}; newest first)")
    # Widths that fit the evidence panel on a laptop; the engineer, the widest and least scanned, last.
    st.dataframe(
        pd.DataFrame([(s.external_id, s.created_at, status_words(s.status), s.problem_summary or "",
                       s.resolution_summary or "", s.engineer or "") for s in sessions],
                     columns=["Session", "Started", "Outcome", "Problem", "Resolution", "Engineer"]),
        hide_index=True, width="stretch", placeholder="–",
        column_config={
            "Session": st.column_config.TextColumn(width=100),
            "Started": st.column_config.DatetimeColumn(format="D MMM HH:mm", width=100, help="UTC"),
            "Outcome": st.column_config.TextColumn(width=145),
            "Problem": st.column_config.TextColumn(width=200),
            "Resolution": st.column_config.TextColumn(width=160),
            "Engineer": st.column_config.TextColumn(width=150),
        },
    )
    by_id = {s.external_id: s for s in sessions}
    picked = st.selectbox(
        "Show a session's steps", list(by_id), index=None, key=f"kg_session_{gap_key(gap)}",
        placeholder="Pick a session to see each step the engineer took",
        format_func=lambda i: f"{i} · {by_id[i].engineer or 'unknown engineer'} · {status_words(by_id[i].status)} · "
                              f"{(by_id[i].problem_summary or '')[:80]}",
    )
    if picked:
        detail = _session(url, actor, account_id, picked, version)
        if detail is None:
            st.warning("This session is no longer in the account.", icon=":material/search_off:")
        else:
            session_tables(detail)


def _related_links(related: tuple[RelatedProposal, ...], account_slug: str, may_open_queue: bool) -> None:
    if not related:
        return
    st.markdown("**Pending proposals about this**")
    for p in related:
        kind = "New flow" if p.proposal_type == "new_flow" else "Enhancement"
        label = f"#{p.id} {p.title}"
        sessions = f"{p.support_count:,} session{'s' if p.support_count != 1 else ''}"
        detail = f"{kind} · {percent(p.confidence, 0)} confidence · {sessions} · {p.reason}"
        if may_open_queue:
            st.page_link(page_links.link_to(page_links.REVIEW_QUEUE), label=md_escape(label, limit=120), icon=":material/rule:",
                         query_params={"proposal": str(p.id), "account": account_slug}, help=md_escape(detail))
            st.caption(md_escape(detail))
        else:
            st.markdown(f":material/rule: {md_escape(label, limit=120)}")
            st.caption(md_escape(detail) + " · the review queue is open to admins and managers")


def _evidence(url: str, actor: Actor, account_id: int, gap: Gap, z: float, version: tuple, days: int) -> None:
    reason = gap.evidence.get("severity_reason")
    if reason:
        st.caption(f":material/info: {md_escape(reason)}")
    st.markdown("\n".join(f"- {line}" for line in figures(gap, z, days)))
    answers = figure_tables(gap)
    if answers is not None:
        st.dataframe(answers, hide_index=True, width="stretch", placeholder="–")
    if gap.evidence.get("common_fixes"):  # what a flow for a recurring problem would end with
        st.dataframe(pd.DataFrame([(f["fix"], f["count"]) for f in gap.evidence["common_fixes"]],
                                  columns=["Resolved by", "Sessions"]), hide_index=True, width="stretch", placeholder="–")
    _sessions_behind(url, actor, account_id, gap, version)


@st.fragment
def gap_card(url: str, actor: Actor, account_slug: str, account_id: int, rank: int, gap: Gap, z: float,
             related: tuple[RelatedProposal, ...], may_open_queue: bool, version: tuple, expected: str,
             days: int) -> None:
    with st.container(border=True):
        badges = [severity_badge(gap.severity), f":gray-badge[{md_escape(GAP_TYPE_WORDS.get(gap.gap_type, gap.gap_type))}]",
                  f":violet-badge[{md_escape(domain_name(gap.domain))}]"]
        if gap.emerging:
            badges.append(":orange-badge[:material/trending_up: Emerging]")
        st.markdown(" ".join(badges))
        st.markdown(f"##### {rank:d}. {md_escape(gap.title)}")
        st.markdown(md_escape(gap.description))
        st.markdown(f":material/lightbulb: **Suggested action:** {md_escape(gap.suggested_action)}")
        st.caption(trusted(expected))  # figures of our own
        _related_links(related, account_slug, may_open_queue)
        listed = len(gap.evidence.get("session_ids", []))
        # Stateful, so that a closed card builds nothing: its evidence (up to 50 sessions read and
        # drawn) is built while it is open, and opening it reruns this card only.
        evidence = st.expander(f"Evidence · {listed:,} sessions listed", icon=":material/query_stats:",
                               key=f"kg_evidence_{gap_key(gap)}", on_change="rerun")
        if evidence.open:
            with evidence:
                _evidence(url, actor, account_id, gap, z, version, days)


def tail_table(report: GapReport, ranks: list[int]) -> None:
    """The gaps after the cards, one line each: cheap to draw however many there are."""
    st.dataframe(
        pd.DataFrame([(r, report.gaps[r - 1].severity.title(), GAP_TYPE_WORDS.get(g.gap_type, g.gap_type),
                       domain_name(g.domain), g.title, report.expected_per_month(g))
                      for r in ranks for g in [report.gaps[r - 1]]],
                     columns=["#", "Severity", "Type", "Domain", "Gap", "A month"]),
        hide_index=True, width="stretch", placeholder="–",
        column_config={
            # Widths that fit beside the sidebar on a laptop, as the sessions table's do.
            "#": st.column_config.NumberColumn(width=45),
            "Severity": st.column_config.TextColumn(width=75),
            "Type": st.column_config.TextColumn(width=140),
            "Domain": st.column_config.TextColumn(width=100),
            "Gap": st.column_config.TextColumn(width=420),
            "A month": st.column_config.NumberColumn(format="%.1f", width=75,
                                                     help="Expected impact: sessions or answers touched per 30 days"),
        },
    )
