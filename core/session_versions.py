"""Which version of its flow each session counts on (``sessions.flow_version``).

A session's version is its ``matched_flow_version`` when the source system gave one; otherwise
the version that was live for its flow when the session started: the version with the latest
``published_at`` at or before ``created_at`` (the higher version on a tie). A session older than
every version of its flow counts on the earliest one: the copilot matched the flow, so the flow
existed, and its first known version is the best account of what it looked like. A session whose
flow is not imported yet has none until the flow arrives.

It is stored, not computed on read, so that every impact read is a plain indexed filter
(``ix_sessions_account_flow_version_created``). It is kept right by three writers, each in its
own transaction:

- the session import resolves the sessions it wrote (``resolve_imported``, one UPDATE per
  account touched, after the rows are written);
- the flow import re-resolves every session of a flow whose versions it created or re-dated
  (``resolve_flow``);
- the review workflow, publishing version N at time T, re-resolves the flow's sessions started
  at or after T (``resolve_flow(..., since=T)``): only those can change.

Sessions that carry ``matched_flow_version`` are never re-resolved: the source system knew.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection, bindparam, text

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


def resolve_imported(connection: Connection, days: dict[int, set[date]], imported_at: datetime) -> int:
    """Resolve the sessions one import wrote: per account, those stamped with this import's
    ``imported_at`` within the days it touched (a range of ``ix_sessions_account_created``)."""
    updated = 0
    for account_id, touched in days.items():
        if not touched:
            continue
        start = datetime.combine(min(touched), time.min, tzinfo=timezone.utc)
        end = datetime.combine(max(touched) + timedelta(days=1), time.min, tzinfo=timezone.utc)
        result = connection.execute(
            _timed(f"UPDATE sessions SET flow_version = {_LIVE_VERSION} "
                   "WHERE account_id = :account AND created_at >= :start AND created_at < :end "
                   "AND imported_at = :imported_at AND matched_flow IS NOT NULL", "start", "end", "imported_at"),
            {"account": account_id, "start": start, "end": end, "imported_at": imported_at},
        )
        updated += result.rowcount
    return updated


def resolve_flow(connection: Connection, account_id: int, flow_external_id: str, since: datetime | None = None) -> int:
    """Re-resolve the sessions of one flow without a given version (started at or after ``since``)."""
    statement = (f"UPDATE sessions SET flow_version = {_LIVE_VERSION} "
                 "WHERE account_id = :account AND matched_flow = :flow AND matched_flow_version IS NULL")
    params = {"account": account_id, "flow": flow_external_id}
    if since is None:
        return connection.execute(text(statement), params).rowcount
    statement += " AND created_at >= :since"
    return connection.execute(_timed(statement, "since"), {**params, "since": since}).rowcount


def resolve_all(connection: Connection) -> int:
    """Every stored session (the migration that introduced the column)."""
    return connection.execute(
        text(f"UPDATE sessions SET flow_version = {_LIVE_VERSION} WHERE matched_flow IS NOT NULL")).rowcount


def _timed(statement: str, *names: str):
    # Timestamps bound as the column type: SQLite gets the same fixed UTC text the column holds.
    return text(statement).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in names))
