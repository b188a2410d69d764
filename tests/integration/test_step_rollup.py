"""The import's per-day step counts give the gap report exactly what the step rows give, on both
databases, however the sessions got there."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import func, select, text

from core.db import alembic_config, make_engine, unit_of_work, upgrade
from core.flows import walk
from core.gaps import build_gap_report
from core.gaps.queries import read_raw_step_groups, read_steps, step_pass
from core.models import Account, Session, Step, StepDayCount, StepDayStamp
from core.periods import Period
from core.sessions import day_counts
from core.sessions.importer import import_sessions

NOW = datetime(2026, 11, 20, 15, 27, 11, tzinfo=timezone.utc)  # not midnight: partial days at every edge
STATUSES = ("resolved", "resolved", "escalated", "abandoned", "requesting_escalation", "active")


def record(n: int, start: datetime, *, account: str = "acme", status: str | None = None,
           flow: str | None = "fl-vpn", rng: random.Random) -> dict:
    """A session with a flow question (sometimes typed), a retried action (sometimes failing), an
    improvised question without a node, and a note."""
    answer_typed = rng.random() < 0.3
    steps = [
        {"seq": 1, "step_type": "question", "node_id": "q_client" if flow else None,
         "context_message": "Which VPN client?" if rng.random() < 0.5 else "  which VPN client? ",
         "options": ["AnyConnect", "GlobalProtect"],
         "response": rng.choice(["Forti client", "  forti CLIENT", "WireGuard"]) if answer_typed else "AnyConnect",
         "was_free_text": answer_typed},
        {"seq": 2, "step_type": "action", "node_id": "a_reset" if flow else None, "context_message": "Reset the adapter",
         "outcome": rng.choice(["failed", "succeeded"])},
        {"seq": 3, "step_type": "action", "node_id": "a_reset" if flow else None, "context_message": "Reset the adapter",
         "outcome": rng.choice(["failed", "succeeded", None])},
        {"seq": 4, "step_type": "question", "node_id": None, "context_message": "Is the token synced?",
         "response": rng.choice(["yes", "It says expired"]), "was_free_text": rng.random() < 0.5},
        {"seq": 5, "step_type": "note", "context_message": "checked logs"},
    ]
    for i, step in enumerate(steps):
        step["created_at"] = (start + timedelta(minutes=i)).isoformat()
    return {
        "id": f"s-{n}", "account": account, "created_at": start.isoformat(),
        "status": status or rng.choice(STATUSES), "problem_domain": "vpn", "problem_summary": "VPN drops",
        "confidence_tier": "guided" if flow else "discovery", "matched_flow": flow, "steps": steps,
    }


def spread(count: int, *, account: str = "acme", seed: int = 7, first: int = 0) -> list[dict]:
    """``count`` sessions over the 70 days before NOW, at every hour of the day."""
    rng = random.Random(seed)
    return [record(first + n, NOW - timedelta(minutes=rng.randrange(70 * 24 * 60)), account=account,
                   flow=rng.choice(["fl-vpn", "fl-vpn", "fl-mail", None]), rng=rng) for n in range(count)]


def load(engine, records: list[dict]) -> None:
    import_sessions(engine, list(enumerate(records, start=1)), "test", batch_size=37)


def account_id(db, slug: str = "acme") -> int:
    return db.scalar(select(Account.id).where(Account.slug == slug))


def raw_pass(db, account: int, period: Period):
    return step_pass(day_counts.merge_groups(
        read_raw_step_groups(db, account, period, period.previous_start, period.end)))


def canonical(step_pass_result):
    return sorted(step_pass_result.rows, key=repr), step_pass_result.reached


def whole_days(period: Period):
    return (day_counts.whole_days(period.previous_start, period.start)
            + day_counts.whole_days(period.start, period.end))


@pytest.mark.parametrize("days", [30, 7, 1])
def test_imported_days_are_read_from_the_rollup_and_give_exactly_the_step_rows_counts(engine, days):
    load(engine, spread(600) + spread(200, account="other", seed=8, first=10_000))
    period = Period.last_days(days, NOW)
    with unit_of_work(engine) as db:
        acme = account_id(db)
        assert day_counts.current_days(db, acme, whole_days(period)) == set(whole_days(period))
        assert canonical(read_steps(db, acme, period)) == canonical(raw_pass(db, acme, period))
        assert read_steps(db, acme, period).rows  # the data has something to count


def test_a_reimport_that_moves_sessions_and_changes_their_outcome_recounts_both_days(engine):
    records = spread(300)
    load(engine, records)
    moved = []
    for r in records[:40]:
        later = datetime.fromisoformat(r["created_at"]) + timedelta(days=3, hours=5)
        moved.append({**r, "created_at": min(later, NOW - timedelta(hours=1)).isoformat(), "status": "escalated",
                      "steps": r["steps"][:2]})
    load(engine, moved)
    period = Period.last_days(30, NOW)
    with unit_of_work(engine) as db:
        acme = account_id(db)
        assert day_counts.current_days(db, acme, whole_days(period)) == set(whole_days(period))
        assert canonical(read_steps(db, acme, period)) == canonical(raw_pass(db, acme, period))


def test_sessions_written_without_the_import_are_read_from_their_steps(engine):
    load(engine, spread(200))
    period = Period.last_days(30, NOW)
    day = day_counts.whole_days(period.start, NOW)[10]
    with unit_of_work(engine) as db:
        acme = account_id(db)
        for n in range(15):  # ORM rows on a day the import also wrote to, as the tests' factories write
            when = day_counts.day_start(day) + timedelta(hours=n)
            row = Session(account_id=acme, external_id=f"orm-{n}", status="resolved", created_at=when,
                          matched_flow="fl-vpn", problem_domain="vpn", step_count=1)
            db.add(row)
            db.flush()
            row.steps.append(Step(seq=1, step_type="question", node_id="q_client", context_message="Which VPN client?",
                                  response="OpenVPN", was_free_text=True, created_at=when))
            walk.mark(row)
    with unit_of_work(engine) as db:
        assert set(whole_days(period)) - day_counts.current_days(db, acme, whole_days(period)) == {day}
        counted = read_steps(db, acme, period)
        assert canonical(counted) == canonical(raw_pass(db, acme, period))
        assert sum(r.free_text for r in counted.rows if r.free_text_answer == "openvpn" and r.current) == 15


def test_a_changed_session_outcome_makes_its_day_stale_until_recounted(engine):
    load(engine, spread(200))
    period = Period.last_days(30, NOW)
    with unit_of_work(engine) as db:
        acme = account_id(db)
        session = db.scalars(select(Session).where(
            Session.account_id == acme, Session.status == "active", Session.matched_flow.is_not(None),
            Session.created_at >= day_counts.day_start(day_counts.whole_days(period.start, NOW)[0]),
            Session.created_at < day_counts.day_start(day_counts.whole_days(period.start, NOW)[-1]),
        ).limit(1)).one()
        session.status = "resolved"  # written behind the import's back
        changed_day = day_counts.day_of(session.created_at)
    with unit_of_work(engine) as db:
        current = day_counts.current_days(db, acme, whole_days(period))
        assert set(whole_days(period)) - current == {changed_day}
        assert canonical(read_steps(db, acme, period)) == canonical(raw_pass(db, acme, period))


def test_the_rollup_holds_one_account_day_per_stamp_and_nothing_for_other_accounts(engine):
    load(engine, spread(120) + spread(50, account="other", seed=3, first=5000))
    with unit_of_work(engine) as db:
        acme = account_id(db)
        stamped = db.scalar(select(func.sum(StepDayStamp.sessions)).where(StepDayStamp.account_id == acme))
        counted_days = set(db.scalars(select(StepDayCount.day).where(StepDayCount.account_id == acme)))
        stamp_days = set(db.scalars(select(StepDayStamp.day).where(StepDayStamp.account_id == acme)))
    assert stamped == 120
    assert counted_days <= stamp_days


def test_the_gap_report_is_the_same_from_the_rollup_as_from_the_step_rows(engine, monkeypatch):
    load(engine, spread(900))
    with unit_of_work(engine) as db:
        acme = account_id(db)
        fast = build_gap_report(db, acme, days=30, now=NOW).to_dict()
        monkeypatch.setattr(day_counts, "current_days", lambda *args: set())
        slow = build_gap_report(db, acme, days=30, now=NOW).to_dict()
    assert fast["gaps"] and fast == slow


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_upgrading_counts_the_days_of_sessions_imported_before(scratch_database_url, monkeypatch):
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (id, slug, name, settings, created_at) "
                                "VALUES (1, 'acme', 'acme', '{}', '2026-11-01 00:00:00')"))
    # Imported as by the code before revision 0005: without the rollup. (Today's import writes
    # today's columns, so it runs at the head and the schema goes back to 0004 afterwards.)
    monkeypatch.setattr(day_counts, "refresh", lambda *args: None)
    load(engine, spread(250))
    monkeypatch.undo()
    command.downgrade(alembic_config(engine), "0004")
    upgrade(engine)
    period = Period.last_days(30, NOW)
    with unit_of_work(engine) as db:
        assert day_counts.current_days(db, 1, whole_days(period)) == set(whole_days(period))
        assert canonical(read_steps(db, 1, period)) == canonical(raw_pass(db, 1, period))
    engine.dispose()
