"""Streaming import of the interchange formats (JSON Lines), one transaction per file.

Records are read, validated and written in batches, so memory stays flat however long the
file is. The first invalid record stops all writing; the rest of the file is still checked
(up to ``max_errors`` problems are reported) and then the whole file is rolled back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Integer, func, literal, select

from core.db import session_factory
from core.flows import walk as flow_walk
from core.flows.versions import NoVersionLeft, upsert_imported_flow
from core.models import TRIED_STEP_TYPES
from core.sessions import day_counts, reading_process
from core.sessions import versions as session_versions
from core.sessions.collector import fewer_collections
from core.sessions.copy_rows import BatchFormatter, CopyBatch
from core.sessions.copy_writer import PostgresCopyWriter
from core.sessions.formats import FieldError, flow_errors, session_errors
from core.sessions.prefetch import prefetch
from core.sessions.store import (
    ANALYZE_AFTER_SESSIONS, BatchCounts, GenericWriter, SessionRecord, ensure_accounts, refresh_statistics,
)
from core.storable import needs_walk
from core.types import utcnow


@dataclass(frozen=True)
class LineError:
    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"field {self.field}" if self.field else "record"
        return f"{self.source}, line {self.line}, {where}: {self.message}"


class ImportRejected(Exception):
    """The file has invalid records; nothing from it was written."""

    def __init__(self, source: str, errors: list[LineError], lines_checked: int, truncated: bool):
        self.source = source
        self.errors = errors
        self.lines_checked = lines_checked
        self.truncated = truncated
        more = " (and more; stopped counting)" if truncated else ""
        super().__init__(
            f"{source}: {len(errors)} invalid record(s){more}; nothing from this file was written.\n"
            + "\n".join(f"  {e}" for e in errors)
        )


@dataclass
class ImportResult:
    source: str
    kind: str
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    queued: int = 0
    steps: int = 0
    accounts: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        parts = [f"{self.records:,} {self.kind} read", f"{self.inserted:,} new", f"{self.updated:,} updated"]
        if self.kind == "flows":
            parts.append(f"{self.unchanged:,} unchanged")
        else:
            parts += [f"{self.steps:,} steps", f"{self.queued:,} queued for analysis"]
        return (f"{self.source}: " + ", ".join(parts)
                + f" across {len(self.accounts)} account(s) in {self.seconds:.1f}s ({self.rate:,.0f}/s)")


@dataclass(frozen=True)
class Progress:
    source: str
    lines: int
    records: int
    seconds: float


ProgressCallback = Callable[[Progress], None]
Line = tuple[int, "bytes | str | dict[str, Any]"]


def read_lines(path: Path) -> Iterator[Line]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, raw


def _parse(raw: bytes | str | dict[str, Any]) -> tuple[Any, FieldError | None, bool]:
    """(record, error, whether the record needs the walk for unstorable values)."""
    if isinstance(raw, dict):
        return raw, None, True
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, FieldError("", f"not valid JSON: {exc}"), False
    return record, None, needs_walk(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)


def _is_blank(raw: bytes | str | dict[str, Any]) -> bool:
    return not isinstance(raw, dict) and not raw.strip()


def _ts(value: str | None) -> datetime | None:
    """The instant in UTC. Raises ValueError for what Python cannot hold: a leap second, or a time
    that leaves years 1 to 9999 once its offset is applied (``0001-01-01T00:00:00+14:00``)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = datetime.fromisoformat(value.upper())  # RFC 3339 allows a lowercase t and z
    if parsed.tzinfo is timezone.utc:  # "Z" and "+00:00", most timestamps: nothing to convert
        return parsed
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("in UTC it falls outside the years 1 to 9999") from None


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _int(value: float | int | None) -> int | None:
    """JSON has one number type: the schema takes 3.0 as the integer 3, and so does the database."""
    return value if value is None or type(value) is int else int(value)


# Two imports of overlapping new sessions into PostgreSQL would both COPY the same keys: the later
# one would wait on the unique index and then fail, rolling back its whole file. So imports of one
# kind take turns, each holding this lock until it commits; the second then sees the first's rows
# and updates them in place. One lock for all accounts, not one per account: a file may hold
# several accounts, met in any order, and two imports taking per-account locks in different
# orders could deadlock. (SQLite lets one writer in at a time anyway.)
IMPORT_LOCK = 0x496D706F  # "Impo"
_LOCK_KINDS = {"sessions": 1, "flows": 2}


def _take_import_lock(connection: Connection, kind: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(literal(IMPORT_LOCK, Integer),
                                                             literal(_LOCK_KINDS[kind], Integer))))


class _RecordInvalid(Exception):
    def __init__(self, error: FieldError):
        self.error = error


def _timestamp_fields(record: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "created_at", record.get("created_at")
    yield "ended_at", record.get("ended_at")
    for name in ("opened_at", "closed_at", "sla_due_at"):
        yield f"psa_ticket.{name}", (record.get("psa_ticket") or {}).get(name)
    for index, step in enumerate(record.get("steps") or []):
        yield f"steps[{index}].created_at", step.get("created_at")
        yield f"steps[{index}].responded_at", step.get("responded_at")


def _unstorable_timestamp(record: dict[str, Any]) -> FieldError:
    """The first timestamp that passed the schema but that Python cannot hold (see ``_ts``)."""
    for field_name, value in _timestamp_fields(record):
        try:
            _ts(value)
        except ValueError as exc:
            return FieldError(field_name, f"timestamp {value!r} cannot be stored: {exc}")
    return FieldError("", "a timestamp cannot be stored")


def session_record(record: dict[str, Any]) -> SessionRecord:
    """Column values for one validated session record; the account is still its slug."""
    # The hot path of every import: plain lookups, no per-field bookkeeping unless one fails.
    get = record.get
    resolution = get("resolution") or {}
    ticket = get("psa_ticket") or {}
    steps = record["steps"]
    walked = flow_walk.walk([(_int(s["seq"]), s["step_type"], node) for s in steps
                             if (node := s.get("node_id")) is not None])
    try:
        values = (
            record["account"], record["id"], get("engineer"), _ts(record["created_at"]), _ts(get("ended_at")),
            record["status"], get("problem_domain"), get("problem_summary"), get("confidence_tier"),
            get("matched_flow"), _int(get("matched_flow_version")), resolution.get("summary"),
            resolution.get("root_cause"), ticket.get("id"), ticket.get("system"), ticket.get("company"),
            ticket.get("board"), ticket.get("priority"),
            _ts(ticket.get("opened_at")), _ts(ticket.get("closed_at")), _ts(ticket.get("sla_due_at")),
            _float(ticket.get("time_spent_minutes")), len(steps),
            sum(1 for s in steps if s.get("outcome") == "failed" and s["step_type"] in TRIED_STEP_TYPES),
            walked.stopped_at_node,
        )
        repeated = walked.repeated_seqs
        step_rows = [
            (
                seq, s["step_type"], s.get("node_id"), s.get("context_message"), s.get("options"),
                s.get("response"), s.get("was_free_text", False), s.get("outcome"),
                _ts(s["created_at"]), _ts(s.get("responded_at")), seq in repeated,
            )
            for s in steps
            for seq in (_int(s["seq"]),)
        ]
    except ValueError:
        raise _RecordInvalid(_unstorable_timestamp(record)) from None
    return SessionRecord(values, step_rows)


class _Checker:
    """Collects line errors; after the first one, nothing more is written."""

    def __init__(self, source: str, max_errors: int):
        self.source = source
        self.max_errors = max_errors
        self.errors: list[LineError] = []
        self.truncated = False
        self.lines_read = 0
        self.valid = 0

    def add(self, line: int, error: FieldError) -> None:
        if len(self.errors) < self.max_errors:
            self.errors.append(LineError(self.source, line, error.field, error.message))
        else:
            self.truncated = True

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def full(self) -> bool:
        return self.truncated


@dataclass
class _Batch:
    records: list[SessionRecord]  # the account still a slug
    lines: int  # lines read so far
    valid: int  # valid records read so far
    last: bool  # nothing follows it

    @property
    def accounts(self) -> set[str]:
        return {r.key[0] for r in self.records}


def _session_batches(
    lines: Iterable[Line], checker: _Checker, batch_size: int, accounts: set[str]
) -> Iterator[_Batch]:
    """Validated batches; none at all once a record has failed."""
    # Later records win over earlier ones with the same id, as a re-import would.
    batch: dict[tuple[str, str], SessionRecord] = {}
    line_no = valid = 0
    for line_no, raw in lines:
        if _is_blank(raw):
            continue
        record, error, walk = _parse(raw)
        if error is None:
            problems = session_errors(record, walk=walk)
            error = problems[0] if problems else None
        if error is None:
            try:
                row = session_record(record)
            except _RecordInvalid as exc:
                error = exc.error
        if error is not None:
            checker.add(line_no, error)
            if checker.full:
                break
            continue
        valid += 1
        accounts.add(record["account"])
        if checker.failed:
            continue
        batch[row.key] = row
        if len(batch) >= batch_size:
            yield _Batch(list(batch.values()), line_no, valid, last=False)
            batch = {}
    checker.lines_read, checker.valid = line_no, valid
    if batch and not checker.failed:
        yield _Batch(list(batch.values()), line_no, valid, last=True)


def _formatted_batches(batches: Iterator[_Batch], checker: _Checker, accounts: set[str]) -> Iterator[CopyBatch]:
    """The batches formatted for PostgreSQL's COPY. After the first, read, checked and formatted in a
    child process (``core.sessions.reading_process``) while the caller writes, when there is more."""
    formatter = BatchFormatter()

    def formatted(batch: _Batch) -> CopyBatch:
        return formatter.format(batch.records, batch.lines, batch.valid)

    first = next(batches, None)
    if first is None:
        return
    rest = map(formatted, batches)
    if first.last or not reading_process.available():  # a small file needs no second process
        yield formatted(first)
        yield from prefetch(rest)
        return
    # The child carries on with the same checker and accounts; their final state comes back.
    reader = reading_process.ChildReader(
        rest, lambda: (checker.errors, checker.truncated, checker.lines_read, checker.valid, accounts))
    try:
        yield formatted(first)
        yield from reader
    finally:
        reader.close()
    if reader.finished is not None:
        checker.errors, checker.truncated, checker.lines_read, checker.valid, read_accounts = reader.finished
        accounts.update(read_accounts)


def import_sessions(
    engine: Engine,
    lines: Iterable[Line],
    source: str,
    *,
    batch_size: int = 5000,
    max_errors: int = 20,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import session records in one transaction; raise ImportRejected if any is invalid."""
    result = ImportResult(source=source, kind="sessions")
    checker = _Checker(source, max_errors)
    started = time.perf_counter()
    account_ids: dict[str, int] = {}
    now = utcnow()
    counts = BatchCounts()
    with engine.begin() as connection, fewer_collections():
        _take_import_lock(connection, "sessions")
        timelines = session_versions.Timelines(connection)
        batches = _session_batches(lines, checker, batch_size, result.accounts)
        if connection.dialect.name == "postgresql":
            writer = PostgresCopyWriter(connection, timelines, now)
            for copy_batch in _formatted_batches(batches, checker, result.accounts):
                ensure_accounts(connection, copy_batch.accounts, account_ids, now)
                counts.add(writer.write(copy_batch, account_ids))
                if progress:
                    progress(Progress(source, copy_batch.lines, copy_batch.valid, time.perf_counter() - started))
        else:
            generic = GenericWriter(connection)
            for batch in prefetch(batches):
                ensure_accounts(connection, batch.accounts, account_ids, now)
                # Each session's account id and flow version (core.sessions.versions).
                counts.add(generic.write(timelines.complete(batch.records, account_ids), now))
                if progress:
                    progress(Progress(source, batch.lines, batch.valid, time.perf_counter() - started))
        if checker.failed:
            raise ImportRejected(source, checker.errors, checker.lines_read, checker.truncated)
        # In the same transaction: the counts commit with the rows they count. (Counted after the
        # commit instead, the first read of the new rows set their hint bits: 40% slower.)
        day_counts.refresh(connection, counts.days)
    result.records = checker.valid
    result.inserted, result.updated, result.queued, result.steps = (
        counts.inserted, counts.updated, counts.queued, counts.steps)
    if counts.inserted + counts.updated >= ANALYZE_AFTER_SESSIONS:
        refresh_statistics(engine)
    result.seconds = time.perf_counter() - started
    if progress:
        progress(Progress(source, checker.lines_read, result.records, result.seconds))
    return result


def import_flows(
    engine: Engine,
    lines: Iterable[Line],
    source: str,
    *,
    max_errors: int = 20,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import flow records in one transaction; raise ImportRejected if any is invalid."""
    result = ImportResult(source=source, kind="flows")
    checker = _Checker(source, max_errors)
    started = time.perf_counter()
    now = utcnow()
    accounts: dict[str, int] = {}
    lines_seen = 0
    redated: set[tuple[int, str]] = set()  # flows whose versions this import created or changed
    with session_factory(engine).begin() as db:
        _take_import_lock(db.connection(), "flows")
        for lines_seen, raw in lines:
            if _is_blank(raw):
                continue
            record, error, _ = _parse(raw)
            if error is None:
                problems = flow_errors(record)
                error = problems[0] if problems else None
            if error is None:
                try:
                    published_at = _ts(record.get("published_at"))
                except ValueError as exc:
                    error = FieldError("published_at", f"timestamp {record['published_at']!r} cannot be stored: {exc}")
            if error is not None:
                checker.add(lines_seen, error)
                if checker.full:
                    break
                continue
            result.records += 1
            result.accounts.add(record["account"])
            if checker.failed:
                continue
            ensure_accounts(db.connection(), {record["account"]}, accounts, now)
            try:
                outcome = upsert_imported_flow(
                    db, accounts[record["account"]], record["id"], record["name"], record.get("domain"),
                    record["tree"], _int(record.get("version")), now, published_at,
                )
            except NoVersionLeft as exc:
                checker.add(lines_seen, FieldError("version", str(exc)))
                continue
            if outcome.changed:
                redated.add((accounts[record["account"]], record["id"]))
            if outcome.created_flow:
                result.inserted += 1
            elif outcome.changed:
                result.updated += 1
            else:
                result.unchanged += 1
            db.flush()
            if progress and result.records % 500 == 0:
                progress(Progress(source, lines_seen, result.records, time.perf_counter() - started))
        if checker.failed:
            raise ImportRejected(source, checker.errors, lines_seen, checker.truncated)
        db.flush()
        for account_id, external_id in sorted(redated):
            session_versions.resolve_flow(db.connection(), account_id, external_id)
    result.seconds = time.perf_counter() - started
    return result
