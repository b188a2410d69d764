"""Sessions and steps formatted for PostgreSQL's binary COPY, away from the database connection.

The import formats each batch where it reads it (``core.sessions.reading_process``: a separate
process), so the process that holds the connection only adds what needs the database: each
session's id, its account's id and its flow version, which are the first columns of every row.
Everything else arrives as the bytes COPY sends: no per-value work left for the writer.

The bytes are made by psycopg's own binary row formatter, through its ``Transformer`` (the
same code ``Copy.write_row`` runs), so the format is psycopg's and the column types are the
ones the writer's COPY statements name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime

import orjson
from psycopg import postgres
from psycopg._copy_base import format_row_binary  # what Copy.write_row calls; psycopg < 4 (requirements)
from psycopg.adapt import AdaptersMap, Transformer
from psycopg.pq import Format
from psycopg.types.json import set_json_dumps

from core.sessions.day_counts import day_of
from core.sessions.store import SESSION_COLUMNS, STEP_COLUMNS, SessionRecord, pg_type_names

# The columns the writer fills in: the session's id, its account's id, its flow version and when
# it was imported. The rest of a session's row (``SESSION_TAIL``) is formatted with the batch.
SESSION_HEAD = ("id", "account_id", "flow_version", "imported_at")
SESSION_TAIL = tuple(c for c in SESSION_COLUMNS if c not in SESSION_HEAD)
STEP_HEAD = ("session_id",)
# A record's values are in SESSION_COLUMNS order without flow_version (the import adds it).
_TAIL_FROM = SESSION_COLUMNS.index(SESSION_TAIL[0])
if SESSION_COLUMNS[:_TAIL_FROM] != ("account_id",) or SESSION_COLUMNS[-1] != "flow_version":
    raise RuntimeError("copy_rows expects SESSION_COLUMNS to start with account_id and end with flow_version")

_FLOW, _GIVEN, _CREATED = (SESSION_COLUMNS.index(c) for c in ("matched_flow", "matched_flow_version", "created_at"))

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" * 2  # header, flags, no extension
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"


@dataclass
class CopyBatch:
    """One batch of valid sessions, ready for COPY but for the columns the writer fills in."""

    keys: list[tuple[str, str]]  # (account slug, session id) of each session
    # (matched flow, the version the record names, start) of each: the flow version's inputs
    flows: list[tuple[str | None, int | None, datetime]]
    resolved: list[bool]
    days: list[date]  # each session's UTC start day (its step counts are recounted)
    session_rows: list[bytes]  # each session's SESSION_TAIL columns, as COPY sends them
    step_rows: list[list[bytes]]  # each session's steps' STEP_COLUMNS, as COPY sends them
    step_count: int
    lines: int  # lines read so far
    valid: int  # valid records read so far

    @property
    def accounts(self) -> set[str]:
        return {key[0] for key in self.keys}


class _Context:
    """What psycopg's Transformer needs from a connection: only the adapters."""

    connection = None

    def __init__(self, adapters: AdaptersMap):
        self.adapters = adapters


def _transformer(columns: tuple[str, ...], table: str) -> Transformer:
    adapters = AdaptersMap(postgres.adapters)
    set_json_dumps(orjson.dumps, context=adapters)  # steps' options: plain lists, dumped by orjson
    transformer = Transformer(_Context(adapters))
    transformer.set_dumper_types([postgres.types[name].oid for name in pg_type_names(table, columns)], Format.BINARY)
    return transformer


class BatchFormatter:
    """Formats batches of records (one formatter per reading process or thread)."""

    def __init__(self) -> None:
        self._sessions = _transformer(SESSION_TAIL, "sessions")
        self._steps = _transformer(STEP_COLUMNS, "steps")

    def format(self, records: list[SessionRecord], lines: int, valid: int) -> CopyBatch:
        sessions, steps = self._sessions, self._steps
        session_rows: list[bytes] = []
        step_rows: list[list[bytes]] = []
        step_count = 0
        for record in records:
            row = bytearray()
            format_row_binary(record.values[_TAIL_FROM:], sessions, row)
            session_rows.append(bytes(row[2:]))  # the writer writes the field count with the head
            formatted = []
            for step in record.steps:
                row = bytearray()
                format_row_binary(step, steps, row)
                formatted.append(bytes(row[2:]))
            step_rows.append(formatted)
            step_count += len(formatted)
        flow, given, created = _FLOW, _GIVEN, _CREATED
        return CopyBatch(
            keys=[r.key for r in records],
            flows=[(v[flow], v[given], v[created]) for v in (r.values for r in records)],
            resolved=[r.status == "resolved" for r in records],
            days=[day_of(r.values[created]) for r in records],
            session_rows=session_rows, step_rows=step_rows, step_count=step_count, lines=lines, valid=valid,
        )


# --- the writer's side: the head of each row ---------------------------------------------------

_INT_FIELDS = {"int2": ">ih", "int4": ">ii", "int8": ">iq"}
_INT_SIZES = {"int2": 2, "int4": 4, "int8": 8}


class RowHeads:
    """Packs the head columns of session and step rows (ids, account, flow version, import time)."""

    def __init__(self, imported_at: datetime):
        session_types = dict(zip(SESSION_HEAD, pg_type_names("sessions", SESSION_HEAD)))
        self._id = _int_packer(session_types["id"])
        self._account = _int_packer(session_types["account_id"])
        self._version = _int_packer(session_types["flow_version"])
        stamp = bytearray()
        format_row_binary((imported_at,), _transformer(("imported_at",), "sessions"), stamp)
        self._imported_at = bytes(stamp[2:])
        self._session_count = struct.pack(">h", len(SESSION_HEAD) + len(SESSION_TAIL))
        self._stage_count = struct.pack(">h", len(SESSION_HEAD) - 1 + len(SESSION_TAIL))
        self._step_count = struct.pack(">h", len(STEP_HEAD) + len(STEP_COLUMNS))
        self._session_id = _int_packer(pg_type_names("steps", STEP_HEAD)[0])

    def session(self, session_id: int, account_id: int, version: int | None) -> bytes:
        """The head of a session's row: field count, id, account, flow version, import time."""
        return self._session_count + self._id(session_id) + self._after_id(account_id, version)

    def staged(self, account_id: int, version: int | None) -> bytes:
        """The head of a row for the staging table of updated sessions (no id)."""
        return self._stage_count + self._after_id(account_id, version)

    def _after_id(self, account_id: int, version: int | None) -> bytes:
        return (self._account(account_id) + (NULL if version is None else self._version(version))
                + self._imported_at)

    def steps(self, session_id: int, rows: list[bytes]) -> bytes:
        """A session's step rows, each headed by the field count and the session's id."""
        if not rows:
            return b""
        prefix = self._step_count + self._session_id(session_id)
        return prefix + prefix.join(rows)


def _int_packer(type_name: str):
    packer = struct.Struct(_INT_FIELDS[type_name])
    size = _INT_SIZES[type_name]
    return lambda value: packer.pack(size, value)


def session_copy_columns() -> tuple[str, ...]:
    return (*SESSION_HEAD, *SESSION_TAIL)


def stage_copy_columns() -> tuple[str, ...]:
    return (*SESSION_HEAD[1:], *SESSION_TAIL)

