"""The knowledge-gaps page (AppTest): cards as core reports them, filters in the URL, the empty
period, roles (only admins tune thresholds), preview and save, an unknown severity, related
proposals, the sessions behind a gap and its steps."""

from __future__ import annotations

import re

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.accounts.auth import load_actor
from core.db import make_engine, unit_of_work, upgrade
from core.gaps import build_gap_report, load_thresholds
from core.gaps.top import gap_key
from core.models import Account, Session, User
from tests.gap_data import GapSeed, seed_gaps
from tests.ui.conftest import go_to, navigation_titles, no_exception, signed_in_app, use_database
from tests.ui.streamlit_internals import form_submit, link_of


@pytest.fixture
def gaps_db(tmp_path, monkeypatch) -> tuple[str, GapSeed]:
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
    engine.dispose()
    use_database(monkeypatch, url)
    return url, seed


def open_gaps(email: str = "admin@alpha.example", **query: str):
    return go_to(signed_in_app(email, **query), "knowledge-gaps")


def card_titles(app) -> list[str]:
    return [m.value for m in app.markdown if m.value.startswith("##### ")]


def markdown_text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def core_report(url: str, account_id: int, days: int = 30):
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        report = build_gap_report(db, account_id, days=days)
    engine.dispose()
    return report


@pytest.mark.parametrize("email", ["admin@alpha.example", "manager@alpha.example", "analyst@alpha.example"])
def test_every_role_with_the_permission_finds_the_page(gaps_db, email):
    assert "Knowledge gaps" in navigation_titles(signed_in_app(email))


def test_one_card_per_gap_of_the_core_report(gaps_db):
    url, seed = gaps_db
    app = open_gaps()
    report = core_report(url, seed.account_id)
    assert len(report.gaps) == 3
    assert len(card_titles(app)) == len(report.gaps)
    assert card_titles(app)[0].startswith("##### 1. Missing option at")
    text = markdown_text(app)
    assert ":red-badge[High]" in text and ":blue-badge[Low]" in text
    assert "Suggested action:" in text
    # Free text is shown literally: the typed formula's punctuation is escaped.
    assert "\\=HYPERLINK\\(" in text or "HYPERLINK" not in text
    assert [m.value for m in app.metric][:1] == ["3"]
    assert len([e for e in app.expander if e.label.startswith("Evidence")]) == 3


def test_ordered_by_expected_impact_from_the_link_the_cards_follow_the_core_order(gaps_db):
    url, seed = gaps_db
    report = core_report(url, seed.account_id)
    app = open_gaps(sort="expected")
    expected_order = report.by_expected_impact(list(range(1, len(report.gaps) + 1)))
    assert [int(t.removeprefix("##### ").split(".")[0]) for t in card_titles(app)] == expected_order
    assert app.selectbox(key="kg_sort").value == "expected"
    assert any(c.value.startswith("Expected impact: about ") for c in app.caption)
    app.selectbox(key="kg_sort").select("severity").run()
    assert [int(t.removeprefix("##### ").split(".")[0]) for t in card_titles(app)] == sorted(expected_order)
    assert "sort" not in app.query_params


def open_evidence(app, gap):
    """Open a card's Evidence, as a click on it does: its state is a widget's, keyed by the gap."""
    app.session_state[f"kg_evidence_{gap_key(gap)}"] = True
    return no_exception(app.run())


def test_a_cards_evidence_is_built_only_once_it_is_opened(gaps_db):
    url, seed = gaps_db
    app = open_gaps()
    assert "Sessions behind it" not in markdown_text(app) and not [d for d in app.dataframe if "Session" in d.value]
    app = open_evidence(app, core_report(url, seed.account_id).gaps[0])
    assert "Sessions behind it" in markdown_text(app)
    assert len([m for m in app.markdown if m.value.startswith("**Sessions behind it**")]) == 1  # that card only


def test_the_evidence_shows_rates_answers_and_sessions_drillable_to_steps(gaps_db):
    url, seed = gaps_db
    app = open_evidence(open_gaps(), core_report(url, seed.account_id).gaps[0])
    text = markdown_text(app)
    assert "**12** typed answers of **20** answers: **60%** (95% interval 39%–78%)" in text
    assert re.search(r"\*\*\d+\*\* typed answers in the previous 30 days", text)  # a count with its unit
    assert "Previous period:" not in text
    frames = [d.value for d in app.dataframe]
    answers = next(f for f in frames if "Typed answer" in f.columns)
    assert answers.iloc[0]["Typed answer"] == "only on the terminal server" and answers.iloc[0]["Times"] == 11
    sessions = next(f for f in frames if "Session" in f.columns and len(f) == 12)
    assert seed.typed_session in set(sessions["Session"])
    assert not any("_" in outcome for outcome in sessions["Outcome"])  # words, not status identifiers
    picker = app.selectbox(key=next(s.key for s in app.selectbox if s.key and s.key.startswith("kg_session_")))
    picker.select(seed.typed_session)
    app = no_exception(app.run())
    steps = next(d.value for d in app.dataframe if "engineer answered" in d.value.columns)
    assert list(steps["step"]) == ["question", "action"]
    assert steps.iloc[0]["engineer answered"].startswith("=HYPERLINK")  # a cell, never rendered


def test_related_pending_proposals_link_to_the_review_queue(gaps_db):
    _, seed = gaps_db
    app = open_gaps()
    links = app.get("page_link")
    targets = [link_of(link)[:2] for link in links]
    assert any(label.startswith(f"\\#{seed.enhancement} ") for label, _ in targets)
    assert any(label.startswith(f"\\#{seed.new_flow} ") for label, _ in targets)
    assert not any(label.startswith(f"\\#{seed.rejected} ") for label, _ in targets)
    assert {page for _, page in targets} == {"review-queue"}
    assert any(link_of(link)[2].get("proposal") == [str(seed.enhancement)] for link in links)


def test_an_analyst_sees_the_proposals_without_links_and_cannot_tune(gaps_db):
    _, seed = gaps_db
    app = open_gaps("analyst@alpha.example")
    assert len(card_titles(app)) == 3
    assert not app.get("page_link")  # the review queue is not theirs to open
    assert f"\\#{seed.enhancement} " in markdown_text(app)
    assert not [e for e in app.expander if "thresholds" in e.label]
    assert "Save" not in {b.label for b in app.button}


def test_filters_work_and_live_in_the_url(gaps_db):
    app = open_gaps(severity="high")
    assert len(card_titles(app)) == 1 and "Missing option" in card_titles(app)[0]
    app.multiselect(key="kg_severities").set_value([]).run()
    app.multiselect(key="kg_types").set_value(["uncharted_territory"]).run()
    no_exception(app)
    assert len(card_titles(app)) == 1 and "without a flow" in card_titles(app)[0]
    assert app.query_params["type"] == "uncharted_territory" and "severity" not in app.query_params
    app.multiselect(key="kg_types").set_value([]).run()
    app.multiselect(key="kg_domains").set_value(["email"]).run()
    assert len(card_titles(app)) == 2 and app.query_params["domain"] == "email"


def test_an_empty_period_says_so(gaps_db):
    url, _ = gaps_db
    assert len(card_titles(open_gaps(period="7"))) == 3  # the sessions are three days old
    engine = make_engine(url)
    with unit_of_work(engine) as db:  # now twenty-three
        for s in db.scalars(select(Session)):
            s.created_at = s.created_at - timedelta(days=20)
    engine.dispose()
    app = open_gaps(period="7")
    assert not card_titles(app)
    assert "No knowledge gaps in the last 7 days" in app.info[0].value
    assert app.query_params["period"] == "7"
    assert len(card_titles(open_gaps())) == 3  # 30 days still holds them


def test_an_old_link_with_days_opens_that_period_and_then_reads_period(gaps_db):
    app = open_gaps(days="90")
    assert app.segmented_control(key="kg_days").value == 90
    assert app.query_params["period"] == "90" and "days" not in app.query_params
    assert not [c for c in app.caption if "was ignored" in c.value]
    assert any("Sessions started" in c.value for c in app.caption)


def test_the_period_picked_on_the_page_is_written_to_the_link_as_period(gaps_db):
    app = open_gaps()
    assert "period" not in app.query_params  # the default, 30 days, leaves the link short
    app.segmented_control(key="kg_days").set_value(7).run()
    assert app.query_params["period"] == "7" and "days" not in app.query_params
    assert "No knowledge gaps in the last 7 days" not in "".join(i.value for i in app.info)


@pytest.mark.parametrize("query, notice", [({"period": "custom"}, "period=custom"), ({"days": "45"}, "days=45"),
                                           ({"period": "1e3", "days": "7"}, "period=1e3")])
def test_a_period_the_page_does_not_offer_opens_thirty_days_with_a_notice(gaps_db, query, notice):
    app = open_gaps(**query)
    assert app.segmented_control(key="kg_days").value == 30
    notices = [c.value for c in app.caption if "was ignored" in c.value]
    assert len(notices) == 1 and notice in notices[0].replace("\\", "")
    assert "period" not in app.query_params and "days" not in app.query_params


def test_an_unknown_severity_gets_a_neutral_badge(gaps_db, monkeypatch):
    from dashboard import gap_reports
    from dashboard.gap_card import severity_badge

    real = gap_reports.gap_report_for

    def odd(db, actor, account_id, days, thresholds=None):
        report = real(db, actor, account_id, days, thresholds)
        return replace(report, gaps=(replace(report.gaps[0], severity="critical"), *report.gaps[1:]))

    monkeypatch.setattr(gap_reports, "gap_report_for", odd)
    app = open_gaps()
    assert card_titles(app)
    assert ":gray-badge[critical]" in markdown_text(app)
    assert severity_badge("<b>x</b>") == ":gray-badge[\\<b\\>x\\<\\/b\\>]"


def open_thresholds(app):
    app.session_state["kg_thresholds_open"] = True  # as a click on "Tune the thresholds" does
    return no_exception(app.run())


def test_the_threshold_form_is_drawn_only_once_its_panel_is_opened(gaps_db):
    app = open_gaps()
    assert not [n for n in app.number_input if n.key and n.key.startswith("kg_t_")]
    app = open_thresholds(app)
    assert app.number_input(key="kg_t_pattern_min").value == 5
    assert app.number_input(key="kg_t_high_share").value == 1.0  # a share, edited as a percentage


def test_an_admin_previews_then_saves_thresholds(gaps_db):
    url, seed = gaps_db
    app = open_thresholds(open_gaps())
    assert len(card_titles(app)) == 3
    app.number_input(key="kg_t_pattern_min").set_value(10)
    app.number_input(key="kg_t_uncharted_min").set_value(10)
    app.number_input(key="kg_t_uncharted_medium").set_value(10)  # the least must not pass the medium floor
    form_submit(app, "kg_thresholds", "Preview").click()
    app = no_exception(app.run())
    assert len(card_titles(app)) == 1  # the preview: both 6-session gaps are gone
    assert "**2** disappear" in "\n".join(i.value for i in app.info)
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        assert load_thresholds(db, seed.account_id).pattern_min == 5  # nothing saved yet
    form_submit(app, "kg_thresholds", "Save").click()
    app = no_exception(app.run())
    assert "Thresholds saved" in app.toast[0].value
    with unit_of_work(engine) as db:
        saved = load_thresholds(db, seed.account_id)
    engine.dispose()
    assert (saved.pattern_min, saved.uncharted_min) == (10, 10)
    assert len(card_titles(app)) == 1


def test_invalid_thresholds_are_refused_clearly(gaps_db):
    app = open_thresholds(open_gaps())
    app.number_input(key="kg_t_free_text_low").set_value(50.0)  # above medium (15%)
    form_submit(app, "kg_thresholds", "Save").click()
    app = no_exception(app.run())
    assert "free\\_text bands must satisfy" in app.error[0].value  # escaped Markdown, shown as free_text
    assert "Not saved" in app.toast[0].value
    assert len(card_titles(app)) == 3


def test_saving_thresholds_is_checked_in_core(gaps_db):
    from core.accounts.auth import NotAllowed
    from core.gaps.thresholds import save_account_thresholds

    url, seed = gaps_db
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        analyst = load_actor(db, db.scalar(select(User.id).where(User.email == "analyst@alpha.example")))
        admin = load_actor(db, db.scalar(select(User.id).where(User.email == "admin@alpha.example")))
        with pytest.raises(NotAllowed):
            save_account_thresholds(db, analyst, seed.account_id, {"min_sample": 20})
        with pytest.raises(NotAllowed):  # an admin of alpha is nobody in beta
            save_account_thresholds(db, admin, seed.other_account_id, {"min_sample": 20})
        save_account_thresholds(db, admin, seed.account_id, {"min_sample": 20})
    with unit_of_work(engine) as db:
        assert db.get(Account, seed.account_id).settings == {"gaps": {"min_sample": 20}}
        assert db.get(Account, seed.other_account_id).settings == {}
    engine.dispose()


def test_the_first_ten_gaps_are_cards_and_the_rest_lines_of_a_table_until_asked_for(gaps_db, monkeypatch):
    from dashboard import gap_reports

    real = gap_reports.gap_report_for

    def many(db, actor, account_id, days, thresholds=None):
        report = real(db, actor, account_id, days, thresholds)
        low = report.gaps[-1]
        return replace(report, gaps=(*report.gaps, *(replace(low, title=f"Recurring problem {n}") for n in range(22))))

    monkeypatch.setattr(gap_reports, "gap_report_for", many)
    app = open_gaps()
    assert len(card_titles(app)) == 10 and [m.value for m in app.metric][:1] == ["25"]
    tail = next(d.value for d in app.dataframe if "Gap" in d.value.columns)
    assert list(tail["#"]) == list(range(11, 26)) and tail.iloc[-1]["Gap"] == "Recurring problem 21"
    app.button(key="kg_more").click()
    app = no_exception(app.run())
    assert len(card_titles(app)) == 20
    assert len(next(d.value for d in app.dataframe if "Gap" in d.value.columns)) == 5
    app.multiselect(key="kg_severities").set_value(["high"]).run()  # a new view starts at ten again
    app.multiselect(key="kg_severities").set_value([]).run()
    assert len(card_titles(app)) == 10
