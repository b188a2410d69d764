"""What waits for a reviewer: how many of an account's proposals are pending, and the first few
in the review queue's default order (expected impact), for Home.

Counted and cut in SQL: Home reads a handful of rows however long the queue is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, authorize
from core.impact.expected import expected_per_month
from core.models import FlowProposal
from core.proposals.queue import queue_order
from core.types import utcnow

SHOWN = 3


@dataclass(frozen=True)
class WaitingProposal:
    id: int
    title: str
    proposal_type: str
    domain: str | None
    confidence: float
    support_count: int
    expected_per_month: float


@dataclass(frozen=True)
class Waiting:
    total: int  # every pending proposal of the account
    first: tuple[WaitingProposal, ...]  # the first ``SHOWN`` of them, in the queue's default order

    @property
    def more(self) -> int:
        """Pending proposals beyond the ones listed."""
        return max(0, self.total - len(self.first))


def shape_waiting(total: int, rows: Sequence[Sequence]) -> Waiting:
    """The count and the rows ``fetch`` read, as a ``Waiting``; a NULL read as nothing, never None."""
    first = tuple(WaitingProposal(id=int(i), title=title or "", proposal_type=kind, domain=domain,
                                  confidence=float(confidence or 0), support_count=int(support or 0),
                                  expected_per_month=round(float(expected or 0), 2))
                  for i, title, kind, domain, confidence, support, expected in rows)
    return Waiting(total=max(int(total or 0), len(first)), first=first)


def waiting_proposals(db: OrmSession, actor: Actor, account_id: int, limit: int = SHOWN,
                      now: datetime | None = None) -> Waiting:
    """The account's pending proposals: their number, and the first ``limit`` by expected impact
    (then newest first, as the review queue orders them). Needs "view_queue"."""
    authorize(db, actor, account_id, "view_queue")
    pending = (FlowProposal.account_id == account_id, FlowProposal.status == "pending")
    total = db.scalar(select(func.count()).select_from(FlowProposal).where(*pending))
    expected = expected_per_month(now or utcnow()).label("expected_per_month")
    rows = db.execute(
        select(FlowProposal.id, FlowProposal.title, FlowProposal.proposal_type, FlowProposal.domain,
               FlowProposal.confidence, FlowProposal.support_count, expected)
        .where(*pending)
        .order_by(*queue_order(expected))
        .limit(limit)
    ).all() if total else []
    return shape_waiting(total, rows)
