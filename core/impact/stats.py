"""Intervals for before/after differences: pure functions, no database.

Proportions: Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the
difference between independent proportions", method 10), built from each side's Wilson score
interval. It behaves at 0% and 100% and at small counts, where the textbook Wald interval
collapses to zero width. Medians: a percentile bootstrap with a fixed seed, so the same data
always shows the same interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from statistics import median

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction; None when there is nothing to divide (not 0%)."""
    return part / whole if whole else None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for ``successes`` out of ``n``; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(after: int, n_after: int, before: int, n_before: int, z: float = Z95) -> tuple[float, float] | None:
    """95% interval for (after/n_after − before/n_before); None when either side has no sessions."""
    first, second = wilson(after, n_after, z), wilson(before, n_before, z)
    if first is None or second is None:
        return None
    p1, p2 = after / n_after, before / n_before
    (l1, u1), (l2, u2) = first, second
    delta = p1 - p2
    return (delta - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            delta + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 13


def bootstrap_median_difference(after: Sequence[float], before: Sequence[float], *,
                                resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                                ) -> tuple[float, tuple[float, float]] | None:
    """(median(after) − median(before), its 95% percentile-bootstrap interval); None when a side is empty.

    Each resample draws both sides with replacement from one seeded generator, so the interval
    depends only on the data."""
    if not after or not before:
        return None
    rng = random.Random(seed)
    differences = sorted(
        median(rng.choices(after, k=len(after))) - median(rng.choices(before, k=len(before)))
        for _ in range(resamples)
    )
    low = differences[int(0.025 * (resamples - 1))]
    high = differences[int(math.ceil(0.975 * (resamples - 1)))]
    return median(after) - median(before), (low, high)
