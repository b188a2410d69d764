"""The knowledge-gaps page in a real browser: sign in, open Knowledge gaps, expand a gap's evidence,
see its sessions and one session's steps, follow a related proposal into the review queue; an
analyst sees the page without the threshold editor, from an old ``?days=`` link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from core.db import make_engine, unit_of_work, upgrade
from tests.e2e.conftest import sign_in
from tests.gap_data import seed_gaps

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'


@pytest.fixture
def gaps_url(tmp_path: Path) -> tuple[str, object]:
    url = f"sqlite:///{tmp_path / 'gaps-browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
    engine.dispose()
    return url, seed


def evidence(page, n: int = 0):
    return page.locator('[data-testid="stExpander"]').filter(has_text="Evidence").nth(n)


def pick_session(page, session_id: str) -> None:
    """Choose a session in the evidence's picker. The list opens from the keyboard (a click in the
    expander may land on the label); on a busy machine the first key can come too early, so retry."""
    picker = evidence(page).get_by_label("Show a session's steps")
    option = page.get_by_role("option", name=re.compile(f"^{re.escape(session_id)} "))
    for _ in range(5):
        picker.click()
        page.keyboard.press("ArrowDown")
        try:
            option.wait_for(timeout=5_000)
            # A rerun of the page can rebuild the list under the pointer: then the option is
            # detached and the click times out; open the list again.
            option.click(timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        return
    pytest.fail(f"the session picker never offered {session_id}")


def test_an_admin_opens_a_gaps_evidence_and_its_sessions(page, streamlit_server, gaps_url, screenshots):
    url, seed = gaps_url
    base = streamlit_server(url)
    page.goto(f"{base}/knowledge-gaps")
    sign_in(page, "admin@alpha.example")
    expect(page.get_by_role("heading", name="Knowledge gaps")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile(r"^1\. Missing option at"))).to_be_visible(timeout=30_000)
    expect(evidence(page, 2)).to_be_visible()
    expect(page.get_by_text("Tune the thresholds")).to_be_visible()
    page.screenshot(path=screenshots / "gaps-page.png", full_page=True)

    evidence(page).locator("summary").click()
    expect(evidence(page).get_by_text("Sessions behind it")).to_be_visible(timeout=15_000)
    expect(evidence(page).get_by_text("typed answers of")).to_be_visible()
    grid = evidence(page).locator('[data-testid="stDataFrame"]').nth(1)
    expect(grid.locator('[role="gridcell"]', has_text=seed.typed_session).first).to_be_attached(timeout=15_000)
    pick_session(page, seed.typed_session)
    expect(evidence(page).locator('[data-testid="stDataFrame"]')).to_have_count(4, timeout=15_000)
    evidence(page).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "gaps-evidence.png", full_page=True)
    assert page.locator(EXCEPTION).count() == 0

    # The related pending proposal opens in the review queue, preselected.
    page.get_by_role("link", name=re.compile(f"#{seed.enhancement} ")).click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(rf"[?&]proposal={seed.enhancement}\b"))
    expect(page.get_by_text(f"Proposal #{seed.enhancement}")).to_be_visible(timeout=15_000)
    page.screenshot(path=screenshots / "gaps-to-review-queue.png", full_page=True)


def test_an_analyst_sees_the_gaps_but_no_threshold_editor(page, streamlit_server, gaps_url, screenshots):
    url, _ = gaps_url
    base = streamlit_server(url)
    page.goto(f"{base}/knowledge-gaps?days=90&severity=high")  # a link made before ?period=
    sign_in(page, "analyst@alpha.example")
    expect(page.get_by_role("heading", name=re.compile(r"^1\. Missing option at"))).to_be_visible(timeout=30_000)
    expect(evidence(page)).to_have_count(1)  # the link's filter: only the high gap
    expect(page.get_by_text("Tune the thresholds")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]severity=high"))
    # The old link's period holds, and the address now names it as every page does.
    expect(page).to_have_url(re.compile(r"[?&]period=90"))
    assert "days=" not in page.url
    page.screenshot(path=screenshots / "gaps-analyst.png", full_page=True)
    assert page.locator(EXCEPTION).count() == 0
