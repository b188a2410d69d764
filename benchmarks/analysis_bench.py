"""Analysis benchmark: queue N resolved demo sessions in PostgreSQL and time
`python -m scheduler --drain` with one process, then with two sharing the queue.

    .venv/bin/python benchmarks/analysis_bench.py [--sessions 100000] [--batch-size 1000]

The database (`flowpilot_bench_analysis` on the local server unless --database-url says
otherwise) is dropped and recreated; between the two runs the proposals are deleted and the
queue reset, so both runs analyse the same sessions from the same empty start. Times are wall
clock and include starting the processes. Target: 1,000 sessions/s with one process, and two
processes at least 1.6 times one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_database  # noqa: E402
from core.demo.loader import default_accounts, generate_flows, generate_sessions  # noqa: E402
from core.sessions.importer import import_flows, import_sessions  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowpilot_bench_analysis"
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)


def queue_resolved_sessions(engine, count: int, accounts: int) -> float:
    """Import demo sessions until ``count`` resolved ones (the ones the import queues) are in."""
    slugs = default_accounts(accounts)
    flows = generate_flows(slugs, seed=7)
    import_flows(engine, enumerate(flows, start=1), "bench flows")
    started = time.perf_counter()
    # Roughly 60% of demo sessions end resolved; generate enough and keep only those.
    stream = (r for r in generate_sessions(slugs, flows, count * 2, seed=7, anchor=ANCHOR) if r["status"] == "resolved")
    import_sessions(engine, enumerate(islice(stream, count), start=1), "bench sessions", batch_size=5000)
    return time.perf_counter() - started


def reset(engine) -> None:
    with engine.begin() as connection:
        # DELETE, not TRUNCATE ... CASCADE: that would also empty flow_versions, which refers to proposals.
        connection.execute(text("DELETE FROM proposal_sessions"))
        connection.execute(text("DELETE FROM flow_proposals"))
        connection.execute(text(
            "UPDATE analysis_queue SET status = 'pending', attempts = 0, claimed_at = NULL, claimed_by = NULL, "
            "finished_at = NULL, last_error = NULL, result = NULL, result_detail = NULL, available_at = enqueued_at"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def timed_drain(url: str, processes: int, batch_size: int) -> float:
    env = {**os.environ, "DATABASE_URL": url, "ANALYSIS_BATCH_SIZE": str(batch_size)}
    started = time.perf_counter()
    workers = [subprocess.Popen([sys.executable, "-m", "scheduler", "--drain"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    outputs = [w.communicate()[1] for w in workers]
    elapsed = time.perf_counter() - started
    for worker, output in zip(workers, outputs):
        if worker.returncode != 0:
            sys.exit(f"--drain failed:\n{output}")
    return elapsed


def summary(engine) -> str:
    with engine.connect() as connection:
        done = connection.scalar(text("SELECT count(*) FROM analysis_queue WHERE status = 'done'"))
        proposals = connection.scalar(text("SELECT count(*) FROM flow_proposals"))
        links = connection.scalar(text("SELECT count(*) FROM proposal_sessions"))
    return f"{done:,} analysed, {proposals:,} proposals, {links:,} supporting links"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="resolved sessions to queue")
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()

    engine = recreate_database(args.database_url)
    seconds = queue_resolved_sessions(engine, args.sessions, args.accounts)
    print(f"queued {args.sessions:,} resolved sessions in {seconds:.1f}s")
    rates = {}
    for processes in (1, 2):
        reset(engine)
        seconds = timed_drain(args.database_url, processes, args.batch_size)
        rates[processes] = args.sessions / seconds
        print(f"{processes} process{'es' if processes > 1 else ''}: {rates[processes]:,.0f} sessions/s "
              f"({seconds:.1f}s wall); {summary(engine)}")
    print(f"scaling: two processes are {rates[2] / rates[1]:.2f}x one (target 1.6x; one process target 1,000/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
