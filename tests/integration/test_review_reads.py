"""The queue, proposal and flow reads, and sign-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from core.accounts.auth import NotAllowed, SignInFailed, authenticate, authorize, load_actor
from core.db import unit_of_work
from core.flows.catalog import flow_detail, flow_list
from core.proposals import review
from core.proposals.queue import QueueFilters, proposal_detail, queue_domains, review_queue
from core.scripts.sessions import session_for_scripts
from tests import factories as make


@pytest.fixture
def data(engine: Engine) -> dict:
    with unit_of_work(engine) as db:
        alpha, beta = make.account(db, "alpha-it"), make.account(db, "beta-net")
        admin = make.user(db, "admin@alpha.example", {alpha: "admin"})
        analyst = make.user(db, "analyst@alpha.example", {alpha: "analyst"})
        make.user(db, "admin@beta.example", {beta: "admin"})
        printer = make.flow(db, alpha, "printer-offline")
        make.flow(db, beta, "printer-offline")
        sessions = [make.session(db, alpha, matched_flow="printer-offline") for _ in range(3)]
        make.session(db, alpha, matched_flow="printer-offline", status="abandoned")
        make.session(db, beta, matched_flow="printer-offline")
        foreign_session = make.session(db, beta, summary="beta secret")
        p = {
            "vpn": make.proposal(db, alpha, title="VPN drops", summary="every hour, 100% of users", domain="networking",
                                 confidence=0.9, sessions=sessions, created_at=make.NOW - timedelta(days=10)),
            "mail": make.proposal(db, alpha, title="Outlook password prompts", domain="email", confidence=0.5,
                                  created_at=make.NOW - timedelta(days=3)),
            "enh": make.proposal(db, alpha, proposal_type="enhancement", title="Printer: one user", target=printer,
                                 tree=make.enhanced_tree(), confidence=0.3, created_at=make.NOW - timedelta(days=1)),
            "old": make.proposal(db, alpha, title="Old idea", status="rejected", confidence=0.7),
            "beta": make.proposal(db, beta, title="VPN drops in beta", sessions=[foreign_session]),
        }
        # A stray link to another tenant's session must never show up as evidence.
        from core.models import ProposalSession
        db.add(ProposalSession(proposal_id=p["vpn"].id, session_id=foreign_session.id))
        return {"alpha": alpha.id, "beta": beta.id, "flow": printer.id,
                "admin": load_actor(db, admin.id), "analyst": load_actor(db, analyst.id),
                **{k: v.id for k, v in p.items()}}


def titles(engine, data, **filters) -> list[str]:
    with unit_of_work(engine) as db:
        page = review_queue(db, data["admin"], data["alpha"], QueueFilters(**filters), now=make.NOW)
        return [row.title for row in page.rows]


def test_pending_by_default_by_expected_impact_then_newest_and_only_this_account(engine, data):
    # VPN drops has three supporting sessions of the last 90 days; the other two none.
    assert titles(engine, data) == ["VPN drops", "Printer: one user", "Outlook password prompts"]


def test_newest_first_when_sorted_by_creation(engine, data):
    assert titles(engine, data, sort="created") == ["Printer: one user", "Outlook password prompts", "VPN drops"]


def test_expected_impact_is_the_last_90_days_supporting_sessions_per_30_days(engine, data):
    with unit_of_work(engine) as db:
        rows = review_queue(db, data["admin"], data["alpha"], QueueFilters(), now=make.NOW).rows
        later = review_queue(db, data["admin"], data["alpha"], QueueFilters(), now=make.NOW + timedelta(days=91)).rows
        detail = proposal_detail(db, data["admin"], data["alpha"], data["vpn"], now=make.NOW)
    by_title = {row.title: row.expected_per_month for row in rows}
    # 3 sessions in 90 days = 1 a month; the other tenant's session linked to it does not count.
    assert by_title == {"VPN drops": 1.0, "Printer: one user": 0.0, "Outlook password prompts": 0.0}
    assert {row.expected_per_month for row in later} == {0.0}  # the sessions are older than 90 days by then
    assert (detail.expected.per_month, detail.expected.recent_sessions) == (1.0, 3)
    assert detail.expected.sentence().startswith(
        "About 1.0 discovery resolutions a flow would guide a month: 3 supporting sessions in the last 90 days")


def test_each_filter(engine, data):
    assert titles(engine, data, types=("enhancement",)) == ["Printer: one user"]
    assert titles(engine, data, domains=("email", "networking")) == ["VPN drops", "Outlook password prompts"]
    assert titles(engine, data, min_confidence=0.4, max_confidence=0.6) == ["Outlook password prompts"]
    day = (make.NOW - timedelta(days=3)).date()
    assert titles(engine, data, created_from=day, created_to=day) == ["Outlook password prompts"]
    assert titles(engine, data, created_to=day - timedelta(days=1)) == ["VPN drops"]
    assert titles(engine, data, text="OUTLOOK") == ["Outlook password prompts"]
    assert titles(engine, data, text="100%") == ["VPN drops"]  # in the summary; % is literal
    assert titles(engine, data, text="_") == []
    assert titles(engine, data, statuses=(), sort="created") == ["Old idea", "Printer: one user", "Outlook password prompts",
                                                                 "VPN drops"]
    assert titles(engine, data, statuses=("rejected",)) == ["Old idea"]


def test_a_search_for_text_no_proposal_can_hold_finds_nothing_instead_of_failing(engine, data):
    assert titles(engine, data, text="VPN\x00") == []
    assert titles(engine, data, text="\ud800") == []


def test_a_script_session_id_no_session_can_have_finds_nothing_instead_of_failing(engine, data):
    with unit_of_work(engine) as db:
        assert session_for_scripts(db, data["admin"], data["alpha"], "s-1\x00") is None


def test_sorting(engine, data):
    assert titles(engine, data, sort="confidence") == ["VPN drops", "Outlook password prompts", "Printer: one user"]
    assert titles(engine, data, sort="title", descending=False) == [
        "Outlook password prompts", "Printer: one user", "VPN drops"]


def test_counts_per_status_follow_the_other_filters(engine, data):
    with unit_of_work(engine) as db:
        page = review_queue(db, data["admin"], data["alpha"], QueueFilters(domains=("email", "networking")))
        everything = review_queue(db, data["admin"], data["alpha"], QueueFilters(statuses=()))
    assert page.status_counts == {"pending": 2, "approved": 0, "published": 0, "dismissed": 0, "rejected": 0}
    assert page.total == 2
    assert everything.status_counts["rejected"] == 1 and everything.total == 4


def test_unknown_filter_values_are_refused():
    with pytest.raises(ValueError):
        QueueFilters(statuses=("pending; DROP TABLE",))
    with pytest.raises(ValueError):
        QueueFilters(sort="id; --")


def test_the_detail_holds_the_evidence_and_the_flow(engine, data):
    with unit_of_work(engine) as db:
        vpn = proposal_detail(db, data["admin"], data["alpha"], data["vpn"])
        enh = proposal_detail(db, data["admin"], data["alpha"], data["enh"])
        foreign = proposal_detail(db, data["admin"], data["alpha"], data["beta"])
        domains = queue_domains(db, data["admin"], data["alpha"])
    assert vpn.evidence_total == 3 and len(vpn.evidence) == 3
    assert "beta secret" not in {e.problem_summary for e in vpn.evidence}
    assert [s.seq for s in vpn.evidence[0].steps] == [1, 2]
    assert vpn.evidence[0].psa_ticket_id.startswith("T-")
    assert enh.target_flow_external_id == "printer-offline" and enh.target_tree == make.TREE
    assert enh.target_flow_current_version == 1
    assert foreign is None
    assert domains == ["email", "networking", "printing"]


def test_reads_check_the_role_and_the_account(engine, data):
    with unit_of_work(engine) as db:
        with pytest.raises(NotAllowed):
            review_queue(db, data["analyst"], data["alpha"], QueueFilters())
        with pytest.raises(NotAllowed):
            proposal_detail(db, data["admin"], data["beta"], data["beta"])
        with pytest.raises(NotAllowed):
            flow_list(db, data["analyst"], data["alpha"])


def test_flows_with_usage_and_history(engine, data):
    review.edit_and_publish(engine, data["admin"], data["alpha"], data["enh"], 1, make.enhanced_tree())
    review.approve(engine, data["admin"], data["alpha"], data["vpn"], 1)
    with unit_of_work(engine) as db:
        flows = {row.external_id: row for row in flow_list(db, data["admin"], data["alpha"])}
        detail = flow_detail(db, data["admin"], data["alpha"], data["flow"])
        assert flow_detail(db, data["admin"], data["alpha"], 999_999) is None
        assert proposal_detail(db, data["admin"], data["alpha"], data["vpn"]).published_as == ("vpn-drops", 1)
        assert proposal_detail(db, data["admin"], data["alpha"], data["enh"]).published_as == ("printer-offline", 2)
        assert proposal_detail(db, data["admin"], data["alpha"], data["mail"]).published_as is None
    printer = flows["printer-offline"]
    assert (printer.sessions, printer.resolved, printer.versions, printer.current_version) == (4, 3, 2, 2)
    assert printer.resolution_rate == pytest.approx(0.75)
    assert printer.last_used is not None and printer.last_used.tzinfo is not None
    vpn = flows["vpn-drops"]
    assert (vpn.sessions, vpn.versions, vpn.resolution_rate, vpn.last_used) == (0, 1, None, None)
    assert [v.version for v in detail.versions] == [2, 1]
    assert (detail.versions[0].published_by, detail.versions[0].source_proposal_title) == (
        "admin@alpha.example", "Printer: one user")
    assert detail.tree == make.enhanced_tree()


def test_authenticate_and_authorize(engine, data):
    with unit_of_work(engine) as db:
        actor = authenticate(db, " Admin@Alpha.example ", make.PASSWORD)
        assert actor.email == "admin@alpha.example" and actor.role_in(data["alpha"]) == "admin"
        assert authorize(db, actor, data["alpha"], "review") == "admin"
        with pytest.raises(NotAllowed, match="not a member"):
            authorize(db, actor, data["beta"], "view_queue")
        with pytest.raises(SignInFailed, match="Wrong email or password"):
            authenticate(db, "admin@alpha.example", "nope")
        with pytest.raises(SignInFailed, match="Wrong email or password"):
            authenticate(db, "nobody@alpha.example", make.PASSWORD)


def test_an_enhancements_expected_impact_says_how_many_sessions_a_month_reach_the_question_it_changes(engine):
    from core.models import Step

    with unit_of_work(engine) as db:
        alpha, beta = make.account(db, "alpha-it"), make.account(db, "beta-net")
        admin = make.user(db, "admin@alpha.example", {alpha: "admin"})
        printer = make.flow(db, alpha, "printer-offline")
        # Six sessions on the flow in the last 90 days: four answered q1, two another question;
        # one more answered q1 100 days ago, and another tenant's session answered q1 yesterday.
        for i in range(6):
            s = make.session(db, alpha, matched_flow="printer-offline", created_at=make.NOW - timedelta(days=5 + i))
            db.query(Step).filter(Step.session_id == s.id, Step.seq == 1).update({"node_id": "q1" if i < 4 else "q9"})
        old = make.session(db, alpha, matched_flow="printer-offline", created_at=make.NOW - timedelta(days=100))
        other = make.session(db, beta, matched_flow="printer-offline")
        for s in (old, other):
            db.query(Step).filter(Step.session_id == s.id, Step.seq == 1).update({"node_id": "q1"})
        proposal = make.proposal(db, alpha, proposal_type="enhancement", target=printer, tree=make.enhanced_tree(),
                                 diff={"options_added": [{"node": "q1", "label": "Only for one user", "next": "a2"}]})
        ids = load_actor(db, admin.id), alpha.id, proposal.id

    with unit_of_work(engine) as db:
        detail = proposal_detail(db, *ids, now=make.NOW)

    # 4 sessions reached q1 in the last 90 days: 4 * 30 / 90 = 1.3 a month.
    assert detail.expected.touched_sessions == 4
    assert detail.expected.sentence().endswith(
        "; it touches about 1.3 sessions a month (4 reached the question it changes in the last 90 days).")
