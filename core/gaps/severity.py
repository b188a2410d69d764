"""How severe a gap is: whether it is there at all, then how bad, in two separate questions.

* **Whether** (rates): the rate's Wilson interval must lie wholly above the normal level, the
  account's own escalation rate or the signal's Low band. A handful of sessions cannot pass by
  chance; the interval is used for this question only.
* **How bad**: the lesser of two levels. The *rate level* is the rate itself against the Low /
  Medium / High bands. The *volume level* is how many sessions (or answers, or attempts) the gap
  adds over the normal level, against bars that grow with the account: a bar is a share of the
  period's sessions, never under an absolute floor. On a 225-session account the floors decide
  (8 extra escalations are high, 2 are low); on a 150,000-session one, 1% of its sessions is
  high (1,500), and 10 extra escalations are low.

Pure functions: the signals call them with the period's session count (``volume``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.gaps.thresholds import SEVERITIES, GapThresholds
from core.metrics.figures import percent

_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # high 0, medium 1, low 2


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``hits / n``: honest about small samples, never outside [0, 1]."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class Judgement:
    severity: str
    reason: str  # in plain words, for the card and the JSON


def _lesser(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True)
class Bars:
    """The medium and high bars of a count for one account and period: a share of the period's
    sessions, never under the floor."""

    medium: int
    high: int

    @classmethod
    def of(cls, t: GapThresholds, volume: int, medium_floor: int, high_floor: int) -> Bars:
        # Whole numbers: a bar of 17.3 sessions is met by 18.
        return cls(max(medium_floor, math.ceil(t.medium_share * volume - 1e-9)),
                   max(high_floor, math.ceil(t.high_share * volume - 1e-9)))

    def level(self, count: float) -> str:
        if count >= self.high:
            return "high"
        return "medium" if count >= self.medium else "low"

    def words(self) -> str:
        return f"medium from {self.medium:,}, high from {self.high:,}"


def rate_level(rate: float, low: float, medium: float, high: float) -> str | None:
    """The band of the rate itself; None under the Low band."""
    if rate >= high:
        return "high"
    if rate >= medium:
        return "medium"
    return "low" if rate >= low else None


def significantly_above(hits: int, n: int, baseline: float, t: GapThresholds) -> bool:
    """The whole 95% interval (``confidence_z``) of ``hits / n`` lies above ``baseline``."""
    return n >= t.min_sample and wilson_interval(hits, n, t.confidence_z)[0] > baseline


def judge_rate(hits: int, n: int, baseline: float, bands: tuple[float, float, float], t: GapThresholds,
               volume: int, unit: str, normal: str) -> Judgement | None:
    """A rate gap: None unless the rate is surely above ``baseline`` and at least the Low band;
    then the lesser of the rate's band and the volume of the excess over ``baseline``.
    ``unit`` names what is counted ("escalations"), ``normal`` the baseline ("the account's 25%")."""
    rate = hits / n if n else 0.0
    by_rate = rate_level(rate, *bands)
    if by_rate is None or not significantly_above(hits, n, baseline, t):
        return None
    excess = hits - n * baseline
    bars = Bars.of(t, volume, t.excess_medium, t.excess_high)
    by_volume = bars.level(excess)
    severity = _lesser(by_rate, by_volume)
    low, high = wilson_interval(hits, n, t.confidence_z)
    reason = (f"{severity.title()}: {percent(rate, 0)} of {n:,}, surely above {normal} (95% interval "
              f"{percent(low, 0)}–{percent(high, 0)}). The rate alone says {by_rate} (medium from {percent(bands[1], 0)}, high from "
              f"{percent(bands[2], 0)}); the {round(excess):,} {unit} more than at {normal} say {by_volume} "
              f"({bars.words()} in a period of {volume:,} sessions). The lesser of the two counts.")
    return Judgement(severity, reason)


def judge_count(count: int, minimum: int, medium_floor: int, high_floor: int, t: GapThresholds, volume: int,
                unit: str, at_least_medium: str | None = None) -> Judgement | None:
    """A count gap: None under ``minimum``; otherwise by bars that grow with the account.
    ``at_least_medium`` (a reason in words) lifts it to medium from the medium floor, whatever
    the account's size."""
    if count < minimum:
        return None
    bars = Bars.of(t, volume, medium_floor, high_floor)
    severity = bars.level(count)
    reason = f"{severity.title()}: {count:,} {unit} ({bars.words()} in a period of {volume:,} sessions)"
    if at_least_medium and count >= medium_floor:
        if severity == "low":
            severity = "medium"
            reason = f"Medium: {count:,} {unit}, and {at_least_medium} (medium from {medium_floor:,} whatever the account's size)"
        else:
            reason += f"; {at_least_medium}"
    elif severity == "low":
        reason += "; listed, but few for this account"
    return Judgement(severity, reason + ".")
