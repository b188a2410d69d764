"""The home page, run in-process with Streamlit's AppTest against seeded SQLite databases,
signed in as a user who is admin of every seeded account."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from core.db import make_engine, unit_of_work, upgrade
from core.models import Account, Session
from tests import factories as make
from tests.ui.conftest import open_app, sign_in, use_database

ADMIN = "admin@test.example"

# Per account: (days ago, statuses). "This period" is the last 30 days, "before" the 30 before.
SEED = {
    ("alpha-it", "Alpha IT"): [
        (2, ("resolved", "resolved", "resolved", "escalated", "requesting_escalation", "abandoned", "active")),
        (40, ("resolved", "resolved", "abandoned")),
        (90, ("resolved",)),
    ],
    ("beta-net", "Beta Networks"): [
        (1, ("resolved", "resolved")),
        (35, ("resolved", "resolved", "resolved", "resolved")),
    ],
    ("gamma-old", "Gamma Old"): [
        (45, ("resolved",)),
    ],
}


def seed(url: str, accounts: dict) -> None:
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(timezone.utc)
    with unit_of_work(engine) as db:
        created = []
        for (slug, name), groups in accounts.items():
            account = Account(slug=slug, name=name, settings={})
            db.add(account)
            db.flush()
            created.append(account)
            n = 0
            for days_ago, statuses in groups:
                for status in statuses:
                    n += 1
                    db.add(Session(account_id=account.id, external_id=f"{slug}-{n}", status=status,
                                   created_at=now - timedelta(days=days_ago, minutes=n)))
        if created:
            make.user(db, ADMIN, {account: "admin" for account in created})
    engine.dispose()


@pytest.fixture
def seeded(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    seed(url, SEED)
    use_database(monkeypatch, url)
    return url


def run_app(**query: str) -> AppTest:
    return sign_in(open_app(**query), ADMIN)


def metrics(app: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in app.metric}


def test_the_home_page_shows_the_first_accounts_numbers_and_their_change(seeded):
    app = run_app()

    assert app.title[0].value == "FlowPilot Insights"
    # The previous period holds 3 sessions: its changes come with that warning.
    assert metrics(app) == {
        "Sessions": ("7", "+4 (thin: 3 before)"),
        "Resolved": ("3", "+1 (thin: 3 before)"),
        "Escalated": ("2", "+2 (thin: 3 before)"),
        "Abandoned": ("1", "+0 (thin: 3 before)"),
        "Still active": ("1", ""),  # no change: the previous period's sessions have all had time to end
        "Resolution rate": ("50.0%", "-16.7 pp (thin: 3 before)"),  # 3 of the 6 with an outcome, as on Analytics
    }
    assert any("The previous period is thin: 3 sessions" in c.value for c in app.caption)
    assert app.query_params["account"] == "alpha-it"


def test_the_introduction_names_only_the_pages_the_role_may_open(seeded):
    admin = run_app()
    assert "(Knowledge gaps)" in admin.markdown[0].value and "(Review queue)" in admin.markdown[0].value

    engine = make_engine(seeded)
    with unit_of_work(engine) as db:
        make.user(db, "analyst@test.example", {db.query(Account).filter_by(slug="alpha-it").one(): "analyst"})
    engine.dispose()
    analyst = sign_in(open_app(), "analyst@test.example")
    intro = analyst.markdown[0].value
    assert "(Knowledge gaps)" in intro
    assert "Review queue" not in intro


def test_switching_account_changes_the_numbers_and_the_link(seeded):
    app = run_app()
    switcher = app.sidebar.selectbox(key="account")
    assert switcher.options == ["Alpha IT (alpha-it)", "Beta Networks (beta-net)", "Gamma Old (gamma-old)"]

    switcher.select("beta-net").run()

    assert not app.exception
    shown = metrics(app)
    # Beta's data starts 35 days back, after the previous period's start: no change is made.
    assert shown["Sessions"] == ("2", "no data before")
    assert shown["Resolution rate"] == ("100.0%", "no data before")
    assert any("No changes shown: the account's data starts on" in c.value for c in app.caption)
    assert app.query_params["account"] == "beta-net"


def test_a_link_naming_an_account_opens_that_account(seeded):
    app = run_app(account="beta-net")

    assert app.sidebar.selectbox(key="account").value == "beta-net"
    assert metrics(app)["Sessions"] == ("2", "no data before")


def test_a_link_naming_an_unknown_account_falls_back_to_the_first(seeded):
    app = run_app(account="no-such-account")

    assert app.sidebar.selectbox(key="account").value == "alpha-it"
    assert app.query_params["account"] == "alpha-it"


def test_an_account_without_sessions_in_the_period_says_how_to_load_data(seeded):
    app = run_app(account="gamma-old")

    assert not app.metric
    message = app.info[0].value
    assert "no sessions in the last 30 days" in message
    assert "(1 in the 30 days before)" in message
    assert "python -m core demo" in message and "python -m core import" in message


def test_an_empty_database_says_how_to_add_a_user(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    seed(url, {})
    use_database(monkeypatch, url)

    app = open_app()

    assert not app.metric
    assert not app.sidebar.selectbox
    message = app.info[0].value
    assert "There are no users yet" in message
    assert "python -m core user add" in message


def test_a_database_without_the_schema_shows_the_command_to_run(tmp_path, monkeypatch):
    use_database(monkeypatch, f"sqlite:///{tmp_path / 'unmigrated.db'}")

    app = open_app()

    assert "python -m core db upgrade" in app.error[0].value
    assert not app.metric
