"""Proposals as an admin reads them: the read model behind `python -m core proposals`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.models import Account, Flow, FlowProposal, ProposalSession, Session


class UnknownAccount(LookupError):
    pass


@dataclass(frozen=True)
class ProposalView:
    id: int
    account: str
    proposal_type: str
    status: str
    domain: str | None
    title: str
    summary: str | None
    target_flow: str | None
    target_flow_version: int | None
    confidence: float
    confidence_rationale: str | None
    support_count: int
    session_ids: list[str]
    tree: dict[str, Any]
    diff: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "account": self.account, "proposal_type": self.proposal_type, "status": self.status,
            "domain": self.domain, "title": self.title, "summary": self.summary, "target_flow": self.target_flow,
            "target_flow_version": self.target_flow_version, "confidence": self.confidence,
            "confidence_rationale": self.confidence_rationale, "support_count": self.support_count,
            "session_ids": self.session_ids, "tree": self.tree, "diff": self.diff,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


def list_proposals(db: OrmSession, account_slug: str, status: str | None = None) -> list[ProposalView]:
    """An account's proposals, most confident first (then newest)."""
    account = db.scalars(select(Account).where(Account.slug == account_slug)).one_or_none()
    if account is None:
        raise UnknownAccount(f"no account {account_slug!r}")
    query = (select(FlowProposal, Flow.external_id)
             .outerjoin(Flow, Flow.id == FlowProposal.target_flow_id)
             .where(FlowProposal.account_id == account.id)
             .order_by(FlowProposal.confidence.desc(), FlowProposal.updated_at.desc(), FlowProposal.id))
    if status:
        query = query.where(FlowProposal.status == status)
    rows = db.execute(query).all()
    sessions: dict[int, list[str]] = defaultdict(list)
    if rows:
        for proposal_id, external_id in db.execute(
                select(ProposalSession.proposal_id, Session.external_id)
                .join(Session, Session.id == ProposalSession.session_id)
                .where(ProposalSession.proposal_id.in_([p.id for p, _ in rows]))
                .order_by(ProposalSession.proposal_id, Session.external_id)):
            sessions[proposal_id].append(external_id)
    return [ProposalView(p.id, account.slug, p.proposal_type, p.status, p.domain, p.title, p.summary, flow,
                         p.target_flow_version, p.confidence, p.confidence_rationale, p.support_count,
                         sessions[p.id], p.tree, p.diff, p.created_at, p.updated_at) for p, flow in rows]
