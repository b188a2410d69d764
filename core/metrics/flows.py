"""Flow usage: sessions and resolution rate per matched flow, and how often a flow matched at all."""

from __future__ import annotations

from core.metrics.figures import Counts, Section, breakdown, grouped_counts, pair, ratio
from core.metrics.sessions import CubeRow, outcome_figures

NO_FLOW = "(no flow)"


def flow_figures(counts: Counts) -> Counts:
    figures = outcome_figures(counts)
    return {name: figures[name] for name in
            ("sessions", "with_outcome", "resolved", "resolution_rate", "escalation_rate", "mean_handle_minutes")}


def shape_flows(cube: list[CubeRow]) -> Section:
    current, previous = grouped_counts((r.is_current, r.flow or NO_FLOW, r.counts) for r in cube)

    def usage(per_flow: dict[str, Counts]) -> Counts:
        sessions = sum(c.get("sessions") or 0 for c in per_flow.values())
        matched = sum(c.get("sessions") or 0 for k, c in per_flow.items() if k != NO_FLOW)
        return {
            "sessions": sessions,
            "matched_sessions": matched,
            "flow_match_share": ratio(matched, sessions),
            "flows_used": sum(1 for k, c in per_flow.items() if k != NO_FLOW and c.get("sessions")),
        }

    def flows_first(key: str, figures: Counts) -> tuple:
        # The unmatched sessions go last: they are the complement, not a flow.
        return (key == NO_FLOW, -(figures.get("sessions") or 0), key)

    return Section(name="flows", totals=pair(usage(current), usage(previous)),
                   breakdowns={"flow": breakdown(current, previous, flow_figures, flows_first)})
