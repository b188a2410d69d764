"""The review workflow in a real browser: sign in, filter the queue, pick a proposal, see its
diagram, approve it, find the new flow on the flows page; and an analyst finds no queue."""

from __future__ import annotations

import copy
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import make_engine, unit_of_work
from core.models import Account, Session
from tests import factories as make
from tests.e2e.conftest import add_user, sign_in

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
ACCOUNTS = {("alpha-it", "Alpha IT"): [(2, ("resolved", "resolved", "escalated"))]}
ROW_HEIGHT = 35  # st.dataframe's header and row height, in CSS pixels


@pytest.fixture
def review_url(seeded_database) -> str:
    url = seeded_database(ACCOUNTS)
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        alpha = db.scalars(select(Account)).one()
        sessions = list(db.scalars(select(Session).where(Session.status == "resolved")))
        printer = make.flow(db, alpha, "printer-offline")
        make.proposal(db, alpha, title="VPN drops every hour", domain="networking", sessions=sessions,
                      summary='Tunnel resets; engineer wrote "<b>urgent</b>" [here](http://evil.example)')
        make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                      tree=make.enhanced_tree(), target=printer, sessions=sessions[:1], confidence=0.4)
        make.proposal(db, alpha, title="Outlook keeps asking for the password", domain="email", confidence=0.6)
    engine.dispose()
    add_user(url, "admin@alpha.example", "admin")
    add_user(url, "analyst@alpha.example", "analyst")
    return url


def table_cell(page, text: str):
    # st.dataframe draws on a canvas; its accessible grid holds the visible cells as text.
    return page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=re.compile(f"^{re.escape(text)}$"))


def select_first_row(page) -> None:
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT + ROW_HEIGHT / 2)


def test_an_admin_filters_selects_approves_and_finds_the_flow(page, streamlit_server, review_url, screenshots):
    base = streamlit_server(review_url)
    page.goto(f"{base}/review-queue")
    expect(page.get_by_text("Sign in").first).to_be_visible(timeout=30_000)
    page.screenshot(path=screenshots / "review-sign-in.png", full_page=True)
    sign_in(page, "admin@alpha.example")

    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(table_cell(page, "VPN drops every hour")).to_have_count(1)
    expect(table_cell(page, "Printer offline for one user")).to_have_count(1)
    page.screenshot(path=screenshots / "review-queue.png", full_page=True)

    page.get_by_label("Search title and summary").fill("vpn")
    page.keyboard.press("Enter")
    expect(table_cell(page, "Printer offline for one user")).to_have_count(0, timeout=15_000)
    expect(page).to_have_url(re.compile(r"[?&]q=vpn"))
    expect(table_cell(page, "VPN drops every hour")).to_have_count(1)

    select_first_row(page)
    panel_title = page.get_by_role("heading", name="VPN drops every hour")
    expect(panel_title).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(r"[?&]proposal=\d+"))
    expect(page.locator('[data-testid="stGraphVizChart"] svg').first).to_be_visible(timeout=15_000)
    expect(page.locator('[data-testid="stGraphVizChart"] svg').first).to_contain_text("Does the printer show as")
    # Untrusted session text is shown as text: no bold element, no link to the planted URL.
    expect(page.get_by_text('"<b>urgent</b>"', exact=False)).to_be_visible()
    expect(page.locator('a[href="http://evil.example"]')).to_have_count(0)
    page.screenshot(path=screenshots / "review-detail.png", full_page=True)

    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_text("as new flow vpn-drops-every-hour").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Approved", exact=False).first).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "review-approved.png", full_page=True)

    # The panel now shows what was published, and links to that version on the Flows page.
    expect(page.get_by_role("tab", name="Published tree")).to_be_visible()
    page.get_by_role("link", name="Open vpn-drops-every-hour v1 on Flows").click()
    expect(page.get_by_role("heading", name="Flows")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="VPN drops every hour")).to_be_visible(timeout=15_000)
    expect(table_cell(page, "vpn-drops-every-hour")).to_have_count(1, timeout=15_000)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "flows.png", full_page=True)


# The smallest label of each diagram on screen, in CSS pixels: the SVG text's font size times the
# scale the browser draws the SVG at (its screen transform).
LABEL_SIZES = """() => [...document.querySelectorAll('[data-testid="stGraphVizChart"] svg')]
  .filter(svg => svg.getBoundingClientRect().width > 0)
  .map(svg => Math.min(...[...svg.querySelectorAll('g.node text')]
    .map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a)))"""


@pytest.fixture
def large_tree_url(seeded_database) -> str:
    url = seeded_database(ACCOUNTS)
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        alpha = db.scalars(select(Account)).one()
        big = make.large_tree(40)
        flow = make.flow(db, alpha, "device-checks", tree=big, name="Device checks")
        grown = copy.deepcopy(big)
        grown["nodes"]["q0"]["options"].insert(0, {"label": "Only on the docking station", "next": "a_dock"})
        grown["nodes"]["a_dock"] = {"type": "action", "text": "Update the dock's firmware", "next": "r_end"}
        make.proposal(db, alpha, proposal_type="enhancement", title="Device checks: add “Only on the docking station”",
                      tree=grown, target=flow)
    engine.dispose()
    add_user(url, "admin@alpha.example", "admin")
    return url


def test_a_large_enhancement_reads_as_a_list_of_changes_and_a_full_screen_tree_with_legible_labels(
        page, streamlit_server, large_tree_url, screenshots):
    base = streamlit_server(large_tree_url)
    page.goto(f"{base}/review-queue")
    sign_in(page, "admin@alpha.example")
    select_first_row(page)
    expect(page.get_by_role("heading", name="Device checks: add “Only on the docking station”")).to_be_visible(
        timeout=15_000)
    # The change in words above the diagram, and the published version one click away.
    expect(page.get_by_text("Added the answer “Only on the docking station” to “Which of these does the user see "
                            "on screen 0?” → then “Update the dock's firmware”")).to_be_visible()
    chart = page.locator('[data-testid="stGraphVizChart"]').first
    expect(chart.locator("svg")).to_be_visible(timeout=15_000)
    expect(chart.locator("svg")).to_contain_text("NEW · ACTION")
    assert len(page.evaluate(LABEL_SIZES)) == 1, "one diagram at the panel's width, not two side by side"
    page.screenshot(path=screenshots / "review-large-enhancement.png")

    chart.hover()
    page.locator('[data-testid="stElementContainer"]', has=chart).get_by_role("button", name="Fullscreen").click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stFullScreenFrame\"] > div[height]')")
    sizes = page.evaluate(LABEL_SIZES)
    assert sizes and min(sizes) >= 11, f"labels drawn at {sizes} px in full screen"
    page.screenshot(path=screenshots / "review-large-enhancement-fullscreen.png")
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Published (v1)").click()
    expect(page.locator('[data-testid="stGraphVizChart"] svg').nth(1)).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_small_proposed_tree_is_legible_in_place(page, streamlit_server, review_url):
    base = streamlit_server(review_url)
    page.goto(f"{base}/review-queue")
    sign_in(page, "admin@alpha.example")
    select_first_row(page)
    expect(page.locator('[data-testid="stGraphVizChart"] svg').first).to_be_visible(timeout=15_000)
    sizes = page.evaluate(LABEL_SIZES)
    assert sizes and min(sizes) >= 11, f"labels drawn at {sizes} px"


def test_an_analyst_finds_no_review_queue(page, streamlit_server, review_url, screenshots):
    base = streamlit_server(review_url)
    page.goto(base)
    sign_in(page, "analyst@alpha.example")

    expect(page.get_by_role("heading", name="FlowPilot Insights").first).to_be_visible(timeout=30_000)
    nav = page.locator('[data-testid="stSidebar"]')
    expect(nav.get_by_text("Review queue")).to_have_count(0)
    expect(nav.get_by_text("Flows")).to_have_count(0)
    page.screenshot(path=screenshots / "analyst-home.png", full_page=True)

    page.goto(f"{base}/review-queue")  # a link: still signed in, and still no queue
    expect(page.get_by_text("is not available to analysts")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Review queue")).to_have_count(0)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)


def test_a_wrong_password_is_refused(page, streamlit_server, review_url):
    page.goto(streamlit_server(review_url))
    page.get_by_label("Email").fill("admin@alpha.example")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Review queue")).to_have_count(0)
