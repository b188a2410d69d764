"""From counts before and after a version went live to a verdict: pure functions (docs/impact.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.impact.stats import newcombe, share
from core.models import ESCALATED_STATUSES

VERDICTS = ("improved", "worse", "no_clear_change", "too_early")
# Below either, the after window cannot say anything yet.
MIN_FINISHED_AFTER = 20
MIN_DAYS_LIVE = 7


class OutcomeRates:
    """Resolution and escalation as shares of the finished sessions, for any counts that have them."""

    finished: int
    resolved: int
    escalated: int

    @property
    def resolution_rate(self) -> float | None:
        return share(self.resolved, self.finished)

    @property
    def escalation_rate(self) -> float | None:
        return share(self.escalated, self.finished)


@dataclass(frozen=True)
class Outcomes(OutcomeRates):
    """One side of a comparison: the sessions in a window and how the finished ones ended."""

    sessions: int = 0
    finished: int = 0  # every status but active: sessions still running are not outcomes yet
    resolved: int = 0
    escalated: int = 0  # escalated + requesting_escalation
    abandoned: int = 0

    @property
    def abandonment_rate(self) -> float | None:
        return share(self.abandoned, self.finished)

    def to_dict(self) -> dict:
        return {"sessions": self.sessions, "finished": self.finished, "resolved": self.resolved,
                "escalated": self.escalated, "abandoned": self.abandoned,
                "resolution_rate": self.resolution_rate, "escalation_rate": self.escalation_rate,
                "abandonment_rate": self.abandonment_rate}


def outcomes_from_statuses(counts: dict[str, int]) -> Outcomes:
    """Session counts by status into one side's outcomes."""
    finished = sum(n for status, n in counts.items() if status != "active")
    return Outcomes(sessions=sum(counts.values()), finished=finished, resolved=counts.get("resolved", 0),
                    escalated=sum(counts.get(status, 0) for status in ESCALATED_STATUSES),
                    abandoned=counts.get("abandoned", 0))


@dataclass(frozen=True)
class Change:
    """after − before for one rate, with its 95% interval (None when a side has no finished session)."""

    before: float | None
    after: float | None
    delta: float | None
    interval: tuple[float, float] | None

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "delta": self.delta,
                "interval": list(self.interval) if self.interval else None}


def rate_change(after_hits: int, after_n: int, before_hits: int, before_n: int) -> Change:
    before = before_hits / before_n if before_n else None
    after = after_hits / after_n if after_n else None
    delta = after - before if before is not None and after is not None else None
    return Change(before, after, delta, newcombe(after_hits, after_n, before_hits, before_n))


def resolution_change(before: Outcomes, after: Outcomes) -> Change:
    return rate_change(after.resolved, after.finished, before.resolved, before.finished)


def escalation_change(before: Outcomes, after: Outcomes) -> Change:
    return rate_change(after.escalated, after.finished, before.escalated, before.finished)


def abandonment_change(before: Outcomes, after: Outcomes) -> Change:
    return rate_change(after.abandoned, after.finished, before.abandoned, before.finished)


def _beats(change: Change, baseline: float, higher_is_better: bool) -> int:
    """+1 when the whole interval lies on the good side of ``baseline``, −1 on the bad side, else 0."""
    if change.interval is None:
        return 0
    low, high = change.interval
    if low > baseline:
        return 1 if higher_is_better else -1
    if high < baseline:
        return -1 if higher_is_better else 1
    return 0


def verdict(after: Outcomes, resolution: Change, escalation: Change, published_at: datetime, now: datetime,
            control_resolution_delta: float | None = None, control_escalation_delta: float | None = None) -> str:
    """``too_early``, ``worse``, ``improved`` or ``no_clear_change``.

    Difference in differences: a rate counts as clearly better (or worse) only when its whole
    interval lies on that side of zero *and* of the same change in the rest of the account over
    the same windows (the control; 0 when unknown). A flow that improved only as much as every
    other session did is ``no_clear_change``; so is one that improved less than the rest (it did
    not get worse). Worse on either rate wins over better on the other: a change that made
    something clearly worse is shown as such.
    """
    if after.finished < MIN_FINISHED_AFTER or now - published_at < timedelta(days=MIN_DAYS_LIVE):
        return "too_early"
    signs = []
    for change, control, higher_is_better in ((resolution, control_resolution_delta, True),
                                              (escalation, control_escalation_delta, False)):
        against_zero = _beats(change, 0.0, higher_is_better)
        signs.append(against_zero if against_zero == _beats(change, control or 0.0, higher_is_better) else 0)
    if -1 in signs:
        return "worse"
    if 1 in signs:
        return "improved"
    return "no_clear_change"
