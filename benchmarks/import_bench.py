"""Import benchmark: generate N demo sessions to a file, import them into PostgreSQL.

    .venv/bin/python benchmarks/import_bench.py [--sessions 200000] [--reimport]

Prints sessions/second and the importing process's peak memory (its maximum resident set
size, measured by the OS for the child process that runs `python -m core import`). The
database is a fresh one, `flowpilot_bench` on the local server unless --database-url says
otherwise; it is dropped and recreated each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_db import recreate_database  # noqa: E402
from core.demo import default_accounts, generate_flows, generate_sessions  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowpilot_bench"
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)


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


def run_import(url: str, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "core", "import", *args],
        cwd=REPO, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"import failed:\n{result.stderr}")
    return elapsed, result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reimport", action="store_true", help="import the same file again (update path)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        flows_path, sessions_path, gen_seconds = write_files(Path(tmp), args.sessions, args.accounts)
        size_mb = sessions_path.stat().st_size / 1e6
        print(f"generated {args.sessions:,} sessions ({size_mb:,.0f} MB) in {gen_seconds:.1f}s")
        recreate_database(args.database_url).dispose()
        run_import(args.database_url, "--flows", str(flows_path))
        seconds, report = run_import(args.database_url, "--sessions", str(sessions_path))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(report)
        print(f"import: {args.sessions / seconds:,.0f} sessions/s ({seconds:.1f}s wall, process included), "
              f"peak memory {peak_mb:,.0f} MB")
        if args.reimport:
            seconds, report = run_import(args.database_url, "--sessions", str(sessions_path))
            print(report)
            print(f"re-import (all updates): {args.sessions / seconds:,.0f} sessions/s ({seconds:.1f}s wall)")


if __name__ == "__main__":
    main()
