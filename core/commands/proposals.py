"""`python -m core proposals`: the flow proposals the analysis has made, for admins."""

from __future__ import annotations

import argparse
import json
import sys

from core.commands import ready_engine
from core.db import unit_of_work
from core.models import PROPOSAL_STATUSES
from core.proposals.listing import UnknownAccount, list_proposals


def register(commands: argparse._SubParsersAction) -> None:
    proposals = commands.add_parser("proposals", help="list an account's flow proposals")
    proposals.add_argument("--account", required=True, metavar="SLUG")
    proposals.add_argument("--status", choices=PROPOSAL_STATUSES)
    proposals.add_argument("--json", action="store_true", help="one JSON document (an array), trees included")
    proposals.set_defaults(handler=run_proposals)


def run_proposals(args: argparse.Namespace) -> int:
    try:
        with unit_of_work(ready_engine()) as db:
            views = list_proposals(db, args.account, args.status)
    except UnknownAccount as exc:
        print(f"proposals: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([v.to_json() for v in views], ensure_ascii=False, indent=2))
        return 0
    if not views:
        print(f"No {args.status + ' ' if args.status else ''}proposals for {args.account}.")
        return 0
    print(f"{'id':>5}  {'type':<11}  {'status':<9}  {'domain':<10}  {'conf':>4}  {'sessions':>8}  title")
    for v in views:
        print(f"{v.id:>5}  {v.proposal_type:<11}  {v.status:<9}  {(v.domain or '-'):<10}  {v.confidence:>4.2f}  "
              f"{v.support_count:>8}  {v.title}")
    print(f"\n{len(views)} proposal{'s' if len(views) != 1 else ''}; `--json` shows trees, diffs and rationales.")
    return 0
