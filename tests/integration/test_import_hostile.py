"""Records that once ended in a traceback or were stored wrong are refused by line and field, with
nothing written; the contract's optional fields are stored as given. On both databases."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import Account, Flow, FlowVersion, Session, Step
from core.sessions.importer import ImportRejected, import_flows, import_sessions, read_lines

DATA = Path(__file__).resolve().parents[1] / "data"


def first_record(name: str) -> dict:
    return json.loads((DATA / name).read_text().splitlines()[0])


def nested(depth: int):
    value = "deep"
    for _ in range(depth):
        value = [value]
    return value


def write_lines(path: Path, records: list[dict]) -> Path:
    # json.dumps, not orjson: it writes lone surrogates as escapes, as a careless exporter would.
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def stored_rows(engine) -> tuple[int, ...]:
    with unit_of_work(engine) as db:
        return tuple(db.scalar(select(func.count()).select_from(t)) for t in (Account, Session, Step, Flow, FlowVersion))


def set_path(record: dict, path: tuple, value) -> dict:
    record = copy.deepcopy(record)
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return record


SESSION_CASES = {
    "a seq one past the 32-bit range": (("steps", 0, "seq"), 2_147_483_648, "steps[0].seq", "maximum"),
    "a seq that wraps to 1 in 32 bits": (("steps", 0, "seq"), 4_294_967_297, "steps[0].seq", "maximum"),
    "a seq of 2**63": (("steps", 0, "seq"), 2**63, "steps[0].seq", "maximum"),
    "a NUL in the summary": (("problem_summary",), "printer\u0000offline", "problem_summary", "NUL"),
    "a NUL in a step's answer": (("steps", 0, "response"), "\u0000", "steps[0].response", "NUL"),
    "a NUL in an option": (("steps", 0, "options"), ["Yes", "N\u0000o"], "steps[0].options[1]", "NUL"),
    "a lone surrogate in the engineer": (("engineer",), "dana\ud800", "", "surrogate"),
    "a start that leaves year 1 in UTC": (("created_at",), "0001-01-01T00:00:00+14:00", "created_at", "years 1 to 9999"),
    "an end that leaves year 9999 in UTC": (("ended_at",), "9999-12-31T23:59:59-14:00", "ended_at", "years 1 to 9999"),
    "a step time out of range": (("steps", 1, "created_at"), "0001-01-01T00:30:00+01:00", "steps[1].created_at", "years"),
    "a value nested 300 deep": (("problem_domain",), nested(300), "problem_domain", "nested"),
    "a value nested 256 deep in a step": (("steps", 0, "options"), nested(256), "steps[0].options", "nested"),
}


@pytest.mark.parametrize("case", SESSION_CASES, ids=list(SESSION_CASES))
def test_a_hostile_session_is_refused_by_line_and_field_and_nothing_is_written(engine, tmp_path, case):
    path, value, field, words = SESSION_CASES[case]
    good = first_record("sample-sessions.jsonl")
    source = write_lines(tmp_path / "sessions.jsonl", [good, set_path(good, path, value)])
    before = stored_rows(engine)
    with pytest.raises(ImportRejected) as rejected:
        import_sessions(engine, read_lines(source), str(source))
    [error] = rejected.value.errors
    assert error.line == 2
    assert error.field.startswith(field)
    assert words in error.message
    assert str(error).startswith(f"{source}, line 2, ")
    assert stored_rows(engine) == before


FLOW_CASES = {
    "a version one past the 32-bit range": (("version",), 2**31, "version", "maximum"),
    "a NUL in the name": (("name",), "Printer\u0000", "name", "NUL"),
    "a NUL in a node's text": (("tree", "nodes", "r_ok", "text"), "ok\u0000", "tree.nodes.r_ok.text", "NUL"),
    "a node text nested 300 deep": (("tree", "nodes", "r_ok", "text"), nested(300), "tree.nodes.r_ok.text", "nested"),
    "a publish time out of range": (("published_at",), "9999-12-31T23:00:00-02:00", "published_at", "years 1 to 9999"),
    "an unknown key on a node": (("tree", "nodes", "r_ok", "colour"), "red", "tree.nodes.r_ok", "colour"),
}


@pytest.mark.parametrize("case", FLOW_CASES, ids=list(FLOW_CASES))
def test_a_hostile_flow_is_refused_by_line_and_field_and_nothing_is_written(engine, tmp_path, case):
    path, value, field, words = FLOW_CASES[case]
    good = first_record("sample-flows.jsonl")
    source = write_lines(tmp_path / "flows.jsonl", [good, set_path(good, path, value)])
    before = stored_rows(engine)
    with pytest.raises(ImportRejected) as rejected:
        import_flows(engine, read_lines(source), str(source))
    [error] = rejected.value.errors
    assert (error.line, error.field.startswith(field), words in error.message) == (2, True, True), error
    assert stored_rows(engine) == before


def test_a_changed_tree_without_a_version_for_a_flow_at_the_last_version_is_refused(engine, tmp_path):
    flow = first_record("sample-flows.jsonl") | {"version": 2_147_483_647}
    import_flows(engine, read_lines(write_lines(tmp_path / "a.jsonl", [flow])), "a.jsonl")
    changed = set_path(flow, ("tree", "nodes", "r_ok", "text"), "Site loads again")
    del changed["version"]
    with pytest.raises(ImportRejected) as rejected:
        import_flows(engine, read_lines(write_lines(tmp_path / "b.jsonl", [changed])), "b.jsonl")
    assert [(e.line, e.field) for e in rejected.value.errors] == [(1, "version")]
    with unit_of_work(engine) as db:
        assert db.scalars(select(FlowVersion.version)).all() == [2_147_483_647]


def test_the_last_day_there_is_imports_and_is_counted(engine, tmp_path):
    record = first_record("sample-sessions.jsonl") | {"created_at": "9999-12-31T23:59:59.999999Z", "ended_at": None}
    import_sessions(engine, read_lines(write_lines(tmp_path / "s.jsonl", [record])), "s.jsonl")
    with unit_of_work(engine) as db:
        assert db.scalar(select(Session.created_at)) == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


def test_an_integral_float_seq_is_stored_as_that_integer(engine, tmp_path):
    # JSON has one number type: the contract's schema takes 2.0 as the integer 2.
    record = first_record("sample-sessions.jsonl")
    record["steps"][1]["seq"] = 2.0
    import_sessions(engine, read_lines(write_lines(tmp_path / "s.jsonl", [record])), "s.jsonl")
    with unit_of_work(engine) as db:
        assert db.scalars(select(Step.seq).order_by(Step.seq)).all()[:2] == [1, 2]


def test_the_contracts_optional_fields_are_stored_as_given(engine):
    import_flows(engine, read_lines(DATA / "sample-flows.jsonl"), "flows")
    import_sessions(engine, read_lines(DATA / "sample-sessions.jsonl"), "sessions")
    given = {r["id"]: r for r in map(json.loads, (DATA / "sample-sessions.jsonl").read_text().splitlines())}
    flows = {r["id"]: r for r in map(json.loads, (DATA / "sample-flows.jsonl").read_text().splitlines())}
    with unit_of_work(engine) as db:
        stored = {s.external_id: s for s in db.scalars(select(Session))}
        published = dict(db.execute(select(Flow.external_id, FlowVersion.published_at).join(FlowVersion)).all())
    for session_id, record in given.items():
        assert stored[session_id].matched_flow_version == record.get("matched_flow_version")
        assert stored[session_id].psa_company == (record.get("psa_ticket") or {}).get("company")
    assert any(s.psa_company for s in stored.values()) and any(s.matched_flow_version for s in stored.values())
    for flow_id, record in flows.items():
        if record.get("published_at"):
            assert published[flow_id] == datetime.fromisoformat(record["published_at"])


def test_a_flow_without_a_publish_time_went_live_at_its_import(engine, tmp_path):
    flow = first_record("sample-flows.jsonl")
    flow.pop("published_at", None)
    before = datetime.now(timezone.utc)
    import_flows(engine, read_lines(write_lines(tmp_path / "f.jsonl", [flow])), "f.jsonl")
    with unit_of_work(engine) as db:
        assert db.scalar(select(FlowVersion.published_at)) >= before.replace(microsecond=0)


def test_reimporting_a_flow_with_a_new_publish_time_moves_it(engine, tmp_path):
    flow = first_record("sample-flows.jsonl") | {"version": 1, "published_at": "2026-10-01T08:00:00Z"}
    import_flows(engine, read_lines(write_lines(tmp_path / "a.jsonl", [flow])), "a.jsonl")
    moved = flow | {"published_at": "2026-10-02T08:00:00+02:00"}
    result = import_flows(engine, read_lines(write_lines(tmp_path / "b.jsonl", [moved])), "b.jsonl")
    assert result.updated == 1
    with unit_of_work(engine) as db:
        assert db.scalar(select(FlowVersion.published_at)) == datetime(2026, 10, 2, 6, tzinfo=timezone.utc)
