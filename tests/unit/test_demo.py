"""The demo generator: valid, deterministic, lazy records that carry the knowledge-gap signals."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from core.demo.catalog import ACCOUNT_SLUGS, FLOWS
from core.demo.loader import default_accounts, generate_flows, generate_sessions
from core.sessions.formats import flow_errors, session_errors

ANCHOR = datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)
SEED = 42
REPO_ROOT = Path(__file__).resolve().parents[2]


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def escalated(session: dict) -> bool:
    return session["status"] in ("escalated", "requesting_escalation")


@pytest.fixture(scope="module")
def accounts() -> list[str]:
    return default_accounts(3)


@pytest.fixture(scope="module")
def flows(accounts) -> list[dict]:
    return generate_flows(accounts, SEED)


@pytest.fixture(scope="module")
def sessions(accounts, flows) -> list[dict]:
    return list(generate_sessions(accounts, flows, 10_000, SEED, ANCHOR))


@pytest.fixture(scope="module")
def trees(flows) -> dict[tuple[str, str], dict]:
    return {(f["account"], f["id"]): f["tree"] for f in flows}


# --- accounts and flows ------------------------------------------------------------------------


def test_default_accounts_are_stable_unique_slugs_beyond_the_named_list():
    slugs = default_accounts(len(ACCOUNT_SLUGS) + 5)
    assert slugs[:3] == ["northwind-it", "contoso-msp", "fabrikam-tech"]
    assert slugs[len(ACCOUNT_SLUGS)] == "northwind-it-2"
    assert len(set(slugs)) == len(slugs)
    assert default_accounts(len(slugs)) == slugs
    assert default_accounts(0) == []


def test_every_generated_flow_is_valid(flows):
    for flow in flows:
        assert flow_errors(flow) == [], flow["id"]


def test_each_account_publishes_the_core_flows_and_leaves_some_domains_uncharted(accounts, flows):
    by_account = defaultdict(set)
    for flow in flows:
        by_account[flow["account"]].add(flow["id"])
    all_ids = {spec.id for spec in FLOWS}
    core = {spec.id for spec in FLOWS if spec.core}
    domains = {f["domain"] for f in flows}
    assert len(domains) >= 11
    assert "server" not in domains  # charted nowhere
    for slug in accounts:
        assert core <= by_account[slug]
        assert by_account[slug] < all_ids
    assert set().union(*by_account.values()) == all_ids


def test_flows_carry_real_scripts_in_powershell_and_bash(flows):
    scripts = [node["script"] for f in flows for node in f["tree"]["nodes"].values() if "script" in node]
    languages = Counter(s["language"] for s in scripts)
    assert languages["powershell"] > 0 and languages["bash"] > 0
    assert any("Stop-Service -Name Spooler" in s["body"] for s in scripts)


# --- determinism and laziness ------------------------------------------------------------------


def test_the_same_seed_and_anchor_generate_the_same_flows_and_sessions(accounts, flows):
    assert generate_flows(accounts, SEED) == flows
    first = list(generate_sessions(accounts, flows, 2000, SEED, ANCHOR))
    again = list(generate_sessions(accounts, flows, 2000, SEED, ANCHOR))
    assert first == again


def test_a_different_seed_generates_different_sessions(accounts, flows):
    one = list(itertools.islice(generate_sessions(accounts, flows, 2000, SEED, ANCHOR), 200))
    other = list(itertools.islice(generate_sessions(accounts, flows, 2000, SEED + 1, ANCHOR), 200))
    assert one != other


def test_the_stream_does_not_depend_on_the_hash_seed():
    script = (
        "import hashlib, orjson\n"
        "from datetime import datetime, timezone\n"
        "from core.demo.loader import default_accounts, generate_flows, generate_sessions\n"
        "a = default_accounts(4)\n"
        "s = generate_sessions(a, generate_flows(a, 5), 1500, 5, datetime(2026, 3, 1, tzinfo=timezone.utc))\n"
        "print(hashlib.sha256(b''.join(orjson.dumps(x) for x in s)).hexdigest())\n"
    )
    digests = {
        subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": str(REPO_ROOT)}).stdout
        for hash_seed in (1, 2)
    }
    assert len(digests) == 1


def test_the_generator_is_lazy(accounts, flows):
    started = time.perf_counter()
    stream = generate_sessions(accounts, flows, 10_000_000, SEED, ANCHOR)
    first = next(stream)
    assert time.perf_counter() - started < 2.0
    assert session_errors(first) == []


def test_exactly_count_sessions_come_out_in_created_at_order_with_unique_ids(accounts, flows, sessions):
    assert len(sessions) == 10_000
    assert len(list(generate_sessions(accounts, flows, 7, SEED, ANCHOR))) == 7
    assert list(generate_sessions(accounts, flows, 0, SEED, ANCHOR)) == []
    created = [ts(s["created_at"]) for s in sessions]
    assert created == sorted(created)
    assert len({(s["account"], s["id"]) for s in sessions}) == len(sessions)


def test_bad_arguments_are_refused_at_the_call(accounts, flows):
    with pytest.raises(ValueError):
        generate_sessions(accounts, flows, 10, SEED, datetime(2026, 11, 20))  # naive anchor
    with pytest.raises(ValueError):
        generate_sessions(["northwind-it", "northwind-it"], flows, 10, SEED, ANCHOR)
    with pytest.raises(ValueError):
        generate_flows(["Not A Slug"], SEED)


# --- validity and time -------------------------------------------------------------------------


def test_every_generated_session_is_valid(sessions):
    for session in sessions[::2]:
        assert session_errors(session) == [], session["id"]


def test_sessions_fall_within_the_90_days_before_the_anchor(sessions):
    start = ANCHOR - timedelta(days=90)
    for session in sessions:
        created = ts(session["created_at"])
        assert start <= created < ANCHOR
        if session["ended_at"] is not None:
            assert created <= ts(session["ended_at"]) < ANCHOR
        ticket = session["psa_ticket"]
        if ticket and ticket["closed_at"]:
            assert ts(ticket["closed_at"]) < ANCHOR


def test_steps_follow_each_other_in_time(sessions):
    for session in sessions:
        previous = ts(session["created_at"])
        for seq, step in enumerate(session["steps"], start=1):
            assert step["seq"] == seq
            created = ts(step["created_at"])
            assert created > previous
            previous = created
            if step["responded_at"] is not None:
                previous = ts(step["responded_at"])
                assert previous >= created
        if session["ended_at"] is not None:
            assert ts(session["ended_at"]) >= previous
        assert previous < ANCHOR  # nothing happens after the data was taken


def test_open_sessions_have_no_end_and_ended_ones_do(sessions):
    for session in sessions:
        open_ = session["status"] in ("active", "requesting_escalation")
        assert (session["ended_at"] is None) == open_
        assert (session["resolution"] is not None) == (session["status"] == "resolved")
    recent = ANCHOR - timedelta(days=4)
    assert all(ts(s["created_at"]) > recent for s in sessions if s["status"] == "active")


# --- the walk through the flows ----------------------------------------------------------------


def test_matched_sessions_walk_their_flows_tree(sessions, trees):
    walked = 0
    for session in sessions:
        if session["matched_flow"] is None:
            assert all(step["node_id"] is None for step in session["steps"])
            continue
        tree = trees[(session["account"], session["matched_flow"])]
        for step in session["steps"]:
            if step["node_id"] is None:
                continue
            walked += 1
            node = tree["nodes"][step["node_id"]]
            assert step["context_message"] == node["text"]
            assert step["step_type"] == node["type"]
            if node["type"] == "question":
                labels = [o["label"] for o in node["options"]]
                assert step["options"] == labels
                if step["response"] is not None:
                    assert (step["response"] not in labels) == step["was_free_text"]
    assert walked > 10_000


# --- the knowledge-gap signals -----------------------------------------------------------------


def test_engineers_type_recurring_free_text_where_a_flow_question_lacks_an_option(sessions):
    answers = Counter(
        (s["matched_flow"], step["node_id"], step["response"])
        for s in sessions for step in s["steps"] if step["was_free_text"] and step["node_id"]
    )
    nodes = Counter((flow, node) for flow, node, _ in answers.elements())
    assert nodes[("fl-printing-offline", "q_scope")] >= 50
    assert nodes[("fl-email-outlook-not-syncing", "q_client")] >= 50
    assert answers[("fl-printing-offline", "q_scope", "Only on the terminal server")] >= 20
    assert answers[("fl-email-outlook-not-syncing", "q_client", "New Outlook")] >= 20


def test_discovery_sessions_describe_recurring_uncharted_problems_in_paraphrases(sessions):
    discovery = [s for s in sessions if s["confidence_tier"] == "discovery"]
    assert len(discovery) > 1000
    assert all(s["matched_flow"] is None for s in discovery)
    mapped_drive = Counter(s["problem_summary"] for s in discovery if s["problem_domain"] == "server")
    assert mapped_drive["Mapped drive disconnects after reboot"] >= 30
    assert mapped_drive["S: drive shows a red X at login"] >= 15
    assert len(mapped_drive) >= 10  # paraphrases and unrelated one-offs


def test_improvised_fixes_follow_what_the_engineer_was_told_as_a_real_engineer_would(sessions):
    """The mapped drive and OneDrive sessions pick their fix from the answer, so the trees the
    analysis proposes from them read right: a fix that worked ends the session, one that did not
    is followed by the next that fits the same answer."""
    fixes = {
        "Does the drive reconnect when the user clicks it in File Explorer?": {
            "Yes, after a few seconds": {"Enabled 'Always wait for the network' and set the drive map to Replace",
                                         "Removed the duplicate mapping from the logon script"},
            "No, it asks for credentials": {"Re-mapped the drive with the server's FQDN and saved credentials"},
            "No, path not found": {"Removed the duplicate mapping from the logon script"}},
        "What does the OneDrive icon show?": {
            "Sync pending": {"Reset OneDrive and let it resync", "Renamed files with invalid characters"},
            "Red cross / sync error": {"Renamed files with invalid characters"},
            "Paused": {"Resumed syncing in OneDrive"}},
    }
    seen = Counter()
    for session in sessions:
        if session["status"] != "resolved" or session["matched_flow"] is not None:
            continue
        asked = {s["context_message"]: s["response"] for s in session["steps"] if s["step_type"] == "question"}
        for question, by_answer in fixes.items():
            if question in asked:
                assert session["resolution"]["summary"] in by_answer[asked[question]], session["id"]
                seen[asked[question]] += 1
                doing = [s for s in session["steps"] if s["step_type"] in ("action", "script")]
                # Only the last thing tried worked: the engineer stopped there.
                assert doing and doing[-1]["outcome"] == "succeeded"
                assert all(s["outcome"] == "failed" for s in doing[:-1] if not s["context_message"].startswith("List"))
    assert len(seen) == 6 and min(seen.values()) >= 3


def test_one_way_audio_sessions_ask_which_way_only_when_turning_off_sip_alg_did_not_help(sessions):
    """A new flow proposed from them reads: turn off SIP ALG; did that fix it? If not, which way
    is the audio missing, and the fix for that way."""
    by_way = {"The other party can't hear us": "Corrected the phone system's external NAT address",
              "We can't hear the other party": "Allowed the provider's RTP range inbound"}
    seen = Counter()
    for session in sessions:
        steps = session["steps"]
        if (session["status"] != "resolved" or session["matched_flow"] is not None or not steps
                or not (steps[0]["context_message"] or "").startswith("Turn off SIP ALG")):
            continue
        asked = [s["response"] for s in steps if s["step_type"] == "question"]
        if not asked:
            assert session["resolution"]["summary"] == "Turned off SIP ALG on the firewall"
            assert steps[0]["outcome"] == "succeeded"
        else:
            assert steps[0]["outcome"] == "failed"
            assert session["resolution"]["summary"] == by_way[asked[0]], session["id"]
        seen[asked[0] if asked else "SIP ALG"] += 1
    assert len(seen) == 3 and min(seen.values()) >= 2


def test_some_sessions_have_no_problem_domain(sessions):
    domainless = [s for s in sessions if s["problem_domain"] is None]
    assert 50 < len(domainless) < len(sessions) * 0.1


def test_some_actions_fail_unusually_often_and_are_retried(sessions):
    outcomes = defaultdict(Counter)
    retries = 0
    for session in sessions:
        steps = session["steps"]
        for step in steps:
            if step["outcome"] and step["node_id"]:
                outcomes[(session["matched_flow"], step["node_id"])][step["outcome"]] += 1
        retries += sum(1 for a, b in itertools.pairwise(steps)
                       if a["node_id"] and a["node_id"] == b["node_id"] and a["outcome"] == "failed")
    total = sum(c["failed"] for c in outcomes.values()) / sum(c.total() for c in outcomes.values())
    driver = outcomes[("fl-printing-offline", "a_driver")]
    assert driver["failed"] / driver.total() > 3 * total
    assert retries > 50


def test_some_domains_escalate_far_more_than_others(sessions):
    by_domain = defaultdict(Counter)
    for session in sessions:
        by_domain[session["problem_domain"]][escalated(session)] += 1
    rate = {d: c[True] / c.total() for d, c in by_domain.items()}
    assert rate["backup"] > 2 * rate["identity"]
    assert rate["vpn"] > 2 * rate["m365"]


def test_sessions_drop_off_after_particular_nodes(sessions):
    after = Counter()
    for session in sessions:
        walked = [s["node_id"] for s in session["steps"] if s["node_id"]]
        if session["status"] == "abandoned" and walked:
            after[(session["matched_flow"], walked[-1])] += 1
    assert after[("fl-networking-no-internet", "a_lights")] >= 20


def test_one_problem_rises_sharply_in_the_last_30_days(sessions):
    recent, earlier = Counter(), Counter()
    for session in sessions:
        bucket = recent if ts(session["created_at"]) >= ANCHOR - timedelta(days=30) else earlier
        for step in session["steps"]:
            if step["was_free_text"] and "535" in step["response"]:
                bucket["535"] += 1
        bucket["all"] += 1
    # Per day: the last 30 days against the 60 before.
    assert recent["535"] / 30 > 5 * earlier["535"] / 60
    assert recent["all"] / 30 < 2 * earlier["all"] / 60


def test_sessions_come_in_every_status_tier_and_account(accounts, sessions):
    assert {s["status"] for s in sessions} == {"active", "resolved", "escalated", "requesting_escalation", "abandoned"}
    assert {s["confidence_tier"] for s in sessions} == {"guided", "assisted", "discovery", None}
    per_account = Counter(s["account"] for s in sessions)
    assert set(per_account) == set(accounts)
    assert per_account[accounts[0]] > 1.5 * per_account[accounts[2]]  # accounts differ in size


def test_psa_tickets_follow_each_accounts_system_and_some_breach_their_sla(accounts, sessions):
    systems = defaultdict(set)
    breaches = 0
    for session in sessions:
        ticket = session["psa_ticket"]
        if ticket is None:
            continue
        systems[session["account"]].add(ticket["system"])
        end = ts(ticket["closed_at"]) if ticket["closed_at"] else ANCHOR
        breaches += end > ts(ticket["sla_due_at"])
    assert [systems[a] for a in accounts] == [{"connectwise"}, {"autotask"}, {"halopsa"}]
    assert 0 < breaches < len(sessions) / 3


def test_each_msp_has_a_dozen_clients_of_very_different_sizes_and_a_ticket_keeps_its_client(accounts, sessions):
    tickets: dict[str, Counter] = defaultdict(Counter)
    client_of_ticket: dict[tuple[str, str], set] = defaultdict(set)
    for session in sessions:
        ticket = session["psa_ticket"]
        if ticket is None:
            continue
        tickets[session["account"]][ticket["company"]] += 1
        client_of_ticket[(session["account"], ticket["id"])].add(ticket["company"])
    for account in accounts:
        per_client = tickets[account]
        internal = per_client.pop(None, 0)
        assert len(per_client) == 12, account
        assert 0 < internal < 0.05 * sum(per_client.values())  # the MSP's own work names no client
        sizes = sorted(per_client.values())
        assert sizes[-1] > 5 * sizes[0], (account, sizes)
    assert {frozenset(tickets[a]) for a in accounts} != {frozenset(tickets[accounts[0]])}  # not the same dozen
    assert all(len(clients) == 1 for clients in client_of_ticket.values())


def test_resolved_sessions_say_how_and_mostly_why(sessions):
    resolved = [s["resolution"] for s in sessions if s["status"] == "resolved"]
    assert all(r["summary"] for r in resolved)
    with_cause = sum(1 for r in resolved if r["root_cause"])
    assert 0.6 * len(resolved) < with_cause < len(resolved)


def test_sessions_are_plain_json_that_round_trips(sessions):
    for session in sessions[:500]:
        assert orjson.loads(orjson.dumps(session)) == session
