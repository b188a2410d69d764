"""Cases: the unit the PSA and first-contact figures count.

A case is one PSA ticket (all of the period's sessions with the same ticket id), or one
session without a ticket. A case belongs to the period its first session started in; sessions
outside the two periods are not looked at. A case is *closed out* when none of its sessions
is still active.

- **First-contact resolution**: a closed-out case with exactly one session, and that session
  resolved (so never escalated or retried in a second session). Rate: of closed-out cases.
- **Time to resolution** of a closed-out case with a resolved session: from the ticket's
  ``opened_at`` (else the first session's start) to the ticket's ``closed_at`` (else the
  resolving session's end).
- **Time spent per ticket**: the ticket's ``time_spent_minutes`` as the PSA reports it (the
  largest value the ticket's sessions carry; the PSA keeps a running total per ticket).
- **SLA breach**: a ticket closed after its ``sla_due_at``. Rate: of tickets with both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session as OrmSession

from core.metrics.figures import Counts
from core.metrics.medians import median_query
from core.metrics.sql import count_if, seconds_between
from core.metrics.window import ACTIVE, RESOLVED, Window
from core.models import Session

CASE_COUNTS = ("cases", "sessions", "closed_out", "resolved_cases", "first_contact",
               "ttr_seconds", "ttr_cases", "time_spent_minutes", "time_spent_tickets", "sla_judged", "sla_breached")


@dataclass(frozen=True)
class CaseRow:
    is_current: int
    ticketed: bool
    board: str | None
    priority: str | None
    counts: Counts


class _Grouped:
    """Case figures as aggregates over the sessions of one ticket."""

    count = staticmethod(func.count)
    count_if = staticmethod(count_if)
    min = staticmethod(func.min)
    max = staticmethod(func.max)


class _Single:
    """The same figures for a case of one session, read straight off the row: what each
    aggregate of ``_Grouped`` gives over a single row."""

    @staticmethod
    def count():
        return literal(1)

    @staticmethod
    def count_if(condition):
        return case((condition, 1), else_=0)

    @staticmethod
    def min(value):
        return value

    max = min


class CaseTable:
    """The cases CTE: one row per case with every case-level figure already worked out, so the
    cube, the medians and the time-to-resolution buckets read plain columns. (Worked out in
    the readers instead, each CASE and epoch conversion ran again for every case in each of
    them: a third of the metrics set's time at 1,000,000 sessions.)

    Most cases are one session: a session without a ticket, or the only one of its ticket in
    the two periods. Only the tickets with several sessions are grouped; the others become a
    case row by row. (Grouping a million sessions' worth of single-session tickets, eleven
    aggregates each, was half of the metrics set; finding the tickets with several sessions
    needs a count only.) Both halves take their figures from one definition, ``_figures``."""

    def __init__(self, window: Window):
        ticket = Session.psa_ticket_id
        several = (
            select(ticket.label("ticket"))
            .where(*window.conditions(), ticket.is_not(None))
            .group_by(ticket)
            .having(func.count() > 1)
            .cte("tickets_with_several_sessions")
        )
        in_several = ticket.in_(select(several.c.ticket))
        singles = select(*self._figures(window, _Single)).where(
            *window.conditions(), or_(ticket.is_(None), ~in_several))
        grouped = select(*self._figures(window, _Grouped)).where(*window.conditions(), in_several).group_by(ticket)
        self.table = union_all(singles, grouped).cte("cases")
        c = self.table.c
        self.is_current, self.has_ticket, self.ttr, self.spent = c.is_current, c.has_ticket, c.ttr, c.spent

    @staticmethod
    def _figures(window: Window, agg) -> list:
        ticket = Session.psa_ticket_id
        has_ticket = ticket.is_not(None)
        first_at = agg.min(Session.created_at)
        sessions, active, resolved = agg.count(), agg.count_if(ACTIVE), agg.count_if(RESOLVED)
        opened_at, closed_at = agg.min(Session.psa_opened_at), agg.max(Session.psa_closed_at)
        sla_due_at = agg.max(Session.psa_sla_due_at)
        closed_out = active == 0
        is_resolved = and_(closed_out, resolved > 0)
        started = case((and_(has_ticket, opened_at.is_not(None)), opened_at), else_=first_at)
        finished = case((and_(has_ticket, closed_at.is_not(None)), closed_at),
                        else_=agg.max(case((RESOLVED, Session.ended_at))))
        sla_judged = and_(has_ticket, closed_at.is_not(None), sla_due_at.is_not(None))
        return [
            window.is_current(first_at).label("is_current"),
            has_ticket.label("has_ticket"),
            agg.max(Session.psa_board).label("board"),
            agg.max(Session.psa_priority).label("priority"),
            sessions.label("sessions"),
            closed_out.label("closed_out"),
            is_resolved.label("resolved"),
            and_(closed_out, sessions == 1, resolved == 1).label("first_contact"),
            case((is_resolved, seconds_between(started, finished))).label("ttr"),
            case((has_ticket, agg.max(Session.psa_time_spent_minutes))).label("spent"),
            sla_judged.label("sla_judged"),
            and_(sla_judged, closed_at > sla_due_at).label("breached"),
        ]


# The medians ride in the cube's own columns (same types, so the UNION lines up): the weighted
# middle sum in the measure's total column, the middle weight in its count column.
MEDIAN_COLUMNS = {"ttr": ("ttr_seconds", "ttr_cases"), "spent": ("time_spent_minutes", "time_spent_tickets")}


def fetch_cases(db: OrmSession, window: Window) -> tuple[list[CaseRow], dict[str, list[tuple]]]:
    """The case cube per (period, ticketed, board, priority), and the middle values per period
    of time to resolution (seconds) and time spent per ticket (minutes).

    One statement: the sessions are grouped into cases once (a CTE) and the cube and both
    medians read that, so the costly grouping by ticket happens a single time.
    """
    k = CaseTable(window)
    c = k.table.c
    measures = [
        func.count(), func.sum(c.sessions), count_if(c.closed_out), count_if(c.resolved), count_if(c.first_contact),
        func.sum(c.ttr), func.count(c.ttr), func.sum(c.spent), func.count(c.spent),
        count_if(c.sla_judged), count_if(c.breached),
    ]
    cube = (
        select(literal("cube").label("part"), c.is_current, c.has_ticket.label("ticketed"),
               c.board, c.priority, *(m.label(name) for m, name in zip(measures, CASE_COUNTS)))
        .group_by(c.is_current, c.has_ticket, c.board, c.priority)
    )
    parts = [cube]
    for part, value in (("ttr", k.ttr), ("spent", k.spent)):
        medians = median_query(select(k.is_current.label("is_current"), value.label("value")),
                               ["is_current"], name=f"{part}_histogram").subquery(f"{part}_medians")
        total, weight = MEDIAN_COLUMNS[part]
        row = [null().label(name) for name in CASE_COUNTS]
        m = list(medians.c)
        row[CASE_COUNTS.index(total)], row[CASE_COUNTS.index(weight)] = m[1].label(total), m[2].label(weight)
        parts.append(select(literal(part), m[0], null(), null(), null(), *row))
    cube_rows: list[CaseRow] = []
    medians_by_part: dict[str, list[tuple]] = {"ttr_seconds": [], "time_spent_minutes": []}
    for r in db.execute(union_all(*parts)):
        part, is_current = r[0], int(r[1])
        values = _plain(r[5:])
        if part == "cube":
            cube_rows.append(CaseRow(is_current, bool(r[2]), r[3], r[4], dict(zip(CASE_COUNTS, values))))
        else:
            total, weight = MEDIAN_COLUMNS[part]
            named = dict(zip(CASE_COUNTS, values))
            medians_by_part[total].append((is_current, named[total], named[weight]))
    return cube_rows, medians_by_part


def _plain(values) -> list:
    # PostgreSQL sums integers as NUMERIC; figures are plain ints and floats.
    return [v if v is None or isinstance(v, (int, float)) else (int(v) if v == int(v) else float(v)) for v in values]
