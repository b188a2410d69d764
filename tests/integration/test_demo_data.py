"""Demo data goes through the real import, and `make run`'s bootstrap uses it once."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from core.db import unit_of_work
from core.demo.bootstrap import DEMO_ADMIN_EMAIL, prepare
from core.demo.catalog import REVISIONS
from core.demo.loader import run_demo
from core.models import Account, AnalysisQueueItem, Flow, Membership, Session, Step, User
from core.settings import Settings

ANCHOR = datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)


def table_counts(engine) -> dict[str, int]:
    with unit_of_work(engine) as db:
        return {model.__tablename__: db.scalar(select(func.count()).select_from(model))
                for model in (Account, Flow, Session, Step, AnalysisQueueItem)}


def test_demo_data_imports_every_generated_session(engine):
    summary = run_demo(engine, accounts=3, sessions=1500, seed=5, anchor=ANCHOR, batch_size=400)
    counts = table_counts(engine)
    assert summary.sessions == counts["sessions"] == 1500
    assert counts["accounts"] == 3
    # Flow records: one per flow, and one more for each flow that got a new version in the 90 days
    # (core.demo.catalog.REVISIONS: core flows, so in every account).
    assert summary.flows == counts["flows"] + 3 * len(REVISIONS) and counts["flows"] > 0
    assert counts["steps"] > 3 * 1500
    with unit_of_work(engine) as db:
        resolved = db.scalar(select(func.count()).select_from(Session).where(Session.status == "resolved"))
    assert counts["analysis_queue"] == resolved > 0


def test_running_the_demo_again_with_the_same_seed_changes_nothing(engine):
    run_demo(engine, accounts=2, sessions=600, seed=5, anchor=ANCHOR)
    first = table_counts(engine)
    run_demo(engine, accounts=2, sessions=600, seed=5, anchor=ANCHOR)
    assert table_counts(engine) == first


def test_bootstrap_loads_demo_data_and_one_admin_only_once(engine, monkeypatch):
    monkeypatch.setattr("core.demo.bootstrap.DEMO_SESSIONS", 300)
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)))
    first = list(prepare(engine, settings))
    assert any("loading demo data" in line for line in first)
    assert any("shown only this once" in line for line in first)
    second = list(prepare(engine, settings))
    assert second[0] == "Database schema is current."
    # The password was shown once; the second run says how to get a new one instead.
    assert second[1:] == [f"Sign in as {DEMO_ADMIN_EMAIL} with the password the first run showed. Lost it? "
                          f"Set a new one: .venv/bin/python -m core user reset-password {DEMO_ADMIN_EMAIL}"]
    with unit_of_work(engine) as db:
        assert db.scalars(select(User.email)).all() == [DEMO_ADMIN_EMAIL]
        assert set(db.scalars(select(Membership.role))) == {"admin"}
        assert db.scalar(select(func.count()).select_from(Membership)) == 3


def test_the_demo_has_a_change_with_each_verdict_and_tickets_worked_more_than_once(engine):
    from core.commands import OPERATOR
    from core.impact import build_impact

    run_demo(engine, accounts=1, sessions=8000, seed=42, anchor=ANCHOR)

    with unit_of_work(engine) as db:
        account_id = db.scalar(select(Account.id))
        changes = build_impact(db, OPERATOR, account_id, now=ANCHOR).changes
        # The verdicts come from the sessions walking each new version, as each revision intends.
        assert {c.flow_id: c.verdict for c in changes} == {r.flow: r.expected for r in REVISIONS}
        several = db.execute(select(Session.psa_ticket_id).where(Session.psa_ticket_id.is_not(None))
                             .group_by(Session.psa_ticket_id).having(func.count() > 1)).all()
    assert len(several) > 50


def test_the_first_bootstrap_leaves_a_few_audited_review_decisions_by_the_demo_admin(engine, monkeypatch):
    from core.models import AuditEntry, FlowProposal

    monkeypatch.setattr("core.demo.bootstrap.DEMO_SESSIONS", 3000)
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)))
    lines = list(prepare(engine, settings))

    with unit_of_work(engine) as db:
        entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        decided = {p.id: p.status for p in db.scalars(select(FlowProposal).where(FlowProposal.status != "pending"))}
        pending = db.scalar(select(func.count()).select_from(FlowProposal).where(FlowProposal.status == "pending"))
        # Every decision is the review service's: one audit entry per decided proposal, by the demo admin.
        assert {e.proposal_id for e in entries} == set(decided) and len(entries) == len(decided)
        assert {e.actor for e in entries} == {DEMO_ADMIN_EMAIL}
        assert {e.action for e in entries} == {"approve", "edit_publish", "dismiss", "reject"}
        assert all(e.reason for e in entries)  # the Activity page shows why, for each
        assert len({e.account_id for e in entries}) == 2  # the first two accounts
    assert len(decided) == 6 and pending > 20  # a handful: the queue stays full for the demo
    assert any("decided 6 of them" in line for line in lines)
    # A second run records nothing more.
    list(prepare(engine, settings))
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == len(entries)


def test_the_demos_improvement_comes_from_engineers_picking_the_new_option_and_follow_ups_lower_first_contact(engine):
    from core.commands import OPERATOR
    from core.impact.detail import flow_impact

    run_demo(engine, accounts=1, sessions=8000, seed=42, anchor=ANCHOR)
    improved = next(r.flow for r in REVISIONS if r.expected == "improved")
    with unit_of_work(engine) as db:
        account_id = db.scalar(select(Account.id))
        flow_pk = db.scalar(select(Flow.id).where(Flow.external_id == improved))
        [detail] = flow_impact(db, OPERATOR, account_id, flow_pk, now=ANCHOR).details

    # The question the new version gave an option: engineers typed there before, pick it now.
    [(_, _, typed)] = detail.free_text
    assert typed.before > 0.1 and typed.interval[1] < 0
    # Escalated tickets worked again and resolved: the ticket failed at its first contact, yet one
    # of its two sessions resolved, so tickets resolved first time trail sessions resolved.
    for side in ("before", "after"):
        assert getattr(detail.first_contact, side) < getattr(detail.change.resolution, side) - 0.02
