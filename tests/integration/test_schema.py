"""Migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from core.db import SchemaOutOfDate, make_engine, require_current_schema, schema_status, upgrade
from core.models import Base

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
def test_the_embedded_database_may_upgrade_itself(scratch_database_url):
    engine = make_engine(scratch_database_url)
    require_current_schema(engine, auto_upgrade=True)
    assert schema_status(engine).up_to_date
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
