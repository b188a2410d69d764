"""Series the analytics charts need beyond ``build_metrics``: the confidence-tier mix per day and
the distribution of time to resolution. Both are SQL aggregates (a handful of rows), the same on
SQLite and PostgreSQL, with the same period, filters and case definitions as the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.metrics.cases import CaseTable
from core.metrics.figures import ratio
from core.metrics.sql import count_if, day_key, utc_day
from core.metrics.tiers import NO_TIER, TIER_ORDER
from core.metrics.weeks import week_of
from core.metrics.window import MetricsFilters, Window
from core.models import Session
from core.outcomes import ABANDONED, ESCALATED, RESOLVED

HOUR = 3600
# (label, lower bound in hours, upper bound in hours or None): half-open [lower, upper).
TTR_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("< 1 h", 0, 1), ("1–4 h", 1, 4), ("4–8 h", 4, 8), ("8–24 h", 8, 24),
    ("1–3 days", 24, 72), ("3–7 days", 72, 168), ("≥ 7 days", 168, None),
)


@dataclass(frozen=True)
class TierDay:
    day: str  # 'YYYY-MM-DD', UTC
    tier: str  # one of TIER_ORDER
    sessions: int
    resolved: int
    escalated: int
    abandoned: int


@dataclass(frozen=True)
class TtrBucket:
    label: str
    lower_hours: float
    upper_hours: float | None
    cases: int
    previous_cases: int


def tier_mix_by_day(db: OrmSession, account_id: int, days: int = 30, now: datetime | None = None,
                    filters: MetricsFilters | Mapping[str, str | None] | None = None) -> tuple[TierDay, ...]:
    """Sessions per UTC day and confidence tier in ``[now − days, now)``, with their outcomes;
    every day of the period and every tier appear (zeros included), days in order, tiers in
    ``TIER_ORDER``."""
    window = Window.last_days(account_id, days, now, filters)
    day = utc_day(Session.created_at)
    tier = func.coalesce(Session.confidence_tier, NO_TIER)
    statement = (
        select(day, tier, func.count(), count_if(RESOLVED), count_if(ESCALATED), count_if(ABANDONED))
        .where(*window.conditions(), Session.created_at >= window.start)  # this period only
        .group_by(day, tier)
    )
    found = {(day_key(d), t): tuple(int(v) for v in counts) for d, t, *counts in db.execute(statement)}
    every_day = window.period.utc_days()
    return tuple(TierDay(d, t, *found.get((d, t), (0, 0, 0, 0))) for d in every_day for t in TIER_ORDER)


def time_to_resolution_distribution(db: OrmSession, account_id: int, days: int = 30, now: datetime | None = None,
                                    filters: MetricsFilters | Mapping[str, str | None] | None = None
                                    ) -> tuple[TtrBucket, ...]:
    """Resolved cases per time-to-resolution bucket (``TTR_BUCKETS``), this period and the one
    before, with the case and time-to-resolution definitions of ``core.metrics.cases``. Bucketed
    in SQL: one row per (period, bucket). A negative time (a ticket closed before it opened) goes
    in the first bucket."""
    window = Window.last_days(account_id, days, now, filters)
    k = CaseTable(window)
    bucket = case(*((k.ttr < upper * HOUR, i) for i, (_, _, upper) in enumerate(TTR_BUCKETS) if upper is not None),
                  else_=len(TTR_BUCKETS) - 1)
    statement = (
        select(k.is_current, bucket, func.count())
        .select_from(k.table)
        .where(k.ttr.is_not(None))
        .group_by(k.is_current, bucket)
    )
    counts: dict[tuple[int, int], int] = {(int(c), int(b)): int(n) for c, b, n in db.execute(statement)}
    return tuple(TtrBucket(label, lower, upper, counts.get((1, i), 0), counts.get((0, i), 0))
                 for i, (label, lower, upper) in enumerate(TTR_BUCKETS))


def tier_mix_rows(tier_days: Sequence[TierDay], weekly: bool) -> list[dict]:
    """The tier mix per day, or summed into ISO weeks (keyed by their Monday): each tier's sessions,
    the day's or week's sessions, and the tier's share of them (6 decimals, as every share)."""
    sums: dict[tuple[str, str], int] = {}
    for row in tier_days:
        key = week_of(row.day) if weekly else row.day
        sums[(key, row.tier)] = sums.get((key, row.tier), 0) + row.sessions
    totals: dict[str, int] = {}
    for (key, _), n in sums.items():
        totals[key] = totals.get(key, 0) + n
    return [{"key": key, "tier": tier, "sessions": n, "total": totals[key], "share": ratio(n, totals[key])}
            for (key, tier), n in sums.items()]


def filter_choices(db: OrmSession, account_id: int, days: int = 30,
                   now: datetime | None = None) -> dict[str, tuple[str, ...]]:
    """The domains, PSA boards, engineers and client companies of the account's sessions in ``[now − days, now)``:
    what the page's filters can offer. Distinct values in SQL, sorted."""
    window = Window.last_days(account_id, days, now)
    where = (*window.conditions(), Session.created_at >= window.start)
    out: dict[str, tuple[str, ...]] = {}
    for name, column in (("domain", Session.problem_domain), ("board", Session.psa_board),
                         ("engineer", Session.engineer), ("company", Session.psa_company)):
        statement = select(column).where(*where, column.is_not(None)).group_by(column).order_by(column)
        out[name] = tuple(value for (value,) in db.execute(statement))
    return out
