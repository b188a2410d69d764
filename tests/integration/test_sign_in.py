"""Password sign-in through the throttle, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.accounts.auth import SignInFailed, SignInPaused, SignInThrottle, SignInThrottled, sign_in
from core.db import unit_of_work
from tests import factories as make


@pytest.fixture
def users(engine: Engine) -> Engine:
    with unit_of_work(engine) as db:
        make.two_accounts_with_a_user_per_role(db)
    return engine


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def attempt(engine: Engine, throttle: SignInThrottle, email: str, password: str):
    with unit_of_work(engine) as db:
        return sign_in(db, throttle, email, password)


def test_a_successful_sign_in_clears_the_failures_of_its_email(users):
    throttle = SignInThrottle(free_attempts=3, clock=Clock())
    for _ in range(2):
        with pytest.raises(SignInFailed, match="Wrong email or password"):
            attempt(users, throttle, "admin@alpha.example", "wrong")
    assert attempt(users, throttle, "Admin@Alpha.example", make.PASSWORD).email == "admin@alpha.example"
    # Had the two failures been kept, the next one would be the third and block the email.
    with pytest.raises(SignInFailed, match="Wrong email or password"):
        attempt(users, throttle, "admin@alpha.example", "wrong")
    assert attempt(users, throttle, "admin@alpha.example", make.PASSWORD).email == "admin@alpha.example"


def test_a_blocked_email_is_refused_even_with_the_right_password(users):
    throttle = SignInThrottle(free_attempts=2, clock=Clock())
    for _ in range(2):
        with pytest.raises(SignInFailed):
            attempt(users, throttle, "manager@alpha.example", "wrong")
    with pytest.raises(SignInThrottled, match="for this email"):
        attempt(users, throttle, "manager@alpha.example", make.PASSWORD)


def test_a_spray_across_emails_pauses_sign_in_for_everyone(users):
    clock = Clock()
    throttle = SignInThrottle(global_max_failures=3, global_pause=20, clock=clock)
    for email in ("nobody@alpha.example", "admin@alpha.example", "analyst@alpha.example"):
        with pytest.raises(SignInFailed, match="Wrong email or password"):
            attempt(users, throttle, email, "Summer2026!")
    with pytest.raises(SignInPaused, match="Too many failed sign-ins; try again in 20 seconds"):
        attempt(users, throttle, "manager@alpha.example", make.PASSWORD)
    clock.now += 20
    assert attempt(users, throttle, "manager@alpha.example", make.PASSWORD).email == "manager@alpha.example"


@pytest.mark.parametrize("email", ["admin@alpha.example\x00", "\x00", "admin\ud800@alpha.example"])
def test_an_email_no_user_can_have_is_a_wrong_email_not_a_database_error(users, email):
    throttle = SignInThrottle(clock=Clock())
    with pytest.raises(SignInFailed, match="Wrong email or password"):
        attempt(users, throttle, email, make.PASSWORD)
