"""Staying signed in: tokens issued, resolved, idle, expired and revoked, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from core.db import unit_of_work
from core.models import Membership, SignInSession, User
from core.accounts.sign_in_sessions import (issue_sign_in_session, resolve_sign_in_session, revoke_sign_in_sessions,
                                   token_shaped)
from tests import factories as make

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
IDLE = timedelta(minutes=60)
LIFETIME = timedelta(hours=12)


@pytest.fixture
def users(engine: Engine) -> Engine:
    with unit_of_work(engine) as db:
        make.two_accounts_with_a_user_per_role(db)
    return engine


def user_id(engine: Engine, email: str) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(User.id).where(User.email == email))


def issue(engine: Engine, email: str, at: datetime = T0) -> str:
    with unit_of_work(engine) as db:
        return issue_sign_in_session(db, user_id(engine, email), LIFETIME, now=at)


def resolve(engine: Engine, token: str | None, at: datetime, idle: timedelta = IDLE):
    with unit_of_work(engine) as db:
        return resolve_sign_in_session(db, token, idle, now=at)


def test_a_token_signs_its_user_in_with_their_roles(users):
    token = issue(users, "manager@alpha.example")
    resolved = resolve(users, token, T0 + timedelta(minutes=5))
    assert resolved.ended is None
    assert resolved.actor.email == "manager@alpha.example"
    assert [(a.slug, a.role) for a in resolved.actor.accounts] == [("alpha-it", "manager")]


def test_the_database_keeps_only_the_tokens_hash(users):
    token = issue(users, "admin@alpha.example")
    assert token_shaped(token) and len(token) == 43  # 256 random bits
    with unit_of_work(users) as db:
        row = db.scalars(select(SignInSession)).one()
        stored = [str(getattr(row, c.key)) for c in SignInSession.__table__.columns]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in value for value in stored)


def test_every_sign_in_gets_its_own_token(users):
    tokens = {issue(users, "admin@alpha.example") for _ in range(20)}
    assert len(tokens) == 20


def test_activity_keeps_a_token_alive_and_idleness_ends_it(users):
    token = issue(users, "admin@alpha.example")
    assert resolve(users, token, T0 + timedelta(minutes=50)).actor is not None
    # 50 minutes after that activity: idle 50 minutes, not 100.
    assert resolve(users, token, T0 + timedelta(minutes=100)).actor is not None
    assert resolve(users, token, T0 + timedelta(minutes=161)).ended == "idle"
    # An idle token stays ended, even if it is presented again at once.
    assert resolve(users, token, T0 + timedelta(minutes=161, seconds=1)).ended == "idle"


def test_activity_is_written_at_most_once_a_minute(users):
    token = issue(users, "admin@alpha.example")
    for seconds in (10, 20, 59):
        resolve(users, token, T0 + timedelta(seconds=seconds))
    with unit_of_work(users) as db:
        assert db.scalar(select(SignInSession.last_seen_at)) == T0
    resolve(users, token, T0 + timedelta(seconds=61))
    with unit_of_work(users) as db:
        assert db.scalar(select(SignInSession.last_seen_at)) == T0 + timedelta(seconds=61)


def test_a_short_idle_timeout_records_activity_more_often(users):
    token = issue(users, "admin@alpha.example")
    idle = timedelta(seconds=10)
    for seconds in range(5, 60, 5):
        assert resolve(users, token, T0 + timedelta(seconds=seconds), idle).actor is not None
    assert resolve(users, token, T0 + timedelta(seconds=71), idle).ended == "idle"


def test_a_token_expires_after_its_lifetime_however_active(users):
    token = issue(users, "analyst@alpha.example")
    at = T0
    while at < T0 + LIFETIME - timedelta(minutes=30):
        at += timedelta(minutes=30)
        assert resolve(users, token, at).actor is not None
    assert resolve(users, token, T0 + LIFETIME).ended == "expired"


def test_signing_out_ends_every_browser_of_that_user_and_no_one_elses(users):
    laptop, phone = issue(users, "admin@alpha.example"), issue(users, "admin@alpha.example")
    colleague = issue(users, "manager@alpha.example")
    with unit_of_work(users) as db:
        assert revoke_sign_in_sessions(db, user_id(users, "admin@alpha.example"), now=T0) == 2
    later = T0 + timedelta(minutes=1)
    assert resolve(users, laptop, later).ended == "revoked"
    assert resolve(users, phone, later).ended == "revoked"
    assert resolve(users, colleague, later).actor.email == "manager@alpha.example"


def test_a_deactivated_user_is_signed_out_on_the_next_run_and_stays_out_when_reactivated(users):
    token = issue(users, "manager@alpha.example")
    with unit_of_work(users) as db:
        db.scalars(select(User).where(User.email == "manager@alpha.example")).one().is_active = False
    assert resolve(users, token, T0 + timedelta(minutes=1)).ended == "no_user"
    with unit_of_work(users) as db:
        db.scalars(select(User).where(User.email == "manager@alpha.example")).one().is_active = True
    assert resolve(users, token, T0 + timedelta(minutes=2)).ended == "revoked"


def test_a_removed_membership_is_gone_on_the_next_run(users):
    token = issue(users, "analyst@alpha.example")
    assert resolve(users, token, T0).actor.accounts
    with unit_of_work(users) as db:
        db.execute(delete(Membership).where(Membership.user_id == user_id(users, "analyst@alpha.example")))
    assert resolve(users, token, T0 + timedelta(seconds=1)).actor.accounts == ()


def test_a_new_sign_in_clears_the_users_dead_tokens_only(users):
    revoked = issue(users, "admin@alpha.example")
    with unit_of_work(users) as db:
        revoke_sign_in_sessions(db, user_id(users, "admin@alpha.example"), now=T0)
    live = issue(users, "admin@alpha.example", at=T0 + timedelta(minutes=1))
    issue(users, "admin@alpha.example", at=T0 + timedelta(minutes=2))
    with unit_of_work(users) as db:
        hashed = hashlib.sha256(revoked.encode()).hexdigest()
        assert db.scalar(select(SignInSession.id).where(SignInSession.token_hash == hashed)) is None
        assert len(db.scalars(select(SignInSession)).all()) == 2
    assert resolve(users, live, T0 + timedelta(minutes=3)).actor is not None


def test_a_gone_user_takes_their_tokens_with_them(users):
    token = issue(users, "admin@alpha.example")
    with unit_of_work(users) as db:
        db.delete(db.scalars(select(User).where(User.email == "admin@alpha.example")).one())
    assert resolve(users, token, T0).ended == "unknown"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.none(), st.text(), st.text(alphabet="ABCxyz019_-", min_size=43, max_size=43),
                 st.sampled_from(["\x00" * 43, "a" * 42 + "\ud800", "' OR 1=1 --" + "a" * 32])))
def test_nothing_a_browser_makes_up_signs_anyone_in(users, cookie):
    issue(users, "admin@alpha.example")
    resolved = resolve(users, cookie, T0 + timedelta(minutes=1))
    assert (resolved.actor, resolved.ended) == (None, "unknown")
