"""The scheduler process: an APScheduler BlockingScheduler running jobs over `core`.

Every job is a function of the engine, registered in `build_scheduler`; adding the analysis
job is one more `add_job` there.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.db import SchemaOutOfDate, make_engine, require_current_schema, schema_status, unit_of_work
from core.queue_status import queue_backlog
from core.settings import Settings, get_settings

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


def build_scheduler(engine: Engine, settings: Settings) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=timezone.utc)
    # A slow run is never stacked on top of itself, and runs missed while one was slow
    # collapse into one: every job here reads the current state, so catching up is pointless.
    every = {"trigger": "interval", "seconds": settings.scheduler_interval_seconds,
             "max_instances": 1, "coalesce": True}
    scheduler.add_job(log_queue_backlog, args=[engine], id="queue-backlog", name="queue backlog",
                      next_run_time=datetime.now(timezone.utc), **every)
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
    raise _StopRequested(signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="FlowPilot Insights scheduler")
    parser.add_argument("--once", action="store_true", help="run every job once, then exit")
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
