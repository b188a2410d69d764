"""Sessions as the pages show them: a session's summary fields and its steps in order.

The review panel lists a proposal's supporting sessions this way, the knowledge-gaps page a gap's
sessions, and the script generator the session an engineer is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.models import Step


@dataclass(frozen=True)
class StepDetail:
    seq: int
    step_type: str
    context_message: str | None
    response: str | None
    was_free_text: bool
    outcome: str | None


@dataclass(frozen=True)
class SessionDetail:
    session_id: int
    external_id: str
    created_at: datetime
    status: str
    engineer: str | None
    problem_summary: str | None
    resolution_summary: str | None
    root_cause: str | None
    psa_ticket_id: str | None
    psa_system: str | None
    steps: tuple[StepDetail, ...]



def session_details(db: OrmSession, sessions, with_steps: bool = True) -> tuple[SessionDetail, ...]:
    """Sessions (already read, already limited to one account) as SessionDetail, with their steps in order;
    the review panel and the knowledge-gaps page both show sessions this way."""
    steps: dict[int, list[StepDetail]] = {s.id: [] for s in sessions}
    if sessions and with_steps:
        for row in db.execute(
            select(Step.session_id, Step.seq, Step.step_type, Step.context_message, Step.response,
                   Step.was_free_text, Step.outcome)
            .where(Step.session_id.in_(list(steps))).order_by(Step.session_id, Step.seq)
        ):
            steps[row.session_id].append(StepDetail(*row[1:]))
    return tuple(
        SessionDetail(s.id, s.external_id, s.created_at, s.status, s.engineer, s.problem_summary, s.resolution_summary,
                 s.root_cause, s.psa_ticket_id, s.psa_system, tuple(steps[s.id]))
        for s in sessions
    )
