"""The knowledge-gap report in words: each gap type's name, and the thresholds' groups and labels
the tuning form shows with the one line each setting gets on the Activity page ("High escalation:
high"), from one table.

A kind says how a value reads: ``int`` and ``float`` as they are, ``share`` (a fraction) as a
percentage.
"""

from __future__ import annotations

from dataclasses import dataclass


GAP_TYPE_WORDS = {"weak_options": "Missing option", "dead_end": "Dead end", "failing_action": "Failing step",
                  "high_escalation": "High escalation", "uncharted_territory": "Uncharted territory",
                  "repeated_pattern": "Repeated pattern"}


@dataclass(frozen=True)
class ThresholdField:
    name: str  # a field of GapThresholds
    label: str  # under its group's title in the form
    kind: str  # "int", "float" or "share"


@dataclass(frozen=True)
class ThresholdGroup:
    title: str  # the form's heading
    topic: str  # what the group is about, in a line of its own ("" for general settings)
    fields: tuple[ThresholdField, ...]


def _group(title: str, topic: str, *fields: tuple[str, str, str]) -> ThresholdGroup:
    return ThresholdGroup(title, topic, tuple(ThresholdField(*f) for f in fields))


THRESHOLD_GROUPS = (
    _group("General", "",
           ("min_sample", "Minimum sample for a rate", "int"), ("confidence_z", "Interval z (1.96 = 95%)", "float"),
           ("emerging_ratio", "Emerging: times the previous period", "float"),
           ("emerging_min", "Emerging: at least", "int")),
    _group("Severity by volume (bars: a share of the period's sessions, never under a floor)", "Severity by volume",
           ("medium_share", "Medium from sessions", "share"), ("high_share", "High from sessions", "share"),
           ("excess_medium", "Rates' medium floor (extra sessions)", "int"),
           ("excess_high", "Rates' high floor (extra sessions)", "int")),
    _group("Missing options (typed answers)", "Missing options",
           ("free_text_low", "Low", "share"), ("free_text_medium", "Medium", "share"),
           ("free_text_high", "High", "share"), ("min_free_text", "At least typed answers", "int")),
    _group("High escalation", "High escalation",
           ("escalation_low", "Low", "share"), ("escalation_medium", "Medium", "share"),
           ("escalation_high", "High", "share"),
           ("escalation_listed_count", "Always listed from escalations", "int"),
           ("escalation_listed_rate", "Always listed at over", "share")),
    _group("Failing steps", "Failing steps",
           ("failure_low", "Low", "share"), ("failure_medium", "Medium", "share"), ("failure_high", "High", "share")),
    _group("Dead ends", "Dead ends",
           ("dead_end_low", "Low", "share"), ("dead_end_medium", "Medium", "share"),
           ("dead_end_high", "High", "share"), ("min_dead_ends", "At least sessions ending", "int")),
    _group("Uncharted territory (sessions)", "Uncharted territory",
           ("uncharted_min", "Listed from", "int"), ("uncharted_medium", "Medium floor (no flow: medium)", "int"),
           ("uncharted_high", "High floor", "int")),
    _group("Repeated patterns (sessions)", "Repeated patterns",
           ("pattern_min", "Listed from", "int"), ("pattern_medium", "Medium floor", "int"),
           ("pattern_high", "High floor", "int"), ("cluster_distance", "Cluster distance (0–1)", "float")),
)


def _line(group: ThresholdGroup, field: ThresholdField) -> str:
    return f"{group.topic}: {field.label[0].lower()}{field.label[1:]}" if group.topic else field.label


# name -> (the setting in a line of its own, its kind), in the form's order
THRESHOLD_LABELS: dict[str, tuple[str, str]] = {
    f.name: (_line(g, f), f.kind) for g in THRESHOLD_GROUPS for f in g.fields}
