"""Subcommands of `python -m core`, one module per area; each has `register(subparsers)`.

What they share: engines from the settings, progress on a terminal, and the operator they act as.
"""

from __future__ import annotations

import sys

from sqlalchemy import Engine

from core.accounts.auth import SystemActor
from core.db import make_engine, require_current_schema
from core.sessions.importer import Progress, ProgressCallback
from core.settings import get_settings

# Who the command line acts as: the operator with a shell on the server, who needs no user
# account. The services still check it; it may read the figures and the exports (the activity
# export among them), nothing more.
OPERATOR = SystemActor("operator at the command line", frozenset({"analytics", "exports", "view_activity"}))


def engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


def ready_engine() -> Engine:
    """An engine on an up-to-date schema; the embedded database upgrades itself."""
    db_engine = engine()
    require_current_schema(db_engine, auto_upgrade=get_settings().uses_embedded_database)
    return db_engine


def progress_printer() -> ProgressCallback | None:
    """A one-line progress display on a terminal; nothing when output is redirected."""
    if not sys.stderr.isatty():
        return None

    def show(p: Progress) -> None:
        rate = p.records / p.seconds if p.seconds else 0
        sys.stderr.write(f"\r{p.source}: {p.records:,} records ({rate:,.0f}/s)   ")
        sys.stderr.flush()

    return show


def end_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
