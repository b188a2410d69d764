"""The SQL behind the impact report: raw rows only, shaped by the pure functions beside it.

Every count is one index range: a flow's sessions on one version within one window read
``ix_sessions_account_flow_version_created`` (account, flow, version, start); the account-wide
and domain windows read ``ix_sessions_account_created`` / ``ix_sessions_account_domain_created``.
All windows of a report go to the database as one UNION ALL, so a report is three round trips
whatever the number of versions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session as OrmSession

from core.models import Flow, FlowProposal, FlowVersion, Session


@dataclass(frozen=True)
class VersionRow:
    flow_pk: int
    flow_id: str
    flow_name: str
    domain: str | None
    version: int
    published_at: datetime
    source: str
    proposal_id: int | None
    proposal_title: str | None
    proposal_diff: dict | None
    support_count: int | None


def fetch_versions(db: OrmSession, account_id: int, flow_pk: int | None = None) -> list[VersionRow]:
    """Every version of the account's flows (or of one flow), with the proposal behind it."""
    statement = (
        select(Flow.id, Flow.external_id, Flow.name, Flow.domain, FlowVersion.version, FlowVersion.published_at,
               FlowVersion.source, FlowVersion.source_proposal_id, FlowProposal.title, FlowProposal.diff,
               FlowProposal.support_count)
        .join(FlowVersion, FlowVersion.flow_id == Flow.id)
        .outerjoin(FlowProposal, FlowProposal.id == FlowVersion.source_proposal_id)
        .where(Flow.account_id == account_id)
        .order_by(Flow.id, FlowVersion.version)
    )
    if flow_pk is not None:
        statement = statement.where(Flow.id == flow_pk)
    return [VersionRow(*row) for row in db.execute(statement)]


@dataclass(frozen=True)
class CountWindow:
    """Sessions started in [start, end): of one flow on one version, of one domain, or of the account."""

    key: str
    start: datetime
    end: datetime
    flow_id: str | None = None
    version: int | None = None
    domain: str | None = None


def _window_select(account_id: int, window: CountWindow) -> Select:
    discovery = case((Session.confidence_tier == "discovery", 1), else_=0)
    conditions = [Session.account_id == account_id, Session.created_at >= window.start, Session.created_at < window.end]
    if window.flow_id is not None:
        conditions += [Session.matched_flow == window.flow_id, Session.flow_version == window.version]
    elif window.domain is not None:
        conditions.append(Session.problem_domain == window.domain)
    return (select(literal(window.key).label("key"), Session.status, discovery.label("discovery"),
                   func.count().label("n"))
            .where(and_(*conditions)).group_by(Session.status, discovery))


def count_windows(db: OrmSession, account_id: int, windows: Sequence[CountWindow]
                  ) -> dict[str, dict[tuple[str, bool], int]]:
    """Per window key: session counts by (status, started in discovery)."""
    counts: dict[str, dict[tuple[str, bool], int]] = defaultdict(dict)
    # SQLite allows at most 500 terms in a compound SELECT; chunks keep every database happy.
    for offset in range(0, len(windows), 200):
        chunk = windows[offset:offset + 200]
        statement = union_all(*(_window_select(account_id, w) for w in chunk)) if len(chunk) > 1 else _window_select(account_id, chunk[0])
        for key, status, discovery, n in db.execute(statement):
            counts[key][(status, bool(discovery))] = counts[key].get((status, bool(discovery)), 0) + n
    return counts
