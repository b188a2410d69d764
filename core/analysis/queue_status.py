"""How much work the analysis queue holds, for the scheduler's log and, later, an admin page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.models import AnalysisQueueItem

BACKLOG_STATUSES = ("pending", "claimed", "failed")


@dataclass(frozen=True)
class QueueBacklog:
    pending: int
    claimed: int
    failed: int

    @property
    def total(self) -> int:
        return self.pending + self.claimed + self.failed

    def describe(self) -> str:
        return f"{self.pending:,} pending, {self.claimed:,} claimed, {self.failed:,} failed"


def queue_backlog(db: OrmSession) -> QueueBacklog:
    """Unfinished queue items across all accounts, by status, in one aggregate query."""
    status = AnalysisQueueItem.status
    # Done items are most of the table over time; the status index keeps them out of the scan.
    row = db.execute(
        select(*(func.count(case((status == s, 1))) for s in BACKLOG_STATUSES))
        .where(status.in_(BACKLOG_STATUSES))
    ).one()
    return QueueBacklog(*row)
