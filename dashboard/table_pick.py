"""Picking one row of a selectable table: which row the user just picked, or that they cleared it.

Streamlit keeps a table's selection under the table's key, so each table is keyed by the ids it
shows: a selection made on other rows (another page, other filters) never carries over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pandas as pd
import streamlit as st

CLEARED = -1


def table_key(prefix: str, ids: Iterable[object]) -> str:
    return prefix + hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:12]


def picked_id(event, frame: pd.DataFrame) -> int | None:
    """The ``id`` of the selected row, if any."""
    rows = event.selection.rows
    return int(frame.iloc[rows[0]]["id"]) if rows else None


def new_pick(event, frame: pd.DataFrame, key: str, state_key: str) -> int | None:
    """The id of a row picked on this run; ``CLEARED`` when the user cleared the selection on this
    same table; None when nothing changed (so a rerun does not reopen what the user closed)."""
    picked = picked_id(event, frame)
    last = st.session_state.get(state_key)
    st.session_state[state_key] = (key, picked)
    if picked is not None and last != (key, picked):
        return picked
    if picked is None and last is not None and last[0] == key and last[1] is not None:
        return CLEARED
    return None
