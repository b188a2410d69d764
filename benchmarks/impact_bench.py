"""Impact benchmark: the impact of every flow version of an account with 1,000,000 sessions, on
PostgreSQL, cold, beside a floor; and the cost of resolving the sessions' versions at import.

    .venv/bin/python benchmarks/impact_bench.py [--sessions 1000000] [--flows 40] [--versions 5]

The database (`flowpilot_bench_impact` on the local server unless --database-url says
otherwise) is recreated and filled in SQL (generate_series, a fixed random seed): one account,
``--flows`` flows with ``--versions`` versions each (the first a year and more ago, the others
at random days in the last year), sessions spread over the last 365 days, 80% matched to a flow,
with the statuses of a busy service desk. The sessions' versions are then filled as a flow
import fills them (``resolve_flow``), and the session import's own cost, the lookup per session
in the version timelines, is timed. Then ``core.impact.build_impact`` is timed cold (a new connection each run, median of
5) beside the floor: one index-only count of the account's sessions in the span the windows
cover, the least any report over those windows reads. Target: under 2 s.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_database  # noqa: E402

from core.db import make_engine, session_factory  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowpilot_bench_impact"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
IMPORTED_AT = NOW - timedelta(hours=1)
DOMAINS = ("email", "printing", "networking", "identity", "hardware", "security", "backup", "voip")


def fill(engine, sessions: int, flows: int, versions: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("SELECT setseed(0.13)"))
        connection.execute(text("INSERT INTO accounts (id, slug, name, settings, created_at) "
                                "VALUES (1, 'bench-impact', 'Bench Impact', '{}', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO flows (id, account_id, external_id, name, domain, current_version, created_at, updated_at) "
            "SELECT f, 1, 'fl-' || f, 'Flow ' || f, (CAST(:domains AS text[]))[1 + f % :n_domains], :versions, :start, :now "
            "FROM generate_series(1, :flows) AS f"),
            {"domains": list(DOMAINS), "n_domains": len(DOMAINS), "versions": versions, "flows": flows,
             "start": NOW - timedelta(days=500), "now": NOW})
        connection.execute(text(
            "INSERT INTO flow_versions (flow_id, version, tree, source, published_at) "
            "SELECT f, v, '{}'::jsonb, 'import', "
            "  CASE WHEN v = 1 THEN :start ELSE :year_ago + (v - 1) * (interval '365 days' / :versions) "
            "       + (random() * 40 - 20) * interval '1 day' END "
            "FROM generate_series(1, :flows) AS f, generate_series(1, :versions) AS v"),
            {"start": NOW - timedelta(days=500), "year_ago": NOW - timedelta(days=365), "versions": versions,
             "flows": flows})
        connection.execute(text(
            "INSERT INTO sessions (account_id, external_id, engineer, created_at, ended_at, status, problem_domain, "
            "  confidence_tier, matched_flow, psa_ticket_id, step_count, failed_steps, imported_at) "
            "SELECT 1, 's-' || i, 'eng' || (i % 60) || '@msp.example', c, c + interval '20 minutes', "
            "  CASE WHEN r < 0.05 THEN 'active' WHEN r < 0.65 THEN 'resolved' WHEN r < 0.85 THEN 'escalated' "
            "       WHEN r < 0.88 THEN 'requesting_escalation' ELSE 'abandoned' END, "
            "  (CAST(:domains AS text[]))[1 + flow % :n_domains], "
            "  CASE WHEN flow = 0 THEN 'discovery' ELSE 'guided' END, "
            "  CASE WHEN flow = 0 THEN NULL ELSE 'fl-' || flow END, 'T-' || (i / 2), 5, 0, :imported_at "
            "FROM (SELECT i, :now - random() * interval '365 days' AS c, random() AS r, "
            "             CASE WHEN random() < 0.2 THEN 0 ELSE 1 + floor(random() * :flows)::int END AS flow "
            "      FROM generate_series(1, :sessions) AS i) AS g"),
            {"domains": list(DOMAINS), "n_domains": len(DOMAINS), "now": NOW, "flows": flows,
             "sessions": sessions, "imported_at": IMPORTED_AT})


def resolve(engine, flows: int) -> None:
    """Fill flow_version as the flow import does (core.sessions.versions.resolve_flow, per flow), then
    time what the session import adds per session: the version looked up in the account's
    timelines (core.sessions.versions.Timelines), on every session's own values."""
    from core.sessions.versions import Timelines

    started = time.perf_counter()
    with engine.begin() as connection:
        from core.sessions.versions import resolve_flow

        updated = sum(resolve_flow(connection, 1, f"fl-{f}") for f in range(1, flows + 1))
    print(f"re-resolving {updated:,} sessions flow by flow (a flow import): {time.perf_counter() - started:.1f} s")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT matched_flow, matched_flow_version, created_at FROM sessions")).all()
        timelines = Timelines(connection)
        started = time.perf_counter()
        for flow, given, created in rows:
            timelines.version(1, flow, given, created)
        seconds = time.perf_counter() - started
    print(f"the import's lookup of {len(rows):,} sessions' versions: {seconds:.2f} s "
          f"({1e6 * seconds / max(len(rows), 1):.2f} µs per session)")


def cold(url: str, work) -> float:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            started = time.perf_counter()
            work(db)
            return time.perf_counter() - started
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from core.commands import OPERATOR
    from core.impact import build_impact

    engine = recreate_database(args.database_url)
    started = time.perf_counter()
    fill(engine, args.sessions, args.flows, args.versions)
    print(f"filled {args.sessions:,} sessions, {args.flows} flows x {args.versions} versions "
          f"in {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    resolve(engine, args.flows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()

    report = None

    def run_report(db):
        nonlocal report
        report = build_impact(db, OPERATOR, 1, now=NOW)

    def run_floor(db):
        db.execute(text("SELECT count(*) FROM sessions WHERE account_id = 1 AND created_at >= :start "
                        "AND created_at < :end"), {"start": floor_start, "end": NOW}).scalar_one()

    cold(args.database_url, run_report)  # also learns the span the windows cover
    floor_start = min(c.window_start for c in report.changes)
    in_windows = sum(c.before.sessions + c.after.sessions for c in report.changes)
    floors = sorted(cold(args.database_url, run_floor) for _ in range(args.runs))
    reports = sorted(cold(args.database_url, run_report) for _ in range(args.runs))
    verdicts = {v: sum(c.verdict == v for c in report.changes) for v in ("improved", "worse", "no_clear_change", "too_early")}
    print(f"{len(report.changes)} changes; {in_windows:,} flow sessions in their windows; verdicts {verdicts}")
    print(f"floor (count of the account's sessions since the first window, index-only): "
          f"{statistics.median(floors):.3f} s")
    print(f"impact of every version: median {statistics.median(reports):.3f} s "
          f"(runs {', '.join(f'{r:.3f}' for r in reports)}); target under 2 s: "
          f"{'met' if statistics.median(reports) < 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
