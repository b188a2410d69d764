"""Headline numbers: exact counts for the period and the one before, one account at a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from core.accounts.auth import Actor, load_actor
from core.accounts.directory import AccountRef, list_accounts
from core.commands import OPERATOR
from core.db import unit_of_work
from core.metrics import build_metrics
from core.metrics.headline import headline_numbers
from core.models import Account, Membership, Session, User

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
_ids = count(1)


def add_account(engine, slug: str, name: str) -> int:
    with unit_of_work(engine) as db:
        account = Account(slug=slug, name=name, settings={})
        db.add(account)
        db.flush()
        return account.id


def add_sessions(engine, account_id: int, created_at: datetime, *statuses: str) -> None:
    with unit_of_work(engine) as db:
        db.add_all(
            Session(account_id=account_id, external_id=f"s-{next(_ids)}", created_at=created_at, status=status)
            for status in statuses
        )


def headline(engine, account_id: int, **kwargs):
    """The headline as a manager of the account sees it (refusals: test_report_permissions)."""
    with unit_of_work(engine) as db:
        user = User(email=f"manager-{next(_ids)}@acme.example", password_hash="-", is_active=True)
        db.add(user)
        db.flush()
        db.add(Membership(user_id=user.id, account_id=account_id, role="manager"))
        db.flush()
        reader: Actor = load_actor(db, user.id)
    with unit_of_work(engine) as db:
        return headline_numbers(db, reader, account_id, **kwargs)


@pytest.fixture
def two_accounts(engine):
    acme = add_account(engine, "acme", "Acme IT")
    other = add_account(engine, "other", "Other MSP")
    days = timedelta(days=1)
    # This period: 8 sessions.
    add_sessions(engine, acme, NOW - 1 * days, "resolved", "resolved", "escalated", "active")
    add_sessions(engine, acme, NOW - 29 * days, "resolved", "requesting_escalation", "abandoned")
    add_sessions(engine, acme, NOW - 30 * days, "active")  # exactly the period's start: in
    # The previous period: 5 sessions.
    add_sessions(engine, acme, NOW - 30 * days - timedelta(microseconds=1), "resolved")
    add_sessions(engine, acme, NOW - 45 * days, "resolved", "escalated", "abandoned")
    add_sessions(engine, acme, NOW - 60 * days, "abandoned")  # exactly the previous start: in
    # Outside both periods.
    add_sessions(engine, acme, NOW - 60 * days - timedelta(microseconds=1), "resolved")
    add_sessions(engine, acme, NOW - 200 * days, "resolved", "escalated")
    add_sessions(engine, acme, NOW, "resolved")  # the period ends before now
    add_sessions(engine, acme, NOW + days, "resolved")
    # Another account, in both periods, with every status.
    statuses = ("active", "resolved", "escalated", "requesting_escalation", "abandoned")
    add_sessions(engine, other, NOW - 2 * days, *statuses, "resolved")
    add_sessions(engine, other, NOW - 40 * days, *statuses)
    return acme, other


def test_the_headline_counts_this_period_by_status(engine, two_accounts):
    acme, _ = two_accounts
    h = headline(engine, acme, days=30, now=NOW)

    assert (h.sessions, h.resolved, h.escalated, h.abandoned, h.active) == (8, 3, 2, 1, 2)
    assert h.resolution_rate == pytest.approx(3 / 6)  # of the sessions with an outcome: the two active ones aside
    assert (h.start, h.end, h.days) == (NOW - timedelta(days=30), NOW, 30)


def test_the_headline_counts_the_previous_period_of_equal_length(engine, two_accounts):
    acme, _ = two_accounts
    previous = headline(engine, acme, days=30, now=NOW).previous

    assert (previous.sessions, previous.resolved, previous.escalated, previous.abandoned, previous.active) == (
        5, 2, 1, 2, 0)
    assert previous.resolution_rate == pytest.approx(2 / 5)


def test_another_accounts_sessions_are_never_counted(engine, two_accounts):
    acme, other = two_accounts
    theirs = headline(engine, other, days=30, now=NOW)
    ours = headline(engine, acme, days=30, now=NOW)

    assert (theirs.sessions, theirs.resolved, theirs.escalated, theirs.abandoned, theirs.active) == (6, 2, 2, 1, 1)
    assert theirs.previous.sessions == 5
    assert ours.sessions == 8


@pytest.mark.parametrize("days", [7, 30, 90])
def test_home_and_analytics_give_the_same_resolution_rate_for_the_same_period(engine, two_accounts, days):
    acme, _ = two_accounts
    home = headline(engine, acme, days=days, now=NOW)
    with unit_of_work(engine) as db:
        analytics = build_metrics(db, OPERATOR, acme, days=days, now=NOW)["volume"]

    assert home.resolution_rate == analytics["resolution_rate"].value
    assert home.previous.resolution_rate == analytics["resolution_rate"].previous
    assert (home.sessions, home.previous.sessions) == (analytics["sessions"].value, analytics["sessions"].previous)


def test_a_change_against_a_previous_period_the_data_does_not_reach_is_not_made(engine, two_accounts):
    acme, other = two_accounts
    # acme's data starts 200 days back; other's 40 days back, inside the previous 30 days.
    assert headline(engine, acme, days=30, now=NOW).comparison.covered
    theirs = headline(engine, other, days=30, now=NOW).comparison
    assert not theirs.covered
    assert theirs.change("+1") == "no data before" and theirs.colour("normal") == "off"
    assert "after the previous period's start" in theirs.sentence()


def test_a_change_against_a_thin_previous_period_says_so_and_has_no_colour(engine, two_accounts):
    acme, _ = two_accounts
    comparison = headline(engine, acme, days=30, now=NOW).comparison  # 5 sessions before

    assert comparison.covered and comparison.thin
    assert comparison.change("+3") == "+3 (thin: 5 before)"
    assert comparison.colour("inverse") == "off"


def test_a_shorter_period_moves_both_windows(engine, two_accounts):
    acme, _ = two_accounts
    h = headline(engine, acme, days=7, now=NOW)

    assert (h.sessions, h.resolved, h.escalated, h.active) == (4, 2, 1, 1)
    assert h.previous.sessions == 0
    assert h.previous.resolution_rate is None


def test_an_account_without_sessions_has_zero_counts_and_no_rate(engine):
    empty = add_account(engine, "empty", "Empty")
    h = headline(engine, empty, now=NOW)

    assert (h.sessions, h.resolved, h.escalated, h.abandoned, h.active) == (0, 0, 0, 0, 0)
    assert h.resolution_rate is None
    assert h.previous.sessions == 0


def test_now_defaults_to_the_current_time(engine):
    acme = add_account(engine, "acme", "Acme IT")
    add_sessions(engine, acme, datetime.now(timezone.utc) - timedelta(hours=1), "resolved")
    assert headline(engine, acme).sessions == 1


def test_a_period_shorter_than_a_day_is_refused(engine):
    acme = add_account(engine, "acme", "Acme IT")
    with pytest.raises(ValueError, match="at least 1"):
        headline(engine, acme, days=0, now=NOW)


def test_the_account_list_holds_every_account_by_name(engine):
    add_account(engine, "zeta", "Zeta Networks")
    add_account(engine, "acme", "Acme IT")
    with unit_of_work(engine) as db:
        accounts = list_accounts(db)

    assert [(a.slug, a.name) for a in accounts] == [("acme", "Acme IT"), ("zeta", "Zeta Networks")]
    assert all(isinstance(a, AccountRef) and a.id for a in accounts)


def test_an_empty_database_has_no_accounts(engine):
    with unit_of_work(engine) as db:
        assert list_accounts(db) == []
