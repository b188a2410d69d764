"""Expected impact: a pending change's or a gap's evidence per 30 days, worked out by hand."""

from __future__ import annotations

from datetime import datetime, timezone

from core.gaps import DEFAULT_THRESHOLDS
from core.gaps.report import GapReport
from core.gaps.signals import Gap
from core.impact.expected import gap_expected_per_month, proposal_expected

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def gap(title: str, severity: str, impact: int) -> Gap:
    return Gap("weak_option", "email", severity, title, "", {}, "", impact)


def report(*gaps: Gap, days: int = 7) -> GapReport:
    return GapReport(NOW, "acme", days, NOW, NOW, gaps, DEFAULT_THRESHOLDS)


def test_a_proposals_expected_impact_is_its_last_90_days_per_30():
    # 12 supporting sessions in 90 days: 12 * 30 / 90 = 4 a month.
    expected = proposal_expected(12, "enhancement")
    assert expected.per_month == 4.0
    assert expected.sentence().startswith("About 4.0 typed answers the new option would spare a month: "
                                          "12 supporting sessions in the last 90 days")


def test_a_gaps_expected_impact_scales_its_period_to_30_days():
    assert gap_expected_per_month(14, 7) == 60.0  # 14 in a week: 14 * 30 / 7
    assert gap_expected_per_month(45, 90) == 15.0
    assert gap_expected_per_month(3, 0) == 0.0


def test_gaps_ordered_by_expected_impact_keep_their_severity_rank_among_equals():
    r = report(gap("a", "high", 2), gap("b", "medium", 9), gap("c", "low", 9), gap("d", "low", 1))
    assert r.by_expected_impact([1, 2, 3, 4]) == [2, 3, 1, 4]
    assert r.by_expected_impact([1, 4]) == [1, 4]  # a filtered list stays filtered
    assert r.to_dict()["gaps"][1]["expected_per_month"] == round(9 * 30 / 7, 2)
    assert r.expected_sentence(r.gaps[1]) == (
        "Expected impact: about 38.6 a month (9 sessions or answers touched in the last 7 days, per 30 days).")


def test_a_new_flows_sentence_says_how_many_discovery_resolutions_its_domain_had():
    # 45 of the domain's sessions solved in discovery in 90 days: 45 * 30 / 90 = 15 a month;
    # 9 supporting sessions: 9 * 30 / 90 = 3 a month.
    expected = proposal_expected(9, "new_flow", touched_sessions=45)
    assert expected.touched_per_month == 15.0
    assert expected.sentence() == (
        "About 3.0 discovery resolutions a flow would guide a month: 9 supporting sessions in the last 90 days, "
        "per 30 days, if the change works as well as the path those sessions took; it touches about 15.0 sessions "
        "a month (45 of its domain were solved in discovery in the last 90 days).")
