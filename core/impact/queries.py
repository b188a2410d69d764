"""The SQL behind the impact report: raw rows only, shaped by the pure functions beside it.

Every count is one index range: a flow's sessions on one version within one window read
``ix_sessions_account_flow_version_created`` (account, flow, version, start); a domain's window
reads ``ix_sessions_account_domain_created``. All windows of a report go to the database as one
UNION ALL. The account-wide counts (the control) are one pass over the span the windows cover,
per UTC day and status (``ix_sessions_account_created``, index-only on PostgreSQL), summed per
window in Python: with a window per version, counting each window of the whole account
separately would read the account's sessions once per version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, select, text, union_all
from sqlalchemy.orm import Session as OrmSession

from core.metrics.sql import day_key, utc_day

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
    discovery = case((Session.confidence_tier == "discovery", 1), else_=0) if window.flow_id is None else literal(0)
    conditions = [Session.account_id == account_id, Session.created_at >= window.start, Session.created_at < window.end]
    if window.flow_id is not None:
        conditions += [Session.matched_flow == window.flow_id, Session.flow_version == window.version]
    elif window.domain is not None:
        conditions.append(Session.problem_domain == window.domain)
    return (select(literal(window.key).label("key"), Session.status, discovery.label("discovery"),
                   func.count().label("n"))
            .where(and_(*conditions)).group_by(Session.status, discovery))


# PostgreSQL: every flow window in one statement of five array parameters. Joined on the windows,
# each is an index range of ix_sessions_account_flow_version_created (index-only: status rides
# along); one short statement instead of a UNION ALL that takes longer to build than to run.
_PG_FLOW_WINDOWS = text("""
    SELECT w.key, s.status, false AS discovery, count(*)
    FROM unnest(CAST(:keys AS text[]), CAST(:flows AS text[]), CAST(:versions AS int[]),
                CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) AS w(key, flow, version, start_at, end_at)
    JOIN sessions s ON s.account_id = :account AND s.matched_flow = w.flow AND s.flow_version = w.version
                   AND s.created_at >= w.start_at AND s.created_at < w.end_at
    GROUP BY w.key, s.status
""")


def count_windows(db: OrmSession, account_id: int, windows: Sequence[CountWindow]
                  ) -> dict[str, dict[tuple[str, bool], int]]:
    """Per window key: session counts by (status, started in discovery); flow windows do not tell
    discovery apart (only a new flow's domain comparison needs it)."""
    counts: dict[str, dict[tuple[str, bool], int]] = defaultdict(dict)
    if db.get_bind().dialect.name == "postgresql":
        flows = [w for w in windows if w.flow_id is not None]
        windows = [w for w in windows if w.flow_id is None]
        if flows:
            rows = db.execute(_PG_FLOW_WINDOWS, {
                "account": account_id, "keys": [w.key for w in flows], "flows": [w.flow_id for w in flows],
                "versions": [w.version for w in flows], "starts": [w.start for w in flows],
                "ends": [w.end for w in flows]})
            for key, status, discovery, n in rows:
                counts[key][(status, discovery)] = n
    # SQLite allows at most 500 terms in a compound SELECT; chunks keep every database happy.
    for offset in range(0, len(windows), 200):  # the rest, and every window on SQLite
        chunk = windows[offset:offset + 200]
        statement = union_all(*(_window_select(account_id, w) for w in chunk)) if len(chunk) > 1 else _window_select(account_id, chunk[0])
        for key, status, discovery, n in db.execute(statement):
            counts[key][(status, bool(discovery))] = counts[key].get((status, bool(discovery)), 0) + n
    return counts



def count_account_days(db: OrmSession, account_id: int, start: datetime, end: datetime
                       ) -> list[tuple[str, str, int]]:
    """(UTC day as ``YYYY-MM-DD``, status, sessions) of every session of the account in [start, end).
    Grouping by day costs what a plain count does on PostgreSQL (measured: 23 ms for 100,000
    sessions by day, 79 ms by hour)."""
    day = utc_day(Session.created_at)
    rows = db.execute(select(day, Session.status, func.count())
                      .where(Session.account_id == account_id, Session.created_at >= start, Session.created_at < end)
                      .group_by(day, Session.status))
    return [(day_key(d), status, n) for d, status, n in rows]
