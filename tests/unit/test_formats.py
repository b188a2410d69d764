"""Record checks name the field that breaks the contract."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from core.flows.trees import SCHEMA_DIR
from core.sessions.formats import flow_errors, session_errors

SHARED_FORMATS = Path(__file__).resolve().parents[3] / "shared" / "formats"
SAMPLES = Path(__file__).resolve().parents[1] / "data"


def sample(name: str) -> list[dict]:
    return [json.loads(line) for line in (SAMPLES / name).read_text().splitlines() if line.strip()]


@pytest.fixture
def session() -> dict:
    return copy.deepcopy(sample("sample-sessions.jsonl")[0])


@pytest.fixture
def flow() -> dict:
    return copy.deepcopy(sample("sample-flows.jsonl")[0])


def fields(errors) -> list[str]:
    return [e.field for e in errors]


@pytest.mark.parametrize("name", ["session.schema.json", "flow.schema.json", "tree.schema.json"])
def test_the_bundled_schemas_are_the_shared_contract(name):
    if not SHARED_FORMATS.is_dir():
        reason = f"no shared formats folder beside the repository ({SHARED_FORMATS})"
        if os.environ.get("REQUIRE_SHARED_FORMATS", "") not in ("", "0", "false", "False"):
            pytest.fail(f"REQUIRE_SHARED_FORMATS=1 but {reason}")
        pytest.skip(reason)
    assert json.loads((SCHEMA_DIR / name).read_text()) == json.loads((SHARED_FORMATS / name).read_text())


def test_every_sample_record_is_valid():
    assert all(session_errors(r) == [] for r in sample("sample-sessions.jsonl"))
    assert all(flow_errors(r) == [] for r in sample("sample-flows.jsonl"))


def test_a_missing_required_field_is_named(session):
    del session["status"]
    assert fields(session_errors(session)) == ["status"]


def test_a_bad_step_outcome_is_named_with_its_index(session):
    session["steps"][1]["outcome"] = "done"
    errors = session_errors(session)
    assert fields(errors) == ["steps[1].outcome"]
    assert "done" in errors[0].message


def test_an_unknown_field_is_named(session):
    session["priority"] = "high"
    assert fields(session_errors(session)) == ["priority"]


def test_a_timestamp_without_offset_is_rejected(session):
    session["created_at"] = "2026-11-02 09:00"
    assert fields(session_errors(session)) == ["created_at"]


def test_an_impossible_date_is_rejected(session):
    session["psa_ticket"]["closed_at"] = "2026-02-30T10:00:00Z"
    assert fields(session_errors(session)) == ["psa_ticket.closed_at"]


def test_a_bad_account_slug_is_rejected(session):
    session["account"] = "Example MSP"
    assert fields(session_errors(session)) == ["account"]


def test_a_repeated_step_seq_is_rejected(session):
    session["steps"][2]["seq"] = session["steps"][0]["seq"]
    errors = session_errors(session)
    assert fields(errors) == ["steps[2].seq"]
    assert "appears twice" in errors[0].message


def test_a_flow_with_a_broken_tree_names_the_tree_field(flow):
    flow["tree"]["nodes"]["a_gw"]["next"] = "gone"
    assert fields(flow_errors(flow)) == ["tree.nodes.a_gw.next"]


def test_a_flow_with_a_cycle_is_rejected(flow):
    flow["tree"]["nodes"]["a_gw"]["next"] = "q_scope"
    errors = flow_errors(flow)
    assert any("cycle" in e.message for e in errors)


def test_a_long_value_does_not_flood_the_message(session):
    session["steps"][0]["response"] = "x" * 5000
    (error,) = session_errors(session)
    assert error.field == "steps[0].response"
    assert len(error.message) <= 240


def test_every_session_status_reads_as_words():
    from core.models import SESSION_STATUSES, status_words

    assert status_words("requesting_escalation") == "requesting escalation"
    assert all("_" not in status_words(s) for s in SESSION_STATUSES)
    assert status_words(None) == "–" and status_words("on_hold") == "on hold"
