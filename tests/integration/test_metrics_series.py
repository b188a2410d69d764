"""The analytics charts' extra series (tier mix per day, time-to-resolution buckets), on SQLite
and PostgreSQL, against the hand-computed dataset of test_metrics."""

from __future__ import annotations

from core.commands import OPERATOR  # these tests are about the figures; permissions: test_report_permissions
from core.db import unit_of_work
from core.metrics import build_metrics
from core.metrics.series import (TTR_BUCKETS, TierDay, tier_mix_by_day, tier_mix_rows,
                                 time_to_resolution_distribution)
from core.metrics.tiers import TIER_ORDER
from tests.integration.test_metrics import NOW, acme  # noqa: F401  (the fixture)


def test_time_to_resolution_is_bucketed_in_sql_for_both_periods(engine, acme):  # noqa: F811
    with unit_of_work(engine) as db:
        buckets = time_to_resolution_distribution(db, acme, days=30, now=NOW)
        report = build_metrics(db, OPERATOR, acme, days=30, now=NOW)
    assert [b.label for b in buckets] == [label for label, _, _ in TTR_BUCKETS]
    # This period, hours: T9 0.5 | ticketless 1, T1 1.5, T3 3 | T2 5.
    assert [b.cases for b in buckets] == [1, 3, 1, 0, 0, 0, 0]
    # Before: a ticketless session of 10 minutes | P3 1 hour.
    assert [b.previous_cases for b in buckets] == [1, 1, 0, 0, 0, 0, 0]
    psa = report["psa"]
    assert sum(b.cases for b in buckets) == psa["resolved_cases"].value
    assert sum(b.previous_cases for b in buckets) == psa["resolved_cases"].previous


def test_time_to_resolution_honours_the_filters(engine, acme):  # noqa: F811
    with unit_of_work(engine) as db:
        network = time_to_resolution_distribution(db, acme, days=30, now=NOW, filters={"domain": "network"})
    assert [b.cases for b in network] == [0, 1, 0, 0, 0, 0, 0]  # T3: 3 hours


def test_the_tier_mix_has_every_day_and_tier(engine, acme):  # noqa: F811
    with unit_of_work(engine) as db:
        rows = tier_mix_by_day(db, acme, days=30, now=NOW)
        tiers = build_metrics(db, OPERATOR, acme, days=30, now=NOW)["tiers"].breakdown("tier")
    assert len(rows) == 31 * len(TIER_ORDER)
    assert (rows[0].day, rows[0].tier, rows[-1].day, rows[-1].tier) == ("2026-05-02", "guided", "2026-06-01", "(none)")
    for tier in TIER_ORDER:
        assert sum(r.sessions for r in rows if r.tier == tier) == tiers[tier]["sessions"].value
    by = {(r.day, r.tier): r for r in rows if r.sessions}
    assert set(by) == {("2026-05-02", "guided"), ("2026-05-25", "(none)"), ("2026-05-26", "discovery"),
                       ("2026-05-27", "discovery"), ("2026-05-29", "assisted"), ("2026-05-30", "guided"),
                       ("2026-05-31", "guided"), ("2026-06-01", "guided")}
    assert (by[("2026-05-29", "assisted")].sessions, by[("2026-05-29", "assisted")].resolved,
            by[("2026-05-29", "assisted")].escalated) == (2, 1, 1)
    assert by[("2026-05-27", "discovery")].abandoned == 1


def test_the_tier_mix_honours_the_filters(engine, acme):  # noqa: F811
    with unit_of_work(engine) as db:
        rows = tier_mix_by_day(db, acme, days=30, now=NOW, filters={"engineer": "bob"})
    assert {(r.day, r.tier): r.sessions for r in rows if r.sessions} == {
        ("2026-05-29", "assisted"): 2, ("2026-05-25", "(none)"): 1}


def test_filter_choices_are_the_periods_distinct_values(engine, acme):  # noqa: F811
    from core.metrics.series import filter_choices

    with unit_of_work(engine) as db:
        choices = filter_choices(db, acme, days=30, now=NOW)
    assert choices == {"domain": ("email", "network", "printing"), "board": ("Network", "Service Desk"),
                       "engineer": ("ann", "bob"), "company": ("Bay Logistics", "Harbor Dental")}


def test_the_tier_mix_rows_give_each_tiers_share_of_its_day_or_week_to_six_decimals():
    days = [TierDay("2026-05-04", "guided", 1, 0, 0, 0), TierDay("2026-05-04", "assisted", 2, 0, 0, 0),
            TierDay("2026-05-05", "guided", 1, 0, 0, 0), TierDay("2026-05-05", "assisted", 0, 0, 0, 0)]

    by_day = {(r["key"], r["tier"]): r for r in tier_mix_rows(days, weekly=False)}
    assert by_day[("2026-05-04", "assisted")]["share"] == 0.666667
    assert by_day[("2026-05-05", "assisted")]["share"] == 0
    weeks = tier_mix_rows(days, weekly=True)  # 4 and 5 May 2026: the week of Monday 4 May
    assert {(r["key"], r["tier"]): (r["sessions"], r["total"], r["share"]) for r in weeks} == {
        ("2026-05-04", "guided"): (2, 4, 0.5), ("2026-05-04", "assisted"): (2, 4, 0.5)}
