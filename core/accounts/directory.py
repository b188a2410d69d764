"""The accounts (MSP tenants) as every reader names them: id, slug for the command line, name for people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.models import Account


@dataclass(frozen=True)
class AccountRef:
    id: int
    slug: str
    name: str


def list_accounts(db: OrmSession) -> list[AccountRef]:
    """Every account, by name, for the account switcher."""
    rows = db.execute(select(Account.id, Account.slug, Account.name).order_by(Account.name, Account.slug))
    return [AccountRef(id=i, slug=s, name=n) for i, s, n in rows]
