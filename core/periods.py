"""The reporting period and the previous period it is compared with: the one definition every
report (knowledge gaps, analytics, the home page's headline) and the period picker use.

A session belongs to a period by its start (``created_at``), half-open ``[start, end)``. The
previous period is the one of equal length just before, ``[previous_start, start)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from core.types import utcnow


@dataclass(frozen=True)
class Period:
    """``[start, end)`` by session start, and the period of equal length before it."""

    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> Period:
        """The ``days`` days up to ``now`` (default: the time of the call)."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        end = now or utcnow()
        if end.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        return cls(start=end - timedelta(days=days), end=end)

    @classmethod
    def whole_days(cls, first: date, last: date) -> Period:
        """Whole UTC days, ``first`` to ``last`` inclusive (in either order): it ends at midnight after ``last``."""
        first, last = min(first, last), max(first, last)
        end = datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=1)
        return cls(start=end - timedelta(days=(last - first).days + 1), end=end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    def utc_days(self) -> list[str]:
        """Every UTC day the period touches, 'YYYY-MM-DD', in order (a chart's or table's rows)."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [(first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)]

    def previous_covered(self, first_session_at: datetime | None) -> bool:
        """Whether the account's data reaches back to the previous period's start: if its first
        session came later, the previous period is no yardstick (no change, nothing emerging)."""
        return first_session_at is not None and first_session_at <= self.previous_start


class InPeriod:
    """For a dataclass with a ``period`` field (a read's window, a report): the period's dates as
    its own attributes, so callers write ``report.start`` and no one redoes the arithmetic."""

    period: Period

    @property
    def start(self) -> datetime:
        return self.period.start

    @property
    def end(self) -> datetime:
        return self.period.end

    @property
    def days(self) -> int:
        return self.period.days

    @property
    def previous_start(self) -> datetime:
        return self.period.previous_start
