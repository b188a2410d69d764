"""A handful of review decisions on the demo data, made by the demo admin through the real review
service (``core.proposals.review``), so that the audit log and the Activity page have something to show
after the first `make run`: an approval, a published enhancement, a dismissal and a rejection in
the first account, a dismissal and a rejection in the next.

Proposals come from the analysis, so the demo sessions are analysed first (what the scheduler
would do a moment later; it then finds nothing left to claim). The picks are by support, then id:
the same demo data gives the same decisions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from core.accounts.auth import Actor, load_actor
from core.analysis.queue_claims import QueuePolicy
from core.analysis.service import drain
from core.db import unit_of_work
from core.models import Account, FlowProposal, User
from core.proposals import review
from core.settings import Settings

log = logging.getLogger(__name__)


def _sessions(n: int) -> str:
    return f"{n:,} session{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Decision:
    proposal_type: str
    action: str  # approve, publish, dismiss or reject
    most_supported: bool  # the pick: the most supported pending proposal of the type, or the least
    reason: Callable[[FlowProposal], str]


FIRST_ACCOUNT = (
    Decision("new_flow", "approve", True,
             lambda p: f"{_sessions(p.support_count)} end with the same fix; publishing it as proposed."),
    Decision("enhancement", "publish", True,
             lambda p: "Engineers keep typing this answer; adding it as an option so the flow guides them."),
    Decision("new_flow", "dismiss", False,
             lambda p: f"Only {_sessions(p.support_count)} so far; let's see whether it comes back next month."),
    Decision("enhancement", "reject", False,
             lambda p: "One client's own setup, not something the other clients meet: keep the flow as it is."),
)
NEXT_ACCOUNT = FIRST_ACCOUNT[2:]


def _policy(settings: Settings) -> QueuePolicy:
    return QueuePolicy(batch_size=settings.analysis_batch_size, lease_seconds=settings.analysis_lease_seconds,
                       max_attempts=settings.analysis_max_attempts, backoff_seconds=settings.analysis_backoff_seconds)


def _pick(engine: Engine, account_id: int, decision: Decision) -> FlowProposal | None:
    support = FlowProposal.support_count.desc() if decision.most_supported else FlowProposal.support_count.asc()
    with unit_of_work(engine) as db:
        proposal = db.scalars(
            select(FlowProposal)
            .where(FlowProposal.account_id == account_id, FlowProposal.status == "pending",
                   FlowProposal.proposal_type == decision.proposal_type)
            .order_by(support, FlowProposal.id).limit(1)
        ).one_or_none()
        if proposal is not None:
            db.expunge(proposal)
        return proposal


def _decide(engine: Engine, actor: Actor, proposal: FlowProposal, decision: Decision) -> None:
    reason = decision.reason(proposal)
    args = (engine, actor, proposal.account_id, proposal.id, proposal.row_version)
    if decision.action == "approve":
        review.approve(*args, note=reason)
    elif decision.action == "publish":
        review.edit_and_publish(*args, proposal.tree, note=reason)
    elif decision.action == "dismiss":
        review.dismiss(*args, reason)
    else:
        review.reject(*args, reason)


def record_demo_decisions(engine: Engine, settings: Settings, admin_email: str) -> str:
    """Analyse the queued demo sessions, then let ``admin_email`` decide a few proposals; says what was done."""
    analysed = drain(engine, "bootstrap", _policy(settings))
    with unit_of_work(engine) as db:
        user_id = db.scalar(select(User.id).where(User.email == admin_email))
        actor = load_actor(db, user_id) if user_id is not None else None
        accounts = db.scalars(select(Account.id).order_by(Account.slug)).all()
    decided = 0
    if actor is not None:
        for index, account_id in enumerate(accounts[:2]):
            for decision in FIRST_ACCOUNT if index == 0 else NEXT_ACCOUNT:
                proposal = _pick(engine, account_id, decision)
                if proposal is None:
                    continue
                try:
                    _decide(engine, actor, proposal, decision)
                except review.ReviewError:
                    # A demo without this kind of decision is still a demo: the rest go ahead.
                    log.warning("demo decision %s on proposal %d refused", decision.action, proposal.id, exc_info=True)
                    continue
                decided += 1
    return (f"Analysed {analysed.analysed:,} demo sessions ({analysed.created:,} proposals); {admin_email} "
            f"decided {decided:d} of them, so Activity shows who decided what.")
