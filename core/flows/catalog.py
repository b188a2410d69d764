"""Published flows (read side): the list with usage figures, and one flow with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Actor, authorize
from core.models import Flow, FlowProposal, FlowVersion, Session, User
from core.outcomes import RESOLVED

@dataclass(frozen=True)
class FlowRow:
    id: int
    external_id: str
    name: str
    domain: str | None
    current_version: int
    versions: int  # stored
    sessions: int  # that followed the flow, ever
    resolved: int
    last_used: datetime | None
    updated_at: datetime

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.sessions if self.sessions else None


@dataclass(frozen=True)
class VersionEntry:
    version: int
    source: str
    published_at: datetime
    published_by: str | None
    source_proposal_id: int | None
    source_proposal_title: str | None
    note: str | None
    tree: dict[str, Any]


@dataclass(frozen=True)
class FlowDetail:
    id: int
    external_id: str
    name: str
    domain: str | None
    current_version: int
    tree: dict[str, Any] | None  # the current version's
    versions: tuple[VersionEntry, ...]  # newest first


def flow_list(db: OrmSession, actor: Actor, account_id: int) -> tuple[FlowRow, ...]:
    """Every flow of the account with how often sessions followed it and how those ended."""
    authorize(db, actor, account_id, "view_flows")
    # Sessions name their flow by its imported id; aggregate per name first, then join.
    usage = (
        select(Session.matched_flow.label("flow"), func.count().label("sessions"),
               func.count(case((RESOLVED, 1))).label("resolved"),
               func.max(Session.created_at).label("last_used"))
        .where(Session.account_id == account_id, Session.matched_flow.is_not(None))
        .group_by(Session.matched_flow)
        .subquery()
    )
    versions = (
        select(FlowVersion.flow_id, func.count().label("versions"))
        .join(Flow, Flow.id == FlowVersion.flow_id)
        .where(Flow.account_id == account_id)
        .group_by(FlowVersion.flow_id)
        .subquery()
    )
    rows = db.execute(
        select(Flow.id, Flow.external_id, Flow.name, Flow.domain, Flow.current_version,
               func.coalesce(versions.c.versions, 0), func.coalesce(usage.c.sessions, 0),
               func.coalesce(usage.c.resolved, 0), usage.c.last_used, Flow.updated_at)
        .outerjoin(usage, usage.c.flow == Flow.external_id)
        .outerjoin(versions, versions.c.flow_id == Flow.id)
        .where(Flow.account_id == account_id)
        .order_by(Flow.name, Flow.external_id)
    )
    return tuple(FlowRow(*row) for row in rows)


def flow_names(db: OrmSession, actor: Actor, account_id: int) -> dict[str, str]:
    """The account's flows' names by the id sessions name them with (their imported id), for the
    figures that count sessions per flow."""
    authorize(db, actor, account_id, "analytics")
    return dict(db.execute(select(Flow.external_id, Flow.name).where(Flow.account_id == account_id)).all())


def flow_labels(keys, names: dict[str, str]) -> dict[str, str]:
    """A label per flow id: its flow's name, or the id itself where no flow record has it (a flow
    never imported, or the sessions without a flow); a name two flows share gets its id after it."""
    keys = list(keys)
    counts: dict[str, int] = {}
    for key in keys:
        if names.get(key):
            counts[names[key]] = counts.get(names[key], 0) + 1
    labels = {}
    for key in keys:
        name = names.get(key)
        labels[key] = key if not name else name if counts[name] == 1 else f"{name} ({key})"
    return labels


def flow_detail(db: OrmSession, actor: Actor, account_id: int, flow_id: int) -> FlowDetail | None:
    authorize(db, actor, account_id, "view_flows")
    flow = db.scalars(select(Flow).where(Flow.account_id == account_id, Flow.id == flow_id)).one_or_none()
    if flow is None:
        return None
    rows = db.execute(
        select(FlowVersion.version, FlowVersion.source, FlowVersion.published_at, User.email,
               FlowVersion.source_proposal_id, FlowProposal.title, FlowVersion.note, FlowVersion.tree)
        .outerjoin(User, User.id == FlowVersion.published_by_user_id)
        .outerjoin(FlowProposal, (FlowProposal.id == FlowVersion.source_proposal_id)
                   & (FlowProposal.account_id == account_id))
        .where(FlowVersion.flow_id == flow.id)
        .order_by(FlowVersion.version.desc())
    ).all()
    tree = next((r.tree for r in rows if r.version == flow.current_version), None)
    return FlowDetail(flow.id, flow.external_id, flow.name, flow.domain, flow.current_version, tree,
                      tuple(VersionEntry(*r) for r in rows))
