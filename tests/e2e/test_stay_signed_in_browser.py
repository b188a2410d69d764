"""Staying signed in, in a real browser: a reload, a new tab or a link keeps the sign-in; Sign out
ends it everywhere (a copy of the cookie is worth nothing after it); another browser, or an idle
one, must sign in."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import make_engine, unit_of_work
from core.models import Account
from dashboard.signed_in import COOKIE
from tests import factories as make
from tests.e2e.conftest import add_user, sign_in, wait_until_idle

pytestmark = pytest.mark.browser

ACCOUNTS = {("alpha-it", "Alpha IT"): [(2, ("resolved", "resolved", "escalated"))]}
SIDEBAR = '[data-testid="stSidebar"]'
IDLE_MINUTES = "0.25"  # 15 seconds: long enough for a reload under load, short enough to wait for


@pytest.fixture
def app_db(seeded_database) -> tuple[str, int]:
    """A database with an admin and one proposal; (url, the proposal's id)."""
    url = seeded_database(ACCOUNTS)
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        alpha = db.scalars(select(Account)).one()
        proposal_id = make.proposal(db, alpha, title="VPN drops every hour", domain="networking").id
    engine.dispose()
    add_user(url, "admin@alpha.example", "admin")
    return url, proposal_id


def sign_in_cookie(context, timeout: float = 15) -> dict:
    """The sign-in cookie once the page has given it to the browser."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == COOKIE]
        if found:
            return found[0]
        time.sleep(0.2)
    pytest.fail(f"the browser never got the {COOKIE} cookie")


def expect_signed_in(page) -> None:
    expect(page.locator(SIDEBAR).get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)


def expect_sign_in_form(page) -> None:
    expect(page.get_by_label("Password", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator(SIDEBAR).get_by_role("button", name="Sign out")).to_have_count(0)


def signed_in_page(page, base: str):
    page.goto(base)
    expect(page.get_by_label("Email")).to_be_visible(timeout=30_000)
    sign_in(page, "admin@alpha.example")
    return sign_in_cookie(page.context)


def test_a_signed_in_user_who_reloads_stays_signed_in(page, streamlit_server, app_db):
    base = streamlit_server(app_db[0])
    cookie = signed_in_page(page, base)
    # What the browser holds: a random token, no password or role, never readable by other sites.
    assert len(cookie["value"]) == 43 and "admin" not in cookie["value"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/" and cookie["expires"] > time.time()
    page.reload()
    expect_signed_in(page)
    assert COOKIE not in page.url


def test_a_link_opened_in_a_new_tab_of_the_same_browser_opens_that_proposal(page, streamlit_server, app_db):
    url, proposal_id = app_db
    base = streamlit_server(url)
    signed_in_page(page, base)
    tab = page.context.new_page()
    tab.goto(f"{base}/review-queue?proposal={proposal_id}")
    expect(tab.get_by_role("heading", name="VPN drops every hour")).to_be_visible(timeout=30_000)
    expect_signed_in(tab)
    assert f"/review-queue?proposal={proposal_id}" in tab.url


def test_sign_out_ends_the_sign_in_in_every_tab_and_a_reload_asks_again(page, browser, streamlit_server, app_db):
    base = streamlit_server(app_db[0])
    cookie = signed_in_page(page, base)
    other_tab = page.context.new_page()
    other_tab.goto(base)
    expect_signed_in(other_tab)

    wait_until_idle(page)
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    expect_sign_in_form(page)
    page.reload()
    expect_sign_in_form(page)
    deadline = time.monotonic() + 15
    while any(c["name"] == COOKIE for c in page.context.cookies()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(c["name"] == COOKIE for c in page.context.cookies())

    # The other tab's next run finds the sign-in ended, with a word on why.
    other_tab.get_by_role("button", name="Refresh data").click()
    expect_sign_in_form(other_tab)
    expect(other_tab.get_by_text("You were signed out")).to_be_visible()

    # Ended on the server, not only deleted in this browser: a copy of the cookie signs nobody in.
    thief = browser.new_context()
    try:
        thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
        stolen = thief.new_page()
        stolen.goto(base)
        expect_sign_in_form(stolen)
    finally:
        thief.close()


def test_a_second_browser_must_sign_in(page, browser, streamlit_server, app_db):
    url, proposal_id = app_db
    base = streamlit_server(url)
    signed_in_page(page, base)
    other = browser.new_context()
    try:
        elsewhere = other.new_page()
        elsewhere.goto(f"{base}/review-queue?proposal={proposal_id}")
        expect_sign_in_form(elsewhere)
    finally:
        other.close()
    page.reload()
    expect_signed_in(page)  # the first browser is not affected


def test_an_idle_browser_is_signed_out_after_the_idle_timeout(page, streamlit_server, app_db):
    base = streamlit_server(app_db[0], SESSION_IDLE_TIMEOUT_MINUTES=IDLE_MINUTES)
    signed_in_page(page, base)
    page.reload()
    expect_signed_in(page)  # activity within the timeout keeps the sign-in
    wait_until_idle(page)
    time.sleep(float(IDLE_MINUTES) * 60 + 3)
    page.reload()
    expect_sign_in_form(page)
    expect(page.get_by_text(f"You were signed out after {IDLE_MINUTES} minutes without activity.")) \
        .to_be_visible()
