"""`python -m core user add` and `python -m core user reset-password`."""

from __future__ import annotations

import argparse
import getpass
import sys

from core.accounts.passwords import MIN_LENGTH, generate_password
from core.accounts.sign_in_sessions import revoke_sign_in_sessions
from core.accounts.users import UserError, add_user, set_password, user_exists
from core.commands import ready_engine
from core.db import unit_of_work
from core.models import ROLES


def register(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user to an account, or change their role")
    add.add_argument("email")
    add.add_argument("--account", required=True, metavar="SLUG")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--generate-password", action="store_true",
                     help="do not prompt: generate a password and print it once")
    add.set_defaults(handler=run_add)
    reset = user_commands.add_parser(
        "reset-password", help="give a user a new password (a lost one) and sign them out everywhere")
    reset.add_argument("email")
    reset.add_argument("--generate-password", action="store_true",
                       help="do not prompt: generate a password and print it once")
    reset.set_defaults(handler=run_reset_password)


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


def run_add(args: argparse.Namespace) -> int:
    db_engine = ready_engine()
    password = None if args.generate_password else _ask_password()
    generated = False
    try:
        with unit_of_work(db_engine) as db:
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


def run_reset_password(args: argparse.Namespace) -> int:
    db_engine = ready_engine()
    password = None if args.generate_password else _ask_password()
    generated = password is None
    if generated:
        password = generate_password()
    try:
        with unit_of_work(db_engine) as db:
            user_id = set_password(db, args.email, password)
            # Whoever used the old password may be signed in somewhere: a new one ends that too.
            ended = revoke_sign_in_sessions(db, user_id)
    except UserError as exc:
        print(f"user reset-password: {exc}", file=sys.stderr)
        return 1
    print(f"New password set for {args.email.strip().lower()}; signed out of {ended} "
          f"browser{'' if ended == 1 else 's'}.")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0
