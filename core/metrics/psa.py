"""PSA figures: tickets, time to resolution, time spent, SLA breaches, per board and priority,
sessions per engineer, and both per client company. Case definitions are in
``core.metrics.cases``; the engineers come from the session cube."""

from __future__ import annotations

from core.metrics.cases import CaseRow, ClientSessions
from core.metrics.figures import Counts, Section, add_into, breakdown, grouped_counts, mean, pair, ratio, rounded
from core.metrics.medians import median_from_middle
from core.metrics.sessions import CubeRow, outcome_figures

NO_BOARD = "(none)"
NO_ENGINEER = "(none)"
# One key for every session whose ticket names no client (or that has no ticket at all).
NO_COMPANY = "(no client recorded)"


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


def client_figures(counts: Counts) -> Counts:
    """A client's tickets, first-contact resolution and SLA (of its cases) beside how its sessions
    ended (``outcome_figures``: the volume section's definitions)."""
    sessions = outcome_figures({name: counts.get(f"session_{name}") for name in
                                ("sessions", "resolved", "escalated")}
                               | {"active": (counts.get("session_sessions") or 0)
                                  - (counts.get("session_with_outcome") or 0)})
    cases = ticket_figures(counts)
    return {
        "tickets": counts.get("tickets") or 0,
        "sessions": sessions["sessions"],
        "with_outcome": sessions["with_outcome"],
        "resolved": sessions["resolved"],
        "escalated": sessions["escalated"],
        "resolution_rate": sessions["resolution_rate"],
        "escalation_rate": sessions["escalation_rate"],
        "closed_out_cases": counts.get("closed_out") or 0,
        "first_contact_resolutions": counts.get("first_contact") or 0,
        "first_contact_resolution_rate": cases["first_contact_resolution_rate"],
        "mean_time_to_resolution_hours": cases["mean_time_to_resolution_hours"],
        "sla_judged_tickets": cases["sla_judged_tickets"],
        "sla_breaches": cases["sla_breaches"],
        "sla_breach_rate": cases["sla_breach_rate"],
    }


def client_rows(cases: list[CaseRow], clients: list[ClientSessions]):
    """(is_current, client, counts) rows: each case's counts (tickets apart from the cases without
    one), then each client's session counts, prefixed ``session_``."""
    for r in cases:
        yield r.is_current, r.company or NO_COMPANY, {**r.counts, "tickets": r.counts.get("cases") if r.ticketed else 0}
    for c in clients:
        yield c.is_current, c.company or NO_COMPANY, {f"session_{n}": v for n, v in c.counts.items()}


def _most_sessions_first(key: str, figures: Counts) -> tuple:
    # The sessions without a client go last: they are what is left, not a client.
    return (key == NO_COMPANY, -(figures.get("sessions") or 0), key)


def shape_psa(cases: list[CaseRow], medians: dict[str, list[tuple]], cube: list[CubeRow],
              clients: list[ClientSessions] = ()) -> Section:
    now, before, tickets_now, tickets_before = case_totals(cases)
    median_now, median_before = period_medians(medians)
    ticketed = [r for r in cases if r.ticketed]
    boards = breakdown(*grouped_counts((r.is_current, r.board or NO_BOARD, r.counts) for r in ticketed),
                       ticket_figures, _most_tickets_first)
    priorities = breakdown(*grouped_counts((r.is_current, r.priority or NO_BOARD, r.counts) for r in ticketed),
                           ticket_figures, _most_tickets_first)
    people = breakdown(*grouped_counts((r.is_current, r.engineer or NO_ENGINEER, r.counts) for r in cube),
                       engineer_figures)
    companies = breakdown(*grouped_counts(client_rows(cases, list(clients))), client_figures, _most_sessions_first)
    return Section(
        name="psa",
        totals=pair(_psa_totals(now, tickets_now, median_now), _psa_totals(before, tickets_before, median_before)),
        breakdowns={"board": boards, "priority": priorities, "engineer": people, "company": companies},
    )


def _most_tickets_first(key: str, figures: Counts) -> tuple:
    return (-(figures.get("tickets") or 0), key)
