"""The dashboard's single entry point: `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project root that holds
# `core` and `pages`, so a plain `streamlit run dashboard/app.py` could not import them.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from core.settings import get_settings  # noqa: E402
from dashboard import resources  # noqa: E402
from pages.home import home  # noqa: E402

st.set_page_config(page_title="FlowPilot Insights", page_icon=":material/insights:", layout="wide")

resources.engine()
with st.sidebar:
    st.markdown("### :material/insights: FlowPilot Insights")
resources.select_account(resources.accounts(resources.database_url()))
st.sidebar.button(
    "Refresh data", icon=":material/refresh:", on_click=st.cache_data.clear,
    help=f"Numbers are kept for up to {get_settings().cache_ttl_seconds // 60} minutes; this reads them again now.",
)

navigation = st.navigation([
    st.Page(home, title="Home", icon=":material/home:", url_path="home", default=True),
])
navigation.run()
