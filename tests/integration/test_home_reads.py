"""Home's reads on SQLite and PostgreSQL: the proposals waiting (counted and cut in SQL, in the
queue's default order, one account only, reviewers only) and the top gaps of the gap report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from core.accounts.auth import NotAllowed, load_actor
from core.db import unit_of_work
from core.gaps.related import gap_report_for
from core.gaps.top import gap_key, top_gaps
from core.models import User
from core.proposals.queue import QueueFilters, review_queue
from core.proposals.waiting import waiting_proposals
from tests import factories as make
from tests.gap_data import seed_gaps


@pytest.fixture
def data(engine: Engine) -> dict:
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        sessions = [make.session(db, alpha) for _ in range(3)]
        ids = {
            "vpn": make.proposal(db, alpha, title="VPN drops", sessions=sessions, created_at=make.NOW - timedelta(days=9)),
            "mail": make.proposal(db, alpha, title="Outlook prompts", sessions=sessions[:1],
                                  created_at=make.NOW - timedelta(days=8)),
            "newest": make.proposal(db, alpha, title="Teams echo", created_at=make.NOW - timedelta(days=1)),
            "older": make.proposal(db, alpha, title="Old printer", created_at=make.NOW - timedelta(days=5)),
            "rejected": make.proposal(db, alpha, title="Rejected idea", status="rejected", sessions=sessions),
            "beta": make.proposal(db, beta, title="Beta only", sessions=[make.session(db, beta)]),
        }
        actors = {role: load_actor(db, db.query(User).filter_by(email=f"{role}@alpha.example").one().id)
                  for role in ("admin", "manager", "analyst")}
        return {"alpha": alpha.id, "beta": beta.id, **actors, **{k: v.id for k, v in ids.items()}}


def test_the_waiting_proposals_are_the_queues_first_rows_and_its_pending_count(engine, data):
    with unit_of_work(engine) as db:
        waiting = waiting_proposals(db, data["manager"], data["alpha"], limit=3, now=make.NOW)
        queue = review_queue(db, data["admin"], data["alpha"], QueueFilters(), now=make.NOW)

    assert waiting.total == queue.total == 4
    assert [p.id for p in waiting.first] == [row.id for row in queue.rows[:3]]
    assert [p.title for p in waiting.first] == ["VPN drops", "Outlook prompts", "Teams echo"]
    assert waiting.first[0].expected_per_month == 1.0  # 3 supporting sessions in 90 days, per 30
    assert waiting.more == 1


def test_another_accounts_and_decided_proposals_never_wait(engine, data):
    with unit_of_work(engine) as db:
        waiting = waiting_proposals(db, data["admin"], data["alpha"], limit=10, now=make.NOW)
    assert {p.id for p in waiting.first} == {data["vpn"], data["mail"], data["newest"], data["older"]}


def test_an_account_with_only_decided_proposals_waits_for_nothing(engine, data):
    with unit_of_work(engine) as db:
        gamma = make.account(db, "gamma-old")
        actor = load_actor(db, make.user(db, "admin@gamma.example", {gamma: "admin"}).id)
        make.proposal(db, gamma, title="Decided", status="published")
        waiting = waiting_proposals(db, actor, gamma.id, now=make.NOW)
    assert waiting.total == 0 and waiting.first == ()


def test_an_analyst_may_not_read_the_waiting_proposals(engine, data):
    with unit_of_work(engine) as db, pytest.raises(NotAllowed):
        waiting_proposals(db, data["analyst"], data["alpha"])


def test_the_top_gaps_are_the_reports_first_gaps_with_keys_the_page_finds(engine):
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
        analyst = load_actor(db, db.query(User).filter_by(email="analyst@alpha.example").one().id)
        report = gap_report_for(db, analyst, seed.account_id, 30)

    top = top_gaps(report)

    assert top.total == len(report.gaps) == 3
    assert [g.title for g in top.first] == [g.title for g in report.gaps]
    assert [g.key for g in top.first] == [gap_key(g) for g in report.gaps]
    assert top.first[0].severity == "high" and top.first[0].rank == 1
