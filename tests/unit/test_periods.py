"""The reporting period and the previous one (core.periods): the one definition the knowledge-gap
report, analytics, the home page and the period picker share."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.periods import Period

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_the_last_thirty_days_end_now_and_follow_the_thirty_before():
    period = Period.last_days(30, NOW)
    assert (period.start, period.end) == (datetime(2026, 5, 2, 12, tzinfo=timezone.utc), NOW)
    assert period.previous_start == datetime(2026, 4, 2, 12, tzinfo=timezone.utc)
    assert period.days == 30


def test_a_period_of_no_days_or_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        Period.last_days(0, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        Period.last_days(30, datetime(2026, 6, 1))


def test_a_custom_range_is_whole_utc_days_in_either_order():
    may = Period.whole_days(date(2026, 5, 1), date(2026, 5, 31))
    assert (may.start, may.end, may.days) == (datetime(2026, 5, 1, tzinfo=timezone.utc),
                                              datetime(2026, 6, 1, tzinfo=timezone.utc), 31)
    assert Period.whole_days(date(2026, 5, 3), date(2026, 5, 3)).end == datetime(2026, 5, 4, tzinfo=timezone.utc)
    assert Period.whole_days(date(2026, 5, 3), date(2026, 5, 1)) == Period.whole_days(date(2026, 5, 1),
                                                                                       date(2026, 5, 3))


def test_a_previous_period_is_covered_only_when_the_accounts_data_reaches_its_start():
    period = Period.last_days(30, NOW)
    start = period.previous_start
    assert period.previous_covered(start)
    assert period.previous_covered(start - timedelta(days=300))
    assert not period.previous_covered(start + timedelta(seconds=1))
    assert not period.previous_covered(None)  # no sessions at all


def test_the_days_of_a_period_are_every_utc_day_it_touches():
    assert Period.last_days(2, NOW).utc_days() == ["2026-05-30", "2026-05-31", "2026-06-01"]
    assert Period.whole_days(date(2026, 5, 30), date(2026, 5, 31)).utc_days() == ["2026-05-30", "2026-05-31"]


@given(st.integers(1, 3650), st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2100, 1, 1),
                                          timezones=st.just(timezone.utc)))
def test_the_previous_period_is_as_long_and_ends_where_this_one_starts(days, now):
    period = Period.last_days(days, now)
    assert period.days == days
    assert period.start - period.previous_start == period.end - period.start
    assert Period(period.previous_start, period.start).days == days


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_a_custom_range_holds_both_its_days_and_no_more(first, last):
    period = Period.whole_days(first, last)
    days = period.utc_days()
    assert days[0] == min(first, last).isoformat() and days[-1] == max(first, last).isoformat()
    assert len(days) == period.days == abs((last - first).days) + 1
