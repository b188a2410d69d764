"""Metrics against hand-computed figures, on SQLite and PostgreSQL.

The dataset below is small enough to work out on paper; every expected number in the tests
is derived in the comments next to the sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import Column, case, event, select, text
from sqlalchemy.sql import visitors

from core.commands import OPERATOR  # these tests are about the figures; permissions: test_report_permissions
from core.db import unit_of_work
from core.demo.loader import run_demo
from core.metrics import MetricsFilters, build_metrics
from core.metrics.medians import fetch_medians, median
from core.metrics.sessions import handle_seconds
from core.models import REPORT_COLUMNS, TRIED_STEP_TYPES, Account, Base, Session, Step

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # a Monday
START = NOW - timedelta(days=30)
PREVIOUS_START = START - timedelta(days=30)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_seq = count(1)


def add_account(engine, slug: str) -> int:
    with unit_of_work(engine) as db:
        account = Account(slug=slug, name=slug.title(), settings={})
        db.add(account)
        db.flush()
        return account.id


def add_session(engine, account_id: int, created: datetime, status: str, *, minutes: float | None = None,
                tier: str | None = None, domain: str | None = None, flow: str | None = None,
                engineer: str | None = None, ticket: dict | None = None, steps=(), ext: str | None = None) -> None:
    """A session; ``minutes`` is its handle time (None: no end), ``steps`` (type, outcome) pairs."""
    ticket = ticket or {}
    with unit_of_work(engine) as db:
        session = Session(
            account_id=account_id, external_id=ext or f"s-{next(_seq)}", created_at=created, status=status,
            ended_at=None if minutes is None else created + minutes * MIN, confidence_tier=tier,
            problem_domain=domain, matched_flow=flow, engineer=engineer, step_count=len(steps),
            # As the import counts them.
            failed_steps=sum(1 for t, o in steps if t in TRIED_STEP_TYPES and o == "failed"),
            psa_ticket_id=ticket.get("id"), psa_board=ticket.get("board"), psa_priority=ticket.get("priority"),
            psa_opened_at=ticket.get("opened"), psa_closed_at=ticket.get("closed"),
            psa_sla_due_at=ticket.get("due"), psa_time_spent_minutes=ticket.get("spent"),
            psa_company=ticket.get("company"),
        )
        session.steps = [Step(seq=i, step_type=t, outcome=o, created_at=created) for i, (t, o) in enumerate(steps, 1)]
        db.add(session)


@pytest.fixture
def acme(engine) -> int:
    acme = add_account(engine, "acme")
    other = add_account(engine, "other")
    t1, t2, t3, t6 = NOW - 1 * DAY, NOW - 2 * DAY, NOW - 3 * DAY, NOW - 6 * DAY
    sd, net = "Service Desk", "Network"
    harbor, bay = "Harbor Dental", "Bay Logistics"  # the clients; T8 and the ticketless ones name none
    # This period: 9 sessions, one active; 5 resolved, 2 escalated, 1 abandoned.
    # Handle minutes 10, 20, 30, 40, 60, 5 (the abandoned one's 50 is idle time, not work):
    # median 25, mean 165/6.
    add_session(engine, acme, t1, "resolved", minutes=10, tier="guided", domain="email", flow="f-mail",
                engineer="ann", ticket=dict(id="T1", board=sd, priority="Low", company=harbor, opened=t1 - 30 * MIN,
                                            closed=t1 + 60 * MIN, due=t1 + 2 * HOUR, spent=30),
                steps=[("action", "failed"), ("action", "failed"), ("action", "succeeded"), ("resolution", None)])
    add_session(engine, acme, t2, "resolved", minutes=20, tier="guided", domain="email", flow="f-mail",
                engineer="ann", ticket=dict(id="T2", board=sd, priority="High", opened=t2, closed=t2 + 5 * HOUR,
                                            due=t2 + 4 * HOUR, spent=45, company=harbor),
                steps=[("action", "succeeded"), ("resolution", None)])
    # Ticket T3: escalated first, resolved in a second session an hour later: not first contact.
    t3_ticket = dict(id="T3", board=net, priority="High", opened=t3, due=t3 + HOUR, company=bay)
    add_session(engine, acme, t3, "escalated", minutes=30, tier="assisted", domain="network", flow="f-net",
                engineer="bob", ticket={**t3_ticket, "spent": 20}, steps=[("script", "failed"), ("escalation", None)])
    add_session(engine, acme, t3 + HOUR, "resolved", minutes=40, tier="assisted", domain="network", flow="f-net",
                engineer="bob", ticket={**t3_ticket, "closed": t3 + 3 * HOUR, "spent": 90},
                steps=[("script", "failed"), ("script", "succeeded"), ("resolution", None)])
    add_session(engine, acme, NOW - 5 * DAY, "abandoned", minutes=50, tier="discovery",
                steps=[("action", "failed")])
    # A failed *question* is not a failed action or script.
    add_session(engine, acme, t6, "resolved", minutes=60, tier="discovery", domain="printing", engineer="ann",
                steps=[("question", "failed"), ("resolution", None)])
    add_session(engine, acme, NOW - HOUR, "active", tier="guided", domain="email", flow="f-mail", engineer="ann",
                ticket=dict(id="T7", board=sd, priority="Low", opened=NOW - HOUR, due=NOW + HOUR, company=harbor),
                steps=[("action", "failed")])
    add_session(engine, acme, NOW - 7 * DAY, "requesting_escalation", domain="email", flow="f-mail",
                engineer="bob", ticket=dict(id="T8", board=sd, priority="Low", opened=NOW - 7 * DAY, spent=10))
    add_session(engine, acme, START, "resolved", minutes=5, tier="guided", domain="email", flow="f-mail",
                engineer="ann", ticket=dict(id="T9", board=sd, priority="Low", opened=START,
                                            closed=START + 30 * MIN, due=START + HOUR, spent=15, company=harbor))
    # The previous period: 3 sessions, 2 resolved, 1 escalated; handle 10, 20, 30.
    add_session(engine, acme, START - timedelta(microseconds=1), "resolved", minutes=10, tier="guided",
                domain="email", flow="f-mail", engineer="ann")
    add_session(engine, acme, PREVIOUS_START, "escalated", minutes=20, tier="assisted", domain="network",
                flow="f-old", engineer="bob")
    p3 = NOW - 45 * DAY
    add_session(engine, acme, p3, "resolved", minutes=30, tier="guided", domain="email", flow="f-mail",
                engineer="ann", ticket=dict(id="P3", board=sd, priority="Low", opened=p3, closed=p3 + HOUR,
                                            due=p3 + 2 * HOUR, spent=60, company=harbor))
    # Outside both periods.
    for when in (PREVIOUS_START - timedelta(microseconds=1), NOW, NOW + DAY):
        add_session(engine, acme, when, "resolved", minutes=1000, tier="guided", domain="email", flow="f-mail",
                    engineer="ann", steps=[("action", "failed")])
    # Another account, with a ticket of the same id as one of acme's.
    for i in range(3):
        add_session(engine, other, t1, "resolved", minutes=999, tier="guided", domain="email", flow="f-mail",
                    engineer="ann", ticket=dict(id="T1", board=sd, opened=t1, closed=t1 + 100 * HOUR, due=t1),
                    steps=[("action", "failed")], ext=f"other-{i}")
    return acme


def report(engine, account_id: int, **kwargs):
    with unit_of_work(engine) as db:
        return build_metrics(db, OPERATOR, account_id, days=30, now=NOW, **kwargs)


def test_volume_counts_the_period_by_outcome_and_shares_only_sessions_with_an_outcome(engine, acme):
    volume = report(engine, acme)["volume"]

    assert [volume[k].value for k in ("sessions", "active", "with_outcome", "resolved", "escalated", "abandoned")] \
        == [9, 1, 8, 5, 2, 1]
    assert volume["resolution_rate"].value == pytest.approx(5 / 8)
    assert volume["escalation_rate"].value == pytest.approx(2 / 8)
    assert volume["abandonment_rate"].value == pytest.approx(1 / 8)
    shares = sum(volume[k].value for k in ("resolution_rate", "escalation_rate", "abandonment_rate"))
    assert shares == pytest.approx(1.0, abs=1e-5)
    assert volume["mean_handle_minutes"].value == pytest.approx(165 / 6)


def test_every_figure_carries_the_previous_period_and_the_change(engine, acme):
    volume = report(engine, acme)["volume"]

    assert (volume["sessions"].value, volume["sessions"].previous, volume["sessions"].change) == (9, 3, 6)
    assert volume["resolution_rate"].previous == pytest.approx(2 / 3)
    assert volume["resolution_rate"].change == pytest.approx(5 / 8 - 2 / 3, abs=1e-6)
    assert volume["mean_handle_minutes"].previous == pytest.approx(20)


def test_sessions_by_domain(engine, acme):
    domains = report(engine, acme)["volume"].breakdown("domain")

    assert {k: g["sessions"].value for k, g in domains.items()} == {
        "email": 5, "network": 2, "printing": 1, "(unknown)": 1}
    assert domains["email"]["resolution_rate"].value == pytest.approx(3 / 4)
    assert domains["email"]["sessions"].previous == 2
    assert domains["network"]["escalation_rate"].value == pytest.approx(1 / 2)


def test_days_and_weeks_add_up_to_the_period(engine, acme):
    volume = report(engine, acme)["volume"]
    days = volume.breakdowns["day"]
    weeks = volume.breakdowns["week"]

    assert len(days) == 31  # 2 May 12:00 to 1 June 12:00 touches 31 calendar days
    assert (days[0].key, days[-1].key) == ("2026-05-02", "2026-06-01")
    assert sum(d["sessions"].value for d in days) == 9
    assert sum(w["sessions"].value for w in weeks) == 9
    assert {d.key: d["sessions"].value for d in days if d["sessions"].value} == {
        "2026-05-02": 1, "2026-05-25": 1, "2026-05-27": 1, "2026-05-26": 1, "2026-05-29": 2,
        "2026-05-30": 1, "2026-05-31": 1, "2026-06-01": 1}
    # Each day is set against the same weekday four weeks earlier, over the same hours:
    # 2 May from 12:00 against 4 April from 12:00 (nothing); 30 May against all of 2 May,
    # which had one session either side of the periods' boundary.
    assert days[0]["sessions"].previous == 0
    by_day = {d.key: d for d in days}
    assert by_day["2026-05-30"]["sessions"].previous == 2


def test_tier_calibration_mix_rates_and_median_handle_time(engine, acme):
    tiers = report(engine, acme)["tiers"]
    by_tier = tiers.breakdown("tier")

    assert list(by_tier) == ["guided", "assisted", "discovery", "(none)"]
    assert {k: g["sessions"].value for k, g in by_tier.items()} == {
        "guided": 4, "assisted": 2, "discovery": 2, "(none)": 1}
    assert by_tier["guided"]["share_of_sessions"].value == pytest.approx(4 / 9)
    assert sum(g["share_of_sessions"].value for g in by_tier.values()) == pytest.approx(1.0, abs=1e-5)
    assert by_tier["guided"]["resolution_rate"].value == 1.0  # the active one is not an outcome
    assert by_tier["assisted"]["escalation_rate"].value == pytest.approx(0.5)
    assert by_tier["(none)"]["escalation_rate"].value == 1.0
    # Medians: odd (5, 10, 20 → 10), even (30, 40 → 35), one (60; the abandoned session's
    # idle time does not count), none (requesting escalation: no end yet).
    assert [by_tier[t]["median_handle_minutes"].value for t in by_tier] == [10, 35, 60, None]
    assert tiers["median_handle_minutes"].value == 25  # 5 10 20 | 30 40 60
    assert tiers["median_handle_minutes"].previous == 20


def test_first_contact_resolution_counts_tickets_closed_out_by_one_resolving_session(engine, acme):
    resolution = report(engine, acme)["resolution"]

    # Cases: T1 T2 T3 T7 T8 T9 and two sessions without a ticket; T7 is still active.
    # First contact: T1, T2, T9 and the ticketless resolved one; T3 took two sessions.
    assert resolution["closed_out_cases"].value == 7
    assert resolution["first_contact_resolutions"].value == 4
    assert resolution["first_contact_resolution_rate"].value == pytest.approx(4 / 7)


def test_eventual_success_counts_each_session_once_however_many_retries_failed(engine, acme):
    resolution = report(engine, acme)["resolution"]

    # Failed action or script, with an outcome: T1 (two failures, resolved), T3's two sessions
    # (escalated; resolved), the abandoned one. The active T7 and the failed question do not count.
    assert resolution["sessions_with_failed_step"].value == 4
    assert resolution["eventual_successes"].value == 2
    assert resolution["recovery_rate"].value == pytest.approx(0.5)
    assert resolution["eventual_success_share_of_resolved"].value == pytest.approx(2 / 5)
    assert resolution["eventual_successes"].previous == 0


def test_psa_time_to_resolution_time_spent_and_sla(engine, acme):
    psa = report(engine, acme)["psa"]

    assert psa["tickets"].value == 6
    assert (psa["sessions_with_ticket"].value, psa["sessions_without_ticket"].value) == (7, 2)
    assert psa["sessions_per_ticket"].value == pytest.approx(7 / 6)
    # Time to resolution, hours: T1 1.5, T2 5, T3 3 (opened → closed), ticketless 1, T9 0.5.
    assert psa["resolved_cases"].value == 5
    assert psa["mean_time_to_resolution_hours"].value == pytest.approx(11 / 5)
    assert psa["median_time_to_resolution_hours"].value == pytest.approx(1.5)
    # Time spent per ticket: 30, 45, 90 (T3's largest), 10, 15; T7 has none.
    assert psa["mean_time_spent_minutes"].value == pytest.approx(38)
    assert psa["median_time_spent_minutes"].value == pytest.approx(30)
    # SLA: judged T1, T2, T3, T9; T2 and T3 closed after their due time.
    assert (psa["sla_judged_tickets"].value, psa["sla_breaches"].value) == (4, 2)
    assert psa["sla_breach_rate"].value == pytest.approx(0.5)
    # Before: P3 (1 hour) and a resolved session without a ticket (10 minutes).
    assert psa["tickets"].previous == 1
    assert psa["median_time_to_resolution_hours"].previous == pytest.approx((1 + 1 / 6) / 2)


def test_psa_volume_per_board_priority_and_engineer(engine, acme):
    psa = report(engine, acme)["psa"]
    boards = psa.breakdown("board")
    priorities = psa.breakdown("priority")
    engineers = psa.breakdown("engineer")

    assert {k: g["tickets"].value for k, g in boards.items()} == {"Service Desk": 5, "Network": 1}
    assert boards["Service Desk"]["sla_breach_rate"].value == pytest.approx(1 / 3)
    assert boards["Network"]["sla_breach_rate"].value == 1.0
    assert {k: g["tickets"].value for k, g in priorities.items()} == {"Low": 4, "High": 2}
    assert {k: g["sessions"].value for k, g in engineers.items()} == {"ann": 5, "bob": 3, "(none)": 1}
    assert engineers["ann"]["sessions"].previous == 2


def test_each_client_has_its_sessions_outcomes_first_contact_and_sla_and_those_without_one_share_a_key(engine, acme):
    companies = report(engine, acme)["psa"].breakdown("company")

    # Harbor Dental: T1 T2 T7 T9 (T7 still active); Bay Logistics: T3's two sessions; no client:
    # the two ticketless sessions and T8, whose ticket names none.
    assert list(companies) == ["Harbor Dental", "Bay Logistics", "(no client recorded)"]
    figures = {k: {n: g[n].value for n in ("sessions", "with_outcome", "resolved", "escalated", "tickets",
                                            "closed_out_cases", "first_contact_resolutions", "sla_judged_tickets",
                                            "sla_breaches")}
               for k, g in companies.items()}
    assert figures == {
        "Harbor Dental": dict(sessions=4, with_outcome=3, resolved=3, escalated=0, tickets=4, closed_out_cases=3,
                              first_contact_resolutions=3, sla_judged_tickets=3, sla_breaches=1),
        "Bay Logistics": dict(sessions=2, with_outcome=2, resolved=1, escalated=1, tickets=1, closed_out_cases=1,
                              first_contact_resolutions=0, sla_judged_tickets=1, sla_breaches=1),
        "(no client recorded)": dict(sessions=3, with_outcome=3, resolved=1, escalated=1, tickets=1,
                                     closed_out_cases=3, first_contact_resolutions=1, sla_judged_tickets=0,
                                     sla_breaches=0),
    }
    assert companies["Bay Logistics"]["resolution_rate"].value == pytest.approx(0.5)
    assert companies["(no client recorded)"]["first_contact_resolution_rate"].value == pytest.approx(1 / 3)
    assert companies["Harbor Dental"]["sla_breach_rate"].value == pytest.approx(1 / 3)
    assert (companies["Harbor Dental"]["sessions"].previous, companies["(no client recorded)"]["sessions"].previous) \
        == (1, 2)


def test_the_clients_add_up_to_the_accounts_figures(engine, acme):
    metrics = report(engine, acme)
    companies = metrics["psa"].breakdowns["company"]

    for name, total in (("sessions", metrics["volume"]["sessions"]), ("resolved", metrics["volume"]["resolved"]),
                        ("escalated", metrics["volume"]["escalated"]),
                        ("first_contact_resolutions", metrics["resolution"]["first_contact_resolutions"]),
                        ("sla_breaches", metrics["psa"]["sla_breaches"]), ("tickets", metrics["psa"]["tickets"])):
        assert sum(g[name].value for g in companies) == total.value, name
        assert sum(g[name].previous for g in companies) == total.previous, name


def test_the_company_breakdown_in_json_is_shaped_like_the_board_breakdown(engine, acme):
    psa = report(engine, acme).to_dict()["sections"]["psa"]["breakdowns"]

    harbor = psa["company"][0]
    assert harbor["key"] == "Harbor Dental"
    assert harbor["tickets"] == {"value": 4, "previous": 1, "change": 3}
    assert set(psa["board"][0]) - {"mean_time_spent_minutes"} <= set(harbor)


def test_a_client_filter_narrows_every_figure_to_that_clients_sessions(engine, acme):
    bay = report(engine, acme, filters=MetricsFilters(company="Bay Logistics"))

    assert bay["volume"]["sessions"].value == 2
    assert bay["volume"]["escalation_rate"].value == pytest.approx(0.5)
    assert bay["psa"]["tickets"].value == 1
    assert [g.key for g in bay["psa"].breakdowns["company"]] == ["Bay Logistics"]
    assert bay.to_dict()["filters"]["company"] == "Bay Logistics"


@pytest.mark.parametrize("typed", ["Harbor%", "harbor dental", "Harbor Dental'; DROP TABLE sessions; --", "_",
                                   "Harbor Dental "])
def test_a_client_filter_matches_the_name_exactly_whatever_it_holds(engine, acme, typed):
    # A bound parameter, compared with =: no pattern, no case folding, nothing run.
    assert report(engine, acme, filters=MetricsFilters(company=typed))["volume"]["sessions"].value == 0
    assert report(engine, acme, filters=MetricsFilters(company="Harbor Dental"))["volume"]["sessions"].value == 4


def test_a_previous_period_before_the_accounts_first_session_is_not_covered(engine):
    young = add_account(engine, "young")
    for days_ago in (3, 10, 40):  # the data starts 40 days back: within the previous 30-day period
        add_session(engine, young, NOW - days_ago * DAY, "resolved", minutes=5)

    month = report(engine, young)
    assert not month.previous_period_covered
    assert month.to_dict()["previous_period"]["covered"] is False
    with unit_of_work(engine) as db:
        week = build_metrics(db, OPERATOR, young, days=7, now=NOW)
    assert week.previous_period_covered  # the data reaches back past the 7 days before the last 7


def test_a_previous_period_with_few_sessions_against_this_one_is_thin(engine, acme):
    metrics = report(engine, acme)

    assert metrics.previous_period_covered  # acme's data starts before the previous period
    assert metrics.previous_period_thin  # 3 sessions before
    assert metrics.to_dict()["previous_period"]["thin"] is True


def test_flow_usage_and_resolution_per_flow(engine, acme):
    flows = report(engine, acme)["flows"]
    by_flow = flows.breakdown("flow")

    assert flows["flow_match_share"].value == pytest.approx(7 / 9)
    assert flows["flows_used"].value == 2
    assert list(by_flow) == ["f-mail", "f-net", "f-old", "(no flow)"]
    assert by_flow["f-mail"]["sessions"].value == 5
    assert by_flow["f-mail"]["resolution_rate"].value == pytest.approx(3 / 4)
    assert by_flow["f-net"]["resolution_rate"].value == pytest.approx(1 / 2)
    # A flow used only last period still shows, with nothing this period.
    assert (by_flow["f-old"]["sessions"].value, by_flow["f-old"]["sessions"].previous) == (0, 1)
    assert by_flow["f-old"]["resolution_rate"].value is None


def test_another_accounts_sessions_are_never_counted(engine, acme):
    with unit_of_work(engine) as db:
        other_id = db.scalar(select(Account.id).where(Account.slug == "other"))
    theirs = report(engine, other_id)

    assert theirs["volume"]["sessions"].value == 3
    assert theirs["psa"]["tickets"].value == 1  # their T1 is not acme's T1
    assert theirs["resolution"]["first_contact_resolutions"].value == 0  # three sessions on one ticket
    ours = report(engine, acme)
    assert ours["psa"]["mean_time_spent_minutes"].value == pytest.approx(38)


def test_filters_narrow_every_figure(engine, acme):
    email = report(engine, acme, filters=MetricsFilters(domain="email"))
    network_board = report(engine, acme, filters=MetricsFilters(board="Network"))
    bob = report(engine, acme, filters=MetricsFilters(engineer="bob"))

    assert (email["volume"]["sessions"].value, email["volume"]["sessions"].previous) == (5, 2)
    assert email["flows"]["flow_match_share"].value == 1.0
    assert network_board["psa"]["tickets"].value == 1
    assert network_board["volume"]["sessions"].value == 2
    assert bob["volume"]["sessions"].value == 3
    assert email.to_dict()["filters"] == {"domain": "email", "board": None, "engineer": None, "company": None}
    as_mapping = report(engine, acme, filters={"engineer": "bob"})
    assert as_mapping["volume"]["sessions"].value == 3


def test_an_account_without_sessions_has_zeros_and_no_rates(engine):
    empty = add_account(engine, "empty")
    metrics = report(engine, empty)

    assert metrics["volume"]["sessions"].value == 0
    assert metrics["volume"]["resolution_rate"].value is None
    assert metrics["tiers"]["median_handle_minutes"].value is None
    assert metrics["psa"]["sla_breach_rate"].value is None
    assert len(metrics["volume"].breakdowns["day"]) == 31


def test_the_report_as_json_holds_only_plain_numbers(engine, acme):
    data = report(engine, acme).to_dict()

    def numbers(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from numbers(value)
        elif isinstance(node, list):
            for value in node:
                yield from numbers(value)
        elif not isinstance(node, str):
            yield node

    flags = {name: data["previous_period"].pop(name) for name in ("covered", "thin")}
    assert flags == {"covered": True, "thin": True}
    assert all(n is None or type(n) in (int, float) for n in numbers(data))
    assert data["sections"]["volume"]["totals"]["sessions"] == {"value": 9, "previous": 3, "change": 6}
    assert data["previous_period"]["day_and_week_lag_days"] == 28


def test_flat_rows_have_one_row_per_figure(engine, acme):
    rows = list(report(engine, acme).flat_rows())

    assert ("volume", "total", "", "sessions", 9, 3, 6) in rows
    assert ("flows", "flow", "f-old", "sessions", 0, 1, -1) in rows


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 8])
def test_the_sql_median_matches_the_plain_median_for_odd_and_even_counts(engine, size):
    account = add_account(engine, "medians")
    minutes = [17, 3, 3, 250, 42, 8, 99, 1][:size]  # with a repeated value
    for m in minutes:
        add_session(engine, account, NOW - DAY, "resolved", minutes=m)
    values = select(Session.account_id.label("grp"), handle_seconds().label("value")).where(
        Session.account_id == account)
    with unit_of_work(engine) as db:
        ((grp, middle_sum, middle_weight),) = fetch_medians(db, values, ["grp"])

    assert grp == account
    assert float(middle_sum) / middle_weight == median([m * 60 for m in minutes])


def test_a_rollup_gives_the_median_across_the_groups_left_out(engine):
    account = add_account(engine, "medians")
    for tier, minutes in (("guided", [1, 2, 9]), ("assisted", [4, 5]), ("discovery", [])):
        for m in minutes:
            add_session(engine, account, NOW - DAY, "resolved", minutes=m, tier=tier)
    values = select(Session.account_id.label("grp"), Session.confidence_tier.label("tier"),
                    (handle_seconds() / 60).label("value")).where(Session.account_id == account)
    with unit_of_work(engine) as db:
        rows = fetch_medians(db, values, ["grp", "tier"], rollups=[["grp"]])

    medians = {tier: float(s) / w for _, tier, s, w in rows}
    assert medians == {"guided": 2, "assisted": 4.5, "*": 4}


def test_a_weight_counts_its_value_that_many_times(engine):
    account = add_account(engine, "medians")
    for m in (1, 2, 9):
        add_session(engine, account, NOW - DAY, "resolved", minutes=m)
    seconds = handle_seconds()
    values = select(Session.account_id.label("grp"), seconds.label("value"),
                    case((seconds > 300, 3), else_=1).label("weight")).where(Session.account_id == account)
    with unit_of_work(engine) as db:
        ((_, middle_sum, middle_weight),) = fetch_medians(db, values, ["grp"])

    assert float(middle_sum) / middle_weight == median([60, 120, 540, 540, 540])


def _empty(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


def test_sqlite_and_postgresql_give_the_very_same_report_for_the_same_data(_sqlite_engine, _postgresql_engine):
    reports = []
    for engine in (_sqlite_engine, _postgresql_engine):
        _empty(engine)
        run_demo(engine, accounts=2, sessions=3000, seed=11, anchor=NOW)
        with unit_of_work(engine) as db:
            account_id = db.scalar(select(Account.id).where(Account.slug == "northwind-it"))
            reports.append(build_metrics(db, OPERATOR, account_id, days=30, now=NOW).to_dict())
        _empty(engine)

    sqlite_report, postgresql_report = reports
    assert sqlite_report["sections"]["volume"]["totals"]["sessions"]["value"] > 300
    sqlite_report.pop("account_id"), postgresql_report.pop("account_id")
    assert sqlite_report == postgresql_report


def test_every_session_column_the_metrics_read_is_carried_by_the_reports_index(engine, acme):
    # So that PostgreSQL reads the metrics from ix_sessions_account_created alone (an index-only
    # scan of the period's range); a column read but not carried sends every query to the table.
    read: set[str] = set()

    def collect(conn, clauseelement, multiparams, params, execution_options):
        for element in visitors.iterate(clauseelement):
            if isinstance(element, Column) and element.table is Session.__table__:
                read.add(element.name)

    event.listen(engine, "before_execute", collect)
    try:
        report(engine, acme, filters=MetricsFilters(domain="x", board="y", engineer="z", company="c"))
    finally:
        event.remove(engine, "before_execute", collect)
    assert read, "no sessions column seen: the check would pass whatever the queries read"
    # psa_company (the client breakdown and filter) is the one column read from the table until
    # the index carries it too, which takes a migration that rebuilds the index.
    carried = {"account_id", "created_at", *REPORT_COLUMNS, "psa_company"}
    assert read <= carried, read - carried
