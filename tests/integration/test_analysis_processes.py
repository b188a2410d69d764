"""`python -m scheduler --drain` as real processes: two sharing one PostgreSQL queue, and a
stop signal in the middle of a batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine, unit_of_work, upgrade
from core.demo.loader import run_demo
from core.models import AnalysisQueueItem, FlowProposal, ProposalSession

REPO = Path(__file__).resolve().parents[2]


def drain_process(url: str, log: Path, batch_size: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "ANALYSIS_BATCH_SIZE": str(batch_size)}
    with log.open("w") as sink:
        return subprocess.Popen([sys.executable, "-m", "scheduler", "--drain"], cwd=REPO, env=env,
                                stdout=sink, stderr=sink)


def demo_database(url: str, sessions: int):
    engine = make_engine(url)
    upgrade(engine)
    run_demo(engine, accounts=2, sessions=sessions, seed=7)
    return engine


def assert_each_session_counted_once(engine) -> None:
    with unit_of_work(engine) as db:
        statuses = dict(db.execute(select(AnalysisQueueItem.status, func.count()).group_by(AnalysisQueueItem.status)).all())
        links = dict(db.execute(select(ProposalSession.proposal_id, func.count())
                                .group_by(ProposalSession.proposal_id)).all())
        supports = dict(db.execute(select(FlowProposal.id, FlowProposal.support_count)).all())
        new_flow_links = db.execute(
            select(ProposalSession.session_id, func.count()).join(FlowProposal)
            .where(FlowProposal.proposal_type == "new_flow").group_by(ProposalSession.session_id)
            .having(func.count() > 1)).all()
        open_keys = db.execute(
            select(FlowProposal.account_id, FlowProposal.evidence_key, func.count())
            .where(FlowProposal.proposal_type == "enhancement", FlowProposal.status == "pending")
            .group_by(FlowProposal.account_id, FlowProposal.evidence_key).having(func.count() > 1)).all()
    assert statuses == {"done": sum(statuses.values())}, statuses
    assert supports == links, "every proposal counts exactly its linked sessions"
    assert new_flow_links == [], "no session supports two new-flow proposals"
    assert open_keys == [], "one open enhancement per change"


@pytest.mark.parametrize("scratch_database_url", ["postgresql"], indirect=True)
def test_two_processes_share_one_postgresql_queue_and_analyse_every_session_once(scratch_database_url, tmp_path):
    engine = demo_database(scratch_database_url, 4000)

    workers = [drain_process(scratch_database_url, tmp_path / f"worker-{n}.log", batch_size=40) for n in range(2)]
    codes = [w.wait(timeout=300) for w in workers]

    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in range(2)]
    assert codes == [0, 0], logs
    assert all("analysis batch: claimed 40" in log for log in logs), "both workers took batches"
    assert_each_session_counted_once(engine)
    with unit_of_work(engine) as db:
        by_worker = db.execute(select(AnalysisQueueItem.claimed_by, func.count())
                               .group_by(AnalysisQueueItem.claimed_by)).all()
        attempts = db.scalar(select(func.max(AnalysisQueueItem.attempts)))
    assert len(by_worker) == 2 and attempts == 1, "no item was claimed twice"
    engine.dispose()


@pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_stop_signal_mid_batch_finishes_that_batch_and_loses_nothing(scratch_database_url, tmp_path):
    engine = demo_database(scratch_database_url, 3000)
    log = tmp_path / "drain.log"
    process = drain_process(scratch_database_url, log, batch_size=25)
    try:
        deadline = time.monotonic() + 60
        while "analysis batch:" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert "received SIGTERM; stopping after the current batch" in output and "Traceback" not in output

    with unit_of_work(engine) as db:
        statuses = dict(db.execute(select(AnalysisQueueItem.status, func.count()).group_by(AnalysisQueueItem.status)).all())
    assert "claimed" not in statuses, "nothing is left claimed by the stopped process"
    assert statuses.get("pending", 0) > 0, "the signal arrived before the queue was empty"

    again = drain_process(scratch_database_url, tmp_path / "again.log", batch_size=500)
    assert again.wait(timeout=120) == 0
    assert_each_session_counted_once(engine)
    engine.dispose()


def test_the_long_running_scheduler_analyses_the_queue_on_its_interval_and_logs_each_batch(tmp_path):
    url = f"sqlite:///{tmp_path / 'scheduler.db'}"
    engine = demo_database(url, 300)
    log = tmp_path / "scheduler.log"
    env = {**os.environ, "DATABASE_URL": url, "SCHEDULER_INTERVAL_SECONDS": "1", "ANALYSIS_BATCH_SIZE": "100"}
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=REPO, env=env, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 60
        while "analysis run:" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert "analysis batch: claimed 100, analysed 100" in output
    assert "proposals created" in output and "failures 0" in output
    assert_each_session_counted_once(engine)
    engine.dispose()
