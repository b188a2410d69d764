"""Weeks for the per-day figures: which ISO week (from Monday, UTC) a day belongs to, and whether a
period is long enough to be charted by weeks. The report's week breakdown, the tier mix and the
Analytics charts use these, so a day lands in the same week everywhere."""

from __future__ import annotations

from datetime import date, timedelta

WEEKLY_AFTER_DAYS = 45  # a longer period has too many days to read as bars: it is charted by week


def week_of(day: str) -> str:
    """The Monday that starts ``day``'s ISO week, both as ``YYYY-MM-DD``."""
    when = date.fromisoformat(day)
    return (when - timedelta(days=when.weekday())).isoformat()


def charted_by_week(days: int) -> bool:
    """Whether a period of ``days`` days is charted per week rather than per day."""
    return days > WEEKLY_AFTER_DAYS
