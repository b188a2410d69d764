"""Plotly figures for the Analytics page: pure functions from core's figures to a figure, one
colour per outcome and per confidence tier everywhere, titles, axis labels and hover text with
units. Plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``...) in tick labels and in
text substituted into hover templates, so every label that comes from session data (domains,
flows, tiers) goes through ``dashboard.text.html_escape`` first: shown as text, never as markup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.metrics.figures import percent
from dashboard.text import html_escape

OUTCOME_COLOURS = {"resolved": "#16a34a", "escalated": "#dc2626", "abandoned": "#9ca3af", "active": "#60a5fa"}
OUTCOME_LABELS = {"resolved": "Resolved", "escalated": "Escalated", "abandoned": "Abandoned", "active": "Still active"}
TIER_COLOURS = {"guided": "#2563eb", "assisted": "#8b5cf6", "discovery": "#f59e0b", "(none)": "#cbd5e1"}
TIER_LABELS = {"guided": "Guided", "assisted": "Assisted", "discovery": "Discovery", "(none)": "No tier"}
CURRENT_COLOUR = "#2563eb"
PREVIOUS_COLOUR = "#cbd5e1"
FONT = dict(size=13)
MAX_BARS = 15  # flows and domains beyond this are in the table and the CSV, not the chart


def _layout(fig: go.Figure, title: str, height: int = 380, **kwargs) -> go.Figure:
    # The title on the first line, the legend on its own line below it: never on top of each other.
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", y=0.985, yref="container", yanchor="top"),
                      height=height, font=FONT, margin=dict(l=10, r=10, t=92, b=10),
                      hoverlabel=dict(namelength=-1),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="",
                                  traceorder="normal"),
                      **kwargs)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _counts_axis(values, title: str) -> dict:
    """A y or x axis of whole counts: no "0.5 sessions" ticks when the numbers are small."""
    axis = dict(title_text=title, rangemode="tozero", tickformat=",d")
    if max((v or 0 for v in values), default=0) <= 8:
        axis["dtick"] = 1
    return axis


def _clip(label: str, limit: int = 40) -> str:
    """A data label for an axis: cut to ``limit`` characters, HTML-escaped."""
    return html_escape(label, limit)


def period_axis_title(weekly: bool) -> str:
    return "Week (from Monday, UTC)" if weekly else "Day (UTC)"


def _x_hover(weekly: bool) -> str:
    return "Week of %{x|%d %b %Y}" if weekly else "%{x|%a %d %b %Y}"


def volume_over_time(rows: Sequence[dict], weekly: bool) -> go.Figure:
    """Stacked sessions per day (or week) by outcome. ``rows``: key (ISO date), resolved,
    escalated, abandoned, active, sessions."""
    x = [date.fromisoformat(r["key"]) for r in rows]
    fig = go.Figure()
    for outcome in ("resolved", "escalated", "abandoned", "active"):
        fig.add_bar(
            x=x, y=[r[outcome] for r in rows], name=OUTCOME_LABELS[outcome], marker_color=OUTCOME_COLOURS[outcome],
            customdata=[[r["sessions"]] for r in rows],
            hovertemplate=f"{_x_hover(weekly)}<br>{OUTCOME_LABELS[outcome]}: %{{y:,}} of %{{customdata[0]:,}} "
                          "sessions<extra></extra>",
        )
    _layout(fig, "Sessions and outcomes over time", barmode="stack", bargap=0.15)
    fig.update_xaxes(title_text=period_axis_title(weekly))
    per_bar = [sum(r[o] for o in ("resolved", "escalated", "abandoned", "active")) for r in rows]
    fig.update_yaxes(**_counts_axis(per_bar, "Sessions"))
    return fig


def tier_mix_over_time(rows: Sequence[dict], weekly: bool) -> go.Figure:
    """Each tier's share of the day's (or week's) sessions. ``rows``: key, tier, sessions, total."""
    fig = go.Figure()
    for tier, label in TIER_LABELS.items():
        mine = [r for r in rows if r["tier"] == tier]
        fig.add_bar(
            x=[date.fromisoformat(r["key"]) for r in mine],
            y=[(r["sessions"] / r["total"]) if r["total"] else None for r in mine],
            customdata=[[r["sessions"], r["total"]] for r in mine], name=label, marker_color=TIER_COLOURS[tier],
            hovertemplate=f"{_x_hover(weekly)}<br>{label}: %{{y:.1%}} of sessions "
                          "(%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>",
        )
    _layout(fig, "Confidence-tier mix over time", barmode="stack", bargap=0.15)
    fig.update_xaxes(title_text=period_axis_title(weekly))
    fig.update_yaxes(title_text="Share of sessions", tickformat=".0%", range=[0, 1])
    return fig


def tier_calibration(rows: Sequence[dict]) -> go.Figure:
    """Resolution and escalation rate per tier. ``rows``: tier, sessions, with_outcome (of the
    sessions), resolution_rate, escalation_rate (None: no outcome yet)."""
    labels = [TIER_LABELS.get(r["tier"], html_escape(r["tier"])) for r in rows]
    fig = go.Figure()
    for outcome, name in (("resolved", "resolution_rate"), ("escalated", "escalation_rate")):
        title = "Resolution rate" if outcome == "resolved" else "Escalation rate"
        fig.add_bar(
            x=labels, y=[r[name] for r in rows], name=title, marker_color=OUTCOME_COLOURS[outcome],
            customdata=[[r["sessions"]] for r in rows],
            text=[None if r[name] is None else percent(r[name]) for r in rows], textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{x}}<br>{title}: %{{y:.1%}}<br>%{{customdata[0]:,}} sessions<extra></extra>",
        )
    _layout(fig, "Tier calibration: how each tier ends", barmode="group")
    fig.update_xaxes(title_text="Confidence tier")
    fig.update_yaxes(title_text="Share of sessions with an outcome", tickformat=".0%", range=[0, 1.12])
    return fig


def escalation_by_domain(rows: Sequence[dict], overall: float | None) -> go.Figure:
    """Escalation rate per domain, highest first. ``rows``: domain, escalated, with_outcome,
    escalation_rate (domains without an outcome left out by the caller)."""
    shown = sorted(rows, key=lambda r: (-(r["escalation_rate"] or 0), r["domain"]))[:MAX_BARS]
    shown.reverse()  # Plotly draws the first category at the bottom
    fig = go.Figure(go.Bar(
        x=[r["escalation_rate"] for r in shown], y=[_clip(r["domain"]) for r in shown], orientation="h",
        marker_color=OUTCOME_COLOURS["escalated"], name="Escalation rate",
        customdata=[[r["escalated"], r["with_outcome"], html_escape(r["domain"])] for r in shown],
        # Inside the bar's end where it fits: the all-domains line, drawn below the bars, would
        # otherwise run through the labels of bars that end just short of it.
        text=[percent(r["escalation_rate"]) for r in shown], textposition="auto", insidetextanchor="end",
        constraintext="none", cliponaxis=False,
        hovertemplate="%{customdata[2]}<br>Escalation rate: %{x:.1%}<br>"
                      "%{customdata[0]:,} escalated of %{customdata[1]:,} sessions with an outcome<extra></extra>",
    ))
    _layout(fig, "Escalation rate by domain", height=max(240, 150 + 32 * len(shown)), showlegend=False)
    if overall is not None:
        fig.add_vline(x=overall, line_dash="dash", line_color="#475569", layer="below",
                      annotation_text=f"all domains {percent(overall)}", annotation_position="top")
    top = max([r["escalation_rate"] or 0 for r in shown] + [overall or 0])
    # Room right of the longest bar for its label; the ticks stop at 100%.
    fig.update_xaxes(title_text="Escalated, of sessions with an outcome", tickformat=".0%",
                     range=[0, max(top * 1.22, 0.05)], tickvals=[i / 10 for i in range(0, 11, 2)])
    fig.update_yaxes(title_text="Problem domain")
    return fig


def time_to_resolution(rows: Sequence[dict], median_hours: float | None) -> go.Figure:
    """Resolved cases per time-to-resolution bucket, this period against the one before.
    ``rows``: label, cases, previous_cases."""
    labels = [r["label"] for r in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[r["previous_cases"] for r in rows], name="Previous period",
                marker_color=PREVIOUS_COLOUR,
                hovertemplate="%{x}<br>Previous period: %{y:,} resolved cases<extra></extra>")
    fig.add_bar(x=labels, y=[r["cases"] for r in rows], name="This period", marker_color=CURRENT_COLOUR,
                hovertemplate="%{x}<br>This period: %{y:,} resolved cases<extra></extra>")
    title = "Time to resolution"
    if median_hours is not None:
        title += f" (median {format_hours(median_hours)})"
    _layout(fig, title, barmode="group")
    fig.update_xaxes(title_text="From ticket opened to closed (or session start to resolution)")
    fig.update_yaxes(**_counts_axis([v for r in rows for v in (r["cases"], r["previous_cases"])], "Resolved cases"))
    return fig


def flow_usage(rows: Sequence[dict]) -> go.Figure:
    """Sessions and resolution rate per flow, side by side. ``rows``: flow, sessions, resolved,
    with_outcome, resolution_rate; the most used first."""
    shown = list(rows[:MAX_BARS])
    shown.reverse()
    names = [_clip(r["flow"]) for r in shown]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("Sessions", "Resolution rate"))
    fig.add_bar(x=[r["sessions"] for r in shown], y=names, orientation="h", marker_color=CURRENT_COLOUR,
                name="Sessions", customdata=[[html_escape(r["flow"])] for r in shown],
                hovertemplate="%{customdata[0]}<br>%{x:,} sessions<extra></extra>", row=1, col=1)
    fig.add_bar(x=[r["resolution_rate"] for r in shown], y=names, orientation="h",
                marker_color=OUTCOME_COLOURS["resolved"], name="Resolution rate",
                customdata=[[html_escape(r["flow"]), r["resolved"], r["with_outcome"]] for r in shown],
                text=[None if r["resolution_rate"] is None else percent(r["resolution_rate"]) for r in shown],
                textposition="outside", cliponaxis=False,
                hovertemplate="%{customdata[0]}<br>Resolution rate: %{x:.1%}<br>"
                              "%{customdata[1]:,} resolved of %{customdata[2]:,} sessions with an outcome"
                              "<extra></extra>", row=1, col=2)
    _layout(fig, "Flow usage and resolution rate per flow", height=max(320, 140 + 30 * len(shown)),
            showlegend=False)
    fig.update_xaxes(**_counts_axis([r["sessions"] for r in shown], "Sessions"), row=1, col=1)
    fig.update_xaxes(title_text="Resolved, of sessions with an outcome", tickformat=".0%", range=[0, 1.18],
                     row=1, col=2)
    return fig


def format_hours(hours: float | None) -> str:
    if hours is None:
        return "–"
    if abs(hours) < 1:
        return f"{hours * 60:.0f} min"
    if abs(hours) < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def impact_weekly(weeks: Sequence, publications: Sequence[tuple[int, object]]) -> go.Figure:
    """A flow's weekly escalation and resolution rates (of finished sessions), with a dashed line at
    each version's publication inside the weeks shown. ``weeks``: core.impact.detail.WeekPoint."""
    x = [w.week for w in weeks]
    fig = go.Figure()
    for name, values, colour in (
        ("Resolution rate", [w.resolution_rate for w in weeks], OUTCOME_COLOURS["resolved"]),
        ("Escalation rate", [w.escalation_rate for w in weeks], OUTCOME_COLOURS["escalated"]),
    ):
        fig.add_trace(go.Scatter(
            x=x, y=values, name=name, mode="lines+markers", line=dict(color=colour), connectgaps=False,
            customdata=[w.finished for w in weeks],
            hovertemplate=f"Week of %{{x|%d %b %Y}}<br>{name}: %{{y:.1%}} of %{{customdata:,}} finished<extra></extra>"))
    if x:
        first, last = x[0], x[-1]
        for version, published in publications:
            monday = published.date() - timedelta(days=published.weekday())
            if first <= monday <= last:
                fig.add_vline(x=published, line=dict(color="#6b7280", dash="dash", width=1))
                fig.add_annotation(x=published, y=1.0, yref="paper", text=f"v{version}", showarrow=False,
                                   yanchor="bottom", font=dict(size=11, color="#374151"))
    fig.update_yaxes(title_text="Share of finished sessions", tickformat=".0%", range=[0, 1.05])
    fig.update_xaxes(title_text=period_axis_title(True))
    return _layout(fig, "Weekly resolution and escalation rates, publications marked", height=360)
