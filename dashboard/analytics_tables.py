"""The Analytics page's tables (flows, clients), its change texts and its CSV downloads: shaping
and widgets the page calls, kept here so the page stays a list of sections.

Every CSV goes through core's formula-neutralising writer; rates go to the CSV as fractions (six
decimals, as core rounds every share) and show on the page with one decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.csv_safe import csv_bytes
from core.flows.catalog import flow_labels
from core.metrics import MetricsReport
from core.metrics.figures import percent, points
from core.metrics.psa import NO_COMPANY
from dashboard import charts
from dashboard.text import trusted

# --- change texts ------------------------------------------------------------------------------


def signed(change: float | None, unit: str, scale: float = 1) -> str:
    """A change to 1 decimal with its sign and unit; "" when there is none."""
    return "" if change is None else f"{round(change * scale, 1) + 0.0:+.1f} {trusted(unit)}"  # + 0.0: no "-0.0"


def card_change(change: float | None) -> str:
    """A metric card's change of a rate: nothing at all when there is none (the card shows no delta)."""
    return "" if change is None else points(change)


def shown_change(change: float | None, scale: float = 100) -> float | None:
    """The change as the card shows it (1 decimal): a change that rounds to 0 gets no arrow or colour."""
    return None if change is None else round(change * scale, 1)


# --- downloads ---------------------------------------------------------------------------------


def download(label: str, header: Sequence[str], rows: Sequence[Sequence[Any]], what: str, key: str) -> None:
    """A CSV download of a chart's or table's data, written by core's formula-safe writer."""
    name = st.session_state["_an_file_stem"]
    st.download_button(trusted(f"{label} (CSV)"), csv_bytes(header, rows), file_name=f"{name}-{what}.csv",
                       mime="text/csv", icon=":material/download:", key=key, type="tertiary")


def _as_percent(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for rate in columns:
        frame[rate] = frame[rate].astype("float64") * 100  # shown as "71.7%"; the CSV keeps fractions
    return frame


def _rate_column(label: str, width: int, help_text: str):
    return st.column_config.NumberColumn(trusted(label), format="%.1f%%", width=width, help=trusted(help_text))


def _count_column(label: str, width: int, help_text: str | None = None):
    return st.column_config.NumberColumn(trusted(label), format="localized", width=width,
                                         help=None if help_text is None else trusted(help_text))


# --- flows -------------------------------------------------------------------------------------

FLOW_COLUMNS = ("sessions", "resolved", "with_outcome", "resolution_rate", "escalation_rate", "mean_handle_minutes")


def flows_table(report: MetricsReport, names: dict[str, str]) -> None:
    flows = report["flows"]
    groups = list(flows.breakdowns["flow"])  # a flow used only last period is listed too
    label = flow_labels([g.key for g in groups], names)
    used = [g for g in groups if g["sessions"].value]
    if used:
        rows = [{"flow": label[g.key], **{n: g[n].value for n in FLOW_COLUMNS}} for g in used]
        st.plotly_chart(charts.flow_usage(rows), width="stretch", key="an_chart_flows")
    more = (f" The chart shows the {charts.MAX_BARS} most used; the table and the CSV have them all."
            if len(used) > charts.MAX_BARS else "")
    change = card_change(flows["flow_match_share"].change) if report.previous_period_covered else "no data before"
    st.caption(f"{trusted(percent(flows['flow_match_share'].value))} of sessions matched a flow "
               f"({change or 'none before'}); {flows['flows_used'].value:,} flows used.{trusted(more)}")
    if groups:
        frame = _as_percent(pd.DataFrame([{"flow": label[g.key], **{n: g[n].value for n in FLOW_COLUMNS},
                                           "previous_sessions": g["sessions"].previous,
                                           "previous_resolution_rate": g["resolution_rate"].previous}
                                          for g in groups]),
                            ("resolution_rate", "escalation_rate", "previous_resolution_rate"))
        # Short headers, each explained in its tooltip: the nine columns fit the page without scrolling.
        st.dataframe(frame, hide_index=True, width="stretch", placeholder="–", key="an_table_flows", column_config={
            "flow": st.column_config.TextColumn("Flow", width=285, help="The flow's name (its id where no flow has it)."),
            "sessions": _count_column("Sessions", 72),
            "resolved": _count_column("Resolved", 72),
            "with_outcome": _count_column("Ended", 62, "Sessions with an outcome: resolved, escalated or abandoned."),
            "resolution_rate": _rate_column("Resolved %", 90,
                                            "Resolution rate: resolved, of the sessions with an outcome."),
            "escalation_rate": _rate_column("Escalated %", 92,
                                            "Escalation rate: escalated, of the sessions with an outcome."),
            "mean_handle_minutes": st.column_config.NumberColumn(
                "Handle", format="%.1f min", width=80, help="Mean handle time: from start to end of a session, in minutes."),
            "previous_sessions": _count_column("Before", 62, "Sessions in the previous period of the same length."),
            "previous_resolution_rate": _rate_column("Before %", 78,
                                                     "Resolution rate (resolved %) in the previous period."),
        })
    download("Flows", ("flow", *FLOW_COLUMNS, "previous_sessions", "previous_resolution_rate"),
             [(g.key, *(g[n].value for n in FLOW_COLUMNS), g["sessions"].previous, g["resolution_rate"].previous)
              for g in groups], "flows", "an_dl_flows")


# --- clients -----------------------------------------------------------------------------------

CLIENT_COLUMNS = ("sessions", "with_outcome", "resolved", "escalated", "resolution_rate", "escalation_rate",
                  "tickets", "closed_out_cases", "first_contact_resolutions", "first_contact_resolution_rate",
                  "sla_judged_tickets", "sla_breaches", "sla_breach_rate")
CLIENT_ROW_PX = 35  # Streamlit's default row height
CLIENT_SHOWN = ("sessions", "resolution_rate", "escalation_rate", "first_contact_resolution_rate", "tickets",
                "sla_breaches", "sla_breach_rate")


def clients_table(report: MetricsReport) -> None:
    """Sessions, outcomes, first-contact resolution and SLA breaches per client company: a table the
    reader sorts by clicking a header, and its CSV."""
    groups = list(report["psa"].breakdowns["company"])
    st.markdown("**Clients**")
    if any(g.key != NO_COMPANY for g in groups):
        st.caption("Per client company of the sessions' PSA tickets, most sessions first; click a header to sort. "
                   f"Sessions whose ticket names no client (or without a ticket) are under {trusted(NO_COMPANY)}.")
        frame = _as_percent(pd.DataFrame([{"client": g.key, **{n: g[n].value for n in CLIENT_SHOWN},
                                           "previous_sessions": g["sessions"].previous} for g in groups]),
                            ("resolution_rate", "escalation_rate", "first_contact_resolution_rate", "sla_breach_rate"))
        # Every client in view (a dozen is usual) and widths that fit beside the sidebar at 1,400 px.
        st.dataframe(frame, hide_index=True, width="stretch", placeholder="–", key="an_table_clients",
                     height=min(CLIENT_ROW_PX * (len(frame) + 1) + 3, 600), column_config={
            "client": st.column_config.TextColumn("Client", width=210, help="The client company on the PSA ticket."),
            "sessions": _count_column("Sessions", 70),
            "resolution_rate": _rate_column("Resolved %", 88, "Resolved, of the sessions with an outcome."),
            "escalation_rate": _rate_column("Escalated %", 92, "Escalated, of the sessions with an outcome."),
            "first_contact_resolution_rate": _rate_column(
                "First contact %", 108, "Closed-out cases (a ticket, or a session without one) resolved by a "
                                        "single session."),
            "tickets": _count_column("Tickets", 62),
            "sla_breaches": _count_column("SLA breaches", 96, "Tickets closed after their SLA due time."),
            "sla_breach_rate": _rate_column("Breach %", 74, "SLA breaches, of the closed tickets with a due time."),
            "previous_sessions": _count_column("Before", 60, "Sessions in the previous period of the same length."),
        })
    else:
        st.caption("No ticket in this period names a client company, so there is no breakdown by client.")
    download("Clients", ("client", *CLIENT_COLUMNS, "previous_sessions", "previous_resolution_rate"),
             [(g.key, *(g[n].value for n in CLIENT_COLUMNS), g["sessions"].previous, g["resolution_rate"].previous)
              for g in groups], "clients", "an_dl_clients")
