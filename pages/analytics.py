"""Analytics: the account's figures for a period against the one before, as KPI cards and, in tabs
below them, charts and tables, each with its data as a formula-safe CSV download.

The period, the domain, board, engineer and client filters and the open tab live in the URL query
string, so a link reopens the same view. Every number comes from ``core.metrics`` (SQL aggregates); the page only
arranges them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

from core.accounts.auth import Actor, NotAllowed, authorize
from core.flows.catalog import flow_names
from core.metrics import MetricsFilters, MetricsReport, build_metrics
from core.metrics.series import TierDay, TtrBucket, filter_choices, tier_mix_by_day, time_to_resolution_distribution
from core.metrics.weeks import charted_by_week
from core.settings import get_settings
from core.types import utcnow
from dashboard import analytics_sections as sections, chart_loading, resources
from dashboard.analytics_tables import clients_table, flows_table
from dashboard.periods import Period, period_picker, to_url
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
FILTERS = ("domain", "board", "engineer", "company")
FILTER_LABELS = {"domain": "Domain", "board": "PSA board", "engineer": "Engineer", "company": "Client"}
ALL = {"domain": "All domains", "board": "All boards", "engineer": "All engineers", "company": "All clients"}


@dataclass(frozen=True)
class Analytics:
    report: MetricsReport
    tier_days: tuple[TierDay, ...]
    ttr: tuple[TtrBucket, ...]
    flow_names: dict[str, str]  # flow id -> the flow's name


@st.cache_data(ttl=TTL, show_spinner="Reading the figures…")
def _analytics(url: str, actor: Actor, account_id: int, period: Period, filters: MetricsFilters) -> Analytics:
    with resources.read_session(url) as db:
        authorize(db, actor, account_id, "analytics")  # the role, fresh from the database
        now = period.now() or utcnow()
        return Analytics(
            report=build_metrics(db, actor, account_id, days=period.days, now=now, filters=filters),
            tier_days=tier_mix_by_day(db, account_id, days=period.days, now=now, filters=filters),
            ttr=time_to_resolution_distribution(db, account_id, days=period.days, now=now, filters=filters),
            flow_names=flow_names(db, actor, account_id),
        )


@st.cache_data(ttl=TTL, show_spinner=False)
def _choices(url: str, actor: Actor, account_id: int, period: Period) -> dict[str, tuple[str, ...]]:
    with resources.read_session(url) as db:
        authorize(db, actor, account_id, "analytics")
        return filter_choices(db, account_id, days=period.days, now=period.now())


# --- the filters <-> the URL -------------------------------------------------------------------

def _filters(url: str, actor: Actor, account_id: int, period: Period, columns) -> MetricsFilters:
    choices = _choices(url, actor, account_id, period)
    chosen: dict[str, str | None] = {}
    for column, name in zip(columns, FILTERS):
        key = f"an_{name}"
        if key not in st.session_state:
            st.session_state[key] = st.query_params.get(name) or None
        current = st.session_state[key]
        # A value from a link that the period does not hold stays selectable (it just shows nothing).
        options = sorted({*choices[name], *([current] if current else [])})
        column.selectbox(FILTER_LABELS[name], options, key=key, index=None, placeholder=ALL[name])
        chosen[name] = st.session_state[key]
        if chosen[name]:
            if st.query_params.get(name) != chosen[name]:
                st.query_params[name] = chosen[name]
        elif name in st.query_params:
            del st.query_params[name]
    return MetricsFilters(**chosen)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


# --- the page ----------------------------------------------------------------------------------

def analytics_page() -> None:
    actor, account = resources.require("analytics")
    url = resources.database_url()
    st.title("Analytics")

    if st.session_state.get("_an_account") not in (None, account.id):
        for name in FILTERS:  # a domain, board or engineer of another account means nothing here
            st.session_state.pop(f"an_{name}", None)
            st.query_params.pop(name, None)
    st.session_state["_an_account"] = account.id

    loading = chart_loading.start_loading()
    with st.container():
        period_column, *filter_columns = st.columns([2.2, 1, 1, 1, 1], vertical_alignment="bottom")
        period = period_picker("an", period_column)
        to_url(period)
        try:
            filters = _filters(url, actor, account.id, period, filter_columns)
            data = _analytics(url, actor, account.id, period, filters)
        except NotAllowed as refusal:
            st.error(md_escape(str(refusal)), icon=":material/block:")
            st.stop()
        finally:
            loading.empty()
    report = data.report
    st.session_state["_an_file_stem"] = "-".join(
        [account.slug, period.slug(), *(f"{n}-{_slug(v)}" for n, v in filters.to_dict().items() if v)])
    narrowed = [f"{FILTER_LABELS[n].lower()} **{md_escape(v)}**" for n, v in filters.to_dict().items() if v]
    st.caption(
        f"{md_escape(account.name)}: sessions started {trusted(period.describe())} "
        f"({report.start:%d %b %Y %H:%M} – {report.end:%d %b %Y %H:%M} UTC)"
        + (f", {' and '.join(narrowed)} only" if narrowed else "")
        + f"; changes against the {report.days:d} days before ({report.previous_start:%d %b} – {report.start:%d %b %Y})."
    )

    volume = report["volume"]
    if volume["sessions"].value == 0:
        before = volume["sessions"].previous
        st.info(f"**No sessions in this period{' with these filters' if narrowed else ''}**"
                + (f" ({before:,} in the {report.days:d} days before)" if before else "")
                + ". Choose another period" + (" or clear the filters" if narrowed else "") + ".",
                icon=":material/inbox:")
        return

    sections.kpis(report)
    weekly = charted_by_week(report.days)
    sections.view_tabs({
        "over-time": [lambda: sections.over_time(report, weekly), lambda: sections.tiers(data.tier_days, weekly)],
        "tiers": [lambda: sections.calibration(report), lambda: sections.domains(report)],
        "time-to-resolution": [lambda: sections.time_to_resolution(report, data.ttr)],
        "flows": [lambda: flows_table(report, data.flow_names)],
        "clients": [lambda: clients_table(report)],
    })
