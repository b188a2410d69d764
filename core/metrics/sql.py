"""SQL building blocks that give the same answer on SQLite and PostgreSQL.

SQLite keeps timestamps as UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``), PostgreSQL as
``timestamptz``; the two constructs below compile to each dialect's own functions so that
durations and calendar days come out identical on both.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970 (floored). Durations are differences of these, so both
    databases subtract the same integers instead of their own interval or float arithmetic."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    # date_part gives a double, several times cheaper per row than extract's numeric; a double
    # holds epoch seconds to well under a microsecond, so the floor is exact.
    return f"CAST(floor(date_part('epoch', {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class utc_day(FunctionElement):
    """The UTC calendar day: ``YYYY-MM-DD`` text on SQLite, a date on PostgreSQL (a cast is
    cheaper than to_char); ``day_key`` makes both the same text."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _day_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _day_postgresql(element, compiler, **kw):
    # AT TIME ZONE makes the day independent of the connection's TimeZone setting.
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


def day_key(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def lower_trim(column: ColumnElement) -> ColumnElement[str]:
    """The SQL half of text normalisation (both databases do it alike for the texts we group)."""
    return func.lower(func.trim(column))


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def sum_if(condition: ColumnElement[bool], value: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, value)))


def seconds_between(start: ColumnElement, end: ColumnElement) -> ColumnElement[int]:
    return epoch_seconds(end) - epoch_seconds(start)
