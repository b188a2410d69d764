"""A page's state in the URL's query string: values read, validated and bounded in one place,
and the widgets' values written back (``sync``) so that a link reopens the same view.

A link is typed or pasted by anyone: a value that is not a plain number, or lies outside what the
page can use (a proposal id beyond PostgreSQL's integer, a date in year 1, ``inf``), is ignored
with a short notice on the page and never reaches a query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta, timezone

import streamlit as st

from dashboard.text import md_escape

MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id could never exist, and would fail the query
EARLIEST_DATE = date(2000, 1, 1)
_INTEGER = re.compile(r"[0-9]{1,12}")
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def ignored(name: str, raw: str, why: str) -> None:
    """The short notice that a link's value was not used; the value leaves the address too, so the
    notice shows once and a copied link no longer carries it."""
    st.query_params.pop(name, None)
    st.caption(f":material/link_off: The link's {md_escape(name)}={md_escape(raw, limit=40)} was ignored: "
               f"{md_escape(why)}.")


def sync(wanted: Mapping[str, str]) -> None:
    """Write the widgets' values into the URL; an empty value (the page's default) leaves it, so
    links stay short. Only changed values are written: each write costs the browser a history entry."""
    for name, value in wanted.items():
        if value:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]


def listed(name: str, allowed: Collection[str] | None = None) -> list[str]:
    """A comma-separated list from the link (``?type=a,b``), only the ``allowed`` values when given."""
    raw = st.query_params.get(name)
    return [v for v in raw.split(",") if v and (allowed is None or v in allowed)] if raw else []


def _raw(name: str) -> str | None:
    raw = st.query_params.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def url_int(name: str, low: int = 1, high: int = MAX_ID, what: str = "a number") -> int | None:
    """The whole number ``low`` to ``high`` the link names; None (with a notice) for anything else."""
    raw = _raw(name)
    if raw is None:
        return None
    if _INTEGER.fullmatch(raw) and low <= int(raw) <= high:
        return int(raw)
    ignored(name, raw, f"not {what} from {low:,} to {high:,}")
    return None


def url_range(name: str, low: float, high: float) -> tuple[float, float] | None:
    """``a-b`` with both plain decimals within [low, high], in order; None (with a notice) otherwise."""
    raw = _raw(name)
    if raw is None:
        return None
    parts = raw.split("-")
    if len(parts) == 2 and all(_DECIMAL.fullmatch(p) for p in parts):
        a, b = float(parts[0]), float(parts[1])
        if all(math.isfinite(v) and low <= v <= high for v in (a, b)):
            return min(a, b), max(a, b)
    ignored(name, raw, f"not a range like {low:g}-{high:g}")
    return None


def url_date(name: str, earliest: date = EARLIEST_DATE, latest: date | None = None) -> date | None:
    """A YYYY-MM-DD date from ``earliest`` to ``latest`` (default: tomorrow, UTC); None (with a notice) otherwise."""
    raw = _raw(name)
    if raw is None:
        return None
    latest = latest or datetime.now(timezone.utc).date() + timedelta(days=1)
    value = parse_date(raw, earliest, latest)
    if value is None:
        ignored(name, raw, date_rule(earliest, latest))
    return value


def parse_date(raw: str, earliest: date, latest: date) -> date | None:
    """``raw`` as a YYYY-MM-DD date from ``earliest`` to ``latest``; None when it is anything else."""
    try:
        value = date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw, re.ASCII) else None
    except ValueError:
        value = None
    return value if value is not None and earliest <= value <= latest else None


def date_rule(earliest: date, latest: date) -> str:
    return f"not a date from {earliest:%Y-%m-%d} to {latest:%Y-%m-%d}"
