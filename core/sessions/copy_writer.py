"""The PostgreSQL writer of an import: batches of sessions (``core.sessions.copy_rows``) by binary COPY.

New sessions go straight into ``sessions``, their ids drawn from the sequence up front, so
sessions, steps and queue rows all go in by COPY with no second pass; sessions already stored
are upserted through a staging table and their steps replaced. The batch arrives formatted: the
writer adds each row's head (ids, account, flow version) and sends the bytes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection

from core.sessions.copy_rows import (
    SIGNATURE, TRAILER, CopyBatch, RowHeads, session_copy_columns, stage_copy_columns,
)
from core.sessions.store import STEP_COLUMNS, UPDATED_ON_CONFLICT, BatchCounts, pg_type_names, touched_days
from core.sessions.versions import Timelines

# During an import, the statistics of ``sessions`` are refreshed once the table holds more than
# twice the sessions they describe plus this many (PostgresCopyWriter._keep_statistics_current).
ANALYZE_IN_IMPORT_FLOOR = 10_000

_QUEUE_COLUMNS = ("session_id", "account_id", "status", "attempts", "enqueued_at", "available_at")


def _copy(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"


class PostgresCopyWriter:
    SESSIONS = _copy("sessions", session_copy_columns())
    STAGE = _copy("import_sessions_stage", stage_copy_columns())
    STEPS = _copy("steps", ("session_id", *STEP_COLUMNS))
    QUEUE = _copy("analysis_queue", _QUEUE_COLUMNS)
    QUEUE_TYPES = pg_type_names("analysis_queue", _QUEUE_COLUMNS)

    def __init__(self, connection: Connection, timelines: Timelines, now: datetime):
        self.raw = connection.connection.driver_connection  # psycopg, same transaction
        self.timelines = timelines
        self.now = now
        self.heads = RowHeads(now)
        self._staged = False
        # Sessions the planner's statistics describe, and sessions stored now (estimated).
        self._described: int | None = None
        self._rows = 0

    def write(self, batch: CopyBatch, account_ids: dict[str, int]) -> BatchCounts:
        accounts = [account_ids[slug] for slug, _ in batch.keys]
        keys = [(account, key[1]) for account, key in zip(accounts, batch.keys)]
        version = self.timelines.version
        versions = [version(account, flow, given, created)
                    for account, (flow, given, created) in zip(accounts, batch.flows)]
        with self.raw.cursor() as cur:
            existing, previous_starts = self._existing_ids(cur, keys)
            ids: list[int] = [existing.get(key, 0) for key in keys] if existing else [0] * len(keys)
            fresh = [n for n, key in enumerate(keys) if key not in existing] if existing else range(len(keys))
            if fresh:
                self._copy_new_sessions(cur, batch, fresh, accounts, versions, ids)
                self._keep_statistics_current(cur, len(fresh))
            stale = [n for n, key in enumerate(keys) if key in existing] if existing else []
            if stale:
                self._upsert_sessions(cur, batch, stale, accounts, versions)
                cur.execute("DELETE FROM steps WHERE session_id = ANY(%s)", (list(existing.values()),))
            steps = self.heads.steps
            with cur.copy(self.STEPS) as copy:
                copy.write(b"".join([SIGNATURE, *(steps(i, rows) for i, rows in zip(ids, batch.step_rows)), TRAILER]))
            resolved = [(i, a) for i, a, done in zip(ids, accounts, batch.resolved) if done]
            queued = self._queue_resolved(cur, resolved, set(existing.values()))
        return BatchCounts(len(fresh), len(stale), queued, batch.step_count,
                           touched_days(zip(accounts, batch.days), previous_starts))

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

    def _copy_new_sessions(self, cur, batch: CopyBatch, fresh, accounts: list[int], versions: list[int | None],
                           ids: list[int]) -> None:
        # The sequence looked up once, not once per id (five times the server's time).
        cur.execute(
            "SELECT nextval(s) FROM CAST(pg_get_serial_sequence('sessions', 'id') AS regclass) AS s, "
            "generate_series(1, %s)",
            (len(fresh),),
        )
        head, rows = self.heads.session, batch.session_rows
        parts = [SIGNATURE]
        for n, (session_id,) in zip(fresh, cur.fetchall()):
            ids[n] = session_id
            parts.append(head(session_id, accounts[n], versions[n]))
            parts.append(rows[n])
        parts.append(TRAILER)
        with cur.copy(self.SESSIONS) as copy:
            copy.write(b"".join(parts))

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

    def _upsert_sessions(self, cur, batch: CopyBatch, stale: list[int], accounts: list[int],
                         versions: list[int | None]) -> None:
        columns = stage_copy_columns()
        if not self._staged:
            # Same column types as sessions, none of its constraints; gone at commit.
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_sessions_stage ON COMMIT DROP AS "
                f"SELECT {', '.join(columns)} FROM sessions WITH NO DATA"
            )
            self._staged = True
        cur.execute("TRUNCATE import_sessions_stage")
        head, rows = self.heads.staged, batch.session_rows
        with cur.copy(self.STAGE) as copy:
            copy.write(b"".join([SIGNATURE, *(head(accounts[n], versions[n]) + rows[n] for n in stale), TRAILER]))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*UPDATED_ON_CONFLICT, "imported_at"))
        cur.execute(
            f"INSERT INTO sessions ({', '.join(columns)}) SELECT {', '.join(columns)} FROM import_sessions_stage "
            f"ON CONFLICT (account_id, external_id) DO UPDATE SET {updates}"
        )

    def _queue_resolved(self, cur, resolved: list[tuple[int, int]], replaced: set[int]) -> int:
        now = self.now
        new = [(s, a) for s, a in resolved if s not in replaced]
        if new:
            # New sessions cannot be queued yet: COPY needs no conflict handling.
            with cur.copy(self.QUEUE) as copy:
                copy.set_types(self.QUEUE_TYPES)
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
