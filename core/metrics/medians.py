"""Medians computed in SQL, the same way on SQLite and PostgreSQL.

PostgreSQL has ``percentile_cont``, SQLite has nothing of the kind, so both use the same
plan: a histogram (each distinct value and how often it occurs, per group), a running total
over it in value order (a window function over the histogram, which is small, instead of a
sort of every row), and the value(s) at the middle position(s). For n values the middle
positions p are those with n ≤ 2p ≤ n + 2: one position when n is odd, two when it is even.
Each histogram row is weighted by how many middle positions it covers (0, 1 or 2); the median
is the weighted sum divided by 2, and the division happens in Python so that it gives the same
float on both databases. Integer arithmetic only: no division in SQL, whose rounding differs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Integer, Select, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session as OrmSession

ALL = "*"


def median_query(values: Select, groups: Sequence[str], rollups: Sequence[Sequence[str]] = (),
                 name: str = "histogram") -> Select:
    """``values`` selects the columns named in ``groups`` and one named ``value`` (nulls are left out),
    and may select one named ``weight``: how many times its row's value counts (once without).

    Returns rows of (*groups, weighted_middle_sum, middle_weight): the median of a group is
    ``weighted_middle_sum / middle_weight``. Each entry of ``rollups`` names a subset of
    ``groups`` to compute medians over as well (e.g. per period across all tiers); the groups
    left out show as ``'*'``. Everything comes from one histogram, so one pass over the rows.
    """
    source = values.subquery(f"{name}_values")
    times = func.sum(source.c.weight) if "weight" in source.c else func.count()
    # Counts as INTEGER: PostgreSQL sums BIGINTs as NUMERIC, which made the running totals and
    # the middle tests below NUMERIC arithmetic; sums of INTEGERs are BIGINTs.
    histogram = (
        select(*(source.c[g] for g in groups), source.c.value, cast(times, Integer).label("c"))
        .where(source.c.value.is_not(None))
        .group_by(*(source.c[g] for g in groups), source.c.value)
        .cte(name)
    )
    parts = [_middle(histogram, groups, kept, f"{name}_{i}") for i, kept in enumerate([groups, *rollups])]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _middle(histogram, groups: Sequence[str], kept: Sequence[str], alias: str) -> Select:
    h = histogram.c
    by = [h[g] for g in kept]
    if list(kept) == list(groups):
        counted = select(*by, h.value, h.c).subquery(f"{alias}_counted")
    else:  # a coarser grouping: the histogram summed over the groups left out
        counted = (select(*by, h.value, cast(func.sum(h.c), Integer).label("c"))
                   .group_by(*by, h.value).subquery(f"{alias}_counted"))
    partition = [counted.c[g] for g in kept] or None
    running = select(
        *(counted.c[g] for g in kept), counted.c.value, counted.c.c,
        func.sum(counted.c.c).over(partition_by=partition, order_by=counted.c.value).label("upto"),
        func.sum(counted.c.c).over(partition_by=partition).label("n"),
    ).subquery(f"{alias}_running")
    r = running.c
    below = r.upto - r.c  # positions below == (upto − c, upto]
    odd = r.n % 2

    def covers(twice_position) -> object:
        return case((and_(2 * below < twice_position, twice_position <= 2 * r.upto), 1), else_=0)

    weight = covers(r.n + odd) + covers(r.n + 2 - odd)
    columns = [r[g] if g in kept else literal(ALL).label(g) for g in groups]
    return (
        select(*columns, func.sum(r.value * weight), cast(func.sum(weight), Integer))
        .where(weight > 0)
        .group_by(*(r[g] for g in kept))
    )


def fetch_medians(db: OrmSession, values: Select, groups: Sequence[str],
                  rollups: Sequence[Sequence[str]] = ()) -> list[tuple]:
    return [tuple(row) for row in db.execute(median_query(values, groups, rollups))]


def median_from_middle(middle_sum, middle_weight) -> float | None:
    """The median from ``median_query``'s weighted middle sum and weight."""
    if not middle_weight:
        return None
    return float(middle_sum) / int(middle_weight)


def median(values: Sequence[float]) -> float | None:
    """The plain-Python median, the reference the SQL version is tested against."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
