"""The review workflow on SQLite and PostgreSQL: every action, every refusal, races, the audit."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from core.accounts.auth import NotAllowed, load_actor
from core.db import unit_of_work
from core.models import AuditEntry, Flow, FlowProposal, FlowVersion
from core.proposals import review
from tests import factories as make


@dataclass
class World:
    account: int
    other_account: int
    admin: object
    admin2: object
    manager: object
    analyst: object
    outsider: object  # admin of the other account only
    new_flow: int
    enhancement: int
    flow: int
    foreign: int  # a proposal of the other account


@pytest.fixture
def world(engine: Engine) -> World:
    with unit_of_work(engine) as db:
        alpha, beta = make.account(db, "alpha-it"), make.account(db, "beta-net")
        ids = {
            "admin": make.user(db, "admin@alpha.example", {alpha: "admin"}).id,
            "admin2": make.user(db, "second@alpha.example", {alpha: "admin"}).id,
            "manager": make.user(db, "manager@alpha.example", {alpha: "manager"}).id,
            "analyst": make.user(db, "analyst@alpha.example", {alpha: "analyst"}).id,
            "outsider": make.user(db, "admin@beta.example", {beta: "admin"}).id,
        }
        printer = make.flow(db, alpha, "printer-offline")
        sessions = [make.session(db, alpha) for _ in range(3)]
        new = make.proposal(db, alpha, title="VPN drops every hour", sessions=sessions, domain="networking")
        enh = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline: one user only",
                            tree=make.enhanced_tree(), target=printer, sessions=sessions[:2])
        foreign = make.proposal(db, beta, title="Beta's own")
        actors = {k: load_actor(db, v) for k, v in ids.items()}
        return World(alpha.id, beta.id, new_flow=new.id, enhancement=enh.id, flow=printer.id, foreign=foreign.id,
                     **actors)


def proposal_row(engine, proposal_id) -> FlowProposal:
    with unit_of_work(engine) as db:
        return db.get(FlowProposal, proposal_id)


def audit_entries(engine) -> list[AuditEntry]:
    with unit_of_work(engine) as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_approve_publishes_a_new_flow_with_its_history_and_audit(engine, world):
    outcome = review.approve(engine, world.admin, world.account, world.new_flow, 1, note="looks right")

    assert outcome.status == "approved"
    assert outcome.flow_external_id == "vpn-drops-every-hour" and outcome.flow_version == 1
    assert "vpn-drops-every-hour" in outcome.message
    with unit_of_work(engine) as db:
        flow = db.get(Flow, outcome.flow_id)
        assert (flow.account_id, flow.name, flow.domain, flow.current_version) == (
            world.account, "VPN drops every hour", "networking", 1)
        version = db.scalars(select(FlowVersion).where(FlowVersion.flow_id == flow.id)).one()
        assert version.tree == make.TREE
        assert (version.source, version.published_by_user_id, version.source_proposal_id, version.note) == (
            "proposal", world.admin.user_id, world.new_flow, "looks right")
    p = proposal_row(engine, world.new_flow)
    assert (p.status, p.reviewed_by_user_id, p.row_version) == ("approved", world.admin.user_id, 2)
    assert p.reviewed_at is not None
    [entry] = audit_entries(engine)
    assert (entry.action, entry.actor, entry.user_id, entry.proposal_id, entry.flow_id, entry.reason) == (
        "approve", "admin@alpha.example", world.admin.user_id, world.new_flow, outcome.flow_id, "looks right")
    assert entry.tree_before is None and entry.tree_after == make.TREE
    assert entry.details["edited"] is False and entry.details["flow_version"] == 1


def test_a_second_flow_with_the_same_title_gets_a_numbered_id(engine, world):
    with unit_of_work(engine) as db:
        from core.models import Account
        alpha = db.get(Account, world.account)
        again = make.proposal(db, alpha, title="VPN drops every hour").id
    review.approve(engine, world.admin, world.account, world.new_flow, 1)
    outcome = review.approve(engine, world.admin, world.account, again, 1)
    assert outcome.flow_external_id == "vpn-drops-every-hour-2"


def test_edit_and_publish_an_enhancement_adds_the_next_version(engine, world):
    edited = make.enhanced_tree()
    edited["nodes"]["a2"]["text"] = "Remove and re-add the printer in the user's profile"

    outcome = review.edit_and_publish(engine, world.admin, world.account, world.enhancement, 1, edited,
                                      note="clearer wording")

    assert (outcome.status, outcome.flow_id, outcome.flow_version) == ("published", world.flow, 2)
    with unit_of_work(engine) as db:
        flow = db.get(Flow, world.flow)
        assert flow.current_version == 2
        v2 = db.scalars(select(FlowVersion).where(FlowVersion.flow_id == flow.id, FlowVersion.version == 2)).one()
        assert (v2.tree, v2.source, v2.source_proposal_id, v2.published_by_user_id) == (
            edited, "edit", world.enhancement, world.admin.user_id)
    [entry] = audit_entries(engine)
    assert entry.action == "edit_publish"
    assert entry.tree_before == make.TREE and entry.tree_after == edited
    assert entry.details["edited"] is True and entry.details["proposed_tree"] == make.enhanced_tree()
    assert entry.details["base_flow_version"] == 1


def test_edit_and_publish_a_new_flow_under_another_name(engine, world):
    outcome = review.edit_and_publish(engine, world.admin, world.account, world.new_flow, 1, make.TREE,
                                      flow_name="VPN: hourly drops")
    assert outcome.flow_external_id == "vpn-hourly-drops"
    with unit_of_work(engine) as db:
        assert db.get(Flow, outcome.flow_id).name == "VPN: hourly drops"


@pytest.mark.parametrize("action", [review.dismiss, review.reject])
def test_dismiss_and_reject_record_the_reason(engine, world, action):
    outcome = action(engine, world.admin, world.account, world.new_flow, 1, "  seen it before  ")

    expected = "dismissed" if action is review.dismiss else "rejected"
    p = proposal_row(engine, world.new_flow)
    assert (outcome.status, p.status, p.review_reason) == (expected, expected, "seen it before")
    [entry] = audit_entries(engine)
    assert (entry.action, entry.reason, entry.tree_before, entry.tree_after) == (
        "dismiss" if expected == "dismissed" else "reject", "seen it before", None, None)
    assert entry.details["support_count"] == 3
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(Flow)) == 1  # nothing published


@pytest.mark.parametrize("action", [review.dismiss, review.reject])
def test_dismiss_and_reject_need_a_reason(engine, world, action):
    with pytest.raises(review.ReasonRequired):
        action(engine, world.admin, world.account, world.new_flow, 1, "   ")
    assert proposal_row(engine, world.new_flow).status == "pending"


def _every_action(engine, actor, account, proposal_id, row_version=1):
    return [
        lambda: review.approve(engine, actor, account, proposal_id, row_version),
        lambda: review.edit_and_publish(engine, actor, account, proposal_id, row_version, make.TREE),
        lambda: review.dismiss(engine, actor, account, proposal_id, row_version, "no"),
        lambda: review.reject(engine, actor, account, proposal_id, row_version, "no"),
    ]


@pytest.mark.parametrize("who", ["manager", "analyst"])
def test_only_admins_review(engine, world, who):
    for call in _every_action(engine, getattr(world, who), world.account, world.new_flow):
        with pytest.raises(NotAllowed, match=f"role in this account \\({who}\\) may not review proposals"):
            call()
    assert proposal_row(engine, world.new_flow).status == "pending"
    assert audit_entries(engine) == []


def test_an_admin_of_another_account_cannot_review_here(engine, world):
    for call in _every_action(engine, world.outsider, world.account, world.new_flow):
        with pytest.raises(NotAllowed, match="not a member"):
            call()
    # ... nor reach this account's proposal through their own account.
    for call in _every_action(engine, world.outsider, world.other_account, world.new_flow):
        with pytest.raises(review.ProposalNotFound):
            call()
    assert proposal_row(engine, world.new_flow).status == "pending"


def test_a_deactivated_admin_is_refused(engine, world):
    with unit_of_work(engine) as db:
        from core.models import User
        db.get(User, world.admin.user_id).is_active = False
    with pytest.raises(NotAllowed):
        review.approve(engine, world.admin, world.account, world.new_flow, 1)


def test_an_unknown_proposal_is_not_found(engine, world):
    with pytest.raises(review.ProposalNotFound):
        review.approve(engine, world.admin, world.account, 999_999, 1)


def test_an_enhancement_cannot_be_approved_as_it_stands(engine, world):
    with pytest.raises(review.ApproveNeedsEdit, match="edit & publish"):
        review.approve(engine, world.admin, world.account, world.enhancement, 1)
    assert proposal_row(engine, world.enhancement).status == "pending"


def test_an_invalid_tree_is_refused_and_nothing_changes(engine, world):
    broken = copy.deepcopy(make.TREE)
    broken["nodes"]["a1"]["next"] = "nowhere"
    with pytest.raises(review.InvalidProposalTree, match="nowhere"):
        review.edit_and_publish(engine, world.admin, world.account, world.new_flow, 1, broken)
    with pytest.raises(review.InvalidProposalTree):
        review.edit_and_publish(engine, world.admin, world.account, world.enhancement, 1, {"root": "x"})
    assert proposal_row(engine, world.new_flow).status == "pending"
    assert audit_entries(engine) == []
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(FlowVersion)) == 1


def test_a_tree_with_a_nul_character_or_deep_nesting_is_refused_as_invalid_and_nothing_changes(engine, world):
    with_nul = copy.deepcopy(make.TREE)
    with_nul["nodes"]["a1"]["text"] = "Restart\u0000 the spooler"
    deep = copy.deepcopy(make.TREE)
    nested = "x"
    for _ in range(300):
        nested = [nested]
    deep["nodes"]["a1"]["text"] = nested
    with pytest.raises(review.InvalidProposalTree, match="NUL"):
        review.edit_and_publish(engine, world.admin, world.account, world.new_flow, 1, with_nul)
    with pytest.raises(review.InvalidProposalTree, match="nested"):
        review.edit_and_publish(engine, world.admin, world.account, world.new_flow, 1, deep)
    assert proposal_row(engine, world.new_flow).status == "pending"
    assert audit_entries(engine) == []


@pytest.mark.parametrize("typed", ["reason", "flow_name", "note"])
def test_typed_text_with_a_nul_character_is_refused_and_nothing_changes(engine, world, typed):
    text = "because\u0000"
    with pytest.raises(review.UnstorableText, match="NUL"):
        if typed == "reason":
            review.reject(engine, world.admin, world.account, world.new_flow, 1, text)
        else:
            review.edit_and_publish(engine, world.admin, world.account, world.new_flow, 1, make.TREE, **{typed: text})
    assert proposal_row(engine, world.new_flow).status == "pending"
    assert audit_entries(engine) == []


def test_publishing_an_unchanged_enhancement_is_refused(engine, world):
    with pytest.raises(review.InvalidProposalTree, match="same as the published version"):
        review.edit_and_publish(engine, world.admin, world.account, world.enhancement, 1, make.TREE)


def test_a_reviewed_proposal_says_who_reviewed_it(engine, world):
    review.dismiss(engine, world.admin, world.account, world.new_flow, 1, "later")
    for row_version in (1, 2):
        for call in _every_action(engine, world.admin2, world.account, world.new_flow, row_version):
            with pytest.raises(review.ProposalAlreadyReviewed,
                               match=r"Already reviewed by admin@alpha\.example at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(dismissed\)"):
                call()
    assert len(audit_entries(engine)) == 1


def test_a_proposal_that_changed_since_it_was_shown_is_not_decided(engine, world):
    with unit_of_work(engine) as db:  # the analysis adds evidence: the ORM bumps row_version
        db.get(FlowProposal, world.new_flow).support_count = 4
    with pytest.raises(review.ProposalChanged):
        review.approve(engine, world.admin, world.account, world.new_flow, 1)
    assert review.approve(engine, world.admin, world.account, world.new_flow, 2).status == "approved"


def test_a_review_that_commits_between_our_read_and_our_write_wins(engine, world, monkeypatch):
    """The race the version check exists for: both admins read row_version 1; the other one
    commits first; ours then matches no row and changes nothing."""
    real_load = review._load_for_review
    raced = []

    def load_then_let_the_other_admin_act(db, account_id, proposal_id):
        proposal = real_load(db, account_id, proposal_id)
        if not raced:
            raced.append(True)
            review.reject(engine, world.admin2, account_id, proposal_id, 1, "duplicate of an existing flow")
        return proposal

    monkeypatch.setattr(review, "_load_for_review", load_then_let_the_other_admin_act)
    with pytest.raises(review.ProposalAlreadyReviewed, match=r"second@alpha\.example .*\(rejected\)"):
        review.approve(engine, world.admin, world.account, world.new_flow, 1)

    p = proposal_row(engine, world.new_flow)
    assert (p.status, p.reviewed_by_user_id, p.row_version) == ("rejected", world.admin2.user_id, 2)
    assert [e.action for e in audit_entries(engine)] == ["reject"]
    with unit_of_work(engine) as db:
        assert db.scalar(select(func.count()).select_from(Flow)) == 1  # no flow from the losing approve


def test_two_admins_at_once_one_wins(engine, world):
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def act(name, call):
        barrier.wait()
        try:
            results[name] = call()
        except review.ReviewError as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=act, args=("approve", lambda: review.approve(
            engine, world.admin, world.account, world.new_flow, 1))),
        threading.Thread(target=act, args=("reject", lambda: review.reject(
            engine, world.admin2, world.account, world.new_flow, 1, "not needed"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    outcomes = [r for r in results.values() if isinstance(r, review.ReviewOutcome)]
    refusals = [r for r in results.values() if isinstance(r, review.ProposalAlreadyReviewed)]
    assert len(outcomes) == 1 and len(refusals) == 1, results
    assert proposal_row(engine, world.new_flow).status == outcomes[0].status
    assert len(audit_entries(engine)) == 1


def test_an_approved_new_flow_is_named_without_the_proposal_framing(engine, world):
    with unit_of_work(engine) as db:
        db.get(FlowProposal, world.new_flow).title = "New flow: VPN drops every hour"
    outcome = review.approve(engine, world.admin, world.account, world.new_flow, 2)

    assert outcome.flow_external_id == "vpn-drops-every-hour"
    with unit_of_work(engine) as db:
        assert db.scalars(select(Flow.name).where(Flow.external_id == "vpn-drops-every-hour")).one() == "VPN drops every hour"
