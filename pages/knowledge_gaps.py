"""Knowledge gaps: where the published flows fail the engineers, one card per gap (``dashboard.gap_card``),
with the related pending proposals, a CSV download and (for admins) the account's thresholds
(``dashboard.gap_thresholds``).

The period and the filters live in the URL query string (``?period=7&severity=high&type=dead_end``;
an old ``?days=7`` link still opens its period), so a link reopens the same view; ``?gap=KEY``
(``core.gaps.top.gap_key``, Home's links) draws that gap first with its evidence open. The report is
cached per database, account, period, thresholds and data version (``core.sessions.data_version``):
an import or a finished analysis batch shows at once.
The first ``PAGE_SIZE`` gaps are cards, the rest one line each in a table until asked for: a
revisit with the report cached draws a page, not forty cards.
"""

from __future__ import annotations

from collections import Counter

import streamlit as st

from core.accounts.auth import Actor
from core.csv_safe import csv_bytes
from core.exports.gaps import report_table
from core.gaps import DEFAULT_THRESHOLDS, GapReport, GapThresholds, ThresholdError
from core.gaps.related import RelatedProposal, related_proposals
from core.gaps.thresholds import SEVERITIES
from core.gaps.words import GAP_TYPE_WORDS
from core.settings import get_settings
from dashboard import gap_card, gap_link, gap_reports, periods, resources, url_params
from dashboard.gap_card import domain_name
from dashboard.gap_thresholds import FLASH, PREVIEW, thresholds_panel
from dashboard.text import md_escape

TTL = get_settings().cache_ttl_seconds
PERIODS = tuple(int(p) for p in periods.PRESETS)  # no custom range: the report reads up to now
PAGE_SIZE = 10  # cards drawn at once; the rest are lines of a table


# --- cached reads ------------------------------------------------------------------------------

@st.cache_data(ttl=TTL, show_spinner=False)
def _related(url: str, actor: Actor, account_id: int, days: int, thresholds: GapThresholds, version: tuple,
             proposals: tuple) -> list[tuple[RelatedProposal, ...]]:
    # Keyed by what the report is keyed by, not by the report: hashing forty gaps' session ids
    # on every run cost more than the read.
    report = gap_reports.report(url, actor, account_id, days, thresholds, version)
    with resources.read_session(url) as db:
        return related_proposals(db, actor, account_id, report.gaps)


def clear_caches() -> None:
    for cached in (gap_reports.report, _related):
        cached.clear()
    gap_card.clear_caches()


# --- the period and filters <-> the URL --------------------------------------------------------

def _load_url_state() -> None:
    """Seed the widgets from the link on the page's first run in this browser session."""
    if "kg_days" in st.session_state:
        return
    st.session_state["kg_days"] = periods.from_url(custom=False).days
    st.session_state["kg_types"] = url_params.listed("type")
    st.session_state["kg_severities"] = url_params.listed("severity")
    st.session_state["kg_domains"] = url_params.listed("domain")
    st.session_state["kg_sort"] = "expected" if st.query_params.get("sort") == "expected" else "severity"
    gap_link.load_url_state()


def _save_url_state(period: periods.Period) -> None:
    url_params.sync({**periods.url_values(period),
                     "sort": "" if st.session_state["kg_sort"] == "severity" else st.session_state["kg_sort"],
                     "type": ",".join(st.session_state["kg_types"]),
                     "severity": ",".join(st.session_state["kg_severities"]),
                     "domain": ",".join(st.session_state["kg_domains"]),
                     "gap": gap_link.linked() or ""})


def _filters(report: GapReport) -> list[int]:
    """The filter widgets; returns the 1-based ranks of the gaps they keep."""
    types = list(GAP_TYPE_WORDS) + sorted({g.gap_type for g in report.gaps} - set(GAP_TYPE_WORDS))
    severities = list(SEVERITIES) + sorted({g.severity for g in report.gaps} - set(SEVERITIES))
    domains = sorted({domain_name(g.domain) for g in report.gaps} | set(st.session_state["kg_domains"]))
    # A value from a link that means nothing here is dropped, never trusted.
    st.session_state["kg_types"] = [t for t in st.session_state["kg_types"] if t in types]
    st.session_state["kg_severities"] = [s for s in st.session_state["kg_severities"] if s in severities]
    kind, severity, domain, order = st.columns([1, 1, 1, 0.8])
    order.selectbox("Order by", ["severity", "expected"], key="kg_sort",
                    format_func={"severity": "Severity", "expected": "Expected impact"}.get,
                    help="Expected impact: the sessions or answers a gap touched in the period, per 30 days.")
    kind.multiselect("Type", types, key="kg_types", format_func=lambda t: GAP_TYPE_WORDS.get(t, t), placeholder="Any type")
    severity.multiselect("Severity", severities, key="kg_severities", format_func=str.title,
                         placeholder="Any severity")
    domain.multiselect("Domain", domains, key="kg_domains", placeholder="Any domain")
    chosen_types, chosen_severities = set(st.session_state["kg_types"]), set(st.session_state["kg_severities"])
    chosen_domains = set(st.session_state["kg_domains"])
    ranks = [rank for rank, g in enumerate(report.gaps, start=1)
             if (not chosen_types or g.gap_type in chosen_types)
             and (not chosen_severities or g.severity in chosen_severities)
             and (not chosen_domains or domain_name(g.domain) in chosen_domains)]
    return report.by_expected_impact(ranks) if st.session_state["kg_sort"] == "expected" else ranks


def _cards_shown(view: tuple) -> int:
    """How many gaps are drawn as cards: ``PAGE_SIZE`` again whenever the period, filters or order change."""
    if st.session_state.get("_kg_view") != view:
        st.session_state["_kg_view"] = view
        st.session_state["_kg_cards"] = PAGE_SIZE
    return st.session_state["_kg_cards"]


def _more_cards() -> None:
    st.session_state["_kg_cards"] = st.session_state.get("_kg_cards", PAGE_SIZE) + PAGE_SIZE


def _show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        message, ok = flash
        st.toast(md_escape(message), icon=":material/check_circle:" if ok else ":material/error:")


def _summary(report: GapReport, shown: list, account_slug: str, days: int, ranks: list[int]) -> None:
    severities = Counter(g.severity for g in shown)
    total, high, medium, emerging = st.columns(4)
    total.metric("Gaps", f"{len(shown):,}" if len(shown) == len(report.gaps) else f"{len(shown):,} of {len(report.gaps):,}",
                 border=True)
    high.metric("High severity", f"{severities.get('high', 0):,}", border=True)
    medium.metric("Medium severity", f"{severities.get('medium', 0):,}", border=True)
    previous_start = report.period.previous_start
    if report.previous_period_covered:
        emerging.metric("Emerging", f"{sum(g.emerging for g in shown):,}", border=True,
                        help="At least twice the previous period's volume.")
    else:
        emerging.metric("Emerging", "–", border=True,
                        help=f"The account's sessions begin after {previous_start:%d %b %Y}, when the previous "
                             "period starts: there is nothing yet to compare with.")
    period = f"{report.period_start:%d %b %Y} – {report.period_end:%d %b %Y %H:%M} UTC"
    info, download = st.columns([3, 1], vertical_alignment="center")
    info.caption(f"Sessions started {period} · report built {report.generated_at:%H:%M} UTC, kept for up to "
                 f"{TTL // 60} minutes or until new sessions or flows arrive."
                 + ("" if report.previous_period_covered else
                    f" No gap is marked emerging: the account's sessions begin after the previous period "
                    f"starts ({previous_start:%d %b %Y})."))
    if note := report.data_quality_note():
        st.caption(f":material/info: {md_escape(note)}")
    table = report_table(report, ranks)
    download.download_button(
        "Download CSV", csv_bytes(table.header, table.rows), file_name=f"knowledge-gaps-{account_slug}-{days}d.csv",
        mime="text/csv", icon=":material/download:", key="kg_download", disabled=not shown, width="stretch",
        help="The gaps shown, one row per gap, with their figures and session ids (formula-safe).",
    )


# --- the page ----------------------------------------------------------------------------------

def knowledge_gaps_page() -> None:
    actor, account = resources.require("knowledge_gaps")
    can_tune = actor.may(account.id, "tune_gaps")
    url = resources.database_url()
    _show_flash()
    _load_url_state()
    if st.session_state.get("_kg_account") not in (None, account.id):
        st.session_state.pop(PREVIEW, None)  # a preview belongs to the account it was made in
        st.session_state["kg_domains"] = []
    st.session_state["_kg_account"] = account.id

    st.title("Knowledge gaps")
    st.caption("Where the published flows fail your engineers: missing options, dead ends, failing steps, "
               "escalation hot spots and problems no flow covers, most severe first.")
    st.segmented_control("Period", PERIODS, key="kg_days", required=True, format_func=lambda d: f"Last {d:d} days")
    days = st.session_state["kg_days"]
    period = periods.Period(str(days))

    stored, version = gap_reports.stored_state(url, account.id, days)
    saved = gap_reports.report(url, actor, account.id, days, stored, version.sessions_and_flows)
    thresholds, previewed = stored, None
    if can_tune and st.session_state.get(PREVIEW):
        try:
            thresholds = GapThresholds(**st.session_state[PREVIEW])
        except (ThresholdError, TypeError):
            st.session_state.pop(PREVIEW, None)
            thresholds = stored
        else:
            previewed = gap_reports.report(url, actor, account.id, days, thresholds, version.sessions_and_flows)
    report = previewed or saved

    if can_tune:
        thresholds_panel(actor, account.id, stored, saved, previewed)
    elif stored != DEFAULT_THRESHOLDS:
        st.caption(":material/tune: This account uses its own thresholds; only admins change them.")
    if previewed is not None:
        st.warning("Previewing unsaved thresholds: the report below is not what others see.",
                   icon=":material/visibility:")

    ranks = gap_link.linked_first(report, _filters(report))
    _save_url_state(period)
    shown = [report.gaps[r - 1] for r in ranks]
    _summary(report, shown, account.slug, days, ranks)
    if not report.gaps:
        st.info(f"No knowledge gaps in the last {days:d} days: either the flows cover what the engineers met, "
                "or there are too few sessions in the period to judge. Try a longer period.",
                icon=":material/task_alt:")
        return
    if not shown:
        st.info("No gaps match these filters.", icon=":material/filter_alt_off:")
        return

    related = _related(url, actor, account.id, days, thresholds, version.sessions_and_flows, version.proposals)
    may_open_queue = actor.may(account.id, "view_queue")
    view = (account.id, days, tuple(ranks), previewed is not None)
    cards, rest = ranks[:_cards_shown(view)], ranks[_cards_shown(view):]
    for rank in cards:
        gap = report.gaps[rank - 1]
        gap_card.gap_card(url, actor, account.slug, account.id, rank, gap, report.thresholds.confidence_z,
                          related[rank - 1], may_open_queue, version.sessions_and_flows,
                          report.expected_sentence(gap), days)
    if rest:
        st.markdown(f"**{len(rest):,} more gap{'s' if len(rest) != 1 else ''}**, in the same order:")
        gap_card.tail_table(report, rest)
        st.button(f"Show {min(PAGE_SIZE, len(rest)):d} more as cards", key="kg_more", on_click=_more_cards,
                  icon=":material/expand_more:")
