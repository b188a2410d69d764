"""The Analytics and Exports pages (AppTest): role gating, figures against core's, the period,
filters and open tab in the URL, the tabs that build only what they show, the empty state, and
formula-safe downloads."""

from __future__ import annotations

import json

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.accounts.auth import NotAllowed, load_actor
from core.commands import OPERATOR  # these tests are about the figures; permissions: test_report_permissions
from core.db import make_engine, unit_of_work, upgrade
from core.exports.catalog import ExportRequest, export_bytes
from core.metrics import build_metrics
from core.models import Account, Session, User
from dashboard.analytics_sections import VIEW_KEY, VIEWS
from tests import factories as make
from tests.ui.conftest import go_to, navigation_titles, no_exception, signed_in_app, use_database
from tests.ui.streamlit_internals import record_downloads, spec_of

EVIL = '=HYPERLINK("http://evil.example","click me")'


def _session(db, account, n: int, days_ago: float, status: str, *, domain: str | None = "email",
             tier: str | None = "guided", flow: str | None = "f-mail", engineer: str = "ann",
             summary: str = "Outlook asks for the password", ticket: bool = True, hours: float = 2,
             company: str = "Harbor Dental") -> None:
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=days_ago)
    ended = None if status in ("active", "requesting_escalation") else start + timedelta(minutes=20)
    db.add(Session(
        account_id=account.id, external_id=f"{account.slug}-{n}", status=status, created_at=start, ended_at=ended,
        problem_domain=domain, confidence_tier=tier, matched_flow=flow, engineer=engineer, problem_summary=summary,
        psa_ticket_id=f"T{n}" if ticket else None, psa_board="Service Desk" if ticket else None,
        psa_company=company if ticket else None,
        psa_opened_at=start if ticket else None,
        psa_closed_at=start + timedelta(hours=hours) if ticket and status == "resolved" else None,
        psa_sla_due_at=start + timedelta(hours=4) if ticket else None, step_count=2,
    ))


@pytest.fixture
def seeded(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        n = 0
        # This week: 8 sessions. Resolved 4 (times to resolution 2, 2, 30 and 100 hours; one SLA
        # breach, the 30 h, and one the 100 h), escalated 2, abandoned 1, active 1.
        for days_ago, status, kwargs in [
            (1, "resolved", {}), (1.5, "resolved", {"summary": EVIL}),
            (2, "resolved", {"domain": "network", "tier": "assisted", "flow": "f-net", "hours": 30,
                             "company": "Bay Logistics"}),
            (3, "resolved", {"domain": "network", "tier": "discovery", "flow": EVIL, "engineer": "bob", "hours": 100}),
            (2.5, "escalated", {"domain": "network", "tier": "assisted", "flow": "f-net", "engineer": "bob",
                                "company": "Bay Logistics"}),
            (4, "requesting_escalation", {"tier": None, "flow": None}),
            (5, "abandoned", {"domain": None, "tier": "discovery", "flow": None, "ticket": False}),
            (0.1, "active", {}),
            # The week before: 3 sessions, 2 resolved, 1 escalated.
            (8, "resolved", {}), (9, "resolved", {"domain": "network", "flow": "f-net"}), (10, "escalated", {}),
            # The account's first session: its data reaches back past the week before, not past the
            # 30 days before the last 30.
            (40, "resolved", {}),
        ]:
            n += 1
            _session(db, alpha, n, days_ago, status, **kwargs)
        for i in range(5):  # another account's sessions are never counted
            _session(db, beta, 100 + i, 1, "escalated")
    engine.dispose()
    use_database(monkeypatch, url)
    return url


def core_report(url: str, days: int):
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        account_id = db.scalar(select(Account.id).where(Account.slug == "alpha-it"))
        report = build_metrics(db, OPERATOR, account_id, days=days)
    engine.dispose()
    return report


def metrics(app) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in app.metric}


def analytics(email: str = "manager@alpha.example", **query: str):
    return go_to(signed_in_app(email, **query), "analytics")


def open_tab(app, label: str):
    """What a click on a tab does: the tabs' value becomes its label, and the page runs again."""
    app.session_state[VIEW_KEY] = label
    app.run()
    no_exception(app)
    return app


def built(app) -> dict[str, set[str]]:
    """Per tab label, the charts (by key) and tables (by first column) the run built in it."""
    return {tab.label: {*(c.key for c in tab.get("plotly_chart")), *(f"table of {t.value.columns[0]}"
                                                                       for t in tab.dataframe)}
            for tab in app.tabs}


# --- roles -------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, has_analytics, has_exports", [
    ("admin@alpha.example", True, True),
    ("manager@alpha.example", True, False),
    ("analyst@alpha.example", True, True),
])
def test_each_role_finds_its_pages(seeded, email, has_analytics, has_exports):
    titles = navigation_titles(signed_in_app(email))
    assert ("Analytics" in titles, "Exports" in titles) == (has_analytics, has_exports)


def test_a_manager_is_refused_the_exports_page(seeded):
    app = go_to(signed_in_app("manager@alpha.example"), "exports")
    assert not app.get("download_button")
    assert [t.value for t in app.title] != ["Exports"]


def test_the_exports_are_refused_server_side_to_a_manager(seeded):
    engine = make_engine(seeded)
    with unit_of_work(engine) as db:
        manager = load_actor(db, db.scalar(select(User.id).where(User.email == "manager@alpha.example")))
        alpha = db.scalars(select(Account).where(Account.slug == "alpha-it")).one()
    with pytest.raises(NotAllowed):
        export_bytes(engine, manager, "sessions", ExportRequest(alpha.id, alpha.slug, 30))
    engine.dispose()


# --- analytics ---------------------------------------------------------------------------------

def test_the_kpi_cards_show_cores_figures(seeded):
    app = analytics(period="7")
    report = core_report(seeded, 7)
    volume, psa = report["volume"], report["psa"]
    cards = metrics(app)
    # The week before holds 3 sessions: a thin yardstick, said beside every change.
    assert cards["Sessions"] == (f"{volume['sessions'].value:,}", f"{volume['sessions'].change:+,} (thin: 3 before)")
    assert volume["sessions"].value == 8 and volume["sessions"].previous == 3
    assert cards["Resolution rate"][0] == f"{volume['resolution_rate'].value:.1%}" == "57.1%"  # 4 of 7
    assert cards["Escalation rate"][0] == "28.6%"  # 2 of 7
    assert cards["Resolution rate"][1] == f"{round((4 / 7 - 2 / 3) * 100, 1):+.1f} pp (thin: 3 before)"
    assert any("The previous period is thin: 3 sessions" in c.value for c in app.caption)
    assert cards["First-contact resolution"][0] == f"{report['resolution']['first_contact_resolution_rate'].value:.1%}"
    assert cards["Median time to resolution"][0] == "16.0 h"  # 2, 2, 30, 100 hours
    assert psa["median_time_to_resolution_hours"].value == pytest.approx(16)
    assert cards["SLA breach rate"][0] == "50.0%"  # 30 h and 100 h breach a 4 h SLA
    assert app.query_params["period"] == "7"


def test_no_change_is_shown_against_a_previous_period_the_data_does_not_reach(seeded, downloads):
    app = analytics("manager@alpha.example")  # 30 days: the data starts 40 days back, not 60

    cards = metrics(app)
    assert cards["Sessions"] == ("11", "no data before")
    assert {delta for _, delta in cards.values()} == {"no data before"}
    assert any("No changes shown: the account's data starts on" in c.value for c in app.caption)
    headline = downloads["alpha-it-last-30-days-headline.csv"].decode("utf-8").splitlines()
    assert headline[1] == "sessions,count,11,1,"  # the previous count as it is, but no change


def test_the_clients_table_has_each_clients_figures_and_those_without_one_last(seeded, downloads):
    app = analytics("manager@alpha.example", period="7", view="clients")

    clients = app.dataframe[0].value
    assert list(clients["client"]) == ["Harbor Dental", "Bay Logistics", "(no client recorded)"]
    bay = clients[clients["client"] == "Bay Logistics"].iloc[0]
    assert (bay["sessions"], bay["resolution_rate"], bay["escalation_rate"], bay["sla_breaches"]) == (2, 50.0, 50.0, 1)
    csv_lines = downloads["alpha-it-last-7-days-clients.csv"].decode("utf-8").splitlines()
    assert csv_lines[0].startswith("client,sessions,with_outcome,resolved,escalated,resolution_rate,escalation_rate,")
    assert any(line.startswith("Bay Logistics,2,2,1,1,0.5,0.5,") for line in csv_lines)


def test_a_client_from_the_link_narrows_every_figure(seeded):
    app = analytics(period="7", company="Bay Logistics", view="clients")

    assert app.selectbox(key="an_company").value == "Bay Logistics"
    assert metrics(app)["Sessions"][0] == "2"
    assert list(app.dataframe[0].value["client"]) == ["Bay Logistics"]
    app.selectbox(key="an_company").set_value(None).run()
    no_exception(app)
    assert metrics(app)["Sessions"][0] == "8" and "company" not in app.query_params


TABS = {  # label: the charts and tables built in it, and its downloads (the headline's is above the tabs)
    "Over time": ({"an_chart_volume", "an_chart_tier_mix"}, {"Sessions and outcomes (CSV)", "Tier mix (CSV)"}),
    "Tiers and domains": ({"an_chart_calibration", "an_chart_domains"},
                          {"Tier calibration (CSV)", "Escalation by domain (CSV)"}),
    "Time to resolution": ({"an_chart_ttr"}, {"Time to resolution (CSV)"}),
    "Flows": ({"an_chart_flows", "table of flow"}, {"Flows (CSV)"}),
    "Clients": ({"table of client"}, {"Clients (CSV)"}),
}


def test_on_arrival_only_the_first_tabs_two_charts_are_built(seeded):
    app = analytics("admin@alpha.example")
    assert [tab.label for tab in app.tabs] == list(TABS)
    assert built(app) == {"Over time": {"an_chart_volume", "an_chart_tier_mix"}, **{label: set() for label in
                                                                                    list(TABS)[1:]}}
    assert {b.label for b in app.get("download_button")} == {"Headline figures (CSV)", *TABS["Over time"][1]}
    assert "view" not in app.query_params  # the default tab keeps the link short


@pytest.mark.parametrize("label", list(TABS)[1:])
def test_opening_a_tab_builds_its_charts_and_tables_and_no_others(seeded, label):
    app = open_tab(analytics("admin@alpha.example"), label)
    elements, downloads = TABS[label]
    assert built(app) == {other: elements if other == label else set() for other in TABS}
    assert {b.label for b in app.get("download_button")} == {"Headline figures (CSV)", *downloads}
    assert not app.info  # data in every section: no empty notes
    assert app.query_params["view"] == {v: k for k, v in VIEWS.items()}[label]


def test_the_flows_tab_shows_a_planted_flow_name_as_data(seeded):
    app = analytics("admin@alpha.example", view="flows")
    flows = app.dataframe[0].value
    assert EVIL in set(flows["flow"])  # shown as data, and the CSV below escapes it


@pytest.mark.parametrize("view, label", [(slug, label) for slug, label in VIEWS.items()])
def test_a_view_in_the_link_opens_its_tab(seeded, view, label):
    app = analytics("admin@alpha.example", view=view)
    assert app.session_state[VIEW_KEY] == label
    assert {name for name, keys in built(app).items() if keys} == {label}


@pytest.mark.parametrize("view", ["no-such-tab", "Flows", "<b>tiers</b>"])
def test_an_unknown_view_in_the_link_opens_the_first_tab_with_a_notice(seeded, view):
    app = analytics("admin@alpha.example", view=view)
    no_exception(app)
    assert not app.error
    assert {name for name, keys in built(app).items() if keys} == {"Over time"}
    assert any("was ignored" in c.value for c in app.caption)
    assert "view" not in app.query_params  # a copied link no longer carries it


def test_the_open_tab_stays_open_across_a_period_a_filter_and_an_empty_period(seeded):
    app = open_tab(analytics("admin@alpha.example"), "Time to resolution")
    app.get("button_group")[0].set_value("7").run()
    no_exception(app)
    assert app.session_state[VIEW_KEY] == "Time to resolution" and app.get("plotly_chart")[0].key == "an_chart_ttr"
    app.selectbox(key="an_domain").set_value("network").run()
    no_exception(app)
    assert metrics(app)["Sessions"][0] == "3"
    assert [c.key for c in app.get("plotly_chart")] == ["an_chart_ttr"]
    assert (app.query_params["view"], app.query_params["period"]) == ("time-to-resolution", "7")
    app.selectbox(key="an_domain").set_value("email")
    app.selectbox(key="an_company").set_value("Bay Logistics").run()  # no such session: no tabs at all
    assert not app.tabs and "No sessions" in app.info[0].value
    app.selectbox(key="an_domain").set_value(None).run()
    no_exception(app)
    assert metrics(app)["Sessions"][0] == "2"
    assert [c.key for c in app.get("plotly_chart")] == ["an_chart_ttr"]
    assert app.query_params["view"] == "time-to-resolution"


def test_flows_are_named_by_their_flow_records_and_by_id_without_one(seeded):
    engine = make_engine(seeded)
    with unit_of_work(engine) as db:
        alpha = db.query(Account).filter_by(slug="alpha-it").one()
        make.flow(db, alpha, "f-net", name="Network <b>down</b>")
    engine.dispose()
    app = analytics("admin@alpha.example", view="flows")
    names = set(app.dataframe[0].value["flow"])
    assert "Network <b>down</b>" in names and "f-net" not in names
    assert {"f-mail", EVIL} <= names  # no flow record: the id
    bars = json.loads(spec_of(app.get("plotly_chart")[0]))["data"][0]
    assert "Network &lt;b&gt;down&lt;/b&gt;" in bars["y"]  # Plotly shows it as text, not bold


def test_filters_come_from_the_link_and_narrow_every_figure(seeded):
    app = analytics(period="7", domain="network", engineer="bob")
    assert metrics(app)["Sessions"][0] == "2"
    assert app.selectbox(key="an_domain").value == "network"
    app.selectbox(key="an_engineer").set_value(None).run()
    no_exception(app)
    assert metrics(app)["Sessions"][0] == "3"
    assert "engineer" not in app.query_params and app.query_params["domain"] == "network"


def test_changing_the_period_goes_into_the_link(seeded):
    app = analytics()
    assert metrics(app)["Sessions"][0] == "11"  # the default 30 days
    app.get("button_group")[0].set_value("7").run()
    no_exception(app)
    assert metrics(app)["Sessions"][0] == "8"
    assert app.query_params["period"] == "7"


def test_a_custom_range_from_the_link(seeded):
    today = datetime.now(timezone.utc).date()
    start, end = today - timedelta(days=12), today - timedelta(days=6)
    app = analytics(period="custom", start=start.isoformat(), end=end.isoformat())
    assert metrics(app)["Sessions"][0] == "3"  # the week before
    assert app.query_params["start"] == start.isoformat()


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The files the page hands to its download buttons, by file name."""
    return record_downloads(monkeypatch)


def test_the_chart_downloads_are_cores_formula_safe_csv(seeded, downloads):
    open_tab(analytics("manager@alpha.example", period="7", view="flows"), "Over time")
    flows = downloads["alpha-it-last-7-days-flows.csv"].decode("utf-8")
    assert flows.splitlines()[0] == ("flow,sessions,resolved,with_outcome,resolution_rate,escalation_rate,"
                                     "mean_handle_minutes,previous_sessions,previous_resolution_rate")
    assert "\r\n" in flows  # RFC 4180 line ends
    assert "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click me\"\")\",1," in flows
    headline = downloads["alpha-it-last-7-days-headline.csv"].decode("utf-8").splitlines()
    assert headline[1] == "sessions,count,8,3,5"
    days = downloads["alpha-it-last-7-days-outcomes-by-day.csv"].decode("utf-8").splitlines()
    assert len(days) == 1 + 8  # 7 days up to now touch 8 calendar days
    assert sum(int(line.split(",")[1]) for line in days[1:]) == 8


def test_an_empty_period_shows_a_clear_empty_state(seeded):
    app = analytics(period="custom", start="2020-01-01", end="2020-01-31")
    assert "No sessions in this period" in app.info[0].value
    assert not app.metric and not app.get("plotly_chart") and not app.tabs and not app.error


def test_a_filter_that_matches_nothing_says_so(seeded):
    app = analytics(domain="no-such-domain")
    assert "No sessions in this period with these filters" in app.info[0].value


# --- exports -----------------------------------------------------------------------------------

def test_an_analyst_gets_every_export_with_a_description(seeded):
    app = go_to(signed_in_app("analyst@alpha.example"), "exports")
    assert app.title[0].value == "Exports"
    assert [b.label for b in app.get("download_button")] == [
        "Download sessions", "Download metrics", "Download knowledge gaps", "Download flow proposals",
        "Download impact of published changes", "Download activity"]


def test_the_sessions_export_is_formula_safe_and_only_this_account(seeded):
    engine = make_engine(seeded)
    with unit_of_work(engine) as db:
        analyst = load_actor(db, db.scalar(select(User.id).where(User.email == "analyst@alpha.example")))
        alpha = db.scalars(select(Account).where(Account.slug == "alpha-it")).one()
    payload = export_bytes(engine, analyst, "sessions", ExportRequest(alpha.id, alpha.slug, 7))
    engine.dispose()
    text = payload.decode("utf-8")
    assert text.startswith("account,id,")
    assert "'=HYPERLINK(" in text and ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    assert "beta-net" not in text
    assert len(text.strip().splitlines()) == 1 + 8



def test_a_filtered_download_says_so_in_its_name(seeded, downloads):
    analytics(period="7", domain="network", engineer="bob", view="flows")
    assert "alpha-it-last-7-days-domain-network-engineer-bob-flows.csv" in downloads
