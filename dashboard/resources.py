"""What every page shares: the database engine, the selected account, the page-level role check.

Caching lives here and in the pages, never in ``core``. Cached reads take the database URL as
an argument so that two databases (tests, or a changed DATABASE_URL) never share entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import PERMISSION_TEXT, Actor
from core.accounts.directory import AccountRef
from core.db import SchemaOutOfDate, make_engine, require_current_schema, unit_of_work
from core.settings import get_settings
from dashboard import signed_in
from dashboard.text import md_escape, trusted

ACCOUNT_KEY = "account"
_CURRENT = "_current_account"
_ROLE = "_current_role"


@st.cache_resource(show_spinner=False)
def _engine_for(database_url: str, auto_upgrade: bool) -> Engine:
    engine = make_engine(database_url)
    try:
        require_current_schema(engine, auto_upgrade=auto_upgrade)
    except Exception:
        # Not cached on failure: the next rerun after `db upgrade` checks again.
        engine.dispose()
        raise
    return engine


def database_url() -> str:
    return get_settings().effective_database_url


def engine() -> Engine:
    """The shared engine, on an up-to-date schema; otherwise an error on the page, and stop."""
    settings = get_settings()
    try:
        return _engine_for(settings.effective_database_url, settings.uses_embedded_database)
    except SchemaOutOfDate as exc:
        # core's own message: revision ids and the command to run, in Markdown code.
        st.error(trusted(str(exc)), icon=":material/database:")
        st.stop()


@contextmanager
def read_session(url: str) -> Iterator[OrmSession]:
    """A session for cached reads; the schema was checked when the app started this run."""
    settings = get_settings()
    with unit_of_work(_engine_for(url, settings.uses_embedded_database)) as db:
        yield db


def select_account(actor: Actor) -> AccountRef | None:
    """The sidebar's account switcher, limited to the signed-in user's memberships and mirrored
    in the URL (``?account=slug``) so links reopen it. A slug the user is not a member of in a
    link is ignored, never trusted."""
    choices = {a.slug: a for a in actor.accounts}
    if not choices:
        st.query_params.pop(ACCOUNT_KEY, None)
        st.session_state.pop(ACCOUNT_KEY, None)
        st.session_state[_CURRENT] = None
        return None
    if st.session_state.get(ACCOUNT_KEY) not in choices:
        requested = st.query_params.get(ACCOUNT_KEY)
        st.session_state[ACCOUNT_KEY] = requested if requested in choices else next(iter(choices))
    if len(choices) > 1:
        slug = st.sidebar.selectbox(
            "Account", list(choices), key=ACCOUNT_KEY,
            format_func=lambda s: choices[s].name if choices[s].name == s else f"{choices[s].name} ({s})",
        )
    else:
        slug = st.session_state[ACCOUNT_KEY]
    chosen = choices[slug]
    st.query_params[ACCOUNT_KEY] = slug
    st.session_state[_CURRENT] = AccountRef(id=chosen.account_id, slug=chosen.slug, name=chosen.name)
    st.session_state[_ROLE] = chosen.role
    return st.session_state[_CURRENT]


def current_account() -> AccountRef | None:
    """The account the sidebar selected on this run; the entry point selects it before any page runs."""
    return st.session_state.get(_CURRENT)


def current_role() -> str | None:
    return st.session_state.get(_ROLE)


def require(permission: str) -> tuple[Actor, AccountRef]:
    """The signed-in user and account for a page that needs ``permission``; otherwise a refusal, and stop.

    The navigation already hides pages a role may not open; this is the server-side check that
    holds even when a page is reached some other way.
    """
    actor = signed_in.current_actor()
    account = current_account()
    if actor is None or account is None or not actor.may(account.id, permission):
        st.error(f"You may not {PERMISSION_TEXT.get(permission, md_escape(permission))} in this account.",
                 icon=":material/block:")
        st.stop()
    return actor, account
