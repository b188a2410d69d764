"""The period picker the Analytics and Exports pages share: the last 7, 30 or 90 days, or a
custom range of whole UTC days, kept in the URL (``?period=30``, ``?period=custom&start=…&end=…``)
so a link reopens the same view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import streamlit as st

from core.periods import Period as ReportPeriod
from dashboard import url_params

PRESETS = ("7", "30", "90")
CUSTOM = "custom"
DEFAULT = "30"
MAX_CUSTOM_DAYS = 731  # two years: the longest range the pages read at once
LABELS = {"7": "7 days", "30": "30 days", "90": "90 days", CUSTOM: "Custom"}


@dataclass(frozen=True)
class Period:
    """``preset`` is one of PRESETS (the days up to now) or CUSTOM (``first`` to ``last``, inclusive)."""

    preset: str = DEFAULT
    first: date | None = None
    last: date | None = None

    def report_period(self) -> ReportPeriod | None:
        """The custom range as core's period; None for a preset (it ends at the time of the read)."""
        return ReportPeriod.whole_days(self.first, self.last) if self.preset == CUSTOM else None

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


def from_url() -> Period:
    """The period a link names; anything unreadable falls back to the default, with a notice."""
    preset = st.query_params.get("period", DEFAULT)
    if preset in PRESETS:
        return Period(preset)
    if preset != CUSTOM:
        url_params.ignored("period", preset, "not 7, 30, 90 or custom")
        return Period()
    first, last = url_date("start"), url_date("end")
    if preset == CUSTOM and first and last:
        first, last = min(first, last), max(first, last)
        if (last - first).days < MAX_CUSTOM_DAYS:
            return Period(CUSTOM, first, last)
    return Period()


def to_url(period: Period) -> None:
    wanted = {"period": "" if period.preset == DEFAULT else period.preset,
              "start": period.first.isoformat() if period.preset == CUSTOM else "",
              "end": period.last.isoformat() if period.preset == CUSTOM else ""}
    for name, value in wanted.items():
        if value:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]


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
