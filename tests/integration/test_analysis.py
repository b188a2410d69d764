"""Session analysis against a real database (SQLite and PostgreSQL): the queue, proposals,
leases, retries, and the commands around them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from core.analysis import store
from core.analysis.queue_claims import QueuePolicy, claim_batch, still_mine, write_transaction
from core.analysis.service import analyse_batch, drain
from core.db import unit_of_work
from core.models import AnalysisQueueItem, FlowProposal, ProposalSession
from core.proposals.listing import list_proposals
from core.sessions.importer import import_flows, import_sessions

REPO = Path(__file__).resolve().parents[2]
POLICY = QueuePolicy(batch_size=50, lease_seconds=60, max_attempts=3, backoff_seconds=30)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)

FLOW = {"id": "fl-outlook", "account": "acme", "name": "Outlook not syncing", "domain": "email", "version": 1,
        "tree": {"root": "q_client", "nodes": {
            "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                         "options": [{"label": "Classic Outlook", "next": "a_ost"},
                                     {"label": "Outlook mobile", "next": "a_ost"}]},
            "a_ost": {"type": "action", "text": "Rebuild the OST", "next": "r_ok"},
            "r_ok": {"type": "resolution", "text": "Mail is flowing again"}}}}


def step(seq, kind, node=None, text=None, *, answer=None, free=False, options=None, outcome=None):
    at = (T0 + timedelta(minutes=seq)).isoformat()
    return {"seq": seq, "step_type": kind, "node_id": node, "context_message": text, "options": options,
            "response": answer, "was_free_text": free, "outcome": outcome, "created_at": at, "responded_at": at}


def session(sid, steps, *, matched="fl-outlook", domain="email", summary="Outlook not receiving mail",
            account="acme", status="resolved"):
    return {"id": sid, "account": account, "created_at": T0.isoformat(), "ended_at": T0.isoformat(),
            "status": status, "problem_domain": domain, "problem_summary": summary,
            "confidence_tier": "guided" if matched else "discovery", "matched_flow": matched,
            "resolution": {"summary": "Fixed", "root_cause": None} if status == "resolved" else None,
            "psa_ticket": None, "steps": steps}


def outlook(sid, answer="Classic Outlook", free=False):
    return session(sid, [step(1, "question", "q_client", "Which Outlook is the user on?", answer=answer, free=free,
                              options=["Classic Outlook", "Outlook mobile"]),
                         step(2, "action", "a_ost", "Rebuild the OST", outcome="succeeded"),
                         step(3, "resolution", "r_ok", "Mail is flowing again")])


def mapped_drive(sid, summary="Mapped drive disconnects after reboot", domain="server"):
    return session(sid, [step(1, "question", None, "Does the drive reconnect when clicked?", answer="Yes",
                              options=["Yes", "No"]),
                         step(2, "script", None, "List the mapped drives and test SMB", outcome="succeeded"),
                         step(3, "resolution", None, "Set the drive map to Replace")],
                   matched=None, domain=domain, summary=summary)


def load(engine, *sessions, flows=(FLOW,)):
    if flows:
        import_flows(engine, enumerate(flows, start=1), "flows")
    import_sessions(engine, enumerate(sessions, start=1), "sessions")


def queue(engine):
    with unit_of_work(engine) as db:
        return {row.session_id: row for row in db.scalars(select(AnalysisQueueItem))}


def proposals(engine, status=None):
    with unit_of_work(engine) as db:
        return list_proposals(db, "acme", status)


def test_draining_records_each_sessions_result_and_builds_one_proposal_per_change(engine):
    load(engine, outlook("s-conform"), outlook("s-new-1", "New Outlook", True),
         outlook("s-new-2", "new outlook app", True), mapped_drive("s-drive-1"),
         mapped_drive("s-drive-2", "S: drive shows a red X at login"),
         session("s-vague", [step(1, "question", None, "What is the user seeing?", answer="Slow", options=["Slow", "Error"])],
                 matched=None, domain=None))

    total = drain(engine, "worker-a", POLICY)

    assert total.analysed == 6 and total.created == 2 and total.failed == 0
    results = {row.session_id: (row.status, row.result) for row in queue(engine).values()}
    assert sorted(r for _, r in results.values()) == [
        "conforming", "enhancement", "enhancement", "new_flow", "new_flow", "no_proposal"]
    assert {s for s, _ in results.values()} == {"done"}
    enhancement, new_flow = sorted(proposals(engine), key=lambda p: p.proposal_type)
    assert (enhancement.proposal_type, enhancement.status, enhancement.target_flow) == ("enhancement", "pending", "fl-outlook")
    assert enhancement.session_ids == ["s-new-1", "s-new-2"] and enhancement.support_count == 2
    assert enhancement.diff["options_added"][0]["node"] == "q_client"
    assert (new_flow.proposal_type, new_flow.domain, new_flow.target_flow) == ("new_flow", "server", None)
    assert new_flow.session_ids == ["s-drive-1", "s-drive-2"]
    assert 0 < new_flow.confidence < 1 and "Supported by 2 resolved sessions" in new_flow.confidence_rationale


def test_a_later_session_grows_the_open_proposal_instead_of_adding_another(engine):
    load(engine, mapped_drive("s-1"), mapped_drive("s-2", "S: drive shows a red X at login"))
    drain(engine, "worker-a", POLICY)
    (before,) = proposals(engine)

    load(engine, mapped_drive("s-3", "Network drive not reconnecting after restart", domain=None), flows=())
    report = drain(engine, "worker-a", POLICY)

    (after,) = proposals(engine)
    assert report.created == 0 and report.updated == 1
    assert after.id == before.id and after.session_ids == ["s-1", "s-2", "s-3"] and after.support_count == 3
    assert after.confidence > before.confidence and after.updated_at >= before.updated_at


def test_analysing_a_session_again_never_counts_it_twice(engine):
    load(engine, mapped_drive("s-1"), mapped_drive("s-2"))
    drain(engine, "worker-a", POLICY)
    with unit_of_work(engine) as db:
        db.execute(update(AnalysisQueueItem).values(status="pending", available_at=T0))

    report = drain(engine, "worker-b", POLICY)

    assert report.results == {"already_counted": 2}
    (proposal,) = proposals(engine)
    assert proposal.support_count == 2 and proposal.session_ids == ["s-1", "s-2"]


def test_an_expired_lease_is_claimed_again_and_the_first_worker_can_no_longer_finish_it(engine):
    load(engine, mapped_drive("s-1"))
    now = datetime.now(timezone.utc)
    (first,) = claim_batch(engine, "crashed-worker", POLICY, now)

    assert claim_batch(engine, "worker-b", POLICY, now + timedelta(seconds=30)) == []
    (second,) = claim_batch(engine, "worker-b", POLICY, now + timedelta(seconds=61))

    assert second.queue_id == first.queue_id and second.attempts == 2
    with write_transaction(engine) as connection:
        assert still_mine(connection, [first.queue_id], "crashed-worker") == set()
        assert still_mine(connection, [first.queue_id], "worker-b") == {first.queue_id}


def test_a_failing_item_backs_off_retries_and_is_parked_as_failed_after_the_last_attempt(engine):
    load(engine, session("s-orphan", [step(1, "resolution", "r_x", "Done")], matched="fl-never-imported"), flows=())
    now = datetime.now(timezone.utc)

    first = analyse_batch(engine, "worker-a", POLICY, now)
    (item,) = queue(engine).values()
    assert (first.failed, item.status, item.attempts) == (1, "pending", 1)
    assert "fl-never-imported" in item.last_error
    assert item.available_at == now + timedelta(seconds=30)
    assert analyse_batch(engine, "worker-a", POLICY, now + timedelta(seconds=29)).claimed == 0

    second = analyse_batch(engine, "worker-a", POLICY, now + timedelta(seconds=31))
    (item,) = queue(engine).values()
    assert second.failed == 1 and item.attempts == 2
    assert item.available_at == now + timedelta(seconds=31 + 60), "the wait doubles"
    third = analyse_batch(engine, "worker-a", POLICY, now + timedelta(hours=1))
    (item,) = queue(engine).values()
    assert (third.parked, item.status, item.attempts) == (1, "failed", 3)
    assert item.last_error.startswith("gave up after 3 attempts")


def test_a_worker_that_died_three_times_on_an_item_gets_it_parked(engine):
    load(engine, mapped_drive("s-1"))
    now = datetime.now(timezone.utc)
    for attempt in range(3):
        assert len(claim_batch(engine, f"dies-{attempt}", POLICY, now + timedelta(seconds=61 * attempt))) == 1
    assert claim_batch(engine, "worker-b", POLICY, now + timedelta(seconds=61 * 3)) == []
    (item,) = queue(engine).values()
    assert item.status == "failed" and "stopped before finishing" in item.last_error


def test_the_proposals_command_lists_json_in_the_documented_shape(engine):
    load(engine, outlook("s-new-1", "New Outlook", True), mapped_drive("s-drive-1"))
    drain(engine, "worker-a", POLICY)
    url = engine.url.render_as_string(hide_password=False)

    listed = subprocess.run([sys.executable, "-m", "core", "proposals", "--account", "acme", "--status", "pending",
                             "--json"], cwd=REPO, env={**os.environ, "DATABASE_URL": url},
                            capture_output=True, text=True, timeout=60)

    assert listed.returncode == 0, listed.stderr
    documents = json.loads(listed.stdout)
    assert {d["proposal_type"] for d in documents} == {"new_flow", "enhancement"}
    for document in documents:
        assert {"id", "account", "proposal_type", "status", "domain", "title", "target_flow", "confidence",
                "session_ids", "tree", "diff", "created_at", "updated_at"} <= document.keys()
        assert document["account"] == "acme" and document["status"] == "pending"
    enhancement = next(d for d in documents if d["proposal_type"] == "enhancement")
    assert enhancement["target_flow"] == "fl-outlook" and enhancement["session_ids"] == ["s-new-1"]

    table = subprocess.run([sys.executable, "-m", "core", "proposals", "--account", "acme"], cwd=REPO,
                           env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and "New flow: Mapped drive disconnects after reboot" in table.stdout


def test_support_counts_always_equal_the_linked_sessions(engine):
    load(engine, *(mapped_drive(f"s-{n}") for n in range(12)), *(outlook(f"o-{n}", "New Outlook", True) for n in range(7)))
    drain(engine, "worker-a", QueuePolicy(batch_size=5))
    with unit_of_work(engine) as db:
        links = dict(db.execute(select(ProposalSession.proposal_id, func.count()).group_by(ProposalSession.proposal_id)).all())
        counts = dict(db.execute(select(FlowProposal.id, FlowProposal.support_count)).all())
    assert counts == links and sorted(counts.values()) == [7, 12]


def test_a_batch_comes_from_one_account_and_a_second_worker_takes_another_account(engine):
    load(engine, *(mapped_drive(f"s-{n}") | {"account": "acme" if n % 2 else "globex"} for n in range(12)), flows=())
    now = datetime.now(timezone.utc)
    policy = QueuePolicy(batch_size=4)

    first = claim_batch(engine, "worker-a", policy, now)
    second = claim_batch(engine, "worker-b", policy, now)

    assert len(first) == len(second) == 4
    assert len({c.account_id for c in first}) == 1 and len({c.account_id for c in second}) == 1
    assert {c.account_id for c in first} != {c.account_id for c in second}


def test_when_only_an_account_another_worker_holds_has_work_left_a_second_worker_shares_it(engine):
    load(engine, *(mapped_drive(f"s-{n}") for n in range(3)), flows=())
    now = datetime.now(timezone.utc)
    policy = QueuePolicy(batch_size=2)

    first = claim_batch(engine, "worker-a", policy, now)
    second = claim_batch(engine, "worker-b", policy, now)

    assert (len(first), len(second)) == (2, 1)
    assert not {c.queue_id for c in first} & {c.queue_id for c in second}
    assert drain(engine, "worker-c", policy).claimed == 0, "nothing is left to claim twice"


def test_many_small_accounts_still_fill_one_batch(engine):
    load(engine, *(mapped_drive(f"s-{n}") | {"account": f"customer-{n}"} for n in range(12)), flows=())

    claims = claim_batch(engine, "worker-a", POLICY, datetime.now(timezone.utc))

    assert len(claims) == 12 and len({c.account_id for c in claims}) == 12


def test_sessions_are_merged_in_queue_order_whatever_order_the_database_returns_them(engine, monkeypatch):
    load(engine, mapped_drive("s-1", "Mapped drive disconnects after reboot"),
         mapped_drive("s-2", "S: drive shows a red X at login"), flows=())
    read = store.load_sessions
    monkeypatch.setattr(store, "load_sessions", lambda connection, ids: list(reversed(read(connection, ids))))

    drain(engine, "worker-a", POLICY)

    (proposal,) = proposals(engine)
    assert proposal.session_ids == ["s-1", "s-2"]
    assert proposal.title == "New flow: Mapped drive disconnects after reboot", "the first session queued names it"


def test_a_proposal_changed_while_the_batch_merged_into_it_is_not_overwritten_and_the_batch_is_retried(engine, monkeypatch):
    load(engine, mapped_drive("s-1"))
    drain(engine, "worker-a", POLICY)
    (before,) = proposals(engine)
    load(engine, mapped_drive("s-2"), flows=())
    read = store.load_proposals

    def read_stale(*args):
        states = read(*args)
        for state in states:
            state.row_version -= 1  # as if a reviewer saved it after the analysis read it
        return states

    monkeypatch.setattr(store, "load_proposals", read_stale)
    report = drain(engine, "worker-a", POLICY)

    assert (report.failed, report.analysed) == (1, 0)
    (after,) = proposals(engine)
    assert after.session_ids == before.session_ids and after.support_count == 1
    (item,) = [i for i in queue(engine).values() if i.status != "done"]
    assert item.status == "pending" and "changed while the analysis was merging" in item.last_error


# A second version of FLOW that offers "New Outlook for Windows", with its own fix.
FLOW_V2 = {**FLOW, "version": 2, "published_at": (T0 + timedelta(days=10)).isoformat(),
           "tree": {"root": "q_client", "nodes": {
               **FLOW["tree"]["nodes"],
               "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                            "options": [*FLOW["tree"]["nodes"]["q_client"]["options"],
                                        {"label": "New Outlook for Windows", "next": "a_toggle"}]},
               "a_toggle": {"type": "action", "text": "Switch back to classic Outlook", "next": "r_ok"}}}}
FLOW_V1 = {**FLOW, "published_at": (T0 - timedelta(days=30)).isoformat()}


def on_version(record, version):
    return {**record, "matched_flow_version": version}


def test_sessions_on_an_older_version_that_typed_an_answer_the_current_version_offers_propose_nothing(engine):
    load(engine, on_version(outlook("s-v1-a", "New Outlook", True), 1),
         on_version(outlook("s-v1-b", "the new Outlook for Windows", True), 1), flows=(FLOW_V1, FLOW_V2))

    drain(engine, "worker-a", POLICY)

    assert proposals(engine) == []
    assert {row.result for row in queue(engine).values()} == {"no_proposal"}
    assert all("older version" in row.result_detail for row in queue(engine).values())


def test_sessions_on_the_current_version_that_typed_a_new_answer_propose_it_for_that_version(engine):
    load(engine, on_version(outlook("s-v1-web", "Outlook on the web", True), 1),
         on_version(outlook("s-v2-web", "Outlook on the web", True), 2),
         on_version(outlook("s-v2-web-2", "OWA in the browser", True), 2), flows=(FLOW_V1, FLOW_V2))

    drain(engine, "worker-a", POLICY)

    [enhancement] = proposals(engine)
    assert (enhancement.target_flow, enhancement.target_flow_version) == ("fl-outlook", 2)
    # The v1 session's gap is still there in v2: it supports the same change.
    assert sorted(enhancement.session_ids) == ["s-v1-web", "s-v2-web", "s-v2-web-2"]
    added = {o["label"] for o in enhancement.diff["options_added"]}
    assert "Outlook on the web" in added and "New Outlook for Windows" not in added


def test_sessions_whose_version_is_worked_out_from_their_start_are_classified_against_that_version(engine):
    v1_session = outlook("s-v1", "New Outlook", True)  # started at T0: v1 was live
    load(engine, v1_session, flows=(FLOW_V1, FLOW_V2))

    drain(engine, "worker-a", POLICY)

    assert proposals(engine) == []
    assert [row.result for row in queue(engine).values()] == ["no_proposal"]


def test_a_session_that_left_a_node_the_current_version_no_longer_has_proposes_nothing(engine):
    v2 = {**FLOW_V2, "tree": {"root": "q_client", "nodes": {
        "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                     "options": [{"label": "Classic Outlook", "next": "a_repair"},
                                 {"label": "Outlook mobile", "next": "a_repair"}]},
        "a_repair": {"type": "action", "text": "Run the Office repair", "next": "r_ok"},
        "r_ok": {"type": "resolution", "text": "Mail is flowing again"}}}}
    left_the_ost = session("s-v1", [
        step(1, "question", "q_client", "Which Outlook is the user on?", answer="Classic Outlook"),
        step(2, "action", "a_ost", "Rebuild the OST", outcome="failed"),
        step(3, "action", None, "Recreate the Outlook profile", outcome="succeeded"),
        step(4, "resolution", None, "New profile syncs")])
    load(engine, on_version(left_the_ost, 1), flows=(FLOW_V1, v2))

    drain(engine, "worker-a", POLICY)

    assert proposals(engine) == []


def test_a_flow_with_one_version_is_analysed_against_it_as_before(engine):
    load(engine, on_version(outlook("s-new-1", "New Outlook", True), 1), outlook("s-new-2", "new outlook app", True))

    drain(engine, "worker-a", POLICY)

    [enhancement] = proposals(engine)
    assert enhancement.target_flow_version == 1 and enhancement.support_count == 2
