"""Knowledge gaps: where the published flows fail the engineers, one card per gap, with the evidence,
the related pending proposals, a CSV download and (for admins) the account's thresholds.

The period and the filters live in the URL query string (``?days=30&severity=high&type=dead_end``),
so a link reopens the same view. The report is cached per database, account, period, thresholds
and data version (``core.data_version``): an import or a finished analysis batch shows at once.
Every text in a gap comes from session free text in part, so it is Markdown-escaped everywhere.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, fields
from datetime import timedelta

import pandas as pd
import streamlit as st

from core.auth import Actor, NotAllowed
from core.csv_export import csv_bytes
from core.data_version import data_version
from core.db import unit_of_work
from core.gaps import DEFAULT_THRESHOLDS, Gap, GapReport, GapThresholds, ThresholdError, load_thresholds, wilson_interval
from core.gaps.export import report_table
from core.gaps.related import RelatedProposal, gap_report_for, gap_session_detail, gap_sessions, related_proposals
from core.gaps.thresholds import SEVERITIES, save_account_thresholds
from core.models import status_words
from core.review_queue import Evidence
from core.settings import get_settings
from core.types import utcnow
from dashboard import page_links, resources, url_params
from dashboard.proposal_panel import session_tables
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
PERIODS = (7, 30, 90)
SESSIONS_SHOWN = 50
FLASH = "_kg_flash"
PREVIEW = "_kg_preview"
_LOADED = "_kg_thresholds_loaded"

GAP_TYPES = {"weak_options": "Missing option", "dead_end": "Dead end", "failing_action": "Failing step",
             "high_escalation": "High escalation", "uncharted_territory": "Uncharted territory",
             "repeated_pattern": "Repeated pattern"}
SEVERITY_COLOR = {"high": "red", "medium": "orange", "low": "blue"}
NO_DOMAIN = "(no domain)"

# Per gap type: (count, what it counts, sample, what the sample is, rate, its interval, previous count).
FIGURES = {
    "weak_options": ("free_text_count", "typed answers", "responses", "answers", "free_text_rate",
                     "free_text_rate_interval", "previous_period_free_text_count"),
    "failing_action": ("failed", "failed attempts", "attempts", "attempts", "failure_rate",
                       "failure_rate_interval", "previous_period_failed"),
    "dead_end": ("ended_here", "sessions went no further", "sessions_reaching", "sessions reaching the step",
                 "end_rate", "end_rate_interval", "previous_period_ended_here"),
    "high_escalation": ("escalated", "escalated", "finished_sessions", "finished sessions", "escalation_rate",
                        "escalation_rate_interval", "previous_period_escalated"),
    "uncharted_territory": ("resolved_in_discovery", "resolved without a flow", "resolved_sessions",
                            "resolved sessions", "discovery_share", None, "previous_period_resolved_in_discovery"),
    "repeated_pattern": ("resolved", "resolved", "sessions", "sessions", "resolution_rate", None,
                         "previous_period_sessions"),
}
# Per gap type: what its previous-period count counts.
# (one, many) of what the previous period's count counts, per gap type.
PREVIOUS_UNIT = {"weak_options": ("typed answer", "typed answers"), "failing_action": ("failed attempt", "failed attempts"),
                 "dead_end": ("session that went no further", "sessions that went no further"),
                 "high_escalation": ("escalated session", "escalated sessions"),
                 "uncharted_territory": ("session resolved without a flow", "sessions resolved without a flow"),
                 "repeated_pattern": ("session", "sessions")}

# The threshold form: (group, [(field, label, kind)]); kind "share" is edited as a percentage.
THRESHOLD_FORM = (
    ("General", [("min_sample", "Minimum sample for a rate", "int"), ("confidence_z", "Interval z (1.96 = 95%)", "float"),
                 ("emerging_ratio", "Emerging: times the previous period", "float"),
                 ("emerging_min", "Emerging: at least", "int")]),
    ("Missing options (typed answers)", [("free_text_low", "Low %", "share"), ("free_text_medium", "Medium %", "share"),
                                         ("free_text_high", "High %", "share"),
                                         ("min_free_text", "At least typed answers", "int")]),
    ("High escalation", [("escalation_low", "Low %", "share"), ("escalation_medium", "Medium %", "share"),
                         ("escalation_high", "High %", "share")]),
    ("Failing steps", [("failure_low", "Low %", "share"), ("failure_medium", "Medium %", "share"),
                       ("failure_high", "High %", "share")]),
    ("Dead ends", [("dead_end_low", "Low %", "share"), ("dead_end_medium", "Medium %", "share"),
                   ("dead_end_high", "High %", "share"), ("min_dead_ends", "At least sessions ending", "int")]),
    ("Uncharted territory (sessions)", [("uncharted_min", "Low from", "int"), ("uncharted_medium", "Medium from", "int"),
                                        ("uncharted_high", "High from", "int")]),
    ("Repeated patterns (sessions)", [("pattern_min", "Low from", "int"), ("pattern_medium", "Medium from", "int"),
                                      ("pattern_high", "High from", "int"),
                                      ("cluster_distance", "Cluster distance (0–1)", "float")]),
)


# --- cached reads ------------------------------------------------------------------------------

@st.cache_data(ttl=TTL, show_spinner="Building the gap report…")
def _report(url: str, actor: Actor, account_id: int, days: int, thresholds: GapThresholds,
            version: tuple) -> GapReport:
    # ``version`` is only part of the key: new sessions, flows or thresholds make a new entry.
    with resources.read_session(url) as db:
        return gap_report_for(db, actor, account_id, days, thresholds)


@st.cache_data(ttl=TTL, show_spinner=False)
def _related(url: str, actor: Actor, account_id: int, report: GapReport,
             version: tuple) -> list[tuple[RelatedProposal, ...]]:
    with resources.read_session(url) as db:
        return related_proposals(db, actor, account_id, report.gaps)


@st.cache_data(ttl=TTL, show_spinner=False)
def _sessions(url: str, actor: Actor, account_id: int, ids: tuple[str, ...]) -> tuple[Evidence, ...]:
    with resources.read_session(url) as db:
        return gap_sessions(db, actor, account_id, ids, limit=SESSIONS_SHOWN)


@st.cache_data(ttl=TTL, show_spinner=False)
def _session(url: str, actor: Actor, account_id: int, external_id: str, version: tuple) -> Evidence | None:
    with resources.read_session(url) as db:
        return gap_session_detail(db, actor, account_id, external_id)


def clear_caches() -> None:
    for cached in (_report, _related, _sessions, _session):
        cached.clear()


# --- the period and filters <-> the URL --------------------------------------------------------

def _listed(name: str) -> list[str]:
    raw = st.query_params.get(name)
    return [v for v in raw.split(",") if v] if raw else []


def _load_url_state() -> None:
    """Seed the widgets from the link on the page's first run in this browser session."""
    if "kg_days" in st.session_state:
        return
    st.session_state["kg_days"] = url_params.url_choice("days", PERIODS) or 30
    st.session_state["kg_types"] = _listed("type")
    st.session_state["kg_severities"] = _listed("severity")
    st.session_state["kg_domains"] = _listed("domain")
    st.session_state["kg_sort"] = "expected" if st.query_params.get("sort") == "expected" else "severity"


def _save_url_state() -> None:
    wanted = {"days": "" if st.session_state["kg_days"] == 30 else str(st.session_state["kg_days"]),
              "sort": "" if st.session_state["kg_sort"] == "severity" else st.session_state["kg_sort"],
              "type": ",".join(st.session_state["kg_types"]),
              "severity": ",".join(st.session_state["kg_severities"]),
              "domain": ",".join(st.session_state["kg_domains"])}
    for name, value in wanted.items():
        if value:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]


def _domain_name(domain: str | None) -> str:
    return NO_DOMAIN if domain is None else domain


def _filters(report: GapReport) -> list[int]:
    """The filter widgets; returns the 1-based ranks of the gaps they keep."""
    types = list(GAP_TYPES) + sorted({g.gap_type for g in report.gaps} - set(GAP_TYPES))
    severities = list(SEVERITIES) + sorted({g.severity for g in report.gaps} - set(SEVERITIES))
    domains = sorted({_domain_name(g.domain) for g in report.gaps} | set(st.session_state["kg_domains"]))
    # A value from a link that means nothing here is dropped, never trusted.
    st.session_state["kg_types"] = [t for t in st.session_state["kg_types"] if t in types]
    st.session_state["kg_severities"] = [s for s in st.session_state["kg_severities"] if s in severities]
    kind, severity, domain, order = st.columns([1, 1, 1, 0.8])
    order.selectbox("Order by", ["severity", "expected"], key="kg_sort",
                    format_func={"severity": "Severity", "expected": "Expected impact"}.get,
                    help="Expected impact: the sessions or answers a gap touched in the period, per 30 days.")
    kind.multiselect("Type", types, key="kg_types", format_func=lambda t: GAP_TYPES.get(t, t), placeholder="Any type")
    severity.multiselect("Severity", severities, key="kg_severities", format_func=str.title,
                         placeholder="Any severity")
    domain.multiselect("Domain", domains, key="kg_domains", placeholder="Any domain")
    chosen_types, chosen_severities = set(st.session_state["kg_types"]), set(st.session_state["kg_severities"])
    chosen_domains = set(st.session_state["kg_domains"])
    ranks = [rank for rank, g in enumerate(report.gaps, start=1)
             if (not chosen_types or g.gap_type in chosen_types)
             and (not chosen_severities or g.severity in chosen_severities)
             and (not chosen_domains or _domain_name(g.domain) in chosen_domains)]
    return report.by_expected_impact(ranks) if st.session_state["kg_sort"] == "expected" else ranks


# --- one gap -----------------------------------------------------------------------------------

def severity_badge(severity: str) -> str:
    """A coloured Markdown badge; a severity this page does not know gets a neutral grey one."""
    color = SEVERITY_COLOR.get(severity, "gray")
    return f":{color}-badge[{md_escape(severity.title() if severity in SEVERITY_COLOR else severity)}]"


def _gap_key(gap: Gap) -> str:
    return hashlib.sha1(f"{gap.gap_type}|{gap.domain}|{gap.title}".encode()).hexdigest()[:12]


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _figures(gap: Gap, z: float, days: int | None = None) -> list[str]:
    e = gap.evidence
    spec = FIGURES.get(gap.gap_type)
    if spec is None:  # a gap type this page does not know yet: its plain numbers
        return [f"{md_escape(k.replace('_', ' '))}: **{v:,}**" for k, v in e.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
    count, count_label, sample, sample_label, rate, interval, previous = spec
    hits, n = e.get(count, 0), e.get(sample, 0)
    low, high = e.get(interval) if interval and e.get(interval) else wilson_interval(hits, n, z)
    lines = [f"**{hits:,}** {count_label} of **{n:,}** {sample_label}: **{_pct(e.get(rate, 0))}** "
             f"(95% interval {_pct(low)}–{_pct(high)})"]
    before = f"in the previous {days:d} days" if days else "in the previous period"
    earlier = e.get(previous, 0)
    one, many = PREVIOUS_UNIT[gap.gap_type]
    lines.append(f"**{earlier:,}** {trusted(one if earlier == 1 else many)} {trusted(before)}"
                 + (" · rising sharply" if gap.emerging else ""))
    if gap.gap_type == "dead_end":
        lines.append(f"Of those: **{e.get('escalated', 0):,}** escalated off the flow, "
                     f"**{e.get('abandoned', 0):,}** abandoned")
    elif gap.gap_type == "high_escalation":
        lines.append(f"Across the account: **{_pct(e.get('account_escalation_rate', 0))}** escalated; "
                     f"**{e.get('requesting_escalation', 0):,}** still waiting for escalation")
    elif gap.gap_type == "uncharted_territory":
        lines.append(f"Published flows in this domain: **{e.get('published_flows', 0):,}**")
    elif gap.gap_type == "failing_action":
        lines.append(f"Succeeded: **{e.get('succeeded', 0):,}**")
    elif gap.gap_type == "repeated_pattern":
        lines.append(f"Key terms: {md_escape(', '.join(e.get('terms', [])))} · "
                     f"{e.get('distinct_summaries', 0):,} different wordings")
    if e.get("flow_id"):
        where = md_escape(e.get("flow_name") or e["flow_id"])
        lines.append(f"Flow: **{where}** ({md_escape(e['flow_id'])})"
                     + (f", node {md_escape(e['node_id'])}" if e.get("node_id") else ""))
    if gap.gap_type == "weak_options" and e.get("options"):
        lines.append("Options offered today: " + ", ".join(md_escape(o) for o in e["options"] if o))
    return lines


def _answers(gap: Gap) -> pd.DataFrame | None:
    e = gap.evidence
    if gap.gap_type == "weak_options" and e.get("top_free_text_answers"):
        return pd.DataFrame([(a["answer"], a["count"]) for a in e["top_free_text_answers"]],
                            columns=["Typed answer", "Times"])
    if gap.gap_type == "repeated_pattern" and e.get("example_summaries"):
        return pd.DataFrame([(s["summary"], s["count"]) for s in e["example_summaries"]],
                            columns=["Problem summary", "Sessions"])
    return None


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
        "Show a session's steps", list(by_id), index=None, key=f"kg_session_{_gap_key(gap)}",
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
        detail = f"{kind} · {p.confidence:.0%} confidence · {sessions} · {p.reason}"
        if may_open_queue:
            st.page_link(page_links.link_to(page_links.REVIEW_QUEUE), label=md_escape(label, limit=120), icon=":material/rule:",
                         query_params={"proposal": str(p.id), "account": account_slug}, help=md_escape(detail))
            st.caption(md_escape(detail))
        else:
            st.markdown(f":material/rule: {md_escape(label, limit=120)}")
            st.caption(md_escape(detail) + " · the review queue is open to admins and managers")


def gap_card(url: str, actor: Actor, account_slug: str, account_id: int, rank: int, gap: Gap, z: float,
             related: tuple[RelatedProposal, ...], may_open_queue: bool, version: tuple, expected: str,
             days: int | None = None) -> None:
    with st.container(border=True):
        badges = [severity_badge(gap.severity), f":gray-badge[{md_escape(GAP_TYPES.get(gap.gap_type, gap.gap_type))}]",
                  f":violet-badge[{md_escape(_domain_name(gap.domain))}]"]
        if gap.emerging:
            badges.append(":orange-badge[:material/trending_up: Emerging]")
        st.markdown(" ".join(badges))
        st.markdown(f"##### {rank:d}. {md_escape(gap.title)}")
        st.markdown(md_escape(gap.description))
        st.markdown(f":material/lightbulb: **Suggested action:** {md_escape(gap.suggested_action)}")
        st.caption(trusted(expected))  # figures of our own
        _related_links(related, account_slug, may_open_queue)
        listed = len(gap.evidence.get("session_ids", []))
        with st.expander(f"Evidence · {listed:,} sessions listed", icon=":material/query_stats:"):
            st.markdown("\n".join(f"- {line}" for line in _figures(gap, z, days)))
            answers = _answers(gap)
            if answers is not None:
                st.dataframe(answers, hide_index=True, width="stretch", placeholder="–")
            if gap.evidence.get("common_fixes"):  # what a flow for a recurring problem would end with
                st.dataframe(pd.DataFrame([(f["fix"], f["count"]) for f in gap.evidence["common_fixes"]],
                                          columns=["Resolved by", "Sessions"]), hide_index=True, width="stretch", placeholder="–")
            _sessions_behind(url, actor, account_id, gap, version)


# --- the thresholds ----------------------------------------------------------------------------

def _seed_threshold_inputs(stored: GapThresholds, force: bool = False) -> None:
    """The form's inputs start from the stored thresholds, and again whenever those change."""
    marker = asdict(stored)
    if not force and st.session_state.get(_LOADED) == marker:
        return
    for _, items in THRESHOLD_FORM:
        for name, _, kind in items:
            value = getattr(stored, name)
            st.session_state[f"kg_t_{name}"] = round(value * 100, 2) if kind == "share" else value
    st.session_state[_LOADED] = marker


def _discard(stored: GapThresholds) -> None:
    """Discard changes: an on_click callback, because a widget's value may only be set before the
    widget is drawn in a run (setting it after the form raised StreamlitAPIException)."""
    st.session_state.pop(PREVIEW, None)
    _seed_threshold_inputs(stored, force=True)


def _load_defaults() -> None:
    _seed_threshold_inputs(DEFAULT_THRESHOLDS, force=True)
    st.session_state[_LOADED] = None  # the inputs no longer show what is stored


def _edited() -> GapThresholds:
    """The thresholds in the form; raises ThresholdError naming the field that is wrong."""
    values = {}
    for _, items in THRESHOLD_FORM:
        for name, _, kind in items:
            value = st.session_state[f"kg_t_{name}"]
            values[name] = round(value / 100, 6) if kind == "share" else value
    kept = {f.name for f in fields(GapThresholds)} - set(values)
    values.update({name: getattr(DEFAULT_THRESHOLDS, name) for name in kept})
    return GapThresholds(**values)


def _changes(before: GapReport, after: GapReport) -> tuple[list[Gap], list[Gap], int]:
    def key(g: Gap) -> tuple:
        return g.gap_type, g.domain, g.title

    old, new = {key(g): g for g in before.gaps}, {key(g): g for g in after.gaps}
    appear = [g for k, g in new.items() if k not in old]
    disappear = [g for k, g in old.items() if k not in new]
    moved = sum(1 for k in new.keys() & old.keys() if new[k].severity != old[k].severity)
    return appear, disappear, moved


def _thresholds_panel(actor: Actor, account_id: int, stored: GapThresholds, saved: GapReport,
                      previewed: GapReport | None) -> None:
    with st.expander("Tune the thresholds", icon=":material/tune:", expanded=previewed is not None):
        _seed_threshold_inputs(stored)
        st.caption("What counts as a gap, and how severe, for this account. Rates are judged by the lower "
                   "bound of their 95% interval. Preview shows the report with the edited values without "
                   "saving; Save stores them for everyone in the account.")
        st.button("Fill in the defaults", key="kg_defaults", on_click=_load_defaults, icon=":material/restart_alt:")
        with st.form("kg_thresholds", border=False):
            for group, items in THRESHOLD_FORM:
                st.markdown(f"**{group}**")
                for column, (name, label, kind) in zip(st.columns(4), items):
                    if kind == "int":
                        column.number_input(label, min_value=1, step=1, key=f"kg_t_{name}")
                    elif kind == "share":
                        column.number_input(label, min_value=0.0, max_value=100.0, step=1.0, format="%.1f",
                                            key=f"kg_t_{name}")
                    else:
                        column.number_input(label, min_value=0.0, step=0.05, format="%.2f", key=f"kg_t_{name}")
            preview, save, discard = st.columns([1, 1, 4])
            do_preview = preview.form_submit_button("Preview", icon=":material/visibility:", width="stretch")
            do_save = save.form_submit_button("Save", type="primary", icon=":material/save:", width="stretch")
            discard.form_submit_button("Discard changes", disabled=previewed is None,
                                       on_click=_discard, args=(stored,))
        if do_preview or do_save:
            try:
                edited = _edited()
            except ThresholdError as problem:
                st.error(f"These thresholds cannot be used: {md_escape(problem)}", icon=":material/error:")
                if do_save:
                    st.toast("Not saved: fix the thresholds first.", icon=":material/error:")
                return
            if do_preview:
                st.session_state[PREVIEW] = asdict(edited)
                st.rerun()
            try:
                with unit_of_work(resources.engine()) as db:
                    save_account_thresholds(db, actor, account_id, edited)
            except (NotAllowed, ThresholdError) as refused:
                st.session_state[FLASH] = (f"Not saved: {refused}", False)
            else:
                st.session_state[FLASH] = ("Thresholds saved: the report now uses them.", True)
                st.session_state.pop(PREVIEW, None)
            st.rerun()
        if previewed is not None:
            appear, disappear, moved = _changes(saved, previewed)
            st.info(f"With these thresholds: **{len(previewed.gaps)}** gaps instead of **{len(saved.gaps)}**: "
                    f"**{len(appear)}** appear, **{len(disappear)}** disappear, **{moved:d}** change severity. "
                    "The cards below show the preview; nothing is saved yet.", icon=":material/visibility:")
            for title, listed in (("Appear", appear), ("Disappear", disappear)):
                if listed:
                    st.markdown(f"**{trusted(title)}:**\n" + "\n".join(f"- {severity_badge(g.severity)} {md_escape(g.title)}"
                                                             for g in listed[:10])
                                + (f"\n- … and {len(listed) - 10} more" if len(listed) > 10 else ""))


def _show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        message, ok = flash
        st.toast(md_escape(message), icon=":material/check_circle:" if ok else ":material/error:")


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

    with resources.read_session(url) as db:
        stored = load_thresholds(db, account.id)
        version = data_version(db, account.id, since=utcnow() - timedelta(days=2 * days))
    saved = _report(url, actor, account.id, days, stored, version.sessions_and_flows)
    previewed = None
    if can_tune and st.session_state.get(PREVIEW):
        try:
            candidate = GapThresholds(**st.session_state[PREVIEW])
        except (ThresholdError, TypeError):
            st.session_state.pop(PREVIEW, None)
        else:
            previewed = _report(url, actor, account.id, days, candidate, version.sessions_and_flows)
    report = previewed or saved

    if can_tune:
        _thresholds_panel(actor, account.id, stored, saved, previewed)
    elif stored != DEFAULT_THRESHOLDS:
        st.caption(":material/tune: This account uses its own thresholds; only admins change them.")

    if previewed is not None:
        st.warning("Previewing unsaved thresholds: the report below is not what others see.",
                   icon=":material/visibility:")

    ranks = _filters(report)
    _save_url_state()
    shown = [report.gaps[r - 1] for r in ranks]
    severities = Counter(g.severity for g in shown)
    total, high, medium, emerging = st.columns(4)
    total.metric("Gaps", f"{len(shown):,}" if len(shown) == len(report.gaps) else f"{len(shown):,} of {len(report.gaps):,}",
                 border=True)
    high.metric("High severity", f"{severities.get('high', 0):,}", border=True)
    medium.metric("Medium severity", f"{severities.get('medium', 0):,}", border=True)
    previous_start = report.period_start - (report.period_end - report.period_start)
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
        "Download CSV", csv_bytes(table.header, table.rows), file_name=f"knowledge-gaps-{account.slug}-{days}d.csv",
        mime="text/csv", icon=":material/download:", key="kg_download", disabled=not shown, width="stretch",
        help="The gaps shown, one row per gap, with their figures and session ids (formula-safe).",
    )

    if not report.gaps:
        st.info(f"No knowledge gaps in the last {days:d} days: either the flows cover what the engineers met, "
                "or there are too few sessions in the period to judge. Try a longer period.",
                icon=":material/task_alt:")
        return
    if not shown:
        st.info("No gaps match these filters.", icon=":material/filter_alt_off:")
        return
    related = _related(url, actor, account.id, report, version.proposals)
    may_open_queue = actor.may(account.id, "view_queue")
    for rank in ranks:
        gap_card(url, actor, account.slug, account.id, rank, report.gaps[rank - 1], report.thresholds.confidence_z,
                 related[rank - 1], may_open_queue, version.sessions_and_flows,
                 report.expected_sentence(report.gaps[rank - 1]), days)
