"""Stay signed in: a random token per browser sign-in, checked against the database on every run.

The browser keeps the token in a cookie (the dashboard writes and reads it); the database keeps
only its SHA-256, so a copy of the table, a backup or a log of its rows signs nobody in. A token
is good while it is not revoked, not past its absolute expiry and not idle longer than the idle
timeout; the user and their memberships are read again each time (``load_actor``), so a
deactivated user or a removed membership takes effect on the next run. Signing out revokes every
token of the user at once: every browser and tab they signed in with.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, load_actor
from core.models import SignInSession
from core.types import utcnow

# 256 bits from the operating system's generator, as URL-safe base64: 43 characters that need no
# quoting in a cookie or a script.
TOKEN_BYTES = 32
_TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")

# Activity is written at most this often (a dashboard reruns on every click): a sign-out for
# idleness can come up to this much early, never late.
TOUCH_INTERVAL = timedelta(minutes=1)

Ended = Literal["unknown", "revoked", "expired", "idle", "no_user"]


@dataclass(frozen=True)
class Resolved:
    """What a token is worth on this run: the signed-in user, or why there is none."""

    actor: Actor | None
    ended: Ended | None = None


def token_shaped(token: object) -> bool:
    """Whether this could be one of our tokens (what a browser sends may be anything)."""
    return isinstance(token, str) and _TOKEN_FORMAT.fullmatch(token) is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_sign_in_session(db: OrmSession, user_id: int, lifetime: timedelta, now: datetime | None = None) -> str:
    """A new token for the user, good for at most ``lifetime``; the caller hands it to the browser.

    The user's dead tokens (revoked or expired) are deleted on the way, so the table holds about
    one row per browser that is signed in, not one per sign-in ever made.
    """
    now = now or utcnow()
    db.execute(delete(SignInSession).where(
        SignInSession.user_id == user_id,
        or_(SignInSession.revoked_at.is_not(None), SignInSession.expires_at <= now)))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.add(SignInSession(user_id=user_id, token_hash=token_hash(token), created_at=now, last_seen_at=now,
                         expires_at=now + lifetime))
    db.flush()
    return token


def _touch_interval(idle_timeout: timedelta) -> timedelta:
    # A short timeout (a test's few seconds) needs finer bookkeeping than once a minute.
    return min(TOUCH_INTERVAL, idle_timeout / 10)


def resolve_sign_in_session(db: OrmSession, token: str | None, idle_timeout: timedelta,
                            now: datetime | None = None) -> Resolved:
    """The user a token signs in, with their memberships read now; or why it signs in nobody.

    ``token`` is whatever the browser sent: anything that is not a token of ours is "unknown"
    without a query. A good token records the activity (at most once per ``TOUCH_INTERVAL``).
    """
    if not token_shaped(token):
        return Resolved(None, "unknown")
    now = now or utcnow()
    row = db.scalars(select(SignInSession).where(SignInSession.token_hash == token_hash(token))).one_or_none()
    if row is None:
        return Resolved(None, "unknown")
    if row.revoked_at is not None:
        return Resolved(None, "revoked")
    if row.expires_at <= now:
        return Resolved(None, "expired")
    if now - row.last_seen_at > idle_timeout:
        return Resolved(None, "idle")
    actor = load_actor(db, row.user_id)
    if actor is None:
        # Deactivated: the token must not come back to life if the user is reactivated.
        row.revoked_at = now
        return Resolved(None, "no_user")
    if now - row.last_seen_at >= _touch_interval(idle_timeout):
        row.last_seen_at = now
    return Resolved(actor)


def revoke_sign_in_sessions(db: OrmSession, user_id: int, now: datetime | None = None) -> int:
    """Signs the user out everywhere: every live token of theirs stops working. How many there were."""
    result = db.execute(update(SignInSession)
                        .where(SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None))
                        .values(revoked_at=now or utcnow()))
    return result.rowcount or 0

