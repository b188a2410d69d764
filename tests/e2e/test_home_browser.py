"""The home page in a real browser, served by a real `streamlit run`, after signing in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import add_user, sign_in


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
