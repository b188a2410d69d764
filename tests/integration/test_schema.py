"""Migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from core.db import SchemaOutOfDate, make_engine, require_current_schema, schema_status, upgrade
from core.flows.walk import walk
from core.models import REPORT_COLUMNS, Base

BACKENDS = pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)


@BACKENDS
def test_upgrade_builds_every_table_on_an_empty_database(scratch_database_url):
    engine = make_engine(scratch_database_url)
    assert schema_status(engine).empty
    upgrade(engine)
    assert schema_status(engine).up_to_date
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


@BACKENDS
def test_an_empty_database_is_refused_with_the_command_to_run(scratch_database_url):
    engine = make_engine(scratch_database_url)
    with pytest.raises(SchemaOutOfDate, match=r"python -m core db upgrade"):
        require_current_schema(engine)
    engine.dispose()


@BACKENDS
def test_the_embedded_database_may_upgrade_itself_and_says_from_which_revision(scratch_database_url):
    engine = make_engine(scratch_database_url)
    upgrade(engine, "0004")
    found = require_current_schema(engine, auto_upgrade=True)
    assert (found.current, found.head) == ("0004", schema_status(engine).head)
    assert schema_status(engine).up_to_date
    assert require_current_schema(engine, auto_upgrade=True) is None
    engine.dispose()


@BACKENDS
def test_upgrading_an_older_database_keeps_its_data_and_fills_new_columns(scratch_database_url):
    engine = make_engine(scratch_database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (id, slug, name, settings, created_at) "
                                "VALUES (1, 'acme', 'Acme', '{}', '2026-11-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO sessions (id, account_id, external_id, created_at, status, step_count, imported_at) "
            "VALUES (7, 1, 's-7', '2026-11-01 09:00:00', 'resolved', 3, '2026-11-01 10:00:00')"))
        for seq, kind, outcome in ((1, "action", "failed"), (2, "script", "failed"), (3, "question", "failed")):
            connection.execute(text(
                "INSERT INTO steps (session_id, seq, step_type, outcome, was_free_text, created_at) "
                "VALUES (7, :seq, :kind, :outcome, false, '2026-11-01 09:01:00')"),
                {"seq": seq, "kind": kind, "outcome": outcome})
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT external_id, failed_steps FROM sessions")).all() == [("s-7", 2)]
    engine.dispose()


@BACKENDS
def test_upgrading_records_how_existing_sessions_walked_their_flows_as_the_import_would(scratch_database_url):
    engine = make_engine(scratch_database_url)
    upgrade(engine, "0002")
    walks = {
        7: [(1, "question", "q_scope"), (2, "action", "a_driver"), (3, "action", "a_driver"), (4, "note", None)],
        8: [(1, "question", "q_scope"), (2, "resolution", "r_done")],
        9: [(1, "question", None)],
    }
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (id, slug, name, settings, created_at) "
                                "VALUES (1, 'acme', 'Acme', '{}', '2026-11-01 00:00:00')"))
        for session_id, steps in walks.items():
            connection.execute(text(
                "INSERT INTO sessions (id, account_id, external_id, created_at, status, step_count, imported_at) "
                "VALUES (:id, 1, :ext, '2026-11-01 09:00:00', 'escalated', 3, '2026-11-01 10:00:00')"),
                {"id": session_id, "ext": f"s-{session_id}"})
            for seq, kind, node in steps:
                connection.execute(text(
                    "INSERT INTO steps (session_id, seq, step_type, node_id, was_free_text, created_at) "
                    "VALUES (:sid, :seq, :kind, :node, false, '2026-11-01 09:01:00')"),
                    {"sid": session_id, "seq": seq, "kind": kind, "node": node})
    upgrade(engine)
    with engine.connect() as connection:
        stopped = dict(connection.execute(text("SELECT id, stopped_at_node FROM sessions")).all())
        repeated = set(connection.execute(text("SELECT session_id, seq FROM steps WHERE repeats_previous")).all())
    assert stopped == {sid: walk(steps).stopped_at_node for sid, steps in walks.items()} == {7: "a_driver", 8: None, 9: None}
    assert repeated == {(7, 3)}
    engine.dispose()


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_postgresql_gets_the_planner_statistics_the_reports_rely_on(scratch_database_url):
    # Without them the gap report and the metrics expect a group per row and give up parallel
    # hashing (benchmarks/gaps_bench.py).
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    with engine.connect() as connection:
        names = set(connection.scalars(text("SELECT stxname FROM pg_statistic_ext")))
    assert {"st_sessions_utc_day", "st_steps_gap_keys"} <= names
    engine.dispose()


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_postgresql_sessions_index_carries_the_columns_the_reports_read(scratch_database_url):
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    with engine.connect() as connection:
        definition = connection.scalar(text("SELECT pg_get_indexdef('ix_sessions_account_created'::regclass)"))
    keys, _, included = definition.partition(" INCLUDE ")
    assert keys.endswith("(account_id, created_at)")
    assert [c.strip() for c in included.strip("()").split(",")] == list(REPORT_COLUMNS)
    engine.dispose()
