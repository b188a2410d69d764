"""PSA figures: tickets, time to resolution, time spent, SLA breaches, per board and priority,
and sessions per engineer. Case definitions are in ``core.metrics.cases``; the engineers come
from the session cube."""

from __future__ import annotations

from core.metrics.cases import CaseRow
from core.metrics.figures import Counts, Section, add_into, breakdown, grouped_counts, mean, pair, ratio, rounded
from core.metrics.medians import median_from_middle
from core.metrics.sessions import CubeRow, outcome_figures

NO_BOARD = "(none)"
NO_ENGINEER = "(none)"


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else rounded(seconds / 3600)


def case_totals(rows: list[CaseRow]) -> tuple[Counts, Counts, Counts, Counts]:
    """(all cases now, before; ticketed cases now, before)."""
    now: Counts = {}
    before: Counts = {}
    tickets_now: Counts = {}
    tickets_before: Counts = {}
    for row in rows:
        add_into(now if row.is_current else before, row.counts)
        if row.ticketed:
            add_into(tickets_now if row.is_current else tickets_before, row.counts)
    return now, before, tickets_now, tickets_before


def ticket_figures(counts: Counts) -> Counts:
    tickets = counts.get("cases") or 0
    return {
        "tickets": tickets,
        "sessions": counts.get("sessions") or 0,
        "first_contact_resolution_rate": ratio(counts.get("first_contact"), counts.get("closed_out")),
        "mean_time_to_resolution_hours": _hours(mean(counts.get("ttr_seconds"), counts.get("ttr_cases"))),
        "mean_time_spent_minutes": mean(counts.get("time_spent_minutes"), counts.get("time_spent_tickets")),
        "sla_judged_tickets": counts.get("sla_judged") or 0,
        "sla_breaches": counts.get("sla_breached") or 0,
        "sla_breach_rate": ratio(counts.get("sla_breached"), counts.get("sla_judged")),
    }


def _psa_totals(all_cases: Counts, tickets: Counts, medians: dict[str, float | None]) -> Counts:
    ticket_count = tickets.get("cases") or 0
    return {
        "tickets": ticket_count,
        "sessions_with_ticket": tickets.get("sessions") or 0,
        "sessions_without_ticket": (all_cases.get("sessions") or 0) - (tickets.get("sessions") or 0),
        "sessions_per_ticket": ratio(tickets.get("sessions"), ticket_count),
        "resolved_cases": all_cases.get("resolved_cases") or 0,
        "mean_time_to_resolution_hours": _hours(mean(all_cases.get("ttr_seconds"), all_cases.get("ttr_cases"))),
        "median_time_to_resolution_hours": _hours(medians.get("ttr_seconds")),
        "mean_time_spent_minutes": mean(tickets.get("time_spent_minutes"), tickets.get("time_spent_tickets")),
        "median_time_spent_minutes": rounded(medians.get("time_spent_minutes")),
        "sla_judged_tickets": tickets.get("sla_judged") or 0,
        "sla_breaches": tickets.get("sla_breached") or 0,
        "sla_breach_rate": ratio(tickets.get("sla_breached"), tickets.get("sla_judged")),
    }


def period_medians(medians: dict[str, list[tuple]]) -> tuple[dict[str, float | None], dict[str, float | None]]:
    now: dict[str, float | None] = {}
    before: dict[str, float | None] = {}
    for name, rows in medians.items():
        for is_current, middle_sum, middle_count in rows:
            (now if int(is_current) else before)[name] = median_from_middle(middle_sum, middle_count)
    return now, before


def engineer_figures(counts: Counts) -> Counts:
    figures = outcome_figures(counts)
    return {name: figures[name] for name in
            ("sessions", "with_outcome", "resolved", "resolution_rate", "escalation_rate", "mean_handle_minutes")}


def shape_psa(cases: list[CaseRow], medians: dict[str, list[tuple]], cube: list[CubeRow]) -> Section:
    now, before, tickets_now, tickets_before = case_totals(cases)
    median_now, median_before = period_medians(medians)
    ticketed = [r for r in cases if r.ticketed]
    boards = breakdown(*grouped_counts((r.is_current, r.board or NO_BOARD, r.counts) for r in ticketed),
                       ticket_figures, _most_tickets_first)
    priorities = breakdown(*grouped_counts((r.is_current, r.priority or NO_BOARD, r.counts) for r in ticketed),
                           ticket_figures, _most_tickets_first)
    people = breakdown(*grouped_counts((r.is_current, r.engineer or NO_ENGINEER, r.counts) for r in cube),
                       engineer_figures)
    return Section(
        name="psa",
        totals=pair(_psa_totals(now, tickets_now, median_now), _psa_totals(before, tickets_before, median_before)),
        breakdowns={"board": boards, "priority": priorities, "engineer": people},
    )


def _most_tickets_first(key: str, figures: Counts) -> tuple:
    return (-(figures.get("tickets") or 0), key)
