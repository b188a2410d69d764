"""Knowledge gaps: where the published flows fail the engineers, from the record of sessions.

``build_gap_report`` is the entry point; ``thresholds`` holds the per-account settings,
``queries`` the SQL reads, ``signals`` the pure rules, ``clustering`` the text clustering.
"""

from core.gaps.report import GapReport, build_gap_report
from core.gaps.signals import Gap, wilson_interval
from core.gaps.thresholds import (
    DEFAULT_THRESHOLDS, GapThresholds, ThresholdError, load_thresholds, save_thresholds,
)

__all__ = ["DEFAULT_THRESHOLDS", "Gap", "GapReport", "GapThresholds", "ThresholdError",
           "build_gap_report", "load_thresholds", "save_thresholds", "wilson_interval"]
