"""Intervals and verdicts of the impact report on hand-worked numbers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.impact.queries import VersionRow
from core.impact.report import plan_changes, prediction
from core.impact.stats import bootstrap_median_difference, newcombe, wilson
from core.impact.verdicts import Outcomes, escalation_change, outcomes_from_statuses, resolution_change, verdict


def test_the_wilson_interval_matches_newcombes_worked_example():
    # Newcombe 1998 (Statistics in Medicine 17:857-872), example 81/263: Wilson score 0.2553 to 0.3662.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_the_wilson_interval_of_nothing_is_none_and_of_all_reaches_one():
    assert wilson(0, 0) is None
    # 10/10 with z² = 3.8415: centre (1 + z²/20)/(1 + z²/10) = 1.19207/1.38415, half-width
    # z·sqrt(z²/400)/(1 + z²/10) = 0.19207/1.38415; upper end 1.38415/1.38415 = 1, lower 1/1.38415 = 0.7225.
    low, high = wilson(10, 10)
    assert high == pytest.approx(1.0) and round(low, 4) == 0.7225


@pytest.mark.parametrize("counts, expected", [
    # Newcombe 1998, Table II, method 10 (score interval, hybrid), for p1 − p2:
    ((56, 70, 48, 80), (0.0524, 0.3339)),   # (a) 56/70 − 48/80
    ((9, 10, 3, 10), (0.1705, 0.8090)),     # (b) 9/10 − 3/10
    ((6, 7, 2, 7), (0.0582, 0.8062)),       # (c) 6/7 − 2/7
    ((5, 56, 0, 29), (-0.0381, 0.1926)),    # (d) 5/56 − 0/29
    ((0, 10, 0, 20), (-0.1611, 0.2775)),    # (e) 0/10 − 0/20
    ((10, 10, 0, 20), (0.6791, 1.0000)),    # (h) 10/10 − 0/20
])
def test_newcombes_interval_reproduces_the_papers_table(counts, expected):
    low, high = newcombe(*counts)
    assert (round(low, 4), round(high, 4)) == expected


def test_newcombes_interval_is_none_when_a_side_has_no_sessions():
    assert newcombe(3, 10, 0, 0) is None and newcombe(0, 0, 3, 10) is None


def test_the_bootstrap_of_identical_values_is_the_exact_difference():
    # Every resample of [10, 10, 10] has median 10 and of [4, 4] median 4: the interval is [6, 6].
    assert bootstrap_median_difference([10.0] * 3, [4.0] * 2) == (6.0, (6.0, 6.0))


def test_the_bootstrap_is_deterministic_and_brackets_the_observed_difference():
    after, before = [float(x) for x in range(10, 60)], [float(x) for x in range(20, 90)]
    first = bootstrap_median_difference(after, before)
    assert first == bootstrap_median_difference(after, before)
    delta, (low, high) = first
    # medians 34.5 and 54.5: −20, and the interval lies around it, entirely below zero.
    assert delta == -20.0 and low <= delta <= high < 0


def test_the_bootstrap_needs_both_sides():
    assert bootstrap_median_difference([], [1.0]) is None


NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
LONG_AGO = NOW - timedelta(days=40)


def outcomes(finished: int, resolved: int, escalated: int) -> Outcomes:
    return Outcomes(sessions=finished, finished=finished, resolved=resolved, escalated=escalated)


def judge(before: Outcomes, after: Outcomes, published=LONG_AGO, account=(None, None)) -> str:
    return verdict(after, resolution_change(before, after), escalation_change(before, after), published, NOW, *account)


def test_statuses_become_outcomes_with_requests_for_escalation_counted_as_escalations():
    side = outcomes_from_statuses({"resolved": 5, "escalated": 2, "requesting_escalation": 1, "abandoned": 1, "active": 3})
    assert (side.sessions, side.finished, side.resolved, side.escalated, side.abandoned) == (12, 9, 5, 3, 1)
    assert side.escalation_rate == 3 / 9


def test_fewer_than_twenty_finished_sessions_after_is_too_early():
    # 19 finished after, however clear the change.
    assert judge(outcomes(100, 10, 90), outcomes(19, 19, 0)) == "too_early"


def test_less_than_seven_days_live_is_too_early():
    assert judge(outcomes(100, 10, 90), outcomes(100, 100, 0), published=NOW - timedelta(days=6, hours=23)) == "too_early"


def test_escalations_falling_clearly_is_improved():
    # Escalation 48/80 (0.60) → 14/70 (0.20): Newcombe interval about (−0.52, −0.26), wholly below 0.
    # Resolution 32/80 → 56/70 rises just as clearly: improved.
    assert judge(outcomes(80, 32, 48), outcomes(70, 56, 14)) == "improved"


def test_an_interval_that_straddles_zero_is_no_clear_change():
    # 5/56 vs 0/29 escalations (table row d): (−0.038, 0.193) straddles 0; resolutions 51/56 vs 29/29 too.
    assert judge(outcomes(29, 29, 0), outcomes(56, 51, 5)) == "no_clear_change"


def test_escalations_rising_clearly_is_worse_even_if_resolutions_rise_too():
    # Escalations 0/80 → 30/70 (abandonment fell): worse wins over better.
    assert judge(Outcomes(80, 80, 20, 0, 60), Outcomes(70, 70, 40, 30, 0)) == "worse"


def test_a_flow_that_improved_only_as_much_as_the_account_is_not_improved():
    # Resolution 32/80 → 56/70: delta 0.40, interval about (0.25, 0.52). The whole account's
    # resolution rate rose by 0.45 and its escalation rate fell by 0.45 over the same windows:
    # both intervals contain the account's change, so the flow did nothing special.
    before, after = outcomes(80, 32, 48), outcomes(70, 56, 14)
    assert judge(before, after, account=(0.45, -0.45)) == "no_clear_change"
    # The same flow against an account that moved by 0.10 beats it.
    assert judge(before, after, account=(0.10, -0.10)) == "improved"


def test_a_flow_that_improved_less_than_the_account_did_not_get_worse():
    # The same flow against an account that moved by 0.70 each way: the flow's intervals lie on the
    # bad side of the account's change but on the good side of zero: no verdict either way.
    assert judge(outcomes(80, 32, 48), outcomes(70, 56, 14), account=(0.70, -0.70)) == "no_clear_change"


def row(flow_pk: int, version: int, source: str = "import", domain: str | None = "email",
        published_at: datetime = LONG_AGO) -> VersionRow:
    return VersionRow(flow_pk, f"fl-{flow_pk}", "Flow", domain, version, published_at, source, None, None, None, None)


def test_every_version_after_the_first_is_a_change_and_an_imported_first_version_is_not():
    plans = plan_changes([row(1, 1), row(1, 2), row(1, 3), row(2, 1, source="proposal")], 30, NOW)
    assert [(p.row.flow_pk, p.row.version, p.previous_version, p.compared) for p in plans] == [
        (1, 2, 1, "flow"), (1, 3, 2, "flow"), (2, 1, None, "domain")]


def test_the_after_window_ends_now_when_the_version_is_younger_than_the_window():
    [plan] = plan_changes([row(1, 1), row(1, 2, published_at=NOW - timedelta(days=3, hours=-5))], 30, NOW)
    # Windows start on whole UTC days: the publication's day, 28 Nov.
    assert (plan.start, plan.published_at, plan.end) == (NOW - timedelta(days=33), NOW - timedelta(days=3), NOW)


def test_a_proposal_whose_sessions_typed_answers_predicts_fewer_typed_answers():
    diff = {"options_added": [{"node": "q_client", "label": "New Outlook", "next": "a1"}],
            "evidence": {"answers": {"New Outlook": 5, "new outlook app": 2}}}
    predicted = prediction(diff, 8)
    assert (predicted.typed_answers, predicted.nodes, predicted.top_answer) == (7, ("q_client",), "New Outlook")
    # Where, in the answer the admin approved, not a node id.
    assert "7 of its 8 supporting sessions typed an answer at the question the change gave the answer “New Outlook”" in predicted.text


def test_a_version_without_a_proposal_predicts_nothing():
    assert prediction(None, None) is None


def test_account_wide_windows_sum_the_days_they_cover_and_no_other():
    from core.impact.report import account_windows

    [plan] = plan_changes([row(1, 1), row(1, 2, published_at=NOW - timedelta(days=10, minutes=30))], 2, NOW)
    # Published 20 Nov 23:30, a 2-day window: before [18 Nov, 20 Nov), after [20 Nov, 22 Nov) in whole UTC days.
    days = [("2026-11-17", "resolved", 100),   # before the before window: not counted
            ("2026-11-18", "resolved", 3), ("2026-11-19", "escalated", 2),   # before
            ("2026-11-20", "resolved", 5), ("2026-11-21", "abandoned", 1),   # after
            ("2026-11-22", "resolved", 100)]   # after the after window: not counted
    counts = account_windows([plan], days)
    assert counts["0:B"] == {("resolved", False): 3, ("escalated", False): 2}
    assert counts["0:A"] == {("resolved", False): 5, ("abandoned", False): 1}


def test_an_after_window_ending_today_takes_the_whole_day_so_far():
    from core.impact.report import account_windows

    now = NOW + timedelta(hours=15)
    [plan] = plan_changes([row(1, 1), row(1, 2, published_at=now - timedelta(days=3))], 30, now)
    assert plan.end == now
    counts = account_windows([plan], [("2026-12-01", "resolved", 4)])
    assert counts["0:A"] == {("resolved", False): 4}


def test_the_questions_a_change_touched_come_from_the_two_published_trees_whatever_their_source():
    from types import SimpleNamespace

    from core.impact.detail import touched_questions

    old = {"root": "q_client", "nodes": {
        "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                     "options": [{"label": "Classic", "next": "a_ost"}]},
        "a_ost": {"type": "action", "text": "Rebuild the OST", "next": None}}}
    new = {"root": "q_client", "nodes": {
        "q_client": {"type": "question", "text": "Which Outlook is the user on?",
                     "options": [{"label": "Classic", "next": "a_ost"}, {"label": "New Outlook", "next": "a_new"}]},
        "a_ost": {"type": "action", "text": "Rebuild the OST and wait for the mailbox to sync again", "next": None},
        "a_new": {"type": "action", "text": "Switch back to classic Outlook", "next": None}}}
    imported = SimpleNamespace(version=2, previous_version=1, touched_nodes=())
    # The new option's question counts; the reworded action is no question, so it has no typed answers.
    assert touched_questions(imported, {1: old, 2: new}) == (("q_client", "Which Outlook is the user on?"),)
    # Without the earlier tree (published before the import), the proposal's diff says which nodes.
    from_proposal = SimpleNamespace(version=2, previous_version=1, touched_nodes=("q_client",))
    assert touched_questions(from_proposal, {2: new}) == (("q_client", "Which Outlook is the user on?"),)


def test_a_long_question_is_cut_at_a_word_so_its_row_name_fits_the_column():
    from types import SimpleNamespace

    from core.impact.detail import QUESTION_CHARS, touched_questions

    text = "Where is the account locked: on-premises AD or Entra ID (Microsoft 365)?"
    tree = {"root": "q", "nodes": {"q": {"type": "question", "text": text, "options": []}}}
    [(_, shown)] = touched_questions(SimpleNamespace(version=2, previous_version=None, touched_nodes=("q",)), {2: tree})
    assert shown == "Where is the account locked: on-premises AD …"
    assert len(shown) <= QUESTION_CHARS + 2
