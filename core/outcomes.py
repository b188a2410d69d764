"""A session's outcome as a SQL condition, the same in every report (analytics, the home page's
headline, knowledge gaps). The status names themselves live with the schema in ``core.models``."""

from __future__ import annotations

from core.models import DEAD_END_STATUSES, ESCALATED_STATUSES, FINISHED_STATUSES, Session

RESOLVED = Session.status == "resolved"
ESCALATED = Session.status.in_(ESCALATED_STATUSES)
ABANDONED = Session.status == "abandoned"
ACTIVE = Session.status == "active"
# A session still active has no outcome yet and is left out of every rate.
HAS_OUTCOME = Session.status != "active"
FINISHED = Session.status.in_(FINISHED_STATUSES)
DEAD_END = Session.status.in_(DEAD_END_STATUSES)
