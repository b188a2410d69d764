"""Claiming analysis-queue items safely when several scheduler processes share a database.

A claim is a lease: ``claimed_at`` and ``claimed_by``. On PostgreSQL a batch is claimed with
``FOR UPDATE SKIP LOCKED``, so two workers never wait on or take the same rows; on SQLite the
claim runs in an immediate write transaction (``BEGIN IMMEDIATE``), which serialises writers.
A lease older than ``lease_seconds`` belongs to a worker that died: it is claimed again, and
parked as ``failed`` once it has used up its attempts. ``attempts`` counts claims, so an item
that crashes its worker every time still ends up parked instead of looping for ever.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, bindparam, or_, select, update

from core.models import AnalysisQueueItem

Q = AnalysisQueueItem.__table__
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
    """Lease up to ``batch_size`` items: expired leases first, then pending items in order."""
    expired_before = now - timedelta(seconds=policy.lease_seconds)
    with write_transaction(engine) as connection:
        connection.execute(
            update(Q)
            .where(Q.c.status == "claimed", Q.c.claimed_at < expired_before, Q.c.attempts >= policy.max_attempts)
            .values(status="failed", finished_at=now, claimed_by=None,
                    last_error=f"abandoned: its worker stopped before finishing, {policy.max_attempts} times")
        )
        claims = _claim(connection, and_(Q.c.status == "claimed", Q.c.claimed_at < expired_before),
                        Q.c.claimed_at, policy.batch_size, worker, now)
        if len(claims) < policy.batch_size:
            # available_at only delays retries: a fresh item is due whatever the clocks of the
            # importing and the claiming process say (wall clocks can step back).
            due = or_(Q.c.attempts == 0, Q.c.available_at <= now)
            claims += _claim(connection, and_(Q.c.status == "pending", due),
                             Q.c.available_at, policy.batch_size - len(claims), worker, now)
    return claims


def _claim(connection: Connection, claimable, order, limit: int, worker: str, now: datetime) -> list[Claim]:
    # SKIP LOCKED: rows another worker is claiming right now are passed over, not waited for.
    # SQLite has no row locks; the immediate transaction around this does the same job there.
    picked = select(Q.c.id).where(claimable).order_by(order).limit(limit).with_for_update(skip_locked=True)
    rows = connection.execute(
        update(Q).where(Q.c.id.in_(picked.scalar_subquery()))
        .values(status="claimed", claimed_at=now, claimed_by=worker, attempts=Q.c.attempts + 1)
        .returning(Q.c.id, Q.c.session_id, Q.c.account_id, Q.c.attempts)
    ).all()
    return sorted((Claim(*row) for row in rows), key=lambda c: c.queue_id)


def still_mine(connection: Connection, queue_ids: Sequence[int], worker: str) -> set[int]:
    """The items this worker still holds; on PostgreSQL they stay locked until commit, so a
    worker that took over an expired lease waits instead of analysing them a second time."""
    if not queue_ids:
        return set()
    query = select(Q.c.id).where(Q.c.id.in_(queue_ids), Q.c.status == "claimed", Q.c.claimed_by == worker)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return set(connection.scalars(query))


def mark_done(connection: Connection, results: Sequence[tuple[int, str, str]], now: datetime) -> None:
    """``results``: (queue id, result, detail) for items analysed in this transaction."""
    if not results:
        return
    connection.execute(
        update(Q).where(Q.c.id == bindparam("qid"))
        .values(status="done", finished_at=now, result=bindparam("res"), result_detail=bindparam("detail"),
                last_error=None),  # claimed_by stays: which worker analysed it
        [{"qid": qid, "res": result[:32], "detail": detail[:4000]} for qid, result, detail in results],
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
