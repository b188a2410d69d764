"""Session volume and outcomes: totals, per UTC day, per ISO week (from Monday) and per domain.

A day or a week is compared with the same hours ``lag`` days earlier, where ``lag`` is the
period's length rounded down to whole weeks (the period's length when under a week): a Monday
is set against a Monday, and today's first hours against the same hours of that day, never
against a whole day. Totals compare with the previous period proper.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session as OrmSession

from core.metrics.figures import Counts, Section, breakdown, grouped_counts, pair
from core.metrics.sessions import CubeRow, outcome_figures, totals
from core.metrics.sql import count_if, day_key, utc_day
from core.metrics.weeks import week_of
from core.metrics.window import Window
from core.models import Session
from core.outcomes import ABANDONED, ACTIVE, ESCALATED, RESOLVED

DAY_COUNTS = ("sessions", "resolved", "escalated", "abandoned", "active")
UNKNOWN_DOMAIN = "(unknown)"


def day_lag(window: Window) -> timedelta:
    days = window.days
    return timedelta(days=7 * (days // 7) if days >= 7 else days)


def fetch_daily(db: OrmSession, window: Window) -> list[tuple]:
    """Per UTC day: 'YYYY-MM-DD', then the five counts for sessions of this period, then the
    five for sessions of the lagged range ``[start − lag, end − lag)``."""
    lag = day_lag(window)
    day = utc_day(Session.created_at)
    current = Session.created_at >= window.start
    lagged = and_(Session.created_at >= window.start - lag, Session.created_at < window.end - lag)
    statuses = (None, RESOLVED, ESCALATED, ABANDONED, ACTIVE)

    def counts(period):
        return [count_if(period if s is None else and_(period, s)) for s in statuses]

    statement = (
        select(day, *counts(current), *counts(lagged))
        .where(*window.conditions())
        .group_by(day)
    )
    return [tuple(row) for row in db.execute(statement)]


def day_figures(counts: Counts) -> Counts:
    figures = outcome_figures(counts)
    del figures["mean_handle_minutes"]  # the day query does not read end times
    return figures


def shape_days(rows: list[tuple], window: Window) -> tuple[tuple, tuple]:
    """The day and week breakdowns; every day of the period appears, zero when it had no sessions."""
    lag = day_lag(window)
    n = len(DAY_COUNTS)
    by_day: list[tuple[int, str, Counts]] = []
    for day, *counts in rows:
        day = day_key(day)
        when = date.fromisoformat(day)
        by_day.append((1, day, dict(zip(DAY_COUNTS, counts[:n]))))
        by_day.append((0, (when + lag).isoformat(), dict(zip(DAY_COUNTS, counts[n:]))))
    every_day = window.period.utc_days()
    in_period = set(every_day)
    by_day = [row for row in by_day if row[1] in in_period]  # lagged days past the end hold nothing
    by_day += [(c, d, {}) for d in every_day for c in (0, 1)]

    def chronological(key: str, _figures: Counts) -> str:
        return key

    days = breakdown(*grouped_counts(by_day), day_figures, chronological)
    weeks = breakdown(*grouped_counts((c, week_of(key), counts) for c, key, counts in by_day),
                      day_figures, chronological)
    return days, weeks


def shape_volume(cube: list[CubeRow], daily: list[tuple], window: Window) -> Section:
    now, before = totals(cube)
    days, weeks = shape_days(daily, window)
    domains = breakdown(*grouped_counts((r.is_current, r.domain or UNKNOWN_DOMAIN, r.counts) for r in cube),
                        outcome_figures)
    return Section(
        name="volume",
        totals=pair(outcome_figures(now), outcome_figures(before)),
        breakdowns={"day": days, "week": weeks, "domain": domains},
    )
