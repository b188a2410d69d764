"""The figures and exports check who asks, inside core, on SQLite and PostgreSQL: a page that
forgets to check (or a new one) still meets a refusal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update

from core.accounts.auth import AccountRole, Actor, NotAllowed, SystemActor, authorize, load_actor
from core.commands import OPERATOR
from core.db import unit_of_work
from core.exports.catalog import EXPORTS, ExportRequest, export_bytes, export_chunks, write_export
from core.metrics import build_metrics
from core.metrics.headline import headline_numbers
from core.models import Membership, User
from tests import factories as make

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(engine: Engine) -> dict:
    """alpha-it with a user per role and two sessions; beta-net with its own admin."""
    with unit_of_work(engine) as db:
        alpha, beta = make.two_accounts_with_a_user_per_role(db)
        make.user(db, "admin@beta.example", {beta: "admin"})
        for _ in range(2):
            make.session(db, alpha)
        make.session(db, beta)
        ids = {"alpha": alpha.id, "beta": beta.id, "alpha_slug": alpha.slug}
    with unit_of_work(engine) as db:
        for email in ("admin@alpha.example", "manager@alpha.example", "analyst@alpha.example", "admin@beta.example"):
            ids[email] = load_actor(db, db.query(User.id).filter(User.email == email).scalar())
    return ids


def request(world: dict) -> ExportRequest:
    return ExportRequest(world["alpha"], world["alpha_slug"], 30, make.NOW)


def metrics(engine: Engine, actor, account_id: int):
    with unit_of_work(engine) as db:
        return build_metrics(db, actor, account_id, days=30, now=make.NOW)


def headline(engine: Engine, actor, account_id: int):
    with unit_of_work(engine) as db:
        return headline_numbers(db, actor, account_id, days=30, now=make.NOW)


def export(engine: Engine, actor, name: str, world: dict) -> str:
    out = io.StringIO(newline="")
    with unit_of_work(engine) as db:
        write_export(db, actor, name, request(world), out)
    return out.getvalue()


# --- exports ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_manager_cannot_build_any_export(engine, world, name):
    with pytest.raises(NotAllowed, match=r"Your role in this account \(manager\) may not export data"):
        export(engine, world["manager@alpha.example"], name, world)
    with pytest.raises(NotAllowed):
        export_bytes(engine, world["manager@alpha.example"], name, request(world))


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_an_analyst_can_build_every_export(engine, world, name):
    text = export(engine, world["analyst@alpha.example"], name, world)
    assert text.endswith("\r\n") and text.count("\r\n") >= 1  # at least the header


def test_an_analysts_sessions_export_holds_this_accounts_sessions(engine, world):
    text = export(engine, world["analyst@alpha.example"], "sessions", world)
    assert text.count("\r\nalpha-it,") == 2 and "beta-net" not in text


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_an_admin_of_another_account_cannot_export_this_one(engine, world, name):
    with pytest.raises(NotAllowed, match="not a member of this account"):
        export(engine, world["admin@beta.example"], name, world)


def test_a_streamed_export_is_refused_before_its_first_byte(engine, world):
    chunks = export_chunks(engine, world["manager@alpha.example"], "sessions", request(world))
    with pytest.raises(NotAllowed):
        next(chunks)


def test_every_export_checks_the_permission_itself(engine, world):
    """Called straight from the table, not through write_export: a new entry must check too."""
    manager = world["manager@alpha.example"]
    for name, build in EXPORTS.items():
        with unit_of_work(engine) as db, pytest.raises(NotAllowed):
            build(db, manager, request(world))


# --- figures ----------------------------------------------------------------------------------

def test_a_user_of_another_account_cannot_read_this_accounts_metrics_or_headline(engine, world):
    outsider = world["admin@beta.example"]
    with pytest.raises(NotAllowed, match="not a member of this account"):
        metrics(engine, outsider, world["alpha"])
    with pytest.raises(NotAllowed, match="not a member of this account"):
        headline(engine, outsider, world["alpha"])


@pytest.mark.parametrize("email", ["admin@alpha.example", "manager@alpha.example", "analyst@alpha.example"])
def test_every_role_reads_its_accounts_metrics_and_headline(engine, world, email):
    assert metrics(engine, world[email], world["alpha"])["volume"].totals["sessions"].value == 2
    assert headline(engine, world[email], world["alpha"]).sessions == 2


def test_a_forged_actor_claiming_a_membership_is_refused(engine, world):
    """The check reads the membership from the database, not from the actor the caller holds."""
    real = world["admin@beta.example"]
    alpha = world["manager@alpha.example"].accounts[0]
    forged = Actor(real.user_id, real.email, None, (AccountRole(alpha.account_id, alpha.slug, alpha.name, "admin"),))
    with pytest.raises(NotAllowed, match="not a member"):
        metrics(engine, forged, world["alpha"])


# --- users who lost their access since the actor was loaded ----------------------------------

def calls(engine: Engine, actor, world: dict):
    return {
        "metrics": lambda: metrics(engine, actor, world["alpha"]),
        "headline": lambda: headline(engine, actor, world["alpha"]),
        "export": lambda: export(engine, actor, "sessions", world),
    }


@pytest.mark.parametrize("call", ["metrics", "headline", "export"])
def test_a_deactivated_user_is_refused(engine, world, call):
    analyst = world["analyst@alpha.example"]
    calls(engine, analyst, world)[call]()  # allowed while active
    with unit_of_work(engine) as db:
        db.execute(update(User).where(User.id == analyst.user_id).values(is_active=False))
    with pytest.raises(NotAllowed, match="not a member"):
        calls(engine, analyst, world)[call]()


@pytest.mark.parametrize("call", ["metrics", "headline", "export"])
def test_a_removed_membership_is_refused(engine, world, call):
    analyst = world["analyst@alpha.example"]
    calls(engine, analyst, world)[call]()
    with unit_of_work(engine) as db:
        db.execute(delete(Membership).where(Membership.user_id == analyst.user_id))
    with pytest.raises(NotAllowed, match="not a member"):
        calls(engine, analyst, world)[call]()


# --- the command line's operator -------------------------------------------------------------

def test_the_command_line_operator_reads_metrics_and_builds_exports(engine, world):
    assert metrics(engine, OPERATOR, world["alpha"])["volume"].totals["sessions"].value == 2
    assert export(engine, OPERATOR, "sessions", world).count("\r\nalpha-it,") == 2


def test_the_operator_may_do_only_what_the_command_line_does(engine, world):
    with unit_of_work(engine) as db:
        assert authorize(db, OPERATOR, world["alpha"], "exports") == "operator"
        with pytest.raises(NotAllowed, match="operator at the command line may not review proposals"):
            authorize(db, OPERATOR, world["alpha"], "review")
        with pytest.raises(NotAllowed, match="may not open the home page"):
            headline_numbers(db, OPERATOR, world["alpha"])


def test_a_system_actor_cannot_be_made_outside_the_command_line():
    with pytest.raises(TypeError, match="command line only"):
        SystemActor("a page pretending", frozenset({"exports"}))
    with pytest.raises(AttributeError):
        OPERATOR.permissions = frozenset({"review"})


def test_an_account_id_passed_in_place_of_the_actor_is_refused(engine, world):
    with unit_of_work(engine) as db, pytest.raises(TypeError, match="needs an Actor"):
        build_metrics(db, world["alpha"], world["alpha"])  # the old call shape: (db, account_id, days)


def test_only_the_command_line_and_benchmarks_act_as_the_operator():
    """The dashboard, the scheduler and the services must act for the signed-in user."""
    allowed = {REPO / "core" / "accounts" / "auth.py"}
    offenders = [
        str(path.relative_to(REPO))
        for folder in ("core", "dashboard", "pages", "scheduler")
        for path in (REPO / folder).rglob("*.py")
        if path not in allowed and (REPO / "core" / "commands") not in path.parents
        and ("OPERATOR" in path.read_text(encoding="utf-8") or "SystemActor" in path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
