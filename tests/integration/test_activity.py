"""Activity on SQLite and PostgreSQL: every decision and threshold change, newest first, filtered
in SQL, a page at a time, one entry's before and after, the CSV; and who may read it."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from core.accounts.auth import PERMISSIONS, NotAllowed, load_actor
from core.commands import OPERATOR
from core.db import unit_of_work
from core.exports.catalog import account_request, write_export
from core.gaps.thresholds import DEFAULT_THRESHOLDS, save_account_thresholds
from core.models import Account, AuditEntry
from core.proposals import review
from core.proposals.activity import ActivityFilters, activity, activity_choices, activity_csv, activity_entry, activity_table
from tests import factories as make

NOW = make.NOW
DAY = timedelta(days=1)
REPO = Path(__file__).resolve().parents[2]


@dataclass
class World:
    account: int
    other_account: int
    admin: object
    manager: object
    analyst: object
    outsider: object
    flow: int
    enhancement: int
    vpn: int
    outlook: int


@pytest.fixture
def world(engine: Engine) -> World:
    """alpha-it: an enhancement published 3 days ago, a new flow approved 2 days ago, a proposal
    rejected (by the second admin) yesterday, and the thresholds changed today; beta-net decides too."""
    with unit_of_work(engine) as db:
        alpha, beta = make.account(db, "alpha-it"), make.account(db, "beta-net")
        users = {
            "admin": make.user(db, "admin@alpha.example", {alpha: "admin"}).id,
            "second": make.user(db, "second@alpha.example", {alpha: "admin"}).id,
            "manager": make.user(db, "manager@alpha.example", {alpha: "manager"}).id,
            "analyst": make.user(db, "analyst@alpha.example", {alpha: "analyst"}).id,
            "outsider": make.user(db, "admin@beta.example", {beta: "admin"}).id,
        }
        printer = make.flow(db, alpha, "printer-offline", name="Printer offline")
        enh = make.proposal(db, alpha, proposal_type="enhancement", title="Printer offline: one user only",
                            tree=make.enhanced_tree(), target=printer)
        vpn = make.proposal(db, alpha, title="VPN drops every hour", domain="networking")
        outlook = make.proposal(db, alpha, title="Outlook asks for the password", domain="email")
        theirs = make.proposal(db, beta, title="Beta's own")
        actors = {k: load_actor(db, v) for k, v in users.items()}
        ids = (alpha.id, beta.id, printer.id, enh.id, vpn.id, outlook.id, theirs.id)
    alpha_id, beta_id, flow, enh, vpn, outlook, theirs = ids
    review.edit_and_publish(engine, actors["admin"], alpha_id, enh, 1, make.enhanced_tree(), note="one more branch",
                            now=NOW - 3 * DAY)
    review.approve(engine, actors["admin"], alpha_id, vpn, 1, now=NOW - 2 * DAY)
    review.reject(engine, actors["second"], alpha_id, outlook, 1, '=HYPERLINK("http://evil.example")', now=NOW - DAY)
    review.dismiss(engine, actors["outsider"], beta_id, theirs, 1, "not for us", now=NOW - DAY)
    with unit_of_work(engine) as db:
        save_account_thresholds(db, actors["admin"], alpha_id, {"min_sample": 20}, now=NOW)
    return World(alpha_id, beta_id, actors["admin"], actors["manager"], actors["analyst"], actors["outsider"],
                 flow, enh, vpn, outlook)


def read(engine, actor, account_id, filters=ActivityFilters(), page=1, page_size=100):
    with unit_of_work(engine) as db:
        return activity(db, actor, account_id, filters, page, page_size)


def actions(result) -> list[str]:
    return [r.action for r in result.rows]


def test_every_decision_and_threshold_change_of_the_account_newest_first(engine, world):
    result = read(engine, world.manager, world.account)
    assert actions(result) == ["thresholds_changed", "reject", "approve", "edit_publish"]
    assert result.total == 4 and result.pages == 1
    rejected = result.rows[1]
    assert (rejected.actor, rejected.proposal_id, rejected.reason) == (
        "second@alpha.example", world.outlook, '=HYPERLINK("http://evil.example")')
    published = result.rows[3]
    assert (published.flow_id, published.flow_name, published.flow_external_id) == (
        world.flow, "Printer offline", "printer-offline")
    assert "not for us" not in {r.reason for r in result.rows}  # beta-net's decision stays in beta-net


@pytest.mark.parametrize("filters, expected", [
    (ActivityFilters(person="second@alpha.example"), ["reject"]),
    (ActivityFilters(action="approve"), ["approve"]),
    (ActivityFilters(person="admin@alpha.example", action="reject"), []),
    (ActivityFilters(date_from=(NOW - 2 * DAY).date(), date_to=(NOW - DAY).date()), ["reject", "approve"]),
    (ActivityFilters(date_from=(NOW - DAY).date(), date_to=(NOW - 2 * DAY).date()), ["reject", "approve"]),
    (ActivityFilters(date_to=(NOW - 3 * DAY).date()), ["edit_publish"]),
    (ActivityFilters(date_from=NOW.date() + DAY), []),
    (ActivityFilters(person="admin@alpha.example' OR '1'='1"), []),  # a bound parameter, never SQL
])
def test_the_filters_narrow_the_list_in_sql(engine, world, filters, expected):
    result = read(engine, world.admin, world.account, filters)
    assert actions(result) == expected and result.total == len(expected)


def test_the_flow_filter_finds_the_decisions_on_that_flow(engine, world):
    result = read(engine, world.admin, world.account, ActivityFilters(flow_id=world.flow))
    assert actions(result) == ["edit_publish"]


def test_a_long_log_comes_a_page_at_a_time(engine, world):
    first = read(engine, world.admin, world.account, page=1, page_size=3)
    second = read(engine, world.admin, world.account, page=2, page_size=3)
    assert (first.total, first.pages) == (4, 2)
    assert actions(first) == ["thresholds_changed", "reject", "approve"] and actions(second) == ["edit_publish"]


def test_the_filter_choices_are_what_the_accounts_log_holds(engine, world):
    with unit_of_work(engine) as db:
        choices = activity_choices(db, world.admin, world.account)
    assert choices.persons == ("admin@alpha.example", "second@alpha.example")
    assert choices.actions == ("approve", "edit_publish", "reject", "thresholds_changed")
    assert [name for _, name in choices.flows] == ["Printer offline", "VPN drops every hour"]


def test_an_opened_publication_has_its_tree_before_and_after(engine, world):
    [entry] = read(engine, world.admin, world.account, ActivityFilters(action="edit_publish")).rows
    with unit_of_work(engine) as db:
        detail = activity_entry(db, world.admin, world.account, entry.id)
    assert detail.kind == "tree"
    assert detail.tree_before == make.TREE and detail.tree_after == make.enhanced_tree()
    assert (detail.base_flow_version, detail.flow_version, detail.edited) == (1, 2, False)
    assert detail.proposal_title == "Printer offline: one user only" and detail.entry.reason == "one more branch"


def test_an_opened_threshold_change_lists_the_settings_that_changed(engine, world):
    [entry] = read(engine, world.admin, world.account, ActivityFilters(action="thresholds_changed")).rows
    with unit_of_work(engine) as db:
        detail = activity_entry(db, world.admin, world.account, entry.id)
    assert detail.kind == "settings"
    assert [(c.name, c.before, c.after) for c in detail.settings] == [("Minimum sample for a rate", "10", "20")]


def test_an_opened_rejection_keeps_the_proposed_tree_and_changes_nothing(engine, world):
    [entry] = read(engine, world.admin, world.account, ActivityFilters(action="reject")).rows
    with unit_of_work(engine) as db:
        detail = activity_entry(db, world.admin, world.account, entry.id)
    assert detail.kind == "decision" and detail.proposed_tree == make.TREE
    assert detail.tree_before is None and detail.tree_after is None


def test_another_accounts_entry_does_not_open(engine, world):
    with unit_of_work(engine) as db:
        theirs = db.scalar(select(AuditEntry.id).where(AuditEntry.account_id == world.other_account))
        assert activity_entry(db, world.admin, world.account, theirs) is None


@pytest.mark.parametrize("who", ["admin", "manager", "analyst"])
def test_admins_managers_and_analysts_who_may_export_read_the_activity(engine, world, who):
    assert read(engine, getattr(world, who), world.account).total == 4


def test_an_analyst_whose_role_may_not_export_is_refused(engine, world, monkeypatch):
    monkeypatch.setitem(PERMISSIONS, "analyst", frozenset({"home", "analytics", "knowledge_gaps"}))
    with pytest.raises(NotAllowed, match=r"Your role in this account \(analyst\) may not see who decided what"):
        read(engine, world.analyst, world.account)
    with unit_of_work(engine) as db, pytest.raises(NotAllowed):
        activity_choices(db, world.analyst, world.account)


def test_a_user_of_another_account_sees_nothing(engine, world):
    with unit_of_work(engine) as db:
        for call in (lambda: activity(db, world.outsider, world.account),
                     lambda: activity_choices(db, world.outsider, world.account),
                     lambda: activity_entry(db, world.outsider, world.account, 1),
                     lambda: activity_table(db, world.outsider, world.account, "alpha-it")):
            with pytest.raises(NotAllowed, match="not a member of this account"):
                call()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_the_csv_holds_every_filtered_entry_formula_safe(engine, world):
    rows = csv_rows(activity_csv(engine, world.manager, world.account, "alpha-it"))
    assert [r["action"] for r in rows] == ["thresholds_changed", "reject", "approve", "edit_publish"]
    assert rows[1]["reason"] == '\'=HYPERLINK("http://evil.example")'  # text, not a formula
    assert (rows[3]["flow_id"], rows[3]["flow_name"], rows[3]["action_words"]) == (
        "printer-offline", "Printer offline", "Edited and published")
    only = csv_rows(activity_csv(engine, world.manager, world.account, "alpha-it", ActivityFilters(action="approve")))
    assert [r["proposal_id"] for r in only] == [str(world.vpn)]


def test_the_command_lines_activity_export_covers_the_period(engine, world):
    def export(days):
        out = io.StringIO(newline="")
        with unit_of_work(engine) as db:
            write_export(db, OPERATOR, "activity", account_request(db, "alpha-it", days, NOW + timedelta(hours=1)), out)
        return csv_rows(out.getvalue().encode())
    assert len(export(None)) == 4
    assert [r["action"] for r in export(2)] == ["thresholds_changed", "reject"]


def test_python_m_core_export_activity_writes_the_accounts_decisions(engine, world, tmp_path):
    out = tmp_path / "activity.csv"
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = subprocess.run([sys.executable, "-m", "core", "export", "activity", "--account", "alpha-it", "--out", str(out)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Wrote 4 rows" in result.stdout
    assert [r["who"] for r in csv_rows(out.read_bytes())] == [
        "admin@alpha.example", "second@alpha.example", "admin@alpha.example", "admin@alpha.example"]


# --- the threshold audit write -----------------------------------------------------------------

def threshold_entries(engine, account_id) -> list[AuditEntry]:
    with unit_of_work(engine) as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.account_id == account_id,
                                                        AuditEntry.action.like("thresholds%")).order_by(AuditEntry.id)))


def test_a_threshold_save_is_recorded_with_every_value_before_and_after(engine, world):
    [entry] = threshold_entries(engine, world.account)
    assert (entry.actor, entry.user_id, entry.created_at) == ("admin@alpha.example", world.admin.user_id, NOW)
    assert entry.details["before"] == asdict(DEFAULT_THRESHOLDS)
    assert entry.details["after"] == {**asdict(DEFAULT_THRESHOLDS), "min_sample": 20}


def test_a_reset_to_the_defaults_is_recorded_and_a_save_that_changes_nothing_is_not(engine, world):
    with unit_of_work(engine) as db:
        save_account_thresholds(db, world.admin, world.account, {"min_sample": 20})  # as it is
        save_account_thresholds(db, world.admin, world.account, DEFAULT_THRESHOLDS)
    entries = threshold_entries(engine, world.account)
    assert [e.action for e in entries] == ["thresholds_changed", "thresholds_reset"]
    assert entries[1].details["after"] == asdict(DEFAULT_THRESHOLDS)


def test_a_refused_threshold_save_records_nothing(engine, world):
    with unit_of_work(engine) as db, pytest.raises(NotAllowed):
        save_account_thresholds(db, world.manager, world.account, {"min_sample": 30})
    with pytest.raises(ValueError):
        with unit_of_work(engine) as db:
            save_account_thresholds(db, world.admin, world.account, {"min_sample": 30})
            raise ValueError("the transaction fails after the save")
    assert len(threshold_entries(engine, world.account)) == 1
    with unit_of_work(engine) as db:
        assert db.get(Account, world.account).settings == {"gaps": {"min_sample": 20}}


def test_dates_filter_by_utc_day_inclusive(engine, world):
    today = read(engine, world.admin, world.account, ActivityFilters(date_from=NOW.date(), date_to=NOW.date()))
    assert actions(today) == ["thresholds_changed"]
