"""One flow's impact for its Impact tab: the report's changes for the flow, plus the figures that
need more than counts (first-contact resolution, median time to resolution, typed answers at the
nodes a change touched) and the flow's weekly rates. Reads one flow's sessions only, so these
heavier figures stay out of the account-wide report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.flows.diff import tree_diff
from core.impact.report import DEFAULT_WINDOW_DAYS, ImpactChange, build_impact, touched_nodes
from core.impact.stats import bootstrap_median_difference
from core.impact.verdicts import Change, OutcomeRates, rate_change
from core.metrics.sql import day_key, epoch_seconds, utc_day
from core.models import ESCALATED_STATUSES, Flow, Session, Step
from core.outcomes import HAS_OUTCOME, RESOLVED
from core.types import utcnow

WEEKS_SHOWN = 26


@dataclass(frozen=True)
class MedianChange:
    before: float | None  # minutes
    after: float | None
    delta: float | None
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class ChangeDetail:
    change: ImpactChange
    first_contact: Change  # share of the window's tickets whose only finished session resolved
    time_to_resolution: MedianChange
    # Per question the change touched: (node id, its text, the share of its answers typed).
    free_text: tuple[tuple[str, str, Change], ...]


@dataclass(frozen=True)
class WeekPoint(OutcomeRates):
    week: date  # the Monday
    finished: int
    resolved: int
    escalated: int


@dataclass(frozen=True)
class FlowImpact:
    flow_pk: int
    window_days: int
    details: tuple[ChangeDetail, ...]  # newest first
    weeks: tuple[WeekPoint, ...]
    publications: tuple[tuple[int, datetime], ...]  # (version, published_at) of every version


def _window(flow_id: str, version: int, start: datetime, end: datetime):
    return and_(Session.matched_flow == flow_id, Session.flow_version == version,
                Session.created_at >= start, Session.created_at < end)


def _sides(change: ImpactChange):
    """(condition before, condition after) for the sessions the change compares."""
    if change.compared == "flow":
        return (_window(change.flow_id, change.previous_version, change.window_start, change.split_at),
                _window(change.flow_id, change.version, change.split_at, change.window_end))
    return (and_(Session.problem_domain == change.domain, Session.created_at >= change.window_start,
                 Session.created_at < change.split_at),
            and_(Session.problem_domain == change.domain, Session.created_at >= change.split_at,
                 Session.created_at < change.window_end))


def fetch_first_contact(db: OrmSession, account_id: int, condition) -> tuple[int, int]:
    """(tickets, tickets whose only finished session resolved); a session without a ticket is its own."""
    ticket = func.coalesce(Session.psa_ticket_id, Session.external_id)
    per_ticket = (select(func.count().label("n"),
                         func.sum(case((RESOLVED, 1), else_=0)).label("resolved"))
                  .where(Session.account_id == account_id, HAS_OUTCOME, condition)
                  .group_by(ticket).subquery())
    tickets, first = db.execute(select(func.count(), func.sum(case(
        (and_(per_ticket.c.n == 1, per_ticket.c.resolved == 1), 1), else_=0))).select_from(per_ticket)).one()
    return tickets or 0, first or 0


def fetch_resolution_minutes(db: OrmSession, account_id: int, condition) -> list[float]:
    seconds = epoch_seconds(Session.ended_at) - epoch_seconds(Session.created_at)
    rows = db.execute(select(seconds).where(Session.account_id == account_id, RESOLVED,
                                            Session.ended_at.is_not(None), condition))
    return [value / 60 for (value,) in rows]


def fetch_free_text(db: OrmSession, account_id: int, condition, nodes: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Per node: (answers given at it, answers typed)."""
    if not nodes:
        return {}
    rows = db.execute(
        select(Step.node_id, func.count(), func.sum(case((Step.was_free_text, 1), else_=0)))
        .join(Session, Session.id == Step.session_id)
        .where(Session.account_id == account_id, condition, Step.step_type == "question", Step.node_id.in_(nodes))
        .group_by(Step.node_id))
    return {node: (n, typed or 0) for node, n, typed in rows}


QUESTION_CHARS = 45


def touched_questions(change: ImpactChange, trees: dict[int, dict]) -> tuple[tuple[str, str], ...]:
    """(node id, question text) of each question the change touched, read from the two stored trees
    (what was actually published, imported or edited), else from the proposal's diff. Only
    questions: the typed-answer rate is about answers."""
    new = trees.get(change.version) or {}
    old = trees.get(change.previous_version) if change.previous_version else None
    nodes = touched_nodes(tree_diff(old, new)) if old is not None and new else change.touched_nodes
    questions = []
    for node_id in nodes:
        node = (new.get("nodes") or {}).get(node_id)
        if isinstance(node, dict) and node.get("type") not in (None, "question"):
            continue
        text = " ".join(str(node.get("text") or "").split()) if isinstance(node, dict) else ""
        if len(text) > QUESTION_CHARS:
            text = text[:QUESTION_CHARS].rsplit(" ", 1)[0] + " …"
        questions.append((node_id, text or node_id))
    return tuple(questions)


def fetch_weekly(db: OrmSession, account_id: int, flow_id: str, start: datetime) -> list[tuple[str, str, int]]:
    day = utc_day(Session.created_at)
    return list(db.execute(select(day, Session.status, func.count())
                           .where(Session.account_id == account_id, Session.matched_flow == flow_id,
                                  Session.created_at >= start)
                           .group_by(day, Session.status)))


def shape_weeks(rows: list[tuple], first_week: date, last_week: date) -> tuple[WeekPoint, ...]:
    """Days by status into Monday-started weeks, every week from first to last present."""
    tally: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, status, n in rows:
        d = date.fromisoformat(day_key(day))
        week = d - timedelta(days=d.weekday())
        if status != "active":
            tally[week][0] += n
            tally[week][1] += n if status == "resolved" else 0
            tally[week][2] += n if status in ESCALATED_STATUSES else 0
    weeks, week = [], first_week
    while week <= last_week:
        weeks.append(WeekPoint(week, *tally.get(week, (0, 0, 0))))
        week += timedelta(days=7)
    return tuple(weeks)


def median_change(after: list[float], before: list[float]) -> MedianChange:
    result = bootstrap_median_difference(after, before)
    return MedianChange(median(before) if before else None, median(after) if after else None,
                        result[0] if result else None, result[1] if result else None)


def flow_impact(db: OrmSession, actor, account_id: int, flow_pk: int, window_days: int = DEFAULT_WINDOW_DAYS,
                now: datetime | None = None) -> FlowImpact | None:
    """The Impact tab of one flow; None when the flow is not the account's. Checks "analytics"."""
    now = now or utcnow()
    report = build_impact(db, actor, account_id, window_days=window_days, now=now, flow_pk=flow_pk)
    flow = db.get(Flow, flow_pk)
    if flow is None or flow.account_id != account_id:
        return None
    details = []
    trees = {v.version: v.tree for v in flow.versions}
    for change in report.changes:
        before, after = _sides(change)
        tickets_b, first_b = fetch_first_contact(db, account_id, before)
        tickets_a, first_a = fetch_first_contact(db, account_id, after)
        minutes = median_change(fetch_resolution_minutes(db, account_id, after),
                                fetch_resolution_minutes(db, account_id, before))
        questions = touched_questions(change, trees)
        nodes = tuple(node for node, _ in questions)
        typed_b = fetch_free_text(db, account_id, before, nodes)
        typed_a = fetch_free_text(db, account_id, after, nodes)
        # A question no session answered on either side has nothing to show.
        free_text = tuple((node, text, rate_change(typed_a.get(node, (0, 0))[1], typed_a.get(node, (0, 0))[0],
                                                   typed_b.get(node, (0, 0))[1], typed_b.get(node, (0, 0))[0]))
                          for node, text in questions if node in typed_a or node in typed_b)
        details.append(ChangeDetail(change, rate_change(first_a, tickets_a, first_b, tickets_b), minutes, free_text))
    this_week = now.date() - timedelta(days=now.date().weekday())
    first_week = this_week - timedelta(weeks=WEEKS_SHOWN - 1)
    start = datetime.combine(first_week, datetime.min.time(), tzinfo=now.tzinfo)
    weeks = shape_weeks(fetch_weekly(db, account_id, flow.external_id, start), first_week, this_week)
    publications = tuple((v.version, v.published_at) for v in flow.versions)
    return FlowImpact(flow_pk, window_days, tuple(details), weeks, publications)
