"""Bulk writes of imported sessions and their steps: COPY on PostgreSQL, executemany elsewhere.

A batch is upserted by (account, session id): a re-imported session is updated in place and
its steps replaced, never duplicated. Resolved sessions enter the analysis queue once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import orjson
from psycopg.types.json import set_json_dumps
from sqlalchemy import (
    BigInteger, Boolean, Column, Connection, DateTime, Engine, Integer, Numeric, String, Table,
    Text, bindparam, delete, insert, select, text,
)
from sqlalchemy.types import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite

from core.models import Account, AnalysisQueueItem, Session, Step
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
_UPDATED_ON_CONFLICT = [c for c in SESSION_COLUMNS if c not in ("account_id", "external_id")]


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


def touched_days(records: list[SessionRecord], previous_starts: Iterable[tuple[int, datetime]]) -> dict[int, set[date]]:
    """The days of the records' starts and of the replaced sessions' former starts, per account."""
    days: dict[int, set[date]] = defaultdict(set)
    for account_id, started in (*((r.key[0], r.values[3]) for r in records), *previous_starts):
        days[account_id].add(day_of(started))
    return dict(days)


# A bulk import of this many sessions refreshes the planner's statistics straight away.
ANALYZE_AFTER_SESSIONS = 10_000
# During an import, the statistics of ``sessions`` are refreshed once the table holds more than
# twice the sessions they describe plus this many (PostgresCopyWriter._keep_statistics_current).
ANALYZE_IN_IMPORT_FLOOR = 10_000


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


def _copy_statement(table: Table, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    types = [_pg_type(table.c[name]) for name in columns]
    return f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)", types


class PostgresCopyWriter:
    """COPY straight into the tables for new sessions; upsert through a staging table otherwise.

    Most imports bring new sessions: their ids are drawn from the sequence up front, so
    sessions, steps and queue rows all go in by binary COPY (no text formatting or parsing of
    timestamps on either side) with no second pass.
    """

    SESSIONS = _copy_statement(Session.__table__, ("id", *SESSION_COLUMNS, "imported_at"))
    STEPS = _copy_statement(Step.__table__, ("session_id", *STEP_COLUMNS))
    QUEUE = _copy_statement(
        AnalysisQueueItem.__table__,
        ("session_id", "account_id", "status", "attempts", "enqueued_at", "available_at"),
    )

    def __init__(self, connection: Connection):
        self.connection = connection
        self.raw = connection.connection.driver_connection  # psycopg, same transaction
        self._staged = False
        # Sessions the planner's statistics describe, and sessions stored now (estimated).
        self._described: int | None = None
        self._rows = 0

    def write(self, records: list[SessionRecord], now: datetime) -> BatchCounts:
        with self.raw.cursor() as cur:
            # Steps' options go to COPY as plain lists, serialised by orjson: no wrapper object and
            # no rebuilt row per step.
            set_json_dumps(orjson.dumps, context=cur)
            keys = [r.key for r in records]
            existing, previous_starts = self._existing_ids(cur, keys)
            if existing:
                fresh = [r for r, k in zip(records, keys) if k not in existing]
                stale = [r for r, k in zip(records, keys) if k in existing]
            else:
                fresh, stale = records, []
            ids = dict(existing)
            if fresh:
                ids.update(self._copy_new_sessions(cur, fresh, now))
                self._keep_statistics_current(cur, len(fresh))
            if stale:
                self._upsert_sessions(cur, stale, now)
                cur.execute("DELETE FROM steps WHERE session_id = ANY(%s)", (list(existing.values()),))
            session_ids = [ids[k] for k in keys]
            step_count = self._copy_steps(cur, records, session_ids)
            queued = self._queue_resolved(cur, records, session_ids, set(existing.values()), now)
        return BatchCounts(len(fresh), len(stale), queued, step_count, touched_days(records, previous_starts))

    @staticmethod
    def _existing_ids(cur, keys: list[tuple[int, str]]) -> tuple[dict[tuple[int, str], int], list[tuple[int, datetime]]]:
        """The ids of the sessions already stored, and (account, start) of each as stored."""
        by_account: dict[int, list[str]] = defaultdict(list)
        for account_id, external_id in keys:
            by_account[account_id].append(external_id)
        ids: dict[tuple[int, str], int] = {}
        starts: list[tuple[int, datetime]] = []
        # One scan of the unique (account, external id) index per account (with statistics that
        # describe the table: see _keep_statistics_current). A join on unnest() was planned as a
        # hash join over the whole table, a cost that grew with every batch: 100 ms a batch at
        # 200,000 stored sessions, against 15 ms for this.
        for account_id, external_ids in by_account.items():
            cur.execute("SELECT external_id, id, created_at FROM sessions "
                        "WHERE account_id = %s AND external_id = ANY(%s::text[])", (account_id, external_ids))
            for external_id, session_id, started in cur:
                ids[(account_id, external_id)] = session_id
                starts.append((account_id, started))
        return ids, starts

    def _keep_statistics_current(self, cur, new_sessions: int) -> None:
        """Refresh the planner's statistics of ``sessions`` in the import's transaction each time
        the table has more than doubled since they were taken.

        Without them (a first import into an empty table) the planner takes the table for nearly
        empty and answers each batch's lookup of existing sessions by reading every session of
        the account: 98 s of a 200,000-session import, against 0.4 s with the statistics. ANALYZE
        counts the transaction's own new rows; doubling keeps it to a handful of runs (about
        0.1 s each at 200,000 sessions), and a table that already has statistics rarely needs one.
        """
        if self._described is None:
            cur.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'sessions'::regclass")
            self._described = self._rows = cur.fetchone()[0]
        self._rows += new_sessions
        if self._rows > 2 * self._described + ANALYZE_IN_IMPORT_FLOOR:
            cur.execute("ANALYZE sessions")
            self._described = self._rows

    @staticmethod
    def _copy_new_sessions(cur, fresh: list[SessionRecord], now: datetime) -> dict[tuple[int, str], int]:
        # The sequence looked up once, not once per id (five times the server's time).
        cur.execute(
            "SELECT nextval(s) FROM CAST(pg_get_serial_sequence('sessions', 'id') AS regclass) AS s, "
            "generate_series(1, %s)",
            (len(fresh),),
        )
        new_ids = [row[0] for row in cur.fetchall()]
        statement, types = PostgresCopyWriter.SESSIONS
        with cur.copy(statement) as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for session_id, record in zip(new_ids, fresh):
                write_row((session_id, *record.values, now))
        return {r.key: i for r, i in zip(fresh, new_ids)}

    def _upsert_sessions(self, cur, records: list[SessionRecord], now: datetime) -> None:
        columns = ", ".join(SESSION_COLUMNS)
        if not self._staged:
            # Same column types as sessions, none of its constraints; gone at commit.
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_sessions_stage ON COMMIT DROP AS "
                f"SELECT {columns} FROM sessions WITH NO DATA"
            )
            self._staged = True
        cur.execute("TRUNCATE import_sessions_stage")
        with cur.copy(f"COPY import_sessions_stage ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record.values)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED_ON_CONFLICT)
        cur.execute(
            f"INSERT INTO sessions ({columns}, imported_at) SELECT {columns}, %s FROM import_sessions_stage "
            f"ON CONFLICT (account_id, external_id) DO UPDATE SET {updates}, imported_at = EXCLUDED.imported_at",
            (now,),
        )

    @staticmethod
    def _copy_steps(cur, records: list[SessionRecord], session_ids: list[int]) -> int:
        """COPY the records' steps (``session_ids``: each record's session id, in order)."""
        count = 0
        statement, types = PostgresCopyWriter.STEPS
        with cur.copy(statement) as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for session_id, record in zip(session_ids, records):
                for step in record.steps:
                    write_row((session_id, *step))
                count += len(record.steps)
        return count

    @staticmethod
    def _queue_resolved(cur, records: list[SessionRecord], session_ids: list[int],
                        replaced: set[int], now: datetime) -> int:
        resolved = [(i, r.values[0]) for r, i in zip(records, session_ids) if r.status == "resolved"]
        new = [(s, a) for s, a in resolved if s not in replaced]
        if new:
            # New sessions cannot be queued yet: COPY needs no conflict handling.
            statement, types = PostgresCopyWriter.QUEUE
            with cur.copy(statement) as copy:
                copy.set_types(types)
                for session_id, account_id in new:
                    copy.write_row((session_id, account_id, "pending", 0, now, now))
        queued = len(new)
        again = [s for s, _ in resolved if s in replaced]
        if again:
            cur.execute(
                "INSERT INTO analysis_queue (session_id, account_id, status, attempts, enqueued_at, available_at) "
                "SELECT id, account_id, 'pending', 0, %s, %s FROM sessions WHERE id = ANY(%s) "
                "ON CONFLICT (session_id) DO NOTHING",
                (now, now, again),
            )
            queued += cur.rowcount
        return queued


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
            set_={c: statement.excluded[c] for c in (*_UPDATED_ON_CONFLICT, "imported_at")},
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
                           touched_days(records, previous_starts))

