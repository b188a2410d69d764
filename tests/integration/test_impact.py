"""The impact report on both databases: counts per version and window, verdicts, account-wide
comparison, new flows through their domain, a version published in review, account isolation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.accounts.auth import NotAllowed, load_actor
from core.commands import OPERATOR
from core.db import unit_of_work
from core.impact import build_impact
from core.impact.detail import flow_impact
from core.models import Account
from core.proposals import review
from core.sessions.importer import import_flows, import_sessions
from tests import factories as make
from tests.integration.test_import import numbered
from tests.integration.test_session_versions import flow_record, session_at

PUBLISHED = datetime(2026, 10, 1, tzinfo=timezone.utc)
NOW = PUBLISHED + timedelta(days=45)


def sessions(account: str, first: int, start: datetime, statuses: dict[str, int], **fields) -> list[dict]:
    """Sessions one hour apart from ``start``, with these many of each status."""
    out, n = [], first
    for status, count in statuses.items():
        for _ in range(count):
            record = session_at(n, start + timedelta(hours=n - first), account=account)
            record.update(status=status, **fields)
            if status == "active":
                record["ended_at"] = None
            out.append(record)
            n += 1
    return out


def load(engine, account: str = "acme", before=None, after=None, other=None) -> None:
    import_flows(engine, numbered([flow_record(1, PUBLISHED - timedelta(days=90), account=account),
                                   flow_record(2, PUBLISHED, account=account, label="Si")]), "flows")
    records = sessions(account, 1, PUBLISHED - timedelta(days=20), before or {"resolved": 32, "escalated": 48})
    records += sessions(account, 1000, PUBLISHED + timedelta(days=2), after or {"resolved": 56, "escalated": 14, "active": 5})
    # Sessions on no flow: the rest of the account, steady across both windows.
    for i, start in enumerate((PUBLISHED - timedelta(days=20), PUBLISHED + timedelta(days=2))):
        records += sessions(account, 5000 + 1000 * i, start, other or {"resolved": 50, "escalated": 50}, matched_flow=None)
    import_sessions(engine, numbered(records), "sessions")


def account_id(engine, slug: str) -> int:
    with unit_of_work(engine) as db:
        return db.scalar(select(Account.id).where(Account.slug == slug))


def report(engine, slug: str = "acme", **kwargs):
    with unit_of_work(engine) as db:
        return build_impact(db, OPERATOR, account_id(engine, slug), now=NOW, **kwargs)


def test_a_version_is_compared_with_the_previous_one_over_the_windows_around_its_publication(engine):
    load(engine)

    [change] = report(engine).changes

    assert (change.flow_id, change.version, change.previous_version, change.source) == ("fl-print", 2, 1, "import")
    assert (change.before.sessions, change.before.finished, change.before.resolved, change.before.escalated) == (80, 80, 32, 48)
    # Active sessions are not outcomes: 75 sessions after, 70 finished.
    assert (change.after.sessions, change.after.finished, change.after.resolved, change.after.escalated) == (75, 70, 56, 14)
    assert change.escalation.delta == pytest.approx(0.2 - 0.6)
    low, high = change.escalation.interval
    assert low < change.escalation.delta < high < 0
    # The rest of the account: the 100 sessions on no flow in each window.
    assert change.account_before.finished == 100 and change.account_after.finished == 100
    assert change.verdict == "improved"


def test_a_flow_that_moved_with_the_whole_account_is_not_called_improved(engine):
    # The rest of the account improved even more: 0.10 resolved before, (10 + 400) / 500 = 0.82 after.
    load(engine, other={"resolved": 10, "escalated": 90})
    import_sessions(engine, numbered(sessions("acme", 9000, PUBLISHED + timedelta(days=3),
                                              {"resolved": 400, "escalated": 0}, matched_flow=None)), "more")

    [change] = report(engine).changes

    assert change.resolution.interval[0] > 0  # the flow's own change is clear ...
    assert change.account_resolution.delta > change.resolution.interval[1]  # ... and smaller than the account's
    assert change.verdict == "no_clear_change"


def test_few_sessions_after_is_too_early(engine):
    load(engine, after={"resolved": 19})
    assert report(engine).changes[0].verdict == "too_early"


def test_a_version_published_in_review_is_measured_with_the_proposal_behind_it(engine):
    published = PUBLISHED
    with unit_of_work(engine) as db:
        acme = make.account(db, "acme")
        admin_id = make.user(db, "admin@acme.example", {acme: "admin"}).id
        printer = make.flow(db, acme, "fl-print")
        printer.versions[0].published_at = published - timedelta(days=90)
        proposal = make.proposal(db, acme, proposal_type="enhancement", title="One user only",
                                 tree=make.enhanced_tree(), target=printer,
                                 diff={"options_added": [{"node": "q1", "label": "Only for one user", "next": "a2"}],
                                       "evidence": {"answers": {"only one user": 4}}})
        proposal.support_count = 6
        db.flush()
        proposal_id, row_version, admin = proposal.id, proposal.row_version, load_actor(db, admin_id)
    import_sessions(engine, numbered(
        sessions("acme", 1, published - timedelta(days=10), {"escalated": 30, "resolved": 10})
        + sessions("acme", 100, published + timedelta(days=1), {"escalated": 5, "resolved": 35})), "s")

    review.edit_and_publish(engine, admin, acme.id, proposal_id, row_version, make.enhanced_tree(), now=published)

    [change] = report(engine).changes
    assert (change.version, change.source, change.proposal_id, change.proposal_title) == (2, "edit", proposal_id, "One user only")
    assert (change.before.finished, change.after.finished) == (40, 40)
    assert change.verdict == "improved"
    assert change.prediction.typed_answers == 4 and "the answer “Only for one user”" in change.prediction.text
    as_json = change.to_dict()
    assert (as_json["source"], as_json["proposal_id"]) == ("proposal", proposal_id)


def test_a_new_flow_from_a_proposal_is_compared_through_its_domain(engine):
    with unit_of_work(engine) as db:
        acme = make.account(db, "acme")
        admin_id = make.user(db, "admin@acme.example", {acme: "admin"}).id
        proposal_id = make.proposal(db, acme, title="Printer offline", domain="printing").id
        admin = load_actor(db, admin_id)
    # The domain: discovery resolved 20 of 40 before; after, the flow guides: 35 of 40 resolved, 0 in discovery.
    import_sessions(engine, numbered(
        sessions("acme", 1, PUBLISHED - timedelta(days=10), {"resolved": 20, "escalated": 20},
                 matched_flow=None, confidence_tier="discovery")
        + sessions("acme", 100, PUBLISHED + timedelta(days=1), {"resolved": 35, "escalated": 5},
                   matched_flow=None, confidence_tier="guided")), "s")

    review.approve(engine, admin, acme.id, proposal_id, 1, now=PUBLISHED)

    [change] = report(engine).changes
    assert (change.compared, change.previous_version, change.version) == ("domain", None, 1)
    assert (change.before.finished, change.before.resolved, change.after.resolved) == (40, 20, 35)
    assert (change.discovery_resolution.before, change.discovery_resolution.after) == (0.5, 0.0)


def test_another_accounts_sessions_and_flows_never_count(engine):
    load(engine, "acme")
    load(engine, "globex", before={"resolved": 80}, after={"escalated": 70})

    [acme] = report(engine, "acme").changes
    [globex] = report(engine, "globex").changes

    assert (acme.before.finished, acme.after.finished, acme.verdict) == (80, 70, "improved")
    assert (globex.before.resolved, globex.after.escalated, globex.verdict) == (80, 70, "worse")
    assert acme.account_before.finished == 100


def test_a_user_of_another_account_may_not_read_the_impact(engine):
    load(engine)
    with unit_of_work(engine) as db:
        other = make.account(db, "other")
        stranger = load_actor(db, make.user(db, "x@other.example", {other: "admin"}).id)
        with pytest.raises(NotAllowed):
            build_impact(db, stranger, account_id(engine, "acme"), now=NOW)


def with_question(record: dict, typed: bool) -> dict:
    """The record with a first step at question q1, answered by typing or by picking an option."""
    first = {"seq": 1, "step_type": "question", "node_id": "q1", "context_message": "Does the printer show as offline?",
             "options": ["Yes", "No"], "response": "only one user" if typed else "Only for one user",
             "was_free_text": typed, "created_at": record["created_at"]}
    record["steps"] = [first, *({**step, "seq": step["seq"] + 1} for step in record["steps"])]
    return record


def test_the_flow_detail_measures_first_contact_time_to_resolution_and_typed_answers(engine):
    with unit_of_work(engine) as db:
        acme = make.account(db, "acme")
        admin_id = make.user(db, "admin@acme.example", {acme: "admin"}).id
        printer = make.flow(db, acme, "fl-print")
        printer.versions[0].published_at = PUBLISHED - timedelta(days=90)
        proposal = make.proposal(db, acme, proposal_type="enhancement", title="One user only",
                                 tree=make.enhanced_tree(), target=printer,
                                 diff={"options_added": [{"node": "q1", "label": "Only for one user", "next": "a2"}]})
        ids = (proposal.id, proposal.row_version, printer.id, load_actor(db, admin_id))
    proposal_id, row_version, flow_pk, admin = ids
    before = sessions("acme", 1, PUBLISHED - timedelta(days=10), {"escalated": 10, "resolved": 10})
    after = sessions("acme", 100, PUBLISHED + timedelta(days=1), {"resolved": 20})
    # Before: every answer at q1 typed; each escalated session followed up on its ticket by a resolved
    # one: 10 tickets of two sessions, none resolved at the first contact.
    for i, record in enumerate(before):
        with_question(record, typed=True)
        record["psa_ticket"]["id"] = f"T-{i % 10}"
    # After: 5 of 20 typed; each ticket once; resolved in 10 minutes instead of 20.
    for i, record in enumerate(after):
        with_question(record, typed=i < 5)
        record["ended_at"] = (datetime.fromisoformat(record["created_at"]) + timedelta(minutes=10)).isoformat()
    import_sessions(engine, numbered(before + after), "s")
    review.edit_and_publish(engine, admin, acme.id, proposal_id, row_version, make.enhanced_tree(), now=PUBLISHED)

    with unit_of_work(engine) as db:
        detail = flow_impact(db, OPERATOR, acme.id, flow_pk, now=NOW)

    [d] = detail.details
    # 10 tickets before, each with an escalated then a resolved session: none resolved first time.
    assert (d.first_contact.before, d.first_contact.after) == (0.0, 1.0)
    assert (d.time_to_resolution.before, d.time_to_resolution.after, d.time_to_resolution.delta) == (20.0, 10.0, -10.0)
    [(node, question, typed)] = d.free_text
    assert (node, question, typed.before, typed.after) == ("q1", "Does the printer show as offline?", 1.0, 0.25)
    assert typed.interval[1] < 0
    assert [v for v, _ in detail.publications] == [1, 2]
    # The chart's 26 weeks hold every finished session: 10 escalated, 30 resolved.
    assert (len(detail.weeks), sum(w.finished for w in detail.weeks), sum(w.escalated for w in detail.weeks)) == (26, 40, 10)
