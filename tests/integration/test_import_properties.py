"""Whatever a file holds, the import either stores its records exactly as given or refuses it by
line and field with nothing written: never a traceback, never a value stored wrong.

Hypothesis mutates valid records (types, bounds, Unicode with NUL and lone surrogates, nesting,
huge numbers, extreme timestamps and offsets, missing and unknown keys) and imports each through
the real file reader, on SQLite and on PostgreSQL. ``IMPORT_EXAMPLES`` sets how many records each
test tries per database (default 1,200 sessions and 400 flows).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import Account, AnalysisQueueItem, Flow, FlowVersion, Session, Step, StepDayCount, StepDayStamp
from core.sessions.importer import ImportRejected, import_flows, import_sessions, read_lines

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = int(os.environ.get("IMPORT_EXAMPLES", "1200"))
SESSIONS = [json.loads(line) for line in (DATA / "sample-sessions.jsonl").read_text().splitlines() if line.strip()]
FLOWS = [json.loads(line) for line in (DATA / "sample-flows.jsonl").read_text().splitlines() if line.strip()]
TIME_FIELDS = {"created_at", "ended_at", "opened_at", "closed_at", "sla_due_at", "responded_at", "published_at"}
TABLES = (Account, Session, Step, AnalysisQueueItem, StepDayCount, StepDayStamp, Flow, FlowVersion)

# --- hostile values ----------------------------------------------------------------------------------

any_character = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
texts = st.one_of(
    st.text(any_character, max_size=12),
    st.text(st.sampled_from("\x00\ud800\udfff\u202e\ufeff'\"\\=+-@\t\r\n<>&ɑ😀"), max_size=6),
    st.sampled_from(["", " ", "a" * 65, "b" * 129, "c" * 4001, "guided", "resolved", "succeeded", "question"]),
)
huge_numbers = st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**32 + 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**70,
                                -(2**63) - 1, 10**30, 1e308, -0.0, 0.5, 2.0, 5e-324])
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _stamp(moment: datetime, style: int) -> str:
    text = moment.isoformat()
    if moment.utcoffset() == timedelta(0) and style == 1:
        text = text[: -len("+00:00")] + "Z"
    return text.lower() if style == 2 else text


timestamps = st.builds(
    _stamp,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=offsets),
    st.integers(0, 2),
) | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-02T09:00:60Z",
                     "2026-02-30T00:00:00Z", "2026-11-02 09:00:00", "2026-11-02T09:00:00", "yesterday"])


def _nest(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if depth % 2 else {"k": value}
    return value


# Plain text any field may hold: the mutations that should be stored as they are.
plain_texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=20)

values = st.one_of(
    texts, timestamps, huge_numbers, st.integers(), st.floats(), st.booleans(), st.none(),
    st.integers(1, 400).map(_nest),
    st.recursive(st.none() | st.booleans() | texts | st.integers(-5, 5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3), max_leaves=6),
)

# --- mutations ---------------------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw, bases: list[dict]) -> dict:
    """A valid record with one to three of its values replaced, removed, or joined by a stray key."""
    record = copy.deepcopy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(record)[1:]))
        parent = record
        for key in path[:-1]:
            parent = parent[key]
        if not isinstance(parent, (dict, list)):
            continue
        action = draw(st.sampled_from(["replace", "replace", "retext", "retime", "remove", "add"]))
        if action == "retext" and isinstance(parent[path[-1]], str):
            parent[path[-1]] = draw(plain_texts)
        elif action == "retime" and isinstance(parent[path[-1]], str) and path[-1] in TIME_FIELDS:
            parent[path[-1]] = draw(timestamps)
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(texts)] = draw(values)
    return record


def _write(path: Path, record: dict) -> Path:
    # json.dumps as a careless exporter would: lone surrogates escaped, NaN and Infinity written bare.
    path.write_text(json.dumps(record) + "\n", encoding="utf-8", errors="surrogatepass")
    return path


# --- what was stored ---------------------------------------------------------------------------------------


def _counts(engine) -> tuple[int, ...]:
    with unit_of_work(engine) as db:
        return tuple(db.scalar(select(func.count()).select_from(t)) for t in TABLES)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.upper()).astimezone(timezone.utc)


def _number(value) -> float | None:
    return None if value is None else float(value)


def _expected_session(record: dict) -> dict:
    resolution = record.get("resolution") or {}
    ticket = record.get("psa_ticket") or {}
    return {
        "engineer": record.get("engineer"), "created_at": _instant(record["created_at"]),
        "ended_at": _instant(record.get("ended_at")), "status": record["status"],
        "problem_domain": record.get("problem_domain"), "problem_summary": record.get("problem_summary"),
        "confidence_tier": record.get("confidence_tier"), "matched_flow": record.get("matched_flow"),
        "matched_flow_version": record.get("matched_flow_version"),
        "resolution_summary": resolution.get("summary"), "root_cause": resolution.get("root_cause"),
        "psa_ticket_id": ticket.get("id"), "psa_system": ticket.get("system"), "psa_company": ticket.get("company"),
        "psa_board": ticket.get("board"), "psa_priority": ticket.get("priority"),
        "psa_opened_at": _instant(ticket.get("opened_at")), "psa_closed_at": _instant(ticket.get("closed_at")),
        "psa_sla_due_at": _instant(ticket.get("sla_due_at")),
        "psa_time_spent_minutes": _number(ticket.get("time_spent_minutes")),
        "steps": sorted(
            (s["seq"], s["step_type"], s.get("node_id"), s.get("context_message"), s.get("options"),
             s.get("response"), s.get("was_free_text", False), s.get("outcome"), _instant(s["created_at"]),
             _instant(s.get("responded_at")))
            for s in record["steps"]),
    }


def _stored_session(engine, account: str, external_id: str) -> dict:
    with unit_of_work(engine) as db:
        session = db.scalars(select(Session).join(Account, Account.id == Session.account_id)
                             .where(Account.slug == account, Session.external_id == external_id)).one()
        stored = {name: getattr(session, name) for name in _expected_session(SESSIONS[0]) if name != "steps"}
        stored["steps"] = sorted(
            (s.seq, s.step_type, s.node_id, s.context_message, s.options, s.response, s.was_free_text, s.outcome,
             s.created_at, s.responded_at)
            for s in session.steps)
    return stored


def _assert_refused_cleanly(rejected: ImportRejected, source: Path, before: tuple, engine) -> None:
    assert rejected.errors, "a refusal names at least one problem"
    event("refused")
    for error in rejected.errors:
        assert error.line == 1 and error.message
        assert str(error).startswith(f"{source}, line 1, ")
    assert _counts(engine) == before, "a refused file writes nothing"


# --- the properties ------------------------------------------------------------------------------------------

# Every health check off: the database is meant to outlive the examples, and a large mutated
# record is the point, not a slow strategy to warn about.
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    print_blob=True)


@PROPERTY
@given(record=mutated(SESSIONS))
def test_a_mutated_session_is_stored_exactly_as_given_or_refused_by_line_and_field(engine, tmp_path, record):
    source = _write(tmp_path / "sessions.jsonl", record)
    before = _counts(engine)
    try:
        import_sessions(engine, read_lines(source), str(source))
    except ImportRejected as rejected:
        _assert_refused_cleanly(rejected, source, before, engine)
        return
    event("stored")
    # What the file says, which is what must be stored: JSON reads an escaped surrogate pair
    # ("\\ud800\\udc00", as json.dumps writes two lone surrogates side by side) as one character.
    given = json.loads(json.dumps(record))
    assert _stored_session(engine, given["account"], given["id"]) == _expected_session(given)


@settings(PROPERTY, max_examples=max(1, EXAMPLES // 3))
@given(record=mutated(FLOWS))
def test_a_mutated_flow_is_stored_exactly_as_given_or_refused_by_line_and_field(engine, tmp_path, record):
    source = _write(tmp_path / "flows.jsonl", record)
    before = _counts(engine)
    try:
        import_flows(engine, read_lines(source), str(source))
    except ImportRejected as rejected:
        _assert_refused_cleanly(rejected, source, before, engine)
        return
    event("stored")
    record = json.loads(json.dumps(record))  # what the file says (see the session property above)
    with unit_of_work(engine) as db:
        flow = db.scalars(select(Flow).join(Account, Account.id == Flow.account_id)
                          .where(Account.slug == record["account"], Flow.external_id == record["id"])).one()
        version = record.get("version") or flow.current_version
        stored = next(v for v in flow.versions if v.version == version)
        assert (flow.name, flow.domain, stored.tree) == (record["name"], record.get("domain"), record["tree"])
        if record.get("published_at"):
            assert stored.published_at == _instant(record["published_at"])


@pytest.mark.parametrize("record", [SESSIONS[0]])
def test_the_property_tests_start_from_records_that_import(engine, tmp_path, record):
    # Without this the properties could pass by refusing everything.
    import_sessions(engine, read_lines(_write(tmp_path / "s.jsonl", record)), "s.jsonl")
    assert _stored_session(engine, record["account"], record["id"]) == _expected_session(record)
