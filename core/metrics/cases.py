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
- **Client**: the ticket's ``psa_company`` (the largest its sessions carry); a case without one
  (no ticket, or a ticket without a company) counts under ``core.metrics.psa.NO_COMPANY``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, func, literal, not_, null, or_, select, true, union_all
from sqlalchemy.orm import Session as OrmSession

from core.metrics.figures import Counts
from core.metrics.medians import median_query
from core.metrics.sql import count_if, seconds_between
from core.metrics.tiers import handle_columns
from core.metrics.window import Window
from core.models import Session
from core.outcomes import ACTIVE, ESCALATED, RESOLVED

CASE_COUNTS = ("cases", "sessions", "closed_out", "resolved_cases", "first_contact",
               "ttr_seconds", "ttr_cases", "time_spent_minutes", "time_spent_tickets", "sla_judged", "sla_breached")
# Sessions (not cases) per client and the period each started in, as the session cube counts
# them, so that a client's resolution and escalation rates add up to the account's.
SESSION_COUNTS = ("sessions", "with_outcome", "resolved", "escalated")


@dataclass(frozen=True)
class CaseRow:
    is_current: int
    ticketed: bool
    board: str | None
    priority: str | None
    company: str | None
    counts: Counts


@dataclass(frozen=True)
class ClientSessions:
    """The sessions of one client (None: no company recorded) started in one period."""

    is_current: int
    company: str | None
    counts: Counts


class _Grouped:
    """Case figures as aggregates over the sessions of one ticket."""

    count = staticmethod(func.count)
    min = staticmethod(func.min)
    max = staticmethod(func.max)

    @staticmethod
    def none(condition):
        return count_if(condition) == 0

    @staticmethod
    def some(condition):
        return count_if(condition) > 0

    @staticmethod
    def one():
        return func.count() == 1


class _Single:
    """The same figures for a case of one session, read straight off the row: what each
    aggregate of ``_Grouped`` gives over a single row. (The conditions are on the status, never
    null, so the condition itself stands for its count: CASE expressions counted and compared
    for every session were a twentieth of the cases statement.)"""

    @staticmethod
    def count():
        return literal(1)

    @staticmethod
    def min(value):
        return value

    max = min

    @staticmethod
    def none(condition):
        return not_(condition)

    @staticmethod
    def some(condition):
        return condition

    @staticmethod
    def one():
        return true()


class CaseTable:
    """The cases (``table``): one row per case with every case-level figure already worked out,
    so the cube, the medians and the time-to-resolution buckets read plain columns. (Worked out
    in the readers instead, each CASE and epoch conversion ran again for every case in each of
    them: a third of the metrics set's time at 1,000,000 sessions.)

    Most cases are one session: a session without a ticket, or the only one of its ticket in
    the two periods. Only the tickets with several sessions are grouped; the others become a
    case row by row. (Grouping a million sessions' worth of single-session tickets, eleven
    aggregates each, was half of the metrics set; finding the tickets with several sessions
    needs a count only.) Both halves take their figures from one definition, ``_figures``.

    The window's sessions are read once, into ``sessions``: each with its figures as a case of
    its own, and its tier and handle time for the tier medians (``core.metrics.tiers``). The
    tickets with several sessions are counted there too. (Each in a read of their own, the
    ticket count and the tier medians scanned the sessions twice more: a fifth of the set.)"""

    def __init__(self, window: Window):
        ticket = Session.psa_ticket_id
        sessions = (select(ticket.label("ticket"), *self._figures(window, _Single), *handle_columns(),
                           ESCALATED.label("escalated"))
                    .where(*window.conditions()).cte("window_sessions"))
        s = sessions.c
        several = (select(s.ticket).where(s.ticket.is_not(None)).group_by(s.ticket).having(func.count() > 1)
                   .cte("tickets_with_several_sessions"))
        grouped = (select(*self._figures(window, _Grouped))
                   .where(*window.conditions(), ticket.in_(select(several.c.ticket))).group_by(ticket)
                   .cte("grouped_cases"))
        singles = select(*(s[c.name] for c in grouped.c)).where(
            or_(s.ticket.is_(None), s.ticket.not_in(select(several.c.ticket))))
        self.sessions = sessions
        self.table = union_all(singles, select(grouped)).subquery("cases")
        c = self.table.c
        self.is_current, self.has_ticket, self.ttr, self.spent = c.is_current, c.has_ticket, c.ttr, c.spent

    @staticmethod
    def _figures(window: Window, agg) -> list:
        ticket = Session.psa_ticket_id
        has_ticket = ticket.is_not(None)
        first_at = agg.min(Session.created_at)
        opened_at, closed_at = agg.min(Session.psa_opened_at), agg.max(Session.psa_closed_at)
        sla_due_at = agg.max(Session.psa_sla_due_at)
        closed_out = agg.none(ACTIVE)
        is_resolved = and_(closed_out, agg.some(RESOLVED))
        started = case((and_(has_ticket, opened_at.is_not(None)), opened_at), else_=first_at)
        finished = case((and_(has_ticket, closed_at.is_not(None)), closed_at),
                        else_=agg.max(case((RESOLVED, Session.ended_at))))
        sla_judged = and_(has_ticket, closed_at.is_not(None), sla_due_at.is_not(None))
        return [
            window.is_current(first_at).label("is_current"),
            has_ticket.label("has_ticket"),
            agg.max(Session.psa_board).label("board"),
            agg.max(Session.psa_priority).label("priority"),
            agg.max(Session.psa_company).label("company"),
            agg.count().label("sessions"),
            closed_out.label("closed_out"),
            is_resolved.label("resolved"),
            # Resolved with a single session: so never active, escalated or retried.
            and_(is_resolved, agg.one()).label("first_contact"),
            case((is_resolved, seconds_between(started, finished))).label("ttr"),
            case((has_ticket, agg.max(Session.psa_time_spent_minutes))).label("spent"),
            sla_judged.label("sla_judged"),
            and_(sla_judged, closed_at > sla_due_at).label("breached"),
        ]


# The medians ride in the cube's own columns (same types, so the UNION lines up): the weighted
# middle sum in a measure's total column, the middle weight in its count column; the handle
# times' in those of time to resolution, with their tier in the tier column.
MEDIAN_COLUMNS = {"ttr": ("ttr_seconds", "ttr_cases"), "spent": ("time_spent_minutes", "time_spent_tickets"),
                  "handle": ("ttr_seconds", "ttr_cases")}


def fetch_cases(db: OrmSession, window: Window
                ) -> tuple[list[CaseRow], dict[str, list[tuple]], list[tuple], list[ClientSessions]]:
    """The case cube per (period, ticketed, board, priority, company); the middle values per period of
    time to resolution (seconds) and time spent per ticket (minutes); and the middle values of
    the sessions' handle time (seconds) per period and tier, as ``core.metrics.tiers`` reads them:
    (is_current, tier or '*', middle_sum, middle_weight); and the sessions per period and client.

    One statement, so the sessions are read and grouped into cases a single time.
    """
    k = CaseTable(window)
    c = k.table.c
    measures = [
        func.count(), func.sum(c.sessions), count_if(c.closed_out), count_if(c.resolved), count_if(c.first_contact),
        func.sum(c.ttr), func.count(c.ttr), func.sum(c.spent), func.count(c.spent),
        count_if(c.sla_judged), count_if(c.breached),
    ]
    # Per time spent as well, so that its median reads these few rows instead of the cases again.
    by_spent = (select(c.is_current, c.has_ticket, c.board, c.priority, c.company, c.spent,
                       *(m.label(name) for m, name in zip(measures, CASE_COUNTS)))
                .group_by(c.is_current, c.has_ticket, c.board, c.priority, c.company, c.spent).cte("case_cube"))
    f = by_spent.c
    no_sessions = [null().label(f"session_{name}") for name in SESSION_COUNTS]
    cube = (
        select(literal("cube").label("part"), f.is_current, f.has_ticket.label("ticketed"), f.board, f.priority,
               f.company, null().label("tier"), *(func.sum(f[name]).label(name) for name in CASE_COUNTS),
               *no_sessions)
        .group_by(f.is_current, f.has_ticket, f.board, f.priority, f.company)
    )
    s = k.sessions.c
    clients = (
        select(literal("clients"), s.is_current, null(), null(), null(), s.company, null(),
               *(null() for _ in CASE_COUNTS),
               func.count(), count_if(s.closed_out), count_if(s.resolved), count_if(s.escalated))
        .group_by(s.is_current, s.company)
    )
    parts = [
        cube,
        clients,
        _medians("ttr", select(c.is_current, c.ttr.label("value")), ["is_current"]),
        _medians("spent", select(f.is_current, f.spent.label("value"), f.cases.label("weight")), ["is_current"]),
        _medians("handle", select(k.sessions.c.is_current, k.sessions.c.tier, k.sessions.c.handle.label("value")),
                 ["is_current", "tier"], rollups=[["is_current"]]),
    ]
    cube_rows: list[CaseRow] = []
    medians_by_part: dict[str, list[tuple]] = {"ttr_seconds": [], "time_spent_minutes": []}
    handle_medians: list[tuple] = []
    client_rows: list[ClientSessions] = []
    for r in db.execute(union_all(*parts)):
        part, is_current = r[0], int(r[1])
        counts = _plain(r[7:])
        named = dict(zip(CASE_COUNTS, counts))
        if part == "cube":
            cube_rows.append(CaseRow(is_current, bool(r[2]), r[3], r[4], r[5], named))
            continue
        if part == "clients":
            client_rows.append(ClientSessions(is_current, r[5], dict(zip(SESSION_COUNTS, counts[len(CASE_COUNTS):]))))
            continue
        total, weight = MEDIAN_COLUMNS[part]
        if part == "handle":
            handle_medians.append((is_current, r[6], named[total], named[weight]))
        else:
            medians_by_part[total].append((is_current, named[total], named[weight]))
    return cube_rows, medians_by_part, handle_medians, client_rows


def _medians(part: str, values: Select, groups: Sequence[str], rollups: Sequence[Sequence[str]] = ()) -> Select:
    """``median_query`` over ``values``, laid out as rows of the cube (see ``MEDIAN_COLUMNS``)."""
    medians = median_query(values, groups, rollups, name=f"{part}_histogram").subquery(f"{part}_medians")
    *_, middle_sum, middle_weight = medians.c
    total, weight = MEDIAN_COLUMNS[part]
    row = [null().label(name) for name in CASE_COUNTS]
    row[CASE_COUNTS.index(total)], row[CASE_COUNTS.index(weight)] = middle_sum.label(total), middle_weight.label(weight)
    tier = medians.c.tier if "tier" in groups else null()
    return select(literal(part), medians.c.is_current, null(), null(), null(), null(), tier, *row,
                  *(null() for _ in SESSION_COUNTS))


def _plain(values) -> list:
    # PostgreSQL sums integers as NUMERIC; figures are plain ints and floats.
    return [v if v is None or isinstance(v, (int, float)) else (int(v) if v == int(v) else float(v)) for v in values]
