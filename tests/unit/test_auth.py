"""The sign-in throttle and the role table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.accounts.auth import (PERMISSIONS, SignInFailed, SignInPaused, SignInThrottle, SignInThrottled, SingleSignOnRefused,
                       verified_sso_email)


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


class Clock:
    """A clock the test moves by hand, so nothing sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def throttle_with(clock: Clock, **settings) -> SignInThrottle:
    return SignInThrottle(clock=clock, **settings)


def test_a_full_throttle_forgets_the_least_recently_failed_unblocked_email():
    clock = Clock()
    throttle = throttle_with(clock, free_attempts=3, max_entries=3)
    for name in ("first", "second", "third"):
        throttle.failed(f"{name}@x.example")
        clock.now += 1
    throttle.failed("first@x.example")  # now the most recent: second@ is the oldest
    throttle.failed("late@x.example")
    assert list(throttle._failures) == ["third@x.example", "first@x.example", "late@x.example"]


def test_a_block_survives_ten_thousand_failures_on_other_emails():
    clock = Clock()
    throttle = throttle_with(clock, global_max_failures=10**9)  # this test is about the per-email table
    for _ in range(3):
        throttle.failed("victim@x.example")
    for n in range(12_000):
        throttle.failed(f"made-up-{n}@x.example")
    assert len(throttle._failures) == throttle.max_entries == 10_000
    with pytest.raises(SignInThrottled, match="for this email"):
        throttle.check("victim@x.example")


def test_the_throttle_remembers_at_most_max_entries_emails():
    clock = Clock()
    throttle = throttle_with(clock, max_entries=50, global_max_failures=10**9)
    for n in range(1_000):
        email = f"user{n % 200}@x.example"
        try:
            throttle.check(email)
        except SignInThrottled:
            pass
        else:
            throttle.failed(email)
        clock.now += 0.5
        assert len(throttle._failures) <= 50


def test_when_every_remembered_email_is_blocked_a_new_email_waits_instead_of_lifting_a_block():
    clock = Clock()
    throttle = throttle_with(clock, free_attempts=1, base_delay=10, max_entries=3, global_max_failures=10**9)
    for n in range(3):
        throttle.failed(f"blocked{n}@x.example")
    clock.now = 4
    with pytest.raises(SignInPaused, match="try again in 6 seconds"):
        throttle.check("new@x.example")
    for n in range(3):
        with pytest.raises(SignInThrottled):
            throttle.check(f"blocked{n}@x.example")
    clock.now = 10  # the first blocks end: their entries may go
    throttle.check("new@x.example")
    throttle.failed("new@x.example")
    assert "new@x.example" in throttle._failures and len(throttle._failures) == 3


def test_one_guess_at_each_of_many_emails_pauses_every_sign_in():
    clock = Clock()
    throttle = throttle_with(clock, global_max_failures=20, global_window=60, global_pause=30)
    for n in range(19):
        throttle.check(f"sprayed{n}@x.example")
        throttle.failed(f"sprayed{n}@x.example")
        clock.now += 1
    throttle.check("anyone@x.example")
    throttle.failed("sprayed19@x.example")
    for email in ("sprayed0@x.example", "never-tried@x.example", "the-admin@x.example"):
        with pytest.raises(SignInPaused, match=r"^Too many failed sign-ins; try again in 30 seconds\.$"):
            throttle.check(email)
    clock.now += 30
    throttle.check("the-admin@x.example")


def test_failures_older_than_the_window_do_not_count_towards_the_pause():
    clock = Clock()
    throttle = throttle_with(clock, global_max_failures=5, global_window=60)
    for n in range(100):
        throttle.failed(f"slow{n}@x.example")
        clock.now += 15  # four a minute: under the limit of five
        throttle.check("anyone@x.example")


def test_a_successful_sign_in_clears_the_emails_failures():
    clock = Clock()
    throttle = throttle_with(clock, free_attempts=3)
    throttle.failed("a@x.example")
    throttle.failed("a@x.example")
    throttle.succeeded("A@x.example")
    throttle.failed("a@x.example")
    throttle.failed("a@x.example")
    throttle.check("a@x.example")  # two failures since the success: still free
    assert throttle._failures["a@x.example"].count == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["fail", "check", "succeed"]), st.integers(0, 11),
                          st.floats(0, 40)), max_size=150))
def test_no_sequence_of_sign_ins_lifts_an_active_block_or_outgrows_the_table(steps):
    clock = Clock()
    throttle = throttle_with(clock, free_attempts=2, base_delay=5, max_delay=60, max_entries=4,
                             global_max_failures=10**9)
    blocked_until: dict[str, float] = {}
    for action, n, dt in steps:
        clock.now += dt
        email = f"u{n}@x.example"
        if action == "succeed":
            throttle.succeeded(email)
            blocked_until.pop(email, None)
        elif action == "fail":
            try:
                throttle.check(email)
            except SignInThrottled:
                continue
            throttle.failed(email)
            try:
                throttle.check(email)
            except SignInThrottled as blocked:
                blocked_until[email] = clock.now + blocked.retry_after_seconds
        else:
            try:
                throttle.check(email)
            except SignInThrottled:
                pass
        assert len(throttle._failures) <= 4
        for other, until in blocked_until.items():
            if until > clock.now:
                with pytest.raises(SignInThrottled):
                    throttle.check(other)


def test_roles():
    assert "review" in PERMISSIONS["admin"] and "review" not in PERMISSIONS["manager"]
    assert "view_queue" in PERMISSIONS["manager"] and "view_queue" not in PERMISSIONS["analyst"]
    assert {"analytics", "knowledge_gaps", "exports"} <= PERMISSIONS["analyst"]
    assert "exports" not in PERMISSIONS["manager"]


# --- single sign-on: which identities may map to a user -----------------------------------------

@pytest.mark.parametrize("verified", [True, "true", "True", "TRUE"])
def test_single_sign_on_accepts_an_email_the_provider_verified(verified):
    claims = {"email": "Manager@Alpha.example", "email_verified": verified, "is_logged_in": True}
    assert verified_sso_email(claims) == "Manager@Alpha.example"


@pytest.mark.parametrize("verified", [False, "false", "False"])
def test_single_sign_on_refuses_an_email_the_provider_reports_unverified(verified):
    with pytest.raises(SingleSignOnRefused, match="has not verified your email"):
        verified_sso_email({"email": "manager@alpha.example", "email_verified": verified})


def test_single_sign_on_refuses_an_email_when_the_provider_does_not_say_it_is_verified():
    with pytest.raises(SingleSignOnRefused, match="does not say it has verified"):
        verified_sso_email({"email": "manager@alpha.example"})


@pytest.mark.parametrize("email", [None, "", "   ", 42, ["a@x.example"]])
def test_single_sign_on_refuses_an_identity_without_an_email(email):
    with pytest.raises(SingleSignOnRefused, match="did not give an email"):
        verified_sso_email({"email": email, "email_verified": True})


def test_a_refused_single_sign_on_is_a_sign_in_failure():
    assert issubclass(SingleSignOnRefused, SignInFailed)


@given(st.one_of(st.none(), st.just(False), st.integers(), st.floats(allow_nan=True), st.binary(),
                 st.lists(st.booleans()), st.dictionaries(st.text(), st.booleans())))
def test_no_claim_but_true_or_text_counts_as_verified(verified):
    with pytest.raises(SingleSignOnRefused):
        verified_sso_email({"email": "a@x.example", "email_verified": verified})


@given(st.text().filter(lambda t: t.strip().lower() != "true"))
def test_no_text_but_true_counts_as_verified(verified):
    with pytest.raises(SingleSignOnRefused):
        verified_sso_email({"email": "a@x.example", "email_verified": verified})


def test_the_unknown_email_check_verifies_against_a_hash_of_the_hashers_own_cost():
    # Cheaper parameters would let the response time tell unknown emails from wrong passwords.
    from core.accounts import auth
    from core.accounts import passwords

    assert not passwords._hasher.check_needs_rehash(auth._DUMMY_HASH)
    assert not passwords.verify_password(auth._DUMMY_HASH, "")
