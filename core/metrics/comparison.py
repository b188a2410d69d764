"""Whether a period's figures may be set against the previous period's, and how to say so.

A change against a previous period that the account's data does not reach is no change at all
(the account simply had no sessions yet): it is not shown, as the knowledge-gap report does not
mark a gap emerging then. A previous period with few sessions is a thin yardstick: its changes are
shown greyed, with the number of sessions they rest on next to them. Home and Analytics share it;
whether the data reaches the previous period is ``core.periods.Period.previous_covered``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from core.models import Session

# Thin: fewer sessions than this, or fewer than this share of the period's own.
THIN_SESSIONS = 20
THIN_SHARE = 0.25


def read_first_session_start(db: OrmSession, account_id: int) -> datetime | None:
    """When the account's first session started (a previous period needs data to compare with)."""
    return db.scalar(select(func.min(Session.created_at)).where(Session.account_id == account_id))


def previous_period_thin(sessions_now: int, sessions_before: int) -> bool:
    return sessions_before < THIN_SESSIONS or sessions_before < THIN_SHARE * sessions_now


@dataclass(frozen=True)
class Comparison:
    """How the period's figures stand against the previous period's."""

    covered: bool
    thin: bool
    previous_sessions: int
    first_session_at: datetime | None
    previous_start: datetime

    def change(self, text: str) -> str:
        """A change as a card shows it: nothing when not covered, a warning beside it when thin."""
        if not self.covered:
            return "no data before"
        if self.thin:
            return f"{text} (thin: {self.previous_sessions:,} before)"
        return text

    def colour(self, colour: str) -> str:
        """The change's colour: none when the change says little (not covered, or thin)."""
        return colour if self.covered and not self.thin else "off"

    def sentence(self) -> str:
        """Why the changes are missing or greyed, for the caption under the figures ("" when neither)."""
        if not self.covered:
            since = (f"starts on {self.first_session_at:%d %b %Y}" if self.first_session_at
                     else "has no sessions")
            return (f"No changes shown: the account's data {since}, after the previous period's start "
                    f"({self.previous_start:%d %b %Y}), so that period is no yardstick.")
        if self.thin:
            sessions = "session" if self.previous_sessions == 1 else "sessions"
            return (f"The previous period is thin: {self.previous_sessions:,} {sessions} (fewer than "
                    f"{THIN_SESSIONS} or than a quarter of this period's), so its changes are greyed.")
        return ""
