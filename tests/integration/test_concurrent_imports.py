"""Two import processes with overlapping files of new sessions, running at once:
both succeed and leave exactly the union, each resolved session queued once. (Before imports took
turns, the later COPY of a shared id died with a unique violation and its whole file was lost.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine, unit_of_work, upgrade
from core.models import AnalysisQueueItem, Session, Step
from core.sessions.store import ensure_accounts

REPO = Path(__file__).resolve().parents[2]
TOTAL, STEPS = 20_000, 3


def session(n: int) -> dict:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(minutes=7 * n)
    return {
        "id": f"s-{n}", "account": "acme" if n % 3 else "globex", "created_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=20)).isoformat(), "status": "resolved" if n % 2 else "escalated",
        "problem_domain": "printing", "problem_summary": f"Printer {n} offline", "matched_flow": "fl-print",
        "steps": [{"seq": i + 1, "step_type": "action", "node_id": f"a{i}", "context_message": f"step {i + 1}",
                   "outcome": "failed" if i == 0 and n % 5 == 0 else "succeeded",
                   "created_at": (start + timedelta(minutes=i)).isoformat()} for i in range(STEPS)],
    }


def write(path: Path, numbers: range) -> Path:
    path.write_text("".join(json.dumps(session(n)) + "\n" for n in numbers))
    return path


# An import in its own process that, with a marker path, says when it has written the first of the
# sessions both files share (line 5,001 on) and then holds its transaction open a moment: the other
# import surely meets those rows uncommitted.
IMPORTER = """
import sys, time
from pathlib import Path
from core.db import make_engine
from core.sessions.importer import import_sessions, read_lines
url, source, marker = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
def progress(p):
    if marker != "-" and p.lines >= 6000 and not Path(marker).exists():
        Path(marker).write_text("first batch written")
        time.sleep(3)
print(import_sessions(make_engine(url), read_lines(source), str(source), batch_size=2000, progress=progress).describe())
"""


def start_import(url: str, source: Path, marker: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", IMPORTER, url, str(source), marker], cwd=REPO, env=os.environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_two_overlapping_imports_at_once_both_succeed_with_the_union(scratch_database_url, tmp_path):
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    with engine.begin() as connection:
        # Accounts that exist already, as they do in use (creating one would make the second
        # import wait for the first on the accounts table, and hide the race).
        ensure_accounts(connection, {"acme", "globex"}, {}, datetime.now(timezone.utc))
    # Lines 1-15,000 and 5,001-20,000 of one file: 10,000 new sessions in both.
    first = write(tmp_path / "first.jsonl", range(1, 15_001))
    second = write(tmp_path / "second.jsonl", range(5_001, TOTAL + 1))
    marker = tmp_path / "first-batch"
    processes = [start_import(scratch_database_url, first, str(marker))]
    deadline = time.monotonic() + 120
    while not marker.exists() and processes[0].poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    processes.append(start_import(scratch_database_url, second, "-"))
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "Traceback" not in out + err
    with unit_of_work(engine) as db:
        sessions = db.scalar(select(func.count()).select_from(Session))
        steps = db.scalar(select(func.count()).select_from(Step))
        queued = db.execute(select(AnalysisQueueItem.session_id, func.count())
                            .group_by(AnalysisQueueItem.session_id)).all()
    assert sessions == TOTAL
    assert steps == TOTAL * STEPS
    assert len(queued) == TOTAL // 2 and {count for _, count in queued} == {1}
    engine.dispose()
