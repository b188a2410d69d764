"""Who may do what: sign-in, the signed-in user's accounts, and the role checks every service makes.

The dashboard decides which pages to show from the same permissions, but that is only
convenience: every core service checks the role again against the database, so a request that
skips the navigation still meets a refusal.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.passwords import verify_password
from core.accounts.users import normalise_email
from core.models import Account, Membership, User
from core.storable import findable
from core.types import utcnow

# What each role may do, before the derived permissions below. A later page names its
# permission here and in the dashboard's page list.
_GRANTED: dict[str, frozenset[str]] = {
    "admin": frozenset({"home", "view_queue", "review", "view_flows", "analytics", "knowledge_gaps", "exports",
                        "scripts", "tune_gaps"}),
    "manager": frozenset({"home", "view_queue", "view_flows", "analytics", "knowledge_gaps", "scripts"}),
    "analyst": frozenset({"home", "analytics", "knowledge_gaps", "exports"}),
}
# Who decided what (the audit log): those who run the review (admins, managers), and any other role
# exactly when it may export the account's data, since the log is then no more than it could take away.
ACTIVITY_ROLES = ("admin", "manager")


def with_activity(granted: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """``granted`` plus "view_activity" for ``ACTIVITY_ROLES`` and for every role that may export."""
    return {role: permissions | {"view_activity"} if role in ACTIVITY_ROLES or "exports" in permissions
            else permissions for role, permissions in granted.items()}


PERMISSIONS: dict[str, frozenset[str]] = with_activity(_GRANTED)

# For refusals: "Your role in this account (manager) may not review proposals."
PERMISSION_TEXT = {
    "home": "open the home page", "view_queue": "see the review queue", "review": "review proposals",
    "view_flows": "see the flows", "analytics": "see the analytics", "knowledge_gaps": "see the knowledge gaps",
    "exports": "export data", "scripts": "generate scripts",
    "tune_gaps": "change the knowledge-gap thresholds", "view_activity": "see who decided what (Activity)",
}

WRONG_CREDENTIALS = "Wrong email or password."


class NotAllowed(PermissionError):
    """The signed-in user may not do this in this account."""


class SignInFailed(Exception):
    """Deliberately says no more than "wrong email or password", whatever went wrong."""

    def __init__(self, message: str = WRONG_CREDENTIALS):
        super().__init__(message)


def _seconds(wait: float) -> str:
    # Rounded up: "try again in 0 seconds" would be refused once more.
    return f"{max(1, math.ceil(wait))} seconds"


class SignInThrottled(SignInFailed):
    """Too many failed sign-ins for this email: refused without trying the password."""

    def __init__(self, retry_after_seconds: float, message: str | None = None):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message or f"Too many failed sign-ins for this email. Try again in "
                                    f"{_seconds(retry_after_seconds)}.")


class SignInPaused(SignInThrottled):
    """Too many failed sign-ins on this server, whatever the email: every sign-in waits."""

    def __init__(self, retry_after_seconds: float):
        super().__init__(retry_after_seconds,
                         f"Too many failed sign-ins; try again in {_seconds(retry_after_seconds)}.")


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


class SystemActor:
    """The operator at the command line (``python -m core metrics|export``): someone with a shell
    on the server and its database settings, who could read every table directly anyway.

    The permission checks accept it for the permissions it names and nothing else, so the command
    line goes through the same checked services as the dashboard instead of around them, and a
    refusal names it. Only the command-line package may make one (checked here, at construction),
    so a page cannot pass it by mistake: use ``core.commands.OPERATOR``.
    """

    __slots__ = ("name", "permissions")

    def __init__(self, name: str, permissions: frozenset[str]):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller != "core.commands" and not caller.startswith("core.commands."):
            raise TypeError(f"a SystemActor acts for the command line only, not for {caller or 'this code'}; "
                            "services called for a signed-in user take their Actor")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "permissions", frozenset(permissions))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a SystemActor cannot be changed")

    def __repr__(self) -> str:
        return f"SystemActor({self.name!r}, {sorted(self.permissions)!r})"

    @property
    def label(self) -> str:
        return self.name


# Who a checked service may act for: a signed-in user, or the operator at the command line.
Principal = Actor | SystemActor


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
    if not findable(email):
        return None
    user_id = db.scalar(select(User.id).where(User.email == normalise_email(email)))
    return None if user_id is None else load_actor(db, user_id)


class SingleSignOnRefused(SignInFailed):
    """The identity provider's answer does not let us trust the email it names."""


def verified_sso_email(claims: Mapping[str, Any]) -> str:
    """The email single sign-on vouches for, from the provider's ID-token claims.

    The email is what maps the identity to a FlowPilot user, so it must be one the provider
    checked belongs to the person: an unverified email would let anyone who can register it at
    the provider (or, with some providers, type it into their profile) sign in as that user.
    Only ``email_verified`` true (the boolean, or the text "true" that some providers send) is
    accepted. A missing claim is refused too: it is the safe reading, since a provider that
    leaves it out does not tell us the email was checked. Raises SingleSignOnRefused.
    """
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise SingleSignOnRefused("The identity provider did not give an email address, so single sign-on "
                                  "cannot tell which FlowPilot Insights user you are.")
    verified = claims.get("email_verified")
    if verified is True or (isinstance(verified, str) and verified.strip().lower() == "true"):
        return email.strip()
    # The email is left out of the message: it is the provider's text, shown on the sign-in page.
    reason = "does not say it has verified" if verified is None else "has not verified"
    raise SingleSignOnRefused(f"The identity provider {reason} your email address, so single sign-on cannot "
                              "use it. Verify it with the provider, or ask an admin.")


def authorize(db: OrmSession, actor: Principal, account_id: int, permission: str) -> str:
    """The actor's role in the account, fresh from the database, if it grants ``permission``.
    The command line's operator has no role: its own list of permissions decides."""
    if isinstance(actor, SystemActor):
        if permission not in actor.permissions:
            raise NotAllowed(f"The {actor.name} may not {PERMISSION_TEXT.get(permission, permission)}.")
        return "operator"
    if not isinstance(actor, Actor):
        # Not an account id or a user id passed by mistake: that must not be read as permission.
        raise TypeError(f"authorize needs an Actor or SystemActor, not {type(actor).__name__}")
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
    user = None
    if findable(email):
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
    """Slows down password guessing, in memory and per process (see docs/security.md).

    Per email: after ``free_attempts`` failures, each further attempt must wait, twice as long as
    the last, up to ``max_delay`` seconds. Across all emails: once ``global_max_failures`` sign-ins
    fail within ``global_window`` seconds, every sign-in is refused for ``global_pause`` seconds, so
    one guess at each of many emails (which the per-email count never sees) is slowed too.

    At most ``max_entries`` emails are remembered. To make room, the email whose last failure is
    oldest among those not blocked right now is forgotten; an active block is never forgotten
    (else a flood of failures on made-up emails would lift it). When every remembered email is
    blocked, sign-ins for emails not yet remembered are refused until the first block ends.
    """

    free_attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 300.0
    max_entries: int = 10_000
    global_max_failures: int = 50
    global_window: float = 60.0
    global_pause: float = 60.0
    clock: Callable[[], float] = time.monotonic
    # Least recently failed first: the order in which entries are considered for eviction.
    _failures: OrderedDict[str, _Failures] = field(default_factory=OrderedDict)
    # Times of the recent failures, all emails together; at most global_max_failures of them.
    _recent: deque[float] = field(default_factory=deque)
    _paused_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, email: str) -> None:
        """Raises SignInThrottled while sign-ins are paused, this email is blocked, or there is no
        room to remember one more email."""
        key = normalise_email(email)
        with self._lock:
            now = self.clock()
            if self._paused_until > now:
                raise SignInPaused(self._paused_until - now)
            entry = self._failures.get(key)
            if entry is not None:
                if entry.blocked_until > now:
                    raise SignInThrottled(entry.blocked_until - now)
            elif not self._make_room(now):
                # Refused before the password is tried, so the attempt cannot go unrecorded.
                raise SignInPaused(self._first_unblock(now) - now)

    def failed(self, email: str) -> None:
        key = normalise_email(email)
        with self._lock:
            now = self.clock()
            self._count_globally(now)
            entry = self._failures.get(key)
            if entry is None:
                if not self._make_room(now):
                    # Only when the table filled between check() and here; the global count has it.
                    return
                entry = self._failures[key] = _Failures()
            else:
                self._failures.move_to_end(key)
            entry.count += 1
            if entry.count >= self.free_attempts:
                delay = min(self.max_delay, self.base_delay * 2 ** (entry.count - self.free_attempts))
                entry.blocked_until = now + delay

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(normalise_email(email), None)

    def _count_globally(self, now: float) -> None:
        recent = self._recent
        while recent and recent[0] <= now - self.global_window:
            recent.popleft()
        recent.append(now)
        if len(recent) >= self.global_max_failures:
            self._paused_until = now + self.global_pause
            # A fresh count after the pause: the failures that caused it are paid for.
            recent.clear()

    def _make_room(self, now: float) -> bool:
        """Room for one more email: forgets the least recently failed email that is not blocked.
        False when every remembered email is blocked."""
        if len(self._failures) < self.max_entries:
            return True
        # Oldest first, so the scan passes only the blocks older than the first unblocked entry.
        victim = next((k for k, v in self._failures.items() if v.blocked_until <= now), None)
        if victim is None:
            return False
        del self._failures[victim]
        return True

    def _first_unblock(self, now: float) -> float:
        return min((v.blocked_until for v in self._failures.values()), default=now)


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
