"""The scheduler process: an APScheduler BlockingScheduler running jobs over `core`.

Every job is a function of the engine, registered in `build_scheduler`. The analysis job
drains the analysis queue batch by batch; a stop signal lets the current batch finish (it is
one transaction) and ends the job before the next one, so nothing claimed is left behind.
`--drain` runs the analysis alone until the queue has nothing claimable, then exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.analysis.queue_claims import QueuePolicy, worker_id
from core.analysis.queue_status import queue_backlog
from core.analysis.service import BatchReport, drain
from core.db import SchemaOutOfDate, make_engine, require_current_schema, schema_status, unit_of_work
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger("scheduler")


class _StopRequested(BaseException):
    """Raised from the signal handler so that the blocking main loop unwinds like Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.name = signal.Signals(signum).name


def log_queue_backlog(engine: Engine) -> None:
    with unit_of_work(engine) as db:
        backlog = queue_backlog(db)
    log.info("analysis queue backlog: %s", backlog.describe())


# Set by SIGTERM/SIGINT: the analysis finishes the batch it is in and starts no other.
STOP = threading.Event()


def queue_policy(settings: Settings) -> QueuePolicy:
    return QueuePolicy(batch_size=settings.analysis_batch_size, lease_seconds=settings.analysis_lease_seconds,
                       max_attempts=settings.analysis_max_attempts, backoff_seconds=settings.analysis_backoff_seconds)


def _log_batch(report: BatchReport) -> None:
    log.info("analysis batch: %s", report.describe())


def analyse_queue(engine: Engine, worker: str, policy: QueuePolicy) -> BatchReport:
    total = drain(engine, worker, policy, should_stop=STOP.is_set, on_batch=_log_batch)
    if total.claimed:
        log.info("analysis run: %s", total.describe())
    return total


def build_scheduler(engine: Engine, settings: Settings) -> BlockingScheduler:
    # Imported here: `--drain` never needs APScheduler, and every process started for a drain
    # (cron, several workers at once) would pay for importing it.
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone=timezone.utc)
    # A slow run is never stacked on top of itself, and runs missed while one was slow
    # collapse into one: every job here reads the current state, so catching up is pointless.
    every = {"trigger": "interval", "seconds": settings.scheduler_interval_seconds,
             "max_instances": 1, "coalesce": True}
    scheduler.add_job(log_queue_backlog, args=[engine], id="queue-backlog", name="queue backlog",
                      next_run_time=datetime.now(timezone.utc), **every)
    # The backlog is logged as found at start-up before the analysis starts working it off.
    scheduler.add_job(analyse_queue, args=[engine, worker_id(), queue_policy(settings)], id="analysis",
                      name="session analysis", next_run_time=datetime.now(timezone.utc) + timedelta(seconds=2),
                      **every)
    return scheduler


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs two INFO lines per run and Alembic two per connection; keep their
    # warnings and errors only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _require_schema(engine: Engine, settings: Settings) -> None:
    status = schema_status(engine)
    if not status.up_to_date and settings.uses_embedded_database:
        log.info("upgrading the embedded database from %s to revision %s", status.current or "empty", status.head)
    require_current_schema(engine, auto_upgrade=settings.uses_embedded_database)


def _run_once(scheduler: BlockingScheduler) -> int:
    for job in scheduler.get_jobs():
        try:
            job.func(*job.args, **job.kwargs)
        except Exception:
            log.exception("job %s failed", job.name)
            return 1
    log.info("ran every job once; exiting")
    return 0


def _raise_stop(signum: int, _frame) -> None:
    # A second signal while shutting down must not interrupt the clean shutdown.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    STOP.set()
    raise _StopRequested(signum)


def _stop_after_batch(signum: int, _frame) -> None:
    # --drain runs batches in this (the main) thread: raising here would cut a batch short.
    if not STOP.is_set():
        log.info("received %s; stopping after the current batch", signal.Signals(signum).name)
    STOP.set()


def _drain(engine: Engine, settings: Settings) -> int:
    signal.signal(signal.SIGTERM, _stop_after_batch)
    signal.signal(signal.SIGINT, _stop_after_batch)
    total = analyse_queue(engine, worker_id(), queue_policy(settings))
    if STOP.is_set():
        log.info("stopped after the current batch; the rest of the queue waits for the next run")
    else:
        log.info("the analysis queue has nothing left to claim; exiting")
    return 1 if total.failed and not total.analysed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="FlowPilot Insights scheduler")
    parser.add_argument("--once", action="store_true", help="run every job once, then exit")
    parser.add_argument("--drain", action="store_true",
                        help="analyse batches until the analysis queue has nothing claimable, then exit")
    args = parser.parse_args(argv)
    configure_logging()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)

    settings = get_settings()
    url = settings.effective_database_url
    where = make_url(url).render_as_string(hide_password=True)
    engine = make_engine(url)
    scheduler: BlockingScheduler | None = None
    try:
        log.info("starting; database %s", where)
        _require_schema(engine, settings)
        if args.drain:
            return _drain(engine, settings)
        scheduler = build_scheduler(engine, settings)
        if args.once:
            return _run_once(scheduler)
        log.info("started; jobs every %ss: %s", settings.scheduler_interval_seconds,
                 ", ".join(job.name for job in scheduler.get_jobs()))
        scheduler.start()
        return 0
    except OperationalError as exc:
        log.error("cannot reach the database %s: %s", where, exc.orig)
        return 1
    except SchemaOutOfDate as exc:
        log.error("%s", exc)
        return 1
    except _StopRequested as stop:
        log.info("received %s; shutting down", stop.name)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
        log.info("stopped")
        return 0
    finally:
        engine.dispose()
