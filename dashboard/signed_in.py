"""Who is signed in to this browser: password sign-in, single sign-on, idle timeout, sign-out.

A password sign-in stays signed in across reloads, tabs and links: the browser keeps a random
token in a cookie (``COOKIE``), and every run checks it in the database
(``core.accounts.sign_in_sessions``), which also holds the idle timeout, the absolute expiry and the
revocation by *Sign out*. The user and their roles are read from the database again on every
run, so a removed membership or a deactivated user takes effect at once. Single sign-on keeps
its identity in Streamlit's own signed cookie (``st.login``); its idle timeout lives in the tab.

Streamlit has no way to send a Set-Cookie header from a run, so the cookie is written by a
two-line script (``st.html`` runs it in the page, not in a frame) and therefore cannot be
HttpOnly: docs/security.md says why that is acceptable here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import streamlit as st

from core.accounts.auth import (Actor, SignInThrottle, SingleSignOnRefused, actor_for_email, load_actor, sign_in,
                       verified_sso_email)
from core.db import unit_of_work
from core.settings import get_settings
from core.accounts.sign_in_sessions import (issue_sign_in_session, resolve_sign_in_session, revoke_sign_in_sessions,
                                   token_shaped)

COOKIE = "flowpilot_signed_in"
_TOKEN = "_sign_in_token"
# Tokens this tab found no good (or signed out of): the cookie the tab's connection sent stays the
# same until a reload, so it must not be tried (and its notice shown) again on every run.
_REFUSED = "_refused_sign_in_tokens"
# (token, max_age): this tab signed in and must give its browser the cookie.
_WRITE_COOKIE = "_write_sign_in_cookie"
_CLEAR_COOKIE = "_clear_sign_in_cookie"
_USER = "_user_id"  # single sign-on only
_LAST_SEEN = "_last_seen"  # single sign-on only
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


def _minutes(minutes: float) -> str:
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def _idle_timeout() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_timeout_minutes)


def password_sign_in(engine, email: str, password: str) -> Actor:
    """Raises core.accounts.auth.SignInFailed (or SignInThrottled) with the message to show."""
    lifetime = timedelta(hours=get_settings().session_lifetime_hours)
    with unit_of_work(engine) as db:
        actor = sign_in(db, throttle(), email, password)
        token = issue_sign_in_session(db, actor.user_id, lifetime)
    st.session_state[_TOKEN] = token
    st.session_state[_WRITE_COOKIE] = (token, int(lifetime.total_seconds()))
    st.session_state.pop(_CLEAR_COOKIE, None)
    return actor


def sign_out(engine=None, notice: str | None = None) -> None:
    """Ends the sign-in in every tab and browser of the user (their tokens are revoked in the
    database, not only this browser's cookie deleted), and clears this browser's cookie."""
    actor = st.session_state.get(_ACTOR)
    if engine is not None and actor is not None:
        with unit_of_work(engine) as db:
            revoke_sign_in_sessions(db, actor.user_id)
    refused = {*st.session_state.get(_REFUSED, ()), st.session_state.get(_TOKEN), _cookie_token()} - {None}
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[_CLEAR_COOKIE] = True
    st.session_state[_REFUSED] = refused
    if notice:
        st.session_state[NOTICE] = notice
    if _sso_claims() is not None:
        st.logout()  # clears st.user and sends the browser through the provider's sign-out


def _cookie_token() -> str | None:
    """The token the browser sent when this tab connected (a reload sends the current one)."""
    try:
        return st.context.cookies.get(COOKIE)
    except Exception:  # no browser connection (a bare script run)
        return None


_ENDED_NOTICE = {
    "idle": lambda: f"You were signed out after {_minutes(get_settings().session_idle_timeout_minutes)} "
                    "without activity.",
    "expired": lambda: (f"Your sign-in ended after {get_settings().session_lifetime_hours:g} hours; "
                        "please sign in again."),
    "revoked": lambda: "You were signed out (Sign out in another tab or browser, or a new password).",
}


def _token_actor(engine) -> Actor | None:
    """The user this browser's token signs in, or None (with a notice when the user should know why)."""
    token = st.session_state.get(_TOKEN)
    if token is None:
        token = _cookie_token()
        if token is None or token in st.session_state.get(_REFUSED, ()):
            return None
    with unit_of_work(engine) as db:
        resolved = resolve_sign_in_session(db, token, _idle_timeout())
    if resolved.actor is not None:
        st.session_state[_TOKEN] = token
        return resolved.actor
    st.session_state.pop(_TOKEN, None)
    st.session_state.pop(_WRITE_COOKIE, None)
    st.session_state[_REFUSED] = {*st.session_state.get(_REFUSED, ()), token}
    st.session_state[_CLEAR_COOKIE] = True
    notice = _ENDED_NOTICE.get(resolved.ended or "")
    if notice is not None:
        st.session_state[NOTICE] = notice()
    return None


def _sso_actor(engine) -> Actor | None:
    """Single sign-on: the user the identity provider vouches for, with the tab's idle timeout."""
    timeout = get_settings().session_idle_timeout_minutes
    last_seen = st.session_state.get(_LAST_SEEN)
    now = time.time()
    if st.session_state.get(_USER) is not None and last_seen is not None and now - last_seen > timeout * 60:
        # Only this tab: an idle tab is no reason to end the user's sign-ins in other browsers.
        sign_out(notice=f"You were signed out after {_minutes(timeout)} without activity.")
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
        return None
    st.session_state[_USER] = actor.user_id
    st.session_state[_LAST_SEEN] = now
    return actor


def signed_in_actor(engine) -> Actor | None:
    """The signed-in user for this run; None means: show the sign-in page."""
    actor = _token_actor(engine) or _sso_actor(engine)
    if actor is None:
        st.session_state.pop(_ACTOR, None)
        return None
    st.session_state[_ACTOR] = actor
    return actor


def sync_cookie(signed_in: bool) -> None:
    """Gives the browser the token this tab signed in with, or deletes a cookie that no longer
    signs in. Rendered on every run with the same text, so the page runs the script once."""
    secure = '+(location.protocol==="https:"?"; Secure":"")'
    write = st.session_state.get(_WRITE_COOKIE) if signed_in else None
    if write is not None:
        token, max_age = write
        if not token_shaped(token):
            return  # never: the token comes from core; but nothing else may reach the script
        value = f'"{COOKIE}={token}; Path=/; Max-Age={int(max_age)}; SameSite=Strict"'
    elif not signed_in and (st.session_state.get(_CLEAR_COOKIE) or _cookie_token() is not None):
        value = f'"{COOKIE}=; Path=/; Max-Age=0; SameSite=Strict"'
    else:
        return
    # The token is 43 URL-safe base64 characters (checked above): nothing to escape.
    st.html(f"<script>document.cookie={value}{secure};</script>", unsafe_allow_javascript=True)


def current_actor() -> Actor | None:
    """The user the entry point loaded on this run."""
    return st.session_state.get(_ACTOR)


def signed_in_with_sso() -> bool:
    """Signed in at the identity provider, whether or not that let the user in here."""
    return _sso_claims() is not None
