"""The knowledge-gap reads: SQL aggregation for one account and period (plus the period of equal
length before it, for the emerging flag), raw rows out. Shaping lives in ``signals``.

Every read filters on ``sessions (account_id, created_at)`` first, the leading columns of its
index, and joins steps by ``session_id``, the leading column of their primary key. Normalising
in SQL is only ``lower(trim(...))``, which both databases do alike for the texts we group;
``signals`` finishes the job in Python so the figures do not depend on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session as OrmSession

from core.models import Flow, FlowVersion, Session, Step

ESCALATED = ("escalated", "requesting_escalation")
FINISHED = ("resolved", "escalated", "requesting_escalation", "abandoned")
DEAD_END_STATUSES = ("escalated", "requesting_escalation", "abandoned")
FLOW_STEP_TYPES = ("question", "action", "script")
MAX_SESSION_IDS = 200


@dataclass(frozen=True)
class Period:
    """``[start, end)`` by session start, and the period of equal length before it."""

    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, days: int, now: datetime) -> Period:
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        return cls(start=now - timedelta(days=days), end=now)

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _both_periods(period: Period):
    return (Session.created_at >= period.previous_start, Session.created_at < period.end)


def _this_period(period: Period):
    return (Session.created_at >= period.start, Session.created_at < period.end)


def _is_current(period: Period):
    return case((Session.created_at >= period.start, 1), else_=0)


def _count_if(condition):
    return func.count(case((condition, 1)))


def _norm(column):
    return func.lower(func.trim(column))


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


# Between a session's start and its id, and between sessions, in an aggregated id list: control
# characters no timestamp has and no sane imported id does.
_TAG_SEPARATOR = "\x1e"
_LIST_SEPARATOR = "\x1f"
SessionTag = tuple[str, str]  # (start as sortable text, external id)


def _session_tags(condition):
    """The sessions of a group's rows matching ``condition``, as one aggregated string."""
    tag = _SortableTime(Session.created_at) + literal(_TAG_SEPARATOR) + Session.external_id
    return func.aggregate_strings(case((condition, tag)), _LIST_SEPARATOR)


def _parse_tags(text: str | None) -> tuple[SessionTag, ...]:
    if not text:
        return ()
    return tuple(sorted({tuple(item.split(_TAG_SEPARATOR, 1)) for item in text.split(_LIST_SEPARATOR)}))


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


# --- steps: questions answered (weak_options) and actions attempted (failing_action) -------------


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
    # This period's sessions that typed the answer (questions) or saw the step fail (actions).
    flagged_sessions: tuple[SessionTag, ...] = ()


def read_step_rows(db: OrmSession, account_id: int, period: Period) -> list[StepRow]:
    """One pass over the step rows of both periods: everything weak_options and failing_action need
    (answered questions, and actions and scripts that were tried)."""
    text_key = case((Step.node_id.is_(None), _norm(Step.context_message)))
    answer = case((Step.was_free_text.is_(True), _norm(Step.response)))
    current = _is_current(period)
    statement = (
        select(
            Session.matched_flow, Step.node_id, text_key, Step.step_type, current, answer,
            func.count(), func.count(Step.response), _count_if(Step.was_free_text.is_(True)),
            _count_if(Step.outcome == "failed"), _count_if(Step.outcome == "succeeded"),
            # Only node-less steps need their wording from here; flow nodes have it in the tree.
            func.max(case((Step.node_id.is_(None), Step.context_message))),
            _session_tags(and_(Session.created_at >= period.start, or_(
                and_(Step.step_type == "question", Step.was_free_text.is_(True)),
                and_(Step.step_type != "question", Step.outcome == "failed")))),
        )
        .join(Step, Step.session_id == Session.id)
        .where(Session.account_id == account_id, *_both_periods(period), or_(
            and_(Step.step_type == "question", Step.response.is_not(None)),
            and_(Step.step_type.in_(("action", "script")), Step.outcome.in_(("failed", "succeeded")))),
            # Of the previous period only the volumes behind the emerging flag are needed.
            or_(Session.created_at >= period.start, Step.was_free_text.is_(True), Step.outcome == "failed"))
        .group_by(Session.matched_flow, Step.node_id, text_key, Step.step_type, current, answer)
    )
    return [
        StepRow(flow, node, key, kind, bool(cur), ans, int(n), int(resp), int(free), int(failed), int(ok), sample,
                _parse_tags(tags))
        for flow, node, key, kind, cur, ans, n, resp, free, failed, ok, sample, tags in db.execute(statement)
    ]


# --- where flow sessions end (dead_end) ------------------------------------------------------------


@dataclass(frozen=True)
class NodeRow:
    """Finished flow sessions at one node, by how they ended and period: how many reached the
    node, and how many stopped there (it was their last step taken from the flow)."""

    flow_id: str
    node_id: str
    step_type: str
    status: str
    current: bool
    reached: int
    ended: int
    # This period's sessions that stopped here (escalated or abandoned).
    ended_sessions: tuple[SessionTag, ...] = ()


# A flow's own resolution and escalation nodes are steps too: a session that ends on the flow's
# escalation node followed the flow to its end, and must not make the node before it a dead end.
_NODE_STEP_TYPES = (*FLOW_STEP_TYPES, "resolution", "escalation")


def _flow_steps_in_order(account_id: int, period_filter, *extra_columns):
    """The flow steps of finished flow sessions, each knowing whether it is the session's last
    flow step and whether it repeats the step before (a retried action): one window, one sort."""
    window = {"partition_by": Step.session_id, "order_by": Step.seq}
    return (
        select(Session.matched_flow.label("flow_id"), Step.node_id.label("node_id"),
               Step.step_type.label("step_type"), Session.status.label("status"), *extra_columns,
               case((func.lead(Step.seq).over(**window).is_(None), 1), else_=0).label("is_last"),
               case((func.lag(Step.node_id).over(**window) == Step.node_id, 1), else_=0).label("is_repeat"))
        .join(Step, Step.session_id == Session.id)
        .where(Session.account_id == account_id, *period_filter, Session.matched_flow.is_not(None),
               Session.status.in_(FINISHED), Step.node_id.is_not(None), Step.step_type.in_(_NODE_STEP_TYPES))
        .subquery()
    )


def read_node_rows(db: OrmSession, account_id: int, period: Period) -> list[NodeRow]:
    tag = (_SortableTime(Session.created_at) + literal(_TAG_SEPARATOR) + Session.external_id).label("tag")
    # Of the previous period only the sessions that stopped count (for the emerging flag).
    periods = (*_both_periods(period),
               or_(Session.created_at >= period.start, Session.status.in_(DEAD_END_STATUSES)))
    steps = _flow_steps_in_order(account_id, periods, _is_current(period).label("current"), tag)
    stopped = and_(steps.c.is_last == 1, steps.c.current == 1, steps.c.status.in_(DEAD_END_STATUSES))
    statement = (
        select(steps.c.flow_id, steps.c.node_id, steps.c.step_type, steps.c.status, steps.c.current,
               _count_if(steps.c.is_repeat == 0), _count_if(steps.c.is_last == 1),
               func.aggregate_strings(case((stopped, steps.c.tag)), _LIST_SEPARATOR))
        .group_by(steps.c.flow_id, steps.c.node_id, steps.c.step_type, steps.c.status, steps.c.current)
    )
    return [NodeRow(f, n, k, s, bool(c), int(r), int(e), _parse_tags(t))
            for f, n, k, s, c, r, e, t in db.execute(statement)]


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


def read_unmatched_summaries(db: OrmSession, account_id: int, period: Period) -> list[SummaryRow]:
    summary = _norm(Session.problem_summary)
    current = _is_current(period)
    statement = (
        select(summary, Session.problem_domain, current, func.count(), _count_if(Session.status == "resolved"))
        .where(Session.account_id == account_id, *_both_periods(period),
               Session.matched_flow.is_(None), Session.problem_summary.is_not(None))
        .group_by(summary, Session.problem_domain, current)
    )
    return [SummaryRow(s, d, bool(c), int(n), int(r)) for s, d, c, n, r in db.execute(statement) if s]


# --- the sessions behind a gap -----------------------------------------------------------------------
#
# Step-based signals collect their sessions in their own pass (``flagged_sessions``,
# ``ended_sessions``). Domain and summary gaps read theirs here, from the sessions table only.


def read_summary_session_ids(db: OrmSession, account_id: int, period: Period,
                             summaries: set[str]) -> dict[tuple, list[SessionTag]]:
    """Per ``lower(trim(problem_summary))`` among ``summaries``: its newest 200 unmatched sessions."""
    if not summaries:
        return {}
    summary = _norm(Session.problem_summary).label("summary")
    rank = func.row_number().over(partition_by=summary, order_by=(Session.created_at.desc(), Session.id.desc()))
    ranked = (
        select(summary, _SortableTime(Session.created_at).label("started"), Session.external_id,
               rank.label("rank"))
        .where(Session.account_id == account_id, *_this_period(period), Session.matched_flow.is_(None),
               _norm(Session.problem_summary).in_(sorted(summaries)))
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
