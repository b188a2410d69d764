"""The pure half of the metrics: shaping raw rows into figures, without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.metrics.comparison import Comparison, previous_period_thin
from core.metrics.figures import Figure, breakdown, grouped_counts, percent, ratio
from core.metrics.flows import NO_FLOW, shape_flows
from core.metrics.medians import median, median_from_middle
from core.metrics.sessions import CubeRow, outcome_figures
from core.metrics.tiers import shape_tiers
from core.metrics.volume import day_lag, shape_days
from core.metrics.window import Window

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def counts(sessions=0, resolved=0, escalated=0, abandoned=0, active=0, handle_seconds=None, handled=0):
    return dict(sessions=sessions, resolved=resolved, escalated=escalated, abandoned=abandoned, active=active,
                handle_seconds=handle_seconds, handled=handled)


def test_a_change_is_the_difference_and_missing_when_either_side_is():
    assert Figure(5, 3).change == 2
    assert Figure(0.5, 0.25).change == 0.25
    assert Figure(None, 3).change is None and Figure(3, None).change is None


def test_a_ratio_of_nothing_is_none_not_zero():
    assert ratio(0, 0) is None
    assert ratio(0, 4) == 0.0
    assert ratio(1, 3) == 0.333333


def test_outcome_shares_leave_active_sessions_out_and_sum_to_one():
    figures = outcome_figures(counts(sessions=10, resolved=3, escalated=3, abandoned=1, active=3))

    assert figures["with_outcome"] == 7
    assert figures["resolution_rate"] == ratio(3, 7)
    total = figures["resolution_rate"] + figures["escalation_rate"] + figures["abandonment_rate"]
    assert total == pytest.approx(1.0, abs=1e-5)


def test_a_group_with_only_active_sessions_has_no_rates():
    figures = outcome_figures(counts(sessions=2, active=2))

    assert figures["resolution_rate"] is None and figures["mean_handle_minutes"] is None


@pytest.mark.parametrize("values, expected", [([], None), ([4], 4), ([4, 1], 2.5), ([3, 1, 2], 2),
                                              ([5, 1, 4, 2], 3), ([7, 7, 7, 1, 100, 2], 7)])
def test_the_median_of_odd_and_even_counts(values, expected):
    assert median(values) == expected


def test_the_median_from_the_middle_values_divides_their_sum_by_their_count():
    assert median_from_middle(30, 1) == 30
    assert median_from_middle(70, 2) == 35
    assert median_from_middle(None, 0) is None


def test_breakdown_keeps_keys_seen_only_last_period_and_orders_by_sessions():
    current, previous = grouped_counts([
        (1, "b", {"sessions": 1}), (1, "a", {"sessions": 5}), (1, "a", {"sessions": 2}),
        (0, "gone", {"sessions": 4}),
    ])
    groups = breakdown(current, previous, lambda c: {"sessions": c.get("sessions") or 0})

    assert [(g.key, g["sessions"].value, g["sessions"].previous) for g in groups] == [
        ("a", 7, 0), ("b", 1, 0), ("gone", 0, 4)]


def test_a_period_of_four_weeks_or_more_compares_days_whole_weeks_back():
    assert day_lag(Window.last_days(1, 30, NOW)) == timedelta(days=28)
    assert day_lag(Window.last_days(1, 7, NOW)) == timedelta(days=7)
    assert day_lag(Window.last_days(1, 3, NOW)) == timedelta(days=3)


def test_days_without_sessions_appear_as_zeros_and_weeks_start_on_monday():
    window = Window.last_days(1, 7, NOW)  # 25 May 12:00 (a Monday) to 1 June 12:00
    zero = (0, 0, 0, 0, 0)
    rows = [("2026-05-26", 2, 1, 1, 0, 0, *zero), ("2026-05-19", *zero, 3, 3, 0, 0, 0),
            ("2026-06-01", 1, 0, 0, 0, 1, *zero)]
    days, weeks = shape_days(rows, window)

    assert [d.key for d in days] == [f"2026-05-{d}" for d in range(25, 32)] + ["2026-06-01"]
    by_day = {d.key: d for d in days}
    assert (by_day["2026-05-26"]["sessions"].value, by_day["2026-05-26"]["sessions"].previous) == (2, 3)
    assert by_day["2026-05-27"]["sessions"].value == 0
    assert by_day["2026-05-26"]["resolution_rate"].previous == 1.0
    assert [(w.key, w["sessions"].value, w["sessions"].previous) for w in weeks] == [
        ("2026-05-25", 2, 3), ("2026-06-01", 1, 0)]


def test_tiers_come_in_a_fixed_order_with_their_share_of_all_sessions():
    cube = [
        CubeRow(1, "email", "discovery", None, "ann", counts(sessions=1, resolved=1)),
        CubeRow(1, "email", "guided", "f", "ann", counts(sessions=3, resolved=2, escalated=1)),
        CubeRow(0, "email", "guided", "f", "ann", counts(sessions=2, resolved=2)),
    ]
    medians = [(1, "guided", 600, 1), (1, "*", 900, 2)]
    tiers = shape_tiers(cube, medians)
    by_tier = tiers.breakdown("tier")

    assert list(by_tier) == ["guided", "assisted", "discovery", "(none)"]
    assert by_tier["guided"]["share_of_sessions"].value == 0.75
    assert by_tier["guided"]["share_of_sessions"].previous == 1.0
    assert by_tier["assisted"]["sessions"].value == 0
    assert by_tier["guided"]["median_handle_minutes"].value == 10
    assert tiers["median_handle_minutes"].value == 7.5


def test_flow_match_share_counts_sessions_with_any_flow():
    cube = [CubeRow(1, None, None, "f1", None, counts(sessions=3)), CubeRow(1, None, None, None, None, counts(sessions=1)),
            CubeRow(1, None, None, "f2", None, counts(sessions=0))]
    flows = shape_flows(cube)

    assert flows["flow_match_share"].value == 0.75
    assert flows["flows_used"].value == 1
    assert [g.key for g in flows.breakdowns["flow"]][-1] == NO_FLOW


def test_a_period_must_be_at_least_a_day_and_now_must_carry_a_timezone():
    with pytest.raises(ValueError, match="at least 1"):
        Window.last_days(1, 0, NOW)
    with pytest.raises(ValueError, match="timezone"):
        Window.last_days(1, 30, datetime(2026, 6, 1))


@pytest.mark.parametrize("now, before, thin", [
    (100, 25, False), (100, 24, True),  # under a quarter of this period's sessions
    (40, 19, True), (40, 20, False),  # under 20 sessions, whatever this period holds
    (0, 0, True), (10, 30, False),
])
def test_a_previous_period_is_thin_under_twenty_sessions_or_a_quarter_of_this_ones(now, before, thin):
    assert previous_period_thin(now, before) is thin


@pytest.mark.parametrize("share, shown", [(0.2616, "26.2%"), (1, "100.0%"), (0, "0.0%"), (0.59749, "59.7%"),
                                          (None, "–")])
def test_a_rate_shows_with_one_decimal(share, shown):
    assert percent(share) == shown


def test_a_change_against_a_full_previous_period_shows_as_it_is():
    full = Comparison(covered=True, thin=False, previous_sessions=400, first_session_at=NOW - timedelta(days=400),
                      previous_start=NOW - timedelta(days=60))

    assert full.change("-2.5 pp") == "-2.5 pp"
    assert full.colour("inverse") == "inverse"
    assert full.sentence() == ""
