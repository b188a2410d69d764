"""Sign-in, role gating, the review queue, its detail panel and actions, and the flows page (AppTest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work, upgrade
from core.models import AuditEntry, Flow, FlowProposal, FlowVersion, SignInSession, User
from core.proposals import review
from core.types import utcnow
from tests import factories as make
from tests.ui.streamlit_internals import column_order, label_of, link_of, spec_of
from tests.ui.conftest import (go_to, navigation_titles, no_exception, open_app, plain, sign_in, signed_in_app,
                               use_database)


@dataclass
class Seeded:
    url: str
    new_flow: int
    enhancement: int
    other_new_flow: int
    foreign: int
    flow: int


@pytest.fixture
def seeded(tmp_path, monkeypatch) -> Seeded:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        make.user(db, "boss@alpha.example", {alpha: "admin", beta: "manager"})
        make.user(db, "gone@alpha.example", {alpha: "admin"}, active=False)
        printer = make.flow(db, alpha, "printer-offline")
        sessions = [make.session(db, alpha, matched_flow="printer-offline", summary=f"Printer offline #{i}")
                    for i in range(3)]
        make.session(db, alpha, matched_flow="printer-offline", status="escalated")
        new = make.proposal(db, alpha, title="VPN drops every hour", sessions=sessions, domain="networking",
                            confidence=0.9, summary="Hourly VPN drops [click](http://evil.example)")
        enh = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                            tree=make.enhanced_tree(), target=printer, sessions=sessions[:2], confidence=0.4)
        other = make.proposal(db, alpha, title="Outlook keeps asking for the password", domain="email",
                              confidence=0.6)
        foreign = make.proposal(db, beta, title="Beta only: scanner to email")
        ids = Seeded(url, new.id, enh.id, other.id, foreign.id, printer.id)
    engine.dispose()
    use_database(monkeypatch, url)
    return ids


def proposal_status(url: str, proposal_id: int) -> str:
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        status = db.get(FlowProposal, proposal_id).status
    engine.dispose()
    return status


def markdown_text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def buttons(app) -> set[str]:
    return {b.label for b in app.button}


# --- sign-in -----------------------------------------------------------------------------------

def test_signed_out_only_the_sign_in_form_shows(seeded):
    app = open_app()
    assert [t.label for t in app.text_input] == ["Email", "Password"]
    assert not app.metric and not app.sidebar.selectbox
    assert "Sign out" not in buttons(app)


@pytest.mark.parametrize("email, password", [
    ("admin@alpha.example", "wrong password!"),
    ("nobody@alpha.example", make.PASSWORD),
    ("gone@alpha.example", make.PASSWORD),  # deactivated
])
def test_a_failed_sign_in_says_only_wrong_email_or_password(seeded, email, password):
    app = sign_in(open_app(), email, password)
    assert [plain(e.value) for e in app.error] == ["Wrong email or password."]
    assert not app.metric


def test_repeated_failures_are_slowed_down(seeded):
    app = open_app()
    for _ in range(3):
        app = sign_in(app, "manager@alpha.example", "not the password")
    app = sign_in(app, "manager@alpha.example", make.PASSWORD)  # even the right one must wait now
    assert "Too many failed sign-ins" in plain(app.error[0].value)
    assert not app.metric


def test_sign_in_and_sign_out(seeded):
    app = signed_in_app("admin@alpha.example")
    assert app.title[0].value == "FlowPilot Insights" and app.metric
    app.button(key="sign_out").click()
    app = no_exception(app.run())
    assert [t.label for t in app.text_input] == ["Email", "Password"]
    assert not app.metric


def test_an_idle_session_is_signed_out(seeded):
    app = signed_in_app("admin@alpha.example")
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:  # the default timeout is 60 minutes; it is kept with the sign-in
        db.execute(update(SignInSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    engine.dispose()
    app = no_exception(app.run())
    assert "signed out after 60 minutes without activity" in app.info[0].value
    assert [t.label for t in app.text_input] == ["Email", "Password"]


def test_the_sign_in_records_the_time(seeded):
    signed_in_app("manager@alpha.example")
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        assert db.scalar(select(User.last_login_at).where(User.email == "manager@alpha.example")) is not None
    engine.dispose()


def _sso_app(email: str, **claims):
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import APP

    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                           "client_id": "id", "client_secret": "secret",
                           "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    app.user = {"is_logged_in": True, "email": email, "email_verified": True, **claims}
    return no_exception(app.run())


def test_single_sign_on_matches_the_user_by_email(seeded):
    app = _sso_app("Manager@Alpha.example")
    assert navigation_titles(app)[:3] == ["Home", "Review queue", "Flows"]  # the manager's pages
    assert app.metric  # signed in straight away: no password form
    assert not app.text_input


def test_single_sign_on_without_a_flowpilot_user_is_refused(seeded):
    app = _sso_app("stranger@elsewhere.example")
    assert "has no FlowPilot Insights user" in app.info[0].value
    assert "Sign out of single sign-on" in buttons(app)
    assert not app.metric and not app.text_input


@pytest.mark.parametrize("claims", [{"email_verified": False}, {"email_verified": "false"}, {"email_verified": None}])
def test_single_sign_on_with_an_unverified_email_is_refused(seeded, claims):
    app = _sso_app("manager@alpha.example", **claims)
    assert "verified your email address" in app.info[0].value
    assert "Sign out of single sign-on" in buttons(app)
    assert not app.metric and not app.text_input


def test_the_sign_in_page_offers_single_sign_on_when_configured(seeded):
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import APP

    app = AppTest.from_file(APP, default_timeout=60)
    assert "Sign in with single sign-on" not in buttons(no_exception(app.run()))
    app.secrets["auth"] = {"client_id": "id", "client_secret": "s", "server_metadata_url": "https://idp.example/x"}
    assert "Sign in with single sign-on" in buttons(no_exception(app.run()))


# --- roles and accounts ------------------------------------------------------------------------

@pytest.mark.parametrize("email, pages", [
    ("admin@alpha.example", ["Home", "Review queue", "Flows", "Knowledge gaps", "Analytics", "Exports",
                             "Script generator", "Activity"]),
    ("manager@alpha.example", ["Home", "Review queue", "Flows", "Knowledge gaps", "Analytics", "Script generator",
                               "Activity"]),
    ("analyst@alpha.example", ["Home", "Knowledge gaps", "Analytics", "Exports", "Activity"]),
])
def test_the_navigation_shows_each_role_its_pages(seeded, email, pages):
    assert navigation_titles(signed_in_app(email)) == pages


def test_an_analyst_cannot_open_the_review_queue_or_flows(seeded):
    app = signed_in_app("analyst@alpha.example")
    for path in ("review-queue", "flows"):
        app = go_to(app, path)
        assert "is not available to analysts" in plain(app.warning[0].value)
        assert not app.title and not app.dataframe


def test_the_account_switcher_offers_only_the_users_memberships(seeded):
    app = signed_in_app("boss@alpha.example", account="beta-net")
    switcher = app.sidebar.selectbox(key="account")
    assert switcher.options == ["Alpha IT (alpha-it)", "Beta Networks (beta-net)"]
    assert switcher.value == "beta-net"
    # In beta the boss is a manager: the queue is there, read-only.
    app = go_to(app, "review-queue")
    assert "Read-only" in app.caption[0].value


def test_a_link_to_an_account_the_user_is_not_in_opens_their_own(seeded):
    app = signed_in_app("admin@alpha.example", account="beta-net")
    assert not app.sidebar.selectbox  # one account: no switcher
    assert app.query_params["account"] == "alpha-it"


def test_another_accounts_proposal_is_not_shown(seeded):
    app = signed_in_app("admin@alpha.example", proposal=str(seeded.foreign))
    app = go_to(app, "review-queue")
    assert f"Proposal {seeded.foreign} does not exist in this account." in app.warning[0].value
    assert "Beta only" not in markdown_text(app)


# --- the queue ---------------------------------------------------------------------------------

def test_the_queue_lists_pending_proposals_with_counts(seeded):
    app = go_to(signed_in_app("admin@alpha.example"), "review-queue")
    rows = app.dataframe[0].value
    assert set(rows["title"]) == {"VPN drops every hour", "Printer offline for one user",
                                  "Outlook keeps asking for the password"}
    assert "Beta only: scanner to email" not in set(rows["title"])
    # The title first, the summary left to the panel: the table fits a laptop's page.
    order = column_order(app.dataframe[0])
    assert order[0] == "title" and "summary" not in order
    [status] = [g for g in app.get("button_group") if g.label == "Status"]
    assert status.options[0] == "Pending · 3" and status.value == ["pending"]


def test_filters_come_from_the_link_and_go_back_into_it(seeded):
    app = go_to(signed_in_app("admin@alpha.example", type="new_flow", confidence="0.5-1", q="vpn"), "review-queue")
    assert list(app.dataframe[0].value["title"]) == ["VPN drops every hour"]

    app.text_input(key="rq_text").input("").run()
    # By expected impact, the default: the VPN proposal has recent supporting sessions, the Outlook one fewer.
    frame = app.dataframe[0].value
    assert list(frame["title"]) == ["VPN drops every hour", "Outlook keeps asking for the password"]
    assert frame["expected_per_month"].is_monotonic_decreasing
    assert app.query_params["type"] == "new_flow" and "q" not in app.query_params and "sort" not in app.query_params

    app.selectbox(key="rq_sort").select("confidence").run()
    app.toggle(key="rq_ascending_widget").set_value(True).run()
    assert list(app.dataframe[0].value["title"]) == ["Outlook keeps asking for the password", "VPN drops every hour"]
    assert (app.query_params["sort"], app.query_params["order"]) == ("confidence", "asc")


def test_the_domain_and_status_filters(seeded):
    app = go_to(signed_in_app("admin@alpha.example", domain="email"), "review-queue")
    assert list(app.dataframe[0].value["title"]) == ["Outlook keeps asking for the password"]
    app = go_to(signed_in_app("admin@alpha.example", status="rejected"), "review-queue")
    assert not app.dataframe and "No proposals match these filters." in app.info[0].value


def test_the_detail_panel_shows_evidence_diagram_and_actions(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.new_flow)), "review-queue")
    text = markdown_text(app)
    assert "VPN drops every hour" in app.subheader[0].value
    assert r"\[click\]\(http" in text  # untrusted summary shown literally, never as a link
    assert "3 resolved sessions took this path" in text
    assert {"Approve and publish", "Edit & publish", "Dismiss proposal", "Reject proposal"} <= buttons(app)
    assert len(app.get("graphviz_chart")) == 1
    assert len(app.expander) == 3  # one per supporting session, each with its steps
    assert "Printer offline \\#0" in "\n".join(e.label for e in app.expander)


def test_an_enhancement_offers_edit_and_publish_and_a_diff(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.enhancement)), "review-queue")
    assert "Approve and publish" not in buttons(app)
    assert "Edit & publish" in buttons(app)
    assert len(app.get("graphviz_chart")) == 2  # proposed, and the published version in the next tab
    assert {"Proposed tree", "Supporting sessions (2)", "Proposed", "Published (v1)"} <= {t.label for t in app.tabs}
    assert any("1 node added, 1 node changed" in c.value for c in app.caption)
    # The change in words, by the nodes' texts.
    assert "Added the answer “Only for one user” to “Does the printer show as offline?” → then “Re\\-add the " \
           "printer for that user”" in markdown_text(app)


def test_the_panel_warns_about_wording_an_engineer_would_not_write(seeded):
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        tree = make.enhanced_tree()
        tree["nodes"]["a2"]["text"] = "Re-added the printer for that us…"
        db.get(FlowProposal, seeded.enhancement).tree = tree
    engine.dispose()
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.enhancement)), "review-queue")
    warning = "\n".join(w.value for w in app.warning)
    assert "Check the wording before publishing" in warning
    assert "nodes.a2.text: the text is cut off" in plain(warning)
    assert "says what to do (“Re-add”)" in plain(warning)


def test_after_edit_and_publish_the_panel_draws_what_was_published_and_links_to_that_version(seeded):
    edited = make.enhanced_tree()
    edited["nodes"]["q1"]["options"][2]["label"] = "Only one user affected"
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@alpha.example")))
        alpha_id = db.get(FlowProposal, seeded.enhancement).account_id
    review.edit_and_publish(engine, admin, alpha_id, seeded.enhancement, 1, edited)
    engine.dispose()
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.enhancement), status="published"),
                "review-queue")
    assert "Published tree" in [t.label for t in app.tabs]
    [chart] = app.get("graphviz_chart")
    assert 'label="Only one user\\naffected"' in spec_of(chart)  # the edited answer, wrapped
    assert "Only for one" not in spec_of(chart)
    [(label, _, query)] = [link_of(p) for p in app.get("page_link") if "on Flows" in label_of(p)]
    assert plain(label) == "Open printer-offline v2 on Flows"
    assert query == {"flow": [str(seeded.flow)], "version": ["2"]}


def test_a_manager_sees_the_queue_read_only(seeded):
    app = go_to(signed_in_app("manager@alpha.example", proposal=str(seeded.new_flow)), "review-queue")
    assert app.dataframe and "VPN drops every hour" in app.subheader[0].value
    assert not ({"Approve and publish", "Edit & publish", "Dismiss proposal", "Reject proposal"} & buttons(app))
    assert any("only admins review proposals" in c.value for c in app.caption)


# --- the actions -------------------------------------------------------------------------------

def test_approve_from_the_panel(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.new_flow)), "review-queue")
    app.button(key=f"rq_approve_{seeded.new_flow}").click()
    app = no_exception(app.run())
    assert proposal_status(seeded.url, seeded.new_flow) == "approved"
    assert "as new flow vpn-drops-every-hour" in plain(app.toast[0].value)
    assert "VPN drops every hour" not in set(app.dataframe[0].value["title"])  # no longer pending
    decided = "\n".join(i.value for i in app.info)  # the panel still shows it, decided
    assert "Approved" in decided and "Published as **vpn\\-drops\\-every\\-hour** version 1" in decided
    assert any("Open vpn\\-drops\\-every\\-hour v1 on Flows" in label_of(p) for p in app.get("page_link"))


def test_a_link_to_a_flow_version_opens_that_version_on_the_flows_page(seeded):
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@alpha.example")))
        alpha_id = db.get(FlowProposal, seeded.enhancement).account_id
    review.edit_and_publish(engine, admin, alpha_id, seeded.enhancement, 1, make.enhanced_tree())
    engine.dispose()
    app = go_to(signed_in_app("manager@alpha.example", flow=str(seeded.flow), version="1"), "flows")
    assert app.selectbox(key=f"fl_version_{seeded.flow}").value == 1
    assert "Only for one user" not in spec_of(app.get("graphviz_chart")[0])


@pytest.mark.parametrize("verb, status", [("dismiss", "dismissed"), ("reject", "rejected")])
def test_dismiss_and_reject_from_the_panel(seeded, verb, status):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.other_new_flow)), "review-queue")
    app.button(key=f"rq_{verb}_{seeded.other_new_flow}").click()
    app = no_exception(app.run())
    assert plain(app.toast[0].value).startswith("Say why you")  # a reason is required
    assert proposal_status(seeded.url, seeded.other_new_flow) == "pending"
    # In a form the reason goes with the click.
    app.text_area(key=f"rq_{verb}_reason_{seeded.other_new_flow}").input("covered by the Outlook flow")
    app.button(key=f"rq_{verb}_{seeded.other_new_flow}").click()
    app = no_exception(app.run())
    assert proposal_status(seeded.url, seeded.other_new_flow) == status
    assert plain(app.toast[0].value).startswith(status.title())


def test_edit_and_publish_an_enhancement(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.enhancement)), "review-queue")
    app.button(key=f"rq_edit_{seeded.enhancement}").click()
    app = no_exception(app.run())
    assert any({"id", "type", "text"} <= set(table.value.columns) for table in app.dataframe), "the node table"
    assert any("The tree is valid" in s.value for s in app.success)
    app.button(key=f"rq_publish_{seeded.enhancement}").click()
    app = no_exception(app.run())
    assert "as version 2 of printer-offline" in plain(app.toast[0].value)
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        assert db.get(Flow, seeded.flow).current_version == 2
        assert db.scalar(select(FlowVersion.source).where(FlowVersion.version == 2)) == "edit"
    engine.dispose()


def test_the_json_editor_validates_and_blocks_an_invalid_tree(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.new_flow)), "review-queue")
    app.button(key=f"rq_edit_{seeded.new_flow}").click()
    app = no_exception(app.run())
    key = f"rq_tree_{seeded.new_flow}_1"
    [mode] = [g for g in app.get("button_group") if g.label == "Edit as"]
    mode.set_value("JSON")
    app = no_exception(app.run())
    app.text_area(key=f"{key}_json_1").input('{"root": "q1", "nodes": {"q1": {"type": "question"}}}')
    app = no_exception(app.run())
    problems = app.error[0].value
    assert "not valid yet" in problems and "q1" in problems
    assert app.button(key=f"rq_publish_{seeded.new_flow}").disabled
    app.text_area(key=f"{key}_json_1").input("{not json")
    app = no_exception(app.run())
    assert "Not valid JSON" in app.error[0].value
    assert proposal_status(seeded.url, seeded.new_flow) == "pending"


def test_an_admin_who_acts_second_is_told_who_was_first(seeded):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(seeded.new_flow)), "review-queue")
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        boss = load_actor(db, db.scalar(select(User.id).where(User.email == "boss@alpha.example")))
        alpha_id = db.get(FlowProposal, seeded.new_flow).account_id
    review.dismiss(engine, boss, alpha_id, seeded.new_flow, 1, "not now")

    app.button(key=f"rq_approve_{seeded.new_flow}").click()
    app = no_exception(app.run())

    assert plain(app.toast[0].value).startswith("Already reviewed by boss@alpha.example at ")
    assert proposal_status(seeded.url, seeded.new_flow) == "dismissed"
    with unit_of_work(engine) as db:
        assert [e.action for e in db.scalars(select(AuditEntry))] == ["dismiss"]
        assert db.scalar(select(Flow.id).where(Flow.external_id == "vpn-drops-every-hour")) is None
    engine.dispose()


# --- flows -------------------------------------------------------------------------------------

def test_the_flows_page_shows_usage_diagram_and_history(seeded):
    engine = make_engine(seeded.url)
    with unit_of_work(engine) as db:
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@alpha.example")))
        alpha_id = db.get(FlowProposal, seeded.enhancement).account_id
    review.edit_and_publish(engine, admin, alpha_id, seeded.enhancement, 1, make.enhanced_tree(), note="one user case")
    engine.dispose()

    app = go_to(signed_in_app("manager@alpha.example", flow=str(seeded.flow)), "flows")
    flows = app.dataframe[0].value
    row = flows.set_index("external_id").loc["printer-offline"]
    assert (row["sessions"], row["resolved"], row["current_version"], row["versions"]) == (4, 3, 2, 2)
    assert row["resolution_rate"] == pytest.approx(0.75)
    assert row["resolution_pct"] == pytest.approx(75.0)  # shown as "75.0%", one decimal for every flow
    assert "versions" not in column_order(app.dataframe[0])
    assert any("Current version: v2 · Versions stored: 2" in c.value for c in app.caption)
    assert len(app.get("graphviz_chart")) == 1
    history = app.dataframe[1].value
    assert list(history["Version"]) == [2, 1]
    assert history.iloc[0]["Published by"] == "admin@alpha.example"
    assert history.iloc[0]["From proposal"] == f"#{seeded.enhancement} Printer offline for one user"
    assert history.iloc[0]["Note"] == "one user case"
