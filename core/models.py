"""The data model: typed SQLAlchemy 2 declarative models, identical on SQLite and PostgreSQL.

Every tenant-owned row carries ``account_id`` and every index the dashboard reads by starts
with it (then the time column), so a query for one account and period never scans another's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.types import BigID, JSONDoc, UTCDateTime, utcnow

ROLES = ("admin", "manager", "analyst")
SESSION_STATUSES = ("active", "resolved", "escalated", "requesting_escalation", "abandoned")
# A session's status in the words the dashboard shows (the stored values are identifiers).
SESSION_STATUS_WORDS = {"active": "still active", "resolved": "resolved", "escalated": "escalated",
                        "requesting_escalation": "requesting escalation", "abandoned": "abandoned"}


def status_words(status: str | None) -> str:
    """A session status as words: "requesting escalation", not ``requesting_escalation``."""
    if not status:
        return "–"
    return SESSION_STATUS_WORDS.get(status, status.replace("_", " "))


# The outcomes every report counts the same way (their SQL conditions: ``core.outcomes``): a
# session requesting escalation has escalated; an active one has no outcome yet; a dead end is a
# finished session the flow did not resolve.
ESCALATED_STATUSES = ("escalated", "requesting_escalation")
FINISHED_STATUSES = ("resolved", *ESCALATED_STATUSES, "abandoned")
DEAD_END_STATUSES = (*ESCALATED_STATUSES, "abandoned")
CONFIDENCE_TIERS = ("guided", "assisted", "discovery")
STEP_TYPES = ("question", "action", "script", "note", "resolution", "escalation")
STEP_OUTCOMES = ("succeeded", "failed", "skipped")
# Steps that are tried and can fail: counted in ``sessions.failed_steps``.
TRIED_STEP_TYPES = ("action", "script")
QUEUE_STATUSES = ("pending", "claimed", "done", "failed")
PROPOSAL_TYPES = ("new_flow", "enhancement")
PROPOSAL_STATUSES = ("pending", "approved", "published", "dismissed", "rejected")

# Stable constraint names, so migrations are the same on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(Base):
    """One MSP tenant. Nobody ever sees another account's rows."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Per-account tunables (knowledge-gap thresholds and the like); defaults live in code.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # Null for users who only sign in through single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(Base):
    """A user's role in one account; a user may belong to several accounts."""

    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    account: Mapped[Account] = relationship()


class SignInSession(Base):
    """One browser's "stay signed in": only the SHA-256 of its random token is kept, so a copy
    of this table signs nobody in. Checked on every run (core/accounts/sign_in_sessions.py)."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Flow(Base):
    """A published decision tree; its trees live in ``flow_versions``."""

    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_flows_account_domain", "account_id", "domain"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(64))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    versions: Mapped[list[FlowVersion]] = relationship(
        back_populates="flow", cascade="all, delete-orphan", order_by="FlowVersion.version"
    )


class FlowVersion(Base):
    """One version of a flow's tree, with who published it and from which proposal."""

    __tablename__ = "flow_versions"
    __table_args__ = (
        UniqueConstraint("flow_id", "version"),
        CheckConstraint(_one_of("source", ("import", "proposal", "edit")), name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    tree: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    source: Mapped[str] = mapped_column(String(16), default="import")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    source_proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_proposals.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)

    flow: Mapped[Flow] = relationship(back_populates="versions")


# The sessions' columns the reports read, carried in ``ix_sessions_account_created`` (see there).
REPORT_COLUMNS = (
    "id", "status", "ended_at", "problem_domain", "confidence_tier", "matched_flow", "engineer",
    "failed_steps", "stopped_at_node", "psa_ticket_id", "psa_board", "psa_priority", "psa_opened_at",
    "psa_closed_at", "psa_sla_due_at", "psa_time_spent_minutes",
)


# The sessions' columns the impact counts read, carried in ``ix_sessions_account_flow_version_created``.
IMPACT_COLUMNS = ("status", "ended_at", "psa_ticket_id")


class Session(Base):
    """One engineer working one problem with the copilot, with its PSA ticket fields."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        # Carries every column the analytics and gap reports read (not the free texts), so on
        # PostgreSQL they scan the period's index range alone instead of the whole table.
        Index("ix_sessions_account_created", "account_id", "created_at", postgresql_include=REPORT_COLUMNS),
        Index("ix_sessions_account_domain_created", "account_id", "problem_domain", "created_at"),
        Index("ix_sessions_account_flow_created", "account_id", "matched_flow", "created_at"),
        # Every impact read: one flow's sessions on one version within a window around its
        # publication (core.impact). On PostgreSQL the columns the counts read ride along, so
        # the read is an index-only scan of exactly those sessions.
        Index("ix_sessions_account_flow_version_created", "account_id", "matched_flow", "flow_version", "created_at",
              postgresql_include=IMPACT_COLUMNS),
        # A dead end's sessions, newest first, without reading every session of its flow.
        Index("ix_sessions_account_flow_stop_created", "account_id", "matched_flow", "stopped_at_node", "created_at",
              postgresql_where=text("stopped_at_node IS NOT NULL"), sqlite_where=text("stopped_at_node IS NOT NULL")),
        CheckConstraint(_one_of("status", SESSION_STATUSES), name="status"),
        CheckConstraint(
            f"confidence_tier IS NULL OR {_one_of('confidence_tier', CONFIDENCE_TIERS)}",
            name="confidence_tier",
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    engineer: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32))
    problem_domain: Mapped[str | None] = mapped_column(String(64))
    problem_summary: Mapped[str | None] = mapped_column(Text)
    confidence_tier: Mapped[str | None] = mapped_column(String(16))
    # The flow's id as imported: sessions may arrive before their flow, so no foreign key.
    matched_flow: Mapped[str | None] = mapped_column(String(128))
    # The version of ``matched_flow`` the copilot followed, when the source system says so.
    matched_flow_version: Mapped[int | None] = mapped_column(Integer)
    # The version the session counts on: ``matched_flow_version`` when given, else the version
    # live for its flow at ``created_at`` (``core.sessions.versions``; kept by import and review).
    flow_version: Mapped[int | None] = mapped_column(Integer)
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    psa_ticket_id: Mapped[str | None] = mapped_column(String(128))
    psa_system: Mapped[str | None] = mapped_column(String(64))
    # The MSP's client the ticket is for (ConnectWise company, Autotask account, HaloPSA client).
    psa_company: Mapped[str | None] = mapped_column(String(256))
    psa_board: Mapped[str | None] = mapped_column(String(128))
    psa_priority: Mapped[str | None] = mapped_column(String(32))
    psa_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    psa_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    psa_sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    psa_time_spent_minutes: Mapped[float | None] = mapped_column(Float)
    step_count: Mapped[int] = mapped_column(Integer, default=0)
    # Failed action and script steps (retries included), so analytics need not read steps.
    failed_steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the session went no further in its flow (``core.flows.walk``), set at import.
    stopped_at_node: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    steps: Mapped[list[Step]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Step.seq",
        primaryjoin="Session.id == foreign(Step.session_id)",
    )


class Step(Base):
    """One step of a session.

    No foreign-key constraint to ``sessions``: steps are written only by the import, in the
    same transaction as their session, and on PostgreSQL the per-row key check (a row lock on
    the session for every step) halved the import's speed (benchmarks/import_bench.py).
    Deleting sessions goes through the ORM, whose cascade removes their steps.
    """

    __tablename__ = "steps"
    __table_args__ = (
        CheckConstraint(_one_of("step_type", STEP_TYPES), name="step_type"),
        CheckConstraint(f"outcome IS NULL OR {_one_of('outcome', STEP_OUTCOMES)}", name="outcome"),
    )

    session_id: Mapped[int] = mapped_column(BigID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_type: Mapped[str] = mapped_column(String(16))
    node_id: Mapped[str | None] = mapped_column(String(64))
    context_message: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[str] | None] = mapped_column(JSONDoc)
    response: Mapped[str | None] = mapped_column(Text)
    was_free_text: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On the same flow node as the flow step before it (``core.flows.walk``), set at import.
    repeats_previous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    session: Mapped[Session] = relationship(
        back_populates="steps", primaryjoin="Session.id == foreign(Step.session_id)"
    )


# A typed answer to a question, or a failed action or script: the steps a weak-options or
# failing-action gap points at. Few (about 4% of steps in the demo data), so the gap report
# finds a gap's sessions through this partial index instead of reading every step.
FLAGGED_STEP = or_(
    and_(Step.step_type == "question", Step.was_free_text, Step.response.is_not(None)),
    and_(Step.step_type.in_(TRIED_STEP_TYPES), Step.outcome == "failed"),
)
Index("ix_steps_flagged_node", Step.node_id, Step.session_id, postgresql_where=FLAGGED_STEP, sqlite_where=FLAGGED_STEP)


class StepDayCount(Base):
    """The steps of one account's sessions started on one UTC day, grouped as the knowledge-gap
    report groups them (``core.sessions.day_counts``): written by the import, read by the report."""

    __tablename__ = "step_day_counts"
    __table_args__ = (Index("ix_step_day_counts_account_day", "account_id", "day"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    flow_id: Mapped[str | None] = mapped_column(String(128))
    node_id: Mapped[str | None] = mapped_column(String(64))
    text_key: Mapped[str | None] = mapped_column(Text)
    step_type: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)
    tried: Mapped[bool] = mapped_column(Boolean)
    steps: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)
    free_text: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    reached: Mapped[int] = mapped_column(Integer)
    sample_text: Mapped[str | None] = mapped_column(Text)


class StepDayStamp(Base):
    """What one account-day's ``StepDayCount`` rows were counted from; the report trusts them only
    while the day's sessions still give the same figures."""

    __tablename__ = "step_day_stamps"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
    failed_steps: Mapped[int] = mapped_column(Integer)
    finished_flow: Mapped[int] = mapped_column(Integer)


class AnalysisQueueItem(Base):
    """One resolved session waiting for (or done with) analysis by the scheduler."""

    __tablename__ = "analysis_queue"
    __table_args__ = (
        Index("ix_analysis_queue_status_available", "status", "available_at"),
        Index("ix_analysis_queue_account_status", "account_id", "status"),
        CheckConstraint(_one_of("status", QUEUE_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Earliest time the item may be claimed (backoff after a failure).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(32))
    result_detail: Mapped[str | None] = mapped_column(Text)


class FlowProposal(Base):
    """A new flow or an enhancement, proposed by the analysis and decided by an admin."""

    __tablename__ = "flow_proposals"
    __table_args__ = (
        Index("ix_flow_proposals_account_status_created", "account_id", "status", "created_at"),
        Index("ix_flow_proposals_account_key", "account_id", "evidence_key"),
        CheckConstraint(_one_of("proposal_type", PROPOSAL_TYPES), name="proposal_type"),
        CheckConstraint(_one_of("status", PROPOSAL_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    proposal_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    domain: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    # What change the evidence supports; sessions with the same key merge into one proposal.
    evidence_key: Mapped[str | None] = mapped_column(String(255))
    target_flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id", ondelete="SET NULL"))
    target_flow_version: Mapped[int | None] = mapped_column(Integer)
    tree: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    confidence_rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_reason: Mapped[str | None] = mapped_column(Text)
    # Optimistic versioning: a review that read an older row_version changes nothing.
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class ProposalSession(Base):
    """A session supporting a proposal; the primary key keeps re-analysis from double-counting."""

    __tablename__ = "proposal_sessions"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("flow_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One review decision: who, when, what, why, and the tree before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text so the entry still says who acted after the user is removed.
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(32))
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_proposals.id", ondelete="SET NULL"), index=True
    )
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    tree_before: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    tree_after: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
