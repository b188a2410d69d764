"""`python -m core import|demo|bootstrap`: getting data in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.commands import end_progress, engine, progress_printer, ready_engine
from core.demo import bootstrap
from core.sessions.importer import ImportRejected, import_flows, import_sessions, read_lines
from core.settings import get_settings


def register(commands: argparse._SubParsersAction) -> None:
    imp = commands.add_parser("import", help="import flows and/or sessions (JSON Lines)")
    imp.add_argument("--flows", type=Path, metavar="FLOWS.jsonl")
    imp.add_argument("--sessions", type=Path, metavar="SESSIONS.jsonl")
    imp.add_argument("--batch-size", type=int, default=None)
    imp.set_defaults(handler=run_import)

    demo = commands.add_parser("demo", help="generate and import realistic demo data")
    demo.add_argument("--accounts", type=int, default=3)
    demo.add_argument("--sessions", type=int, default=20000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(handler=run_demo)

    boot = commands.add_parser(
        "bootstrap", help="what `make run` does before starting: migrate, demo data, demo admin")
    boot.set_defaults(handler=run_bootstrap)


def run_import(args: argparse.Namespace) -> int:
    if not args.flows and not args.sessions:
        print("import: give --flows FILE, --sessions FILE, or both", file=sys.stderr)
        return 2
    for path in (args.flows, args.sessions):
        if path is not None and not path.is_file():
            print(f"import: {path} is not a readable file", file=sys.stderr)
            return 2
    settings = get_settings()
    db_engine = ready_engine()
    try:
        if args.flows:
            result = import_flows(db_engine, read_lines(args.flows), str(args.flows),
                                  max_errors=settings.import_max_errors, progress=progress_printer())
            end_progress()
            print(result.describe())
        if args.sessions:
            result = import_sessions(db_engine, read_lines(args.sessions), str(args.sessions),
                                     batch_size=args.batch_size or settings.import_batch_size,
                                     max_errors=settings.import_max_errors, progress=progress_printer())
            end_progress()
            print(result.describe())
    except ImportRejected as exc:
        end_progress()
        print(exc, file=sys.stderr)
        return 1
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from core.demo.loader import run_demo as generate_and_import

    summary = generate_and_import(ready_engine(), accounts=args.accounts, sessions=args.sessions,
                                  seed=args.seed, progress=progress_printer())
    end_progress()
    print(summary.describe())
    return 0


def run_bootstrap(args: argparse.Namespace) -> int:
    for line in bootstrap.prepare(engine(), get_settings(), progress=progress_printer()):
        end_progress()
        print(line)
    return 0
