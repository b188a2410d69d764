"""The dashboard never shows a traceback (AppTest): numbers from the URL are validated before any
query, a failing review action keeps what the admin typed, an unexpected error on a page becomes
a short message (logged with its traceback), and a page a role may not open says so."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work
from core.models import FlowProposal, User
from core.proposals import review
from tests import factories as make
from tests.gap_data import seed_gaps
from tests.ui.conftest import go_to, no_exception, plain, signed_in_app, use_database
from tests.ui.streamlit_internals import form_submit


@pytest.fixture
def alpha(engine, monkeypatch) -> dict[str, int]:
    """alpha-it with an admin, a manager, an analyst, a second admin and two pending proposals,
    on SQLite and on PostgreSQL (where an out-of-range id used to reach the query)."""
    with unit_of_work(engine) as db:
        alpha, _ = make.two_accounts_with_a_user_per_role(db)
        make.user(db, "second@alpha.example", {alpha: "admin"})
        printer = make.flow(db, alpha, "printer-offline")
        new = make.proposal(db, alpha, title="VPN drops every hour", domain="networking")
        enh = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                            tree=make.enhanced_tree(), target=printer)
        ids = {"new": new.id, "enhancement": enh.id, "account": alpha.id, "flow": printer.id}
    use_database(monkeypatch, engine.url.render_as_string(hide_password=False))
    return ids


def texts(app) -> str:
    return "\n".join(plain(e.value) for kind in ("markdown", "caption", "error", "warning", "info", "toast")
                     for e in getattr(app, kind))


# --- numbers from the URL ----------------------------------------------------------------------

@pytest.mark.parametrize("path, query", [
    ("review-queue", {"proposal": "2147483648"}),  # one beyond PostgreSQL's integer
    ("review-queue", {"proposal": "99999999999999999999999"}),
    ("review-queue", {"proposal": "-3"}),
    ("review-queue", {"proposal": "1e3"}),
    ("review-queue", {"confidence": "inf-nan"}),
    ("review-queue", {"confidence": "0.5-7"}),
    ("review-queue", {"from": "0001-01-01", "to": "9999-12-31"}),
    ("knowledge-gaps", {"days": "99999999999999999999"}),
    ("analytics", {"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}),
    ("analytics", {"period": "12345678901234567890"}),
    ("exports", {"period": "custom", "start": "2026-13-45", "end": "x"}),
    ("flows", {"flow": "2147483648"}),
    ("activity", {"entry": "2147483648"}),
    ("activity", {"page": "-2", "from": "0001-01-01", "flow": "1e3"}),
])
def test_a_junk_or_out_of_range_number_in_the_link_is_ignored_with_a_notice(alpha, path, query):
    app = go_to(signed_in_app("admin@alpha.example", **query), path)
    notices = [plain(c.value) for c in app.caption if "was ignored" in c.value]
    assert notices and any(f"{name}=" in notice for name in query for notice in notices)
    assert not app.error
    assert not any(name in app.query_params for name in query if name != "period")


def test_a_valid_proposal_number_in_the_link_still_opens_it(alpha):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(alpha["new"])), "review-queue")
    assert "VPN drops every hour" in app.subheader[0].value
    assert not [c for c in app.caption if "was ignored" in c.value]


# --- review actions keep what the admin typed --------------------------------------------------

def _other_admin_dismisses(url: str, proposal_id: int, account_id: int) -> None:
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        other = load_actor(db, db.scalar(select(User.id).where(User.email == "second@alpha.example")))
    review.dismiss(engine, other, account_id, proposal_id, 1, "duplicate of the VPN flow")
    engine.dispose()


def test_the_second_admin_is_told_who_reviewed_first_and_keeps_their_reason(alpha, engine):
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(alpha["new"])), "review-queue")
    _other_admin_dismisses(engine.url.render_as_string(hide_password=False), alpha["new"], alpha["account"])

    app.text_area(key=f"rq_reject_reason_{alpha['new']}").input("We never support this VPN client")
    app.button(key=f"rq_reject_{alpha['new']}").click()
    app = no_exception(app.run())

    assert plain(app.error[0].value).startswith("Already reviewed by second@alpha.example at ")
    assert [c.value for c in app.code] == ["We never support this VPN client"]
    app = no_exception(app.run())  # still there on the next run
    assert [c.value for c in app.code] == ["We never support this VPN client"]
    app.button(key=f"rq_refusal_close_{alpha['new']}").click()
    app = no_exception(app.run())
    assert not app.code


def test_an_unexpected_failure_while_publishing_is_logged_and_the_edits_stay(alpha, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise DataError("INSERT INTO flow_versions ... /srv/flowpilot/core/review.py", {}, ValueError("NUL (0x00)"))

    monkeypatch.setattr(review, "edit_and_publish", broken)
    proposal = alpha["new"]
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(proposal)), "review-queue")
    app.button(key=f"rq_edit_{proposal}").click()
    app = no_exception(app.run())
    app.text_input(key=f"rq_name_{proposal}").input("VPN hourly drops")
    app.text_input(key=f"rq_note_{proposal}").input("merged two branches")
    app.button(key=f"rq_publish_{proposal}").click()
    with caplog.at_level(logging.ERROR):
        app = no_exception(app.run())

    shown = texts(app)
    assert "unexpected error" in shown and "INSERT" not in shown and "/srv/" not in shown
    assert any(r.exc_info and "NUL" in str(r.exc_info[1]) for r in caplog.records)
    assert app.text_input(key=f"rq_name_{proposal}").value == "VPN hourly drops"
    assert app.text_input(key=f"rq_note_{proposal}").value == "merged two branches"
    assert app.button(key=f"rq_publish_{proposal}")  # the editor is still open
    assert proposal_status(engine_url(alpha), proposal) == "pending"


def test_a_domain_error_while_publishing_shows_its_message(alpha, monkeypatch):
    def refused(*args, **kwargs):
        raise review.InvalidProposalTree([review.TreeProblem("nodes.q1.text", "contains a NUL character")])

    monkeypatch.setattr(review, "edit_and_publish", refused)
    proposal = alpha["new"]
    app = go_to(signed_in_app("admin@alpha.example", proposal=str(proposal)), "review-queue")
    app.button(key=f"rq_edit_{proposal}").click()
    app = no_exception(app.run())
    app.button(key=f"rq_publish_{proposal}").click()
    app = no_exception(app.run())
    assert "contains a NUL character" in plain(app.error[0].value)
    assert app.button(key=f"rq_publish_{proposal}")


def engine_url(alpha) -> str:
    from core.settings import get_settings

    return get_settings().effective_database_url


def proposal_status(url: str, proposal_id: int) -> str:
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        status = db.get(FlowProposal, proposal_id).status
    engine.dispose()
    return status


# --- an unexpected error on a page -------------------------------------------------------------

def test_an_unexpected_error_on_a_page_is_a_short_message_and_logged(alpha, monkeypatch, caplog):
    from pages import flows

    def broken(*args, **kwargs):
        raise RuntimeError('relation "flows" ... SELECT secret FROM /srv/flowpilot/core/flow_catalog.py')

    monkeypatch.setattr(flows, "flow_list", broken)
    flows.clear_caches()
    with caplog.at_level(logging.ERROR):
        app = no_exception(go_to(signed_in_app("manager@alpha.example"), "flows"))
    assert [plain(e.value) for e in app.error] == [
        "Something went wrong on this page; it was logged for the administrators. Try again, or open another page."]
    assert "secret" not in texts(app)
    assert any(r.exc_info and "SELECT secret" in str(r.exc_info[1]) for r in caplog.records)
    flows.clear_caches()


# --- a page the role may not open --------------------------------------------------------------

@pytest.mark.parametrize("email, path, title, role", [
    ("manager@alpha.example", "exports", "Exports", "managers"),
    ("analyst@alpha.example", "review-queue", "Review queue", "analysts"),
    ("analyst@alpha.example", "flows", "Flows", "analysts"),
    ("analyst@alpha.example", "scripts", "Script generator", "analysts"),
])
def test_a_page_the_role_may_not_open_says_so(alpha, email, path, title, role):
    app = go_to(signed_in_app(email, proposal="1", period="7", session="x"), path)
    assert plain(app.warning[0].value).startswith(f"{title} is not available to {role}")
    assert set(app.query_params) <= {"account"}  # no stray filters left in the address
    assert not app.dataframe and not app.metric


# --- knowledge gaps: discard a previewed change ------------------------------------------------

def test_discarding_previewed_thresholds_restores_them_and_keeps_the_gap_list(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    engine = make_engine(url)
    from core.db import upgrade

    upgrade(engine)
    with unit_of_work(engine) as db:
        seed_gaps(db)
    engine.dispose()
    use_database(monkeypatch, url)

    app = go_to(signed_in_app("admin@alpha.example"), "knowledge-gaps")
    app.session_state["kg_thresholds_open"] = True  # as a click on "Tune the thresholds" does
    app = no_exception(app.run())
    cards = [m.value for m in app.markdown if m.value.startswith("##### ")]
    assert len(cards) == 3
    app.number_input(key="kg_t_pattern_min").set_value(10)
    form_submit(app, "kg_thresholds", "Preview").click()
    app = no_exception(app.run())
    assert app.number_input(key="kg_t_pattern_min").value == 10

    form_submit(app, "kg_thresholds", "Discard changes").click()
    app = no_exception(app.run())
    assert app.number_input(key="kg_t_pattern_min").value == 5  # the stored value again
    assert [m.value for m in app.markdown if m.value.startswith("##### ")] == cards
    assert not any("Previewing unsaved thresholds" in w.value for w in app.warning)
