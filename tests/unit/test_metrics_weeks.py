"""A day's week is the ISO week that holds it, keyed by its Monday, the same for every figure."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, strategies as st

from core.metrics.weeks import WEEKLY_AFTER_DAYS, charted_by_week, week_of

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def test_a_week_starts_on_monday_and_ends_on_sunday():
    # Monday 4 May 2026 to Sunday 10 May 2026; Monday 11 May starts the next week.
    assert [week_of(f"2026-05-{d:02d}") for d in range(3, 12)] == [
        "2026-04-27", *["2026-05-04"] * 7, "2026-05-11"]


def test_a_week_can_span_the_turn_of_a_year():
    assert week_of("2027-01-01") == "2026-12-28"  # a Friday


@given(DAYS)
def test_every_day_falls_in_the_week_of_the_monday_at_most_six_days_before_it(day):
    monday = date.fromisoformat(week_of(day.isoformat()))
    assert monday.weekday() == 0
    assert timedelta(0) <= day - monday <= timedelta(days=6)


@given(DAYS, st.integers(min_value=0, max_value=6))
def test_the_days_of_one_week_share_its_key(day, offset):
    monday = day - timedelta(days=day.weekday())
    assert week_of((monday + timedelta(days=offset)).isoformat()) == monday.isoformat()


def test_periods_longer_than_six_weeks_or_so_are_charted_by_week():
    assert not charted_by_week(7) and not charted_by_week(30) and not charted_by_week(WEEKLY_AFTER_DAYS)
    assert charted_by_week(WEEKLY_AFTER_DAYS + 1) and charted_by_week(90)
