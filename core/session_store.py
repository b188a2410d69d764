"""Bulk writes of imported sessions and their steps: COPY on PostgreSQL, executemany elsewhere.

A batch is upserted by (account, session id): a re-imported session is updated in place and
its steps replaced, never duplicated. Resolved sessions enter the analysis queue once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from core.models import Account, AnalysisQueueItem, Session, Step

SESSION_COLUMNS = (
    "account_id", "external_id", "engineer", "created_at", "ended_at", "status",
    "problem_domain", "problem_summary", "confidence_tier", "matched_flow",
    "resolution_summary", "root_cause", "psa_ticket_id", "psa_system", "psa_board",
    "psa_priority", "psa_opened_at", "psa_closed_at", "psa_sla_due_at",
    "psa_time_spent_minutes", "step_count",
)
STEP_COLUMNS = (
    "seq", "step_type", "node_id", "context_message", "options", "response",
    "was_free_text", "outcome", "created_at", "responded_at",
)
_UPDATED_ON_CONFLICT = [c for c in SESSION_COLUMNS if c not in ("account_id", "external_id")]


@dataclass
class SessionRecord:
    """One session ready to write: its column values and its steps' column values."""

    values: tuple[Any, ...]  # in SESSION_COLUMNS order
    steps: list[tuple[Any, ...]]  # each in STEP_COLUMNS order

    @property
    def key(self) -> tuple[int, str]:
        return self.values[0], self.values[1]

    @property
    def status(self) -> str:
        return self.values[5]


@dataclass
class BatchCounts:
    inserted: int = 0
    updated: int = 0
    queued: int = 0
    steps: int = 0

    def add(self, other: BatchCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.queued += other.queued
        self.steps += other.steps


class SessionWriter(Protocol):
    def write(self, records: list[SessionRecord], now: datetime) -> BatchCounts: ...


def writer_for(connection: Connection) -> SessionWriter:
    if connection.dialect.name == "postgresql":
        return PostgresCopyWriter(connection)
    return GenericWriter(connection)


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


class PostgresCopyWriter:
    """COPY the batch into a staging table, upsert from it, then COPY the steps in directly."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.raw = connection.connection.driver_connection  # psycopg, same transaction
        self._staged = False

    def _stage(self) -> None:
        if self._staged:
            return
        with self.raw.cursor() as cur:
            # Same column types as sessions, none of its constraints; gone at commit.
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_sessions_stage ON COMMIT DROP AS "
                f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WITH NO DATA"
            )
        self._staged = True

    def write(self, records: list[SessionRecord], now: datetime) -> BatchCounts:
        self._stage()
        columns = ", ".join(SESSION_COLUMNS)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED_ON_CONFLICT)
        with self.raw.cursor() as cur:
            cur.execute("TRUNCATE import_sessions_stage")
            with cur.copy(f"COPY import_sessions_stage ({columns}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(record.values)
            cur.execute(
                f"INSERT INTO sessions ({columns}, imported_at) "
                f"SELECT {columns}, %s FROM import_sessions_stage "
                f"ON CONFLICT (account_id, external_id) DO UPDATE SET {updates}, imported_at = EXCLUDED.imported_at "
                "RETURNING id, account_id, external_id, (xmax = 0) AS inserted",
                (now,),
            )
            ids: dict[tuple[int, str], int] = {}
            replaced: list[int] = []
            for session_id, account_id, external_id, inserted in cur.fetchall():
                ids[(account_id, external_id)] = session_id
                if not inserted:
                    replaced.append(session_id)
            if replaced:
                cur.execute("DELETE FROM steps WHERE session_id = ANY(%s)", (replaced,))
            step_count = 0
            with cur.copy(f"COPY steps (session_id, {', '.join(STEP_COLUMNS)}) FROM STDIN") as copy:
                for record in records:
                    session_id = ids[record.key]
                    for step in record.steps:
                        options = step[4]
                        if options is not None:
                            step = (*step[:4], orjson.dumps(options).decode(), *step[5:])
                        copy.write_row((session_id, *step))
                        step_count += 1
            resolved = [ids[r.key] for r in records if r.status == "resolved"]
            queued = 0
            if resolved:
                cur.execute(
                    "INSERT INTO analysis_queue (session_id, account_id, status, attempts, enqueued_at, available_at) "
                    "SELECT id, account_id, 'pending', 0, %s, %s FROM sessions WHERE id = ANY(%s) "
                    "ON CONFLICT (session_id) DO NOTHING",
                    (now, now, resolved),
                )
                queued = cur.rowcount
        return BatchCounts(len(records) - len(replaced), len(replaced), queued, step_count)


class GenericWriter:
    """SQLAlchemy Core executemany: the embedded SQLite path."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def _ids(self, records: list[SessionRecord]) -> dict[tuple[int, str], int]:
        by_account: dict[int, list[str]] = defaultdict(list)
        for record in records:
            by_account[record.key[0]].append(record.key[1])
        ids: dict[tuple[int, str], int] = {}
        for account_id, external_ids in by_account.items():
            rows = self.connection.execute(
                select(Session.account_id, Session.external_id, Session.id).where(
                    Session.account_id == account_id, Session.external_id.in_(external_ids)
                )
            )
            ids.update({(a, e): i for a, e, i in rows})
        return ids

    def write(self, records: list[SessionRecord], now: datetime) -> BatchCounts:
        existing = self._ids(records)
        statement = sqlite.insert(Session)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "external_id"],
            set_={c: statement.excluded[c] for c in (*_UPDATED_ON_CONFLICT, "imported_at")},
        )
        self.connection.execute(
            statement,
            [dict(zip(SESSION_COLUMNS, r.values), imported_at=now) for r in records],
        )
        ids = existing if len(existing) == len(records) else self._ids(records)
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
        return BatchCounts(len(records) - len(existing), len(existing), queued, len(step_rows))

