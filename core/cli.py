"""`python -m core ...`: the command line for operators and analysts."""

from __future__ import annotations

import argparse
import os
import sys

from core.commands import analytics, data, database, gaps, impact, proposals, users
from core.db import SchemaOutOfDate

# Each module adds its own subcommands; a new area of the CLI is one more entry here.
COMMAND_MODULES = (database, data, users, analytics, gaps, proposals, impact)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="FlowPilot Insights command line")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
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
    except BrokenPipeError:
        # The reader stopped early (`... | head`): it has what it asked for. Python would fail again
        # flushing stdout at exit, so stdout goes to /dev/null first (the Python docs' recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
