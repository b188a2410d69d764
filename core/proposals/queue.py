"""The review queue (read side): one account's proposals, filtered in SQL, and one proposal in full.

Every query names the account first, then the rest of the WHERE clause, all as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, authorize
from core.impact.expected import (
    ExpectedImpact, expected_per_month, proposal_expected, recent_supporting_sessions, touched_sessions,
)
from core.impact.report import touched_nodes
from core.models import PROPOSAL_STATUSES, PROPOSAL_TYPES, Flow, FlowProposal, FlowVersion, ProposalSession, Session, User
from core.sessions.detail import SessionDetail, session_details
from core.storable import findable
from core.types import utc_day_start, utcnow

# "expected" (the default) is the expected impact a month (core.impact.expected), worked out in SQL.
SORTS = {
    "expected": None,
    "created": FlowProposal.created_at,
    "confidence": FlowProposal.confidence,
    "support": FlowProposal.support_count,
    "title": FlowProposal.title,
    "updated": FlowProposal.updated_at,
}
MAX_ROWS = 500


@dataclass(frozen=True)
class QueueRow:
    id: int
    row_version: int
    title: str
    proposal_type: str
    domain: str | None
    status: str
    confidence: float
    support_count: int
    expected_per_month: float  # supporting sessions of the last 90 days, per 30 days
    created_at: datetime
    reviewed_at: datetime | None
    summary: str | None


@dataclass(frozen=True)
class QueueFilters:
    statuses: tuple[str, ...] = ("pending",)  # empty: every status
    types: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    min_confidence: float = 0.0
    max_confidence: float = 1.0
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    text: str = ""
    sort: str = "expected"
    descending: bool = True

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.statuses, PROPOSAL_STATUSES, "status"),
                                     (self.types, PROPOSAL_TYPES, "type")):
            unknown = set(value) - set(allowed)
            if unknown:
                raise ValueError(f"unknown {what}: {', '.join(sorted(unknown))}")
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]  # at most MAX_ROWS, in the order asked for
    total: int  # rows matching the filters
    status_counts: dict[str, int]  # per status, with every other filter applied


@dataclass(frozen=True)
class ProposalDetail:
    id: int
    row_version: int
    proposal_type: str
    status: str
    title: str
    summary: str | None
    domain: str | None
    confidence: float
    confidence_rationale: str | None
    support_count: int
    created_at: datetime
    updated_at: datetime
    tree: dict[str, Any]
    diff: dict[str, Any] | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_reason: str | None
    target_flow_id: int | None
    target_flow_name: str | None
    target_flow_external_id: str | None
    target_flow_version: int | None  # the version the analysis compared against
    target_flow_current_version: int | None
    target_tree: dict[str, Any] | None  # the flow's current published tree
    evidence: tuple[SessionDetail, ...] = field(default=())
    evidence_total: int = 0
    published_as: tuple[str, int] | None = None  # (flow external id, version) once approved or published
    published_flow_id: int | None = None  # that flow's id, for a link to the version on the Flows page
    published_tree: dict[str, Any] | None = None  # what was published: an edit may differ from ``tree``
    expected: ExpectedImpact | None = None


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(account_id: int, f: QueueFilters, *, with_status: bool = True) -> list:
    where = [FlowProposal.account_id == account_id]
    if with_status and f.statuses:
        where.append(FlowProposal.status.in_(f.statuses))
    if f.types:
        where.append(FlowProposal.proposal_type.in_(f.types))
    if f.domains:
        where.append(FlowProposal.domain.in_(f.domains))
    if f.min_confidence > 0:
        where.append(FlowProposal.confidence >= f.min_confidence)
    if f.max_confidence < 1:
        where.append(FlowProposal.confidence <= f.max_confidence)
    if f.created_from:
        where.append(FlowProposal.created_at >= utc_day_start(f.created_from))
    if f.created_to:
        where.append(FlowProposal.created_at < utc_day_start(f.created_to + timedelta(days=1)))
    text = f.text.strip()
    if text and not findable(text):
        where.append(false())  # no title or summary holds a NUL: nothing matches
    elif text:
        pattern = _like_pattern(text)
        where.append(or_(func.lower(FlowProposal.title).like(pattern, escape="\\"),
                         func.lower(func.coalesce(FlowProposal.summary, "")).like(pattern, escape="\\")))
    return where


def queue_order(column, descending: bool = True) -> tuple:
    """The queue's order: by ``column``, then newest first, then by id, so that ties never reshuffle
    between runs (Home's first few are the queue's first rows)."""
    return column.desc() if descending else column.asc(), FlowProposal.created_at.desc(), FlowProposal.id.desc()


def review_queue(db: OrmSession, actor: Actor, account_id: int, filters: QueueFilters,
                 now: datetime | None = None) -> QueuePage:
    """The proposals matching the filters, sorted (by expected impact unless told otherwise), with
    the count per status under the other filters."""
    authorize(db, actor, account_id, "view_queue")
    expected = expected_per_month(now or utcnow()).label("expected_per_month")
    order = SORTS[filters.sort] if SORTS[filters.sort] is not None else expected
    statement = (
        select(FlowProposal.id, FlowProposal.row_version, FlowProposal.title, FlowProposal.proposal_type,
               FlowProposal.domain, FlowProposal.status, FlowProposal.confidence, FlowProposal.support_count,
               expected, FlowProposal.created_at, FlowProposal.reviewed_at, FlowProposal.summary)
        .where(*_conditions(account_id, filters))
        .order_by(*queue_order(order, filters.descending))
        .limit(MAX_ROWS)
    )
    rows = tuple(QueueRow(*row) for row in db.execute(statement))
    counts = dict.fromkeys(PROPOSAL_STATUSES, 0)
    counts.update(db.execute(
        select(FlowProposal.status, func.count())
        .where(*_conditions(account_id, filters, with_status=False))
        .group_by(FlowProposal.status)
    ).all())
    total = sum(counts[s] for s in (filters.statuses or PROPOSAL_STATUSES))
    return QueuePage(rows=rows, total=total, status_counts=counts)


def queue_domains(db: OrmSession, actor: Actor, account_id: int) -> list[str]:
    """The domains the account's proposals name, for the filter's choices."""
    authorize(db, actor, account_id, "view_queue")
    return list(db.scalars(
        select(FlowProposal.domain).where(FlowProposal.account_id == account_id, FlowProposal.domain.is_not(None))
        .distinct().order_by(FlowProposal.domain)
    ))


def proposal_detail(db: OrmSession, actor: Actor, account_id: int, proposal_id: int,
                    max_sessions: int = 50, now: datetime | None = None) -> ProposalDetail | None:
    """One proposal with its evidence and the flow it would change; None if not in this account."""
    authorize(db, actor, account_id, "view_queue")
    p = db.scalars(select(FlowProposal).where(FlowProposal.account_id == account_id,
                                              FlowProposal.id == proposal_id)).one_or_none()
    if p is None:
        return None
    reviewer = db.scalar(select(User.email).where(User.id == p.reviewed_by_user_id)) if p.reviewed_by_user_id else None
    flow = db.scalars(select(Flow).where(Flow.account_id == account_id, Flow.id == p.target_flow_id)
                      ).one_or_none() if p.target_flow_id else None
    target_tree = db.scalar(select(FlowVersion.tree).where(
        FlowVersion.flow_id == flow.id, FlowVersion.version == flow.current_version)) if flow else None
    evidence, total = _evidence(db, account_id, p.id, max_sessions)
    published = db.execute(
        select(Flow.external_id, FlowVersion.version, Flow.id, FlowVersion.tree).join(Flow, Flow.id == FlowVersion.flow_id)
        .where(Flow.account_id == account_id, FlowVersion.source_proposal_id == p.id)
        .order_by(FlowVersion.version.desc()).limit(1)
    ).first()
    recent = db.scalar(select(recent_supporting_sessions(now or utcnow())).where(FlowProposal.id == p.id))
    touched = touched_sessions(db, account_id, p.proposal_type, p.domain, flow.external_id if flow else None,
                               touched_nodes(p.diff), now or utcnow())
    return ProposalDetail(
        id=p.id, row_version=p.row_version, proposal_type=p.proposal_type, status=p.status, title=p.title,
        summary=p.summary, domain=p.domain, confidence=p.confidence, confidence_rationale=p.confidence_rationale,
        support_count=p.support_count, created_at=p.created_at, updated_at=p.updated_at, tree=p.tree, diff=p.diff,
        reviewed_at=p.reviewed_at, reviewed_by=reviewer, review_reason=p.review_reason,
        target_flow_id=flow.id if flow else None, target_flow_name=flow.name if flow else None,
        target_flow_external_id=flow.external_id if flow else None, target_flow_version=p.target_flow_version,
        target_flow_current_version=flow.current_version if flow else None, target_tree=target_tree,
        evidence=evidence, evidence_total=total, published_as=(published[0], published[1]) if published else None,
        published_flow_id=published[2] if published else None, published_tree=published[3] if published else None,
        expected=proposal_expected(int(recent or 0), p.proposal_type, touched),
    )


def _evidence(db: OrmSession, account_id: int, proposal_id: int, limit: int) -> tuple[tuple[SessionDetail, ...], int]:
    # Sessions are joined on the account as well, so a stray link can never show another tenant's session.
    linked = (select(Session).join(ProposalSession, ProposalSession.session_id == Session.id)
              .where(Session.account_id == account_id, ProposalSession.proposal_id == proposal_id))
    total = db.scalar(select(func.count()).select_from(linked.subquery()))
    sessions = db.scalars(linked.order_by(Session.created_at.desc()).limit(limit)).all()
    return session_details(db, sessions), total
