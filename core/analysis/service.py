"""The analysis service: claim a batch, analyse it, merge it into proposals, record results.

One batch is three short transactions: the claim, a read of everything the batch needs (its
sessions, their steps, their flows), and one write transaction that re-checks the claims are
still this worker's, records the results no proposal can change, and only then locks the
evidence it touches, reads the proposals fresh, merges and marks the rest done. The evidence
locks are what two workers on one account wait for, so they are held for the merge alone.
Classification, tree building and merging happen in pure code between.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from core.analysis import store
from core.analysis.classify import Verdict, classify
from core.analysis.evidence import Analysed, FlowRef, merge_batch, settled_outcome
from core.analysis.paths import session_path
from core.analysis.queue_claims import Claim, QueuePolicy, claim_batch, mark_done, mark_failed, still_mine, write_transaction
from core.types import utcnow

log = logging.getLogger(__name__)


class FlowNotImported(LookupError):
    """The session matched a flow this account has not imported (yet): retry later."""


@dataclass
class BatchReport:
    claimed: int = 0
    analysed: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0  # failures this batch (retried later or parked)
    parked: int = 0
    results: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: BatchReport) -> None:
        for name in ("claimed", "analysed", "created", "updated", "failed", "parked", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.results.update(other.results)

    def describe(self) -> str:
        results = ", ".join(f"{k} {v:,}" for k, v in sorted(self.results.items())) or "none"
        rate = f", {self.analysed / self.seconds:,.0f} sessions/s" if self.seconds and self.analysed else ""
        return (f"claimed {self.claimed:,}, analysed {self.analysed:,} ({results}); proposals created "
                f"{self.created:,}, updated {self.updated:,}; failures {self.failed:,} (parked {self.parked:,}); "
                f"{self.seconds:.2f}s{rate}")


def analyse_batch(engine: Engine, worker: str, policy: QueuePolicy, now: datetime | None = None) -> BatchReport:
    started = time.perf_counter()
    now = now or utcnow()
    report = BatchReport()
    claims = claim_batch(engine, worker, policy, now)
    report.claimed = len(claims)
    if not claims:
        return report
    try:
        _analyse(engine, worker, policy, claims, now, report)
    except Exception as exc:  # the whole batch failed (e.g. the database went away): retry it later
        log.exception("analysis batch of %d failed", len(claims))
        with write_transaction(engine) as connection:
            mine = still_mine(connection, [c.queue_id for c in claims], worker)
            failures = [(c, f"{type(exc).__name__}: {exc}") for c in claims if c.queue_id in mine]
            report.parked = mark_failed(connection, failures, policy, utcnow())
            report.failed = len(failures)
    report.seconds = time.perf_counter() - started
    return report


def _analyse(engine: Engine, worker: str, policy: QueuePolicy, claims: list[Claim], now: datetime,
             report: BatchReport) -> None:
    by_session = {c.session_id: c for c in claims}
    with engine.connect() as connection:
        sessions = store.load_sessions(connection, list(by_session))
        steps = store.load_steps(connection, list(by_session))
        flows = store.load_flows(connection, {(s.account_id, s.matched_flow) for s in sessions if s.matched_flow})
        followed = store.load_followed_trees(connection, older_versions(sessions, flows))
    # In queue order, whatever order the database returned the rows in: the merge depends on it.
    position = {c.session_id: n for n, c in enumerate(claims)}
    sessions = sorted(sessions, key=lambda s: position[s.id])
    analysed: list[Analysed] = []
    failures: list[tuple[Claim, str]] = []
    finished: dict[int, tuple[str, str]] = {}
    for session in sessions:
        claim = by_session.pop(session.id)
        if session.status != "resolved":
            finished[claim.queue_id] = ("not_resolved", f"the session is {session.status} now; only resolved "
                                                        "sessions are analysed")
            continue
        try:
            analysed.append(analyse_session(claim, session, steps.get(session.id, ()), flows, followed))
        except Exception as exc:  # one bad session must not hold up the batch
            failures.append((claim, f"{type(exc).__name__}: {exc}"))
    for claim in by_session.values():  # deleted since it was queued
        finished[claim.queue_id] = ("no_proposal", "the session no longer exists")

    with write_transaction(engine) as connection:
        mine = still_mine(connection, [c.queue_id for c in claims], worker)
        failures = [f for f in failures if f[0].queue_id in mine]
        finished = {q: r for q, r in finished.items() if q in mine}
        # Only the worker holding a session's queue row (locked just now) links it to a
        # proposal, so its links can be read before the evidence locks.
        links = store.load_links(connection, [a.session_id for a in analysed if a.queue_id in mine])
        to_merge = []
        for item in (a for a in analysed if a.queue_id in mine):
            outcome = settled_outcome(item, links)
            if outcome is None:
                to_merge.append(item)
            else:
                finished[item.queue_id] = outcome
        mark_done(connection, [(q, r, d) for q, (r, d) in finished.items()], now)
        report.parked = mark_failed(connection, failures, policy, now)

        enhancement_keys = {(a.account_id, d.key(a.flow.external_id, a.flow.version))
                            for a in to_merge if a.verdict.kind == "enhancement" for d in a.verdict.deviations}
        new_flow_accounts = {a.account_id for a in to_merge if a.verdict.kind == "new_flow"}
        store.lock_evidence(connection, [f"{a}:{k}" for a, k in enhancement_keys]
                            + [f"{a}:new_flow" for a in new_flow_accounts])
        proposals = store.load_proposals(connection, new_flow_accounts, enhancement_keys)
        merge = merge_batch(to_merge, proposals, links, now)
        report.created, report.updated = store.write_merge(connection, merge, now)
        merged = store.new_proposal_ids(merge, merge.outcomes)
        mark_done(connection, [(q, r, d) for q, (r, d) in merged.items()], now)
        finished.update(merged)
    report.analysed = len(finished)
    report.failed = len(failures)
    report.results.update(r for r, _ in finished.values())


def older_versions(sessions, flows: dict[tuple[int, str], FlowRef]) -> set[tuple[int, int]]:
    """The (flow id, version) pairs the batch's sessions followed that are not the current ones."""
    wanted = set()
    for session in sessions:
        flow = flows.get((session.account_id, session.matched_flow)) if session.matched_flow else None
        if flow is not None and session.flow_version is not None and session.flow_version != flow.version:
            wanted.add((flow.id, session.flow_version))
    return wanted


def analyse_session(claim: Claim, session, steps, flows: dict[tuple[int, str], FlowRef],
                    followed: dict[tuple[int, int], dict] | None = None) -> Analysed:
    """One session's verdict, from its row, its step rows and the flows of the batch: against the
    version of its flow it followed (``followed``: the batch's older trees; the current one when
    its version is unknown), keeping what the current version still lacks."""
    path = session_path(steps, session.resolution_summary)
    flow = None
    if session.matched_flow:
        flow = flows.get((session.account_id, session.matched_flow))
        if flow is None:
            raise FlowNotImported(f"the session matched flow {session.matched_flow!r}, which this account has "
                                  "not imported; import the flow and the item is retried")
    tree = flow.tree if flow else None
    if flow is not None and session.flow_version is not None and session.flow_version != flow.version:
        tree = (followed or {}).get((flow.id, session.flow_version), flow.tree)
    verdict: Verdict = classify(path, tree, flow is not None, session.resolution_summary,
                                current=flow.tree if flow else None)
    return Analysed(claim.queue_id, session.id, session.account_id, session.problem_domain, session.problem_summary,
                    session.resolution_summary, verdict, flow)


def drain(engine: Engine, worker: str, policy: QueuePolicy, should_stop: Callable[[], bool] = lambda: False,
          on_batch: Callable[[BatchReport], None] | None = None) -> BatchReport:
    """Batches until nothing is claimable (or a stop is requested between two batches)."""
    total = BatchReport()
    while not should_stop():
        report = analyse_batch(engine, worker, policy)
        if report.claimed == 0:
            break
        total.add(report)
        if on_batch is not None:
            on_batch(report)
    return total
