"""Analytics: the account's figures for a period against the one before, as KPI cards and charts,
each with its data as a formula-safe CSV download.

The period and the domain, board, engineer and client filters live in the URL query string, so a link
reopens the same view. Every number comes from ``core.metrics`` (SQL aggregates); the page only
arranges them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.accounts.auth import Actor, NotAllowed, authorize
from core.flows.catalog import flow_names
from core.metrics import MetricsFilters, MetricsReport, build_metrics
from core.metrics.figures import percent
from core.metrics.series import (TierDay, TtrBucket, filter_choices, tier_mix_by_day, tier_mix_rows,
                                 time_to_resolution_distribution)
from core.metrics.tiers import TIER_ORDER
from core.settings import get_settings
from core.types import utcnow
from dashboard import charts, resources
from dashboard.analytics_tables import clients_table, download, flows_table, points, shown_change, signed
from dashboard.periods import Period, period_picker, to_url
from dashboard.text import md_escape, trusted

TTL = get_settings().cache_ttl_seconds
FILTERS = ("domain", "board", "engineer", "company")
FILTER_LABELS = {"domain": "Domain", "board": "PSA board", "engineer": "Engineer", "company": "Client"}
ALL = {"domain": "All domains", "board": "All boards", "engineer": "All engineers", "company": "All clients"}
WEEKLY_AFTER_DAYS = 45  # longer periods chart weeks instead of days


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


# --- the sections ------------------------------------------------------------------------------

def _card(column, label: str, value: str, change: float | None, change_text: str, colour: str, help_text: str) -> None:
    unchanged = change is None or change == 0
    # label and help_text are the code's own words (the cards below).
    column.metric(trusted(label), value, change_text or "none before", help=trusted(help_text), border=True,
                  delta_color="off" if unchanged else colour, delta_arrow="off" if unchanged else "auto")


def _kpis(report: MetricsReport) -> None:
    volume, resolution, psa = report["volume"], report["resolution"], report["psa"]
    sessions = volume["sessions"]
    ttr = psa["median_time_to_resolution_hours"]
    cards = [
        ("Sessions", f"{sessions.value:,}", sessions.change, f"{sessions.change:+,}", "off",
         "Sessions started in the period, still active ones included."),
        ("Resolution rate", percent(volume["resolution_rate"].value), shown_change(volume["resolution_rate"].change),
         points(volume["resolution_rate"].change), "normal",
         "Resolved, of the sessions with an outcome (resolved, escalated or abandoned); "
         "the change is in percentage points."),
        ("Escalation rate", percent(volume["escalation_rate"].value), shown_change(volume["escalation_rate"].change),
         points(volume["escalation_rate"].change), "inverse",
         "Escalated or requesting escalation, of the sessions with an outcome."),
        ("First-contact resolution", percent(resolution["first_contact_resolution_rate"].value),
         shown_change(resolution["first_contact_resolution_rate"].change),
         points(resolution["first_contact_resolution_rate"].change), "normal",
         "Closed-out cases (a PSA ticket, or a session without one) resolved by a single session."),
        ("Median time to resolution", charts.format_hours(ttr.value), shown_change(ttr.change, 1),
         signed(ttr.change, "h"), "inverse",
         "Per resolved case: from the ticket's opening (else the session's start) to its closing "
         "(else the resolving session's end)."),
        ("SLA breach rate", percent(psa["sla_breach_rate"].value), shown_change(psa["sla_breach_rate"].change),
         points(psa["sla_breach_rate"].change), "inverse",
         f"Tickets closed after their SLA due time, of the {psa['sla_judged_tickets'].value:,} closed "
         "tickets with a due time."),
    ]
    compare = report.comparison
    top, bottom = st.columns(3), st.columns(3)
    for column, (label, value, change, change_text, colour, help_text) in zip([*top, *bottom], cards):
        # Against a previous period the data does not reach there is no change; a thin one is greyed.
        _card(column, label, value, change if compare.covered else None,
              compare.change(change_text) if change_text or not compare.covered else "", compare.colour(colour),
              help_text)
    if compare.sentence():
        st.caption(trusted(compare.sentence()))
    rows = [
        ("sessions", "count", sessions.value, sessions.previous, sessions.change),
        *((name, "share (0-1)", volume[name].value, volume[name].previous, volume[name].change)
          for name in ("resolution_rate", "escalation_rate")),
        ("first_contact_resolution_rate", "share (0-1)", *_triple(resolution["first_contact_resolution_rate"])),
        ("median_time_to_resolution", "hours", *_triple(ttr)),
        ("sla_breach_rate", "share (0-1)", *_triple(psa["sla_breach_rate"])),
    ]
    if not compare.covered:  # the CSV makes no change the page does not make
        rows = [(*row[:4], None) for row in rows]
    download("Headline figures", ("metric", "unit", "value", "previous_value", "change"), rows, "headline",
             "an_dl_headline")


def _triple(figure) -> tuple:
    return figure.value, figure.previous, figure.change


def _over_time(report: MetricsReport, data: Analytics, weekly: bool) -> None:
    volume = report["volume"]
    groups = volume.breakdowns["week" if weekly else "day"]
    rows = [{"key": g.key, **{k: g[k].value for k in ("sessions", "resolved", "escalated", "abandoned", "active")}}
            for g in groups]
    st.plotly_chart(charts.volume_over_time(rows, weekly), width="stretch", key="an_chart_volume")
    unit = "week" if weekly else "day"
    download("Sessions and outcomes", (unit, "sessions", "resolved", "escalated", "abandoned", "active",
                                       "resolution_rate", "escalation_rate"),
             [(g.key, *(g[k].value for k in ("sessions", "resolved", "escalated", "abandoned", "active",
                                             "resolution_rate", "escalation_rate"))) for g in groups],
             f"outcomes-by-{unit}", "an_dl_volume")


def _tiers(report: MetricsReport, data: Analytics, weekly: bool) -> None:
    mix = tier_mix_rows(data.tier_days, weekly)
    st.plotly_chart(charts.tier_mix_over_time(mix, weekly), width="stretch", key="an_chart_tier_mix")
    unit = "week" if weekly else "day"
    download("Tier mix", (unit, "tier", "sessions", "sessions_that_" + unit, "share"),
             [(r["key"], r["tier"], r["sessions"], r["total"], r["share"]) for r in mix],
             f"tier-mix-by-{unit}", "an_dl_tier_mix")


def _calibration(report: MetricsReport) -> None:
    tiers = report["tiers"].breakdown("tier")
    volume_by_tier = {t: tiers[t] for t in TIER_ORDER}
    rows = [{"tier": t, "sessions": g["sessions"].value, "resolution_rate": g["resolution_rate"].value,
             "escalation_rate": g["escalation_rate"].value} for t, g in volume_by_tier.items()]
    st.plotly_chart(charts.tier_calibration(rows), width="stretch", key="an_chart_calibration")
    names = ("sessions", "share_of_sessions", "resolution_rate", "escalation_rate", "abandonment_rate",
             "median_handle_minutes")
    download("Tier calibration", ("tier", *names, *(f"previous_{n}" for n in names)),
             [(t, *(g[n].value for n in names), *(g[n].previous for n in names)) for t, g in volume_by_tier.items()],
             "tier-calibration", "an_dl_calibration")


def _domains(report: MetricsReport) -> None:
    volume = report["volume"]
    groups = volume.breakdowns["domain"]
    rows = [{"domain": g.key, "escalated": g["escalated"].value, "with_outcome": g["with_outcome"].value,
             "escalation_rate": g["escalation_rate"].value} for g in groups if g["with_outcome"].value]
    if rows:
        st.plotly_chart(charts.escalation_by_domain(rows, volume["escalation_rate"].value), width="stretch",
                        key="an_chart_domains")
    else:
        st.info("No session in this period has an outcome yet, so there is no escalation rate by domain.",
                icon=":material/hourglass_empty:")
    names = ("sessions", "with_outcome", "escalated", "escalation_rate", "resolution_rate")
    download("Escalation by domain", ("domain", *names, "previous_escalation_rate"),
             [(g.key, *(g[n].value for n in names), g["escalation_rate"].previous) for g in groups],
             "escalation-by-domain", "an_dl_domains")


def _ttr(report: MetricsReport, data: Analytics) -> None:
    psa = report["psa"]
    rows = [{"label": b.label, "cases": b.cases, "previous_cases": b.previous_cases} for b in data.ttr]
    if any(b.cases or b.previous_cases for b in data.ttr):
        st.plotly_chart(charts.time_to_resolution(rows, psa["median_time_to_resolution_hours"].value),
                        width="stretch", key="an_chart_ttr")
    else:
        st.info("No case was resolved in this period or the one before.", icon=":material/hourglass_empty:")
    download("Time to resolution", ("bucket", "from_hours", "to_hours", "resolved_cases", "previous_resolved_cases"),
             [(b.label, b.lower_hours, b.upper_hours, b.cases, b.previous_cases) for b in data.ttr],
             "time-to-resolution", "an_dl_ttr")


def _section(render: Callable[[], None]) -> None:
    with st.container(border=True):  # each chart carries its own title
        render()


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

    _kpis(report)
    weekly = report.days > WEEKLY_AFTER_DAYS
    rows = [lambda: _over_time(report, data, weekly), lambda: _tiers(report, data, weekly),
            lambda: _calibration(report), lambda: _domains(report)]
    for pair_start in range(0, len(rows), 2):
        for column, render in zip(st.columns(2), rows[pair_start:pair_start + 2]):
            with column:
                _section(render)
    _section(lambda: _ttr(report, data))
    _section(lambda: flows_table(report, data.flow_names))
    _section(lambda: clients_table(report))
