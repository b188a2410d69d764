"""What the knowledge-gaps page reads besides the report: the pending proposals related to each
gap, and the sessions behind a gap. Every read checks the role (``knowledge_gaps``) first and
names the account in its WHERE clause, so a gap can never show another tenant's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, authorize
from core.gaps.report import GapReport, build_gap_report
from core.gaps.signals import Gap
from core.gaps.thresholds import GapThresholds
from core.models import Flow, FlowProposal, ProposalSession, Session
from core.sessions.detail import SessionDetail, session_details

PERMISSION = "knowledge_gaps"
MAX_RELATED = 5
_CHUNK = 500  # ids per IN list: well under SQLite's bound-parameter limit

# Gaps about one place in a flow: an enhancement anchored at that node is about the same thing.
NODE_GAPS = ("weak_options", "dead_end", "failing_action")
# Gaps about a whole domain with no flow: a new flow proposed in that domain fills them.
NEW_FLOW_GAPS = ("uncharted_territory", "repeated_pattern")


@dataclass(frozen=True)
class RelatedProposal:
    id: int
    title: str
    proposal_type: str
    domain: str | None
    confidence: float
    support_count: int
    shared_sessions: int  # of the gap's listed sessions, how many support the proposal
    reason: str  # why it is related, in words


def gap_report_for(db: OrmSession, actor: Actor, account_id: int, days: int,
                   thresholds: GapThresholds | None = None, now: datetime | None = None) -> GapReport:
    """``build_gap_report`` for a signed-in user allowed to see the knowledge gaps."""
    authorize(db, actor, account_id, PERMISSION)
    return build_gap_report(db, account_id, days=days, now=now, thresholds=thresholds)


def _enhancement_anchor(evidence_key: str | None, flow_external_id: str) -> str | None:
    """The node an enhancement's evidence key says the sessions left the flow at
    (``enh:FLOW:vN:NODE:...``), when it is about ``flow_external_id``."""
    prefix = f"enh:{flow_external_id}:v"
    if not evidence_key or not evidence_key.startswith(prefix):
        return None
    version, _, rest = evidence_key[len(prefix):].partition(":")
    return rest if version.isdigit() and rest else None


def related_proposals(db: OrmSession, actor: Actor, account_id: int,
                      gaps: Sequence[Gap]) -> list[tuple[RelatedProposal, ...]]:
    """Per gap (in the same order), the account's pending proposals about the same thing, most
    relevant first, at most ``MAX_RELATED``:

    * an enhancement of the gap's flow anchored at the gap's node (missing options, dead ends,
      failing steps);
    * a new flow in the gap's domain (uncharted territory, repeated patterns);
    * any pending proposal in the domain of a high-escalation gap;
    * and, for every gap, a proposal that some of the gap's sessions support.
    """
    authorize(db, actor, account_id, PERMISSION)
    pending = db.execute(
        select(FlowProposal.id, FlowProposal.title, FlowProposal.proposal_type, FlowProposal.domain,
               FlowProposal.confidence, FlowProposal.support_count, FlowProposal.evidence_key, Flow.external_id)
        .outerjoin(Flow, (Flow.id == FlowProposal.target_flow_id) & (Flow.account_id == account_id))
        .where(FlowProposal.account_id == account_id, FlowProposal.status == "pending")
        .order_by(FlowProposal.confidence.desc(), FlowProposal.id.desc())
    ).all()
    if not pending:
        return [() for _ in gaps]

    # Which listed sessions support which pending proposal: one pass over the union of the ids.
    wanted = sorted({sid for g in gaps for sid in g.evidence.get("session_ids", [])})
    supporting: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(wanted), _CHUNK):
        for external_id, proposal_id in db.execute(
            select(Session.external_id, ProposalSession.proposal_id)
            .join(ProposalSession, ProposalSession.session_id == Session.id)
            .join(FlowProposal, FlowProposal.id == ProposalSession.proposal_id)
            .where(Session.account_id == account_id, Session.external_id.in_(wanted[start:start + _CHUNK]),
                   FlowProposal.account_id == account_id, FlowProposal.status == "pending")
        ):
            supporting[external_id].add(proposal_id)

    result = []
    for gap in gaps:
        shared: dict[int, int] = defaultdict(int)
        for sid in gap.evidence.get("session_ids", []):
            for proposal_id in supporting.get(sid, ()):
                shared[proposal_id] += 1
        flow_id, node_id = gap.evidence.get("flow_id"), gap.evidence.get("node_id")
        found = []
        for p in pending:
            reasons = []
            anchor = _enhancement_anchor(p.evidence_key, flow_id) if flow_id and node_id else None
            if gap.gap_type in NODE_GAPS and anchor is not None and p.proposal_type == "enhancement" \
                    and p.external_id == flow_id and anchor.startswith(f"{node_id}:"):
                reasons.append("changes this step of the flow")
            elif gap.gap_type in NEW_FLOW_GAPS and p.proposal_type == "new_flow" and p.domain == gap.domain:
                reasons.append("a new flow in this domain" if gap.domain else "a new flow with no domain")
            elif gap.gap_type == "high_escalation" and gap.domain is not None and p.domain == gap.domain:
                reasons.append("in this domain")
            if shared.get(p.id):
                n = shared[p.id]
                reasons.append(f"{n} of this gap's sessions support it")
            if reasons:
                found.append(RelatedProposal(p.id, p.title, p.proposal_type, p.domain, p.confidence,
                                             p.support_count, shared.get(p.id, 0), "; ".join(reasons)))
        # Shared sessions are the strongest tie, then the proposal's confidence (the query's order).
        found.sort(key=lambda r: -r.shared_sessions)
        result.append(tuple(found[:MAX_RELATED]))
    return result


def gap_sessions(db: OrmSession, actor: Actor, account_id: int, external_ids: Sequence[str],
                 limit: int = 50) -> tuple[SessionDetail, ...]:
    """The first ``limit`` of these sessions (ids as imported, in the order given: the report lists
    them newest first), without their steps."""
    authorize(db, actor, account_id, PERMISSION)
    ids = list(dict.fromkeys(external_ids))[:limit]
    if not ids:
        return ()
    rows = {s.external_id: s for s in db.scalars(
        select(Session).where(Session.account_id == account_id, Session.external_id.in_(ids)))}
    return session_details(db, [rows[i] for i in ids if i in rows], with_steps=False)


def gap_session_detail(db: OrmSession, actor: Actor, account_id: int, external_id: str) -> SessionDetail | None:
    """One session of the account with its steps, as the review panel shows a supporting session."""
    authorize(db, actor, account_id, PERMISSION)
    session = db.scalars(select(Session).where(Session.account_id == account_id,
                                               Session.external_id == external_id)).one_or_none()
    return None if session is None else session_details(db, [session])[0]
