"""The analysis's reads and writes, a batch at a time: a few queries per batch, never one per
session. Reads return raw rows or the plain records ``evidence`` works on; writes take what
``evidence.merge_batch`` decided."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, literal, or_, select, tuple_, update

from core.analysis.evidence import BatchMerge, FlowRef, ProposalState
from core.models import Flow, FlowProposal, FlowVersion, ProposalSession, Session, Step

FP = FlowProposal.__table__
PS = ProposalSession.__table__
SESSION_FIELDS = (Session.id, Session.account_id, Session.external_id, Session.status, Session.problem_domain,
                  Session.problem_summary, Session.matched_flow, Session.resolution_summary)
STEP_FIELDS = (Step.session_id, Step.seq, Step.step_type, Step.node_id, Step.context_message, Step.options,
               Step.response, Step.was_free_text, Step.outcome)


class StaleProposal(RuntimeError):
    """A proposal changed (e.g. was reviewed) between reading it and writing it back."""


def load_sessions(connection: Connection, session_ids: Sequence[int]) -> list[Any]:
    return connection.execute(select(*SESSION_FIELDS).where(Session.id.in_(session_ids))).all()


def load_steps(connection: Connection, session_ids: Sequence[int]) -> dict[int, list[tuple]]:
    steps: dict[int, list[tuple]] = defaultdict(list)
    for row in connection.execute(select(*STEP_FIELDS).where(Step.session_id.in_(session_ids))):
        steps[row[0]].append(tuple(row[1:]))
    return steps


def load_flows(connection: Connection, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], FlowRef]:
    """The current published version of each (account, flow id as imported)."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    rows = connection.execute(
        select(Flow.account_id, Flow.external_id, Flow.id, Flow.name, Flow.domain, Flow.current_version, FlowVersion.tree)
        .join(FlowVersion, and_(FlowVersion.flow_id == Flow.id, FlowVersion.version == Flow.current_version))
        .where(Flow.account_id.in_({a for a, _ in wanted}), Flow.external_id.in_({f for _, f in wanted}))
    )
    return {(account, external): FlowRef(flow_id, external, name, version, tree, domain)
            for account, external, flow_id, name, domain, version, tree in rows}


def load_links(connection: Connection, session_ids: Sequence[int]) -> dict[int, list[int]]:
    links: dict[int, list[int]] = defaultdict(list)
    for proposal_id, session_id in connection.execute(
            select(PS.c.proposal_id, PS.c.session_id).where(PS.c.session_id.in_(session_ids))):
        links[session_id].append(proposal_id)
    return dict(links)


def load_proposals(connection: Connection, new_flow_accounts: Iterable[int],
                   enhancement_keys: Iterable[tuple[int, str]]) -> list[ProposalState]:
    """Every proposal a batch may merge into: the accounts' new-flow proposals (matched by
    similarity, so all of them) and the enhancements with the batch's evidence keys."""
    accounts = sorted(set(new_flow_accounts))
    keys = sorted(set(enhancement_keys))
    conditions = []
    if accounts:
        conditions.append(and_(FP.c.account_id.in_(accounts), FP.c.proposal_type == "new_flow"))
    if keys:
        conditions.append(and_(FP.c.proposal_type == "enhancement",
                               tuple_(FP.c.account_id, FP.c.evidence_key).in_(keys)))
    if not conditions:
        return []
    columns = [FP.c[name] for name in (
        "id", "account_id", "proposal_type", "status", "domain", "title", "summary", "evidence_key",
        "target_flow_id", "target_flow_version", "tree", "diff", "support_count", "confidence",
        "confidence_rationale", "created_at", "updated_at", "row_version", "reviewed_at", "review_reason")]
    proposals = [ProposalState(*row) for row in connection.execute(
        select(*columns).where(or_(*conditions)).order_by(FP.c.id))]
    rejected = [p for p in proposals if p.status == "rejected"]
    if rejected:
        since = func.coalesce(FP.c.reviewed_at, FP.c.updated_at)
        counts = dict(connection.execute(
            select(PS.c.proposal_id, func.count())
            .join(FP, FP.c.id == PS.c.proposal_id)
            .where(PS.c.proposal_id.in_([p.id for p in rejected]), PS.c.added_at > since)
            .group_by(PS.c.proposal_id)).all())
        for p in rejected:
            p.held_back = counts.get(p.id, 0)
    return proposals


def lock_evidence(connection: Connection, keys: Iterable[str]) -> None:
    """Serialise the workers that would create or grow the same proposal. PostgreSQL only:
    transaction-scoped advisory locks, taken in one order so two workers cannot deadlock.
    (SQLite's immediate transaction already lets one writer in at a time.)"""
    if connection.dialect.name != "postgresql":
        return
    for number in sorted({_lock_number(k) for k in keys}):
        connection.execute(select(func.pg_advisory_xact_lock(literal(number))))


def _lock_number(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"flowpilot-analysis:{key}".encode(), digest_size=8).digest(),
                          "big", signed=True)


def write_merge(connection: Connection, merge: BatchMerge, now: datetime) -> tuple[int, int]:
    """Insert the new proposals, update the grown ones (optimistically, by row_version) and
    link their sessions. Returns (created, updated)."""
    created = updated = 0
    for p in merge.proposals:
        values = _values(p)
        if p.id is None:
            p.id = connection.execute(insert(FP).values(**values, row_version=1).returning(FP.c.id)).scalar_one()
            created += 1
        else:
            result = connection.execute(
                update(FP).where(FP.c.id == p.id, FP.c.row_version == p.row_version)
                .values(**values, row_version=p.row_version + 1))
            if result.rowcount != 1:
                raise StaleProposal(f"proposal #{p.id} changed while the analysis was merging into it")
            p.row_version += 1
            updated += 1
    links = [{"proposal_id": p.id, "session_id": s, "added_at": now} for p, s in merge.held_back]
    if links:
        connection.execute(insert(PS), links)
    for p in merge.proposals:
        if p.copy_links_since is not None:
            old_id, since = p.copy_links_since
            connection.execute(insert(PS).from_select(
                ["proposal_id", "session_id", "added_at"],
                select(literal(p.id), PS.c.session_id, literal(now, PS.c.added_at.type))
                .where(PS.c.proposal_id == old_id, PS.c.added_at > bindparam("since", since, PS.c.added_at.type))))
    links = [{"proposal_id": p.id, "session_id": s, "added_at": now} for p in merge.proposals for s in p.new_links]
    if links:
        connection.execute(insert(PS), links)
    return created, updated


def _values(p: ProposalState) -> dict[str, Any]:
    return {
        "account_id": p.account_id, "proposal_type": p.proposal_type, "status": p.status, "domain": p.domain,
        "title": p.title, "summary": p.summary, "evidence_key": p.evidence_key,
        "target_flow_id": p.target_flow_id, "target_flow_version": p.target_flow_version,
        "tree": p.tree, "diff": p.diff, "support_count": p.support_count, "confidence": p.confidence,
        "confidence_rationale": p.confidence_rationale, "created_at": p.created_at, "updated_at": p.updated_at,
    }


def new_proposal_ids(merge: BatchMerge, outcomes: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
    """Outcome details with the placeholders for proposals created in this batch replaced by
    their ids, now that they have them."""
    names = {f"#{{new:{id(p)}}}": f"#{p.id}" for p in merge.proposals}
    fixed = {}
    for qid, (result, detail) in outcomes.items():
        for placeholder, real in names.items():
            if placeholder in detail:
                detail = detail.replace(placeholder, real)
        fixed[qid] = (result, detail)
    return fixed
