"""Matching a column against a batch's worth of ids in one parameter.

A 1,000-id ``IN (...)`` has 1,000 placeholders: psycopg rewrites and PostgreSQL parses the
long statement on every batch, which costs both the worker and the server CPU they share. On
PostgreSQL an array parameter (``= ANY(:ids)``) keeps the statement short and the same for
every batch. SQLite has no arrays and keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def among(connection: Connection, column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    values = list(values)
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


def array_param(connection: Connection, name: str, values: Iterable[Any], element_type) -> Any:
    """A bound PostgreSQL array of ``element_type`` (for ``unnest``)."""
    assert connection.dialect.name == "postgresql"
    return bindparam(name, list(values), type_=ARRAY(element_type))
