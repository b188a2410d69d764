"""How fast the Knowledge gaps and Analytics pages answer a user, in Chromium, on `make run`'s demo data.

    .venv/bin/python benchmarks/page_bench.py [--repeat 3] [--database FILE] [--fresh]

The demo database is what `make run` loads into an empty database (``core.demo.loader.run_demo``,
20,000 sessions over 90 days in 3 accounts), kept in a SQLite file that later runs reuse; a
benchmark admin of every account signs in. Each repeat starts a new `streamlit run` (every cache
cold) and a new browser context, signs in (Home), then times, in this order:

* gaps, first visit: Home -> Knowledge gaps, the report built for the first time;
* Home, revisit (the baseline): Knowledge gaps -> Home, Home's reads cached;
* gaps, revisit: Home -> Knowledge gaps, the report cached;
* gaps, switch to 7 days, then to 90 days: reports not built yet;
* gaps, new browser session: a second browser context opens the page and signs in, the report
  cached on the server (not a target, the issue's figure);
* Analytics, first visit (from Home's 90-day gaps page, so after Home in the same browser session,
  which has the browser load Plotly once it is drawn); Analytics, switch to 7 days;
* Analytics, new browser session: a third browser context opens Analytics by its link and signs
  in, so the page loads Plotly itself while the server reads (not a target).

A step is timed in the page, from the click until the script run it starts has ended
(``stApp``'s ``data-test-script-state`` is ``notRunning``, no element is left stale) and the page
shows what only the new state shows (its title, a card, the new period's dates; on Analytics both
charts of the open tab), plus two animation frames, so that the browser has painted what the run
sent. Machines here differ by 2x and other work runs at the same time: every figure is printed
beside the Home revisit measured in the same run, and the best of the repeats is what the table
reports.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from core.db import make_engine, unit_of_work, upgrade  # noqa: E402
from core.models import Account, Session, User  # noqa: E402
from core.types import utcnow  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
EMAIL = "bench@flowpilot.example"
PASSWORD = "page-bench-password-1"
SESSIONS = 20_000  # core.demo.bootstrap.DEMO_SESSIONS: what `make run` loads
TARGETS = {  # seconds (issue 14)
    "gaps: first visit": 2.0, "gaps: revisit (report cached)": 0.5, "gaps: switch to 7 days": 2.0,
    "gaps: switch to 90 days": 2.0, "analytics: first visit": 1.5, "analytics: switch to 7 days": 1.0,
}
BASELINE = "home: revisit (baseline)"

# Done: the script is not running, no element is left stale from the previous run, and the page
# shows something only the new state has (``ready``, a JavaScript expression: a fast run may
# never show "running" in the page at all, and the old page is "not running" too).
FINISHED = """ready => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app.getAttribute('data-test-script-state') === 'notRunning'
    && document.querySelector('[data-stale="true"]') === null && eval(ready);
}"""
TITLE = "[...document.querySelectorAll('h1')].some(h => h.textContent.includes({!r}))"
GAPS = TITLE.format("Knowledge gaps") + " && document.querySelector('[data-testid=\"stMain\"] h5') !== null"
HOME = TITLE.format("FlowPilot Insights")
# Analytics draws the open tab's charts only: the first tab's two, both begun by Plotly.
ANALYTICS = (TITLE.format("Analytics")
             + " && document.querySelectorAll('[data-testid=\"stTabs\"] .js-plotly-plot').length >= 2")


def showing(text: str) -> str:
    """The page's text includes ``text``."""
    return f"document.querySelector('[data-testid=\"stMain\"]').innerText.includes({text!r})"


PAINTED = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
  () => done(performance.now()))))"""


def prepare(path: Path, fresh: bool) -> str:
    if fresh and path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        has_sessions = db.scalar(select(func.count(Session.id))) > 0
    if not has_sessions:
        from core.demo.loader import run_demo

        print(f"Loading {SESSIONS:,} demo sessions into {path} (as make run does)...", flush=True)
        print(run_demo(engine, sessions=SESSIONS).describe(), flush=True)
    with unit_of_work(engine) as db:
        if db.scalar(select(User.id).where(User.email == EMAIL)) is None:
            from core.accounts.users import add_user

            for slug in db.scalars(select(Account.slug).order_by(Account.slug)):
                add_user(db, EMAIL, slug, "admin", PASSWORD)
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1"],
            cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "DATABASE_URL": url})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"streamlit exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"streamlit did not answer within 60 s:\n{log.read_text()}")


def timed(page, action, ready: str) -> float:
    """Seconds from ``action`` to the end of the script run it starts, painted."""
    mark = page.evaluate("() => performance.now()")
    action()
    page.wait_for_function(FINISHED, arg=ready, timeout=120_000, polling=20)
    seconds = (page.evaluate(PAINTED) - mark) / 1000
    if os.environ.get("PAGE_BENCH_VERBOSE"):
        print(f"  {seconds:.2f} s", flush=True)
    return seconds


def sign_in(page) -> None:
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def nav(page, title: str):
    return lambda: page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()


def by_link(browser, link: str, ready: str) -> float:
    """A new browser session opens the link and signs in: the time from the sign-in click."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(link)
        page.get_by_label("Email").wait_for(timeout=60_000)
        return timed(page, lambda: sign_in(page), ready)
    finally:
        context.close()


def one_run(browser, url: str, log: Path) -> dict[str, float]:
    process, base = start_server(url, log)
    figures: dict[str, float] = {}
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(base)
        sign_in(page)
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").wait_for(timeout=60_000)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=60_000)
        started = lambda days: showing(f"Sessions started {utcnow() - timedelta(days=days):%d %b %Y}")  # noqa: E731
        figures["gaps: first visit"] = timed(page, nav(page, "Knowledge gaps"), GAPS)
        figures[BASELINE] = timed(page, nav(page, "Home"), HOME)
        figures["gaps: revisit (report cached)"] = timed(page, nav(page, "Knowledge gaps"), GAPS)
        figures["gaps: switch to 7 days"] = timed(page, lambda: page.get_by_text("Last 7 days", exact=True).click(),
                                                  f"{GAPS} && {started(7)}")
        figures["gaps: switch to 90 days"] = timed(page, lambda: page.get_by_text("Last 90 days", exact=True).click(),
                                                   f"{GAPS} && {started(90)}")
        figures["analytics: first visit"] = timed(page, nav(page, "Analytics"), ANALYTICS)
        figures["analytics: switch to 7 days"] = timed(page, lambda: page.get_by_text("7 days", exact=True).click(),
                                                       f"{ANALYTICS} && {showing('in the last 7 days')}")

        figures["gaps: new browser session (not a target)"] = by_link(browser, f"{base}/knowledge-gaps?days=90", GAPS)
        # Opened by a link in a new browser session, Analytics loads Plotly itself (not after Home).
        figures["analytics: new browser session (not a target)"] = by_link(browser, f"{base}/analytics", ANALYTICS)
        context.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", type=Path, default=Path(tempfile.gettempdir()) / "flowpilot-page-bench.db")
    parser.add_argument("--fresh", action="store_true", help="reload the demo data first")
    args = parser.parse_args()
    url = prepare(args.database, args.fresh)

    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        for n in range(args.repeat):
            load = os.getloadavg()[0]
            runs.append(one_run(browser, url, Path(scratch) / f"streamlit-{n}.log"))
            print(f"run {n + 1}/{args.repeat} (load {load:.1f}): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
        browser.close()

    baseline = min(r[BASELINE] for r in runs)
    print(f"\nBest of {len(runs)} runs (median in brackets); baseline: Home revisit {baseline:.2f} s")
    print(f"{'step':<42} {'best':>7} {'median':>8} {'x Home':>7} {'target':>7}  met")
    for name in runs[0]:
        values = [r[name] for r in runs]
        best, target = min(values), TARGETS.get(name)
        met = "" if target is None else ("yes" if best < target else "NO")
        print(f"{name:<42} {best:>6.2f}s {statistics.median(values):>7.2f}s {best / baseline:>6.1f}x "
              f"{(f'{target:.1f}s' if target else '–'):>7}  {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
