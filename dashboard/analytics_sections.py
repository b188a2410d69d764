"""The Analytics page's sections: the headline cards, the tabs below them and the charts, each with
its data as a CSV download. Widgets only: every figure comes from ``core.metrics`` and the shaping
in core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st


from core.metrics import MetricsReport
from core.metrics.figures import percent
from core.metrics.series import TierDay, TtrBucket, tier_mix_rows
from core.metrics.tiers import TIER_ORDER
from dashboard import charts, url_params
from dashboard.analytics_tables import card_change, download, shown_change, signed
from dashboard.text import trusted

# The tabs below the cards, by their name in the link (``?view=tiers``); the first is the default,
# left out of the link.
VIEWS = {"over-time": "Over time", "tiers": "Tiers and domains", "time-to-resolution": "Time to resolution",
         "flows": "Flows", "clients": "Clients"}
VIEW_KEY = "an_view"


def card(column, label: str, value: str, change: float | None, change_text: str, colour: str, help_text: str) -> None:
    unchanged = change is None or change == 0
    # label and help_text are the code's own words (the cards below).
    column.metric(trusted(label), value, change_text or "none before", help=trusted(help_text), border=True,
                  delta_color="off" if unchanged else colour, delta_arrow="off" if unchanged else "auto")


def kpis(report: MetricsReport) -> None:
    volume, resolution, psa = report["volume"], report["resolution"], report["psa"]
    sessions = volume["sessions"]
    ttr = psa["median_time_to_resolution_hours"]
    cards = [
        ("Sessions", f"{sessions.value:,}", sessions.change, f"{sessions.change:+,}", "off",
         "Sessions started in the period, still active ones included."),
        ("Resolution rate", percent(volume["resolution_rate"].value), shown_change(volume["resolution_rate"].change),
         card_change(volume["resolution_rate"].change), "normal",
         "Resolved, of the sessions with an outcome (resolved, escalated or abandoned); "
         "the change is in percentage points."),
        ("Escalation rate", percent(volume["escalation_rate"].value), shown_change(volume["escalation_rate"].change),
         card_change(volume["escalation_rate"].change), "inverse",
         "Escalated or requesting escalation, of the sessions with an outcome."),
        ("First-contact resolution", percent(resolution["first_contact_resolution_rate"].value),
         shown_change(resolution["first_contact_resolution_rate"].change),
         card_change(resolution["first_contact_resolution_rate"].change), "normal",
         "Closed-out cases (a PSA ticket, or a session without one) resolved by a single session."),
        ("Median time to resolution", charts.format_hours(ttr.value), shown_change(ttr.change, 1),
         signed(ttr.change, "h"), "inverse",
         "Per resolved case: from the ticket's opening (else the session's start) to its closing "
         "(else the resolving session's end)."),
        ("SLA breach rate", percent(psa["sla_breach_rate"].value), shown_change(psa["sla_breach_rate"].change),
         card_change(psa["sla_breach_rate"].change), "inverse",
         f"Tickets closed after their SLA due time, of the {psa['sla_judged_tickets'].value:,} closed "
         "tickets with a due time."),
    ]
    compare = report.comparison
    top, bottom = st.columns(3), st.columns(3)
    for column, (label, value, change, change_text, colour, help_text) in zip([*top, *bottom], cards):
        # Against a previous period the data does not reach there is no change; a thin one is greyed.
        card(column, label, value, change if compare.covered else None,
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


def over_time(report: MetricsReport, weekly: bool) -> None:
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


def tiers(tier_days: Sequence[TierDay], weekly: bool) -> None:
    mix = tier_mix_rows(tier_days, weekly)
    st.plotly_chart(charts.tier_mix_over_time(mix, weekly), width="stretch", key="an_chart_tier_mix")
    unit = "week" if weekly else "day"
    download("Tier mix", (unit, "tier", "sessions", "sessions_that_" + unit, "share"),
             [(r["key"], r["tier"], r["sessions"], r["total"], r["share"]) for r in mix],
             f"tier-mix-by-{unit}", "an_dl_tier_mix")


def calibration(report: MetricsReport) -> None:
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


def domains(report: MetricsReport) -> None:
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


def time_to_resolution(report: MetricsReport, buckets: Sequence[TtrBucket]) -> None:
    psa = report["psa"]
    rows = [{"label": b.label, "cases": b.cases, "previous_cases": b.previous_cases} for b in buckets]
    if any(b.cases or b.previous_cases for b in buckets):
        st.plotly_chart(charts.time_to_resolution(rows, psa["median_time_to_resolution_hours"].value),
                        width="stretch", key="an_chart_ttr")
    else:
        st.info("No case was resolved in this period or the one before.", icon=":material/hourglass_empty:")
    download("Time to resolution", ("bucket", "from_hours", "to_hours", "resolved_cases", "previous_resolved_cases"),
             [(b.label, b.lower_hours, b.upper_hours, b.cases, b.previous_cases) for b in buckets],
             "time-to-resolution", "an_dl_ttr")


def section(render: Callable[[], None]) -> None:
    with st.container(border=True):  # each chart carries its own title
        render()


def view_tabs(views: Mapping[str, Sequence[Callable[[], None]]]) -> None:
    """Each view's sections (``VIEWS``, by name) in a tab of its own, two side by side. Only the open
    tab's sections run: a hidden tab builds and sends nothing, so a first visit draws two Plotly
    charts, not six (drawing six was 0.6 to 0.9 s of it, docs/benchmarks.md). Opening another tab
    reruns the page on its cached reads. The open tab lives in the link like the period and filters."""
    first = next(iter(VIEWS))
    if VIEW_KEY not in st.session_state:  # a new browser session, or no tabs on the last run
        raw = st.query_params.get("view") or None
        if raw is not None and raw not in VIEWS:
            url_params.ignored("view", raw, f"not one of {', '.join(VIEWS)}")
        st.session_state[VIEW_KEY] = VIEWS.get(raw, VIEWS[first])
    tabs = st.tabs(list(VIEWS.values()), key=VIEW_KEY, on_change="rerun")
    for name, tab in zip(VIEWS, tabs):
        if tab.open:
            with tab:
                renders = views[name]
                for column, render in zip(st.columns(len(renders)) if len(renders) > 1 else [st.container()],
                                          renders):
                    with column:
                        section(render)
            url_params.sync({"view": "" if name == first else name})
