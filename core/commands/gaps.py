"""`python -m core gaps --account SLUG [--days 30] [--json]`: the knowledge-gap report."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap

from sqlalchemy import select

from core.commands import ready_engine
from core.db import session_factory
from core.gaps import GapReport, build_gap_report
from core.models import Account


def register(commands: argparse._SubParsersAction) -> None:
    gaps = commands.add_parser("gaps", help="knowledge gaps of one account's flows, from its sessions")
    gaps.add_argument("--account", required=True, metavar="SLUG")
    gaps.add_argument("--days", type=int, default=30, help="the period, counted by session start (default 30)")
    gaps.add_argument("--json", action="store_true", help="the report as JSON instead of a table")
    gaps.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.days < 1:
        print("gaps: --days must be at least 1", file=sys.stderr)
        return 2
    with session_factory(ready_engine())() as db:
        account_id = db.execute(select(Account.id).where(Account.slug == args.account)).scalar_one_or_none()
        if account_id is None:
            print(f"gaps: no account {args.account!r}", file=sys.stderr)
            return 1
        report = build_gap_report(db, account_id, days=args.days)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render_table(report))
    return 0


def render_table(report: GapReport, width: int | None = None) -> str:
    """A readable listing: one numbered block per gap, most severe first."""
    width = width or min(max(shutil.get_terminal_size((110, 24)).columns, 60), 140)
    lines = [f"Knowledge gaps for {report.account}: sessions started "
             f"{report.period_start:%Y-%m-%d %H:%M} to {report.period_end:%Y-%m-%d %H:%M} UTC "
             f"({report.period_days} days)"]
    if not report.gaps:
        lines.append("No gaps found in this period.")
        return "\n".join(lines)
    counts = {s: sum(g.severity == s for g in report.gaps) for s in ("high", "medium", "low")}
    lines.append(f"{len(report.gaps)} gaps: {counts['high']} high, {counts['medium']} medium, {counts['low']} low"
                 + ("" if report.previous_period_covered else
                    " (none marked emerging: the account's sessions begin after the previous period starts)")
                 + "\n")
    header = f"{'#':>3}  {'severity':<8}  {'type':<19}  {'domain':<12}  title"
    lines += [header, "-" * min(width, len(header) + 60)]
    indent = " " * 5
    for number, gap in enumerate(report.gaps, start=1):
        flag = " [emerging]" if gap.emerging else ""
        lines.append(f"{number:>3}  {gap.severity:<8}  {gap.gap_type:<19}  {(gap.domain or '-'):<12}  {gap.title}{flag}")
        for label, text in (("", gap.description), ("Action: ", gap.suggested_action)):
            lines += textwrap.wrap(label + text, width=width, initial_indent=indent, subsequent_indent=indent)
        ids = gap.evidence.get("session_ids", [])
        if ids:
            shown = ", ".join(ids[:5]) + (f" … ({len(ids)} listed)" if len(ids) > 5 else "")
            lines.append(f"{indent}Sessions: {shown}")
        lines.append("")
    return "\n".join(lines).rstrip()
