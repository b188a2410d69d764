"""`python -m core impact --account SLUG [--window 30] [--json]`: did the published changes help?"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import select

from core.commands import OPERATOR, ready_engine
from core.db import unit_of_work
from core.impact import ImpactReport, build_impact
from core.impact.report import DEFAULT_WINDOW_DAYS
from core.metrics.figures import percent, points
from core.models import Account


def register(commands: argparse._SubParsersAction) -> None:
    impact = commands.add_parser("impact", help="every published flow version, before against after, with a verdict")
    impact.add_argument("--account", required=True, metavar="SLUG")
    impact.add_argument("--window", type=int, default=DEFAULT_WINDOW_DAYS,
                        help=f"days compared on each side of a publication (default {DEFAULT_WINDOW_DAYS})")
    impact.add_argument("--json", action="store_true", help="the report as JSON instead of a table")
    impact.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.window < 1:
        print("impact: --window must be at least 1", file=sys.stderr)
        return 2
    with unit_of_work(ready_engine()) as db:
        account_id = db.scalar(select(Account.id).where(Account.slug == args.account))
        if account_id is None:
            print(f"impact: no account {args.account!r}", file=sys.stderr)
            return 1
        report = build_impact(db, OPERATOR, account_id, window_days=args.window)
    if args.json:
        print(json.dumps(report.to_dict(args.account), indent=2, ensure_ascii=False))
    else:
        print(render_table(args.account, report))
    return 0


def _points(change) -> str:
    text = points(change.delta)
    if change.delta is not None and change.interval:
        text += f" [{100 * change.interval[0]:+.1f}, {100 * change.interval[1]:+.1f}]"
    return text


def render_table(slug: str, report: ImpactReport) -> str:
    lines = [f"Published changes of {slug}, newest first: {report.window_days} days before against "
             f"{report.window_days} days after each publication (as of {report.now:%Y-%m-%d %H:%M} UTC)"]
    if not report.changes:
        lines.append("No flow has a second version, or a new flow published from a proposal, yet.")
        return "\n".join(lines)
    for c in report.changes:
        was = f"v{c.previous_version} → v{c.version}" if c.previous_version else f"new flow v{c.version} (its domain {c.domain})"
        origin = f"proposal #{c.proposal_id}" if c.proposal_id else c.source
        lines.append(f"\n{c.flow_id} {was}, published {c.published_at:%Y-%m-%d} from {origin}: {c.verdict.replace('_', ' ')}")
        lines.append(f"  finished sessions     {c.before.finished:>7,} before {c.after.finished:>7,} after")
        lines.append(f"  escalation rate       {percent(c.escalation.before):>7} before {percent(c.escalation.after):>7} after"
                     f"   {_points(c.escalation)}   rest of the account {_points(c.account_escalation)}")
        lines.append(f"  resolution rate       {percent(c.resolution.before):>7} before {percent(c.resolution.after):>7} after"
                     f"   {_points(c.resolution)}   rest of the account {_points(c.account_resolution)}")
        if c.prediction:
            lines.append(f"  predicted: {c.prediction.text}")
    return "\n".join(lines)
