"""The sign-in throttle and the role table."""

from __future__ import annotations

import pytest

from core.auth import PERMISSIONS, SignInThrottle, SignInThrottled


def test_the_throttle_slows_repeated_failures():
    clock = [0.0]
    throttle = SignInThrottle(free_attempts=3, base_delay=2, max_delay=10, clock=lambda: clock[0])
    for _ in range(2):
        throttle.failed("A@x.example")
        throttle.check("a@x.example")
    throttle.failed("a@x.example")
    with pytest.raises(SignInThrottled, match="2 seconds"):
        throttle.check("a@x.example")
    clock[0] = 2.5
    throttle.check("a@x.example")
    throttle.failed("a@x.example")
    with pytest.raises(SignInThrottled, match="4 seconds"):
        throttle.check("a@x.example")
    throttle.check("someone-else@x.example")
    throttle.succeeded("a@x.example")
    throttle.check("a@x.example")


def test_the_throttle_forgets_expired_entries_when_full():
    clock = [0.0]
    throttle = SignInThrottle(free_attempts=1, base_delay=1, max_entries=3, clock=lambda: clock[0])
    for n in range(3):
        throttle.failed(f"user{n}@x.example")
    clock[0] = 5.0
    throttle.failed("late@x.example")
    assert len(throttle._failures) == 1
    with pytest.raises(SignInThrottled):
        throttle.check("late@x.example")


def test_roles():
    assert "review" in PERMISSIONS["admin"] and "review" not in PERMISSIONS["manager"]
    assert "view_queue" in PERMISSIONS["manager"] and "view_queue" not in PERMISSIONS["analyst"]
    assert {"analytics", "knowledge_gaps", "exports"} <= PERMISSIONS["analyst"]
    assert "exports" not in PERMISSIONS["manager"]


def test_the_unknown_email_check_verifies_against_a_hash_of_the_hashers_own_cost():
    # Cheaper parameters would let the response time tell unknown emails from wrong passwords.
    from core import auth, passwords

    assert not passwords._hasher.check_needs_rehash(auth._DUMMY_HASH)
    assert not passwords.verify_password(auth._DUMMY_HASH, "")
