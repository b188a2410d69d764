"""Impact in a real browser: Home lists the published changes, each flow's Impact tab shows its verdict."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.db import make_engine, unit_of_work
from core.models import Flow
from tests.e2e.conftest import add_user, sign_in
from tests.impact_data import EXPECTED, FLOWS, seed_impact

pytestmark = pytest.mark.browser

ADMIN = "admin@test.example"
EXCEPTION = '[data-testid="stException"]'
SHOWN = {"improved": "Improved", "worse": "Worse", "no_clear_change": "No clear change", "too_early": "Too early"}


@pytest.fixture
def impact_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'impact.db'}"
    seed_impact(url)
    add_user(url, ADMIN)
    return url


def badge(main, verdict: str):
    """A verdict's badge on the Impact tab: its icon's name, then the verdict."""
    return main.get_by_text(re.compile(f"{verdict}$")).first


def flow_ids(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        ids = dict(db.execute(select(Flow.external_id, Flow.id)).all())
    engine.dispose()
    return ids


def test_home_lists_the_published_changes_and_links_to_the_flow(page, streamlit_server, impact_url, screenshots):
    page.goto(streamlit_server(impact_url))
    sign_in(page, ADMIN)

    expect(page.get_by_role("heading", name="Published changes")).to_be_visible(timeout=30_000)
    main = page.locator('[data-testid="stMain"]')
    for verdict in SHOWN.values():
        expect(main.get_by_text(re.compile(f"^{verdict} published")).first).to_be_visible()
    # The flow name is shown as text, its Markdown link and emphasis literal.
    expect(main.get_by_role("link", name=re.compile(r"^Outlook \*keeps\* crashing \[new\]\(http:"))).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / "home-published-changes.png", full_page=True)

    main.get_by_text("VPN drops every hour (v1 → v2)").click()

    expect(page).to_have_url(re.compile(r"/flows\?.*flow="), timeout=30_000)
    page.get_by_role("tab", name="Impact").click()
    expect(badge(main, "Worse")).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("flow_id", [f[0] for f in FLOWS])
def test_the_impact_tab_renders_each_verdict(page, streamlit_server, impact_url, screenshots, flow_id):
    base = streamlit_server(impact_url)
    page.goto(f"{base}/flows?account=alpha-it&flow={flow_ids(impact_url)[flow_id]}")
    sign_in(page, ADMIN)

    page.get_by_role("tab", name="Impact").click(timeout=30_000)

    main = page.locator('[data-testid="stMain"]')
    expect(badge(main, SHOWN[EXPECTED[flow_id]])).to_be_visible(timeout=30_000)
    expect(main.get_by_text("v1 → v2").first).to_be_visible(timeout=30_000)
    expect(main.get_by_role("button", name="Download CSV")).to_be_visible(timeout=30_000)  # a loaded machine draws late
    expect(page.locator(EXCEPTION)).to_have_count(0)
    page.screenshot(path=screenshots / f"impact-{flow_id}.png", full_page=True)
