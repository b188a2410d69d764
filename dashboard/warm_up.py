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
        _build_each_figure()
    except Exception:  # a warm-up is an optimisation: the page does the same work if it failed
        logger.warning("Warming up the libraries failed", exc_info=True)


def _build_each_figure() -> None:
    """Plotly imports the checks for each figure attribute on first use: about 0.3 s for the six of
    the Analytics page that a new server's first visit (two charts) and the first opening of each of
    its other tabs would otherwise wait for."""
    from dashboard import charts

    day = {"key": "2026-01-05", "sessions": 1, "resolved": 1, "escalated": 0, "abandoned": 0, "active": 0}
    charts.volume_over_time([day], weekly=False)
    charts.tier_mix_over_time([{"key": "2026-01-05", "tier": "guided", "sessions": 1, "total": 1}], weekly=False)
    charts.tier_calibration([{"tier": "guided", "sessions": 1, "resolution_rate": 1.0, "escalation_rate": 0.0}])
    charts.escalation_by_domain([{"domain": "email", "escalated": 0, "with_outcome": 1, "escalation_rate": 0.0}], 0.0)
    charts.time_to_resolution([{"label": "< 1 h", "cases": 1, "previous_cases": 0}], 0.5)
    charts.flow_usage([{"flow": "f", "sessions": 1, "resolved": 1, "with_outcome": 1, "resolution_rate": 1.0}])


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread:
    """Once per server process (a cached resource), whichever session comes first."""
    thread = threading.Thread(target=_warm, name="warm-up", daemon=True)
    thread.start()
    return thread
