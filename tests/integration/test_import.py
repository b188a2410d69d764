"""Importing sessions and flows: all or nothing per file, idempotent, on both databases."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.db import unit_of_work
from core.models import Account, AnalysisQueueItem, Flow, FlowVersion, Session, Step
from core.sessions.importer import ImportRejected, import_flows, import_sessions, read_lines

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def make_session(n: int, *, account: str = "acme", status: str = "resolved", steps: int = 3) -> dict:
    start = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc) + timedelta(hours=n)
    return {
        "id": f"s-{n}", "account": account, "engineer": "dana@example.test",
        "created_at": start.isoformat(), "ended_at": (start + timedelta(minutes=20)).isoformat(),
        "status": status, "problem_domain": "printing", "problem_summary": f"Printer {n} offline",
        "confidence_tier": "guided", "matched_flow": "fl-print", "resolution": None,
        "psa_ticket": {"id": f"T-{n}", "board": "Service Desk", "time_spent_minutes": 12.5},
        "steps": [
            {"seq": i + 1, "step_type": "action", "context_message": f"step {i + 1}",
             "outcome": "succeeded", "created_at": (start + timedelta(minutes=i)).isoformat()}
            for i in range(steps)
        ],
    }


def numbered(records: list) -> list[tuple[int, object]]:
    return list(enumerate(records, start=1))


def counts(engine) -> tuple[int, int, int]:
    with unit_of_work(engine) as db:
        return (
            db.scalar(select(func.count()).select_from(Session)),
            db.scalar(select(func.count()).select_from(Step)),
            db.scalar(select(func.count()).select_from(AnalysisQueueItem)),
        )


def test_the_sample_files_import(engine):
    flows = import_flows(engine, read_lines(DATA / "sample-flows.jsonl"), "flows")
    sessions = import_sessions(engine, read_lines(DATA / "sample-sessions.jsonl"), "sessions")
    assert (flows.inserted, sessions.inserted, sessions.steps, sessions.queued) == (1, 4, 11, 2)
    assert counts(engine) == (4, 11, 2)
    with unit_of_work(engine) as db:
        s1001 = db.scalars(select(Session).where(Session.external_id == "s-1001")).one()
        assert s1001.psa_ticket_id == "HALO-5001"
        assert s1001.psa_time_spent_minutes == 25
        assert s1001.resolution_summary == "Flushed DNS cache"
        assert [s.node_id for s in s1001.steps] == ["q_scope", "s_flush", "q_ok", "r_ok"]
        assert s1001.steps[0].options == ["Everyone", "Only this user"]


def test_reimporting_the_same_file_changes_nothing(engine):
    records = [make_session(n) for n in range(1, 8)]
    first = import_sessions(engine, numbered(records), "first", batch_size=3)
    second = import_sessions(engine, numbered(records), "second", batch_size=3)
    assert (first.inserted, first.updated, first.queued) == (7, 0, 7)
    assert (second.inserted, second.updated, second.queued) == (0, 7, 0)
    assert counts(engine) == (7, 21, 7)


def test_a_reimported_session_is_updated_in_place_and_its_steps_replaced(engine):
    import_sessions(engine, numbered([make_session(1, status="active", steps=4)]), "before")
    with unit_of_work(engine) as db:
        original_id = db.scalar(select(Session.id))
    changed = make_session(1, status="resolved", steps=2)
    changed["problem_summary"] = "Printer offline after driver update"
    import_sessions(engine, numbered([changed]), "after")
    with unit_of_work(engine) as db:
        session = db.scalars(select(Session)).one()
        assert session.id == original_id
        assert session.status == "resolved"
        assert session.problem_summary == "Printer offline after driver update"
        assert [s.seq for s in session.steps] == [1, 2]
    assert counts(engine) == (1, 2, 1)


def test_the_same_id_twice_in_one_file_keeps_the_later_record(engine):
    later = make_session(1, steps=1)
    later["engineer"] = "lee@example.test"
    import_sessions(engine, numbered([make_session(1), make_session(2), later]), "dupes")
    with unit_of_work(engine) as db:
        engineers = dict(db.execute(select(Session.external_id, Session.engineer)).tuples().all())
    assert engineers == {"s-1": "lee@example.test", "s-2": "dana@example.test"}
    assert counts(engine) == (2, 4, 2)


def test_the_same_session_id_in_two_accounts_is_two_sessions(engine):
    import_sessions(engine, numbered([make_session(1, account="acme"), make_session(1, account="globex")]), "two")
    with unit_of_work(engine) as db:
        assert db.scalars(select(Account.slug).order_by(Account.slug)).all() == ["acme", "globex"]
    assert counts(engine)[0] == 2


def test_a_file_with_one_bad_line_writes_nothing(engine):
    records = [make_session(n) for n in range(1, 10)]
    bad = copy.deepcopy(records[6])
    bad["steps"][1]["outcome"] = "worked"
    records[6] = bad
    # Batches of two: several batches are written before the bad line is met.
    with pytest.raises(ImportRejected) as caught:
        import_sessions(engine, numbered(records), "sessions.jsonl", batch_size=2)
    (error,) = caught.value.errors
    assert (error.line, error.field) == (7, "steps[1].outcome")
    assert str(error).startswith("sessions.jsonl, line 7, field steps[1].outcome:")
    assert counts(engine) == (0, 0, 0)
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(Account)) == 0


def test_a_rejected_reimport_leaves_the_earlier_import_as_it_was(engine):
    import_sessions(engine, numbered([make_session(1, steps=3)]), "good")
    changed = make_session(1, steps=1)
    broken = make_session(2)
    del broken["created_at"]
    with pytest.raises(ImportRejected):
        import_sessions(engine, numbered([changed, broken]), "bad", batch_size=1)
    assert counts(engine) == (1, 3, 1)


def test_every_bad_line_is_reported_up_to_the_limit(engine):
    records = [b"{not json", b"", json.dumps(make_session(1)).encode()]
    records += [json.dumps({**make_session(n), "status": "done"}).encode() for n in range(2, 40)]
    with pytest.raises(ImportRejected) as caught:
        import_sessions(engine, numbered(records), "many.jsonl", max_errors=5)
    rejected = caught.value
    assert [e.line for e in rejected.errors] == [1, 4, 5, 6, 7]
    assert "not valid JSON" in rejected.errors[0].message
    assert rejected.errors[1].field == "status"
    assert rejected.truncated
    assert "nothing from this file was written" in str(rejected)


def test_timestamps_come_back_as_the_same_instant_in_utc(engine):
    record = make_session(1)
    record["created_at"] = "2026-11-02T11:30:15.250000+02:00"
    record["psa_ticket"]["sla_due_at"] = "2026-11-02T08:00:00-05:00"
    import_sessions(engine, numbered([record]), "tz")
    with unit_of_work(engine) as db:
        session = db.scalars(select(Session)).one()
        assert session.created_at == datetime(2026, 11, 2, 9, 30, 15, 250000, tzinfo=timezone.utc)
        assert session.created_at.utcoffset() == timedelta(0)
        assert session.psa_sla_due_at == datetime(2026, 11, 2, 13, 0, tzinfo=timezone.utc)
        # A range query in SQL must compare instants, not text.
        after = datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
        assert db.scalar(select(func.count()).select_from(Session).where(Session.created_at >= after)) == 1
        assert db.scalar(select(func.count()).select_from(Session).where(
            Session.created_at >= after + timedelta(minutes=31))) == 0


def test_reimporting_a_flow_is_idempotent_and_a_changed_tree_adds_a_version(engine):
    (flow,) = load("sample-flows.jsonl")
    unversioned = {k: v for k, v in flow.items() if k != "version"}
    import_flows(engine, numbered([unversioned]), "v1")
    again = import_flows(engine, numbered([unversioned]), "v1 again")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    changed = copy.deepcopy(unversioned)
    changed["tree"]["nodes"]["r_ok"]["text"] = "Site loads again"
    import_flows(engine, numbered([changed]), "v2")
    with unit_of_work(engine) as db:
        stored = db.scalars(select(Flow)).one()
        assert stored.current_version == 2
        assert [v.version for v in stored.versions] == [1, 2]
        assert stored.versions[1].tree["nodes"]["r_ok"]["text"] == "Site loads again"


def test_an_explicit_flow_version_is_replaced_in_place(engine):
    (flow,) = load("sample-flows.jsonl")
    import_flows(engine, numbered([flow]), "v1")
    renamed = {**copy.deepcopy(flow), "name": "Website unreachable"}
    renamed["tree"]["nodes"]["r_ok"]["text"] = "Loads"
    result = import_flows(engine, numbered([renamed]), "v1 edited")
    assert result.updated == 1
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(FlowVersion)) == 1
        assert db.scalar(select(Flow.name)) == "Website unreachable"


def test_a_flow_file_with_an_invalid_tree_writes_nothing(engine):
    (flow,) = load("sample-flows.jsonl")
    second = copy.deepcopy(flow)
    second["id"] = "fl-other"
    second["tree"]["nodes"]["q_ok"]["options"][1]["label"] = "Yes"
    with pytest.raises(ImportRejected) as caught:
        import_flows(engine, numbered([flow, second]), "flows.jsonl")
    (error,) = caught.value.errors
    assert (error.line, error.field) == (2, "tree.nodes.q_ok.options[1].label")
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(Flow)) == 0


def test_failed_actions_and_scripts_are_counted_on_the_session(engine):
    record = make_session(1, steps=4)
    record["steps"][0]["outcome"] = "failed"
    record["steps"][1].update(step_type="script", outcome="failed")
    record["steps"][2].update(step_type="question", outcome="failed")  # only tried steps count
    import_sessions(engine, numbered([record]), "failures")
    with unit_of_work(engine) as db:
        assert db.scalar(select(Session.failed_steps)) == 2
    record["steps"][0]["outcome"] = "succeeded"
    import_sessions(engine, numbered([record]), "retried")
    with unit_of_work(engine) as db:
        assert db.scalar(select(Session.failed_steps)) == 1


def test_the_import_records_where_a_session_stopped_in_its_flow_and_which_steps_were_retries(engine):
    record = make_session(1, status="escalated", steps=4)
    for step, node in zip(record["steps"], ("a_reset", "a_driver", "a_driver", None)):
        step["node_id"] = node
    import_sessions(engine, numbered([record]), "walk")
    with unit_of_work(engine) as db:
        assert db.scalar(select(Session.stopped_at_node)) == "a_driver"
        assert db.scalars(select(Step.seq).where(Step.repeats_previous).order_by(Step.seq)).all() == [3]
    # A re-import that reaches the flow's own escalation node followed the flow to its end.
    record["steps"][3].update(step_type="escalation", node_id="e_second")
    import_sessions(engine, numbered([record]), "walk again")
    with unit_of_work(engine) as db:
        assert db.scalar(select(Session.stopped_at_node)) is None


def _statistics_runs(engine) -> dict[str, tuple[int, int]]:
    """(vacuums, analyses) so far of each table the import writes."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT relname, vacuum_count, analyze_count FROM pg_stat_user_tables "
            "WHERE relname IN ('sessions', 'steps', 'analysis_queue', 'step_day_counts', 'step_day_stamps')"))
        return {name: (vacuums, analyses) for name, vacuums, analyses in rows}


def test_a_large_import_refreshes_the_planner_statistics_of_every_table_it_wrote(engine, monkeypatch):
    import core.sessions.importer

    monkeypatch.setattr(core.sessions.importer, "ANALYZE_AFTER_SESSIONS", 2)
    if engine.dialect.name != "postgresql":
        # PRAGMA optimize keeps no record to look at: that the import finishes is the check.
        import_sessions(engine, numbered([make_session(n) for n in range(3)]), "large")
        return
    before = _statistics_runs(engine)
    import_sessions(engine, numbered([make_session(n) for n in range(3)]), "large")
    after = _statistics_runs(engine)
    assert after["sessions"] == (before["sessions"][0] + 1, before["sessions"][1] + 1)
    assert all(after[name][1] == before[name][1] + 1 for name in after) and len(after) == 5


def test_a_first_import_keeps_the_planner_statistics_of_sessions_current_as_the_table_grows(
        _postgresql_engine, monkeypatch):
    # Without statistics the planner took the growing table for empty and looked up each batch's
    # existing sessions by reading every session of the account: 98 s of a 200,000-session import.
    import core.sessions.copy_writer

    engine = _postgresql_engine
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE sessions, steps, analysis_queue, accounts RESTART IDENTITY CASCADE"))
    monkeypatch.setattr(core.sessions.copy_writer, "ANALYZE_IN_IMPORT_FLOOR", 0)
    before = _statistics_runs(engine)["sessions"][1]
    # 3,000 sessions in batches of 500: fewer than ANALYZE_AFTER_SESSIONS, so no refresh after the commit.
    import_sessions(engine, numbered([make_session(n, steps=1) for n in range(3000)]), "first", batch_size=500)
    with engine.connect() as connection:
        described = connection.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'sessions'::regclass"))
    # Refreshed in the import's transaction each time the table had doubled: after 500 and 1,500
    # sessions, counting the transaction's own new rows; not after every batch.
    assert described == 1500
    assert _statistics_runs(engine)["sessions"][1] - before == 2


def _stored(engine) -> dict[str, list]:
    """Everything an import writes, keyed by what the file says rather than by generated ids."""
    with engine.connect() as connection:
        def rows(sql: str) -> list:
            return sorted(tuple(row) for row in connection.execute(text(sql)))
        return {
            "sessions": rows("SELECT a.slug, s.external_id, s.engineer, s.created_at, s.status, s.problem_summary, "
                             "s.matched_flow, s.flow_version, s.psa_time_spent_minutes, s.step_count, s.failed_steps, "
                             "s.stopped_at_node FROM sessions s JOIN accounts a ON a.id = s.account_id"),
            "steps": rows("SELECT s.external_id, t.seq, t.step_type, t.context_message, t.outcome, t.created_at, "
                          "t.repeats_previous FROM steps t JOIN sessions s ON s.id = t.session_id"),
            "queue": rows("SELECT s.external_id, q.status FROM analysis_queue q JOIN sessions s ON s.id = q.session_id"),
            "counts": rows("SELECT day, flow_id, node_id, step_type, steps, failed FROM step_day_counts"),
        }


def _many_batches_of_sessions() -> list[dict]:
    records = [make_session(n, account=("acme", "globex")[n % 2], status=("resolved", "escalated")[n % 3 == 0],
                            steps=1 + n % 4) for n in range(1200)]
    later = make_session(7, account="globex", steps=2)  # s-7 again, in a later batch: the later record wins
    later["problem_summary"] = "Printer 7 offline again"
    return [*records, later]


def test_a_file_of_many_batches_stores_exactly_what_one_batch_of_it_would(engine):
    # On PostgreSQL the batches after the first are read in a separate process
    # (core.sessions.reading_process); the rows must not depend on it.
    records = _many_batches_of_sessions()
    many = import_sessions(engine, numbered(records), "many", batch_size=100)
    stored_in_many = _stored(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM analysis_queue"))
        connection.execute(text("DELETE FROM steps"))
        connection.execute(text("DELETE FROM step_day_counts"))
        connection.execute(text("DELETE FROM step_day_stamps"))
        connection.execute(text("DELETE FROM sessions"))
    one = import_sessions(engine, numbered(records), "one", batch_size=10_000)
    assert _stored(engine) == stored_in_many
    # Read in batches, s-7 is written twice (4 steps, then the 2 that replace them); in one, once.
    assert (many.records, many.inserted, many.updated, many.queued, many.steps, many.accounts) == (
        one.records, one.inserted, one.updated + 1, one.queued, one.steps + 4, one.accounts)
    assert ("globex", "s-7") in {(row[0], row[1]) for row in stored_in_many["sessions"]}
    assert any(row[5] == "Printer 7 offline again" for row in stored_in_many["sessions"])


def test_an_invalid_record_after_the_first_batch_is_reported_by_its_line_and_nothing_is_written(engine):
    records = _many_batches_of_sessions()
    records[349]["steps"][0]["seq"] = 2_147_483_648
    records[1000]["created_at"] = "yesterday"
    with pytest.raises(ImportRejected) as rejected:
        import_sessions(engine, numbered(records), "bad", batch_size=100)
    assert [(e.line, e.field) for e in rejected.value.errors] == [(350, "steps[0].seq"), (1001, "created_at")]
    assert rejected.value.lines_checked == len(records)
    assert counts(engine) == (0, 0, 0)


def test_a_file_that_fails_to_read_after_the_first_batch_rolls_back_everything_and_says_why(engine):
    def lines():
        for number, record in numbered(_many_batches_of_sessions()):
            if number == 450:
                raise OSError("Input/output error")
            yield number, record

    with pytest.raises(OSError, match="Input/output error"):
        import_sessions(engine, lines(), "broken", batch_size=100)
    assert counts(engine) == (0, 0, 0)


def test_an_escaped_surrogate_pair_in_a_file_is_stored_as_the_one_character_it_encodes(engine, tmp_path):
    # json.dumps writes U+10000 held as two surrogates as "\ud800\udc00": JSON's way to write that
    # character, so it is stored. (A lone surrogate is refused: test_import_hostile.py.)
    record = make_session(1)
    record["problem_summary"] = "\ud800\udc00 printer"
    source = tmp_path / "sessions.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8", errors="surrogatepass")
    import_sessions(engine, read_lines(source), "pair")
    with unit_of_work(engine) as db:
        assert db.scalars(select(Session.problem_summary)).one() == "\U00010000 printer"
