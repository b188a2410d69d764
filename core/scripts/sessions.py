"""The session the script generator ranks templates for: one account's session, by its id as imported.

Public API::

    session_for_scripts(db, actor, account_id, external_id) -> ScriptSession | None
    ScriptSession      # what ``core.scripts.session_query`` reads: summary, domain, steps' texts

The role is checked against the database (``scripts``), and the session is looked up by
account *and* id, so an id from another tenant (a link, a typed id) finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, authorize
from core.models import Session, Step
from core.sessions.detail import StepDetail
from core.storable import findable

MAX_STEPS = 200  # the steps' texts feed the ranking; a longer session adds nothing but work
MAX_EXTERNAL_ID = 128  # the column's length: a longer id cannot exist


@dataclass(frozen=True)
class ScriptSession:
    external_id: str
    created_at: datetime
    status: str
    engineer: str | None
    problem_domain: str | None
    problem_summary: str | None
    psa_ticket_id: str | None
    steps: tuple[StepDetail, ...]


def session_for_scripts(db: OrmSession, actor: Actor, account_id: int, external_id: str) -> ScriptSession | None:
    """The account's session with this id as imported, with its first steps; None if there is none."""
    authorize(db, actor, account_id, "scripts")
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > MAX_EXTERNAL_ID or not findable(external_id):
        return None
    s = db.scalars(select(Session).where(Session.account_id == account_id,
                                         Session.external_id == external_id)).one_or_none()
    if s is None:
        return None
    steps = db.execute(
        select(Step.seq, Step.step_type, Step.context_message, Step.response, Step.was_free_text, Step.outcome)
        .where(Step.session_id == s.id).order_by(Step.seq).limit(MAX_STEPS)
    ).all()
    return ScriptSession(
        external_id=s.external_id, created_at=s.created_at, status=s.status, engineer=s.engineer,
        problem_domain=s.problem_domain, problem_summary=s.problem_summary, psa_ticket_id=s.psa_ticket_id,
        steps=tuple(StepDetail(*row) for row in steps),
    )
