"""The knowledge-gap report for one account and period: fetch, shape, then fetch the session ids
of the gaps kept."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from core.gaps import queries, signals
from core.gaps.signals import Gap
from core.gaps.thresholds import GapThresholds, load_thresholds
from core.gaps.vocabulary import non_informative_sessions
from core.impact.expected import gap_expected_per_month
from core.models import Account
from core.periods import Period
from core.report_settings import report_settings
from core.types import utcnow


@dataclass(frozen=True)
class GapReport:
    generated_at: datetime
    account: str
    period_days: int
    period_start: datetime
    period_end: datetime
    gaps: tuple[Gap, ...]
    thresholds: GapThresholds
    # False when the account's sessions start after the previous period does: its volumes are then
    # no yardstick, and no gap is marked emerging.
    previous_period_covered: bool = True
    # Sessions with no matched flow whose summary says nothing about the problem ("see ticket"):
    # never grouped into a recurring problem, counted as a note on the data's quality.
    non_informative_sessions: int = 0
    # Seconds per read, for the benchmark; not part of the report's JSON.
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end)

    def expected_per_month(self, gap: Gap) -> float:
        """The gap's affected sessions or answers in the period, per 30 days (core.impact.expected)."""
        return round(gap_expected_per_month(gap.impact, self.period_days), 2)

    def expected_sentence(self, gap: Gap) -> str:
        """How the expected impact was computed, in one sentence for the gap's card."""
        return (f"Expected impact: about {self.expected_per_month(gap):.1f} a month ({gap.impact:,} sessions or "
                f"answers touched in the last {self.period_days:d} days, per 30 days).")

    def by_expected_impact(self, ranks: list[int]) -> list[int]:
        """The given 1-based ranks, most expected impact first (the severity order among equals)."""
        return sorted(ranks, key=lambda r: (-self.expected_per_month(self.gaps[r - 1]), r))

    def data_quality_note(self) -> str | None:
        """A sentence on the summaries that could not be grouped, when there are any."""
        n = self.non_informative_sessions
        if not n:
            return None
        return (f"{n:,} session{'s' if n != 1 else ''} with no matched flow had a problem summary that says nothing "
                f"about the problem (such as \"see ticket\" or \"as per call\"), so "
                f"{'they were' if n != 1 else 'it was'} not grouped into recurring problems.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "account": self.account,
            "period_days": self.period_days,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "previous_period_covered": self.previous_period_covered,
            "non_informative_sessions": self.non_informative_sessions,
            "gaps": [g.to_dict() | {"expected_per_month": self.expected_per_month(g)} for g in self.gaps],
        }


def build_gap_report(db: OrmSession, account_id: int, days: int = 30, now: datetime | None = None,
                     thresholds: GapThresholds | None = None) -> GapReport:
    """Every knowledge gap of the account's sessions started in the last ``days`` days."""
    generated_at = now or utcnow()
    period = Period.last_days(days, generated_at)
    account = db.get(Account, account_id)
    if account is None:
        raise LookupError(f"no account with id {account_id}")
    t = thresholds or load_thresholds(db, account_id)
    timings: dict[str, float] = {}

    def timed(name: str, read, *args):
        started = time.perf_counter()
        result = read(db, account_id, *args)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
        return result

    with report_settings(db):
        flows = timed("flows", queries.read_flows)
        steps = timed("steps", queries.read_steps, period)
        stops = timed("stops", queries.read_stops, period)
        domains = timed("domains", queries.read_domain_rows, period)
        summaries = timed("summaries", queries.read_unmatched_summaries, period)
        improvised = timed("improvised_steps", queries.read_unmatched_improvised_steps, period)
        matched = timed("matched_summaries", queries.read_matched_summaries, period)

        started = time.perf_counter()
        volume = signals.period_sessions(domains)  # what the severity bars scale with
        gaps = [
            *signals.weak_options(steps.rows, flows, t, volume),
            *signals.high_escalation(domains, t, volume),
            *signals.uncharted_territory(domains, flows, t, volume),
            *signals.failing_actions(steps.rows, flows, t, volume),
            *signals.dead_ends(steps.reached, stops, flows, t, volume),
        ]
        timings["shaping"] = time.perf_counter() - started
        started = time.perf_counter()
        gaps.extend(signals.repeated_patterns(summaries, t, volume, improvised, matched))
        vague = non_informative_sessions((r.summary, r.sessions) for r in summaries if r.current)
        timings["clustering"] = time.perf_counter() - started

        first = timed("first_session", queries.read_first_session_start)
        covered = period.previous_covered(first)
        if not covered:
            gaps = [replace(g, emerging=False) for g in gaps]

        started = time.perf_counter()
        ordered = signals.sort_gaps(gaps)
        ids = _session_ids(db, account_id, period, ordered)
        with_ids = [replace(g, evidence={**g.evidence, "session_ids": found}) for g, found in zip(ordered, ids)]
        timings["session_ids"] = time.perf_counter() - started
    return GapReport(generated_at, account.slug, days, period.start, period.end, tuple(with_ids), t, covered,
                     vague, timings)


def _session_ids(db: OrmSession, account_id: int, period: Period, gaps: list[Gap]) -> list[list[str]]:
    """The ids behind each gap, read for the gaps kept only: one query for every step gap, one for
    every pattern, one per other gap (through the flow or domain index, newest first, up to 200)."""
    summaries = {key for g in gaps if g.locator[:1] == ("summaries",) for key in g.locator[1]}
    by_summary = queries.read_summary_session_ids(db, account_id, period, summaries)
    step_gaps = [g.locator[1:] for g in gaps if g.locator[:1] == ("steps",)]
    by_step = iter(queries.read_step_session_ids(db, account_id, period, step_gaps))
    result = []
    for gap in gaps:
        kind, *args = gap.locator or (None,)
        if kind is None:
            result.append(list(gap.evidence.get("session_ids", [])))
        elif kind == "steps":
            result.append(next(by_step))
        elif kind == "dead_end":
            result.append(queries.read_dead_end_session_ids(db, account_id, period, *args))
        elif kind == "summaries":
            result.append(queries.newest_session_ids(tag for key in args[0] for tag in by_summary.get((key,), [])))
        elif kind == "domain":
            domain, statuses, tier = args
            result.append(queries.session_ids_for_domain(db, account_id, period, domain, statuses, tier))
        else:
            raise ValueError(f"unknown gap locator {kind!r}")
    return result
