"""The Activity page (AppTest): who sees it, the table in words, filters from and into the link,
an entry's before and after (tree or settings), typed text shown literally, the empty state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work, upgrade
from core.gaps.thresholds import save_account_thresholds
from core.models import AuditEntry, User
from core.proposals import review
from tests import factories as make
from tests.ui.conftest import go_to, navigation_titles, no_exception, plain, signed_in_app, use_database
from tests.ui.streamlit_internals import column_order, label_of, link_of

NOW = make.NOW


@pytest.fixture
def decided(tmp_path, monkeypatch) -> dict:
    """alpha-it: an enhancement published, a proposal rejected with a hostile reason, thresholds changed."""
    url = f"sqlite:///{tmp_path / 'activity.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        make.user(db, "admin@beta.example", {beta: "admin"})
        printer = make.flow(db, alpha, "printer-offline", name="Printer offline")
        enh = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline for one user",
                            tree=make.enhanced_tree(), target=printer).id
        outlook = make.proposal(db, alpha, title="Outlook keeps asking for the password", domain="email").id
        admin = load_actor(db, db.query(User.id).filter_by(email="admin@alpha.example").scalar())
        ids = {"account": alpha.id, "beta": beta.id, "enhancement": enh, "outlook": outlook, "flow": printer.id,
               "url": url}
    review.edit_and_publish(engine, admin, ids["account"], enh, 1, make.enhanced_tree(), note="one more branch",
                            now=NOW - 2 * timedelta(days=1))
    review.reject(engine, admin, ids["account"], outlook, 1, "Dup of [this](http://evil.example) ![x](http://e.x/i.png)",
                  now=NOW - timedelta(days=1))
    with unit_of_work(engine) as db:
        save_account_thresholds(db, admin, ids["account"], {"min_sample": 20, "escalation_high": 0.5}, now=NOW)
    engine.dispose()
    use_database(monkeypatch, url)
    return ids


def open_activity(email: str = "admin@alpha.example", **query: str):
    return go_to(signed_in_app(email, **query), "activity")


def texts(app) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(app, kind))


@pytest.mark.parametrize("email", ["admin@alpha.example", "manager@alpha.example", "analyst@alpha.example"])
def test_admins_managers_and_analysts_who_may_export_find_the_page(decided, email):
    assert "Activity" in navigation_titles(signed_in_app(email))


def test_the_table_says_who_did_what_newest_first_in_words(decided):
    app = open_activity()
    frame = app.dataframe[0].value
    assert list(frame["action"]) == ["Changed gap thresholds", "Rejected", "Edited and published"]
    assert list(frame["actor"]) == ["admin@alpha.example"] * 3
    assert list(frame["flow"]) == [None, None, "Printer offline"]  # the table shows "–"
    assert column_order(app.dataframe[0]) == ["created_at", "actor", "action", "flow", "proposal_id", "reason"]
    assert "3 entries" in texts(app)
    assert label_of(app.get("download_button")[0]) == "Download CSV"


def test_filters_come_from_the_link_and_go_back_into_it(decided):
    app = open_activity(action="reject")
    assert list(app.dataframe[0].value["action"]) == ["Rejected"]
    assert app.selectbox(key="ac_action").value == "reject"

    app.selectbox(key="ac_action").select("").run()
    app.selectbox(key="ac_flow").select(decided["flow"]).run()
    app = no_exception(app)
    assert list(app.dataframe[0].value["action"]) == ["Edited and published"]
    assert app.query_params["flow"] == str(decided["flow"]) and "action" not in app.query_params


def test_a_link_to_a_person_the_log_does_not_name_is_ignored_with_a_notice(decided):
    app = open_activity(person="nobody@alpha.example")
    assert "was ignored" in plain("\n".join(c.value for c in app.caption))
    assert len(app.dataframe[0].value) == 3


def test_an_opened_publication_shows_the_tree_before_and_after(decided):
    app = open_activity(entry="1")
    assert plain(app.markdown[0].value) == "##### Edited and published · 18 Nov 2026 12:00 UTC"
    assert [t.label for t in app.tabs] == ["After (v2)", "Before (v1)"]
    assert len(app.get("graphviz_chart")) == 2  # after, then before in the second tab
    assert any("1 node added, 1 node changed" in c.value for c in app.caption)
    assert "Added the answer “Only for one user” to “Does the printer show as offline?”" in plain(texts(app))
    assert "**Note:** one more branch" in plain(texts(app))
    assert app.query_params["entry"] == "1"
    label, page, query = link_of(app.get("page_link")[0])
    assert (page, query["proposal"]) == ("review-queue", [str(decided["enhancement"])])


def test_an_opened_threshold_change_lists_each_setting_before_and_after(decided):
    app = open_activity(action="thresholds_changed", entry="3")
    settings = app.dataframe[1].value
    assert list(settings["Setting"]) == ["Minimum sample for a rate", "High escalation: high"]
    assert list(settings["Before"]) == ["10", "45.0%"] and list(settings["After"]) == ["20", "50.0%"]


def test_a_typed_reason_is_shown_as_text_never_as_a_link_or_image(decided):
    app = open_activity(entry="2")
    shown = texts(app)
    assert r"\[this\]\(http" in shown and r"\!\[x\]" in shown
    assert "Nothing was published" in shown


def test_a_manager_opens_a_decision_and_its_proposal_link(decided):
    app = open_activity("manager@alpha.example", entry="2")
    assert app.get("page_link")


def test_another_accounts_activity_is_not_shown(decided):
    app = open_activity("admin@beta.example")
    assert not app.dataframe
    assert "Nothing has been decided in this account yet" in app.info[0].value
    app = open_activity("admin@beta.example", entry="1")
    assert "does not exist in this account" in app.warning[0].value


def test_a_long_log_is_read_a_hundred_entries_at_a_time(decided):
    engine = make_engine(decided["url"])
    with unit_of_work(engine) as db:
        db.add_all([AuditEntry(account_id=decided["account"], actor="bot@alpha.example", action="dismiss",
                               reason=f"old {n}", created_at=NOW - timedelta(days=30, minutes=n)) for n in range(105)])
    engine.dispose()
    app = open_activity()
    assert "Entries 1–100 of 108, newest first" in texts(app)
    assert len(app.dataframe[0].value) == 100
    [older] = [b for b in app.button if b.label == "Older"]
    app = no_exception(older.click().run())
    assert "Entries 101–108 of 108, newest first" in texts(app)
    assert list(app.dataframe[0].value["reason"])[-1] == "old 104"
    assert app.query_params["page"] == "2"
    app = open_activity(page="2")  # the link opens the same page
    assert "Entries 101–108 of 108, newest first" in texts(app)
