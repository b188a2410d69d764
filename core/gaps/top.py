"""One gap's address (a key a link can carry) and the few most severe gaps Home lists, taken from
the report the Knowledge gaps page builds: no second report, no extra read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.gaps.report import GapReport
from core.gaps.signals import Gap

SHOWN = 3


def gap_key(gap: Gap) -> str:
    """Twelve hex digits, stable across reruns, filters, orders and report rebuilds while the gap is
    about the same place: what a card's widgets are keyed by and what ``?gap=`` names."""
    e = gap.evidence
    text = f"{gap.gap_type}|{gap.domain}|{gap.title}|{e.get('flow_id')}|{e.get('node_id')}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def is_gap_key(text: str | None) -> bool:
    return text is not None and len(text) == 12 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class GapLine:
    key: str
    rank: int  # 1-based, in the report's (severity) order
    title: str
    severity: str
    gap_type: str
    domain: str | None
    emerging: bool
    expected_per_month: float


@dataclass(frozen=True)
class TopGaps:
    total: int
    period_days: int
    first: tuple[GapLine, ...]


def top_gaps(report: GapReport, limit: int = SHOWN) -> TopGaps:
    """The first ``limit`` gaps in the order the Knowledge gaps page shows them (most severe first)."""
    first = tuple(GapLine(key=gap_key(g), rank=rank, title=g.title, severity=g.severity, gap_type=g.gap_type,
                          domain=g.domain, emerging=g.emerging, expected_per_month=report.expected_per_month(g))
                  for rank, g in enumerate(report.gaps[:max(0, limit)], start=1))
    return TopGaps(total=len(report.gaps), period_days=report.period_days, first=first)
