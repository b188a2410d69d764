"""The dashboard's single entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project root that holds
# `core` and `pages`, so a plain `streamlit run dashboard/app.py` could not import them.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException  # noqa: E402

from core.settings import get_settings  # noqa: E402
from dashboard import resources, signed_in, warm_up  # noqa: E402
from dashboard.navigation import all_pages, pages_for  # noqa: E402
from dashboard.text import md_escape  # noqa: E402
from pages.sign_in import sign_in_page  # noqa: E402

st.set_page_config(page_title="FlowPilot Insights", page_icon=":material/insights:", layout="wide")
warm_up.start()

engine = resources.engine()
actor = signed_in.signed_in_actor(engine)
if actor is None:
    # Every page stays registered (hidden), so a link to a page and its filters is still the
    # address after signing in; whichever page the link named, the sign-in form is what runs.
    st.navigation(all_pages(), position="hidden")
    sign_in_page()
    signed_in.sync_cookie(signed_in=False)
    st.stop()

with st.sidebar:
    st.markdown("### :material/insights: FlowPilot Insights")
account = resources.select_account(actor)
with st.sidebar:
    role = f" · {md_escape(resources.current_role())}" if account else ""
    who = md_escape(actor.label) if actor.display_name is None else f"{md_escape(actor.label)} ({md_escape(actor.email)})"
    st.caption(f":material/person: {who}{role}")
    if account is not None and len(actor.accounts) == 1:
        st.caption(f":material/domain: {md_escape(account.name)}")
    st.button("Refresh data", icon=":material/refresh:", on_click=st.cache_data.clear,
              help=f"Numbers are kept for up to {get_settings().cache_ttl_seconds // 60} minutes; this reads them again now.")
    st.button("Sign out", icon=":material/logout:", on_click=signed_in.sign_out, args=(engine,), key="sign_out",
              help="Signs you out in every tab and browser.")
    signed_in.sync_cookie(signed_in=True)

if account is None:
    st.title("FlowPilot Insights")
    st.warning("Your user is not a member of any account yet. Ask an admin to add you "
               "(`python -m core user add EMAIL --account SLUG --role ROLE`).", icon=":material/group_off:")
    st.stop()

logger = logging.getLogger("dashboard")
PAGE_FAILED = ("Something went wrong on this page; it was logged for the administrators. "
               "Try again, or open another page.")

page = st.navigation(pages_for(actor, account.id))
try:
    page.run()
except ScriptControlException:
    raise  # st.rerun, st.stop, st.switch_page: control flow, not failures
except Exception:
    # The traceback (server paths, SQL) goes to the server log, never to the browser.
    logger.exception("Page %s failed for user %s", page.url_path, actor.user_id)
    st.error(PAGE_FAILED, icon=":material/error:")
