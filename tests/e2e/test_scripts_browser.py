"""The Script generator in a real browser: rank templates for a typed problem, fill in parameters,
generate and see the script; and open it from a session in the review panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import make_engine, unit_of_work
from core.models import Account
from tests import factories as make
from tests.e2e.conftest import add_user, sign_in

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
ACCOUNTS = {("alpha-it", "Alpha IT"): [(2, ("resolved",))]}


@pytest.fixture
def scripts_url(seeded_database) -> str:
    url = seeded_database(ACCOUNTS)
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        alpha = db.scalars(select(Account)).one()
        session = make.session(db, alpha, summary="Printer offline, print jobs stuck in the queue")
        make.proposal(db, alpha, title="Printer jobs stuck", sessions=[session])
    engine.dispose()
    add_user(url, "admin@alpha.example", "admin")
    return url


def code_block(page):
    return page.locator('[data-testid="stCode"]').first


def test_an_admin_generates_a_script_for_a_typed_problem(page, streamlit_server, scripts_url, screenshots):
    base = streamlit_server(scripts_url)
    page.goto(base)
    sign_in(page, "admin@alpha.example")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Script generator").click()
    expect(page.get_by_role("heading", name="Script generator")).to_be_visible(timeout=30_000)

    page.get_by_label("Problem description").fill("printer offline jobs stuck")
    page.keyboard.press("Control+Enter")
    matches = page.get_by_role("radiogroup", name="Best matches")
    spooler = matches.get_by_text("Clear the print queue and restart the Print Spooler")
    expect(spooler).to_be_visible(timeout=15_000)
    expect(matches.get_by_text(re.compile(r"score 0\.\d\d")).first).to_be_visible()
    page.screenshot(path=screenshots / "scripts-matches.png", full_page=True)

    spooler.click()
    expect(page.get_by_text("Disruptive: restarts services / deletes files").first).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Generate script").click()
    expect(code_block(page)).to_contain_text("Stop-Service -Name Spooler -Force", timeout=15_000)
    expect(page.get_by_role("button", name="Download clear-print-queue.ps1")).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    code_block(page).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "scripts-spooler.png", full_page=True)

    # A template with parameters: a bad value is refused under its field, a good one is quoted.
    matches.get_by_text("Test a network printer").click()
    printer = page.get_by_role("textbox", name="Printer IP address or host name")
    expect(printer).to_be_visible(timeout=15_000)
    printer.fill("printer; Restart-Computer")
    page.get_by_role("button", name="Generate script").click()
    expect(page.get_by_text("must be a host name", exact=False).first).to_be_visible(timeout=15_000)
    expect(page.locator('[data-testid="stCode"]')).to_have_count(0)
    page.get_by_role("button", name="Generate script").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "scripts-refused-value.png", full_page=True)

    printer.fill("10.0.0.40")
    page.get_by_role("button", name="Generate script").click()
    expect(code_block(page)).to_contain_text("$Printer = '10.0.0.40'", timeout=15_000)
    expect(code_block(page)).to_contain_text("$Port = 9100")
    expect(page.get_by_text("Read-only").first).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    code_block(page).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "scripts-generated.png", full_page=True)


def test_the_review_panel_opens_the_generator_on_a_session(page, streamlit_server, scripts_url, screenshots):
    base = streamlit_server(scripts_url)
    page.goto(f"{base}/review-queue?proposal=1")
    sign_in(page, "admin@alpha.example")
    expect(page.get_by_role("heading", name="Printer jobs stuck")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name=re.compile("Supporting sessions")).click()
    page.locator('[data-testid="stExpander"]', has_text="Printer offline, print jobs stuck").first.click()
    link = page.get_by_role("link", name=re.compile("Script for this session"))
    expect(link).to_be_visible(timeout=15_000)
    link.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "scripts-review-link.png", full_page=True)
    link.click()

    expect(page.get_by_role("heading", name="Script generator")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"/scripts\?.*session=alpha-it-s\d+"))
    expect(page.get_by_label("Session id (as imported)")).to_have_value(re.compile(r"alpha-it-s\d+"))
    expect(page.get_by_text("domain: printing").first).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Generate script").click()
    expect(code_block(page)).to_contain_text("FlowPilot never runs scripts itself", timeout=15_000)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    code_block(page).scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "scripts-from-session.png", full_page=True)
