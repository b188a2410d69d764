"""The `python -m core` commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts.passwords import verify_password
from core.db import make_engine, unit_of_work
from core.models import Membership, Session, User

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
BACKENDS = pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)


def run_core(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@BACKENDS
def test_db_upgrade_on_an_empty_database_then_import(scratch_database_url):
    refused = run_core(scratch_database_url, "import", "--sessions", str(DATA / "sample-sessions.jsonl"))
    assert refused.returncode == 1
    assert "python -m core db upgrade" in refused.stderr

    upgraded = run_core(scratch_database_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from empty" in upgraded.stdout
    assert run_core(scratch_database_url, "db", "current").returncode == 0

    imported = run_core(scratch_database_url, "import", "--flows", str(DATA / "sample-flows.jsonl"),
                        "--sessions", str(DATA / "sample-sessions.jsonl"))
    assert imported.returncode == 0, imported.stderr
    assert "4 sessions read, 4 new" in imported.stdout
    assert "2 queued for analysis" in imported.stdout


def test_an_invalid_file_exits_non_zero_naming_file_line_and_field(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run_core(url, "db", "upgrade")
    lines = (DATA / "sample-sessions.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["confidence_tier"] = "certain"
    lines[2] = json.dumps(record)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")

    result = run_core(url, "import", "--sessions", str(bad))
    assert result.returncode == 1
    assert f"{bad}, line 3, field confidence_tier:" in result.stderr
    assert "nothing from this file was written" in result.stderr
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(Session)) == 0


HOSTILE = {
    "seq past 32 bits": (("steps", 0, "seq"), 2_147_483_648, "steps[0].seq"),
    "NUL in the summary": (("problem_summary",), "a\u0000b", "problem_summary"),
    "start outside year 1 in UTC": (("created_at",), "0001-01-01T00:00:00+14:00", "created_at"),
    "nested 300 deep": (("engineer",), json.loads("[" * 300 + "]" * 300), "engineer"),
}


@BACKENDS
@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_record_exits_1_naming_line_and_field_without_a_traceback(scratch_database_url, tmp_path, case):
    path, value, field = HOSTILE[case]
    run_core(scratch_database_url, "db", "upgrade")
    record = json.loads((DATA / "sample-sessions.jsonl").read_text().splitlines()[0])
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    bad = tmp_path / "hostile.jsonl"
    bad.write_text(json.dumps(record) + "\n")
    result = run_core(scratch_database_url, "import", "--sessions", str(bad))
    assert result.returncode == 1
    assert f"{bad}, line 1, field {field}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    with make_engine(scratch_database_url).connect() as connection:
        assert connection.execute(select(func.count()).select_from(Session)).scalar() == 0


def test_a_missing_file_is_a_clear_usage_error(tmp_path):
    result = run_core(f"sqlite:///{tmp_path / 'cli.db'}", "import", "--sessions", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert "is not a readable file" in result.stderr


def test_user_add_generates_a_password_once_and_stores_only_its_hash(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    run_core(url, "db", "upgrade")
    run_core(url, "import", "--sessions", str(DATA / "sample-sessions.jsonl"))

    created = run_core(url, "user", "add", "Dana@Example.test", "--account", "example-msp", "--role", "manager")
    assert created.returncode == 0, created.stderr
    password = created.stdout.split("shown once): ")[1].strip()
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        user = db.scalars(select(User)).one()
        assert user.email == "dana@example.test"
        assert password not in user.password_hash
        assert verify_password(user.password_hash, password)
        assert db.scalars(select(Membership.role)).all() == ["manager"]

    promoted = run_core(url, "user", "add", "dana@example.test", "--account", "example-msp", "--role", "admin")
    assert promoted.returncode == 0
    assert "shown once" not in promoted.stdout  # an existing user keeps their password
    with unit_of_work(engine) as db:
        assert db.scalars(select(Membership.role)).all() == ["admin"]
        assert verify_password(db.scalars(select(User.password_hash)).one(), password)


def test_user_add_refuses_an_unknown_account(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    run_core(url, "db", "upgrade")
    result = run_core(url, "user", "add", "x@example.test", "--account", "nobody", "--role", "admin")
    assert result.returncode == 1
    assert "no account 'nobody'" in result.stderr
