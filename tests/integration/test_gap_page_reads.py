"""The knowledge-gaps page's core reads on SQLite and PostgreSQL: the data version that refreshes
its cache, the related pending proposals, the sessions behind a gap, and the formula-safe CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.accounts.auth import NotAllowed, load_actor
from core.csv_safe import csv_bytes
from core.db import unit_of_work
from core.exports.gaps import GAPS_HEADER, report_table
from core.gaps import build_gap_report
from core.gaps.related import _enhancement_anchor, gap_report_for, gap_session_detail, gap_sessions, related_proposals
from core.models import Account, FlowProposal, User
from core.sessions.data_version import data_version
from core.types import utcnow
from tests import factories as make
from tests.gap_data import FORMULA, seed_gaps


@pytest.fixture
def seeded(engine):
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
    return engine, seed


def actor(db, email: str):
    return load_actor(db, db.scalar(select(User.id).where(User.email == email)))


def test_the_data_version_moves_with_imports_flows_and_analysis_only(seeded):
    engine, seed = seeded
    since = utcnow() - timedelta(days=60)
    with unit_of_work(engine) as db:
        first = data_version(db, seed.account_id, since)
        assert first.sessions[0] == 26 and first.proposals[0] == 3
        assert data_version(db, seed.account_id, since) == first  # stable while nothing changes
        other = data_version(db, seed.other_account_id, since)
    with unit_of_work(engine) as db:  # an import into another account changes nothing here
        make.session(db, _account(db, seed.other_account_id), created_at=utcnow() - timedelta(days=1))
    with unit_of_work(engine) as db:
        assert data_version(db, seed.account_id, since) == first
        assert data_version(db, seed.other_account_id, since) != other
    with unit_of_work(engine) as db:  # an import into this account
        make.session(db, _account(db, seed.account_id), created_at=utcnow() - timedelta(days=1))
    with unit_of_work(engine) as db:
        imported = data_version(db, seed.account_id, since)
    assert imported.sessions != first.sessions and imported.proposals == first.proposals
    with unit_of_work(engine) as db:  # an analysis batch adds a session to a proposal
        proposal = db.get(FlowProposal, seed.new_flow)
        proposal.support_count += 1
    with unit_of_work(engine) as db:
        analysed = data_version(db, seed.account_id, since)
    assert analysed.proposals != imported.proposals and analysed.sessions_and_flows == imported.sessions_and_flows
    with unit_of_work(engine) as db:  # sessions older than ``since`` are not part of it
        assert data_version(db, seed.account_id, utcnow() + timedelta(days=1)).sessions == (0, None)


def _account(db, account_id):
    return db.get(Account, account_id)


def test_related_proposals_match_by_flow_node_domain_and_shared_sessions(seeded):
    engine, seed = seeded
    with unit_of_work(engine) as db:
        analyst = actor(db, "analyst@alpha.example")
        report = gap_report_for(db, analyst, seed.account_id, 30)
        related = related_proposals(db, analyst, seed.account_id, report.gaps)
    by_type = {g.gap_type: [r.id for r in rel] for g, rel in zip(report.gaps, related)}
    assert by_type == {"weak_options": [seed.enhancement], "uncharted_territory": [seed.new_flow],
                       "repeated_pattern": [seed.new_flow]}
    weak = related[[g.gap_type for g in report.gaps].index("weak_options")][0]
    assert weak.shared_sessions == 4 and "changes this step of the flow" in weak.reason
    with unit_of_work(engine) as db:  # decided proposals are no longer related
        db.get(FlowProposal, seed.enhancement).status = "approved"
    with unit_of_work(engine) as db:
        related = related_proposals(db, analyst, seed.account_id, report.gaps)
    assert [r.id for rel in related for r in rel] == [seed.new_flow, seed.new_flow]


def test_an_enhancement_anchor_is_read_from_its_evidence_key():
    assert _enhancement_anchor("enh:printer:v3:q1:free::a1", "printer") == "q1:free::a1"
    assert _enhancement_anchor("enh:printer-2:v3:q1:free::a1", "printer") is None
    assert _enhancement_anchor("new_flow:email:x", "printer") is None
    assert _enhancement_anchor(None, "printer") is None


def test_the_sessions_behind_a_gap_stay_in_the_account_and_in_order(seeded):
    engine, seed = seeded
    with unit_of_work(engine) as db:
        analyst = actor(db, "analyst@alpha.example")
        ids = ["alpha-it-g002", "beta-net-g900", "alpha-it-g001", "missing"]
        listed = gap_sessions(db, analyst, seed.account_id, ids)
        assert [e.external_id for e in listed] == ["alpha-it-g002", "alpha-it-g001"]
        assert all(e.steps == () for e in listed)
        detail = gap_session_detail(db, analyst, seed.account_id, seed.typed_session)
        assert [s.step_type for s in detail.steps] == ["question", "action"] and detail.steps[0].was_free_text
        assert gap_session_detail(db, analyst, seed.account_id, "beta-net-g900") is None
        with pytest.raises(NotAllowed):
            gap_sessions(db, analyst, seed.other_account_id, ["beta-net-g900"])
        with pytest.raises(NotAllowed):
            gap_report_for(db, analyst, seed.other_account_id, 30)


def test_the_report_csv_neutralises_formulas(seeded):
    engine, seed = seeded
    with unit_of_work(engine) as db:
        report = build_gap_report(db, seed.account_id, days=30)
    table = report_table(report)
    rows = list(csv.reader(io.StringIO(csv_bytes(table.header, table.rows).decode("utf-8"))))
    assert tuple(rows[0]) == GAPS_HEADER and len(rows) == 1 + len(report.gaps)
    details = [dict(zip(rows[0], r))["details"] for r in rows[1:]]
    typed = next(d for d in details if "terminal server" in d)
    assert FORMULA.lower() in typed  # the formula is in the evidence ...
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell  # ... and no cell starts one
    # A filtered view keeps the report's ranks.
    only = list(report_table(report, [3]).rows)
    assert len(only) == 1 and only[0][1] == 3 and only[0][6] == report.gaps[2].title

