"""Import benchmark: the project's import against a plain COPY loader, on the same file.

    .venv/bin/python benchmarks/import_bench.py [--sessions 200000] [--repeat 3] [--reimport]

Generates N demo sessions to a JSON Lines file, then loads it twice into a fresh database
(`flowpilot_bench` on the local server unless --database-url says otherwise; dropped and
recreated each run):

- the project's import, `python -m core import --sessions FILE`: validation, flow walk,
  analysis queue, per-day step counts and the planner statistics refresh it ends with;
- a plain loader, the floor any import of this file pays: orjson-parse each line and binary
  COPY sessions and steps into two tables with the same columns and no indexes, no checks.

Each runs as its own child process and is timed from start to exit (interpreter start and
imports included). Peak memory is the larger of the child's own peak resident size (the OS's) and the
peak of the child and the processes it starts together (proportional set size, sampled every 50 ms).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_database  # noqa: E402
from core.demo.loader import default_accounts, generate_flows, generate_sessions  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowpilot_bench"
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)
PLAIN_BATCH = 5000  # the import's default batch size
PLAIN_TABLES = (("plain_sessions", "sessions"), ("plain_steps", "steps"))


def write_files(directory: Path, sessions: int, accounts: int) -> tuple[Path, Path, float]:
    slugs = default_accounts(accounts)
    flows = generate_flows(slugs, seed=7)
    flows_path, sessions_path = directory / "flows.jsonl", directory / "sessions.jsonl"
    with flows_path.open("wb") as out:
        for flow in flows:
            out.write(orjson.dumps(flow) + b"\n")
    started = time.perf_counter()
    with sessions_path.open("wb") as out:
        for record in generate_sessions(slugs, flows, sessions, seed=7, anchor=ANCHOR):
            out.write(orjson.dumps(record) + b"\n")
    return flows_path, sessions_path, time.perf_counter() - started


def _tree_pss_kb(pid: int) -> int:
    """The proportional set size of a process and all its descendants (shared pages split between
    them, so the sum is what they use together), in kB; 0 for a process that is gone."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            total += next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            total += sum(_tree_pss_kb(int(child)) for child in children.read().split())
    except (OSError, ValueError):
        pass
    return total


class _MemorySampler(threading.Thread):
    """Samples a process tree's memory every 50 ms: the import forks a reading process, whose
    memory the parent's own peak (``wait4``) leaves out."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak_kb = max(self.peak_kb, _tree_pss_kb(self.pid))


def run_child(url: str, args: list[str]) -> tuple[float, float, str]:
    """(seconds from start to exit, peak memory in MB, what it printed) of one child process.

    The peak is the larger of the process's own peak resident size and the peak of it and its
    children together (sampled)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=out, stderr=err,
                                 env={**os.environ, "DATABASE_URL": url})
        sampler = _MemorySampler(child.pid)
        sampler.start()
        # wait4, not wait: it returns this child's own rusage (RUSAGE_CHILDREN is the maximum
        # over every child so far, the plain loader's included).
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{' '.join(args[:3])} failed:\n{err.read()}")
        return elapsed, max(usage.ru_maxrss, sampler.peak_kb) / 1024, out.read().strip()


def run_import(url: str, *args: str) -> tuple[float, float, str]:
    return run_child(url, ["-m", "core", "import", *args])


# --- the plain loader ---------------------------------------------------------------------------


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def plain_load(url: str, sessions_path: Path) -> int:
    """COPY the file's sessions and steps into the plain tables, in one transaction."""
    import psycopg
    from psycopg.types.json import Jsonb
    from sqlalchemy.engine import make_url

    from core.sessions.store import SESSION_COLUMNS, STEP_COLUMNS, pg_type_names

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    # The project's own column types, so both loaders send the same binary values.
    session_types = pg_type_names("sessions", ("id", *SESSION_COLUMNS, "imported_at"))
    step_types = pg_type_names("steps", ("session_id", *STEP_COLUMNS))
    session_sql = f"COPY plain_sessions (id, {', '.join(SESSION_COLUMNS)}, imported_at) FROM STDIN (FORMAT BINARY)"
    step_sql = f"COPY plain_steps (session_id, {', '.join(STEP_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    now = datetime.now(timezone.utc)
    accounts: dict[str, int] = {}
    session_id = 0
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with sessions_path.open("rb") as handle:
            # One connection, one transaction, batches as the import's: a COPY of sessions, then
            # one of their steps (two COPYs cannot be open on one connection at once).
            while batch := [orjson.loads(line) for line in islice(handle, PLAIN_BATCH)]:
                steps: list[tuple] = []
                with cursor.copy(session_sql) as copy:
                    copy.set_types(session_types)
                    for r in batch:
                        session_id += 1
                        ticket = r.get("psa_ticket") or {}
                        resolution = r.get("resolution") or {}
                        minutes = ticket.get("time_spent_minutes")
                        copy.write_row((
                            session_id, accounts.setdefault(r["account"], len(accounts) + 1), r["id"],
                            r.get("engineer"), _ts(r["created_at"]), _ts(r.get("ended_at")), r["status"],
                            r.get("problem_domain"), r.get("problem_summary"), r.get("confidence_tier"),
                            r.get("matched_flow"), r.get("matched_flow_version"), resolution.get("summary"),
                            resolution.get("root_cause"), ticket.get("id"), ticket.get("system"),
                            ticket.get("company"), ticket.get("board"), ticket.get("priority"),
                            _ts(ticket.get("opened_at")), _ts(ticket.get("closed_at")),
                            _ts(ticket.get("sla_due_at")), None if minutes is None else float(minutes),
                            len(r["steps"]), 0, None, r.get("matched_flow_version"), now,
                        ))
                        for s in r["steps"]:
                            options = s.get("options")
                            steps.append((
                                session_id, s["seq"], s["step_type"], s.get("node_id"), s.get("context_message"),
                                None if options is None else Jsonb(options, dumps=orjson.dumps),
                                s.get("response"), s.get("was_free_text", False), s.get("outcome"),
                                _ts(s["created_at"]), _ts(s.get("responded_at")), False,
                            ))
                with cursor.copy(step_sql) as copy:
                    copy.set_types(step_types)
                    for row in steps:
                        copy.write_row(row)
    return session_id


def create_plain_tables(engine) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        for plain, like in PLAIN_TABLES:
            # LIKE without INCLUDING: the columns and their NOT NULLs, no indexes or checks.
            connection.execute(text(f"DROP TABLE IF EXISTS {plain}"))
            connection.execute(text(f"CREATE TABLE {plain} (LIKE {like})"))


# --- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=1, help="load the file this many times; report the best")
    parser.add_argument("--reimport", action="store_true", help="import the same file again (update path)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    parser.add_argument("--plain-load", type=Path, help=argparse.SUPPRESS)  # the plain loader's child process
    args = parser.parse_args()

    if args.plain_load:
        print(plain_load(args.database_url, args.plain_load))
        return

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        flows_path, sessions_path, gen_seconds = write_files(Path(tmp), args.sessions, args.accounts)
        size_mb = sessions_path.stat().st_size / 1e6
        print(f"generated {args.sessions:,} sessions ({size_mb:,.0f} MB) in {gen_seconds:.1f}s; the two loaders "
              f"follow, one at a time, {args.repeat} time(s), on {os.cpu_count()} cores")
        best_plain = best_import = 0.0
        peak = 0.0
        for _ in range(args.repeat):
            engine = recreate_database(args.database_url)
            create_plain_tables(engine)
            engine.dispose()
            plain_seconds, plain_mb, _ = run_child(
                args.database_url, [str(Path(__file__).resolve()), "--plain-load", str(sessions_path),
                                    "--database-url", args.database_url])
            plain_rate = args.sessions / plain_seconds
            print(f"plain COPY loader: {plain_rate:,.0f} sessions/s ({plain_seconds:.1f}s wall), "
                  f"peak memory {plain_mb:,.0f} MB")

            run_import(args.database_url, "--flows", str(flows_path))
            seconds, peak_mb, report = run_import(args.database_url, "--sessions", str(sessions_path))
            rate = args.sessions / seconds
            print(report)
            print(f"import: {rate:,.0f} sessions/s ({seconds:.1f}s wall, process included), "
                  f"peak memory {peak_mb:,.0f} MB; import / plain loader: {rate / plain_rate:.2f}")
            best_plain, best_import, peak = max(best_plain, plain_rate), max(best_import, rate), max(peak, peak_mb)
        if args.repeat > 1:
            # Best of each: on a shared machine the least disturbed run is the nearest to the code's own speed.
            print(f"best of {args.repeat}: import {best_import:,.0f} sessions/s, plain loader {best_plain:,.0f} "
                  f"sessions/s, peak memory {peak:,.0f} MB")
        print(f"import / plain loader: {best_import / best_plain:.2f} (target at least 0.50)")
        if args.reimport:
            seconds, peak_mb, report = run_import(args.database_url, "--sessions", str(sessions_path))
            print(report)
            print(f"re-import (all updates): {args.sessions / seconds:,.0f} sessions/s ({seconds:.1f}s wall), "
                  f"peak memory {peak_mb:,.0f} MB")

if __name__ == "__main__":
    main()
