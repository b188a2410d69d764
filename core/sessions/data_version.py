"""A cheap fingerprint of an account's data, for cache keys: it changes when an import or an
analysis batch changes what a cached report would show, so the dashboard reads it again at once
instead of waiting for the cache's time-to-live.

Each part is one aggregate over a range of an index that leads with ``account_id``; none reads
more rows than the report it guards would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from core.models import Flow, FlowProposal, Session


@dataclass(frozen=True)
class DataVersion:
    # (count, latest imported_at) of the sessions started since the given time.
    sessions: tuple
    # (count, latest updated_at, sum of current versions) of the account's flows.
    flows: tuple
    # (count, latest updated_at, total support, total row versions) of the account's proposals:
    # what a finished analysis batch or a review decision changes.
    proposals: tuple

    @property
    def sessions_and_flows(self) -> tuple:
        """What a gap report depends on (the proposals do not change it)."""
        return self.sessions, self.flows


def _plain(row) -> tuple:
    return tuple(v.isoformat() if isinstance(v, datetime) else (None if v is None else int(v)) for v in row)


def data_version(db: OrmSession, account_id: int, since: datetime) -> DataVersion:
    """The account's data version, counting sessions started at or after ``since``."""
    sessions = db.execute(
        select(func.count(), func.max(Session.imported_at))
        .where(Session.account_id == account_id, Session.created_at >= since)
    ).one()
    flows = db.execute(
        select(func.count(), func.max(Flow.updated_at), func.sum(Flow.current_version))
        .where(Flow.account_id == account_id)
    ).one()
    proposals = db.execute(
        select(func.count(), func.max(FlowProposal.updated_at), func.sum(FlowProposal.support_count),
               func.sum(FlowProposal.row_version))
        .where(FlowProposal.account_id == account_id)
    ).one()
    return DataVersion(_plain(sessions), _plain(flows), _plain(proposals))
