"""The analysis queue's backlog: unfinished items by status, across all accounts."""

from __future__ import annotations

from datetime import datetime, timezone

from core.analysis.queue_status import QueueBacklog, queue_backlog
from core.db import unit_of_work
from core.models import Account, AnalysisQueueItem, Session

CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def add_queue_items(engine, slug: str, *statuses: str) -> None:
    with unit_of_work(engine) as db:
        account = Account(slug=slug, name=slug, settings={})
        db.add(account)
        db.flush()
        for n, status in enumerate(statuses):
            session = Session(account_id=account.id, external_id=f"{slug}-{n}", created_at=CREATED,
                              status="resolved")
            db.add(session)
            db.flush()
            db.add(AnalysisQueueItem(session_id=session.id, account_id=account.id, status=status))


def test_the_backlog_counts_pending_claimed_and_failed_items_of_every_account(engine):
    add_queue_items(engine, "acme", "pending", "pending", "claimed", "failed", "done", "done")
    add_queue_items(engine, "other", "pending", "claimed", "done")
    with unit_of_work(engine) as db:
        backlog = queue_backlog(db)

    assert backlog == QueueBacklog(pending=3, claimed=2, failed=1)
    assert backlog.total == 6
    assert backlog.describe() == "3 pending, 2 claimed, 1 failed"


def test_finished_items_are_not_backlog(engine):
    add_queue_items(engine, "acme", "done", "done")
    with unit_of_work(engine) as db:
        assert queue_backlog(db) == QueueBacklog(0, 0, 0)


def test_an_empty_queue_has_no_backlog(engine):
    with unit_of_work(engine) as db:
        assert queue_backlog(db).total == 0
