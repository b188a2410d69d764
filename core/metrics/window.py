"""What a metrics read covers: one account, a period (``core.periods``) with the one before it, and the filters.

Every query reads both periods in one pass over ``ix_sessions_account_created`` and labels each
row with ``is_current``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.sql.expression import ColumnElement

from core.models import Session
from core.periods import InPeriod, Period


@dataclass(frozen=True)
class MetricsFilters:
    """Narrow every figure to one problem domain, PSA board, engineer and/or client company (None: all)."""

    domain: str | None = None
    board: str | None = None
    engineer: str | None = None
    company: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"domain": self.domain, "board": self.board, "engineer": self.engineer, "company": self.company}


@dataclass(frozen=True)
class Window(InPeriod):
    """One account's sessions in a period and the period before, narrowed by the filters."""

    account_id: int
    period: Period
    filters: MetricsFilters = MetricsFilters()

    @classmethod
    def last_days(cls, account_id: int, days: int, now: datetime | None = None,
                  filters: MetricsFilters | Mapping[str, str | None] | None = None) -> Window:
        if isinstance(filters, Mapping):  # e.g. straight from a page's widgets
            filters = MetricsFilters(**filters)
        return cls(account_id, Period.last_days(days, now), filters or MetricsFilters())

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clause: this account, both periods, the filters; the index's leading columns first."""
        where = [
            Session.account_id == self.account_id,
            Session.created_at >= self.previous_start,
            Session.created_at < self.end,
        ]
        if self.filters.domain is not None:
            where.append(Session.problem_domain == self.filters.domain)
        if self.filters.board is not None:
            where.append(Session.psa_board == self.filters.board)
        if self.filters.engineer is not None:
            where.append(Session.engineer == self.filters.engineer)
        if self.filters.company is not None:
            where.append(Session.psa_company == self.filters.company)
        return where

    def is_current(self, column: ColumnElement = Session.created_at) -> ColumnElement[bool]:
        """True (1 on SQLite) for a row in this period, false for the previous one.

        A comparison, not CASE ... 1/0: grouped by a boolean, PostgreSQL expects two groups and
        aggregates in parallel; grouped by a CASE over ``created_at`` it expects one group per
        distinct start time and aggregates every row in one process."""
        return column >= self.start
