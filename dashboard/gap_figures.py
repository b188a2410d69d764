"""What a gap's evidence says in figures: counts and rates with their interval, the previous
period, and the typed answers or wordings behind it (``dashboard.gap_card`` draws them)."""

from __future__ import annotations

import pandas as pd

from core.gaps import Gap, wilson_interval
from core.metrics.figures import percent
from dashboard.text import md_escape, trusted

# Per gap type: (count, what it counts, sample, what the sample is, rate, its interval, previous count).
FIGURES = {
    "weak_options": ("free_text_count", "typed answers", "responses", "answers", "free_text_rate",
                     "free_text_rate_interval", "previous_period_free_text_count"),
    "failing_action": ("failed", "failed attempts", "attempts", "attempts", "failure_rate",
                       "failure_rate_interval", "previous_period_failed"),
    "dead_end": ("ended_here", "sessions went no further", "sessions_reaching", "sessions reaching the step",
                 "end_rate", "end_rate_interval", "previous_period_ended_here"),
    "high_escalation": ("escalated", "escalated", "finished_sessions", "finished sessions", "escalation_rate",
                        "escalation_rate_interval", "previous_period_escalated"),
    "uncharted_territory": ("resolved_in_discovery", "resolved without a flow", "resolved_sessions",
                            "resolved sessions", "discovery_share", None, "previous_period_resolved_in_discovery"),
    "repeated_pattern": ("resolved", "resolved", "sessions", "sessions", "resolution_rate", None,
                         "previous_period_sessions"),
}
# (one, many) of what the previous period's count counts, per gap type.
PREVIOUS_UNIT = {"weak_options": ("typed answer", "typed answers"), "failing_action": ("failed attempt", "failed attempts"),
                 "dead_end": ("session that went no further", "sessions that went no further"),
                 "high_escalation": ("escalated session", "escalated sessions"),
                 "uncharted_territory": ("session resolved without a flow", "sessions resolved without a flow"),
                 "repeated_pattern": ("session", "sessions")}


def figures(gap: Gap, z: float, days: int | None = None) -> list[str]:
    """The evidence's figures, one Markdown line each (free text escaped)."""
    e = gap.evidence
    spec = FIGURES.get(gap.gap_type)
    if spec is None:  # a gap type this page does not know yet: its plain numbers
        return [f"{md_escape(k.replace('_', ' '))}: **{v:,}**" for k, v in e.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
    count, count_label, sample, sample_label, rate, interval, previous = spec
    hits, n = e.get(count, 0), e.get(sample, 0)
    low, high = e.get(interval) if interval and e.get(interval) else wilson_interval(hits, n, z)
    lines = [f"**{hits:,}** {count_label} of **{n:,}** {sample_label}: **{percent(e.get(rate, 0), 0)}** "
             f"(95% interval {percent(low, 0)}–{percent(high, 0)})"]
    before = f"in the previous {days:d} days" if days else "in the previous period"
    earlier = e.get(previous, 0)
    one, many = PREVIOUS_UNIT[gap.gap_type]
    lines.append(f"**{earlier:,}** {trusted(one if earlier == 1 else many)} {trusted(before)}"
                 + (" · rising sharply" if gap.emerging else ""))
    if gap.gap_type == "dead_end":
        lines.append(f"Of those: **{e.get('escalated', 0):,}** escalated off the flow, "
                     f"**{e.get('abandoned', 0):,}** abandoned")
    elif gap.gap_type == "high_escalation":
        lines.append(f"Across the account: **{percent(e.get('account_escalation_rate', 0), 0)}** escalated; "
                     f"**{e.get('requesting_escalation', 0):,}** still waiting for escalation")
    elif gap.gap_type == "uncharted_territory":
        lines.append(f"Published flows in this domain: **{e.get('published_flows', 0):,}**")
    elif gap.gap_type == "failing_action":
        lines.append(f"Succeeded: **{e.get('succeeded', 0):,}**")
    elif gap.gap_type == "repeated_pattern":
        lines.append(f"Key terms: {md_escape(', '.join(e.get('terms', [])))} · "
                     f"{e.get('distinct_summaries', 0):,} different wordings")
    if e.get("flow_id"):
        where = md_escape(e.get("flow_name") or e["flow_id"])
        lines.append(f"Flow: **{where}** ({md_escape(e['flow_id'])})"
                     + (f", node {md_escape(e['node_id'])}" if e.get("node_id") else ""))
    if gap.gap_type == "weak_options" and e.get("options"):
        lines.append("Options offered today: " + ", ".join(md_escape(o) for o in e["options"] if o))
    return lines


def figure_tables(gap: Gap) -> pd.DataFrame | None:
    """The typed answers of a missing option, or the wordings of a recurring problem."""
    e = gap.evidence
    if gap.gap_type == "weak_options" and e.get("top_free_text_answers"):
        return pd.DataFrame([(a["answer"], a["count"]) for a in e["top_free_text_answers"]],
                            columns=["Typed answer", "Times"])
    if gap.gap_type == "repeated_pattern" and e.get("example_summaries"):
        return pd.DataFrame([(s["summary"], s["count"]) for s in e["example_summaries"]],
                            columns=["Problem summary", "Sessions"])
    return None
