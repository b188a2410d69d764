"""How sessions end up resolved: first-contact resolution and eventual success.

**Eventual success**: a resolved session with at least one action or script step whose
outcome was ``failed`` (the engineer recovered). Each session counts once however many
retries failed: the import counts a session's failed steps (``sessions.failed_steps``) and
only "more than none" matters here. The recovery rate
is eventual successes over all sessions with an outcome that had such a failure.
First-contact resolution is defined on cases (``core.metrics.cases``).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from core.metrics.figures import Counts, Section, pair, ratio
from core.metrics.sql import count_if
from core.metrics.window import HAS_OUTCOME, RESOLVED, Window
from core.models import Session

def fetch_failures(db: OrmSession, window: Window) -> list[tuple]:
    """(is_current, sessions with an outcome and a failed action/script, of which resolved)."""
    failed = Session.failed_steps > 0
    is_current = window.is_current()
    statement = (
        select(is_current, func.count(), count_if(RESOLVED))
        .where(*window.conditions(), HAS_OUTCOME, failed)
        .group_by(is_current)
    )
    return [tuple(row) for row in db.execute(statement)]


def resolution_figures(cases: Counts, failures: tuple[int, int], resolved_sessions: int) -> Counts:
    with_failure, recovered = failures
    return {
        "closed_out_cases": cases.get("closed_out") or 0,
        "first_contact_resolutions": cases.get("first_contact") or 0,
        "first_contact_resolution_rate": ratio(cases.get("first_contact"), cases.get("closed_out")),
        "sessions_with_failed_step": with_failure,
        "eventual_successes": recovered,
        "recovery_rate": ratio(recovered, with_failure),
        "eventual_success_share_of_resolved": ratio(recovered, resolved_sessions),
    }


def shape_resolution(case_now: Counts, case_before: Counts, failures: list[tuple],
                     resolved_now: int, resolved_before: int) -> Section:
    by_period = {int(is_current): (int(n), int(r)) for is_current, n, r in failures}
    return Section(
        name="resolution",
        totals=pair(resolution_figures(case_now, by_period.get(1, (0, 0)), resolved_now),
                    resolution_figures(case_before, by_period.get(0, (0, 0)), resolved_before)),
        breakdowns={},
    )
