"""The home page, run in-process with Streamlit's AppTest against seeded SQLite databases,
signed in as a user who is admin of every seeded account."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from core.db import make_engine, unit_of_work, upgrade
from core.gaps import build_gap_report
from core.gaps.top import gap_key
from core.models import Account, FlowProposal, Session
from dashboard.text import md_escape
from tests import factories as make
from tests.gap_data import GapSeed, seed_gaps
from tests.ui.conftest import go_to, no_exception, open_app, plain, sign_in, signed_in_app, use_database
from tests.ui.streamlit_internals import link_of, spec_of

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


# --- the lists that start the day --------------------------------------------------------------

HOSTILE = "[Click me](http://evil.example) **now** ![x](http://evil.example/x.png) and a title long enough to wrap"


@pytest.fixture
def gaps_home(tmp_path, monkeypatch) -> tuple[str, GapSeed]:
    """alpha-it with three gaps and two pending proposals (``tests.gap_data``), plus one with a hostile title."""
    url = f"sqlite:///{tmp_path / 'gaps-home.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
        make.proposal(db, db.get(Account, seed.account_id), title=HOSTILE, domain="email", confidence=0.4)
    engine.dispose()
    use_database(monkeypatch, url)
    return url, seed


def proposal_ids(url: str) -> list[int]:
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        ids = [p.id for p in db.query(FlowProposal).filter_by(status="pending")]
    engine.dispose()
    return ids


def links(app: AppTest) -> list[tuple[str, str, dict[str, list[str]]]]:
    return [link_of(link) for link in app.get("page_link")]


def texts(app: AppTest) -> list[str]:
    """Every Markdown paragraph as the reader sees it."""
    return [plain(m.value) for m in app.markdown]


def subheaders(app: AppTest) -> list[str]:
    return [s.value for s in app.subheader]


def infos(app: AppTest) -> str:
    return "\n".join(i.value for i in app.info)


@pytest.mark.parametrize("email", ["admin@alpha.example", "manager@alpha.example"])
def test_reviewers_see_the_proposals_waiting_in_the_queues_order_each_linking_to_it(gaps_home, email):
    _, seed = gaps_home
    app = signed_in_app(email)

    assert "Waiting for review" in subheaders(app)
    assert any(c.value.startswith("3 proposals waiting") for c in app.caption)
    to_queue = [(label, query) for label, page, query in links(app) if page == "review-queue"]
    # By expected impact: the enhancement has four supporting sessions, the new flow three, the hostile one none.
    hostile = [p for p in proposal_ids(gaps_home[0]) if p not in (seed.enhancement, seed.new_flow)]
    assert [query.get("proposal") for _, query in to_queue] == [[str(seed.enhancement)], [str(seed.new_flow)],
                                                                  [str(hostile[0])], None]
    assert all(query["account"] == ["alpha-it"] for _, query in to_queue)
    assert f"#{seed.new_flow} Outlook keeps asking for the password" in texts(app)
    whole_queue = to_queue[-1]
    assert whole_queue[0] == "Open the review queue (3 waiting)" and "proposal" not in whole_queue[1]
    assert ("Who decided what: Activity", "activity") in [(label, page) for label, page, _ in links(app)]


def test_a_title_from_the_sessions_is_shown_whole_and_literally(gaps_home):
    app = signed_in_app("admin@alpha.example")
    shown = next(m.value for m in app.markdown if "Click me" in m.value)
    hostile = next(p for p in proposal_ids(gaps_home[0]) if plain(shown).startswith(f"#{p} "))
    assert shown == md_escape(f"#{hostile} {HOSTILE}")  # whole, and every Markdown character made literal
    assert "[Click me](" not in shown


def test_the_top_three_gaps_link_to_the_knowledge_gaps_page_opening_each(gaps_home):
    url, seed = gaps_home
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        report = build_gap_report(db, seed.account_id, days=30)
    engine.dispose()

    app = signed_in_app("analyst@alpha.example")

    assert "Top knowledge gaps" in subheaders(app)
    to_gaps = [(label, query) for label, page, query in links(app) if page == "knowledge-gaps"]
    assert [query.get("gap") for _, query in to_gaps] == [[gap_key(g)] for g in report.gaps[:3]] + [None]
    assert [f"{n}. {g.title}" in texts(app) for n, g in enumerate(report.gaps, start=1)] == [True] * 3
    assert to_gaps[-1][0] == "Open Knowledge gaps (3 gaps)"
    assert any(":red-badge[High]" in c.value for c in app.caption)


def test_an_analyst_sees_no_proposals_and_no_link_to_the_queue_or_activity(gaps_home):
    app = signed_in_app("analyst@alpha.example")

    assert "Waiting for review" not in subheaders(app)
    assert not [page for _, page, _ in links(app) if page in ("review-queue", "activity")]
    assert not any("proposals waiting" in c.value for c in app.caption)


def test_the_gap_link_opens_that_gap_first_with_its_evidence(gaps_home):
    url, seed = gaps_home
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        third = build_gap_report(db, seed.account_id, days=30).gaps[2]
    engine.dispose()

    app = go_to(signed_in_app("admin@alpha.example", gap=gap_key(third)), "knowledge-gaps")

    cards = [m.value for m in app.markdown if m.value.startswith("##### ")]
    assert plain(cards[0]) == f"##### 3. {third.title}" and len(cards) == 3
    assert any("The gap from the link comes first: number 3 of 3" in c.value for c in app.caption)
    assert "Sessions behind it" in "\n".join(m.value for m in app.markdown)  # its evidence, opened
    app.button(key="kg_usual_order").click()
    app = no_exception(app.run())
    assert [m.value for m in app.markdown if m.value.startswith("##### ")][0].startswith("##### 1. ")
    assert "gap" not in app.query_params


def test_a_gap_link_no_gap_has_any_more_is_ignored_with_a_notice(gaps_home):
    app = go_to(signed_in_app("admin@alpha.example", gap="0123456789ab"), "knowledge-gaps")
    assert any("gap=0123456789ab was ignored" in plain(c.value) for c in app.caption)
    assert "gap" not in app.query_params


def test_an_account_with_sessions_but_no_proposals_or_gaps_says_what_to_do(seeded):
    app = run_app()

    text = infos(app)
    assert "No proposals waiting." in text and "python -m scheduler --drain" in text
    assert "No knowledge gaps in the last 30 days" in text and "python -m core import" in text
    assert ("Who decided what: Activity", "activity") in [(label, page) for label, page, _ in links(app)]


def test_an_account_without_sessions_still_shows_what_waits_for_review(seeded):
    app = run_app(account="gamma-old")

    assert "Waiting for review" in subheaders(app)
    assert "Top knowledge gaps" not in subheaders(app)  # the message on loading data says what to do
    assert "No proposals waiting." in infos(app)


def test_home_has_the_browser_load_the_charting_library_once_after_its_content(seeded):
    # Analytics is likely next; its first charts then need not wait for Plotly's JavaScript.
    app = run_app()
    blank = app.get("plotly_chart")
    assert len(blank) == 1
    assert json.loads(spec_of(blank[0]))["layout"]["height"] == 10
    assert not json.loads(spec_of(blank[0])).get("data")
    assert not app.run().get("plotly_chart")  # once per browser session

    analytics = go_to(app, "analytics")
    assert len(analytics.get("plotly_chart")) == 2  # the open tab's two charts
