"""Expected impact: how much a pending proposal or a knowledge gap could change a month, from its
own evidence, so that the work can be ranked before anything is published.

A proposal's supporting sessions are resolved sessions that needed the change: for a new flow,
each was solved without a flow (in discovery); for an enhancement, each left the flow where the
change adds its answer (typing it instead of picking). Had the change been live, each would have
taken the path it proposes, which those sessions show works. So the expected impact is their
rate: supporting sessions started in the last 90 days, per 30 days. A gap's is its affected
sessions or answers in the report's period, per 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from core.models import FlowProposal, ProposalSession, Session, Step

WINDOW_DAYS = 90
MONTH_DAYS = 30

WHAT = {"new_flow": "discovery resolutions a flow would guide",
        "enhancement": "typed answers the new option would spare"}


def recent_supporting_sessions(now: datetime):
    """SQL: a proposal's supporting sessions of the last 90 days (correlated with ``FlowProposal``).
    Another account's session linked by mistake never counts."""
    return (
        select(func.count())
        .select_from(ProposalSession)
        .join(Session, Session.id == ProposalSession.session_id)
        .where(ProposalSession.proposal_id == FlowProposal.id, Session.account_id == FlowProposal.account_id,
               Session.created_at >= now - timedelta(days=WINDOW_DAYS), Session.created_at < now)
        .correlate(FlowProposal)
        .scalar_subquery()
    )


def expected_per_month(now: datetime):
    """SQL: the expected impact a month of each proposal, so the queue sorts in the database."""
    return recent_supporting_sessions(now) * MONTH_DAYS / float(WINDOW_DAYS)


TOUCHED = {"new_flow": "of its domain were solved in discovery",
           "enhancement": "reached the question it changes"}


@dataclass(frozen=True)
class ExpectedImpact:
    per_month: float
    recent_sessions: int  # supporting sessions of the last 90 days
    what: str
    touched_sessions: int | None = None  # sessions of the last 90 days that took the spot it changes
    touched_what: str = ""

    @property
    def touched_per_month(self) -> float | None:
        return None if self.touched_sessions is None else self.touched_sessions * MONTH_DAYS / WINDOW_DAYS

    def sentence(self) -> str:
        """How it was computed, in one sentence for the detail panel."""
        sessions = f"{self.recent_sessions:,} supporting session{'s' if self.recent_sessions != 1 else ''}"
        touched = ""
        if self.touched_sessions is not None:
            touched = (f"; it touches about {self.touched_per_month:.1f} sessions a month "
                       f"({self.touched_sessions:,} {self.touched_what} in the last {WINDOW_DAYS} days)")
        return (f"About {self.per_month:.1f} {self.what} a month: {sessions} in the last {WINDOW_DAYS} days, "
                f"per {MONTH_DAYS} days, if the change works as well as the path those sessions took{touched}.")


def proposal_expected(recent_sessions: int, proposal_type: str, touched_sessions: int | None = None) -> ExpectedImpact:
    return ExpectedImpact(recent_sessions * MONTH_DAYS / WINDOW_DAYS, recent_sessions, WHAT[proposal_type],
                          touched_sessions, TOUCHED.get(proposal_type, ""))


def touched_sessions(db: OrmSession, account_id: int, proposal_type: str, domain: str | None,
                     flow_external_id: str | None, nodes: tuple[str, ...], now: datetime) -> int | None:
    """The sessions of the last 90 days at the spot a proposal changes: for an enhancement, the
    target flow's sessions that answered one of the questions it changes; for a new flow, its
    domain's sessions solved without a flow (in discovery). None when there is no such spot."""
    recent = (Session.account_id == account_id, Session.created_at >= now - timedelta(days=WINDOW_DAYS),
              Session.created_at < now)
    if proposal_type == "enhancement":
        if not flow_external_id or not nodes:
            return None
        return db.scalar(select(func.count(func.distinct(Step.session_id)))
                         .join(Session, Session.id == Step.session_id)
                         .where(*recent, Session.matched_flow == flow_external_id, Step.step_type == "question",
                                Step.node_id.in_(nodes)))
    if not domain:
        return None
    return db.scalar(select(func.count()).select_from(Session)
                     .where(*recent, Session.problem_domain == domain, Session.confidence_tier == "discovery",
                            Session.status == "resolved"))


def gap_expected_per_month(impact: int, period_days: int) -> float:
    """A gap's affected sessions or answers in the report's period, per 30 days."""
    return impact * MONTH_DAYS / period_days if period_days > 0 else 0.0
