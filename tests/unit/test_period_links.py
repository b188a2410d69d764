"""The period a link names (``?period=``, and an old knowledge-gaps link's ``?days=``): any value
gives a period the page offers, or the default with a notice naming what was ignored."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.periods import CUSTOM, DEFAULT, MAX_CUSTOM_DAYS, PRESETS, Period, parse

TODAY = date(2026, 6, 1)
NAMES = ("period", "days", "start", "end")
values = st.one_of(st.sampled_from(["7", "30", "90", "custom", "", " 7 ", "0001-01-01", "9999-12-31",
                                    "-7", "1e3", "inf", "٣٠", "30\x00"]),
                   st.text(max_size=30), st.integers(-10**20, 10**20).map(str),
                   st.dates(date(1999, 1, 1), date(2026, 7, 1)).map(date.isoformat))


@pytest.mark.parametrize("query, period", [
    ({"period": "7"}, Period("7")),
    ({"days": "90"}, Period("90")),  # an old knowledge-gaps link
    ({"period": "7", "days": "90"}, Period("7")),  # the new name wins
    ({}, Period()),
    ({"period": "custom", "start": "2026-05-31", "end": "2026-05-01"}, Period(CUSTOM, date(2026, 5, 1), date(2026, 5, 31))),
])
def test_a_link_names_a_preset_or_a_custom_range_without_a_notice(query, period):
    assert parse(query, TODAY) == (period, ())


@pytest.mark.parametrize("query, custom, ignored", [
    ({"period": "45"}, True, ("period", "45", "not 7, 30, 90 or custom")),
    ({"days": "45"}, False, ("days", "45", "not 7, 30 or 90")),
    ({"days": "custom", "start": "2026-05-01", "end": "2026-05-02"}, True, ("days", "custom", "not 7, 30, 90 or custom")),
    ({"period": "custom", "start": "2026-05-01", "end": "2026-05-02"}, False, ("period", "custom", "not 7, 30 or 90")),
    ({"period": "custom"}, True, ("period", "custom", "a custom period needs a start and an end date")),
    ({"period": "custom", "start": "2026-05-01", "end": "2026-06-02"}, True,
     ("end", "2026-06-02", "not a date from 2000-01-01 to 2026-06-01")),
    ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, True,
     ("period", "custom", f"a range of more than {MAX_CUSTOM_DAYS} days")),
])
def test_a_period_the_page_cannot_show_falls_back_to_the_default_saying_why(query, custom, ignored):
    assert parse(query, TODAY, custom) == (Period(), (ignored,))


@settings(suppress_health_check=[HealthCheck.too_slow])  # the machine is shared: generation may be slow
@given(st.dictionaries(st.sampled_from(NAMES), values), st.booleans())
def test_any_link_gives_a_period_the_page_offers_or_the_default_with_a_notice(query, custom):
    period, ignored = parse(query, TODAY, custom)
    assert period.preset in PRESETS or (custom and period.preset == CUSTOM)
    if period.preset == CUSTOM:
        assert date(2000, 1, 1) <= period.first <= period.last <= TODAY
        assert 1 <= period.days <= MAX_CUSTOM_DAYS
        assert period.report_period().end.date() == date.fromordinal(period.last.toordinal() + 1)
    named = (query.get("period") or "").strip() or (query.get("days") or "").strip()
    if named and period == Period() and named != DEFAULT:
        assert ignored  # an unusable value never passes silently
    for name, raw, why in ignored:
        assert name in query and raw == query[name].strip() and why


@given(st.dates(date(2000, 1, 1), TODAY), st.dates(date(2000, 1, 1), TODAY))
def test_two_dates_up_to_today_give_their_range_unless_it_is_too_long(a, b):
    period, ignored = parse({"period": "custom", "start": a.isoformat(), "end": b.isoformat()}, TODAY)
    if abs((b - a).days) < MAX_CUSTOM_DAYS:
        assert (period, ignored) == (Period(CUSTOM, min(a, b), max(a, b)), ())
        assert period.days == abs((b - a).days) + 1
    else:
        assert period == Period() and [name for name, _, _ in ignored] == ["period"]
