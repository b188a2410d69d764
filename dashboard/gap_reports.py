"""The gap report as the Knowledge gaps page shows it, cached once for every page that needs it:
Home's top gaps are the first lines of the very report the gaps page draws, not a second one.

Cached per database, account, period, thresholds and data version (``core.sessions.data_version``): an
import or a finished analysis batch makes a new entry at once.
"""

from __future__ import annotations

import streamlit as st

from core.accounts.auth import Actor
from core.gaps import GapReport, GapThresholds, load_thresholds
from core.gaps.related import gap_report_for
from core.periods import Period
from core.sessions.data_version import DataVersion, data_version
from core.settings import get_settings
from dashboard import resources

TTL = get_settings().cache_ttl_seconds


@st.cache_data(ttl=TTL, show_spinner="Building the gap report…")
def report(url: str, actor: Actor, account_id: int, days: int, thresholds: GapThresholds,
           version: tuple) -> GapReport:
    # ``version`` is only part of the key: new sessions, flows or thresholds make a new entry.
    with resources.read_session(url) as db:
        return gap_report_for(db, actor, account_id, days, thresholds)


def stored_state(url: str, account_id: int, days: int) -> tuple[GapThresholds, DataVersion]:
    """The account's saved thresholds and its data version over the report's two periods."""
    with resources.read_session(url) as db:
        return (load_thresholds(db, account_id),
                data_version(db, account_id, since=Period.last_days(days).previous_start))


def saved_report(url: str, actor: Actor, account_id: int, days: int) -> GapReport:
    """The report everyone sees for the period: the saved thresholds, the current data."""
    thresholds, version = stored_state(url, account_id, days)
    return report(url, actor, account_id, days, thresholds, version.sessions_and_flows)
