"""Templates are ranked for a session or a typed problem, deterministically, with reasons."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.scripts import load_library, rank_templates, session_query


@pytest.fixture(scope="module")
def library():
    return load_library(extra_dir="")


def top_ids(library, text, domain=None, limit=3):
    return [m.template.id for m in rank_templates(library, text, domain, limit)]


@pytest.mark.parametrize("text, domain, first", [
    ("printer offline jobs stuck", None, "clear-print-queue"),
    ("user locked out", None, "ad-unlock-account"),
    ("User is locked out of their account again", "identity", "ad-unlock-account"),
    ("account keeps getting locked out every morning", None, "ad-lockout-source"),
    ("windows update failing with error 0x80070002", None, "reset-windows-update"),
    ("mailbox full cannot send", "email", "exo-mailbox-size"),
    ("teams not loading, white screen", None, "reset-teams-cache"),
    ("backup failed with VSS writer error", "backup", "vss-writer-health"),
    ("no space left on device", "server", "linux-disk-usage"),
    ("website certificate expired", None, "tls-certificate-expiry"),
    ("vpn not connecting", "vpn", "windows-vpn-status"),
])
def test_a_realistic_problem_ranks_the_right_template_first(library, text, domain, first):
    assert top_ids(library, text, domain)[0] == first


def test_outlook_asking_for_a_password_ranks_the_credential_and_profile_templates_first(library):
    assert set(top_ids(library, "outlook keeps asking for password", limit=2)) == {
        "clear-office-credentials", "rebuild-outlook-profile"}


def test_a_port_test_ranks_both_shells_versions_first(library):
    assert set(top_ids(library, "cannot reach tcp port 3389, firewall?", limit=2)) == {
        "test-port-windows", "test-port-bash"}


def test_each_match_says_why(library):
    match = rank_templates(library, "printer offline jobs stuck", "printing")[0]
    assert 0 < match.score
    assert "domain: printing" in match.why
    assert any("stuck" in reason for reason in match.why)


def test_the_domain_boost_lifts_templates_of_the_session_s_domain(library):
    plain = {m.template.id: m.score for m in rank_templates(library, "disk full", None, limit=50)}
    boosted = {m.template.id: m.score for m in rank_templates(library, "disk full", "server", limit=50)}
    assert boosted["linux-disk-usage"] > plain["linux-disk-usage"]
    assert boosted["windows-disk-space"] == plain["windows-disk-space"]


def test_ranking_is_deterministic(library):
    runs = [[(m.template.id, m.score) for m in rank_templates(library, "slow network and dns", None, 10)]
            for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]


def test_unrelated_text_matches_nothing_and_a_limit_is_respected(library):
    assert rank_templates(library, "zzzz qqqq", None) == []
    assert rank_templates(library, "", None) == []
    assert len(rank_templates(library, "disk space logs server backup", None, limit=2)) == 2


def test_a_domain_alone_suggests_that_domain_s_templates(library):
    matches = rank_templates(library, "", "printing", limit=10)
    assert matches and {m.template.domain for m in matches} == {"printing"}


def test_a_session_is_ranked_by_its_summary_domain_and_steps(library):
    session = SimpleNamespace(
        problem_summary="Jobs stuck in the queue", problem_domain="printing",
        steps=[SimpleNamespace(context_message="Is the printer showing offline?", response="yes, offline"),
               SimpleNamespace(context_message=None, response=None)])
    text, domain = session_query(session)
    assert domain == "printing"
    assert "Jobs stuck" in text and "offline" in text
    assert top_ids(library, text, domain)[0] == "clear-print-queue"
