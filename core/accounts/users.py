"""Users and their role per account (write side)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.passwords import MIN_LENGTH, hash_password
from core.models import ROLES, Account, Membership, User

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """A user command that cannot be carried out, with a message for the person who gave it."""


@dataclass(frozen=True)
class UserAdded:
    email: str
    account: str
    role: str
    created_user: bool


def normalise_email(email: str) -> str:
    return email.strip().lower()


def has_users(db: OrmSession) -> bool:
    return db.scalar(select(User.id).limit(1)) is not None


def user_exists(db: OrmSession, email: str) -> bool:
    return db.scalars(select(User.id).where(User.email == normalise_email(email))).first() is not None


def add_user(db: OrmSession, email: str, account_slug: str, role: str, password: str | None) -> UserAdded:
    """Create the user (or reuse it) and give it ``role`` in the account.

    An existing user keeps its password unless a new one is given.
    """
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        raise UserError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if password is not None and len(password) < MIN_LENGTH:
        raise UserError(f"the password needs at least {MIN_LENGTH} characters")
    account = db.scalars(select(Account).where(Account.slug == account_slug)).one_or_none()
    if account is None:
        known = ", ".join(db.scalars(select(Account.slug).order_by(Account.slug)).all()) or "none yet"
        raise UserError(f"no account {account_slug!r} (accounts: {known})")
    user = db.scalars(select(User).where(User.email == email)).one_or_none()
    created = user is None
    if user is None:
        if password is None:
            raise UserError("a new user needs a password")
        user = User(email=email, password_hash=hash_password(password))
        db.add(user)
        db.flush()
    elif password is not None:
        user.password_hash = hash_password(password)
    membership = db.get(Membership, (user.id, account.id))
    if membership is None:
        db.add(Membership(user_id=user.id, account_id=account.id, role=role))
    else:
        membership.role = role
    return UserAdded(email, account.slug, role, created)


def set_password(db: OrmSession, email: str, password: str) -> int:
    """Gives an existing user a new password (for a lost one); their user id. Raises UserError."""
    if len(password) < MIN_LENGTH:
        raise UserError(f"the password needs at least {MIN_LENGTH} characters")
    user = db.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    if user is None:
        raise UserError(f"no user {normalise_email(email)!r} (add one with `python -m core user add`)")
    user.password_hash = hash_password(password)
    return user.id
