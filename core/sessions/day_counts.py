"""Per-day step counts for the knowledge-gap report, kept by the import.

The report's step signals (weak options, failing actions, the reach of dead ends) group every
step of both periods by flow, node, wording, step type and typed answer. Grouping the raw rows
cost the report two to three times a plain read of them; most of those rows never change after
their import. So the import also writes the same groups per account and UTC day of the session's
start (``step_day_counts``), and with them a stamp of the sessions they were counted from
(``step_day_stamps``).

The report trusts a day's counts only when the day lies wholly in one of its periods and its
stamp still matches the sessions (count, failed steps, finished flow sessions): sessions written
by other means (tests build rows with the ORM) or changed since are read raw, as are the partial
days at the periods' edges. The grouping is defined once here, for the raw read and for the
rollup alike, so both give the same counts.

What keeps the counts right:
- a re-import replaces a session's steps: the days it touches (its old start day and its new
  one) are counted again from the steps, never added to;
- two imports may write the same day: on PostgreSQL each recounts under a transaction-scoped
  advisory lock per account, held until it commits, so the later one counts the earlier one's
  committed rows (SQLite lets one writer in at a time anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import (
    Connection, Date, Integer, and_, bindparam, case, delete, false, func, insert, literal, or_, select,
)

from core.flows.walk import FLOW_STEP_TYPES
from core.metrics.sql import count_if, lower_trim, utc_day
from core.models import TRIED_STEP_TYPES, Session, Step, StepDayCount, StepDayStamp
from core.outcomes import FINISHED
from core.report_settings import local_settings
from core.types import utc_day_start as day_start

# Any constant no other advisory lock uses ("Flow" in ASCII), paired with the account id.
ROLLUP_LOCK = 0x466C6F77
ONE_DAY = timedelta(days=1)
# For the recount after a large import (3.4 million step rows into 54,000 groups at 1,000,000
# sessions): the planner multiplies the grouping columns' distinct counts, expects some forty
# times the groups there are, and sorts them on disk (10 s) instead of hashing them in memory (5 s).
REFRESH_SETTINGS = {"work_mem": "256MB", "enable_sort": "off", "jit": "off"}


def _days_param():
    return bindparam("days", expanding=True, type_=Date)


# --- the grouping, shared by the raw read and the rollup -------------------------------------------

TEXT_KEY = case((Step.node_id.is_(None), lower_trim(Step.context_message)))
ANSWER = case((Step.was_free_text.is_(True), lower_trim(Step.response)))
FREE = Step.was_free_text.is_(True)
FAILED = Step.outcome == "failed"
# A question with a response, an action or script that succeeded or failed: the step signals' rows.
# (NULL when an action has no outcome: coalesced, so that it groups with the other untried steps.)
TRIED = func.coalesce(
    or_(and_(Step.step_type == "question", Step.response.is_not(None)),
        and_(Step.step_type.in_(TRIED_STEP_TYPES), Step.outcome.in_(("failed", "succeeded")))),
    false())
# A finished flow session coming to one of its flow's nodes (a run of retries counts once).
REACH = and_(Session.matched_flow.is_not(None), FINISHED, Step.node_id.is_not(None),
             Step.step_type.in_(FLOW_STEP_TYPES), Step.repeats_previous.is_(False))

GROUP_KEYS = (Session.matched_flow, Step.node_id, TEXT_KEY, Step.step_type, ANSWER, TRIED)
COUNTED = or_(TRIED, REACH)  # the rows any step signal looks at


def measures() -> list:
    """(steps, flagged, free_text, failed, reached, sample_text) of a group. ``flagged``: typed or
    failed, all the previous period needs; ``sample_text``: a wording for steps without a node."""
    return [func.count(), count_if(or_(FREE, FAILED)), count_if(FREE), count_if(FAILED), count_if(REACH),
            func.max(case((Step.node_id.is_(None), Step.context_message)))]


@dataclass(frozen=True)
class StepGroup:
    """The counts of one group of steps in one period: the unit the raw read and the rollup share."""

    flow_id: str | None
    node_id: str | None
    text_key: str | None
    step_type: str
    answer: str | None
    tried: bool
    current: bool
    steps: int
    flagged: int
    free_text: int
    failed: int
    reached: int
    sample_text: str | None

    @property
    def key(self) -> tuple:
        return self.flow_id, self.node_id, self.text_key, self.step_type, self.answer, self.tried, self.current


def group_from_row(row) -> StepGroup:
    """A row laid out as ``GROUP_KEYS``, whether it is of the current period, then ``measures()``."""
    flow, node, text_key, kind, answer, tried, current, steps, flagged, free, failed, reached, sample = row
    return StepGroup(flow, node, text_key, kind, answer, bool(tried), bool(current), int(steps), int(flagged),
                     int(free), int(failed), int(reached), sample)


def merge_groups(groups: Iterable[StepGroup]) -> list[StepGroup]:
    """Add up the groups that share a key (the same group read from several days or ranges)."""
    merged: dict[tuple, StepGroup] = {}
    for g in groups:
        seen = merged.get(g.key)
        if seen is None:
            merged[g.key] = g
            continue
        samples = [s for s in (seen.sample_text, g.sample_text) if s is not None]
        merged[g.key] = StepGroup(
            *g.key, seen.steps + g.steps, seen.flagged + g.flagged, seen.free_text + g.free_text,
            seen.failed + g.failed, seen.reached + g.reached, max(samples) if samples else None)
    return list(merged.values())


# --- days ------------------------------------------------------------------------------------------


def day_end(day: date) -> datetime:
    """The end of ``day`` (exclusive); the last day Python can hold ends at its last microsecond."""
    return day_start(day) + ONE_DAY if day < date.max else datetime.max.replace(tzinfo=timezone.utc)


def day_of(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


def first_whole_day(moment: datetime) -> date:
    """The first UTC day that starts at or after ``moment``."""
    return day_of(moment) if day_start(day_of(moment)) == moment else day_of(moment) + ONE_DAY


def whole_days(start: datetime, end: datetime) -> list[date]:
    """The UTC days that lie wholly in ``[start, end)``."""
    first = first_whole_day(start)
    days = []
    while day_start(first) + ONE_DAY <= end:
        days.append(first)
        first += ONE_DAY
    return days


def uncovered(start: datetime, end: datetime, days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` less the given whole days, as ordered half-open ranges."""
    ranges, cursor = [], start
    for day in sorted(days):
        if day_start(day) > cursor:
            ranges.append((cursor, day_start(day)))
        cursor = max(cursor, day_start(day) + ONE_DAY)
    if cursor < end:
        ranges.append((cursor, end))
    return ranges


# --- stamps: what a day's counts were made from ------------------------------------------------------


def _stamp_figures():
    finished_flow = and_(Session.matched_flow.is_not(None), FINISHED)
    return [func.count(), func.coalesce(func.sum(Session.failed_steps), 0), count_if(finished_flow)]


Stamp = tuple  # (sessions, failed steps, finished flow sessions)


def _live_stamps(connection, account_id: int, first: date, last: date) -> dict[date, Stamp]:
    """The stamp each day from ``first`` to ``last`` would get now, straight from the sessions
    (``ix_sessions_account_created`` carries every column it reads)."""
    day = utc_day(Session.created_at)
    rows = connection.execute(
        select(day, *_stamp_figures())
        .where(Session.account_id == account_id, Session.created_at >= day_start(first),
               Session.created_at < day_end(last))
        .group_by(day))
    return {_as_date(d): (int(n), int(f), int(k)) for d, n, f, k in rows}


def _live_total(connection, account_id: int, first: date, last: date) -> Stamp:
    n, failed, finished = connection.execute(
        select(*_stamp_figures()).where(Session.account_id == account_id, Session.created_at >= day_start(first),
                                        Session.created_at < day_end(last))).one()
    return int(n), int(failed), int(finished)


def _stored_stamps(connection, account_id: int, first: date, last: date) -> dict[date, Stamp]:
    rows = connection.execute(
        select(StepDayStamp.day, StepDayStamp.sessions, StepDayStamp.failed_steps, StepDayStamp.finished_flow)
        .where(StepDayStamp.account_id == account_id, StepDayStamp.day >= first, StepDayStamp.day <= last))
    return {d: (n, f, k) for d, n, f, k in rows}


def current_days(connection, account_id: int, days: list[date]) -> set[date]:
    """Of ``days`` (ascending), those whose stored counts match their sessions now.

    First one total over the days' whole span against the stored stamps' sum (one aggregate, no
    grouping: the usual case); only when that differs, day by day. (Changes that leave all three
    totals as they were, a session added by hand on one day and another removed on another,
    would go unseen: nothing but the import writes sessions.)"""
    if not days:
        return set()
    first, last = days[0], days[-1]
    stored = _stored_stamps(connection, account_id, first, last)
    stored_total = tuple(sum(stamp[i] for stamp in stored.values()) for i in range(3))
    if stored_total == _live_total(connection, account_id, first, last):
        return set(days)
    live = _live_stamps(connection, account_id, first, last)
    empty = (0, 0, 0)
    return {d for d in days if live.get(d, empty) == stored.get(d, empty)}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# --- reading and writing the counts --------------------------------------------------------------------


def read_rollup(connection, account_id: int, days: Iterable[date], current_from: date) -> list[StepGroup]:
    """The stored groups of ``days``, added up per group and period (``current_from``: the first
    day of the current period)."""
    days = sorted(days)
    if not days:
        return []
    c = StepDayCount
    current = c.day >= current_from
    keys = (c.flow_id, c.node_id, c.text_key, c.step_type, c.answer, c.tried)
    statement = (
        select(*keys, current, func.sum(c.steps), func.sum(c.flagged), func.sum(c.free_text), func.sum(c.failed),
               func.sum(c.reached), func.max(c.sample_text))
        .where(c.account_id == account_id, c.day.in_(_days_param()))
        .group_by(*keys, current)
    )
    return [group_from_row(row) for row in connection.execute(statement, {"days": days})]


def refresh(connection: Connection, account_days: dict[int, set[date]]) -> None:
    """Count the given days again from their sessions and steps (in the import's transaction)."""
    account_days = {a: sorted(days) for a, days in account_days.items() if days}
    if not account_days:
        return
    if connection.dialect.name == "postgresql":
        for account_id in sorted(account_days):
            connection.execute(select(func.pg_advisory_xact_lock(literal(ROLLUP_LOCK, Integer),
                                                                 literal(account_id, Integer))))
    for account_id, days in account_days.items():
        for table in (StepDayCount, StepDayStamp):
            connection.execute(delete(table).where(table.account_id == account_id, table.day.in_(_days_param())),
                               {"days": days})
    # Whole runs of consecutive days, so every session in these ranges is on a day to count; one
    # statement for all accounts, which share the steps table (one per account read it each time).
    in_days = or_(*(and_(Session.account_id == account_id, Session.created_at >= day_start(first),
                         Session.created_at < day_end(last))
                    for account_id, days in account_days.items() for first, last in runs(days)))
    day = utc_day(Session.created_at)
    counts = (
        select(Session.account_id, day, *GROUP_KEYS, *measures())
        .join(Step, Step.session_id == Session.id)
        .where(in_days, COUNTED)
        .group_by(Session.account_id, day, *GROUP_KEYS)
    )
    with local_settings(connection, REFRESH_SETTINGS):
        connection.execute(insert(StepDayCount).from_select(COUNT_COLUMNS, counts))
    stamps = select(Session.account_id, day, *_stamp_figures()).where(in_days).group_by(Session.account_id, day)
    connection.execute(insert(StepDayStamp).from_select(STAMP_COLUMNS, stamps))


def runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) of each run of consecutive days."""
    result: list[tuple[date, date]] = []
    for day in days:
        if result and result[-1][1] + ONE_DAY == day:
            result[-1] = (result[-1][0], day)
        else:
            result.append((day, day))
    return result


COUNT_COLUMNS = ("account_id", "day", "flow_id", "node_id", "text_key", "step_type", "answer", "tried",
                 "steps", "flagged", "free_text", "failed", "reached", "sample_text")
STAMP_COLUMNS = ("account_id", "day", "sessions", "failed_steps", "finished_flow")
