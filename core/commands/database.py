"""`python -m core db upgrade|current`."""

from __future__ import annotations

import argparse

from core.commands import engine
from core.db import schema_status, upgrade


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    db_engine = engine()
    if args.action == "upgrade":
        before = schema_status(db_engine)
        upgrade(db_engine)
        after = schema_status(db_engine)
        if before.current == after.current:
            print(f"Database already at the current schema ({after.current}).")
        else:
            print(f"Database upgraded from {before.current or 'empty'} to {after.current}.")
        return 0
    status = schema_status(db_engine)
    state = "up to date" if status.up_to_date else "out of date: run `python -m core db upgrade`"
    print(f"revision {status.current or '(none)'}, code expects {status.head}: {state}")
    return 0 if status.up_to_date else 1
