"""Load the heavy libraries in the background once the server starts, before a user needs them.

The gap report's text clustering imports scikit-learn and SciPy on first use: 1 to 8 seconds of
imports that the first visit to Knowledge gaps would otherwise wait for (measured by
``benchmarks/page_bench.py``). Running the clustering once on two texts loads whatever it uses.
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

logger = logging.getLogger("dashboard")


def _warm() -> None:
    try:
        from core.gaps.clustering import TextCount, cluster_texts

        cluster_texts([TextCount("printer offline", 2), TextCount("printer is offline", 2)], 0.75, 1)
        import plotly.graph_objects  # noqa: F401  (Analytics' charts)
        import plotly.subplots  # noqa: F401
    except Exception:  # a warm-up is an optimisation: the page does the same work if it failed
        logger.warning("Warming up the libraries failed", exc_info=True)


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread:
    """Once per server process (a cached resource), whichever session comes first."""
    thread = threading.Thread(target=_warm, name="warm-up", daemon=True)
    thread.start()
    return thread
