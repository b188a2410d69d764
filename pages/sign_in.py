"""Sign-in: email and password, or single sign-on when it is configured."""

from __future__ import annotations

import streamlit as st

from core.accounts.auth import SignInFailed
from core.accounts.users import has_users
from core.db import unit_of_work
from dashboard import resources, signed_in
from dashboard.text import md_escape, md_label

NO_USERS = (
    "**There are no users yet.** Add one in the project folder, then sign in:\n\n"
    "`python -m core user add you@example.com --account SLUG --role admin`\n\n"
    "(`make run` creates the demo admin `admin@flowpilot.example` and prints its password.)"
)


def _no_users() -> bool:
    with unit_of_work(resources.engine()) as db:
        return not has_users(db)


def sign_in_page() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("FlowPilot Insights")
        notice = st.session_state.pop(signed_in.NOTICE, None)
        if notice:
            st.info(md_escape(notice), icon=":material/info:")  # it names the SSO email
        if signed_in.signed_in_with_sso():
            st.button("Sign out of single sign-on", on_click=st.logout, icon=":material/logout:")
            return
        if _no_users():
            st.info(NO_USERS, icon=":material/person_add:")

        with st.form("sign_in", border=True):
            st.subheader("Sign in", anchor=False)
            email = st.text_input("Email", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            try:
                signed_in.password_sign_in(resources.engine(), email, password)
            except SignInFailed as failure:
                st.error(md_escape(str(failure)), icon=":material/lock:")
            else:
                st.rerun()

        providers = signed_in.sso_providers()
        if providers:
            st.caption("or")
            for provider in providers:
                label = ("Sign in with single sign-on" if provider is None
                         else f"Sign in with {md_label(provider.title())}")
                if st.button(label, key=f"sso_{provider}", icon=":material/key:", width="stretch"):
                    try:
                        st.login(provider) if provider else st.login()
                    except Exception as exc:  # e.g. Authlib missing: say so instead of a traceback
                        st.error(f"Single sign-on is not available: {md_escape(exc)}", icon=":material/error:")
