"""Plotly's JavaScript loaded in the browser before a page has charts to draw with it.

Streamlit's Plotly chunk is about 4.7 MB; a browser tab fetches and evaluates it when it meets
its first Plotly chart, one to two seconds of the browser's work (docs/benchmarks.md, Analytics).
A blank chart 10 pixels high makes the browser do that at a moment chosen here, once per browser
session: on Home, after its content, while the user reads it; on the Analytics page, when opened
first, while the server reads the figures.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

_LOADED = "_charts_loaded"


def _blank(slot, key: str) -> None:
    figure = go.Figure(layout=dict(height=10, margin=dict(l=0, r=0, t=0, b=0), xaxis=dict(visible=False),
                                   yaxis=dict(visible=False)))
    slot.plotly_chart(figure, width="stretch", config={"displayModeBar": False, "staticPlot": True}, key=key)


def load_ahead() -> None:
    """At the end of a page: the browser session's first such run loads Plotly once the page is
    drawn, so the first page with charts does not wait for it."""
    if not st.session_state.get(_LOADED):
        st.session_state[_LOADED] = True
        _blank(st, "chart_loading_ahead")


def start_loading():
    """A slot to clear once the page's figures are read, holding a blank chart if this browser
    session has not loaded Plotly yet: the browser loads it while the server reads, instead of
    after. The slot is there on every run so that the widgets below keep their place."""
    slot = st.empty()
    if not st.session_state.get(_LOADED):
        st.session_state[_LOADED] = True
        _blank(slot, "chart_loading")
    return slot
