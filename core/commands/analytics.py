"""`python -m core metrics|export`: figures and CSV files for managers and analysts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sqlalchemy import select

from core.commands import OPERATOR, ready_engine
from core.db import unit_of_work
from core.exports.catalog import DEFAULT_DAYS, EXPORTS, account_request, write_export
from core.metrics import MetricsFilters, MetricsReport, build_metrics
from core.metrics.figures import percent
from core.models import Account

# Exports that read everything unless --days is given; the others default to DEFAULT_DAYS.
ALL_TIME_EXPORTS = ("proposals", "activity")


def register(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="an account's figures for a period, against the period before")
    metrics.add_argument("--account", required=True, metavar="SLUG")
    metrics.add_argument("--days", type=_positive, default=DEFAULT_DAYS)
    metrics.add_argument("--json", action="store_true", help="print the whole report as JSON")
    metrics.add_argument("--domain", help="only sessions of this problem domain")
    metrics.add_argument("--board", help="only sessions whose PSA ticket is on this board")
    metrics.add_argument("--engineer", help="only this engineer's sessions")
    metrics.add_argument("--company", help="only sessions whose PSA ticket is for this client company")
    metrics.set_defaults(handler=run_metrics)

    export = commands.add_parser("export", help="write a CSV file (UTF-8, RFC 4180, formula-safe)")
    export.add_argument("what", choices=sorted(EXPORTS))
    export.add_argument("--account", required=True, metavar="SLUG")
    export.add_argument("--days", type=_positive, default=None,
                        help=f"the last N days (default {DEFAULT_DAYS}; proposals, activity: all)")
    export.add_argument("--out", required=True, metavar="FILE.csv", help="the file to write, or - for stdout")
    export.add_argument("--excel", action="store_true",
                        help="start the file with a UTF-8 byte-order mark, so Excel shows accents right")
    export.set_defaults(handler=run_export)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run_metrics(args: argparse.Namespace) -> int:
    filters = MetricsFilters(domain=args.domain, board=args.board, engineer=args.engineer, company=args.company)
    with unit_of_work(ready_engine()) as db:
        account_id = db.scalar(select(Account.id).where(Account.slug == args.account))
        if account_id is None:
            print(f"metrics: no account {args.account!r}", file=sys.stderr)
            return 1
        report = build_metrics(db, OPERATOR, account_id, days=args.days, filters=filters)
    text = json.dumps({"account": args.account, **report.to_dict()}, indent=2) if args.json else describe(
        args.account, report)
    return _to_stdout(lambda: print(text))


def run_export(args: argparse.Namespace) -> int:
    days = args.days if args.days is not None else (None if args.what in ALL_TIME_EXPORTS else DEFAULT_DAYS)
    with unit_of_work(ready_engine()) as db:
        request = account_request(db, args.account, days)
        if request is None:
            print(f"export: no account {args.account!r}", file=sys.stderr)
            return 1
        if args.out == "-":
            return _to_stdout(lambda: write_export(db, OPERATOR, args.what, request, sys.stdout, bom=args.excel))
        rows = _write_file(db, args.what, request, Path(args.out), bom=args.excel)
    print(f"Wrote {rows:,} rows to {args.out}.")
    return 0


def _to_stdout(write) -> int:
    """Run ``write``; a reader that stops early (`| head`) is not an error."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again flushing stdout at exit; point it at nothing instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _write_file(db, what: str, request, path: Path, bom: bool) -> int:
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            rows = write_export(db, OPERATOR, what, request, out, bom=bom)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _show(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"




def describe(slug: str, report: MetricsReport) -> str:
    """The report's totals as text; the breakdowns are in --json and the metrics export."""
    lines = [f"{slug}: sessions started {report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} UTC "
             f"({report.days} days), against the {report.days} days before"]
    compare = report.previous_period_covered
    if not compare:
        lines.append("No changes: the account's data starts after the previous period does, so it is no yardstick.")
    elif report.previous_period_thin:
        lines.append(f"The previous period is thin ({report['volume']['sessions'].previous:,} sessions): "
                     "read its changes with care.")
    for section in report.sections:
        lines.append(f"\n{section.name}")
        for name, figure in section.totals.items():
            is_rate = name.endswith(("_rate", "_share", "_share_of_resolved"))
            show = percent if is_rate else _show
            change = figure.change if compare else None
            if change is None:
                delta = ""
            elif is_rate:
                delta = f"  ({100 * change:+.1f} pts)"
            else:
                delta = f"  ({change:+,.2f})" if isinstance(change, float) else f"  ({change:+,})"
            lines.append(f"  {name.replace('_', ' '):<40} {show(figure.value):>12}   was {show(figure.previous):>12}{delta}")
        if section.name == "tiers":
            lines.extend(_tier_table(section))
    return "\n".join(lines)


def _tier_table(section) -> list[str]:
    """The calibration check at a glance: does guided resolve more, and faster?"""
    lines = [f"  {'tier':<12}{'sessions':>10}{'share':>9}{'resolved':>10}{'escalated':>11}{'median min':>12}"]
    for group in section.breakdowns["tier"]:
        f = group.figures
        lines.append(f"  {group.key:<12}{_show(f['sessions'].value):>10}{percent(f['share_of_sessions'].value):>9}"
                     f"{percent(f['resolution_rate'].value):>10}{percent(f['escalation_rate'].value):>11}"
                     f"{_show(f['median_handle_minutes'].value):>12}")
    return lines
