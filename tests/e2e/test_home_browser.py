"""The home page in a real browser, served by a real `streamlit run`, after signing in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.db import make_engine, unit_of_work, upgrade
from core.models import Account
from tests import factories as make
from tests.e2e.conftest import add_user, sign_in
from tests.gap_data import seed_gaps


pytestmark = pytest.mark.browser

ACCOUNTS = {
    ("alpha-it", "Alpha IT"): [
        (2, ("resolved", "resolved", "resolved", "escalated", "requesting_escalation", "abandoned", "active")),
        (40, ("resolved", "resolved", "abandoned")),
    ],
    ("beta-net", "Beta Networks"): [
        (1, ("resolved", "resolved")),
        (35, ("resolved", "resolved", "resolved", "resolved")),
    ],
}
EXCEPTION = '[data-testid="stException"]'


ADMIN = "admin@test.example"


@pytest.fixture
def seeded_url(seeded_database) -> str:
    url = seeded_database(ACCOUNTS)
    add_user(url, ADMIN)
    return url


def metric(page, label: str):
    card = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return card.locator('[data-testid="stMetricValue"]')


def test_the_home_page_shows_the_headline_numbers_and_switches_account(page, streamlit_server, seeded_url,
                                                                      screenshots):
    base = streamlit_server(seeded_url)
    page.goto(base)
    sign_in(page, ADMIN)

    expect(metric(page, "Sessions")).to_have_text("7", timeout=30_000)
    expect(metric(page, "Resolved")).to_have_text("3")
    expect(metric(page, "Escalated")).to_have_text("2")
    expect(metric(page, "Resolution rate")).to_have_text("50.0%")  # 3 of the 6 with an outcome, as on Analytics
    # Alpha's data starts 40 days back, after the previous 30 days' start: no change is made.
    expect(page.get_by_text("no data before", exact=True)).to_have_count(5)
    expect(page.get_by_text(re.compile(r"^No changes shown: the account's data starts on"))).to_be_visible()
    expect(page).to_have_title("FlowPilot Insights")
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-alpha.png", full_page=True)

    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="Beta Networks (beta-net)").click()

    expect(metric(page, "Sessions")).to_have_text("2", timeout=30_000)
    expect(metric(page, "Resolution rate")).to_have_text("100.0%")
    expect(page).to_have_url(re.compile(r"[?&]account=beta-net"))
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-beta.png", full_page=True)


def test_a_link_with_an_account_reopens_that_account(page, streamlit_server, seeded_url):
    base = streamlit_server(seeded_url)
    page.goto(f"{base}/?account=beta-net")
    sign_in(page, ADMIN)

    expect(metric(page, "Sessions")).to_have_text("2", timeout=30_000)
    expect(page.get_by_role("combobox", name="Account")).to_have_value("Beta Networks (beta-net)")


def test_an_empty_database_says_how_to_add_a_user(page, streamlit_server, seeded_database, screenshots):
    page.goto(streamlit_server(seeded_database({})))

    expect(page.get_by_text("There are no users yet.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("python -m core user add", exact=False)).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-empty.png", full_page=True)


# --- the lists that start the day --------------------------------------------------------------

LONG_TITLE = ("Outlook asks for the password again after every Windows update on the terminal servers "
              "of the accounting department, even with [a saved](http://evil.example) **credential**")


@pytest.fixture
def gaps_home_url(tmp_path):
    """alpha-it with three gaps and two pending proposals (``tests.gap_data``), plus one long title."""
    url = f"sqlite:///{tmp_path / 'home-gaps.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
        make.proposal(db, db.get(Account, seed.account_id), title=LONG_TITLE, domain="email", confidence=0.4)
    engine.dispose()
    return url, seed


def test_home_lists_the_waiting_proposals_and_top_gaps_and_opens_them(page, streamlit_server, gaps_home_url,
                                                                        screenshots):
    url, seed = gaps_home_url
    page.set_viewport_size({"width": 1400, "height": 1600})  # tall: Streamlit scrolls inside the page, not the page
    base = streamlit_server(url)
    page.goto(base)
    sign_in(page, "admin@alpha.example")

    expect(page.get_by_role("heading", name="Waiting for review")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3 proposals waiting", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Top knowledge gaps")).to_be_visible(timeout=30_000)
    gap_links = page.locator('a[href*="knowledge-gaps?gap="]')
    expect(gap_links).to_have_count(3)
    expect(page.get_by_text(re.compile(r"^3\. Recurring problem with no flow"))).to_be_visible()
    # The whole title, literally (a word joiner keeps the URL from becoming a link): no link made of it, no bold.
    start, _, end = LONG_TITLE.partition("http:")
    long_title = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=start)
    expect(long_title).to_contain_text(end)
    expect(page.locator('a[href^="http://evil.example"]')).to_have_count(0)
    expect(page.get_by_role("link", name="Who decided what: Activity")).to_be_visible()
    expect(page.get_by_text("No flow has a new version yet", exact=False)).to_be_visible()  # the page's last line
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-admin-1400.png", full_page=True)

    page.locator(f'a[href*="proposal={seed.enhancement}&"]').click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(rf"[?&]proposal={seed.enhancement}\b"))
    expect(page.get_by_text(f"Proposal #{seed.enhancement}")).to_be_visible(timeout=15_000)

    page.goto(base)
    expect(page.get_by_role("heading", name="Top knowledge gaps")).to_be_visible(timeout=30_000)
    gap_links.nth(2).click()
    expect(page.get_by_role("heading", name="Knowledge gaps")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The gap from the link comes first: number 3 of 3")).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]gap=[0-9a-f]{12}\b"))
    expect(page.get_by_text("Sessions behind it")).to_be_visible(timeout=15_000)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-gap-opened-1400.png", full_page=True)


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_home_shows_each_role_only_its_lists(page, streamlit_server, gaps_home_url, screenshots, role):
    url, _ = gaps_home_url
    page.set_viewport_size({"width": 1400, "height": 1600})  # tall: Streamlit scrolls inside the page, not the page
    page.goto(streamlit_server(url))
    sign_in(page, f"{role}@alpha.example")

    expect(page.get_by_role("heading", name="Top knowledge gaps")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Waiting for review")).to_have_count(1 if role == "manager" else 0)
    expect(page.get_by_role("link", name="Who decided what: Activity")).to_have_count(1 if role == "manager" else 0)
    expect(page.get_by_text("No flow has a new version yet", exact=False)).to_be_visible()  # the page's last line
    expect(page.get_by_text("None", exact=True)).to_have_count(0)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / f"home-{role}-1400.png", full_page=True)
