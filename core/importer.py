"""Streaming import of the interchange formats (JSON Lines), one transaction per file.

Records are read, validated and written in batches, so memory stays flat however long the
file is. The first invalid record stops all writing; the rest of the file is still checked
(up to ``max_errors`` problems are reported) and then the whole file is rolled back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from core.formats import FieldError, flow_errors, session_errors
from core.session_store import SessionRecord, BatchCounts, ensure_accounts, writer_for
from core.flows import upsert_imported_flow
from core.db import session_factory
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


def _parse(raw: bytes | str | dict[str, Any]) -> tuple[Any, FieldError | None]:
    if isinstance(raw, dict):
        return raw, None
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        return None, FieldError("", f"not valid JSON: {exc}")


def _is_blank(raw: bytes | str | dict[str, Any]) -> bool:
    return not isinstance(raw, dict) and not raw.strip()


def parse_ts(value: str | None, field_name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError as exc:  # RFC 3339 allows what Python cannot hold, e.g. a leap second
        raise _RecordInvalid(FieldError(field_name, f"timestamp {value!r} cannot be stored: {exc}")) from None


class _RecordInvalid(Exception):
    def __init__(self, error: FieldError):
        self.error = error


def session_record(record: dict[str, Any], account_id: int) -> SessionRecord:
    """Column values for one validated session record."""
    resolution = record.get("resolution") or {}
    ticket = record.get("psa_ticket") or {}
    steps = record["steps"]
    values = (
        account_id, record["id"], record.get("engineer"),
        parse_ts(record["created_at"], "created_at"), parse_ts(record.get("ended_at"), "ended_at"),
        record["status"], record.get("problem_domain"), record.get("problem_summary"),
        record.get("confidence_tier"), record.get("matched_flow"),
        resolution.get("summary"), resolution.get("root_cause"),
        ticket.get("id"), ticket.get("system"), ticket.get("board"), ticket.get("priority"),
        parse_ts(ticket.get("opened_at"), "psa_ticket.opened_at"),
        parse_ts(ticket.get("closed_at"), "psa_ticket.closed_at"),
        parse_ts(ticket.get("sla_due_at"), "psa_ticket.sla_due_at"),
        ticket.get("time_spent_minutes"), len(steps),
    )
    step_rows = [
        (
            s["seq"], s["step_type"], s.get("node_id"), s.get("context_message"), s.get("options"),
            s.get("response"), bool(s.get("was_free_text", False)), s.get("outcome"),
            parse_ts(s["created_at"], f"steps[{i}].created_at"),
            parse_ts(s.get("responded_at"), f"steps[{i}].responded_at"),
        )
        for i, s in enumerate(steps)
    ]
    return SessionRecord(values, step_rows)


class _Checker:
    """Collects line errors; after the first one, nothing more is written."""

    def __init__(self, source: str, max_errors: int):
        self.source = source
        self.max_errors = max_errors
        self.errors: list[LineError] = []
        self.truncated = False

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
    accounts: dict[str, int] = {}
    now = utcnow()
    counts = BatchCounts()
    lines_seen = 0
    with engine.begin() as connection:
        writer = writer_for(connection)
        # Later records win over earlier ones with the same id, as a re-import would.
        batch: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

        def flush() -> None:
            if not batch or checker.failed:
                batch.clear()
                return
            ensure_accounts(connection, {k[0] for k in batch}, accounts, now)
            records = []
            for line, record in batch.values():
                try:
                    records.append(session_record(record, accounts[record["account"]]))
                except _RecordInvalid as exc:
                    checker.add(line, exc.error)
            batch.clear()
            if not checker.failed:
                counts.add(writer.write(records, now))

        for lines_seen, raw in lines:
            if _is_blank(raw):
                continue
            record, error = _parse(raw)
            if error is None:
                problems = session_errors(record)
                error = problems[0] if problems else None
            if error is not None:
                checker.add(lines_seen, error)
                if checker.full:
                    break
                continue
            result.records += 1
            result.accounts.add(record["account"])
            if checker.failed:
                continue
            batch[(record["account"], record["id"])] = (lines_seen, record)
            if len(batch) >= batch_size:
                flush()
                if progress:
                    progress(Progress(source, lines_seen, result.records, time.perf_counter() - started))
        flush()
        if checker.failed:
            raise ImportRejected(source, checker.errors, lines_seen, checker.truncated)
    result.inserted, result.updated, result.queued, result.steps = (
        counts.inserted, counts.updated, counts.queued, counts.steps)
    result.seconds = time.perf_counter() - started
    if progress:
        progress(Progress(source, lines_seen, result.records, result.seconds))
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
    with session_factory(engine).begin() as db:
        for lines_seen, raw in lines:
            if _is_blank(raw):
                continue
            record, error = _parse(raw)
            if error is None:
                problems = flow_errors(record)
                error = problems[0] if problems else None
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
            outcome = upsert_imported_flow(
                db, accounts[record["account"]], record["id"], record["name"], record.get("domain"),
                record["tree"], record.get("version"), now,
            )
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
    result.seconds = time.perf_counter() - started
    return result
