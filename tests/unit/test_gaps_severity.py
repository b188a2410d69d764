"""Severity that matches what a manager would say, on a small MSP (about 225 sessions a month,
a quarter of them escalated) and on a large one (150,000 a month) with the same rates (issue 14)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.gaps import signals
from core.gaps.queries import DomainRow, FlowInfo
from core.gaps.severity import Bars, judge_count, judge_rate
from core.gaps.thresholds import DEFAULT_THRESHOLDS, SEVERITIES, GapThresholds, ThresholdError, thresholds_from_overrides

T = DEFAULT_THRESHOLDS
PRINTING = {"fl-printer": FlowInfo("fl-printer", "Printer offline", "printing", {"root": "r", "nodes": {}})}
RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # low 0, medium 1, high 2


def finished(domain, sessions, escalated):
    return [DomainRow(domain, "resolved", "guided", False, True, sessions - escalated),
            DomainRow(domain, "escalated", "guided", False, True, escalated)]


def small_account(*domain_rows):
    """About 225 sessions in the period, 25% of them escalated, with the given domain among them."""
    rows = [r for rs in domain_rows for r in rs]
    sessions = sum(r.sessions for r in rows)
    escalated = sum(r.sessions for r in rows if r.status == "escalated")
    return rows + finished("email", 225 - sessions, round(0.25 * 225) - escalated)


def large_account(*domain_rows):
    """150,000 sessions in the period, 25% of them escalated."""
    rows = [r for rs in domain_rows for r in rs]
    sessions = sum(r.sessions for r in rows)
    escalated = sum(r.sessions for r in rows if r.status == "escalated")
    return rows + finished("email", 150_000 - sessions, 37_500 - escalated)


def escalation(rows, domain="vpn"):
    found = [g for g in signals.high_escalation(rows, T) if g.domain == domain]
    return found[0] if found else None


def discovery(domain, resolved):
    return [DomainRow(domain, "resolved", "discovery", True, True, resolved)]


def uncharted(rows, flows=PRINTING, domain="vpn"):
    found = [g for g in signals.uncharted_territory(rows, flows, T) if g.domain == domain]
    return found[0] if found else None


# --- escalation -----------------------------------------------------------------------------------------

def test_on_a_small_account_a_domain_escalating_half_its_twenty_sessions_is_not_low():
    gap = escalation(small_account(finished("vpn", 20, 10)))
    assert gap is not None and gap.severity == "medium"
    assert gap.evidence["escalation_rate_interval"][0] == pytest.approx(0.299, abs=0.001)  # the bound
    assert "surely above the account's 25%" in gap.evidence["severity_reason"]


def test_on_a_large_account_the_same_rates_on_the_same_share_of_its_work_are_at_least_as_severe():
    small = escalation(small_account(finished("vpn", 20, 10)))
    large = escalation(large_account(finished("vpn", 13_400, 6_700)))  # 20/225 of its sessions
    assert large.severity == "high" and RANK[large.severity] >= RANK[small.severity]


def test_on_a_large_account_twenty_sessions_at_the_same_rate_are_listed_but_low():
    gap = escalation(large_account(finished("vpn", 20, 10)))
    assert gap is not None and gap.severity == "low"
    assert "1,500" in gap.evidence["severity_reason"]  # the high bar: 1% of 150,000


def test_ten_extra_escalations_a_month_matter_more_than_two():
    rows = small_account(finished("vpn", 40, 20), finished("backup", 8, 4))
    ten_extra, two_extra = escalation(rows, "vpn"), escalation(rows, "backup")
    assert ten_extra.severity == "high"
    assert two_extra is not None and RANK[two_extra.severity] < RANK[ten_extra.severity]


def test_three_escalations_at_over_forty_percent_are_listed_at_low_however_thin_the_sample():
    gap = escalation(small_account(finished("vpn", 5, 3)))
    assert gap is not None and gap.severity == "low"
    assert "too few to judge" in gap.evidence["severity_reason"]
    assert escalation(small_account(finished("vpn", 5, 2))) is None  # two are not enough
    assert escalation(small_account(finished("vpn", 8, 3))) is None  # 37.5% is not over 40%


def test_a_domain_escalating_no_more_than_the_account_is_never_listed():
    rows = [*finished("vpn", 100, 50), *finished("email", 100, 50)]
    assert signals.high_escalation(rows, T) == []


# --- uncharted territory ----------------------------------------------------------------------------------

def test_on_a_small_account_seven_discovery_resolutions_in_a_domain_with_no_flow_are_at_least_medium():
    gap = uncharted(small_account(discovery("vpn", 7)))
    assert gap is not None and gap.severity == "medium"
    assert gap.evidence["published_flows"] == 0
    assert "no published flow" in gap.evidence["severity_reason"]


def test_on_a_large_account_a_domain_with_no_flow_is_still_at_least_medium_but_one_with_flows_is_low():
    assert uncharted(large_account(discovery("vpn", 7))).severity == "medium"
    assert uncharted(large_account(discovery("printing", 7)), domain="printing").severity == "low"
    assert uncharted(large_account(discovery(None, 7)), domain=None).severity == "low"  # no domain: no flow to write


def test_on_a_large_account_the_same_share_of_discovery_resolutions_is_high():
    assert uncharted(large_account(discovery("vpn", 4_667))).severity == "high"  # 7/225 of 150,000


@pytest.mark.parametrize("resolved, listed", [(1, False), (2, True), (3, True)])
def test_two_or_more_discovery_resolutions_are_listed_at_low(resolved, listed):
    gap = uncharted(small_account(discovery("printing", resolved)), domain="printing")
    assert (gap is not None) is listed
    assert gap is None or gap.severity == "low"


# --- the model itself ---------------------------------------------------------------------------------------

def test_the_volume_bars_are_the_floors_on_a_small_account_and_a_share_of_a_large_one():
    assert Bars.of(T, 225, 3, 10) == Bars(3, 10)
    assert Bars.of(T, 150_000, 3, 10) == Bars(750, 1_500)
    assert Bars.of(T, 3_464, 3, 10) == Bars(18, 35)  # rounded up: 17.3 sessions are met by 18


@given(hits=st.integers(0, 400), extra=st.integers(0, 400), volume=st.integers(0, 200_000),
       baseline=st.floats(0.0, 0.9))
def test_a_rate_gap_is_never_more_severe_than_its_rate_or_its_volume_says(hits, extra, volume, baseline):
    n = hits + extra
    judged = judge_rate(hits, n, baseline, (T.escalation_low, T.escalation_medium, T.escalation_high), T, volume,
                        "escalations", "the account's rate")
    if judged is None:
        return
    assert n >= T.min_sample and hits / n >= T.escalation_low
    by_volume = Bars.of(T, volume, T.excess_medium, T.excess_high).level(hits - n * baseline)
    assert RANK[judged.severity] <= RANK[by_volume]
    assert judged.reason.startswith(judged.severity.title() + ":")


@given(count=st.integers(0, 10_000), volume=st.integers(0, 200_000))
def test_a_larger_count_is_never_less_severe(count, volume):
    one = judge_count(count, 2, 5, 15, T, volume, "sessions")
    more = judge_count(count + 1, 2, 5, 15, T, volume, "sessions")
    assert (more is None) <= (one is None)
    assert one is None or RANK[more.severity] >= RANK[one.severity]


def test_the_new_thresholds_are_tuned_per_account_and_checked():
    t = thresholds_from_overrides({"high_share": 0.05, "escalation_listed_count": 4})
    assert (t.high_share, t.escalation_listed_count) == (0.05, 4)
    with pytest.raises(ThresholdError, match="volume shares"):
        GapThresholds(medium_share=0.1, high_share=0.05)
    with pytest.raises(ThresholdError, match="excess floors"):
        GapThresholds(excess_medium=20)
    with pytest.raises(ThresholdError, match="escalation_listed_rate"):
        GapThresholds(escalation_listed_rate=1.5)
