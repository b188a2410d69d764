"""Analytics for managers and analysts: one account, one period, compared with the one before.

Every figure is a SQL aggregate computed the same way on SQLite and PostgreSQL; see
``report.build_metrics`` and docs/metrics-and-exports.md for the definitions. ``headline`` holds
Home's few figures, ``comparison`` whether a previous period may be compared at all.
"""

from core.metrics.figures import Figure, Group, Section
from core.metrics.report import FLAT_HEADER, MetricsReport, build_metrics
from core.metrics.window import MetricsFilters

__all__ = ["FLAT_HEADER", "Figure", "Group", "MetricsFilters", "MetricsReport", "Section", "build_metrics"]
