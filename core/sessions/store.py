"""Bulk writes of imported sessions and their steps: what both databases' writers share, and the
embedded database's writer (SQLAlchemy executemany; PostgreSQL's is ``core.sessions.copy_writer``).

A batch is upserted by (account, session id): a re-imported session is updated in place and
its steps replaced, never duplicated. Resolved sessions enter the analysis queue once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, Column, Connection, DateTime, Engine, Integer, Numeric, String,
    Text, bindparam, delete, insert, select, text,
)
from sqlalchemy.types import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite

from core.models import Account, AnalysisQueueItem, Base, Session, Step
from core.sessions.day_counts import day_of

SESSION_COLUMNS = (
    "account_id", "external_id", "engineer", "created_at", "ended_at", "status",
    "problem_domain", "problem_summary", "confidence_tier", "matched_flow", "matched_flow_version",
    "resolution_summary", "root_cause", "psa_ticket_id", "psa_system", "psa_company", "psa_board",
    "psa_priority", "psa_opened_at", "psa_closed_at", "psa_sla_due_at",
    "psa_time_spent_minutes", "step_count", "failed_steps", "stopped_at_node",
    # Set by the import from the flows' version timelines (core.sessions.versions), not the record.
    "flow_version",
)
STEP_COLUMNS = (
    "seq", "step_type", "node_id", "context_message", "options", "response",
    "was_free_text", "outcome", "created_at", "responded_at", "repeats_previous",
)
# What a re-imported session updates: every column but its key (and imported_at, set by each writer).
UPDATED_ON_CONFLICT = tuple(c for c in SESSION_COLUMNS if c not in ("account_id", "external_id"))


@dataclass(slots=True)
class SessionRecord:
    """One session ready to write: its column values and its steps' column values."""

    values: tuple[Any, ...]  # in SESSION_COLUMNS order
    steps: list[tuple[Any, ...]]  # each in STEP_COLUMNS order
    # (account, session id): read several times a record on the import's hot path, so kept.
    key: tuple[Any, str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        self.key = (self.values[0], self.values[1])

    @property
    def status(self) -> str:
        return self.values[5]


@dataclass
class BatchCounts:
    inserted: int = 0
    updated: int = 0
    queued: int = 0
    steps: int = 0
    # The UTC days, per account, whose sessions or steps the batch wrote or moved away from:
    # their step counts are recounted at the end of the import (``core.sessions.day_counts``).
    days: dict[int, set[date]] = field(default_factory=dict)

    def add(self, other: BatchCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.queued += other.queued
        self.steps += other.steps
        for account_id, days in other.days.items():
            self.days.setdefault(account_id, set()).update(days)


def touched_days(start_days: Iterable[tuple[int, date]],
                 previous_starts: Iterable[tuple[int, datetime]]) -> dict[int, set[date]]:
    """Per account, the days the batch's sessions start on and the days the sessions it replaced
    started on as stored."""
    days: dict[int, set[date]] = defaultdict(set)
    for account_id, day in start_days:
        days[account_id].add(day)
    for account_id, started in previous_starts:
        days[account_id].add(day_of(started))
    return dict(days)


# A bulk import of this many sessions refreshes the planner's statistics straight away.
ANALYZE_AFTER_SESSIONS = 10_000


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see a large import now, not whenever autovacuum gets to it.

    Measured: right after a 200,000-session import, before statistics, one analytics query
    took 75 s instead of 0.14 s on PostgreSQL.
    """
    if engine.dialect.name != "postgresql":
        _autocommit(engine, "PRAGMA optimize")
        return
    # VACUUM marks the new pages all-visible, so the reports' index-only scans of
    # ``ix_sessions_account_created`` need not visit the table for them. The two statements run
    # at once on two connections: each is one server process's work, and the import (waiting
    # for them) leaves the machine's other core idle.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="statistics") as pool:
        for done in [pool.submit(_autocommit, engine, statement) for statement in (
            "VACUUM (ANALYZE) sessions",
            "ANALYZE steps, analysis_queue, step_day_counts, step_day_stamps",
        )]:
            done.result()


def _autocommit(engine: Engine, statement: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


def ensure_accounts(connection: Connection, slugs: set[str], known: dict[str, int], now: datetime) -> dict[str, int]:
    """Account ids by slug, creating the accounts that do not exist yet."""
    missing = sorted(slugs - known.keys())
    if missing:
        insert_fn = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            insert_fn(Account).on_conflict_do_nothing(index_elements=["slug"]),
            [{"slug": s, "name": s, "settings": {}, "created_at": now} for s in missing],
        )
        rows = connection.execute(select(Account.slug, Account.id).where(Account.slug.in_(missing)))
        known.update({slug: account_id for slug, account_id in rows})
    return known


def _pg_type(column: Column) -> str:
    """The PostgreSQL type name that binary COPY needs for a column (we only use Float as Numeric)."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    column_type = column_type.dialect_impl(postgresql.dialect())
    for kind, name in _PG_TYPE_NAMES:
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no COPY type for {column.table.name}.{column.name} ({column.type!r})")


_PG_TYPE_NAMES = (
    (postgresql.JSONB, "jsonb"), (DateTime, "timestamptz"), (Boolean, "bool"), (Numeric, "float8"),
    (BigInteger, "int8"), (Integer, "int4"), (Text, "text"), (String, "varchar"),
)


def pg_type_names(table: str, columns: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type names binary COPY needs for these columns of a table."""
    return [_pg_type(Base.metadata.tables[table].c[name]) for name in columns]


class GenericWriter:
    """SQLAlchemy Core executemany: the embedded SQLite path."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def _ids(self, records: list[SessionRecord]) -> tuple[dict[tuple[int, str], int], list[tuple[int, datetime]]]:
        """The ids of the sessions already stored, and (account, start) of each as stored."""
        by_account: dict[int, list[str]] = defaultdict(list)
        for record in records:
            by_account[record.key[0]].append(record.key[1])
        ids: dict[tuple[int, str], int] = {}
        starts: list[tuple[int, datetime]] = []
        for account_id, external_ids in by_account.items():
            rows = self.connection.execute(
                select(Session.account_id, Session.external_id, Session.id, Session.created_at).where(
                    Session.account_id == account_id, Session.external_id.in_(external_ids)
                )
            )
            for a, e, i, started in rows:
                ids[(a, e)] = i
                starts.append((a, started))
        return ids, starts

    def write(self, records: list[SessionRecord], now: datetime) -> BatchCounts:
        existing, previous_starts = self._ids(records)
        statement = sqlite.insert(Session)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "external_id"],
            set_={c: statement.excluded[c] for c in (*UPDATED_ON_CONFLICT, "imported_at")},
        )
        self.connection.execute(
            statement,
            [dict(zip(SESSION_COLUMNS, r.values), imported_at=now) for r in records],
        )
        ids = existing if len(existing) == len(records) else self._ids(records)[0]
        if existing:
            self.connection.execute(
                delete(Step).where(Step.session_id.in_(bindparam("ids", expanding=True))),
                {"ids": list(existing.values())},
            )
        step_rows = [
            {"session_id": ids[r.key], **dict(zip(STEP_COLUMNS, step))}
            for r in records
            for step in r.steps
        ]
        if step_rows:
            self.connection.execute(insert(Step), step_rows)
        resolved = [(ids[r.key], r.key[0]) for r in records if r.status == "resolved"]
        queued = 0
        if resolved:
            result = self.connection.execute(
                sqlite.insert(AnalysisQueueItem).on_conflict_do_nothing(index_elements=["session_id"]),
                [
                    {"session_id": s, "account_id": a, "status": "pending", "attempts": 0,
                     "enqueued_at": now, "available_at": now}
                    for s, a in resolved
                ],
            )
            queued = result.rowcount
        return BatchCounts(len(records) - len(existing), len(existing), queued, len(step_rows),
                           touched_days(((r.key[0], day_of(r.values[3])) for r in records), previous_starts))

