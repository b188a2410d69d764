"""The analysis's reads and writes, a batch at a time: a few queries per batch, never one per
session. Reads return raw rows or the plain records ``evidence`` works on; writes take what
``evidence.merge_batch`` decided."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, and_, bindparam, func, insert, literal, or_, select, tuple_, update

from core.analysis.evidence import BatchMerge, FlowRef, ProposalState
from core.analysis.id_lists import among, array_param
from core.models import Flow, FlowProposal, FlowVersion, ProposalSession, Session, Step

FP = FlowProposal.__table__
PS = ProposalSession.__table__
# The proposal columns the merge decides (the id and row_version are the store's).
VALUE_COLUMNS = ("account_id", "proposal_type", "status", "domain", "title", "summary", "evidence_key",
                 "target_flow_id", "target_flow_version", "tree", "diff", "support_count", "confidence",
                 "confidence_rationale", "created_at", "updated_at")
SESSION_FIELDS = (Session.id, Session.account_id, Session.external_id, Session.status, Session.problem_domain,
                  Session.problem_summary, Session.matched_flow, Session.resolution_summary, Session.flow_version)
STEP_FIELDS = (Step.session_id, Step.seq, Step.step_type, Step.node_id, Step.context_message, Step.options,
               Step.response, Step.was_free_text, Step.outcome)


class StaleProposal(RuntimeError):
    """A proposal changed (e.g. was reviewed) between reading it and writing it back."""


def load_sessions(connection: Connection, session_ids: Sequence[int]) -> list[Any]:
    return connection.execute(select(*SESSION_FIELDS).where(among(connection, Session.id, session_ids))).all()


def load_steps(connection: Connection, session_ids: Sequence[int]) -> dict[int, list[tuple]]:
    steps: dict[int, list[tuple]] = defaultdict(list)
    for row in connection.execute(select(*STEP_FIELDS).where(among(connection, Step.session_id, session_ids))):
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


def load_followed_trees(connection: Connection, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """The trees of the (flow id, version) pairs sessions followed, in one query."""
    wanted = sorted(set(wanted))
    if not wanted:
        return {}
    rows = connection.execute(select(FlowVersion.flow_id, FlowVersion.version, FlowVersion.tree)
                              .where(tuple_(FlowVersion.flow_id, FlowVersion.version).in_(wanted)))
    return {(flow_id, version): tree for flow_id, version, tree in rows}


def load_links(connection: Connection, session_ids: Sequence[int]) -> dict[int, list[int]]:
    links: dict[int, list[int]] = defaultdict(list)
    for proposal_id, session_id in connection.execute(
            select(PS.c.proposal_id, PS.c.session_id).where(among(connection, PS.c.session_id, session_ids))):
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
    fresh = [p for p in merge.proposals if p.id is None]
    grown = [p for p in merge.proposals if p.id is not None]
    if fresh:
        # One statement for all of them; the ids come back in the order of the rows sent.
        ids = connection.execute(insert(FP).returning(FP.c.id, sort_by_parameter_order=True),
                                 [{**_values(p), "row_version": 1} for p in fresh]).scalars().all()
        for p, new_id in zip(fresh, ids, strict=True):
            p.id = new_id
    if grown:
        result = connection.execute(
            update(FP).where(FP.c.id == bindparam("p_id"), FP.c.row_version == bindparam("p_seen"))
            .values({**{name: bindparam(f"p_{name}") for name in VALUE_COLUMNS}, "row_version": FP.c.row_version + 1}),
            [{"p_id": p.id, "p_seen": p.row_version, **{f"p_{k}": v for k, v in _values(p).items()}} for p in grown])
        # Each row matches at most once (by id), so fewer rows than proposals means one changed.
        if result.rowcount != len(grown):
            raise StaleProposal(f"one of proposals {', '.join(f'#{p.id}' for p in grown)} changed while the "
                                "analysis was merging into it")
        for p in grown:
            p.row_version += 1
    _link(connection, [(p.id, s) for p, s in merge.held_back], now)
    for p in merge.proposals:
        if p.copy_links_since is not None:
            old_id, since = p.copy_links_since
            connection.execute(insert(PS).from_select(
                ["proposal_id", "session_id", "added_at"],
                select(literal(p.id), PS.c.session_id, literal(now, PS.c.added_at.type))
                .where(PS.c.proposal_id == old_id, PS.c.added_at > bindparam("since", since, PS.c.added_at.type))))
    _link(connection, [(p.id, s) for p in merge.proposals for s in p.new_links], now)
    return len(fresh), len(grown)


def _link(connection: Connection, pairs: Sequence[tuple[int, int]], now: datetime) -> None:
    """Insert (proposal id, session id) links added at ``now``."""
    if not pairs:
        return
    if connection.dialect.name == "postgresql":
        # Two array parameters instead of a VALUES list of hundreds of rows (see ``id_lists``).
        rows = func.unnest(array_param(connection, "link_proposals", [p for p, _ in pairs], BigInteger()),
                           array_param(connection, "link_sessions", [s for _, s in pairs], BigInteger())
                           ).table_valued("proposal_id", "session_id").render_derived("link")
        connection.execute(insert(PS).from_select(
            ["proposal_id", "session_id", "added_at"],
            select(rows.c.proposal_id, rows.c.session_id, literal(now, PS.c.added_at.type))))
        return
    connection.execute(insert(PS), [{"proposal_id": p, "session_id": s, "added_at": now} for p, s in pairs])


def _values(p: ProposalState) -> dict[str, Any]:
    return {name: getattr(p, name) for name in VALUE_COLUMNS}


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
