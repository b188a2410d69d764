"""`python -m core user reset-password`: the way back in when the admin password is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.accounts.passwords import verify_password
from core.accounts.sign_in_sessions import issue_sign_in_session, resolve_sign_in_session
from core.db import make_engine, unit_of_work
from core.models import User
from tests import factories as make
from tests.integration.test_cli import BACKENDS, run_core


def _user_with_a_signed_in_browser(url: str) -> str:
    assert run_core(url, "db", "upgrade").returncode == 0
    engine = make_engine(url)
    with unit_of_work(engine) as db:
        acc = make.account(db, "example-msp")
        user = make.user(db, "admin@example.test", {acc: "admin"})
        token = issue_sign_in_session(db, user.id, timedelta(hours=12))
    engine.dispose()
    return token


@BACKENDS
def test_a_new_password_replaces_the_lost_one_and_signs_out_every_browser(scratch_database_url):
    url = scratch_database_url
    token = _user_with_a_signed_in_browser(url)
    result = run_core(url, "user", "reset-password", "Admin@Example.test", "--generate-password")
    assert result.returncode == 0, result.stderr
    assert "New password set for admin@example.test; signed out of 1 browser." in result.stdout
    password = result.stdout.split("Generated password (shown once): ")[1].strip()

    engine = make_engine(url)
    with unit_of_work(engine) as db:
        stored = db.scalars(select(User.password_hash)).one()
        assert verify_password(stored, password) and password not in stored
        assert not verify_password(stored, make.PASSWORD)
        assert resolve_sign_in_session(db, token, timedelta(hours=1)).ended == "revoked"
    engine.dispose()


@pytest.mark.parametrize("email", ["nobody@example.test", "not an email"])
def test_a_reset_for_someone_who_is_not_a_user_says_so_and_changes_nothing(tmp_path, email):
    url = f"sqlite:///{tmp_path / 'reset.db'}"
    _user_with_a_signed_in_browser(url)
    result = run_core(url, "user", "reset-password", email, "--generate-password")
    assert result.returncode == 1
    assert "user reset-password: no user" in result.stderr and "python -m core user add" in result.stderr
    assert "shown once" not in result.stdout
