"""What every page shares: the database engine, the account list, the selected account.

Caching lives here and in the pages, never in ``core``. Cached reads take the database URL as
an argument so that two databases (tests, or a changed DATABASE_URL) never share entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

from core.db import SchemaOutOfDate, make_engine, require_current_schema, unit_of_work
from core.headline import AccountRef, list_accounts
from core.settings import get_settings

ACCOUNT_KEY = "account"
_CURRENT = "_current_account"


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
        st.error(str(exc), icon=":material/database:")
        st.stop()


@contextmanager
def read_session(url: str) -> Iterator[OrmSession]:
    """A session for cached reads; the schema was checked when the app started this run."""
    settings = get_settings()
    with unit_of_work(_engine_for(url, settings.uses_embedded_database)) as db:
        yield db


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False)
def accounts(url: str) -> list[AccountRef]:
    with read_session(url) as db:
        return list_accounts(db)


def select_account(choices: list[AccountRef]) -> AccountRef | None:
    """The sidebar's account switcher, mirrored in the URL (``?account=slug``) so links reopen it."""
    if not choices:
        st.query_params.pop(ACCOUNT_KEY, None)
        st.session_state.pop(ACCOUNT_KEY, None)
        st.session_state[_CURRENT] = None
        return None
    by_slug = {a.slug: a for a in choices}
    if st.session_state.get(ACCOUNT_KEY) not in by_slug:
        requested = st.query_params.get(ACCOUNT_KEY)
        st.session_state[ACCOUNT_KEY] = requested if requested in by_slug else choices[0].slug
    slug = st.sidebar.selectbox(
        "Account", list(by_slug), key=ACCOUNT_KEY,
        format_func=lambda s: by_slug[s].name if by_slug[s].name == s else f"{by_slug[s].name} ({s})",
    )
    st.query_params[ACCOUNT_KEY] = slug
    st.session_state[_CURRENT] = by_slug[slug]
    return by_slug[slug]


def current_account() -> AccountRef | None:
    """The account the sidebar selected on this run; the entry point selects it before any page runs."""
    return st.session_state.get(_CURRENT)
