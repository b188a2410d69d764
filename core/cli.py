"""`python -m core ...`: the command line for operators and analysts."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy import Engine

from core import bootstrap
from core.db import SchemaOutOfDate, make_engine, require_current_schema, schema_status, unit_of_work, upgrade
from core.importer import ImportRejected, Progress, ProgressCallback, import_flows, import_sessions, read_lines
from core.models import ROLES
from core.passwords import MIN_LENGTH, generate_password
from core.settings import get_settings
from core.users import UserError, add_user, user_exists


def _engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


def _ready_engine() -> Engine:
    """An engine on an up-to-date schema; the embedded database upgrades itself."""
    engine = _engine()
    require_current_schema(engine, auto_upgrade=get_settings().uses_embedded_database)
    return engine


def _progress_printer() -> ProgressCallback | None:
    if not sys.stderr.isatty():
        return None

    def show(p: Progress) -> None:
        rate = p.records / p.seconds if p.seconds else 0
        sys.stderr.write(f"\r{p.source}: {p.records:,} records ({rate:,.0f}/s)   ")
        sys.stderr.flush()

    return show


def _end_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def cmd_db(args: argparse.Namespace) -> int:
    engine = _engine()
    if args.action == "upgrade":
        before = schema_status(engine)
        upgrade(engine)
        after = schema_status(engine)
        if before.current == after.current:
            print(f"Database already at the current schema ({after.current}).")
        else:
            print(f"Database upgraded from {before.current or 'empty'} to {after.current}.")
        return 0
    status = schema_status(engine)
    state = "up to date" if status.up_to_date else "out of date: run `python -m core db upgrade`"
    print(f"revision {status.current or '(none)'}, code expects {status.head}: {state}")
    return 0 if status.up_to_date else 1


def cmd_import(args: argparse.Namespace) -> int:
    if not args.flows and not args.sessions:
        print("import: give --flows FILE, --sessions FILE, or both", file=sys.stderr)
        return 2
    for path in (args.flows, args.sessions):
        if path is not None and not path.is_file():
            print(f"import: {path} is not a readable file", file=sys.stderr)
            return 2
    settings = get_settings()
    engine = _ready_engine()
    try:
        if args.flows:
            result = import_flows(engine, read_lines(args.flows), str(args.flows),
                                  max_errors=settings.import_max_errors, progress=_progress_printer())
            _end_progress()
            print(result.describe())
        if args.sessions:
            result = import_sessions(engine, read_lines(args.sessions), str(args.sessions),
                                     batch_size=args.batch_size or settings.import_batch_size,
                                     max_errors=settings.import_max_errors, progress=_progress_printer())
            _end_progress()
            print(result.describe())
    except ImportRejected as exc:
        _end_progress()
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from core.demo import run_demo

    engine = _ready_engine()
    summary = run_demo(engine, accounts=args.accounts, sessions=args.sessions, seed=args.seed,
                       progress=_progress_printer())
    _end_progress()
    print(summary.describe())
    return 0


def _ask_password() -> str | None:
    if not sys.stdin.isatty():
        return None
    while True:
        first = getpass.getpass(f"Password (at least {MIN_LENGTH} characters; empty to generate one): ")
        if not first:
            return None
        if len(first) < MIN_LENGTH:
            print(f"Too short: at least {MIN_LENGTH} characters.", file=sys.stderr)
            continue
        if getpass.getpass("Repeat the password: ") == first:
            return first
        print("The two passwords differ; try again.", file=sys.stderr)


def cmd_user(args: argparse.Namespace) -> int:
    engine = _ready_engine()
    password = None if args.generate_password else _ask_password()
    generated = False
    try:
        with unit_of_work(engine) as db:
            # No password given: a new user gets a generated one, an existing user keeps theirs.
            if password is None and not user_exists(db, args.email):
                password, generated = generate_password(), True
            added = add_user(db, args.email, args.account, args.role, password)
    except UserError as exc:
        print(f"user add: {exc}", file=sys.stderr)
        return 1
    verb = "Created" if added.created_user else "Updated"
    print(f"{verb} {added.email}: {added.role} in {added.account}.")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    engine = _engine()
    for line in bootstrap.prepare(engine, get_settings(), progress=_progress_printer()):
        _end_progress()
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="FlowPilot Insights command line")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(handler=cmd_db)

    imp = commands.add_parser("import", help="import flows and/or sessions (JSON Lines)")
    imp.add_argument("--flows", type=Path, metavar="FLOWS.jsonl")
    imp.add_argument("--sessions", type=Path, metavar="SESSIONS.jsonl")
    imp.add_argument("--batch-size", type=int, default=None)
    imp.set_defaults(handler=cmd_import)

    demo = commands.add_parser("demo", help="generate and import realistic demo data")
    demo.add_argument("--accounts", type=int, default=3)
    demo.add_argument("--sessions", type=int, default=20000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(handler=cmd_demo)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user to an account, or change their role")
    add.add_argument("email")
    add.add_argument("--account", required=True, metavar="SLUG")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--generate-password", action="store_true",
                     help="do not prompt: generate a password and print it once")
    add.set_defaults(handler=cmd_user)

    boot = commands.add_parser("bootstrap", help="what `make run` does before starting: migrate, demo data, demo admin")
    boot.set_defaults(handler=cmd_bootstrap)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SchemaOutOfDate as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the current file's transaction was rolled back", file=sys.stderr)
        return 130
