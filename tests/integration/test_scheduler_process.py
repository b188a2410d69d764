"""`python -m scheduler`, run as its own process the way `make run` runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.db import make_engine, upgrade
from core.sessions.importer import import_sessions, read_lines

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
TIMESTAMPED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ", re.MULTILINE)


def environment(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, **extra}


def run_scheduler(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scheduler", *args], cwd=REPO, env=environment(url),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def migrated_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'scheduler.db'}"
    engine = make_engine(url)
    upgrade(engine)
    # The sample holds two resolved sessions, which the import queues for analysis.
    import_sessions(engine, read_lines(DATA / "sample-sessions.jsonl"), "sample-sessions.jsonl")
    engine.dispose()
    return url


def wait_for(path: Path, text: str, process: subprocess.Popen, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = path.read_text()
        if text in output:
            return output
        assert process.poll() is None, f"the scheduler exited early:\n{output}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{path.read_text()}")


def test_once_logs_the_queue_backlog_and_exits_zero(migrated_url):
    result = run_scheduler(migrated_url, "--once")

    assert result.returncode == 0, result.stderr
    assert "analysis queue backlog: 2 pending, 0 claimed, 0 failed" in result.stderr
    assert f"database {migrated_url}" in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(TIMESTAMPED.findall(result.stderr)) == len(lines), "every log line starts with a timestamp"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_shuts_it_down_cleanly_with_exit_zero(migrated_url, tmp_path, signum):
    log = tmp_path / "scheduler.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=REPO, stdout=sink, stderr=sink,
                                   env=environment(migrated_url, SCHEDULER_INTERVAL_SECONDS="1"))
    try:
        wait_for(log, "analysis queue backlog: 2 pending", process)
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert f"received {signal.Signals(signum).name}; shutting down" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_database_without_the_schema_is_refused_with_the_upgrade_command(scratch_database_url):
    result = run_scheduler(scratch_database_url, "--once")

    assert result.returncode != 0
    assert "python -m core db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_database_password_is_never_logged(pg_server_url):
    with_password = make_url(pg_server_url).set(password="s3cret-Passw0rd").render_as_string(hide_password=False)

    result = run_scheduler(with_password, "--once")

    assert "s3cret-Passw0rd" not in result.stderr + result.stdout
    assert "***" in result.stderr
