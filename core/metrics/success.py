"""How sessions end up resolved: first-contact resolution and eventual success.

**Eventual success**: a resolved session with at least one action or script step whose
outcome was ``failed`` (the engineer recovered). Each session counts once however many
retries failed: the import counts a session's failed steps (``sessions.failed_steps``) and
only "more than none" matters here; the session cube counts them (``core.metrics.sessions``).
The recovery rate is eventual successes over all sessions with an outcome that had such a
failure.
First-contact resolution is defined on cases (``core.metrics.cases``).
"""

from __future__ import annotations

from core.metrics.figures import Counts, Section, pair, ratio


def resolution_figures(cases: Counts, failures: tuple[int, int], resolved_sessions: int) -> Counts:
    with_failure, recovered = failures
    return {
        "closed_out_cases": cases.get("closed_out") or 0,
        "first_contact_resolutions": cases.get("first_contact") or 0,
        "first_contact_resolution_rate": ratio(cases.get("first_contact"), cases.get("closed_out")),
        "sessions_with_failed_step": with_failure,
        "eventual_successes": recovered,
        "recovery_rate": ratio(recovered, with_failure),
        "eventual_success_share_of_resolved": ratio(recovered, resolved_sessions),
    }


def shape_resolution(case_now: Counts, case_before: Counts, sessions_now: Counts, sessions_before: Counts) -> Section:
    """``sessions_now`` / ``sessions_before``: the session cube's totals per period."""
    def failures(sessions: Counts) -> tuple[int, int]:
        return sessions.get("with_failed_step") or 0, sessions.get("recovered") or 0

    return Section(
        name="resolution",
        totals=pair(resolution_figures(case_now, failures(sessions_now), sessions_now.get("resolved") or 0),
                    resolution_figures(case_before, failures(sessions_before), sessions_before.get("resolved") or 0)),
        breakdowns={},
    )
