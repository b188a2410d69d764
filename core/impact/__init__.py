"""Measured impact of every flow version: did the published change help? (docs/impact.md)"""

from core.impact.report import ImpactReport, build_impact

__all__ = ["ImpactReport", "build_impact"]
