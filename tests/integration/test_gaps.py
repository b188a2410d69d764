"""The knowledge-gap report on a real database (SQLite and PostgreSQL): each signal counts only
the account's sessions started in the period, and the report's JSON has the promised shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import unit_of_work
from core.flows import walk
from core.gaps import DEFAULT_THRESHOLDS, ThresholdError, build_gap_report, load_thresholds, save_thresholds
from core.models import Account, Flow, FlowVersion, Session, Step
from core.periods import Period

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
REPO = Path(__file__).resolve().parents[2]
_ids = count(1)

TREE = {"root": "q_scope", "nodes": {
    "q_scope": {"type": "question", "text": "Is the printer offline for everyone?",
                "options": [{"label": "Everyone", "next": "a_driver"}, {"label": "One user", "next": "a_driver"}]},
    "a_driver": {"type": "action", "text": "Reinstall the printer driver", "next": "q_ok"},
    "q_ok": {"type": "question", "text": "Does it print now?",
             "options": [{"label": "Yes", "next": "r_done"}, {"label": "No", "next": "e_second"}]},
    "r_done": {"type": "resolution", "text": "Printing again"},
    "e_second": {"type": "escalation", "text": "Escalate to second line"},
}}


def add_account(db, slug: str) -> int:
    account = Account(slug=slug, name=slug.title(), settings={})
    db.add(account)
    db.flush()
    db.add(Flow(account_id=account.id, external_id="fl-printer", name="Printer offline", domain="printing",
                current_version=1, versions=[FlowVersion(version=1, tree=TREE)]))
    return account.id


def add_session(db, account_id: int, when: datetime, status: str, *, domain="printing", flow="fl-printer",
                tier="guided", summary="Printer offline", steps=()) -> None:
    session = Session(account_id=account_id, external_id=f"s-{next(_ids):05d}", created_at=when, status=status,
                      problem_domain=domain, matched_flow=flow, confidence_tier=tier, problem_summary=summary,
                      ended_at=None if status == "active" else when + timedelta(minutes=20))
    for seq, (kind, node, response, free, outcome) in enumerate(steps, start=1):
        session.steps.append(Step(seq=seq, step_type=kind, node_id=node, response=response, was_free_text=free,
                                  outcome=outcome, context_message=TREE["nodes"].get(node, {}).get("text"),
                                  created_at=when + timedelta(minutes=seq)))
    walk.mark(session)  # as the import does
    db.add(session)


def typed(answer):
    return ("question", "q_scope", answer, True, None)


PICKED = ("question", "q_scope", "Everyone", False, None)
DRIVER_OK = ("action", "a_driver", None, False, "succeeded")
DRIVER_FAILED = ("action", "a_driver", None, False, "failed")


def period_and_noise(db, account_id: int, other_id: int, make) -> None:
    """``make(when, account)`` in the period for this account, plus the same before the previous
    period, in the future and in another account: none of which may count."""
    make(NOW - 2 * DAY, account_id)
    make(NOW - 70 * DAY, account_id)
    make(NOW + DAY, account_id)
    make(NOW - 2 * DAY, other_id)


@pytest.fixture
def accounts(engine):
    with unit_of_work(engine) as db:
        return add_account(db, "acme"), add_account(db, "other")


def report(engine, account_id, **kwargs):
    with unit_of_work(engine) as db:
        return build_gap_report(db, account_id, days=30, now=NOW, **kwargs)


def gaps_of(result, gap_type):
    return [g for g in result.gaps if g.gap_type == gap_type]


def test_free_text_at_a_question_is_a_weak_options_gap_counting_only_this_account_and_period(engine, accounts):
    acme, other = accounts

    def make(when, account):
        for i in range(12):
            add_session(db, account, when, "resolved", steps=[typed("Only on the terminal server" + "." * (i % 2)),
                                                              DRIVER_OK])
        for _ in range(8):
            add_session(db, account, when, "resolved", steps=[PICKED, DRIVER_OK])

    with unit_of_work(engine) as db:
        period_and_noise(db, acme, other, make)
        for _ in range(2):  # the previous period: only behind the emerging flag
            add_session(db, acme, NOW - 40 * DAY, "resolved", steps=[typed("Only on the terminal server")])
    [gap] = gaps_of(report(engine, acme), "weak_options")
    e = gap.evidence
    assert (e["flow_id"], e["node_id"], e["responses"], e["free_text_count"]) == ("fl-printer", "q_scope", 20, 12)
    assert e["top_free_text_answers"] == [{"answer": "only on the terminal server", "count": 12}]
    assert type(e["responses"]) is int and type(e["free_text_rate"]) is float
    assert len(e["session_ids"]) == 12 and all(i.startswith("s-") for i in e["session_ids"])
    assert e["previous_period_free_text_count"] == 2
    assert gap.emerging is True  # 12 against 2


def test_no_gap_is_emerging_when_the_accounts_sessions_begin_after_the_previous_period_does(engine, accounts):
    acme, _ = accounts
    with unit_of_work(engine) as db:
        for _ in range(12):  # a new account: everything is "new", nothing has risen
            add_session(db, acme, NOW - 2 * DAY, "resolved", steps=[typed("Only on the terminal server")])
        for _ in range(8):
            add_session(db, acme, NOW - 2 * DAY, "resolved", steps=[PICKED])
    fresh = report(engine, acme)
    assert gaps_of(fresh, "weak_options") and not any(g.emerging for g in fresh.gaps)
    assert fresh.to_dict()["previous_period_covered"] is False
    with unit_of_work(engine) as db:
        add_session(db, acme, NOW - 61 * DAY, "resolved")  # history reaching back past the previous period
    older = report(engine, acme)
    assert older.previous_period_covered and gaps_of(older, "weak_options")[0].emerging


def test_a_tiny_sample_of_free_text_is_no_gap(engine, accounts):
    acme, _ = accounts
    with unit_of_work(engine) as db:
        for _ in range(3):
            add_session(db, acme, NOW - DAY, "resolved", steps=[typed("Only on the terminal server")])
    assert gaps_of(report(engine, acme), "weak_options") == []


def test_a_domain_escalating_far_above_the_account_is_high_escalation_and_active_sessions_do_not_count(engine, accounts):
    acme, other = accounts
    with unit_of_work(engine) as db:
        for i in range(18):
            add_session(db, acme, NOW - DAY, "escalated" if i < 12 else "resolved", domain="vpn", flow=None)
        for i in range(2):
            add_session(db, acme, NOW - DAY, "requesting_escalation", domain="vpn", flow=None)
        for _ in range(15):
            add_session(db, acme, NOW - DAY, "active", domain="vpn", flow=None)
        for i in range(60):
            add_session(db, acme, NOW - DAY, "escalated" if i < 6 else "resolved", domain="email", flow=None)
        for _ in range(30):
            add_session(db, other, NOW - DAY, "escalated", domain="email", flow=None)
            add_session(db, acme, NOW - 40 * DAY, "escalated", domain="email", flow=None)
    [gap] = gaps_of(report(engine, acme), "high_escalation")
    e = gap.evidence
    assert gap.domain == "vpn" and gap.severity == "high"
    assert (e["finished_sessions"], e["escalated"], e["requesting_escalation"]) == (20, 14, 2)
    assert e["account_escalation_rate"] == pytest.approx(20 / 80, abs=1e-4)
    assert len(e["session_ids"]) == 14


def test_discovery_resolutions_are_uncharted_and_paraphrased_problems_form_one_repeated_pattern(engine, accounts):
    acme, other = accounts
    paraphrases = ["Mapped drive disconnects after reboot", "S: drive shows a red X at login",
                   "Network drive not reconnecting after restart", "Mapped S: drive says unavailable every morning"]
    one_offs = ["Boardroom TV won't mirror from a MacBook", "Label printer prints blank labels",
                "Xero bank feed not updating"]
    with unit_of_work(engine) as db:
        for i in range(16):
            add_session(db, acme, NOW - DAY, "resolved", domain="server", flow=None, tier="discovery",
                        summary=paraphrases[i % 4])
        for text in one_offs:
            add_session(db, acme, NOW - DAY, "resolved", domain=None, flow=None, tier="discovery", summary=text)
        for _ in range(3):
            add_session(db, acme, NOW - DAY, "resolved", domain=None, flow=None, tier="discovery", summary="Help!!")
        for i in range(16):
            add_session(db, other, NOW - DAY, "resolved", domain="server", flow=None, tier="discovery",
                        summary=paraphrases[i % 4])
    result = report(engine, acme)
    uncharted = {g.domain: g for g in gaps_of(result, "uncharted_territory")}
    assert uncharted["server"].evidence["resolved_in_discovery"] == 16
    assert uncharted[None].evidence["resolved_in_discovery"] == 6  # no domain: reported, not dropped
    [pattern] = gaps_of(result, "repeated_pattern")
    e = pattern.evidence
    assert (e["sessions"], e["distinct_summaries"], pattern.domain) == (16, 4, "server")
    assert len(e["session_ids"]) == 16


def test_problems_worded_apart_but_resolved_the_same_specific_way_are_one_pattern(engine, accounts):
    acme, _ = accounts
    fix = "Disabled SIP ALG and opened the RTP range to the provider"
    with unit_of_work(engine) as db:
        for i, text in enumerate(["One-way audio on calls", "Caller can't hear us",
                                  "Desk phone audio only works one way"] * 4):
            add_session(db, acme, NOW - DAY, "resolved" if i < 9 else "escalated", domain="voip", flow=None,
                        tier="discovery", summary=text)
        db.flush()
        for session in db.scalars(select(Session).where(Session.status == "resolved")):
            session.resolution_summary = fix
    [pattern] = gaps_of(report(engine, acme), "repeated_pattern")
    e = pattern.evidence
    assert (e["sessions"], e["distinct_summaries"], e["resolved"]) == (12, 3, 9)
    assert e["common_fixes"] == [{"fix": fix.lower(), "count": 9}]
    assert len(e["session_ids"]) == 12


def test_failing_actions_and_dead_ends_are_found_on_flow_steps(engine, accounts):
    acme, other = accounts

    def make(when, account):
        for i in range(30):
            ok = i % 2 == 0
            steps = [PICKED, DRIVER_OK if ok else DRIVER_FAILED]
            if ok:
                steps.append(("question", "q_ok", "Yes", False, None))
            add_session(db, account, when, "resolved" if ok else ("abandoned" if i % 4 == 1 else "escalated"),
                        steps=steps)

    with unit_of_work(engine) as db:
        period_and_noise(db, acme, other, make)
        add_session(db, acme, NOW - DAY, "active", steps=[PICKED, DRIVER_FAILED])
        # A retried action is one session reaching the node, not two.
        add_session(db, acme, NOW - DAY, "escalated", steps=[PICKED, DRIVER_FAILED, DRIVER_FAILED])
        # Following the flow to its own escalation node is no dead end at the question before it.
        for _ in range(10):
            add_session(db, acme, NOW - DAY, "escalated", steps=[
                PICKED, DRIVER_OK, ("question", "q_ok", "No", False, None),
                ("escalation", "e_second", None, False, None)])
    result = report(engine, acme)
    [failing] = gaps_of(result, "failing_action")
    assert (failing.evidence["attempts"], failing.evidence["failed"]) == (43, 18)  # active sessions' steps count
    [dead_end] = gaps_of(result, "dead_end")
    e = dead_end.evidence
    assert (e["node_id"], e["sessions_reaching"], e["ended_here"]) == ("a_driver", 41, 16)
    assert e["escalated"] + e["abandoned"] == 16 and len(e["session_ids"]) == 16
    assert e["previous_period_ended_here"] == 0 and dead_end.emerging


def test_thresholds_are_saved_per_account_validated_and_used(engine, accounts):
    acme, other = accounts
    with unit_of_work(engine) as db:
        save_thresholds(db, acme, {"min_sample": 40})
    with unit_of_work(engine) as db:
        assert load_thresholds(db, acme).min_sample == 40
        assert load_thresholds(db, other) == DEFAULT_THRESHOLDS
        assert db.get(Account, acme).settings == {"gaps": {"min_sample": 40}}
        with pytest.raises(ThresholdError):
            save_thresholds(db, acme, {"min_sample": -1})
        for _ in range(20):
            add_session(db, acme, NOW - DAY, "resolved", steps=[typed("Only on the terminal server")])
    assert gaps_of(report(engine, acme), "weak_options") == []  # 20 answers < the account's 40


def test_the_gaps_command_prints_the_report_as_json_and_as_a_table(tmp_path):
    from core.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        acme = add_account(db, "acme")
        now = datetime.now(timezone.utc)
        for i in range(20):
            add_session(db, acme, now - DAY, "resolved",
                        steps=[typed("Only on the terminal server") if i < 10 else PICKED])
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "core", "gaps", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    result = run("--account", "acme", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"generated_at", "account", "period_days", "gaps"} <= set(data)
    assert (data["account"], data["period_days"]) == ("acme", 30)
    [gap] = data["gaps"]
    assert {"gap_type", "domain", "severity", "title", "description", "evidence", "suggested_action"} <= set(gap)
    assert gap["severity"] in ("high", "medium", "low") and len(gap["evidence"]["session_ids"]) == 10
    table = run("--account", "acme", "--days", "7")
    assert table.returncode == 0 and "weak_options" in table.stdout and "Action:" in table.stdout
    missing = run("--account", "nobody")
    assert missing.returncode == 1 and "no account" in missing.stderr


def test_session_ids_are_the_newest_first_on_both_databases(engine, accounts):
    acme, _ = accounts
    with unit_of_work(engine) as db:
        for hours in range(20):
            add_session(db, acme, NOW - timedelta(hours=5 + hours * 7, microseconds=hours),
                        "resolved", steps=[typed("Only on the terminal server")])
    [gap] = gaps_of(report(engine, acme), "weak_options")
    with unit_of_work(engine) as db:
        started = dict(db.query(Session.external_id, Session.created_at).filter(Session.account_id == acme).all())
    ids = gap.evidence["session_ids"]
    assert len(ids) == 20 and [started[i] for i in ids] == sorted(started.values(), reverse=True)


def test_the_gaps_csv_export_has_one_row_per_gap_with_the_evidence_flattened(engine, accounts):
    import csv
    import io

    from core.commands import OPERATOR
    from core.exports.catalog import account_request, write_export

    acme, _ = accounts
    with unit_of_work(engine) as db:
        for i in range(20):
            add_session(db, acme, NOW - DAY, "resolved",
                        steps=[typed("=cmd|' /C calc'!A0") if i < 10 else PICKED])
    out = io.StringIO(newline="")
    with unit_of_work(engine) as db:
        rows = write_export(db, OPERATOR, "gaps", account_request(db, "acme", 30, NOW), out)
    assert rows == 1
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["gap_type"], row["node_id"], row["count"], row["sample"]) == ("weak_options", "q_scope", "10", "20")
    assert row["details"] == "'=cmd|' /c calc'!a0 (10)"  # normalised, and neutralised for spreadsheets
    assert len(row["session_ids"].split()) == 10


def test_step_gaps_without_a_node_list_their_sessions_newest_first_whatever_the_wording(engine, accounts):
    """Session ids are read per gap kept (not gathered in the step pass): a question the copilot
    improvised (no node) is found by its text in any wording that normalises alike, and only this
    period's sessions with a typed answer (or a failed attempt) are listed."""
    acme, other = accounts
    wordings = ["Which VPN client?", "which vpn client?  ", "Which  VPN client?"]

    def improvised(answer, free, outcome="succeeded", text="Which VPN client?"):
        return [("question", None, text, answer, free, None), ("action", None, "Reset the VPN profile", None, False, outcome)]

    def add(account, when, steps, summary="VPN down"):
        session = Session(account_id=account, external_id=f"s-{next(_ids):05d}", created_at=when, status="resolved",
                          problem_domain="vpn", matched_flow=None, confidence_tier="discovery", problem_summary=summary,
                          ended_at=when + timedelta(minutes=20))
        for seq, (kind, node, text, response, free, outcome) in enumerate(steps, start=1):
            session.steps.append(Step(seq=seq, step_type=kind, node_id=node, context_message=text, response=response,
                                      was_free_text=free, outcome=outcome, created_at=when + timedelta(minutes=seq)))
        db.add(session)
        return session.external_id

    with unit_of_work(engine) as db:
        typed_ids = [add(acme, NOW - timedelta(hours=3 + i, microseconds=i),
                         improvised("GlobalProtect", True, "failed" if i % 3 else "succeeded", wordings[i % 3]))
                     for i in range(12)]
        for i in range(8):
            add(acme, NOW - timedelta(hours=40 + i), improvised("FortiClient", False))
        add(acme, NOW - 45 * DAY, improvised("GlobalProtect", True, "failed"))  # previous period
        add(other, NOW - DAY, improvised("GlobalProtect", True, "failed"))  # another account
    result = report(engine, acme)
    [weak] = gaps_of(result, "weak_options")
    assert weak.evidence["node_id"] is None and weak.evidence["free_text_count"] == 12
    assert weak.evidence["session_ids"] == typed_ids  # newest first, every wording
    assert weak.evidence["previous_period_free_text_count"] == 1
    [failing] = gaps_of(result, "failing_action")
    assert (failing.evidence["attempts"], failing.evidence["failed"]) == (20, 8)
    assert failing.evidence["session_ids"] == [sid for i, sid in enumerate(typed_ids) if i % 3]


def test_on_a_small_account_the_issues_cases_are_rated_as_a_manager_would(engine, accounts):
    """About 225 sessions in the month, a quarter escalated (issue 14): a domain escalating 10 of
    its 20 finished sessions is medium, not low; a domain with no flow whose 7 resolved sessions
    were all solved in discovery is medium; 3 discovery resolutions are listed, at low."""
    acme, _ = accounts
    with unit_of_work(engine) as db:
        for i in range(20):
            add_session(db, acme, NOW - DAY, "escalated" if i < 10 else "resolved", domain="vpn", flow=None)
        for _ in range(7):
            add_session(db, acme, NOW - DAY, "resolved", domain="backup", flow=None, tier="discovery",
                        summary="Backup job failed")
        for _ in range(3):
            add_session(db, acme, NOW - DAY, "resolved", domain="printing", flow=None, tier="discovery",
                        summary="Printer offline")
        for i in range(195):  # escalated 46 + 10 = 56 of 225: the account's 25%
            add_session(db, acme, NOW - 2 * DAY, "escalated" if i < 46 else "resolved", domain="email", flow=None,
                        summary=f"Mailbox problem {i}")
    result = report(engine, acme)
    escalation = {g.domain: g for g in gaps_of(result, "high_escalation")}
    assert escalation["vpn"].severity == "medium"
    assert escalation["vpn"].evidence["account_escalation_rate"] == pytest.approx(56 / 225, abs=1e-4)
    uncharted = {g.domain: g for g in gaps_of(result, "uncharted_territory")}
    assert uncharted["backup"].severity == "medium" and uncharted["backup"].evidence["published_flows"] == 0
    assert uncharted["printing"].severity == "low" and uncharted["printing"].evidence["resolved_in_discovery"] == 3
    assert all(g.evidence["severity_reason"].startswith(g.severity.title()) for g in result.gaps)


PARAPHRASES = Path(__file__).resolve().parents[1] / "data" / "paraphrase_families.json"


def test_a_paraphrase_family_stored_as_sessions_is_one_repeated_pattern_and_vague_summaries_a_count(engine, accounts):
    """The Teams family of the evaluation set, each wording one resolved session with its fix and
    improvised steps, among one-offs (two of them about Teams too) and "see ticket" sessions."""
    from core.gaps import queries

    acme, other = accounts
    data = json.loads(PARAPHRASES.read_text(encoding="utf-8"))
    [teams] = [f for f in data["families"] if f["id"] == "teams-wont-open"]
    one_offs = [o for o in data["one_offs"] if o["domain"] in ("collaboration", "hardware", "email")]
    with unit_of_work(engine) as db:
        for account in (acme, other):
            for item in teams["items"]:
                add_session(db, account, NOW - DAY, "resolved", domain="collaboration", flow=None, tier="discovery",
                            summary=item["summary"])
        for item in one_offs:
            add_session(db, acme, NOW - 2 * DAY, "resolved", domain=item["domain"], flow=None, tier="discovery",
                        summary=item["summary"])
        for text in ("see ticket", "See ticket", "as per call", "User says it's not working"):
            add_session(db, acme, NOW - DAY, "escalated", domain=None, flow=None, summary=text)
        add_session(db, acme, NOW - 40 * DAY, "escalated", domain=None, flow=None, summary="see ticket")  # previous
        for text in ("Printer offline", "Printer shows offline on all PCs", "Print jobs stuck in queue"):
            add_session(db, acme, NOW - DAY, "resolved", summary=text)  # matched: vocabulary, not patterns
        db.flush()
        by_summary = {item["summary"]: item for item in teams["items"]}
        for session in db.scalars(select(Session).where(Session.account_id == acme, Session.matched_flow.is_(None))):
            item = by_summary.get(session.problem_summary)
            if item is None:
                continue
            session.resolution_summary = item["resolution"]
            for seq, text in enumerate(item.get("steps", ()), start=1):
                session.steps.append(Step(seq=seq, step_type="action", node_id=None, context_message=text,
                                          outcome="succeeded", created_at=session.created_at))
        family_ids = {s.external_id for s in db.scalars(select(Session).where(
            Session.account_id == acme, Session.problem_summary.in_(list(by_summary))))}
    result = report(engine, acme)
    [pattern] = gaps_of(result, "repeated_pattern")
    e = pattern.evidence
    # Seven of the eight wordings at least ("user says Teams just spins" has no fix to go by), and
    # nothing else: not the Teams one-offs, not the laptop complaints.
    assert e["sessions"] == e["distinct_summaries"] >= 7 and pattern.domain == "collaboration"
    assert set(e["session_ids"]) <= family_ids and len(e["session_ids"]) == e["sessions"]
    assert "teams" in e["terms"]
    assert result.non_informative_sessions == 4 and result.to_dict()["non_informative_sessions"] == 4
    assert "4 sessions" in result.data_quality_note()

    period = Period.last_days(30, NOW)
    with unit_of_work(engine) as db:
        steps = queries.read_unmatched_improvised_steps(db, acme, period)
        matched = queries.read_matched_summaries(db, acme, period)
    assert sorted((s.summary, s.step, s.sessions) for s in steps) == sorted(
        (item["summary"].lower(), text.lower(), 1) for item in teams["items"] for text in item.get("steps", ()))
    assert sorted((m.flow_id, m.summary) for m in matched) == [
        ("fl-printer", "print jobs stuck in queue"), ("fl-printer", "printer offline"),
        ("fl-printer", "printer shows offline on all pcs")]
