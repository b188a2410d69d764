"""Confidence tiers: the mix, and per tier how sessions end and how long they take.

This is the calibration check: if ``guided`` (a flow matched with high confidence) does not
resolve more, and faster, than ``assisted`` and ``discovery``, the tiers are mislabelled.
"""

from __future__ import annotations

from sqlalchemy import case, func

from core.metrics.figures import Counts, Group, Section, grouped_counts, pair, ratio, rounded
from core.metrics.medians import ALL, median_from_middle
from core.metrics.sessions import HANDLED, CubeRow, handle_seconds, outcome_figures, totals
from core.models import CONFIDENCE_TIERS, Session

NO_TIER = "(none)"
TIER_ORDER = (*CONFIDENCE_TIERS, NO_TIER)


def handle_columns() -> list:
    """Each session's tier and, when it has one, its handle time in seconds: what the tier medians
    are taken over (read along with the cases, ``core.metrics.cases.CaseTable``)."""
    return [func.coalesce(Session.confidence_tier, NO_TIER).label("tier"),
            case((HANDLED, handle_seconds())).label("handle")]


def median_minutes(rows: list[tuple]) -> dict[tuple[int, str], float | None]:
    out = {}
    for is_current, tier, middle_sum, middle_weight in rows:
        seconds = median_from_middle(middle_sum, middle_weight)
        out[(int(is_current), tier)] = None if seconds is None else rounded(seconds / 60)
    return out


def shape_tiers(cube: list[CubeRow], medians: list[tuple]) -> Section:
    now, before = totals(cube)
    sessions = {1: now.get("sessions") or 0, 0: before.get("sessions") or 0}
    minutes = median_minutes(medians)
    current, previous = grouped_counts((r.is_current, r.tier or NO_TIER, r.counts) for r in cube)

    def tier_figures(tier: str, is_current: int) -> Counts:
        figures = outcome_figures((current if is_current else previous).get(tier, {}))
        return {
            "sessions": figures["sessions"],
            "share_of_sessions": ratio(figures["sessions"], sessions[is_current]),
            "resolution_rate": figures["resolution_rate"],
            "escalation_rate": figures["escalation_rate"],
            "abandonment_rate": figures["abandonment_rate"],
            "median_handle_minutes": minutes.get((is_current, tier)),
        }

    # Every tier shows, in a fixed order, even one nobody used.
    groups = tuple(Group(tier, pair(tier_figures(tier, 1), tier_figures(tier, 0))) for tier in TIER_ORDER)
    overall = {
        "median_handle_minutes": minutes.get((1, ALL)),
        "mean_handle_minutes": outcome_figures(now)["mean_handle_minutes"],
    }
    overall_before = {
        "median_handle_minutes": minutes.get((0, ALL)),
        "mean_handle_minutes": outcome_figures(before)["mean_handle_minutes"],
    }
    return Section(name="tiers", totals=pair(overall, overall_before), breakdowns={"tier": groups})
