"""Knowledge-gap rules on hand-made rows: no database, one rule at a time."""

from __future__ import annotations

import pytest

from core.gaps import signals
from core.gaps.clustering import TextCount, cluster_texts, normalise
from core.gaps.queries import DomainRow, FlowInfo, StepRow, StopRow, SummaryRow
from core.gaps.severity import judge_rate
from core.gaps.thresholds import (
    DEFAULT_THRESHOLDS, GapThresholds, ThresholdError, thresholds_from_overrides,
)

T = DEFAULT_THRESHOLDS
PRINTER = FlowInfo("fl-printer", "Printer offline", "printing", {
    "root": "q_scope",
    "nodes": {
        "q_scope": {"type": "question", "text": "One user or everyone?",
                    "options": [{"label": "One user", "next": "a_driver"}, {"label": "Everyone", "next": "e"}]},
        "a_driver": {"type": "action", "text": "Reinstall the printer driver", "next": "r"},
        "r": {"type": "resolution", "text": "Printing again"},
        "e": {"type": "escalation", "text": "Escalate"},
    }})
FLOWS = {"fl-printer": PRINTER}


def question(free_answer=None, *, responses=0, free=0, current=True, node="q_scope", flow="fl-printer", key=None):
    return StepRow(flow, node, key, "question", current, free_answer, responses, responses, free, 0, 0,
                   "One user or everyone?")


def action(*, failed=0, succeeded=0, current=True, node="a_driver", flow="fl-printer", key=None):
    return StepRow(flow, node, key, "action", current, None, failed + succeeded, 0, 0, failed, succeeded,
                   "Reinstall the printer driver")


# --- statistics -------------------------------------------------------------------------------------

def test_the_wilson_interval_is_wide_for_small_samples_and_narrow_for_large_ones():
    small_low, small_high = signals.wilson_interval(2, 2)
    large_low, large_high = signals.wilson_interval(700, 1000)
    assert small_low == pytest.approx(0.342, abs=0.001) and small_high == 1.0
    assert large_high - large_low < 0.06
    assert signals.wilson_interval(0, 0) == (0.0, 1.0)


def test_two_escalations_out_of_two_is_not_high_severity_but_fourteen_of_twenty_is():
    bands = (T.escalation_low, T.escalation_medium, T.escalation_high)
    assert judge_rate(2, 2, 0.1, bands, T, 100, "escalations", "10%") is None  # below the minimum sample
    assert judge_rate(2, 2, 0.1, bands, GapThresholds(min_sample=1), 100, "escalations", "10%").severity != "high"
    assert judge_rate(14, 20, 0.1, bands, T, 100, "escalations", "10%").severity == "high"


def test_the_emerging_flag_needs_a_sharp_rise_and_enough_volume():
    assert signals.is_emerging(12, 3, T)
    assert signals.is_emerging(6, 0, T)
    assert not signals.is_emerging(12, 8, T)
    assert not signals.is_emerging(4, 0, T)  # too few to call a trend


# --- weak_options -----------------------------------------------------------------------------------

def test_a_question_answered_in_free_text_often_is_a_weak_options_gap_with_its_typed_answers():
    rows = [
        question(responses=40),
        question("only on the terminal server", responses=14, free=14),
        question("only on the terminal server.", responses=2, free=2),  # normalised into the same answer
        question("only for rds users", responses=4, free=4),
        question("only on the terminal server", responses=1, free=1, current=False),
    ]
    [gap] = signals.weak_options(rows, FLOWS, T)
    assert gap.gap_type == "weak_options" and gap.domain == "printing"
    e = gap.evidence
    assert (e["flow_id"], e["node_id"], e["question"]) == ("fl-printer", "q_scope", "One user or everyone?")
    assert e["options"] == ["One user", "Everyone"]
    assert (e["responses"], e["free_text_count"], e["free_text_rate"]) == (60, 20, pytest.approx(0.3333, abs=1e-4))
    assert e["top_free_text_answers"][0] == {"answer": "only on the terminal server", "count": 16}
    assert e["previous_period_free_text_count"] == 1
    assert gap.emerging
    assert "only on the terminal server" in gap.suggested_action and "q_scope" in gap.suggested_action


def test_free_text_at_a_step_without_a_node_is_grouped_by_its_normalised_question():
    rows = [question(None, responses=10, node=None, flow=None, key="which vpn client?"),
            question("globalprotect", responses=8, free=8, node=None, flow=None, key="which vpn client? ")]
    [gap] = signals.weak_options(rows, FLOWS, T)
    assert gap.evidence["node_id"] is None and gap.evidence["responses"] == 18


def test_rare_free_text_and_tiny_samples_are_not_weak_options_gaps():
    rare = [question(responses=200), question("x", responses=3, free=3)]
    tiny = [question("only on the terminal server", responses=3, free=3)]
    assert signals.weak_options(rare, FLOWS, T) == []
    assert signals.weak_options(tiny, FLOWS, T) == []


# --- failing_action -----------------------------------------------------------------------------------

def test_an_action_that_fails_half_the_time_is_a_failing_action_gap():
    [gap] = signals.failing_actions([action(failed=25, succeeded=25), action(failed=2, succeeded=30, current=False)],
                                    FLOWS, T)
    assert gap.severity in ("high", "medium")
    assert (gap.evidence["attempts"], gap.evidence["failed"], gap.evidence["previous_period_failed"]) == (50, 25, 2)
    assert gap.emerging


def test_an_action_that_rarely_fails_is_not_a_gap():
    assert signals.failing_actions([action(failed=2, succeeded=48)], FLOWS, T) == []


# --- dead_end -------------------------------------------------------------------------------------------

def test_a_node_where_many_sessions_stop_is_a_dead_end_and_says_how_they_ended():
    reached = {("fl-printer", "a_driver"): 30, ("fl-printer", "q_scope"): 60}
    stops = [StopRow("fl-printer", "a_driver", "abandoned", True, 12),
             StopRow("fl-printer", "a_driver", "escalated", True, 3),
             StopRow("fl-printer", "q_scope", "escalated", True, 2),
             StopRow("fl-printer", "a_driver", "abandoned", False, 1)]
    [gap] = signals.dead_ends(reached, stops, FLOWS, T)
    e = gap.evidence
    assert (e["node_id"], e["ended_here"], e["abandoned"], e["escalated"], e["sessions_reaching"]) == ("a_driver", 15, 12, 3, 30)
    assert "walk away" in gap.suggested_action
    assert e["previous_period_ended_here"] == 1 and gap.emerging


def test_a_few_stops_at_a_busy_node_are_not_a_dead_end():
    reached = {("fl-printer", "a_driver"): 400}
    stops = [StopRow("fl-printer", "a_driver", "escalated", True, 6)]
    assert signals.dead_ends(reached, stops, FLOWS, T) == []


# --- high_escalation and uncharted_territory -----------------------------------------------------------

def domain_rows(domain, resolved, escalated, *, tier="guided", current=True, active=0):
    rows = [DomainRow(domain, "resolved", tier, tier == "discovery", current, resolved),
            DomainRow(domain, "escalated", "guided", False, current, escalated)]
    if active:
        rows.append(DomainRow(domain, "active", "guided", False, current, active))
    return rows


def test_a_domain_escalating_far_more_than_the_account_is_a_high_escalation_gap():
    rows = [*domain_rows("vpn", 6, 14, active=50), *domain_rows("email", 180, 20),
            *domain_rows("vpn", 10, 2, current=False)]
    [gap] = signals.high_escalation(rows, T)
    assert gap.domain == "vpn" and gap.severity == "high"
    assert gap.evidence["finished_sessions"] == 20  # active sessions are not outcomes
    assert gap.evidence["account_escalation_rate"] == pytest.approx(34 / 220, abs=1e-4)
    assert gap.emerging


def test_a_domain_at_the_account_rate_is_not_a_high_escalation_gap():
    rows = [*domain_rows("vpn", 60, 40), *domain_rows("email", 60, 40)]
    assert signals.high_escalation(rows, T) == []


def test_resolved_discovery_sessions_are_uncharted_territory_and_no_domain_is_reported_as_such():
    rows = [*domain_rows("server", 20, 0, tier="discovery"), *domain_rows(None, 6, 0, tier="discovery"),
            *domain_rows("email", 3, 0, tier="discovery")]
    gaps = {g.domain: g for g in signals.uncharted_territory(rows, FLOWS, T)}
    assert set(gaps) == {"server", None, "email"}  # three are listed, as FlowPilot's original service did
    assert gaps["server"].severity == "high" and gaps["server"].evidence["resolved_in_discovery"] == 20
    assert gaps["email"].severity == "low" and gaps[None].severity == "medium"
    assert "no recognised domain" in gaps[None].title


# --- repeated_pattern and clustering ---------------------------------------------------------------------

MAPPED_DRIVE = ["Mapped drive disconnects after reboot", "S: drive shows a red X at login",
                "Network drive not reconnecting after restart", "Mapped S: drive says unavailable every morning"]
ONE_OFFS = ["Boardroom TV won't mirror from a MacBook", "Label printer prints blank labels",
            "Excel macro throws runtime error 1004", "Xero bank feed not updating",
            "Webcam image upside down in Teams", "Guest Wi-Fi captive portal not showing"]


def test_paraphrases_of_one_problem_cluster_together_and_one_offs_stay_alone():
    items = [TextCount(normalise(t), 3) for t in MAPPED_DRIVE + ONE_OFFS]
    clusters = cluster_texts(items, T.cluster_distance, min_count=1)
    by_size = sorted(clusters, key=lambda c: -len(c.members))
    assert sorted(items[i].text for i in by_size[0].members) == sorted(normalise(t) for t in MAPPED_DRIVE)
    assert all(len(c.members) == 1 for c in by_size[1:])
    assert "mapped drive" in by_size[0].terms


def test_the_local_c_drive_filling_up_is_not_a_mapped_drive_problem():
    disk = ["C: drive full", "C: drive full, can't save files", "C: drive nearly full"]
    items = [TextCount(normalise(t), 3) for t in MAPPED_DRIVE + disk]
    clusters = cluster_texts(items, T.cluster_distance, min_count=1)
    groups = sorted(sorted(items[i].text for i in c.members) for c in clusters)
    assert groups == sorted([sorted(normalise(t) for t in MAPPED_DRIVE), sorted(normalise(t) for t in disk)])


ONE_WAY_AUDIO = ["One-way audio on calls", "Caller can't hear us", "Desk phone audio only works one way"]
SIP_FIX = "disabled sip alg and opened the rtp range to the provider"


def _clusters(texts, fixes):
    items = [TextCount(normalise(t), 6) for t in texts]
    clusters = cluster_texts(items, T.cluster_distance, min_count=1, fixes=fixes)
    return sorted(sorted(items[i].text for i in c.members) for c in clusters)


def test_paraphrases_sharing_no_words_join_when_the_same_specific_fix_resolved_them():
    assert len(_clusters(ONE_WAY_AUDIO, [{}, {}, {}])) == 3  # words alone cannot tell
    assert _clusters(ONE_WAY_AUDIO, [{SIP_FIX: 5}, {SIP_FIX: 4, "rebooted the phone": 2}, {SIP_FIX: 3}]) == [
        sorted(normalise(t) for t in ONE_WAY_AUDIO)]


def test_a_generic_short_or_minor_fix_joins_nothing():
    generic = [{"rebooted the pc": 5}] * 2
    assert all(len(c) == 1 for c in _clusters(ONE_OFFS[:2], generic))  # too short to be specific
    specific_everywhere = [{"cleared the cache and restarted the application": 5}] * len(ONE_OFFS)
    assert all(len(c) == 1 for c in _clusters(ONE_OFFS, specific_everywhere))  # common to too many
    minor = [{SIP_FIX: 3, "updated the airplay receiver firmware in the boardroom": 12},
             {SIP_FIX: 3, "recalibrated the label printer media sensor": 12}]  # a quarter is the least
    assert len(_clusters(ONE_OFFS[:2], minor)) == 2


def test_a_repeated_pattern_lists_the_fixes_that_resolved_it():
    rows = [SummaryRow(t.lower(), "voip", True, 6, 5, SIP_FIX) for t in ONE_WAY_AUDIO]
    rows.append(SummaryRow(ONE_WAY_AUDIO[0].lower(), "voip", True, 2, 1, "replaced the handset cable"))
    [gap] = signals.repeated_patterns(rows, T)
    assert gap.evidence["sessions"] == 20 and gap.evidence["distinct_summaries"] == 3
    assert gap.evidence["common_fixes"] == [{"fix": SIP_FIX, "count": 15},
                                            {"fix": "replaced the handset cable", "count": 1}]


def test_summaries_that_say_nothing_are_never_clustered_even_alone():
    items = [TextCount(t, 50) for t in ("help!!", "please help", "see ticket", "as per call", "user says it's not working",
                                        "see ticket 4411", "as per email")]
    assert cluster_texts(items, T.cluster_distance, 1) == []


def test_a_recurring_unmatched_problem_is_a_repeated_pattern_with_its_variants_and_counts():
    rows = [SummaryRow(t.lower(), "server", True, 5, 3) for t in MAPPED_DRIVE]
    rows += [SummaryRow(t.lower(), "hardware", True, 1, 1) for t in ONE_OFFS]
    rows.append(SummaryRow("mapped drive disconnects after reboot", "server", False, 2, 2))
    [gap] = signals.repeated_patterns(rows, T)
    e = gap.evidence
    assert gap.domain == "server" and (e["sessions"], e["resolved"], e["distinct_summaries"]) == (20, 12, 4)
    assert e["representative_summary"] in {t.lower() for t in MAPPED_DRIVE}
    assert e["previous_period_sessions"] == 2 and gap.emerging
    assert gap.severity == "medium"


# --- ordering and thresholds -----------------------------------------------------------------------------

def test_gaps_sort_by_severity_then_impact():
    def gap(severity, impact):
        return signals.Gap("dead_end", None, severity, f"{severity}{impact}", "", {}, "", impact)
    ordered = signals.sort_gaps([gap("low", 90), gap("high", 5), gap("medium", 7), gap("high", 50)])
    assert [g.title for g in ordered] == ["high50", "high5", "medium7", "low90"]


def test_threshold_overrides_apply_over_the_defaults_and_bad_ones_are_refused():
    t = thresholds_from_overrides({"min_sample": 20.0, "free_text_high": 0.5})
    assert (t.min_sample, t.free_text_high, t.escalation_high) == (20, 0.5, T.escalation_high)
    assert t.overrides() == {"min_sample": 20, "free_text_high": 0.5}
    with pytest.raises(ThresholdError, match="unknown"):
        thresholds_from_overrides({"nonsense": 1})
    with pytest.raises(ThresholdError, match="min_sample"):
        thresholds_from_overrides({"min_sample": 0})
    with pytest.raises(ThresholdError, match="free_text bands"):
        thresholds_from_overrides({"free_text_low": 0.9})
    with pytest.raises(ThresholdError, match="min_sample"):
        thresholds_from_overrides({"min_sample": 2.5})
