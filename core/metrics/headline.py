"""Headline numbers for one account: how many sessions, and how they ended, this period and last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.metrics.comparison import Comparison, previous_period_covered, previous_period_thin, read_first_session_start
from core.metrics.sessions import outcome_figures
from core.models import ESCALATED_STATUSES, Session
from core.types import utcnow


@dataclass(frozen=True)
class PeriodCounts:
    """Sessions started in one period, by how they stand now."""

    sessions: int
    resolved: int
    escalated: int
    abandoned: int
    active: int

    @property
    def resolution_rate(self) -> float | None:
        """Resolved, of the period's sessions with an outcome (the active ones left out): the
        definition Analytics uses, from the same function; None when none has an outcome."""
        return outcome_figures({"sessions": self.sessions, "resolved": self.resolved,
                                "active": self.active})["resolution_rate"]


@dataclass(frozen=True)
class Headline(PeriodCounts):
    """The counts for ``[start, end)`` plus the same counts for the period of equal length before."""

    start: datetime
    end: datetime
    previous: PeriodCounts
    # When the account's first session started; None: it has none.
    first_session_at: datetime | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    @property
    def comparison(self) -> Comparison:
        return Comparison(previous_period_covered(self.first_session_at, self.previous_start),
                          previous_period_thin(self.sessions, self.previous.sessions), self.previous.sessions,
                          self.first_session_at, self.previous_start)


def headline_numbers(db: OrmSession, actor: Principal, account_id: int, days: int = 30,
                     now: datetime | None = None) -> Headline:
    """Counts of the account's sessions started in the last ``days`` days and the ``days`` before.
    Raises core.accounts.auth.NotAllowed unless ``actor`` may open the account's home page.

    One pass over both periods with conditional counts; the WHERE clause is the leading
    columns of ``ix_sessions_account_created`` so only this account's rows in range are read.
    """
    authorize(db, actor, account_id, "home")
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    end = now or utcnow()
    start = end - timedelta(days=days)
    previous_start = start - timedelta(days=days)

    current = Session.created_at >= start
    previous = Session.created_at < start

    def count(period, status_filter=None):
        condition = period if status_filter is None else period & status_filter
        return func.count(case((condition, 1)))

    resolved = Session.status == "resolved"
    escalated = Session.status.in_(ESCALATED_STATUSES)
    abandoned = Session.status == "abandoned"
    active = Session.status == "active"
    statement = select(
        count(current), count(current, resolved), count(current, escalated),
        count(current, abandoned), count(current, active),
        count(previous), count(previous, resolved), count(previous, escalated),
        count(previous, abandoned), count(previous, active),
    ).where(
        Session.account_id == account_id,
        Session.created_at >= previous_start,
        Session.created_at < end,
    )
    row = db.execute(statement).one()
    return Headline(*row[:5], start=start, end=end, previous=PeriodCounts(*row[5:]),
                    first_session_at=read_first_session_start(db, account_id))

