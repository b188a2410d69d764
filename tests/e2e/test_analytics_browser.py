"""Analytics and exports in a real browser: a manager opens Analytics, goes through its tabs,
changes the period and downloads a chart's CSV; an analyst downloads the sessions export. Both files
are checked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from core.db import make_engine, unit_of_work, upgrade
from core.models import Account, Session
from tests.e2e.conftest import add_user, pick_option, sign_in, wait_until_idle

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
EVIL = '=HYPERLINK("http://evil.example","click me")'


@pytest.fixture
def analytics_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'analytics-e2e.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(timezone.utc)
    with unit_of_work(engine) as db:
        alpha = Account(slug="alpha-it", name="Alpha IT", settings={})
        db.add(alpha)
        db.flush()
        # 3 sessions in the last 7 days, 2 more 8 to 20 days ago.
        rows = [(1, "resolved", "email", "guided", "f-mail", EVIL), (2, "escalated", "network", "assisted", EVIL, "VPN"),
                (3, "resolved", "network", "discovery", None, "Wi-Fi"), (8, "resolved", "email", "guided", "f-mail", "x"),
                (20, "abandoned", None, None, None, "y")]
        for n, (days_ago, status, domain, tier, flow, summary) in enumerate(rows, 1):
            start = now - timedelta(days=days_ago)
            db.add(Session(account_id=alpha.id, external_id=f"s{n}", status=status, created_at=start,
                           ended_at=start + timedelta(minutes=25), problem_domain=domain, confidence_tier=tier,
                           matched_flow=flow, engineer="ann", problem_summary=summary, psa_ticket_id=f"T{n}",
                           psa_board="Service Desk", psa_opened_at=start, psa_closed_at=start + timedelta(hours=3),
                           psa_sla_due_at=start + timedelta(hours=4), step_count=2,
                           psa_company="Harbor Dental" if n % 2 else "Bay Logistics"))
    engine.dispose()
    add_user(url, "manager@alpha.example", "manager")
    add_user(url, "analyst@alpha.example", "analyst")
    return url


def card_value(page, label: str):
    return page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')


CHARTS, TABLES = ".js-plotly-plot", '[data-testid="stDataFrame"]'
TABS = [  # label, its name in the link, the Plotly charts and tables it shows
    ("Tiers and domains", "tiers", 2, 0), ("Time to resolution", "time-to-resolution", 1, 0),
    ("Flows", "flows", 1, 1), ("Clients", "clients", 0, 1),
]


def tab(page, label: str):
    return page.get_by_role("tab", name=label, exact=True)


def open_tab(page, label: str, view: str) -> None:
    wait_until_idle(page)
    tab(page, label).click()
    expect(page).to_have_url(re.compile(rf"[?&]view={view}(&|$)"), timeout=15_000)
    expect(tab(page, label)).to_have_attribute("aria-selected", "true")


def shows(page, charts: int, tables: int) -> None:
    """The open tab's charts and tables are drawn, and no other tab's."""
    expect(page.locator(CHARTS)).to_have_count(charts, timeout=30_000)
    expect(page.locator(TABLES)).to_have_count(tables, timeout=30_000)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_manager_changes_the_period_and_downloads_a_chart_csv(page, streamlit_server, analytics_url, screenshots,
                                                                tmp_path):
    base = streamlit_server(analytics_url)
    page.goto(f"{base}/analytics")
    sign_in(page, "manager@alpha.example")

    expect(page.get_by_role("heading", name="Analytics")).to_be_visible(timeout=30_000)
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Analytics")).to_have_count(1)
    expect(nav.get_by_text("Exports")).to_have_count(0)
    expect(card_value(page, "Sessions")).to_have_text("5", timeout=30_000)
    # On arrival the first tab is open and only its two charts are drawn.
    expect(tab(page, "Over time")).to_have_attribute("aria-selected", "true")
    expect(page.locator(CHARTS).first).to_be_visible(timeout=30_000)
    shows(page, charts=2, tables=0)
    assert "view=" not in page.url
    page.screenshot(path=screenshots / "analytics-30-days.png", full_page=True)

    for label, view, charts, tables in TABS:
        open_tab(page, label, view)
        shows(page, charts, tables)
        page.screenshot(path=screenshots / f"analytics-tab-{view}.png", full_page=True)

    # The open tab stays open through a period switch.
    open_tab(page, "Flows", "flows")
    page.get_by_text("7 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]period=7"), timeout=15_000)
    expect(card_value(page, "Sessions")).to_have_text("3", timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]view=flows(&|$)"))
    expect(tab(page, "Flows")).to_have_attribute("aria-selected", "true")
    shows(page, charts=1, tables=1)
    page.screenshot(path=screenshots / "analytics-7-days.png", full_page=True)

    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Flows (CSV)").click()
    download = info.value
    assert download.suggested_filename == "alpha-it-last-7-days-flows.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = saved.read_bytes().decode("utf-8").split("\r\n")
    assert lines[0].startswith("flow,sessions,resolved,")
    rows = [line for line in lines[1:] if line]
    assert len(rows) == 3  # f-mail, the planted flow name, (no flow)
    assert any(line.startswith("f-mail,1,1,1,1.0,0.0,") for line in rows)
    # The flow name an engineer's data planted comes out as text, not a formula.
    assert any(line.startswith('"\'=HYPERLINK(""http://evil.example"",""click me"")",1,0,1,0.0,1.0,') for line in rows)
    assert not any(line.startswith(("=", '"=')) for line in rows)

    # A client narrows every figure, and the link keeps it and the open tab.
    open_tab(page, "Clients", "clients")
    pick_option(page, "Client", "Bay Logistics")
    expect(page).to_have_url(re.compile(r"[?&]company=Bay\+Logistics"), timeout=15_000)
    expect(card_value(page, "Sessions")).to_have_text("1", timeout=30_000)
    expect(page.get_by_role("button", name="Clients (CSV)")).to_be_visible(timeout=30_000)
    expect(tab(page, "Clients")).to_have_attribute("aria-selected", "true")
    shows(page, charts=0, tables=1)
    page.screenshot(path=screenshots / "analytics-one-client.png", full_page=True)

    # The link keeps the period and the tab: a new browser session opens the same view after signing in.
    page.goto(f"{base}/analytics?period=7&view=tiers")
    sign_in(page, "manager@alpha.example")
    expect(tab(page, "Tiers and domains")).to_have_attribute("aria-selected", "true", timeout=30_000)
    expect(card_value(page, "Sessions")).to_have_text("3", timeout=30_000)
    shows(page, charts=2, tables=0)
    page.goto(f"{base}/analytics?period=custom&start=2020-01-01&end=2020-01-31")
    sign_in(page, "manager@alpha.example")
    expect(page.get_by_text("No sessions in this period")).to_be_visible(timeout=30_000)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "analytics-empty.png", full_page=True)


def test_an_analyst_downloads_the_sessions_export(page, streamlit_server, analytics_url, screenshots, tmp_path):
    base = streamlit_server(analytics_url)
    page.goto(f"{base}/exports")
    sign_in(page, "analyst@alpha.example")
    expect(page.get_by_role("heading", name="Exports")).to_be_visible(timeout=30_000)
    page.get_by_text("7 days", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]period=7"), timeout=15_000)
    page.screenshot(path=screenshots / "exports.png", full_page=True)

    wait_until_idle(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download sessions").click()
    download = info.value
    assert download.suggested_filename == "alpha-it-sessions-last-7-days.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_bytes().decode("utf-8")
    rows = text.strip().split("\r\n")
    assert rows[0].startswith("account,id,engineer,created_at,")
    assert len(rows) == 1 + 3
    assert "'=HYPERLINK(" in text and ',"=HYPERLINK' not in text
    expect(page.locator(EXCEPTION)).to_have_count(0)
