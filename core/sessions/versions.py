"""Which version of its flow each session counts on (``sessions.flow_version``).

A session's version is its ``matched_flow_version`` when the source system gave one; otherwise
the version that was live for its flow when the session started: the version with the latest
``published_at`` at or before ``created_at`` (the higher version on a tie). A session older than
every version of its flow counts on the earliest one: the copilot matched the flow, so the flow
existed, and its first known version is the best account of what it looked like. A session whose
flow is not imported yet has none until the flow arrives.

It is stored, not computed on read, so that every impact read is a plain indexed filter
(``ix_sessions_account_flow_version_created``). It is kept right by three writers:

- the session import sets it as it writes each row (``Timelines``: each account's version
  timelines read once per import, a bisection per session; no second write of the rows);
- the flow import re-resolves every session of a flow whose versions it created or re-dated
  (``resolve_flow``);
- the review workflow, publishing version N at time T, re-resolves the flow's sessions started
  at or after T (``resolve_flow(..., since=T)``): only those can change.

Sessions that carry ``matched_flow_version`` are never re-resolved: the source system knew.
"""

from __future__ import annotations

from datetime import datetime

from bisect import bisect_right

from sqlalchemy import Connection, bindparam, select, text

from core.models import Flow, FlowVersion
from core.sessions.store import SESSION_COLUMNS, SessionRecord
from core.types import UTCDateTime

# The live version of a session's flow at its start, as one correlated subquery (the same SQL on
# SQLite and PostgreSQL; SQLite compares its fixed-format UTC text in order): the latest version
# published at or before the start, else (a session older than every version) the earliest.
_LIVE_VERSION = """
    COALESCE(sessions.matched_flow_version, (
        SELECT fv.version FROM flow_versions fv JOIN flows f ON f.id = fv.flow_id
        WHERE f.account_id = sessions.account_id AND f.external_id = sessions.matched_flow
          AND fv.published_at <= sessions.created_at
        ORDER BY fv.published_at DESC, fv.version DESC LIMIT 1
    ), (
        SELECT fv.version FROM flow_versions fv JOIN flows f ON f.id = fv.flow_id
        WHERE f.account_id = sessions.account_id AND f.external_id = sessions.matched_flow
        ORDER BY fv.published_at, fv.version LIMIT 1))
"""


# The same, set-based, for one flow's sessions: each version's interval of validity
# [valid_from, valid_to) from its publication to the next one's, the earliest version open at the
# start. A version published at the same moment as a higher one gets an empty interval: the
# higher wins, as in _LIVE_VERSION.
_SET_BASED = """
    UPDATE sessions SET flow_version = v.version
    FROM (SELECT f.external_id, fv.version, fv.published_at AS valid_from,
                 lead(fv.published_at) OVER w AS valid_to, row_number() OVER w AS position
          FROM flow_versions fv JOIN flows f ON f.id = fv.flow_id
          WHERE f.account_id = :account AND f.external_id = :flow
          WINDOW w AS (PARTITION BY fv.flow_id ORDER BY fv.published_at, fv.version)) AS v
    WHERE sessions.account_id = :account AND sessions.matched_flow = v.external_id
      AND (sessions.created_at >= v.valid_from OR v.position = 1)
      AND (v.valid_to IS NULL OR sessions.created_at < v.valid_to)
"""


class Timelines:
    """Every flow's versions by publication, per account, read once per account per import."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.by_account: dict[int, dict[str, tuple[list[datetime], list[int]]]] = {}

    def _load(self, account_id: int) -> dict[str, tuple[list[datetime], list[int]]]:
        rows = self.connection.execute(
            select(Flow.external_id, FlowVersion.published_at, FlowVersion.version)
            .join(FlowVersion, FlowVersion.flow_id == Flow.id).where(Flow.account_id == account_id)
            .order_by(Flow.external_id, FlowVersion.published_at, FlowVersion.version))
        flows: dict[str, tuple[list[datetime], list[int]]] = {}
        for external_id, published_at, version in rows:
            times, versions = flows.setdefault(external_id, ([], []))
            times.append(published_at)
            versions.append(version)
        return flows

    def version(self, account_id: int, flow: str | None, given: int | None, created_at: datetime) -> int | None:
        if given is not None or flow is None:
            return given
        flows = self.by_account.get(account_id)
        if flows is None:
            flows = self.by_account[account_id] = self._load(account_id)
        timeline = flows.get(flow)
        if timeline is None:
            return None
        times, versions = timeline
        # The last version published at or before the start (on a tie, the higher version: sorted
        # last); before every version, the earliest.
        return versions[max(bisect_right(times, created_at) - 1, 0)]

    def complete(self, records: list[SessionRecord], account_ids: dict[str, int]) -> list[SessionRecord]:
        """The records with their account slug replaced by the account's id and their
        ``flow_version`` appended, the last column (one new record each: the import's hot path)."""
        version = self.version
        return [SessionRecord((account, *v[1:], version(account, v[_FLOW], v[_GIVEN], v[_CREATED])), r.steps)
                for r in records for v in (r.values,) for account in (account_ids[v[0]],)]


_FLOW, _GIVEN, _CREATED = (SESSION_COLUMNS.index(c) for c in ("matched_flow", "matched_flow_version", "created_at"))
if SESSION_COLUMNS[-1] != "flow_version":
    raise RuntimeError("Timelines.complete appends flow_version: it must be the last of SESSION_COLUMNS")


def resolve_flow(connection: Connection, account_id: int, flow_external_id: str, since: datetime | None = None) -> int:
    """Re-resolve the sessions of one flow without a given version (started at or after ``since``)."""
    statement = _SET_BASED + " AND sessions.matched_flow = :flow AND sessions.matched_flow_version IS NULL"
    params = {"account": account_id, "flow": flow_external_id}
    if since is None:
        return connection.execute(text(statement), params).rowcount
    statement += " AND sessions.created_at >= :since"
    return connection.execute(_timed(statement, "since"), {**params, "since": since}).rowcount


def resolve_all(connection: Connection) -> int:
    """Every stored session (the migration that introduced the column)."""
    return connection.execute(
        text(f"UPDATE sessions SET flow_version = {_LIVE_VERSION} WHERE matched_flow IS NOT NULL")).rowcount


def _timed(statement: str, *names: str):
    # Timestamps bound as the column type: SQLite gets the same fixed UTC text the column holds.
    return text(statement).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in names))
