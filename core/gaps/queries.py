"""The knowledge-gap reads: SQL aggregation for one account and period (plus the period of equal
length before it, for the emerging flag), raw rows out. Shaping lives in ``signals``.

Every read filters on ``sessions (account_id, created_at)`` first, the leading columns of its
index, and joins steps by ``session_id``, the leading column of their primary key. Normalising
in SQL is only ``lower(trim(...))``, which both databases do alike for the texts we group;
``signals`` finishes the job in Python so the figures do not depend on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session as OrmSession

from core.metrics.comparison import read_first_session_start as first_session_start
from core.metrics.sql import count_if, lower_trim
from core.models import FLAGGED_STEP, Flow, FlowVersion, Session, Step
from core.outcomes import DEAD_END, RESOLVED
from core.periods import Period
from core.report_settings import local_settings
from core.sessions import day_counts

MAX_SESSION_IDS = 200


def _both_periods(period: Period):
    return (Session.created_at >= period.previous_start, Session.created_at < period.end)


def _this_period(period: Period):
    return (Session.created_at >= period.start, Session.created_at < period.end)


def _is_current(period: Period):
    # A boolean, not CASE ... 1/0: PostgreSQL estimates two groups for a boolean key, but one
    # group per distinct start time for a CASE over it, and then will not aggregate in parallel.
    return Session.created_at >= period.start


class _SortableTime(FunctionElement):
    """A timestamp as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text on both databases, so that text order
    is time order (SQLite already stores exactly that)."""

    type = String()
    inherit_cache = True


@compiles(_SortableTime)
def _sortable_time_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_SortableTime, "postgresql")
def _sortable_time_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


SessionTag = tuple  # (start, external id): the start as sortable text or a datetime, alike within one call


def newest_session_ids(tags, limit: int = MAX_SESSION_IDS) -> list[str]:
    """External ids of the newest sessions among ``tags``, once each, newest first."""
    unique = sorted(set(tags), reverse=True)
    seen, result = set(), []
    for _, external_id in unique:
        if external_id not in seen:
            seen.add(external_id)
            result.append(external_id)
            if len(result) == limit:
                break
    return result


@dataclass(frozen=True)
class FlowInfo:
    external_id: str
    name: str
    domain: str | None
    tree: dict[str, Any]


def read_flows(db: OrmSession, account_id: int) -> dict[str, FlowInfo]:
    """The account's flows with their current trees, by imported id (for names and node texts)."""
    rows = db.execute(
        select(Flow.external_id, Flow.name, Flow.domain, FlowVersion.tree)
        .join(FlowVersion, and_(FlowVersion.flow_id == Flow.id, FlowVersion.version == Flow.current_version))
        .where(Flow.account_id == account_id)
    )
    return {r.external_id: FlowInfo(r.external_id, r.name, r.domain, r.tree or {}) for r in rows}


# When the account's first session started: the emerging flag needs a previous period with data,
# as the Analytics and Home changes do (one definition, in core.metrics.comparison).
read_first_session_start = first_session_start


# --- steps: one pass for weak_options, failing_action and the reach of dead_end ------------------


@dataclass(frozen=True)
class StepRow:
    """Step counts for one (flow, node or normalised text, step type, period) and, for
    questions, one normalised free-text answer (None for the picked-option rows)."""

    flow_id: str | None
    node_id: str | None
    text_key: str | None  # lower(trim(context_message)) when the step has no node
    step_type: str
    current: bool
    free_text_answer: str | None
    steps: int
    responses: int
    free_text: int
    failed: int
    succeeded: int
    sample_text: str | None


@dataclass(frozen=True)
class StepPass:
    """``rows``: answered questions and tried actions and scripts (weak_options, failing_action).
    ``reached``: per (flow, node), how many times this period's finished flow sessions came to a
    question, action or script of the flow (a run of retries on one node counts once)."""

    rows: list[StepRow]
    reached: dict[tuple[str, str], int]


def read_steps(db: OrmSession, account_id: int, period: Period) -> StepPass:
    """The step counts of both periods: the import's per-day counts (``core.sessions.day_counts``) for the
    whole days they still match, the step rows themselves for the rest (the partial days at the
    periods' edges, and days whose sessions were written or changed by other means)."""
    days = [*day_counts.whole_days(period.previous_start, period.start),
            *day_counts.whole_days(period.start, period.end)]
    counted = day_counts.current_days(db, account_id, days)
    groups = day_counts.read_rollup(db, account_id, counted, day_counts.first_whole_day(period.start))
    for start, end in day_counts.uncovered(period.previous_start, period.end, counted):
        groups.extend(read_raw_step_groups(db, account_id, period, start, end))
    return step_pass(day_counts.merge_groups(groups))


def read_raw_step_groups(db: OrmSession, account_id: int, period: Period, start: datetime,
                         end: datetime) -> list[day_counts.StepGroup]:
    """The step groups of the sessions started in ``[start, end)``, straight from the step rows.

    Whether a row counts and its period are grouping keys, so that each aggregate tests one plain
    condition: a CASE repeating them in every aggregate cost PostgreSQL more than reading the
    rows. Both are boolean expressions, which the planner counts as two groups each (a CASE over
    ``created_at`` it took for one group per row). No session ids are gathered here
    (``read_step_session_ids`` reads them for the gaps kept): a string aggregate cannot be
    combined across PostgreSQL's parallel workers."""
    cur = Session.created_at >= period.start
    tried, flagged = day_counts.TRIED, or_(day_counts.FREE, day_counts.FAILED)
    statement = (
        select(*day_counts.GROUP_KEYS, cur, *day_counts.measures())
        .join(Step, Step.session_id == Session.id)
        # Of the previous period only the volumes behind the emerging flag are needed.
        .where(Session.account_id == account_id, Session.created_at >= start, Session.created_at < end,
               or_(and_(tried, or_(cur, flagged)), and_(cur, day_counts.REACH)))
        .group_by(*day_counts.GROUP_KEYS, cur)
    )
    return [day_counts.group_from_row(row) for row in db.execute(statement)]


def step_pass(groups: list[day_counts.StepGroup]) -> StepPass:
    """Shape the step groups of both periods into the signals' rows and the nodes' reach."""
    rows, reached = [], {}
    for g in groups:
        # Of the previous period only typed and failed steps count (the emerging flag's volumes).
        if g.tried and (g.current or g.flagged):
            n = g.steps if g.current else g.flagged
            # A tried question has a response, a tried action or script succeeded or failed.
            responses, succeeded = (n, 0) if g.step_type == "question" else (0, n - g.failed)
            rows.append(StepRow(g.flow_id, g.node_id, g.text_key, g.step_type, g.current, g.answer, n, responses,
                                g.free_text, g.failed, succeeded, g.sample_text if g.current else None))
        if g.current and g.reached:
            reached[(g.flow_id, g.node_id)] = reached.get((g.flow_id, g.node_id), 0) + g.reached
    return StepPass(rows, reached)


# --- where flow sessions stopped (dead_end) --------------------------------------------------------


@dataclass(frozen=True)
class StopRow:
    """Flow sessions that ended (escalated or abandoned) with a flow node as the last step they
    took from the flow (``sessions.stopped_at_node``, set at import by ``core.flows.walk``)."""

    flow_id: str
    node_id: str
    status: str
    current: bool
    sessions: int


def read_stops(db: OrmSession, account_id: int, period: Period) -> list[StopRow]:
    current = _is_current(period)
    statement = (
        select(Session.matched_flow, Session.stopped_at_node, Session.status, current, func.count())
        .where(Session.account_id == account_id, *_both_periods(period), Session.matched_flow.is_not(None),
               Session.stopped_at_node.is_not(None), DEAD_END)
        .group_by(Session.matched_flow, Session.stopped_at_node, Session.status, current)
    )
    return [StopRow(f, n, s, bool(c), int(k)) for f, n, s, c, k in db.execute(statement)]


# --- sessions by domain (high_escalation, uncharted_territory) -------------------------------------


@dataclass(frozen=True)
class DomainRow:
    domain: str | None
    status: str
    tier: str | None
    unmatched: bool  # no matched flow
    current: bool
    sessions: int


def read_domain_rows(db: OrmSession, account_id: int, period: Period) -> list[DomainRow]:
    current = _is_current(period)
    unmatched = case((Session.matched_flow.is_(None), 1), else_=0)
    statement = (
        select(Session.problem_domain, Session.status, Session.confidence_tier, unmatched, current, func.count())
        .where(Session.account_id == account_id, *_both_periods(period))
        .group_by(Session.problem_domain, Session.status, Session.confidence_tier, unmatched, current)
    )
    return [DomainRow(d, s, t, bool(u), bool(c), int(n)) for d, s, t, u, c, n in db.execute(statement)]


# --- problem summaries of sessions with no matched flow (repeated_pattern) ------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One distinct ``lower(trim(problem_summary))`` of unmatched sessions, with its counts."""

    summary: str
    domain: str | None
    current: bool
    sessions: int
    resolved: int
    fix: str | None = None  # lower(trim(resolution_summary)) of the resolved ones among them


def read_unmatched_summaries(db: OrmSession, account_id: int, period: Period) -> list[SummaryRow]:
    summary = lower_trim(Session.problem_summary)
    current = _is_current(period)
    fix = case((RESOLVED, lower_trim(Session.resolution_summary)))
    statement = (
        select(summary, Session.problem_domain, current, fix, func.count(), count_if(RESOLVED))
        .where(Session.account_id == account_id, *_both_periods(period),
               Session.matched_flow.is_(None), Session.problem_summary.is_not(None))
        .group_by(summary, Session.problem_domain, current, fix)
    )
    return [SummaryRow(s, d, bool(c), int(n), int(r), f or None)
            for s, d, c, f, n, r in db.execute(statement) if s]


@dataclass(frozen=True)
class ImprovisedStepRow:
    """An improvised (no flow node) action or script of unmatched sessions with one normalised
    summary: what the engineers tried, evidence of which problem it was."""

    summary: str
    step: str
    sessions: int


# Walk the period's unmatched sessions and probe each one's steps by its primary key: a hash join
# would read the whole steps table, every account's, to keep a few percent of it.
_PROBE_STEPS = {"enable_hashjoin": "off", "enable_mergejoin": "off"}


def read_unmatched_improvised_steps(db: OrmSession, account_id: int, period: Period) -> list[ImprovisedStepRow]:
    """This period's improvised steps of unmatched sessions, per normalised summary (the previous
    period's summaries are clustered on their wording and fixes alone: it halves the read)."""
    summary = lower_trim(Session.problem_summary)
    step = lower_trim(Step.context_message)
    statement = (
        select(summary, step, func.count())
        .join(Step, Step.session_id == Session.id)
        .where(Session.account_id == account_id, *_this_period(period), Session.matched_flow.is_(None),
               Session.problem_summary.is_not(None), Step.node_id.is_(None),
               Step.step_type.in_(("action", "script")), Step.context_message.is_not(None))
        .group_by(summary, step)
    )
    with local_settings(db, _PROBE_STEPS):
        rows = db.execute(statement).all()
    return [ImprovisedStepRow(s, t, int(n)) for s, t, n in rows if s and t]


@dataclass(frozen=True)
class MatchedSummaryRow:
    """One distinct normalised summary of the sessions that matched one flow: the account's
    labelled data, from which the clustering learns which words name the same problem."""

    flow_id: str
    summary: str
    sessions: int


MAX_MATCHED_SUMMARIES = 20000


def read_matched_summaries(db: OrmSession, account_id: int, period: Period) -> list[MatchedSummaryRow]:
    """The most frequent ``MAX_MATCHED_SUMMARIES`` (flow, summary) pairs of both periods."""
    summary = lower_trim(Session.problem_summary)
    sessions = func.count()
    statement = (
        select(Session.matched_flow, summary, sessions)
        .where(Session.account_id == account_id, *_both_periods(period), Session.matched_flow.is_not(None),
               Session.problem_summary.is_not(None))
        .group_by(Session.matched_flow, summary)
        .order_by(sessions.desc(), Session.matched_flow, summary)
        .limit(MAX_MATCHED_SUMMARIES)
    )
    return [MatchedSummaryRow(f, s, int(n)) for f, s, n in db.execute(statement) if s]


# --- the sessions behind a gap -----------------------------------------------------------------------
#
# Read only for the gaps kept, newest first, up to 200: through the sessions' flow and domain
# indexes, and for step gaps through the partial index of flagged steps (``FLAGGED_STEP``), so
# that no read of session ids goes over every step row again. Ties on the start time are broken
# by the imported id, descending, as ``newest_session_ids`` does.


def _newest(db: OrmSession, account_id: int, period: Period, *where) -> list[str]:
    statement = (
        select(Session.external_id)
        .where(Session.account_id == account_id, *_this_period(period), *where)
        .order_by(Session.created_at.desc(), Session.external_id.desc())
        .limit(MAX_SESSION_IDS)
    )
    return [row[0] for row in db.execute(statement)]


def _flow_is(flow_id: str | None):
    return Session.matched_flow.is_(None) if flow_id is None else Session.matched_flow == flow_id


def read_step_session_ids(db: OrmSession, account_id: int, period: Period,
                          locators: list[tuple]) -> list[list[str]]:
    """For each step gap kept, ``(flow_id, node_id, texts, step_types, flag)``: this period's newest
    200 sessions with such a step flagged (typed answer to a question, failed action or script), as
    ``read_steps`` counts them.

    Per gap, the flow's sessions are walked newest first (``ix_sessions_account_flow_created``) and
    each is checked in the small partial index of flagged steps, until 200 are found. Reading the
    flagged steps first instead would read those of every account and period (node ids repeat
    across flows) and look each session up."""
    return [_newest(db, account_id, period, _flow_is(flow_id),
                    _has_flagged_step(node_id, texts, step_types)) for flow_id, node_id, texts, step_types, _ in locators]


def _has_flagged_step(node_id: str | None, texts, step_types: tuple[str, ...]):
    if node_id is not None:
        at = Step.node_id == node_id
    else:
        wordings = [lower_trim(Step.context_message).in_(sorted(t for t in texts if t is not None))]
        if None in texts:
            wordings.append(Step.context_message.is_(None))
        at = and_(Step.node_id.is_(None), or_(*wordings))
    flagged = select(Step.seq).where(Step.session_id == Session.id, FLAGGED_STEP, Step.step_type.in_(step_types), at)
    # OFFSET 0 keeps the check a probe per session, newest first, stopping at 200: as a plain EXISTS
    # PostgreSQL may turn it into a join that reads every flagged step of every account first.
    return flagged.offset(0).exists()


def read_dead_end_session_ids(db: OrmSession, account_id: int, period: Period, flow_id: str,
                              node_id: str) -> list[str]:
    """This period's flow sessions that stopped (escalated or abandoned) at the node, as
    ``read_stops`` counts them."""
    return _newest(db, account_id, period, _flow_is(flow_id), DEAD_END,
                   Session.stopped_at_node == node_id)


def read_summary_session_ids(db: OrmSession, account_id: int, period: Period,
                             summaries: set[str]) -> dict[tuple, list[SessionTag]]:
    """Per ``lower(trim(problem_summary))`` among ``summaries``: its newest 200 unmatched sessions."""
    if not summaries:
        return {}
    summary = lower_trim(Session.problem_summary).label("summary")
    rank = func.row_number().over(partition_by=summary, order_by=(Session.created_at.desc(), Session.id.desc()))
    ranked = (
        select(summary, _SortableTime(Session.created_at).label("started"), Session.external_id,
               rank.label("rank"))
        .where(Session.account_id == account_id, *_this_period(period), Session.matched_flow.is_(None),
               lower_trim(Session.problem_summary).in_(sorted(summaries)))
        .subquery()
    )
    found: dict[tuple, list[SessionTag]] = {}
    statement = select(ranked.c.summary, ranked.c.started, ranked.c.external_id).where(
        ranked.c.rank <= MAX_SESSION_IDS)
    for key, started, external_id in db.execute(statement):
        found.setdefault((key,), []).append((started, external_id))
    return found


def _latest_ids(db: OrmSession, statement) -> list[str]:
    statement = statement.order_by(Session.created_at.desc(), Session.id.desc()).limit(MAX_SESSION_IDS)
    return [row[0] for row in db.execute(statement)]


def session_ids_for_domain(db: OrmSession, account_id: int, period: Period, domain: str | None,
                           statuses: tuple[str, ...], tier: str | None = None) -> list[str]:
    """One domain's sessions with these statuses (and tier): read through the domain index."""
    where = [Session.account_id == account_id, *_this_period(period), Session.status.in_(statuses),
             Session.problem_domain.is_(None) if domain is None else Session.problem_domain == domain]
    if tier is not None:
        where.append(Session.confidence_tier == tier)
    return _latest_ids(db, select(Session.external_id).where(*where))
