"""Activity in a real browser at a laptop's width: after a publication, a rejection and a threshold
change, an admin sees who decided what, downloads it as CSV, follows a filtered link, opens a
publication's before and after, and opens a threshold change's settings."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work
from core.gaps.thresholds import save_account_thresholds
from core.models import Account, AuditEntry, User
from core.proposals import review
from tests import factories as make
from tests.e2e.conftest import add_user, sign_in, wait_until_idle
from tests.e2e.test_tables_browser import GRID, RECORD_CANVAS_TEXT, VIEWPORT, check_page, select_first_row

pytestmark = pytest.mark.browser

ACCOUNTS = {("alpha-it", "Alpha IT"): [(2, ("resolved", "escalated"))]}


@pytest.fixture
def activity_url(seeded_database) -> tuple[str, int]:
    """alpha-it after three decisions by its admin; returns the URL and the threshold change's entry id."""
    url = seeded_database(ACCOUNTS)
    add_user(url, "admin@alpha.example", "admin")
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        alpha = db.scalars(select(Account)).one()
        printer = make.flow(db, alpha, "printer-offline", name="Printer offline")
        enhancement = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                                    tree=make.enhanced_tree(), target=printer).id
        outlook = make.proposal(db, alpha, title="Outlook keeps asking for the password", domain="email").id
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@alpha.example")))
        account_id = alpha.id
    review.edit_and_publish(engine, admin, account_id, enhancement, 1, make.enhanced_tree(), note="one more branch")
    review.reject(engine, admin, account_id, outlook, 1, '=HYPERLINK("http://evil.example","open me")')
    with unit_of_work(engine) as db:
        save_account_thresholds(db, admin, account_id, {"min_sample": 20})
    with unit_of_work(engine) as db:
        threshold_entry = db.scalar(select(AuditEntry.id).where(AuditEntry.action == "thresholds_changed"))
    engine.dispose()
    return url, threshold_entry


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(RECORD_CANVAS_TEXT)
    opened = context.new_page()
    yield opened
    context.close()


def open_activity(page, url: str) -> None:
    page.goto(url)
    sign_in(page, "admin@alpha.example")
    expect(page.get_by_role("heading", name="Activity").first).to_be_visible(timeout=30_000)
    wait_until_idle(page)


def test_an_admin_sees_who_decided_what_filters_by_link_opens_a_diff_and_downloads_it(
        laptop, streamlit_server, activity_url, screenshots, tmp_path):
    page = laptop
    url, threshold_entry = activity_url
    base = streamlit_server(url)

    open_activity(page, f"{base}/activity")
    expect(page.get_by_text("3 entries")).to_be_visible(timeout=30_000)
    grid = page.locator(GRID).first
    for action in ("Changed gap thresholds", "Rejected", "Edited and published"):
        expect(grid.locator('[role="gridcell"]', has_text=re.compile(f"^{action}$"))).to_have_count(1)
    check_page(page, "activity", screenshots)

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "alpha-it-activity.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8"), newline="")))
    assert [r["action"] for r in rows] == ["thresholds_changed", "reject", "edit_publish"]
    assert rows[1]["reason"].startswith("'=HYPERLINK(")  # text in a spreadsheet, never a formula
    assert rows[2]["flow_name"] == "Printer offline"

    # A link with a filter opens the same view; selecting the row opens its before and after.
    open_activity(page, f"{base}/activity?action=edit_publish")
    expect(page.get_by_text("1 entry", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator(GRID).first.locator('[role="gridcell"]', has_text="Rejected")).to_have_count(0)
    select_first_row(page)
    expect(page).to_have_url(re.compile(r"[?&]entry=\d+"), timeout=15_000)
    expect(page).to_have_url(re.compile(r"[?&]action=edit_publish"))
    # The later version first, what changed highlighted; the earlier one in the next tab.
    charts = page.locator('[data-testid="stGraphVizChart"] svg').filter(visible=True)
    expect(page.get_by_role("tab", name="After (v2)")).to_be_visible(timeout=15_000)
    expect(charts).to_have_count(1, timeout=15_000)
    expect(charts.first).to_contain_text("Re-add the printer")
    expect(page.get_by_text(re.compile(r"1 node added, 1 node changed"))).to_be_visible()
    page.get_by_role("tab", name="Before (v1)").click()
    expect(charts).to_have_count(1, timeout=15_000)
    expect(charts.first).not_to_contain_text("Re-add the printer")
    page.get_by_role("tab", name="After (v2)").click()
    wait_until_idle(page)
    check_page(page, "activity-publication", screenshots)

    open_activity(page, f"{base}/activity?entry={threshold_entry}")
    settings = page.locator(GRID).nth(1)
    expect(settings.locator('[role="gridcell"]', has_text="Minimum sample for a rate")).to_have_count(1, timeout=15_000)
    expect(settings.locator('[role="gridcell"]', has_text=re.compile(r"^20$"))).to_have_count(1)
    wait_until_idle(page)
    check_page(page, "activity-thresholds", screenshots)
