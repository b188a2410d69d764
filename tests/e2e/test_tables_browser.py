"""Every page at a laptop's 1,400 x 900 on realistic demo data (generated, then analysed): no cell
and no text shows "None" or "nan", the main block never scrolls sideways and no table does either
(every key column fits). An admin opens every page with a proposal, a flow and a gap's evidence
open; an analyst opens the pages the role has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work, upgrade
from core.demo.loader import run_demo
from core.models import FlowProposal, User
from core.proposals import review
from tests.e2e.conftest import REPO, add_user, sign_in, wait_until_idle

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}
EXCEPTION = '[data-testid="stException"]'
GRID = '[data-testid="stDataFrame"]'
# A missing value as Python or pandas print it, as a word of its own; not the English "None of"
# (a suggested action reads "None of these were resolved: ...").
MISSING = re.compile(r"(?<![\w-])(None(?! of\b)|nan|NaN|NaT)(?![\w-])")
ROW_HEIGHT = 35  # the grid's header height, in CSS pixels


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """One demo account with its sessions analysed (proposals in the queue), an admin and an analyst."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tables') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    run_demo(engine, accounts=1, sessions=1500, seed=42)
    engine.dispose()
    drained = subprocess.run([sys.executable, "-m", "scheduler", "--drain"], cwd=REPO, capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": url}, timeout=300)
    assert drained.returncode == 0, drained.stderr
    add_user(url, "admin@demo.example", "admin")
    add_user(url, "analyst@demo.example", "analyst")
    return url


# The grid's accessible table holds each cell's data, not what is drawn: a missing value is an
# empty cell there, while the canvas paints the grid's placeholder (by default a grey "None").
# Every text painted on a canvas is recorded, so the check sees what a person sees.
RECORD_CANVAS_TEXT = """(() => {
    const drawn = new Set();
    window.__drawnText = drawn;
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        drawn.add(String(text));
        return fillText.call(this, text, ...rest);
    };
})()"""


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RECORD_CANVAS_TEXT)
    opened = context.new_page()
    yield opened
    context.close()


def open_page(page, title: str) -> None:
    page.evaluate("() => window.__drawnText.clear()")  # what the next page paints, only
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=30_000)
    wait_until_idle(page)


def grid_report(page, name: str = "", screenshots: Path | None = None) -> list[dict]:
    """Per dataframe shown (not those in a closed expander): its cells' text, from the grid's
    accessible table (which holds the cells drawn on the canvas, once the grid is drawn: each is
    scrolled into view first), and the widths of its scrolling box."""
    grids = page.locator(GRID).filter(visible=True)
    found = []
    for n in range(grids.count()):
        grid = grids.nth(n)
        grid.scroll_into_view_if_needed()
        expect(grid.locator('[role="gridcell"]').first).to_be_attached(timeout=15_000)
        if screenshots is not None:
            grid.screenshot(path=screenshots / f"tables-{name}-table{n}.png")
        found.append(grid.evaluate("""frame => {
            const scroller = frame.querySelector('.dvn-scroller');
            return {
                headers: [...frame.querySelectorAll('[role="columnheader"]')].map(h => h.textContent.trim()),
                cells: [...frame.querySelectorAll('[role="gridcell"]')].map(c => c.textContent.trim()),
                scrollWidth: scroller ? scroller.scrollWidth : 0,
                clientWidth: scroller ? scroller.clientWidth : 0,
            };
        }"""))
    return found


def check_page(page, name: str, screenshots: Path) -> None:
    """The checks every page passes, then a screenshot of it."""
    expect(page.locator(EXCEPTION)).to_have_count(0)
    main = page.locator('[data-testid="stMain"]')
    widths = main.evaluate("m => [m.scrollWidth, m.clientWidth]")
    page.screenshot(path=screenshots / f"tables-{name}.png", full_page=True)
    assert widths[0] <= widths[1] + 1, f"{name}: the main block scrolls sideways ({widths[0]} > {widths[1]})"
    text = main.inner_text()
    missing = [text[max(0, m.start() - 60):m.end() + 20] for m in MISSING.finditer(text)]
    assert not missing, f"{name}: the page shows {missing[:5]}"
    grids = grid_report(page, name, screenshots)
    painted = [t for t in page.evaluate("() => [...window.__drawnText]") if MISSING.search(t)]
    assert not painted, f"{name}: a table paints {painted[:5]}"
    for n, grid in enumerate(grids):
        assert grid["cells"], f"{name}: table {n} ({grid['headers']}) has no readable cells"
        bad = [c for c in grid["cells"] if MISSING.search(c)]
        assert not bad, f"{name}: table {n} ({grid['headers']}) shows {bad[:5]}"
        assert grid["scrollWidth"] <= grid["clientWidth"] + 1, \
            f"{name}: table {n} ({grid['headers']}) scrolls sideways ({grid['scrollWidth']} > {grid['clientWidth']})"


def select_first_row(page, n: int = 0) -> None:
    box = page.locator(GRID).nth(n).bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT + ROW_HEIGHT / 2)


def test_an_admin_sees_every_page_whole_at_a_laptops_width(laptop, streamlit_server, demo_url, screenshots):
    page = laptop
    page.goto(streamlit_server(demo_url))
    sign_in(page, "admin@demo.example")
    expect(page.get_by_role("heading", name="FlowPilot Insights").first).to_be_visible(timeout=30_000)
    wait_until_idle(page)
    check_page(page, "admin-home", screenshots)

    open_page(page, "Review queue")
    expect(page.locator(GRID)).to_have_count(1, timeout=30_000)
    check_page(page, "admin-review-queue", screenshots)
    select_first_row(page)
    expect(page).to_have_url(re.compile(r"[?&]proposal=\d+"), timeout=15_000)
    expect(page.get_by_role("heading", name=re.compile(r"Proposal #\d+"))).to_be_visible(timeout=15_000)
    wait_until_idle(page)
    check_page(page, "admin-review-queue-detail", screenshots)
    # A supporting session's fields and steps, as the panel shows them.
    page.get_by_role("tab", name=re.compile(r"^Supporting sessions")).click()
    session = page.locator('[data-testid="stExpander"]').filter(has_text=" — ").first
    session.locator("summary").click()
    expect(session.locator(GRID).first).to_be_visible(timeout=15_000)
    wait_until_idle(page)
    check_page(page, "admin-review-queue-session", screenshots)

    open_page(page, "Flows")
    expect(page.locator(GRID)).to_have_count(1, timeout=30_000)
    check_page(page, "admin-flows", screenshots)
    select_first_row(page)
    expect(page).to_have_url(re.compile(r"[?&]flow=\d+"), timeout=15_000)
    expect(page.get_by_text("Current version: v").first).to_be_visible(timeout=15_000)
    page.get_by_role("tab", name=re.compile(r"^History")).click()
    wait_until_idle(page)
    check_page(page, "admin-flows-detail", screenshots)

    check_gaps(page, "admin", screenshots)
    check_analytics(page, "admin", screenshots)
    for title in ("Exports", "Script generator"):
        open_page(page, title)
        check_page(page, f"admin-{title.lower().replace(' ', '-')}", screenshots)

    decide_one(demo_url)
    open_page(page, "Activity")
    expect(page.locator(GRID)).to_have_count(1, timeout=30_000)
    check_page(page, "admin-activity", screenshots)
    select_first_row(page)
    expect(page).to_have_url(re.compile(r"[?&]entry=\d+"), timeout=15_000)
    expect(page.get_by_text("Nothing was published")).to_be_visible(timeout=15_000)
    wait_until_idle(page)
    check_page(page, "admin-activity-detail", screenshots)


def decide_one(url: str) -> None:
    """A decision for the Activity page (the demo data holds none): the admin rejects a pending proposal."""
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@demo.example")))
        proposal = db.scalars(select(FlowProposal).where(FlowProposal.status == "pending")
                              .order_by(FlowProposal.id.desc()).limit(1)).one()
        target = (admin, proposal.account_id, proposal.id, proposal.row_version)
    review.reject(engine, *target, "Covered by an existing flow")
    engine.dispose()


def check_analytics(page, role: str, screenshots: Path) -> None:
    """Analytics' first tab (two charts), then its Flows and Clients tabs, each with its table."""
    open_page(page, "Analytics")
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)
    check_page(page, f"{role}-analytics", screenshots)
    for tab in ("Flows", "Clients"):
        page.get_by_role("tab", name=tab, exact=True).click()
        expect(page.locator(GRID)).to_have_count(1, timeout=30_000)
        wait_until_idle(page)
        check_page(page, f"{role}-analytics-{tab.lower()}", screenshots)


def check_gaps(page, role: str, screenshots: Path) -> None:
    open_page(page, "Knowledge gaps")
    check_page(page, f"{role}-knowledge-gaps", screenshots)
    evidence = page.locator('[data-testid="stExpander"]').filter(has_text="Evidence").first
    evidence.locator("summary").click()
    expect(evidence.locator(GRID).first).to_be_visible(timeout=15_000)
    expect(evidence.get_by_text(re.compile(r"in the previous \d+ days"))).to_be_visible()
    wait_until_idle(page)
    evidence.scroll_into_view_if_needed()
    check_page(page, f"{role}-knowledge-gaps-evidence", screenshots)


def test_an_analyst_sees_their_pages_whole_at_a_laptops_width(laptop, streamlit_server, demo_url, screenshots):
    page = laptop
    page.goto(streamlit_server(demo_url))
    sign_in(page, "analyst@demo.example")
    expect(page.get_by_role("heading", name="FlowPilot Insights").first).to_be_visible(timeout=30_000)
    wait_until_idle(page)
    expect(page.locator('[data-testid="stMain"]').get_by_text("Review queue")).to_have_count(0)
    check_page(page, "analyst-home", screenshots)
    check_gaps(page, "analyst", screenshots)
    check_analytics(page, "analyst", screenshots)
    open_page(page, "Exports")
    check_page(page, "analyst-exports", screenshots)
