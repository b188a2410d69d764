"""The import benchmark's plain loader still writes what the sessions table holds: a benchmark
that fails only when someone runs it measures nothing. (No timing here: figures are in docs/.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db import make_engine, upgrade

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "import_bench.py"


def bench_module(monkeypatch):
    # Run as a script, the benchmark finds its helpers (bench_db) beside it.
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("import_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_the_plain_loader_copies_every_session_and_step_of_a_demo_file(scratch_database_url, tmp_path, monkeypatch):
    bench = bench_module(monkeypatch)
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    bench.create_plain_tables(engine)
    _, sessions_path, _ = bench.write_files(tmp_path, sessions=60, accounts=2)
    steps = sum(line.count(b'"seq"') for line in sessions_path.read_bytes().splitlines())
    assert bench.plain_load(scratch_database_url, sessions_path) == 60
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM plain_sessions")).scalar() == 60
        assert connection.execute(text("SELECT count(*) FROM plain_steps")).scalar() == steps
    engine.dispose()
