"""Headline numbers for one account: how many sessions, and how they ended, this period and last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.metrics.comparison import Comparison, previous_period_thin, read_first_session_start
from core.metrics.sessions import outcome_figures
from core.models import Session
from core.outcomes import ABANDONED, ACTIVE, ESCALATED, RESOLVED
from core.periods import InPeriod, Period


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
class Headline(PeriodCounts, InPeriod):
    """The counts for the period plus the same counts for the period of equal length before."""

    period: Period
    previous: PeriodCounts
    # When the account's first session started; None: it has none.
    first_session_at: datetime | None = None

    @property
    def comparison(self) -> Comparison:
        return Comparison(self.period.previous_covered(self.first_session_at),
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
    period = Period.last_days(days, now)
    current = Session.created_at >= period.start
    previous = Session.created_at < period.start

    def count(period, status_filter=None):
        condition = period if status_filter is None else period & status_filter
        return func.count(case((condition, 1)))

    statement = select(
        count(current), count(current, RESOLVED), count(current, ESCALATED),
        count(current, ABANDONED), count(current, ACTIVE),
        count(previous), count(previous, RESOLVED), count(previous, ESCALATED),
        count(previous, ABANDONED), count(previous, ACTIVE),
    ).where(
        Session.account_id == account_id,
        Session.created_at >= period.previous_start,
        Session.created_at < period.end,
    )
    row = db.execute(statement).one()
    return Headline(*row[:5], period=period, previous=PeriodCounts(*row[5:]),
                    first_session_at=read_first_session_start(db, account_id))

