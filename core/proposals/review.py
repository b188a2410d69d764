"""The review workflow (write side): approve, edit & publish, dismiss, reject.

Each action is one unit of work: check the role and the account, check the proposal is still
pending at the version the admin looked at, validate, apply, and write the audit entry, all
committed together or not at all. Two admins acting on the same proposal at once are told
apart by ``row_version`` (SQLAlchemy's version counter): the second write matches no row, and
that admin is told who reviewed it first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.auth import Actor, NotAllowed, authorize
from core.analysis.evidence import flow_name_from_title
from core.db import unit_of_work
from core.flows.trees import TreeProblem, tree_problems
from core.flows.versions import MAX_VERSION
from core.models import AuditEntry, Flow, FlowProposal, FlowVersion, User
from core.sessions import versions
from core.storable import unstorable
from core.types import utcnow

__all__ = [
    "NotAllowed", "ReviewError", "ProposalNotFound", "ProposalAlreadyReviewed", "ProposalChanged",
    "InvalidProposalTree", "ApproveNeedsEdit", "ReasonRequired", "UnstorableText", "FlowChanged", "ReviewOutcome",
    "approve", "edit_and_publish", "dismiss", "reject",
]

MAX_REASON = 2000


class ReviewError(Exception):
    """A review action that was refused; nothing was changed. The message is for the admin."""


class ProposalNotFound(ReviewError):
    def __init__(self, proposal_id: int):
        super().__init__(f"Proposal {proposal_id} does not exist in this account.")


class ProposalAlreadyReviewed(ReviewError):
    def __init__(self, reviewer: str | None, reviewed_at: datetime | None, status: str):
        self.reviewer, self.reviewed_at, self.status = reviewer, reviewed_at, status
        when = f"{reviewed_at:%Y-%m-%d %H:%M} UTC" if reviewed_at else "an unknown time"
        super().__init__(f"Already reviewed by {reviewer or 'a removed user'} at {when} ({status}).")


class ProposalChanged(ReviewError):
    def __init__(self) -> None:
        super().__init__("The proposal changed since you opened it (new evidence arrived). "
                         "Look at it again before you decide.")


class InvalidProposalTree(ReviewError):
    def __init__(self, problems: list[TreeProblem]):
        self.problems = problems
        listed = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"The tree is not valid: {listed}{more}")


class ApproveNeedsEdit(ReviewError):
    def __init__(self) -> None:
        super().__init__("An enhancement cannot be approved as it stands: use edit & publish, "
                         "which publishes it as the next version of its flow.")


class ReasonRequired(ReviewError):
    def __init__(self, action: str):
        super().__init__(f"Say why you {action} this proposal (a reason is required).")


class UnstorableText(ReviewError):
    def __init__(self, what: str, problem: str):
        super().__init__(f"The {what} {problem}: remove it and try again.")


class FlowChanged(ReviewError):
    def __init__(self, what: str):
        super().__init__(f"{what} Nothing was changed; try again.")


@dataclass(frozen=True)
class ReviewOutcome:
    proposal_id: int
    status: str
    message: str
    audit_id: int
    flow_id: int | None = None
    flow_external_id: str | None = None
    flow_version: int | None = None


def approve(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int,
            *, note: str | None = None, now: datetime | None = None) -> ReviewOutcome:
    """Publish a new-flow proposal's tree, as it stands, as a new flow."""
    def apply(db: OrmSession, proposal: FlowProposal, at: datetime) -> ReviewOutcome:
        if proposal.proposal_type != "new_flow":
            raise ApproveNeedsEdit()
        _check_tree(proposal.tree)
        return _publish(db, actor, proposal, proposal.tree, "approve", "approved", "proposal", note,
                        flow_name_from_title(proposal.title), at)
    return _review(engine, actor, account_id, proposal_id, row_version, now, apply)


def edit_and_publish(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int,
                     tree: Any, *, flow_name: str | None = None, note: str | None = None,
                     now: datetime | None = None) -> ReviewOutcome:
    """Publish the admin's edited tree: a new flow, or the next version of the enhanced flow."""
    def apply(db: OrmSession, proposal: FlowProposal, at: datetime) -> ReviewOutcome:
        _check_tree(tree)
        name = _clean(flow_name, "flow name") or flow_name_from_title(proposal.title)
        return _publish(db, actor, proposal, tree, "edit_publish", "published", "edit", note, name, at)
    return _review(engine, actor, account_id, proposal_id, row_version, now, apply)


def dismiss(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int,
            reason: str, *, now: datetime | None = None) -> ReviewOutcome:
    """Not now: the analysis may bring the proposal back when new evidence arrives."""
    return _close(engine, actor, account_id, proposal_id, row_version, reason, now, "dismiss", "dismissed")


def reject(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int,
           reason: str, *, now: datetime | None = None) -> ReviewOutcome:
    """Never propose this again."""
    return _close(engine, actor, account_id, proposal_id, row_version, reason, now, "reject", "rejected")


Apply = Callable[[OrmSession, FlowProposal, datetime], ReviewOutcome]


def _review(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int,
            now: datetime | None, apply: Apply) -> ReviewOutcome:
    try:
        with unit_of_work(engine) as db:
            authorize(db, actor, account_id, "review")
            proposal = _load_for_review(db, account_id, proposal_id)
            if proposal.status != "pending":
                raise _already_reviewed(db, proposal)
            if proposal.row_version != row_version:
                raise ProposalChanged()
            return apply(db, proposal, now or utcnow())
    except StaleDataError:
        # Another review committed between our read and our write; the transaction rolled back.
        with unit_of_work(engine) as db:
            proposal = _load_for_review(db, account_id, proposal_id)
            if proposal.status == "pending":
                raise ProposalChanged() from None
            raise _already_reviewed(db, proposal) from None


def _load_for_review(db: OrmSession, account_id: int, proposal_id: int) -> FlowProposal:
    # The account comes first: another account's proposal id is simply not found.
    proposal = db.scalars(
        select(FlowProposal).where(FlowProposal.account_id == account_id, FlowProposal.id == proposal_id)
    ).one_or_none()
    if proposal is None:
        raise ProposalNotFound(proposal_id)
    return proposal


def _already_reviewed(db: OrmSession, proposal: FlowProposal) -> ProposalAlreadyReviewed:
    reviewer = db.scalar(select(User.email).where(User.id == proposal.reviewed_by_user_id)) \
        if proposal.reviewed_by_user_id else None
    return ProposalAlreadyReviewed(reviewer, proposal.reviewed_at, proposal.status)


def _check_tree(tree: Any) -> None:
    problems = tree_problems(tree)
    if problems:
        raise InvalidProposalTree(problems)


def _mark(db: OrmSession, actor: Actor, proposal: FlowProposal, status: str, reason: str | None,
          at: datetime) -> None:
    """Decide the proposal and write it now, so a concurrent review surfaces before anything else."""
    proposal.status = status
    proposal.reviewed_at = at
    proposal.reviewed_by_user_id = actor.user_id
    proposal.review_reason = reason
    proposal.updated_at = at
    db.flush()  # UPDATE ... WHERE row_version = :read_version; no row matched -> StaleDataError


def _publish(db: OrmSession, actor: Actor, proposal: FlowProposal, tree: dict[str, Any], action: str,
             status: str, source: str, note: str | None, name: str, at: datetime) -> ReviewOutcome:
    note = _clean(note, "note")
    base_version: int | None = None
    tree_before: dict[str, Any] | None = None
    if proposal.proposal_type == "enhancement":
        flow = db.get(Flow, proposal.target_flow_id) if proposal.target_flow_id else None
        if flow is None or flow.account_id != proposal.account_id:
            raise ReviewError("The flow this proposal enhances no longer exists: dismiss or reject the proposal.")
        current = next((v for v in flow.versions if v.version == flow.current_version), None)
        tree_before = current.tree if current else None
        if tree_before == tree:
            raise InvalidProposalTree([TreeProblem("", "the tree is the same as the published version: nothing to publish")])
        base_version = flow.current_version
        version = max((v.version for v in flow.versions), default=0) + 1
        if version > MAX_VERSION:
            raise ReviewError(f"Flow {flow.external_id} is at version {MAX_VERSION:,}, the highest there is: "
                              "nothing more can be published to it.")
    else:
        flow = Flow(account_id=proposal.account_id, external_id=_unique_external_id(db, proposal.account_id, name),
                    name=name[:200], domain=proposal.domain, current_version=1, created_at=at, updated_at=at)
        version = 1
    original_tree = proposal.tree
    _mark(db, actor, proposal, status, note, at)
    try:
        if flow.id is None:
            db.add(flow)
            db.flush()
        db.add(FlowVersion(flow_id=flow.id, version=version, tree=tree, source=source, published_at=at,
                           published_by_user_id=actor.user_id, source_proposal_id=proposal.id, note=note))
        flow.current_version = version
        flow.updated_at = at
        db.flush()
    except IntegrityError:
        # Another admin published to this flow (or took this flow id) at the same moment.
        raise FlowChanged("Someone else published to this flow at the same moment.") from None
    # Sessions started since this version went live now count on it (core.sessions.versions).
    versions.resolve_flow(db.connection(), flow.account_id, flow.external_id, since=at)
    audit = _audit(db, actor, proposal, action, note, tree_before, tree, at, flow_id=flow.id, details={
        "status": status, "proposal_type": proposal.proposal_type, "flow_external_id": flow.external_id,
        "flow_version": version, "base_flow_version": base_version,
        "proposal_target_flow_version": proposal.target_flow_version,
        "edited": tree != original_tree, "proposed_tree": original_tree,
    })
    what = "new flow" if version == 1 else f"version {version} of"
    verb = "Approved and published" if action == "approve" else "Published"
    return ReviewOutcome(proposal.id, status, f"{verb} “{proposal.title}” as {what} {flow.external_id}"
                         + (" (v1)." if version == 1 else "."), audit.id, flow.id, flow.external_id, version)


def _close(engine: Engine, actor: Actor, account_id: int, proposal_id: int, row_version: int, reason: str,
           now: datetime | None, action: str, status: str) -> ReviewOutcome:
    reason = _clean(reason, "reason")

    def apply(db: OrmSession, proposal: FlowProposal, at: datetime) -> ReviewOutcome:
        if not reason:
            raise ReasonRequired(action)
        _mark(db, actor, proposal, status, reason, at)
        audit = _audit(db, actor, proposal, action, reason, None, None, at, flow_id=proposal.target_flow_id,
                       details={"status": status, "proposal_type": proposal.proposal_type,
                                "support_count": proposal.support_count, "evidence_key": proposal.evidence_key,
                                "proposed_tree": proposal.tree})
        past = "Dismissed" if status == "dismissed" else "Rejected"
        return ReviewOutcome(proposal.id, status, f"{past} “{proposal.title}”.", audit.id)

    return _review(engine, actor, account_id, proposal_id, row_version, now, apply)


def _audit(db: OrmSession, actor: Actor, proposal: FlowProposal, action: str, reason: str | None,
           tree_before: dict[str, Any] | None, tree_after: dict[str, Any] | None, at: datetime,
           *, flow_id: int | None, details: dict[str, Any]) -> AuditEntry:
    entry = AuditEntry(account_id=proposal.account_id, user_id=actor.user_id, actor=actor.email, action=action,
                       proposal_id=proposal.id, flow_id=flow_id, reason=reason, tree_before=tree_before,
                       tree_after=tree_after, details=details, created_at=at)
    db.add(entry)
    db.flush()
    return entry


def _clean(text: str | None, what: str) -> str | None:
    """Typed text as stored: trimmed and bounded; refused when no column could hold it."""
    text = (text or "").strip()
    problem = unstorable(text)
    if problem:
        raise UnstorableText(what, problem[1])
    return text[:MAX_REASON] or None


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "flow"


def _unique_external_id(db: OrmSession, account_id: int, title: str) -> str:
    """A readable id from the title, numbered when the account already has it: printer-offline-2."""
    base = slugify(title)
    taken = set(db.scalars(select(Flow.external_id).where(
        Flow.account_id == account_id, Flow.external_id.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
