"""What a report is made of: figures with their previous-period value, grouped by dimension.

Pure code, no database: the read functions hand over raw rows and these helpers shape them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Number = int | float | None
Counts = dict[str, Number]
# Floats are rounded once, here, so that summation order (which differs between databases)
# never shows in a figure.
DIGITS = 6


def rounded(value: Number) -> Number:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), DIGITS)


def ratio(part: Number, whole: Number) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    if not whole or part is None:
        return None
    return rounded(part / whole)


def mean(total: Number, count: Number) -> float | None:
    return ratio(total, count)


def percent(share: Number, decimals: int = 1) -> str:
    """A share (0-1) as every page and the command line show a rate: one decimal, "26.2%"; "–"
    when there is none. The gap reports' sentences keep whole percents (``decimals=0``): their
    wording is part of the report's JSON."""
    return "–" if share is None else f"{share:.{decimals}%}"


def points(change: Number) -> str:
    """A change of a share in percentage points, signed, one decimal: "+4.2 pp"; "–" when there is
    none. A change that rounds to nothing reads "+0.0 pp", never "-0.0 pp"."""
    return "–" if change is None else f"{round(100 * change, 1) + 0.0:+.1f} pp"


@dataclass(frozen=True)
class Figure:
    """One number for this period and the same number for the previous period."""

    value: Number
    previous: Number

    @property
    def change(self) -> Number:
        """value − previous (for a rate, the change in points of the fraction); None if either is missing."""
        if self.value is None or self.previous is None:
            return None
        return rounded(self.value - self.previous)

    def to_dict(self) -> dict[str, Number]:
        return {"value": self.value, "previous": self.previous, "change": self.change}


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: a key (a day, a domain, a tier ...) and its figures."""

    key: str
    figures: Mapping[str, Figure]

    def __getitem__(self, name: str) -> Figure:
        return self.figures[name]


@dataclass(frozen=True)
class Section:
    name: str
    totals: Mapping[str, Figure]
    breakdowns: Mapping[str, tuple[Group, ...]]

    def __getitem__(self, name: str) -> Figure:
        return self.totals[name]

    def breakdown(self, dimension: str) -> dict[str, Group]:
        return {g.key: g for g in self.breakdowns[dimension]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals": {name: f.to_dict() for name, f in self.totals.items()},
            "breakdowns": {
                dimension: [{"key": g.key, **{name: f.to_dict() for name, f in g.figures.items()}} for g in groups]
                for dimension, groups in self.breakdowns.items()
            },
        }


def pair(current: Mapping[str, Number], previous: Mapping[str, Number]) -> dict[str, Figure]:
    """Figures from two same-shaped dicts of values (this period, the previous one)."""
    return {name: Figure(rounded(current.get(name)), rounded(previous.get(name))) for name in current}


def add_into(target: dict[str, Number], values: Mapping[str, Number]) -> None:
    for name, value in values.items():
        if value is None:
            target.setdefault(name, 0)
            continue
        target[name] = (target.get(name) or 0) + value


def grouped_counts(rows: Iterable[tuple[int, str, Mapping[str, Number]]]) -> tuple[dict[str, Counts], dict[str, Counts]]:
    """(is_current, key, counts) rows, summed per key into (current, previous) dicts."""
    current: dict[str, Counts] = {}
    previous: dict[str, Counts] = {}
    for is_current, key, counts in rows:
        add_into((current if is_current else previous).setdefault(key, {}), counts)
    return current, previous


def breakdown(current: Mapping[str, Counts], previous: Mapping[str, Counts], derive: Callable[[Counts], Counts],
              order: Callable[[str, Counts], Any] | None = None) -> tuple[Group, ...]:
    """Groups for every key seen in either period; ``derive`` turns a key's counts into its figures.

    A key seen only last period still appears (with zero sessions now), so a flow that stopped
    being used is visible. The default order is by this period's sessions, most first.
    """
    keys = set(current) | set(previous)
    empty: Counts = {}
    derived = {k: (derive(current.get(k, empty)), derive(previous.get(k, empty))) for k in keys}
    if order is None:
        def order(key: str, now: Counts) -> Any:
            return (-(now.get("sessions") or 0), key)
    ordered = sorted(keys, key=lambda k: order(k, derived[k][0]))
    return tuple(Group(k, pair(*derived[k])) for k in ordered)
