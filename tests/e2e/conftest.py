"""Browser tests: a real `streamlit run` server and Debian's Chromium, driven by Playwright.

Without /usr/bin/chromium these tests skip with the reason, unless REQUIRE_BROWSER=1, where
they fail: CI must never pass by skipping them. Install the browser with
`apt-get install chromium`; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.db import make_engine, unit_of_work, upgrade
from core.models import Account, Session

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll ``url`` until it answers 200; fail early, with the server's output, if the server dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with code {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout}s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


Seed = dict[tuple[str, str], list[tuple[int, tuple[str, ...]]]]


def seed_sessions(url: str, accounts: Seed) -> None:
    """A migrated database holding, per (slug, name), sessions started ``days ago`` with these statuses."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(timezone.utc)
    with unit_of_work(engine) as db:
        for (slug, name), groups in accounts.items():
            account = Account(slug=slug, name=name, settings={})
            db.add(account)
            db.flush()
            n = 0
            for days_ago, statuses in groups:
                for status in statuses:
                    n += 1
                    db.add(Session(account_id=account.id, external_id=f"{slug}-{n}", status=status,
                                   created_at=now - timedelta(days=days_ago, minutes=n)))
    engine.dispose()


@pytest.fixture
def seeded_database(tmp_path: Path) -> Callable[[Seed], str]:
    """A fresh SQLite file holding the given accounts and sessions; returns its URL."""
    numbers = itertools.count(1)

    def make(accounts: Seed) -> str:
        url = f"sqlite:///{tmp_path / f'seeded-{next(numbers)}.db'}"
        seed_sessions(url, accounts)
        return url

    return make


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's browser with `apt-get install chromium`"
        if os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false", "False"):
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def streamlit_server(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `streamlit run dashboard/app.py` on a free port against a database URL, with any further
    settings as environment variables (``SESSION_IDLE_TIMEOUT_MINUTES="0.25"``); returns its base URL."""
    started: list[subprocess.Popen] = []

    def start(database_url: str, **settings: str) -> str:
        port = free_port()
        log = tmp_path / f"streamlit-{port}.log"
        # The console script, as a user runs it, not `python -m`: that is what puts the
        # project root on sys.path, and app.py must not depend on it.
        script = Path(sys.executable).with_name("streamlit")
        streamlit = [str(script)] if script.exists() else [sys.executable, "-m", "streamlit"]
        with log.open("w") as sink:
            process = subprocess.Popen(
                [*streamlit, "run", "dashboard/app.py", "--server.port", str(port),
                 "--server.headless", "true", "--server.address", "127.0.0.1"],
                cwd=REPO, stdout=sink, stderr=subprocess.STDOUT,
                env={**os.environ, **settings, "DATABASE_URL": database_url, "PYTHONPATH": ""},
            )
        started.append(process)
        wait_for_server(f"http://127.0.0.1:{port}/_stcore/health", process, log)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        stop_process(process)


def add_user(url: str, email: str, role: str = "admin", slugs: tuple[str, ...] | None = None) -> None:
    """A user (password ``tests.factories.PASSWORD``) with ``role`` in the named accounts (default: all)."""
    from sqlalchemy import select

    from tests import factories as make

    engine = make_engine(url)
    with unit_of_work(engine) as db:
        accounts = db.scalars(select(Account).order_by(Account.slug)).all()
        make.user(db, email, {a: role for a in accounts if slugs is None or a.slug in slugs})
    engine.dispose()


def sign_in(page, email: str, password: str | None = None) -> None:
    """Fill the sign-in form of whatever page is open and wait for the signed-in app.

    A sign-in lasts across links in one browser: a page opened while signed in as ``email`` needs
    nothing more; signed in as someone else, it signs out first, as a person switching users would.
    """
    from tests import factories as make

    form = page.get_by_label("Email")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sign_out = sidebar.get_by_role("button", name="Sign out")
    form.or_(sign_out).first.wait_for(timeout=30_000)
    if sign_out.count():
        wait_until_idle(page)
        if sidebar.get_by_text(email, exact=False).count():
            return
        sign_out.click()
        form.wait_for(timeout=30_000)
    form.fill(email)
    page.get_by_label("Password", exact=True).fill(password or make.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").wait_for(timeout=30_000)


def wait_until_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app has finished its current run (Streamlit shows its running indicator
    meanwhile): a button pressed mid-run may belong to a page that is being replaced."""
    page.locator('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]') \
        .first.wait_for(state="hidden", timeout=timeout)


def pick_option(page, combobox: str, option: str, attempts: int = 3) -> None:
    """Choose ``option`` in the selectbox labelled ``combobox``. A rerun that lands while the list
    is open draws the selectbox again and closes the list, so the list is opened again until the
    option shows (under load a download or a period switch can still be rerunning)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    wait_until_idle(page)
    wanted = page.get_by_role("option", name=option)
    for attempt in range(attempts):
        page.get_by_role("combobox", name=combobox).click()
        try:
            wanted.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
            wait_until_idle(page)
    wanted.click()
