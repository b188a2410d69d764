"""Which days the gap report may read from the per-day step counts, and how it adds them up."""

from __future__ import annotations

from datetime import date, datetime, timezone

from core.gaps.queries import step_pass
from core.sessions.day_counts import StepGroup, first_whole_day, merge_groups, runs, uncovered, whole_days

UTC = timezone.utc


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def group(*, current=True, tried=True, kind="question", steps=10, flagged=2, free=2, failed=0, reached=0,
          answer=None, sample=None, node="q1") -> StepGroup:
    return StepGroup("fl", node, None if node else "which vpn?", kind, answer, tried, current, steps, flagged, free,
                     failed, reached, sample)


def test_only_days_wholly_inside_the_range_are_whole_days():
    assert whole_days(at(3, 15, 27), at(6, 9)) == [date(2026, 11, 4), date(2026, 11, 5)]
    assert whole_days(at(3), at(5)) == [date(2026, 11, 3), date(2026, 11, 4)]
    assert whole_days(at(3, 1), at(3, 23)) == []


def test_the_first_whole_day_starts_at_or_after_the_moment():
    assert first_whole_day(at(3)) == date(2026, 11, 3)
    assert first_whole_day(at(3, 0, 1)) == date(2026, 11, 4)


def test_the_uncovered_ranges_are_the_partial_edges_and_the_days_left_out():
    days = [date(2026, 11, 4), date(2026, 11, 5), date(2026, 11, 7)]
    assert uncovered(at(3, 15), at(8, 9), days) == [
        (at(3, 15), at(4)), (at(6), at(7)), (at(8), at(8, 9))]
    assert uncovered(at(4), at(6), [date(2026, 11, 4), date(2026, 11, 5)]) == []
    assert uncovered(at(4), at(6), []) == [(at(4), at(6))]


def test_consecutive_days_make_one_run():
    days = [date(2026, 11, d) for d in (1, 2, 3, 5, 9, 10)]
    assert runs(days) == [(date(2026, 11, 1), date(2026, 11, 3)), (date(2026, 11, 5), date(2026, 11, 5)),
                          (date(2026, 11, 9), date(2026, 11, 10))]


def test_the_same_group_from_several_days_is_added_up_and_keeps_a_wording():
    merged = merge_groups([group(steps=10, free=2, sample=None, node=None),
                           group(steps=5, free=1, sample="Which VPN?", node=None),
                           group(steps=1, free=0, current=False, node=None)])
    assert sorted((g.current, g.steps, g.free_text, g.sample_text) for g in merged) == [
        (False, 1, 0, None), (True, 15, 3, "Which VPN?")]


def test_the_previous_period_counts_only_its_typed_and_failed_steps():
    result = step_pass([group(current=False, steps=40, flagged=3, free=3),
                        group(current=False, kind="action", steps=40, flagged=0, free=0, failed=0)])
    assert [(r.current, r.steps, r.responses, r.free_text) for r in result.rows] == [(False, 3, 3, 3)]


def test_tried_actions_split_into_failed_and_succeeded_and_reach_counts_this_period_only():
    result = step_pass([group(kind="action", steps=12, flagged=4, free=0, failed=4, reached=9),
                        group(tried=False, kind="question", steps=6, flagged=0, free=0, reached=6),
                        group(current=False, tried=False, reached=50)])
    assert [(r.step_type, r.responses, r.failed, r.succeeded) for r in result.rows] == [("action", 0, 4, 8)]
    assert result.reached == {("fl", "q1"): 15}
