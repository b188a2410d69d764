"""`python -m launcher` (what `make run` does): prepare the database, then run the
scheduler and the dashboard side by side until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.db import SchemaOutOfDate, make_engine
from core.demo import bootstrap
from core.sessions.importer import Progress
from core.settings import PROJECT_ROOT, Settings, get_settings

STOP_TIMEOUT_SECONDS = 10
READY_TIMEOUT_SECONDS = 60
POLL_SECONDS = 0.2
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1


def _load_libc() -> ctypes.CDLL | None:
    # Loaded here, not in the forked child, where loading a library is not safe.
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()


def say(message: str = "", *, error: bool = False) -> None:
    print(message, file=sys.stderr if error else sys.stdout, flush=True)


class _Interrupted(BaseException):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.name = signal.Signals(signum).name


@dataclass
class Child:
    name: str
    process: subprocess.Popen

    def exited(self) -> int | None:
        return self.process.poll()


def _child_setup() -> None:
    """Runs in the child between fork and exec."""
    # The launcher blocks the stop signals while it starts children; the mask is inherited.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    # If the launcher is killed outright (SIGKILL), the kernel sends the child SIGTERM
    # instead of leaving it running on its own.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(name: str, argv: list[str]) -> Child:
    say(f"Starting the {name}: python {' '.join(argv)}")
    # Own process group: a Ctrl-C in the terminal reaches only this launcher, which then
    # stops the children in order rather than racing them.
    process = subprocess.Popen(
        [sys.executable, *argv], cwd=PROJECT_ROOT, start_new_session=True,
        preexec_fn=_child_setup,
    )
    return Child(name, process)


def _stop(children: list[Child]) -> None:
    running = [c for c in children if c.exited() is None]
    for child in running:
        child.process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in running:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"The {child.name} did not stop within {STOP_TIMEOUT_SECONDS}s; killing it.")
            child.process.kill()
            child.process.wait()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the server sets, so a socket in TIME_WAIT does not count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _progress(p: Progress) -> None:
    if sys.stdout.isatty():
        sys.stdout.write(f"\r  {p.records:,} records...")
        sys.stdout.flush()


def prepare(settings: Settings) -> int:
    """Bring the database to a usable state; 0 when ready, 1 when the operator must act first."""
    url = settings.effective_database_url
    where = make_url(url).render_as_string(hide_password=True)
    kind = "the embedded database" if settings.uses_embedded_database else "the database from DATABASE_URL"
    say(f"Preparing {kind}: {where}")
    engine = make_engine(url)
    try:
        for line in bootstrap.prepare(engine, settings, progress=_progress):
            if sys.stdout.isatty():
                sys.stdout.write("\r\033[K")
            say(line)
    except SchemaOutOfDate as exc:
        say(str(exc), error=True)
        return 1
    except OperationalError as exc:
        say(f"Cannot reach the database {where}: {exc.orig}", error=True)
        return 1
    finally:
        engine.dispose()
    return 0


def supervise(children: list[Child], health_url: str, app_url: str) -> int:
    """Wait for a signal (exit 0) or for a child to die (exit 1); stop the children either way."""
    ready = False
    started = time.monotonic()
    try:
        while True:
            for child in children:
                code = child.exited()
                if code is not None:
                    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
                    say(f"The {child.name} {how} unexpectedly; stopping the rest.", error=True)
                    _stop(children)
                    return 1
            if not ready:
                if _answers(health_url):
                    ready = True
                    say(f"\nFlowPilot Insights is running at {app_url}  (Ctrl-C to stop)\n")
                elif time.monotonic() - started > READY_TIMEOUT_SECONDS:
                    say(f"The dashboard did not answer at {health_url} within {READY_TIMEOUT_SECONDS}s; stopping.",
                        error=True)
                    _stop(children)
                    return 1
            time.sleep(POLL_SECONDS)
    except _Interrupted as interrupted:
        # Further signals wait for this shutdown instead of cutting it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say(f"\nReceived {interrupted.name}: stopping the dashboard and the scheduler...")
        _stop(children)
        say("Stopped.")
        return 0


def _raise_interrupted(signum: int, _frame) -> None:
    raise _Interrupted(signum)


def main() -> int:
    settings = get_settings()
    port = settings.port
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)
    children: list[Child] = []
    try:
        if not _port_is_free(port):
            say(f"Port {port} is already in use. Stop whatever uses it, or choose another: PORT=8502 make run",
                error=True)
            return 1
        if prepare(settings) != 0:
            return 1
        # Held back while starting, so that no child is ever started without being tracked.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            children.append(_start("scheduler", ["-m", "scheduler"]))
            children.append(_start("dashboard", [
                "-m", "streamlit", "run", "dashboard/app.py",
                "--server.port", str(port), "--server.headless", "true",
            ]))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        return supervise(children, f"http://127.0.0.1:{port}/_stcore/health", f"http://localhost:{port}")
    except _Interrupted as interrupted:
        # Only reached when the signal came before supervise() took over.
        say(f"\nReceived {interrupted.name}; stopping.")
        _stop(children)
        return 0 if children else 130


if __name__ == "__main__":
    sys.exit(main())
