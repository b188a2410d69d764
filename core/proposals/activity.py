"""Activity (read side): who decided what in one account, from the audit log.

Every review decision (``core.proposals.review``) and every change of the knowledge-gap thresholds
(``core.gaps.thresholds``) is one audit entry. The list reads only the small columns, newest
first, a page at a time, filtered in SQL with bound parameters and the account first (the index
``ix_audit_log_account_created`` serves it); the trees and settings of one entry are read only
when that entry is opened. Who may read it: the "view_activity" permission (``core.accounts.auth``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.csv_safe import Table, csv_bytes
from core.db import session_factory
from core.gaps.thresholds import THRESHOLDS_CHANGED, THRESHOLDS_RESET
from core.gaps.words import THRESHOLD_LABELS
from core.metrics.figures import percent
from core.models import AuditEntry, Flow, FlowProposal
from core.types import utc_day_start

PAGE_SIZE = 100
BATCH = 2000
TREE_ACTIONS = ("approve", "edit_publish")
CLOSING_ACTIONS = ("dismiss", "reject")
SETTINGS_ACTIONS = (THRESHOLDS_CHANGED, THRESHOLDS_RESET)
ACTION_WORDS = {
    "approve": "Approved and published",
    "edit_publish": "Edited and published",
    "dismiss": "Dismissed",
    "reject": "Rejected",
    THRESHOLDS_CHANGED: "Changed gap thresholds",
    THRESHOLDS_RESET: "Reset gap thresholds",
}


def action_words(action: str) -> str:
    """An audit action as the dashboard says it: "Edited and published", not ``edit_publish``."""
    return ACTION_WORDS.get(action, action.replace("_", " ").capitalize())


@dataclass(frozen=True)
class ActivityFilters:
    person: str | None = None  # the actor as recorded (an email)
    action: str | None = None
    flow_id: int | None = None
    date_from: date | None = None  # UTC days, both inclusive
    date_to: date | None = None


@dataclass(frozen=True)
class ActivityRow:
    id: int
    created_at: datetime
    actor: str
    action: str
    flow_id: int | None
    flow_external_id: str | None
    flow_name: str | None
    proposal_id: int | None
    reason: str | None

    @property
    def action_words(self) -> str:
        return action_words(self.action)


@dataclass(frozen=True)
class ActivityPage:
    rows: tuple[ActivityRow, ...]
    total: int  # entries matching the filters
    page: int  # 1-based
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True)
class ActivityChoices:
    """What the filters can offer: only values the account's log holds."""

    persons: tuple[str, ...]
    actions: tuple[str, ...]
    flows: tuple[tuple[int, str], ...]  # (flow id, name)


@dataclass(frozen=True)
class SettingChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class ActivityDetail:
    entry: ActivityRow
    proposal_title: str | None
    tree_before: dict[str, Any] | None
    tree_after: dict[str, Any] | None
    proposed_tree: dict[str, Any] | None  # what the analysis proposed (a decision on a proposal)
    edited: bool  # the reviewer changed the proposed tree before publishing it
    flow_version: int | None
    base_flow_version: int | None
    settings: tuple[SettingChange, ...]  # a threshold change: each value that changed

    @property
    def kind(self) -> str:
        """"tree" (something was published), "settings", or "decision" (dismissed or rejected)."""
        action = self.entry.action
        return "tree" if action in TREE_ACTIONS else "settings" if action in SETTINGS_ACTIONS else "decision"


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind == "share":
        return percent(value)
    if kind == "int" and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:g}"


def setting_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                    labels: Mapping[str, tuple[str, str]] = THRESHOLD_LABELS) -> tuple[SettingChange, ...]:
    """Each setting whose value differs between ``before`` and ``after``, in words: labelled, shares
    as percentages, a missing value as "–"; known settings in ``labels`` order, then the rest by name."""
    before, after = dict(before or {}), dict(after or {})
    names = [n for n in labels if n in before or n in after]
    names += sorted(n for n in set(before) | set(after) if n not in labels)
    changes = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        label, kind = labels.get(name, (name.replace("_", " ").capitalize(), "float"))
        changes.append(SettingChange(label, _format(old, kind), _format(new, kind)))
    return tuple(changes)


def _conditions(account_id: int, f: ActivityFilters, since: datetime | None = None,
                until: datetime | None = None) -> list:
    where = [AuditEntry.account_id == account_id]
    if f.person:
        where.append(AuditEntry.actor == f.person)
    if f.action:
        where.append(AuditEntry.action == f.action)
    if f.flow_id is not None:
        where.append(AuditEntry.flow_id == f.flow_id)
    first, last = f.date_from, f.date_to
    if first and last and first > last:
        first, last = last, first  # a range typed backwards means the same days
    if first:
        where.append(AuditEntry.created_at >= utc_day_start(first))
    if last:
        where.append(AuditEntry.created_at < utc_day_start(last + timedelta(days=1)))
    if since is not None:
        where.append(AuditEntry.created_at >= since)
    if until is not None:
        where.append(AuditEntry.created_at < until)
    return where


def _listing(account_id: int, where: list):
    # The flow's own account too: an id is only ever shown with the account's own flow.
    return (
        select(AuditEntry.id, AuditEntry.created_at, AuditEntry.actor, AuditEntry.action, AuditEntry.flow_id,
               Flow.external_id, Flow.name, AuditEntry.proposal_id, AuditEntry.reason)
        .outerjoin(Flow, and_(Flow.id == AuditEntry.flow_id, Flow.account_id == account_id))
        .where(*where)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )


def activity(db: OrmSession, actor: Principal, account_id: int, filters: ActivityFilters = ActivityFilters(),
             page: int = 1, page_size: int = PAGE_SIZE) -> ActivityPage:
    """One page of the account's audit entries matching ``filters``, newest first, and how many match.
    Raises core.accounts.auth.NotAllowed unless the actor may see the account's activity."""
    authorize(db, actor, account_id, "view_activity")
    page = max(1, page)
    where = _conditions(account_id, filters)
    total = db.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = db.execute(_listing(account_id, where).limit(page_size).offset((page - 1) * page_size)).all()
    return ActivityPage(tuple(ActivityRow(*row) for row in rows), total, page, page_size)


def activity_choices(db: OrmSession, actor: Principal, account_id: int) -> ActivityChoices:
    """The persons, actions and flows the account's log names, for the filters."""
    authorize(db, actor, account_id, "view_activity")
    mine = AuditEntry.account_id == account_id
    persons = db.scalars(select(AuditEntry.actor).where(mine).distinct().order_by(AuditEntry.actor)).all()
    actions = set(db.scalars(select(AuditEntry.action).where(mine).distinct()))
    flows = db.execute(
        select(Flow.id, Flow.name).where(Flow.account_id == account_id, Flow.id.in_(
            select(AuditEntry.flow_id).where(mine, AuditEntry.flow_id.is_not(None))))
        .order_by(Flow.name, Flow.id)
    ).all()
    ordered = [a for a in ACTION_WORDS if a in actions] + sorted(actions - set(ACTION_WORDS))
    return ActivityChoices(tuple(persons), tuple(ordered), tuple((i, n) for i, n in flows))


def activity_entry(db: OrmSession, actor: Principal, account_id: int, entry_id: int) -> ActivityDetail | None:
    """One audit entry with what changed; None when the account has no such entry."""
    authorize(db, actor, account_id, "view_activity")
    row = db.execute(_listing(account_id, _conditions(account_id, ActivityFilters()) + [AuditEntry.id == entry_id])).first()
    if row is None:
        return None
    entry = db.get(AuditEntry, entry_id)
    details = entry.details if isinstance(entry.details, dict) else {}
    title = db.scalar(select(FlowProposal.title).where(FlowProposal.account_id == account_id,
                                                       FlowProposal.id == entry.proposal_id)) \
        if entry.proposal_id is not None else None
    settings = setting_changes(details.get("before"), details.get("after")) if entry.action in SETTINGS_ACTIONS else ()
    proposed = details.get("proposed_tree")
    return ActivityDetail(
        ActivityRow(*row), title, entry.tree_before, entry.tree_after, proposed if isinstance(proposed, dict) else None,
        details.get("edited") is True, _int(details.get("flow_version")), _int(details.get("base_flow_version")),
        settings,
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


ACTIVITY_HEADER = ("account", "when", "who", "action", "action_words", "flow_id", "flow_name", "proposal_id",
                   "reason", "entry_id")


def activity_table(db: OrmSession, actor: Principal, account_id: int, account_slug: str,
                   filters: ActivityFilters = ActivityFilters(), since: datetime | None = None,
                   until: datetime | None = None) -> Table:
    """Every entry matching the filters (no pages), newest first, as CSV rows; streamed in batches.
    The flow is named by the id sessions use for it. Raises core.accounts.auth.NotAllowed first."""
    authorize(db, actor, account_id, "view_activity")
    statement = _listing(account_id, _conditions(account_id, filters, since, until))
    result = db.execute(statement.execution_options(stream_results=True, yield_per=BATCH))

    def rows() -> Iterator[tuple]:
        for r in result:
            entry = ActivityRow(*r)
            yield (account_slug, entry.created_at, entry.actor, entry.action, entry.action_words,
                   entry.flow_external_id, entry.flow_name, entry.proposal_id, entry.reason, entry.id)
    return Table(ACTIVITY_HEADER, rows())


def activity_csv(engine: Engine, actor: Principal, account_id: int, account_slug: str,
                 filters: ActivityFilters = ActivityFilters(), bom: bool = False) -> bytes:
    """``activity_table`` as one formula-safe CSV file, for a download button."""
    with session_factory(engine)() as db:
        table = activity_table(db, actor, account_id, account_slug, filters)
        return csv_bytes(table.header, table.rows, bom=bom)
