"""Session settings for one heavy read (a gap report, a metrics set) on PostgreSQL.

4 MB of work_mem sends the sorts of a report over a million sessions to disk (tens of MB
each); JIT compiles each statement anew on every cold connection (60-270 ms apiece) for
queries that run once. Both are set for the transaction only and put back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session as OrmSession

REPORT_SETTINGS = {"work_mem": "64MB", "jit": "off"}


@contextmanager
def report_settings(db: OrmSession) -> Iterator[None]:
    """``REPORT_SETTINGS`` while the block runs (PostgreSQL only), then the previous values again."""
    with local_settings(db, REPORT_SETTINGS):
        yield


@contextmanager
def local_settings(db: OrmSession | Connection, settings: dict[str, str]) -> Iterator[None]:
    """PostgreSQL settings for the transaction while the block runs, then the previous values
    again; nothing on SQLite."""
    bind = db if isinstance(db, Connection) else db.get_bind()
    if bind.dialect.name != "postgresql":
        yield
        return
    names = list(settings)
    before = db.execute(select(*(func.current_setting(n) for n in names))).one()
    _set(db, settings)
    yield
    # Not on an error: the transaction is then rolled back, which undoes transaction-local settings.
    _set(db, dict(zip(names, before)))


def _set(db: OrmSession | Connection, settings: dict[str, str]) -> None:
    db.execute(select(*(func.set_config(n, v, True) for n, v in settings.items())))
