"""Claiming analysis-queue items safely when several scheduler processes share a database.

A claim is a lease: ``claimed_at`` and ``claimed_by``. On PostgreSQL a batch is claimed with
``FOR UPDATE SKIP LOCKED``, so two workers never wait on or take the same rows; on SQLite the
claim runs in an immediate write transaction (``BEGIN IMMEDIATE``), which serialises writers.
A lease older than ``lease_seconds`` belongs to a worker that died: it is claimed again, and
parked as ``failed`` once it has used up its attempts. ``attempts`` counts claims, so an item
that crashes its worker every time still ends up parked instead of looping for ever.

A batch is claimed account by account: the oldest claimable item's account first, then the
next account's, until the batch is full (in queue order after a few accounts), passing over
accounts whose items another worker holds. Everything a batch merges into (an account's
new-flow proposals, its enhancements) belongs to one account, so two workers on different
accounts never wait for each other's evidence locks; only when every claimable item belongs
to an account another worker holds do they share it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (BigInteger, Connection, Engine, String, Text, and_, any_, bindparam, func, literal, or_, select,
                        update)

from core.analysis.id_lists import among, array_param
from core.models import AnalysisQueueItem

Q = AnalysisQueueItem.__table__
# Claims take turns on PostgreSQL (a transaction-scoped advisory lock), so each sees the
# accounts the others have just claimed; SQLite's immediate transaction already does.
CLAIM_LOCK = 0x466C6F77_436C6D00  # "FlowClm": any constant no other lock uses
# Accounts a batch is filled from one by one; past that (many small accounts) the rest of the
# batch is filled in queue order, so batches stay full.
ACCOUNTS_PER_BATCH = 8
MAX_BACKOFF_DOUBLINGS = 6  # the wait stops growing at 64 times the base backoff
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class QueuePolicy:
    batch_size: int = 500
    lease_seconds: int = 300
    max_attempts: int = 5
    backoff_seconds: int = 60

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.backoff_seconds * 2 ** min(max(attempts - 1, 0), MAX_BACKOFF_DOUBLINGS))


@dataclass(frozen=True)
class Claim:
    queue_id: int
    session_id: int
    account_id: int
    attempts: int


def worker_id() -> str:
    """Host, process and a random suffix: a restarted process never inherits old leases."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE), so a
    read inside it can never be overtaken by another writer before this one writes."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def claim_batch(engine: Engine, worker: str, policy: QueuePolicy, now: datetime) -> list[Claim]:
    """Lease up to ``batch_size`` items: expired leases first, then pending items in order,
    an account at a time (see the module's docstring)."""
    expired_before = now - timedelta(seconds=policy.lease_seconds)
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(literal(CLAIM_LOCK))))
        connection.execute(
            update(Q)
            .where(Q.c.status == "claimed", Q.c.claimed_at < expired_before, Q.c.attempts >= policy.max_attempts)
            .values(status="failed", finished_at=now, claimed_by=None,
                    last_error=f"abandoned: its worker stopped before finishing, {policy.max_attempts} times")
        )
        # available_at only delays retries: a fresh item is due whatever the clocks of the
        # importing and the claiming process say (wall clocks can step back).
        due = or_(Q.c.attempts == 0, Q.c.available_at <= now)
        sources = ((and_(Q.c.status == "claimed", Q.c.claimed_at < expired_before), Q.c.claimed_at),
                   (and_(Q.c.status == "pending", due), Q.c.available_at))
        held = _accounts_held_by_others(connection, worker, expired_before)
        claims: list[Claim] = []
        for passed_over in (held, set()):  # other workers' accounts only when nothing else is left
            for claimable, order in sources:
                claims += _claim_by_account(connection, claimable, order, policy.batch_size - len(claims), worker,
                                            now, passed_over)
            if claims:
                break
    return sorted(claims, key=lambda c: c.queue_id)


def _accounts_held_by_others(connection: Connection, worker: str, expired_before: datetime) -> set[int]:
    return set(connection.scalars(
        select(Q.c.account_id).distinct()
        .where(Q.c.status == "claimed", Q.c.claimed_at >= expired_before, Q.c.claimed_by != worker)))


def _claim_by_account(connection: Connection, claimable, order, limit: int, worker: str, now: datetime,
                      passed_over: set[int]) -> list[Claim]:
    claims: list[Claim] = []
    skip = set(passed_over)
    for _ in range(ACCOUNTS_PER_BATCH):
        if len(claims) >= limit:
            return claims
        account = connection.scalar(select(Q.c.account_id).where(claimable, Q.c.account_id.not_in(skip))
                                    .order_by(order).limit(1))
        if account is None:
            return claims
        skip.add(account)
        claims += _claim(connection, and_(claimable, Q.c.account_id == account), order, limit - len(claims),
                         worker, now)
    if len(claims) < limit:  # many small accounts: a full batch beats one account per batch
        claims += _claim(connection, and_(claimable, Q.c.account_id.not_in(passed_over)), order,
                         limit - len(claims), worker, now)
    return claims


def _claim(connection: Connection, claimable, order, limit: int, worker: str, now: datetime) -> list[Claim]:
    # SKIP LOCKED: rows another transaction holds (e.g. a worker re-checking an expired lease)
    # are passed over, not waited for. SQLite has no row locks; its immediate transaction
    # serialises claims there.
    picked = select(Q.c.id).where(claimable).order_by(order).limit(limit).with_for_update(skip_locked=True)
    if connection.dialect.name == "postgresql":
        # = ANY(ARRAY(...)) looks the picked ids up by primary key; IN (...) is planned as a
        # hash join that reads the whole queue table on every claim.
        target = Q.c.id == any_(func.array(picked.scalar_subquery()))
    else:
        target = Q.c.id.in_(picked.scalar_subquery())
    rows = connection.execute(
        update(Q).where(target)
        .values(status="claimed", claimed_at=now, claimed_by=worker, attempts=Q.c.attempts + 1)
        .returning(Q.c.id, Q.c.session_id, Q.c.account_id, Q.c.attempts)
    ).all()
    return [Claim(*row) for row in rows]


def still_mine(connection: Connection, queue_ids: Sequence[int], worker: str) -> set[int]:
    """The items this worker still holds; on PostgreSQL they stay locked until commit, so a
    worker that took over an expired lease waits instead of analysing them a second time."""
    if not queue_ids:
        return set()
    query = select(Q.c.id).where(among(connection, Q.c.id, queue_ids), Q.c.status == "claimed",
                                 Q.c.claimed_by == worker)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return set(connection.scalars(query))


def mark_done(connection: Connection, results: Sequence[tuple[int, str, str]], now: datetime) -> None:
    """``results``: (queue id, result, detail) for items analysed in this transaction."""
    if not results:
        return
    rows = [(qid, result[:32], detail[:4000]) for qid, result, detail in results]
    if connection.dialect.name == "postgresql":
        # One statement for the whole batch (the rows arrive as three arrays), not one per item.
        done = func.unnest(array_param(connection, "qids", [r[0] for r in rows], BigInteger()),
                           array_param(connection, "results", [r[1] for r in rows], String()),
                           array_param(connection, "details", [r[2] for r in rows], Text())
                           ).table_valued("id", "result", "detail").render_derived("done")
        connection.execute(
            update(Q).where(Q.c.id == done.c.id)
            .values(status="done", finished_at=now, result=done.c.result, result_detail=done.c.detail,
                    last_error=None))  # claimed_by stays: which worker analysed it
        return
    connection.execute(
        update(Q).where(Q.c.id == bindparam("qid"))
        .values(status="done", finished_at=now, result=bindparam("res"), result_detail=bindparam("detail"),
                last_error=None),
        [{"qid": qid, "res": result, "detail": detail} for qid, result, detail in rows],
    )


def mark_failed(connection: Connection, failures: Sequence[tuple[Claim, str]], policy: QueuePolicy,
                now: datetime) -> int:
    """Record each failure: back off and retry later, or park as ``failed`` after the last
    attempt. Returns how many were parked."""
    retry = [f for f in failures if f[0].attempts < policy.max_attempts]
    park = [f for f in failures if f[0].attempts >= policy.max_attempts]
    if retry:
        connection.execute(
            update(Q).where(Q.c.id == bindparam("qid"))
            .values(status="pending", claimed_by=None, claimed_at=None, available_at=bindparam("retry_at"),
                    last_error=bindparam("error")),
            [{"qid": c.queue_id, "retry_at": now + policy.backoff(c.attempts), "error": error[:ERROR_LIMIT]}
             for c, error in retry],
        )
    if park:
        connection.execute(
            update(Q).where(Q.c.id == bindparam("qid"))
            .values(status="failed", claimed_by=None, finished_at=now, last_error=bindparam("error")),
            [{"qid": c.queue_id, "error": f"gave up after {c.attempts} attempts: {error}"[:ERROR_LIMIT]}
             for c, error in park],
        )
    return len(park)
