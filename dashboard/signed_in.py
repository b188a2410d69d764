"""Who is signed in to this browser session: password sign-in, single sign-on, idle timeout, sign-out.

Only the user id lives in the session state; the user and their roles are read from the
database again on every run, so a removed membership or a deactivated user takes effect at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from core.auth import (Actor, SignInThrottle, SingleSignOnRefused, actor_for_email, load_actor, sign_in,
                       verified_sso_email)
from core.db import unit_of_work
from core.settings import get_settings

_USER = "_user_id"
_LAST_SEEN = "_last_seen"
_ACTOR = "_actor"
NOTICE = "_sign_in_notice"


@st.cache_resource(show_spinner=False)
def throttle() -> SignInThrottle:
    """One throttle for the whole server process, shared by every browser session."""
    return SignInThrottle()


def sso_providers() -> list[str | None]:
    """The OIDC providers configured in ``.streamlit/secrets.toml``: [None] for a single unnamed one."""
    try:
        auth: Any = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return []
    if not auth:
        return []
    if "client_id" in auth:
        return [None]
    return [name for name, value in auth.items() if hasattr(value, "get") and "client_id" in value]


def _sso_claims() -> Mapping[str, Any] | None:
    """The identity provider's claims while signed in with single sign-on, else None."""
    try:
        return st.user if st.user.get("is_logged_in") else None
    except Exception:
        return None


def password_sign_in(engine, email: str, password: str) -> Actor:
    """Raises core.auth.SignInFailed (or SignInThrottled) with the message to show."""
    with unit_of_work(engine) as db:
        actor = sign_in(db, throttle(), email, password)
    st.session_state[_USER] = actor.user_id
    st.session_state[_LAST_SEEN] = time.time()
    return actor


def sign_out(notice: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE] = notice
    if _sso_claims() is not None:
        st.logout()  # clears st.user and sends the browser through the provider's sign-out


def signed_in_actor(engine) -> Actor | None:
    """The signed-in user for this run, after the idle timeout; None means: show the sign-in page."""
    timeout = get_settings().session_idle_timeout_minutes
    last_seen = st.session_state.get(_LAST_SEEN)
    now = time.time()
    if st.session_state.get(_USER) is not None and last_seen is not None and now - last_seen > timeout * 60:
        sign_out(f"You were signed out after {timeout} minutes without activity.")
        return None

    user_id = st.session_state.get(_USER)
    claims = _sso_claims() if user_id is None else None
    sso_email = None
    if claims is not None:
        try:
            sso_email = verified_sso_email(claims)  # refuses an email the provider has not verified
        except SingleSignOnRefused as refusal:
            st.session_state[NOTICE] = str(refusal)
    with unit_of_work(engine) as db:
        if user_id is not None:
            actor = load_actor(db, user_id)
        elif sso_email:
            actor = actor_for_email(db, sso_email)
            if actor is None:
                st.session_state[NOTICE] = (f"{sso_email} has no FlowPilot Insights user. "
                                            "Ask an admin to add you (`python -m core user add`).")
        else:
            actor = None
    if actor is None:
        st.session_state.pop(_USER, None)
        st.session_state.pop(_ACTOR, None)
        return None
    st.session_state[_USER] = actor.user_id
    st.session_state[_LAST_SEEN] = now
    st.session_state[_ACTOR] = actor
    return actor


def current_actor() -> Actor | None:
    """The user the entry point loaded on this run."""
    return st.session_state.get(_ACTOR)


def signed_in_with_sso() -> bool:
    """Signed in at the identity provider, whether or not that let the user in here."""
    return _sso_claims() is not None
