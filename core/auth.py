"""Who may do what: sign-in, the signed-in user's accounts, and the role checks every service makes.

The dashboard decides which pages to show from the same permissions, but that is only
convenience: every core service checks the role again against the database, so a request that
skips the navigation still meets a refusal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.models import Account, Membership, User
from core.passwords import verify_password
from core.types import utcnow
from core.users import normalise_email

# What each role may do. A later page names its permission here and in the dashboard's page list.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"home", "view_queue", "review", "view_flows", "analytics", "knowledge_gaps", "exports",
                        "scripts", "tune_gaps"}),
    "manager": frozenset({"home", "view_queue", "view_flows", "analytics", "knowledge_gaps", "scripts"}),
    "analyst": frozenset({"home", "analytics", "knowledge_gaps", "exports"}),
}

# For refusals: "Your role in this account (manager) may not review proposals."
PERMISSION_TEXT = {
    "home": "open the home page", "view_queue": "see the review queue", "review": "review proposals",
    "view_flows": "see the flows", "analytics": "see the analytics", "knowledge_gaps": "see the knowledge gaps",
    "exports": "export data", "scripts": "generate scripts",
    "tune_gaps": "change the knowledge-gap thresholds",
}

WRONG_CREDENTIALS = "Wrong email or password."


class NotAllowed(PermissionError):
    """The signed-in user may not do this in this account."""


class SignInFailed(Exception):
    """Deliberately says no more than "wrong email or password", whatever went wrong."""

    def __init__(self, message: str = WRONG_CREDENTIALS):
        super().__init__(message)


class SignInThrottled(SignInFailed):
    def __init__(self, retry_after_seconds: float):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            f"Too many failed sign-ins for this email. Try again in {max(1, round(retry_after_seconds))} seconds."
        )


@dataclass(frozen=True)
class AccountRole:
    account_id: int
    slug: str
    name: str
    role: str


@dataclass(frozen=True)
class Actor:
    """A signed-in user and their memberships, read from the database on each request."""

    user_id: int
    email: str
    display_name: str | None
    accounts: tuple[AccountRole, ...]

    @property
    def label(self) -> str:
        return self.display_name or self.email

    def role_in(self, account_id: int) -> str | None:
        return next((a.role for a in self.accounts if a.account_id == account_id), None)

    def may(self, account_id: int, permission: str) -> bool:
        role = self.role_in(account_id)
        return role is not None and permission in PERMISSIONS[role]


def load_actor(db: OrmSession, user_id: int) -> Actor | None:
    """The active user with their memberships by account name; None when gone or deactivated."""
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        return None
    rows = db.execute(
        select(Account.id, Account.slug, Account.name, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user_id)
        .order_by(Account.name, Account.slug)
    ).all()
    return Actor(user.id, user.email, user.display_name, tuple(AccountRole(*row) for row in rows))


def actor_for_email(db: OrmSession, email: str) -> Actor | None:
    """For single sign-on: the identity provider vouched for the email, the users table gives the roles."""
    user_id = db.scalar(select(User.id).where(User.email == normalise_email(email)))
    return None if user_id is None else load_actor(db, user_id)


def authorize(db: OrmSession, actor: Actor, account_id: int, permission: str) -> str:
    """The actor's role in the account, fresh from the database, if it grants ``permission``."""
    role = db.scalar(
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.user_id == actor.user_id, Membership.account_id == account_id, User.is_active)
    )
    if role is None:
        raise NotAllowed("You are not a member of this account.")
    if permission not in PERMISSIONS[role]:
        raise NotAllowed(f"Your role in this account ({role}) may not {PERMISSION_TEXT.get(permission, permission)}.")
    return role


# Verified against when the email is unknown, so an unknown email costs the same time as a
# wrong password and the response time does not tell which emails have accounts. Written out,
# not hashed at import: every command-line run imports this module, and hashing cost it 0.3 s.
# A test checks that its parameters are the hasher's, so that both checks cost the same.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$Tosls4dkCWjM6mCyRsvE8Q$Kkj3HvBftpKY5fsHTuCDOWOgR8qyciVmRqMj6OoGFnQ"


def authenticate(db: OrmSession, email: str, password: str, now: datetime | None = None) -> Actor:
    """The user whose password this is; records the sign-in time. Raises SignInFailed otherwise."""
    user = db.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise SignInFailed()
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise SignInFailed()
    user.last_login_at = now or utcnow()
    actor = load_actor(db, user.id)
    if actor is None:
        raise SignInFailed()
    return actor


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0


@dataclass
class SignInThrottle:
    """Slows down guessing: after ``free_attempts`` failures for one email, each further attempt
    must wait, twice as long as the last, up to ``max_delay`` seconds. In memory, per process:
    the dashboard is one process, and a restart forgetting the count is acceptable."""

    free_attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 300.0
    max_entries: int = 10_000  # emails remembered at once; expired ones go first
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, email: str) -> None:
        """Raises SignInThrottled while the email is blocked."""
        with self._lock:
            entry = self._failures.get(normalise_email(email))
            if entry is not None:
                wait = entry.blocked_until - self.clock()
                if wait > 0:
                    raise SignInThrottled(wait)

    def failed(self, email: str) -> None:
        with self._lock:
            if len(self._failures) >= self.max_entries:
                self._forget_expired()
            entry = self._failures.setdefault(normalise_email(email), _Failures())
            entry.count += 1
            if entry.count >= self.free_attempts:
                delay = min(self.max_delay, self.base_delay * 2 ** (entry.count - self.free_attempts))
                entry.blocked_until = self.clock() + delay

    def _forget_expired(self) -> None:
        """Bounds the memory a flood of made-up emails can take: entries whose wait is over go."""
        now = self.clock()
        for key in [k for k, v in self._failures.items() if v.blocked_until <= now]:
            del self._failures[key]

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(normalise_email(email), None)


def sign_in(db: OrmSession, throttle: SignInThrottle, email: str, password: str) -> Actor:
    """Password sign-in with the throttle around it."""
    throttle.check(email)
    try:
        actor = authenticate(db, email, password)
    except SignInFailed:
        throttle.failed(email)
        raise
    throttle.succeeded(email)
    return actor
