"""The session cube: sessions counted by outcome per (period, domain, tier, flow, engineer).

Volume, outcomes, tiers, flows and engineers are all sums over this small table (a few
thousand rows even for a million sessions), so the account's sessions are read once for all.

Handle time is ``ended_at − created_at`` of a resolved or escalated session with an end time.
An abandoned session is left out: the copilot closes it after it sat idle, so its end time
measures the idle timeout, not work. A session requesting escalation has no end yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session as OrmSession

from core.metrics.figures import Counts, add_into, mean, ratio
from core.metrics.sql import count_if, seconds_between, sum_if
from core.metrics.window import Window
from core.models import Session
from core.outcomes import ABANDONED, ACTIVE, ESCALATED, HAS_OUTCOME, RESOLVED

HANDLED = and_(or_(RESOLVED, ESCALATED), Session.ended_at.is_not(None))
# Sessions with an outcome in which an action or script failed, and of those the resolved ones
# (eventual success, ``core.metrics.success``): counted at import as ``failed_steps``.
FAILED_WITH_OUTCOME = and_(HAS_OUTCOME, Session.failed_steps > 0)
COUNT_NAMES = ("sessions", "resolved", "escalated", "abandoned", "active", "handle_seconds", "handled",
               "with_failed_step", "recovered")


@dataclass(frozen=True)
class CubeRow:
    is_current: int
    domain: str | None
    tier: str | None
    flow: str | None
    engineer: str | None
    counts: Counts


def handle_seconds() -> object:
    return seconds_between(Session.created_at, Session.ended_at)


def fetch_session_cube(db: OrmSession, window: Window) -> list[CubeRow]:
    is_current = window.is_current()
    statement = (
        select(
            is_current.label("is_current"), Session.problem_domain, Session.confidence_tier, Session.matched_flow,
            Session.engineer, func.count(), count_if(RESOLVED), count_if(ESCALATED), count_if(ABANDONED), count_if(ACTIVE),
            sum_if(HANDLED, handle_seconds()), count_if(HANDLED),
            count_if(FAILED_WITH_OUTCOME), count_if(and_(RESOLVED, Session.failed_steps > 0)),
        )
        .where(*window.conditions())
        .group_by(is_current, Session.problem_domain, Session.confidence_tier, Session.matched_flow,
                  Session.engineer)
    )
    return [CubeRow(row[0], row[1], row[2], row[3], row[4], dict(zip(COUNT_NAMES, row[5:])))
            for row in db.execute(statement)]


def outcome_figures(counts: Counts) -> Counts:
    """Counts and shares for one group. Shares are of the sessions with an outcome, so
    resolved + escalated + abandoned shares sum to 1; active sessions are counted, not shared."""
    sessions = counts.get("sessions") or 0
    active = counts.get("active") or 0
    ended = sessions - active
    resolved, escalated, abandoned = (counts.get(k) or 0 for k in ("resolved", "escalated", "abandoned"))
    return {
        "sessions": sessions,
        "with_outcome": ended,
        "active": active,
        "resolved": resolved,
        "escalated": escalated,
        "abandoned": abandoned,
        "resolution_rate": ratio(resolved, ended),
        "escalation_rate": ratio(escalated, ended),
        "abandonment_rate": ratio(abandoned, ended),
        "mean_handle_minutes": _minutes(mean(counts.get("handle_seconds"), counts.get("handled"))),
    }


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 6)


def totals(rows: list[CubeRow]) -> tuple[Counts, Counts]:
    current: Counts = {}
    previous: Counts = {}
    for row in rows:
        add_into(current if row.is_current else previous, row.counts)
    return current, previous
