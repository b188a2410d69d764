"""Which version each session counts on: given, inferred from a flow's published_at or its import
time, moved by a version published in review, and never across accounts (both databases)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work, upgrade
from core.models import Account, Session
from core.proposals import review
from core.sessions.importer import import_flows, import_sessions
from tests import factories as make
from tests.integration.test_import import make_session, numbered

DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)


def flow_record(version: int, published_at: datetime | None, *, account: str = "acme", label: str = "Yes") -> dict:
    tree = copy.deepcopy(make.TREE)
    tree["nodes"]["q1"]["options"][0]["label"] = label
    record = {"id": "fl-print", "account": account, "name": "Printer offline", "domain": "printing",
              "version": version, "tree": tree}
    if published_at is not None:
        record["published_at"] = published_at.isoformat()
    return record


def session_at(n: int, start: datetime, *, account: str = "acme", version: int | None = None) -> dict:
    record = make_session(n, account=account)
    shift = start - datetime.fromisoformat(record["created_at"])
    record["created_at"] = start.isoformat()
    record["ended_at"] = (start + timedelta(minutes=20)).isoformat()
    for step in record["steps"]:
        step["created_at"] = (datetime.fromisoformat(step["created_at"]) + shift).isoformat()
    if version is not None:
        record["matched_flow_version"] = version
    return record


def versions(engine, account: str = "acme") -> dict[str, int | None]:
    with unit_of_work(engine) as db:
        rows = db.execute(select(Session.external_id, Session.flow_version)
                          .join(Account, Account.id == Session.account_id)
                          .where(Account.slug == account))
        return dict(rows.all())


def test_a_session_counts_on_the_version_live_at_its_start_unless_it_names_one(engine):
    import_flows(engine, numbered([flow_record(1, DAY), flow_record(2, DAY + timedelta(days=10), label="Si")]), "flows")
    import_sessions(engine, numbered([
        session_at(1, DAY + timedelta(days=2)),                 # v1 live
        session_at(2, DAY + timedelta(days=12)),                # v2 live
        session_at(3, DAY + timedelta(days=12), version=1),     # the copilot says it followed v1
        session_at(4, DAY - timedelta(days=5)),                 # before every version: the earliest
    ]), "sessions")

    assert versions(engine) == {"s-1": 1, "s-2": 2, "s-3": 1, "s-4": 1}


def test_a_version_without_published_at_went_live_at_its_import(engine):
    import_flows(engine, numbered([flow_record(1, DAY)]), "v1")
    import_sessions(engine, numbered([session_at(1, DAY + timedelta(days=1))]), "old")
    import_flows(engine, numbered([flow_record(2, None, label="Si")]), "v2 now")
    # A session started after the import (now) counts on v2; the older one stays on v1.
    future = datetime.now(timezone.utc) + timedelta(minutes=5)
    import_sessions(engine, numbered([session_at(2, future)]), "new")

    assert versions(engine) == {"s-1": 1, "s-2": 2}


def test_sessions_imported_before_their_flow_are_resolved_when_the_flow_arrives(engine):
    import_sessions(engine, numbered([session_at(1, DAY + timedelta(days=2)), session_at(2, DAY + timedelta(days=20))]), "s")
    assert versions(engine) == {"s-1": None, "s-2": None}

    import_flows(engine, numbered([flow_record(1, DAY), flow_record(2, DAY + timedelta(days=10), label="Si")]), "flows")

    assert versions(engine) == {"s-1": 1, "s-2": 2}


def test_a_version_published_in_review_takes_the_sessions_started_since(engine):
    published = DAY + timedelta(days=10)
    with unit_of_work(engine) as db:
        acme = make.account(db, "acme")
        admin_id = make.user(db, "admin@acme.example", {acme: "admin"}).id
        printer = make.flow(db, acme, "fl-print")
        printer.versions[0].published_at = DAY
        enhancement = make.proposal(db, acme, proposal_type="enhancement", title="One user only",
                                    tree=make.enhanced_tree(), target=printer).id
        admin = load_actor(db, admin_id)
    import_sessions(engine, numbered([session_at(1, published - timedelta(days=1)),
                                      session_at(2, published + timedelta(days=1))]), "s")
    assert versions(engine) == {"s-1": 1, "s-2": 1}

    review.edit_and_publish(engine, admin, acme.id, enhancement, 1, make.enhanced_tree(), now=published)

    assert versions(engine) == {"s-1": 1, "s-2": 2}


def test_another_accounts_flow_of_the_same_id_never_decides_a_version(engine):
    import_flows(engine, numbered([flow_record(1, DAY), flow_record(2, DAY + timedelta(days=10), label="Si"),
                                   flow_record(1, DAY, account="globex")]), "flows")
    import_sessions(engine, numbered([session_at(1, DAY + timedelta(days=12)),
                                      session_at(1, DAY + timedelta(days=12), account="globex")]), "s")

    assert versions(engine, "acme") == {"s-1": 2}
    assert versions(engine, "globex") == {"s-1": 1}


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_migration_fills_the_version_of_every_stored_session(scratch_database_url):
    engine = make_engine(scratch_database_url)
    upgrade(engine, "0006")
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO accounts (id, slug, name, settings, created_at) VALUES (1, 'acme', 'Acme', '{}', '2026-10-01 00:00:00')",
            "INSERT INTO flows (id, account_id, external_id, name, current_version, created_at, updated_at) "
            "VALUES (1, 1, 'fl-print', 'Printer', 2, '2026-10-01 00:00:00', '2026-10-01 00:00:00')",
            "INSERT INTO flow_versions (flow_id, version, tree, source, published_at) VALUES "
            "(1, 1, '{}', 'import', '2026-10-01 00:00:00'), (1, 2, '{}', 'import', '2026-11-01 00:00:00')",
            "INSERT INTO sessions (id, account_id, external_id, created_at, status, step_count, imported_at, matched_flow, "
            "matched_flow_version) VALUES (1, 1, 'early', '2026-10-05 00:00:00', 'resolved', 1, '2026-11-20 00:00:00', 'fl-print', NULL), "
            "(2, 1, 'late', '2026-11-05 00:00:00', 'resolved', 1, '2026-11-20 00:00:00', 'fl-print', NULL), "
            "(3, 1, 'given', '2026-11-05 00:00:00', 'resolved', 1, '2026-11-20 00:00:00', 'fl-print', 1), "
            "(4, 1, 'none', '2026-11-05 00:00:00', 'resolved', 1, '2026-11-20 00:00:00', NULL, NULL)",
        ):
            connection.execute(text(statement))
    upgrade(engine)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT external_id, flow_version FROM sessions")).all())
    assert rows == {"early": 1, "late": 2, "given": 1, "none": None}
    engine.dispose()


def test_a_session_naming_its_version_keeps_it_before_its_flow_is_imported(engine):
    import_sessions(engine, numbered([session_at(1, DAY, version=3), session_at(2, DAY)]), "s")
    assert versions(engine) == {"s-1": 3, "s-2": None}


def test_a_reimported_session_that_moved_to_an_unknown_flow_loses_its_old_version(engine):
    import_flows(engine, numbered([flow_record(1, DAY)]), "flows")
    import_sessions(engine, numbered([session_at(1, DAY + timedelta(days=1))]), "first")
    assert versions(engine) == {"s-1": 1}
    moved = session_at(1, DAY + timedelta(days=1))
    moved["matched_flow"] = "fl-not-imported"

    import_sessions(engine, numbered([moved]), "again")

    assert versions(engine) == {"s-1": None}


def test_a_reimported_session_that_no_longer_matches_a_flow_has_no_version(engine):
    import_flows(engine, numbered([flow_record(1, DAY)]), "flows")
    import_sessions(engine, numbered([session_at(1, DAY + timedelta(days=1))]), "first")
    unmatched = session_at(1, DAY + timedelta(days=1))
    unmatched["matched_flow"] = None

    import_sessions(engine, numbered([unmatched]), "again")

    assert versions(engine) == {"s-1": None}
