"""The gap a link names (``?gap=KEY``, from Home): drawn first on the Knowledge gaps page, its
evidence open on arrival. A key that is malformed, or that no gap of the period has, is dropped
with a notice, never trusted."""

from __future__ import annotations

import streamlit as st

from core.gaps import GapReport
from core.gaps.top import gap_key, is_gap_key
from dashboard import url_params

_LINKED = "kg_gap"
_ARRIVED = "_kg_gap_arrived"


def load_url_state() -> None:
    """On the page's first run in this browser session (with the other filters)."""
    raw = (st.query_params.get("gap") or "").strip()
    st.session_state[_LINKED] = raw if is_gap_key(raw) else None
    st.session_state[_ARRIVED] = is_gap_key(raw)
    if raw and not is_gap_key(raw):
        url_params.ignored("gap", raw, "not a gap's key")


def linked() -> str | None:
    return st.session_state.get(_LINKED)


def _usual_order() -> None:
    st.session_state[_LINKED] = None


def linked_first(report: GapReport, ranks: list[int]) -> list[int]:
    """``ranks`` with the linked gap first. A gap the filters leave out stays out: they were chosen later."""
    key = linked()
    if not key:
        return ranks
    rank = next((r for r, g in enumerate(report.gaps, start=1) if gap_key(g) == key), None)
    if rank is None:
        st.session_state[_LINKED] = None
        url_params.ignored("gap", key, f"no gap of the last {report.period_days:d} days has it (the sessions "
                                       "or flows may have changed since the link was made)")
        return ranks
    if rank not in ranks:
        return ranks
    if st.session_state.pop(_ARRIVED, False):
        st.session_state[f"kg_evidence_{key}"] = True  # the card's Evidence expander, opened once
    note, back = st.columns([3, 1], vertical_alignment="center")
    note.caption(f":material/link: The gap from the link comes first: number {rank:d} of {len(report.gaps):,} "
                 "by severity.")
    back.button("Show in the usual order", key="kg_usual_order", on_click=_usual_order,
                icon=":material/sort:", width="stretch")
    return [rank] + [r for r in ranks if r != rank]
