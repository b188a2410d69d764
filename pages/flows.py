"""Flows: the account's published flows with their usage, and one flow's diagram and history."""

from __future__ import annotations


import pandas as pd
import streamlit as st

from core.accounts.auth import Actor
from core.csv_safe import csv_bytes
from core.exports.catalog import IMPACT_HEADER, impact_rows
from core.flows.catalog import FlowDetail, flow_detail, flow_list
from core.flows.diff import diff_trees
from core.impact.detail import ChangeDetail, FlowImpact, flow_impact
from core.metrics.figures import percent, points
from core.settings import get_settings
from dashboard import charts, resources, table_pick, tree_view, url_params
from dashboard.frames import frame_of
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
FLOW_COLUMNS = ("id", "external_id", "name", "domain", "current_version", "versions", "sessions", "resolved",
                "resolution_rate", "last_used", "updated_at")
SOURCE_LABEL = {"import": "imported", "proposal": "approved proposal", "edit": "edited proposal"}
_SELECTED = "fl_selected"


@st.cache_data(ttl=TTL, show_spinner=False)
def _flows(url: str, actor: Actor, account_id: int) -> pd.DataFrame:
    with resources.read_session(url) as db:
        rows = flow_list(db, actor, account_id)
    return frame_of(rows, FLOW_COLUMNS, timestamps=("last_used", "updated_at"))


@st.cache_data(ttl=TTL, show_spinner=False)
def _flow(url: str, actor: Actor, account_id: int, flow_id: int) -> FlowDetail | None:
    with resources.read_session(url) as db:
        return flow_detail(db, actor, account_id, flow_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def _impact(url: str, actor: Actor, account_id: int, flow_id: int) -> FlowImpact | None:
    with resources.read_session(url) as db:
        return flow_impact(db, actor, account_id, flow_id)


def clear_caches() -> None:
    _flows.clear()
    _flow.clear()
    _impact.clear()


# Every column has a width, so that the table fits a laptop's page; how many versions are stored
# is in the selected flow's caption and its History tab.
FLOW_TABLE_COLUMNS = ["name", "external_id", "domain", "current_version", "sessions", "resolution_pct", "last_used"]


def _table(frame: pd.DataFrame) -> int | None:
    key = table_pick.table_key("fl_table_", frame["id"])
    shown = frame.assign(resolution_pct=frame["resolution_rate"].astype("float64") * 100)
    event = st.dataframe(
        shown, key=key, on_select="rerun", selection_mode="single-row", hide_index=True, width="stretch",
        placeholder="–", column_order=FLOW_TABLE_COLUMNS,
        column_config={
            "name": st.column_config.TextColumn("Flow", width=280),
            # Wide enough for the longest ids ("fl-voip-phone-not-registering"): an id is what a user looks up.
            "external_id": st.column_config.TextColumn("Id", width=225, help="The id sessions name the flow by."),
            "domain": st.column_config.TextColumn("Domain", width=80),
            "current_version": st.column_config.NumberColumn("Version", width=70, format="v%d",
                                                             help="The current version: the one engineers follow now."),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized", width=75,
                                                      help="Sessions that followed the flow."),
            "resolution_pct": st.column_config.NumberColumn("Resolved", format="%.1f%%", width=72,
                                                            help="Resolution rate: resolved, of the sessions that "
                                                                 "followed the flow."),
            "last_used": st.column_config.DatetimeColumn("Last used", format="YYYY-MM-DD", width=95,
                                                         help="The day the latest session that followed it started (UTC)."),
        },
    )
    return table_pick.picked_id(event, frame)


def _history(detail: FlowDetail) -> None:
    st.dataframe(
        pd.DataFrame([(v.version, SOURCE_LABEL.get(v.source, v.source), v.published_at, v.published_by or "–",
                       f"#{v.source_proposal_id} {v.source_proposal_title or ''}".strip() if v.source_proposal_id else "–",
                       v.note or "") for v in detail.versions],
                     columns=["Version", "Source", "Published", "Published by", "From proposal", "Note"]),
        hide_index=True, width="stretch", placeholder="–",
        # Widths of its own: drawn in a tab not yet shown, the table has no width to share out.
        column_config={"Version": st.column_config.NumberColumn(width=70, format="v%d"),
                       "Source": st.column_config.TextColumn(width=125),
                       "Published": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", width=125),
                       "Published by": st.column_config.TextColumn(width=160),
                       "From proposal": st.column_config.TextColumn(width=240),
                       "Note": st.column_config.TextColumn(width=140)},
    )


VERDICT_BADGE = {
    "improved": ":green-badge[:material/trending_up: Improved]",
    "worse": ":red-badge[:material/trending_down: Worse]",
    "no_clear_change": ":gray-badge[:material/trending_flat: No clear change]",
    "too_early": ":blue-badge[:material/hourglass_empty: Too early]",
}


def _interval(interval, scale: float = 100, unit: str = " pts") -> str:
    return "–" if not interval else f"{scale * interval[0]:+.1f} to {scale * interval[1]:+.1f}{unit}"


def _figures(d: ChangeDetail) -> pd.DataFrame:
    c = d.change
    rows = [
        ("Resolution rate", percent(c.resolution.before), percent(c.resolution.after), points(c.resolution.delta),
         _interval(c.resolution.interval), points(c.account_resolution.delta)),
        ("Escalation rate", percent(c.escalation.before), percent(c.escalation.after), points(c.escalation.delta),
         _interval(c.escalation.interval), points(c.account_escalation.delta)),
        ("Abandonment", percent(c.abandonment.before), percent(c.abandonment.after), points(c.abandonment.delta),
         _interval(c.abandonment.interval), "–"),
        ("First-contact resolution (tickets)", percent(d.first_contact.before), percent(d.first_contact.after),
         points(d.first_contact.delta), _interval(d.first_contact.interval), "–"),
    ]
    t = d.time_to_resolution
    minutes = (lambda v: "–" if v is None else f"{v:,.1f} min")
    rows.append(("Median time to resolution", minutes(t.before), minutes(t.after),
                 "–" if t.delta is None else f"{t.delta:+,.1f} min", _interval(t.interval, 1, " min"), "–"))
    if c.discovery_resolution is not None:
        r = c.discovery_resolution
        rows.append(("Domain: resolved in discovery", percent(r.before), percent(r.after), points(r.delta),
                     _interval(r.interval), "–"))
    for _, question, typed in d.free_text:  # the question's text from the flow: a plain cell, never Markdown
        rows.append((f"Typed answers at “{question}”", percent(typed.before), percent(typed.after), points(typed.delta),
                     _interval(typed.interval), "–"))
    return pd.DataFrame(rows, columns=["Figure", "Before", "After", "Change", "95% interval", "Rest of the account"])


# The figure's name is the key column: wide enough for a typed-answer row's question (45 characters).
FIGURE_COLUMNS = {"Figure": st.column_config.TextColumn(width=400),
                  "Before": st.column_config.TextColumn(width=66), "After": st.column_config.TextColumn(width=66),
                  "Change": st.column_config.TextColumn(width=86),
                  "95% interval": st.column_config.TextColumn(width=130),
                  "Rest of the account": st.column_config.TextColumn(width=125)}


def _impact_tab(impact: FlowImpact, slug: str) -> None:
    st.caption(f"Each version against the one before: the flow's finished sessions on the previous version in "
               f"the {impact.window_days:d} days before it went live, and on the new version in the "
               f"{impact.window_days:d} days after (a new flow: its domain's sessions). A verdict needs the whole "
               "95% interval clear of zero and of the rest of the account's change over the same days.")
    st.plotly_chart(charts.impact_weekly(impact.weeks, impact.publications), width="stretch",
                    key=f"fl_impact_chart_{impact.flow_pk}")
    if not impact.details:
        st.info("No version to measure yet: the flow has one version, imported.", icon=":material/info:")
        return
    st.download_button("Download CSV", csv_bytes(IMPACT_HEADER, impact_rows(slug, [d.change for d in impact.details])),
                       file_name=f"impact-flow-{impact.flow_pk}.csv", mime="text/csv", icon=":material/download:",
                       key=f"fl_impact_csv_{impact.flow_pk}", type="tertiary")
    for d in impact.details:
        c = d.change
        with st.container(border=True):
            was = f"v{c.previous_version} → v{c.version}" if c.previous_version else f"New flow v{c.version}"
            origin = (f" from proposal #{c.proposal_id} “{md_escape(c.proposal_title or '')}”" if c.proposal_id
                      else " (imported)")
            # Version numbers, a date and a badge of our own; the proposal's title is escaped above.
            st.markdown(trusted(f"**{was}** · published {c.published_at:%d %b %Y}{origin} {VERDICT_BADGE[c.verdict]}"))
            st.caption(f"{c.before.finished:,} finished sessions before, {c.after.finished:,} after "
                       f"(from {c.window_start:%d %b} until {c.split_at:%d %b}, against from {c.split_at:%d %b} until "
                       f"{c.window_end:%d %b %Y})")
            st.dataframe(_figures(d), hide_index=True, width="stretch", placeholder="–", column_config=FIGURE_COLUMNS)
            if c.prediction:
                st.caption(f"Predicted by the proposal: {md_escape(c.prediction.text)}")


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
    selected = picked or linked or st.session_state.get(_SELECTED)
    if selected not in set(frame["id"]):
        return
    st.session_state[_SELECTED] = selected
    st.query_params["flow"] = str(selected)
    detail = _flow(url, actor, account.id, selected)
    if detail is None:
        return

    with st.container(border=True):
        st.subheader(md_escape(detail.name), anchor=False)
        stored = len(detail.versions)
        earlier = (" (the earlier versions were published before the import)"
                   if stored < detail.current_version else "")
        st.caption(f"Id {md_escape(detail.external_id)} · {md_escape(detail.domain or 'no domain')} · "
                   f"Current version: v{detail.current_version:d} · Versions stored: {stored:d}{trusted(earlier)}")
        numbers = frame.loc[frame["id"] == selected].iloc[0]
        left, middle, right = st.columns(3)
        left.metric("Sessions matched", f"{numbers['sessions']:,}", border=True)
        rate = numbers["resolution_rate"]
        middle.metric("Resolution rate", percent(None if pd.isna(rate) else rate), border=True)
        last = numbers["last_used"]
        right.metric("Last used", "never" if pd.isna(last) else f"{last:%d %b %Y}", border=True)

        diagram, history, impact_tab = st.tabs(["Diagram", f"History ({stored} version{'s' if stored != 1 else ''})",
                                                "Impact"])
        with diagram:
            versions = {v.version: v for v in detail.versions}
            key = f"fl_version_{detail.id}"
            if url_params.url_int("version", what="a version number") in versions:  # a link to one version
                st.session_state[key] = int(st.query_params.pop("version"))
            shown = st.selectbox("Version", list(versions), key=key,
                                 format_func=lambda n: f"v{n}" + (" (current)" if n == detail.current_version else ""))
            earlier = versions.get(max((n for n in versions if n < shown), default=-1))
            changes = diff_trees(earlier.tree, versions[shown].tree) if earlier else None
            if changes is not None:
                # describe() is counts and fixed words only.
                st.caption(f"Against v{earlier.version:d}: {trusted(changes.describe())} (new nodes and answers green, changed nodes amber).")
            tree_view.tree_chart(versions[shown].tree, changes)
        with history:
            _history(detail)
        with impact_tab:
            if actor.may(account.id, "analytics"):
                impact = _impact(url, actor, account.id, selected)
                if impact is not None:
                    _impact_tab(impact, account.slug)
