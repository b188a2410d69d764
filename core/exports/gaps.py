"""The gap report as a CSV table (`python -m core export gaps`): one row per gap, its evidence
flattened into columns that read the same whatever the gap's type."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.csv_safe import Table
from core.gaps.report import GapReport, build_gap_report
from core.gaps.signals import Gap
from core.metrics.figures import percent

GAPS_HEADER = (
    "account", "rank", "severity", "gap_type", "domain", "emerging", "title", "description",
    "suggested_action", "flow_id", "flow_name", "node_id", "subject", "count", "sample", "rate",
    "rate_low", "rate_high", "previous_period_count", "details", "session_count_listed", "session_ids",
)

# Per gap type: (what it is about, the count, the sample the rate is out of, the rate, its interval,
# the previous period's count). Counts without a rate leave the rate columns empty.
_FIELDS = {
    "weak_options": ("question", "free_text_count", "responses", "free_text_rate", "free_text_rate_interval",
                     "previous_period_free_text_count"),
    "failing_action": ("step", "failed", "attempts", "failure_rate", "failure_rate_interval",
                       "previous_period_failed"),
    "dead_end": ("step", "ended_here", "sessions_reaching", "end_rate", "end_rate_interval",
                 "previous_period_ended_here"),
    "high_escalation": (None, "escalated", "finished_sessions", "escalation_rate", "escalation_rate_interval",
                        "previous_period_escalated"),
    "uncharted_territory": (None, "resolved_in_discovery", "resolved_sessions", "discovery_share", None,
                            "previous_period_resolved_in_discovery"),
    "repeated_pattern": ("representative_summary", "sessions", None, "resolution_rate", None,
                         "previous_period_sessions"),
}


def _details(gap: Gap) -> str:
    e = gap.evidence
    if gap.gap_type == "weak_options":
        return "; ".join(f"{a['answer']} ({a['count']})" for a in e.get("top_free_text_answers", []))
    if gap.gap_type == "repeated_pattern":
        fixes = "; ".join(f"{f['fix']} ({f['count']})" for f in e.get("common_fixes", []))
        return ("; ".join(f"{s['summary']} ({s['count']})" for s in e.get("example_summaries", []))
                + (f" | resolved by: {fixes}" if fixes else ""))
    if gap.gap_type == "dead_end":
        return f"escalated {e['escalated']}, abandoned {e['abandoned']}"
    if gap.gap_type == "high_escalation":
        return f"account rate {percent(e['account_escalation_rate'])}"
    if gap.gap_type == "uncharted_territory":
        return f"published flows in the domain: {e['published_flows']}"
    return ""


def gap_row(slug: str, rank: int, gap: Gap) -> tuple[Any, ...]:
    e = gap.evidence
    subject, count, sample, rate, interval, previous = _FIELDS[gap.gap_type]
    low, high = (e.get(interval) or (None, None)) if interval else (None, None)
    ids = e.get("session_ids", [])
    return (slug, rank, gap.severity, gap.gap_type, gap.domain, gap.emerging, gap.title, gap.description,
            gap.suggested_action, e.get("flow_id"), e.get("flow_name"), e.get("node_id"),
            e.get(subject) if subject else None, e.get(count), e.get(sample) if sample else None,
            e.get(rate), low, high, e.get(previous), _details(gap), len(ids), " ".join(ids))


def export_gaps(db: OrmSession, actor: Principal, request) -> Table:
    """The gap report of ``request``'s account and period (30 days when none is given).
    Raises core.accounts.auth.NotAllowed unless ``actor`` may export the account's data."""
    authorize(db, actor, request.account_id, "exports")
    return report_table(build_gap_report(db, request.account_id, days=request.days or 30, now=request.now))


def report_table(report: GapReport, ranks: Iterable[int] | None = None) -> Table:
    """A report already built (the dashboard's cached one) as the export's table; ``ranks``: only
    the gaps at these 1-based positions of the report (a filtered view), in that order."""
    chosen = range(1, len(report.gaps) + 1) if ranks is None else ranks

    def rows() -> Iterator[tuple[Any, ...]]:
        for rank in chosen:
            yield gap_row(report.account, rank, report.gaps[rank - 1])

    return Table(GAPS_HEADER, rows())
