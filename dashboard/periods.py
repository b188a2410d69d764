"""The period picker: the last 7, 30 or 90 days, or (Analytics, Exports) a custom range of whole
UTC days, kept in the URL under one name on every page (``?period=30``,
``?period=custom&start=…&end=…``) so a link reopens the same view. The dates themselves are
``core.periods``; this is the picker's preset around them.

Knowledge-gap links from before were ``?days=N``: they still open that period, and the page then
writes ``?period=N`` in its place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import streamlit as st

from core.periods import Period as ReportPeriod
from dashboard import url_params

PRESETS = ("7", "30", "90")
CUSTOM = "custom"
DEFAULT = "30"
PARAM = "period"
LEGACY_PARAM = "days"  # the knowledge-gaps page's name for it, in links made before ``?period=``
MAX_CUSTOM_DAYS = 731  # two years: the longest range the pages read at once
LABELS = {"7": "7 days", "30": "30 days", "90": "90 days", CUSTOM: "Custom"}


@dataclass(frozen=True)
class Period:
    """``preset`` is one of PRESETS (the days up to now) or CUSTOM (``first`` to ``last``, inclusive)."""

    preset: str = DEFAULT
    first: date | None = None
    last: date | None = None

    def report_period(self, now: datetime | None = None) -> ReportPeriod:
        """The dates: a custom range's whole UTC days, or a preset's days up to ``now`` (default: now)."""
        if self.preset == CUSTOM:
            return ReportPeriod.whole_days(self.first, self.last)
        return ReportPeriod.last_days(int(self.preset), now)

    @property
    def days(self) -> int:
        return int(self.preset) if self.preset != CUSTOM else self.report_period().days

    def now(self) -> datetime | None:
        """The end of the period for the metrics reads; None: the time of the read."""
        return None if self.preset != CUSTOM else self.report_period().end

    def describe(self) -> str:
        """For a sentence: "in the last 30 days", "between 01 May 2026 and 31 May 2026", "on 03 May 2026"."""
        if self.preset != CUSTOM:
            return f"in the last {self.preset} days"
        if self.first == self.last:
            return f"on {self.first:%d %b %Y}"
        return f"between {self.first:%d %b %Y} and {self.last:%d %b %Y}"

    def slug(self) -> str:
        """For file names: ``last-30-days`` or ``2026-05-01-to-2026-05-31``."""
        return f"last-{self.preset}-days" if self.preset != CUSTOM else f"{self.first}-to-{self.last}"


def today() -> date:
    return datetime.now(timezone.utc).date()


def url_date(name: str) -> date | None:
    """A date from the query string, from 2000 to today; None (with a notice) when it is unreadable."""
    return url_params.url_date(name, latest=today())


Ignored = tuple[str, str, str]  # (parameter, its value, why it was not used), for url_params.ignored


def parse(query: Mapping[str, str], latest: date, custom: bool = True) -> tuple[Period, tuple[Ignored, ...]]:
    """The period a link's parameters name (``custom=False``: a page offering the presets only),
    and what was ignored; anything unusable gives the default period, never an exception."""
    name, raw = PARAM, (query.get(PARAM) or "").strip()
    if not raw:
        name, raw = LEGACY_PARAM, (query.get(LEGACY_PARAM) or "").strip()
    if not raw:
        return Period(), ()
    if raw in PRESETS:
        return Period(raw), ()
    offered = "7, 30, 90 or custom" if custom else "7, 30 or 90"
    if raw != CUSTOM or name != PARAM or not custom:
        return Period(), ((name, raw, f"not {offered}"),)
    ignored: list[Ignored] = []
    dates = []
    for bound in ("start", "end"):
        value = (query.get(bound) or "").strip()
        day = url_params.parse_date(value, url_params.EARLIEST_DATE, latest) if value else None
        if value and day is None:
            ignored.append((bound, value, url_params.date_rule(url_params.EARLIEST_DATE, latest)))
        dates.append(day)
    first, last = dates
    if first and last:
        first, last = min(first, last), max(first, last)
        if (last - first).days < MAX_CUSTOM_DAYS:
            return Period(CUSTOM, first, last), ()
        ignored.append((PARAM, raw, f"a range of more than {MAX_CUSTOM_DAYS} days"))
    elif not ignored:
        ignored.append((PARAM, raw, "a custom period needs a start and an end date"))
    return Period(), tuple(ignored)


def from_url(custom: bool = True) -> Period:
    """The period a link names; anything unreadable falls back to the default, with a notice. An
    old ``?days=`` leaves the address: the page writes ``?period=`` instead (``to_url``)."""
    period, ignored = parse(st.query_params.to_dict(), today(), custom)
    for name, raw, why in ignored:
        url_params.ignored(name, raw, why)
    st.query_params.pop(LEGACY_PARAM, None)
    return period


def url_values(period: Period) -> dict[str, str]:
    """The period's parameters for ``url_params.sync`` (empty: the default, left out of the link)."""
    return {PARAM: "" if period.preset == DEFAULT else period.preset,
            "start": period.first.isoformat() if period.preset == CUSTOM else "",
            "end": period.last.isoformat() if period.preset == CUSTOM else ""}


def to_url(period: Period) -> None:
    url_params.sync(url_values(period))


def period_picker(prefix: str, container=None) -> Period:
    """The period widgets (seeded from the link on the page's first run); returns the chosen period."""
    box = container or st
    preset_key, range_key, last_key = f"{prefix}_period", f"{prefix}_range", f"{prefix}_last_range"
    if preset_key not in st.session_state:
        start = from_url()
        st.session_state[preset_key] = start.preset
        if start.preset == CUSTOM:
            st.session_state[range_key] = (start.first, start.last)
            st.session_state[last_key] = (start.first, start.last)
    preset = box.segmented_control("Period", [*PRESETS, CUSTOM], key=preset_key, format_func=LABELS.get,
                                   required=True,
                                   help="Sessions started in the last 7, 30 or 90 days up to now, or in whole "
                                        "UTC days you choose; compared with the same length of time just before.")
    if preset != CUSTOM:
        return Period(preset or DEFAULT)
    if range_key not in st.session_state:
        end = today()
        st.session_state[range_key] = (end - timedelta(days=29), end)
    chosen = box.date_input("Dates (UTC)", key=range_key, format="YYYY-MM-DD", max_value=today(),
                            min_value=today() - timedelta(days=3650))
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        first, last = chosen
        if (last - first).days >= MAX_CUSTOM_DAYS:
            box.warning(f"At most {MAX_CUSTOM_DAYS} days at once; showing the last {MAX_CUSTOM_DAYS} of the range.",
                        icon=":material/date_range:")
            first = last - timedelta(days=MAX_CUSTOM_DAYS - 1)
        st.session_state[last_key] = (first, last)
    else:  # the first click of a range: keep showing the previous range until the second
        first, last = st.session_state.get(last_key) or (today() - timedelta(days=29), today())
    return Period(CUSTOM, first, last)
