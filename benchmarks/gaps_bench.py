"""Knowledge-gap benchmark: the full gap report on demo data in PostgreSQL, cold.

    .venv/bin/python benchmarks/gaps_bench.py [--sessions 1000000] [--prepare-only]

The database (`flowpilot_bench_gaps` on the local server unless --database-url says otherwise)
is filled once with `core.demo.loader.run_demo` at a fixed anchor and reused while it holds exactly
the requested number of sessions; any other size recreates it. Each timing opens a new
connection (a cold pool), so no cached statement or session state helps.

Printed next to the report: a full sequential count of the period's step rows, the least any
complete report must read. Target: the report within 3x that floor and under 5 s. The metrics
set (`core.metrics.build_metrics`), when it exists, is timed too (target under 2 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_database  # noqa: E402

from core.db import make_engine, session_factory, upgrade  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowpilot_bench_gaps"
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)
# The reports end mid-day, as a user's do (now), so the partial days at the periods' three edges
# are read from the step rows and only the whole days between from the import's per-day counts.
REPORT_END = ANCHOR - timedelta(hours=7, minutes=13, seconds=20)
DAYS = 30


def prepare(url: str, sessions: int, accounts: int) -> None:
    """Reuse the database when it already holds this many sessions; otherwise fill it afresh."""
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first()
    if exists:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                held = connection.execute(text("SELECT count(*) FROM sessions")).scalar_one()
        except Exception:  # no schema yet, or a half-made database: start again
            held = None
        engine.dispose()
        if held == sessions:
            print(f"reusing {parsed.database}: {held:,} sessions")
            # A database filled by an older version gets the newer columns (and their backfill).
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            admin.dispose()
            return
    admin.dispose()
    from core.demo.loader import run_demo

    engine = recreate_database(url)
    print(f"filling {parsed.database} with {sessions:,} demo sessions ...", flush=True)
    summary = run_demo(engine, accounts=accounts, sessions=sessions, seed=42, anchor=ANCHOR)
    print(summary.describe())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def busiest_account(url: str) -> tuple[int, str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT a.id, a.slug FROM accounts a JOIN sessions s ON s.account_id = a.id "
            "WHERE s.created_at >= :start GROUP BY a.id, a.slug ORDER BY count(*) DESC LIMIT 1"),
            {"start": REPORT_END - timedelta(days=DAYS)}).one()
    engine.dispose()
    return int(row[0]), str(row[1])


def cold(url: str, work) -> float:
    """Seconds for ``work(db)`` on a brand-new engine, connection included."""
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as db:
        work(db)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def floor_count(db, account_id: int) -> None:
    """Every step row of the period's sessions, counted: what a complete report must read."""
    db.execute(text(
        "SELECT count(*), count(st.response) FROM sessions s JOIN steps st ON st.session_id = s.id "
        "WHERE s.account_id = :a AND s.created_at >= :start AND s.created_at < :end"),
        {"a": account_id, "start": REPORT_END - timedelta(days=DAYS), "end": REPORT_END}).one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="cold runs of each timing (median shown)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args()

    prepare(args.database_url, args.sessions, args.accounts)
    if args.prepare_only:
        return
    from core.gaps import build_gap_report

    account_id, slug = busiest_account(args.database_url)
    report = None

    def run_report(db) -> None:
        nonlocal report
        report = build_gap_report(db, account_id, days=DAYS, now=REPORT_END)

    def median(work) -> float:
        return statistics.median(cold(args.database_url, work) for _ in range(args.repeat))

    floor = median(lambda db: floor_count(db, account_id))
    gaps = median(run_report)
    print(f"account {slug}, last {DAYS} days, {args.sessions:,} sessions in the database")
    print(f"  floor: count of the period's step rows   {floor:7.2f} s")
    print(f"  gap report ({len(report.gaps)} gaps)              {gaps:7.2f} s   "
          f"{gaps / floor:4.1f}x the floor (target <= 3x and < 5 s)")
    for name, seconds in sorted(report.timings.items(), key=lambda kv: -kv[1]):
        print(f"      {name:<24} {seconds:6.2f} s (last run)")
    try:
        from core.commands import OPERATOR  # a benchmark runs from the shell, as the operator
        from core.metrics import build_metrics
    except ImportError:
        print("  metrics: core.metrics.build_metrics not found; skipped")
        return
    try:
        metrics = median(lambda db: build_metrics(db, OPERATOR, account_id, days=DAYS, now=REPORT_END))
    except Exception as exc:  # the metrics are another module's: their failure must not hide these figures
        print(f"  metrics: build_metrics failed: {type(exc).__name__}: {exc}")
        return
    print(f"  metrics set                              {metrics:7.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
