"""What each CSV export holds: a name, a header and a stream of rows, for one account.

``EXPORTS`` maps an export's name to the function that builds its table; the command line
(`python -m core export NAME`) and the dashboard's download buttons both go through it, so a
new export is one function and one entry. Every export takes the actor and checks the
"exports" permission itself, before any row is read (a test holds every entry to that). Rows
come from server-side cursors (``yield_per``), so an export of a million sessions holds one
batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.csv_safe import Table, csv_chunks, write_csv
from core.db import session_factory
from core.exports.gaps import export_gaps
from core.impact import build_impact
from core.metrics import FLAT_HEADER, build_metrics
from core.models import Account, Flow, FlowProposal, Session, User
from core.proposals.activity import activity_table
from core.types import utcnow

BATCH = 2000
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ExportRequest:
    account_id: int
    account_slug: str
    # None: every row regardless of age (only the proposals export allows it).
    days: int | None = DEFAULT_DAYS
    now: datetime | None = None

    def window(self) -> tuple[datetime, datetime] | None:
        if self.days is None:
            return None
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")
        end = self.now or utcnow()
        return end - timedelta(days=self.days), end


Exporter = Callable[[OrmSession, Principal, ExportRequest], Table]


def _streamed(db: OrmSession, statement) -> Iterator:
    # stream_results: a server-side (named) cursor on PostgreSQL; yield_per: fetch in batches.
    return iter(db.execute(statement.execution_options(stream_results=True, yield_per=BATCH)))


SESSION_COLUMNS = (
    ("id", Session.external_id), ("engineer", Session.engineer), ("created_at", Session.created_at),
    ("ended_at", Session.ended_at), ("status", Session.status), ("problem_domain", Session.problem_domain),
    ("problem_summary", Session.problem_summary), ("confidence_tier", Session.confidence_tier),
    ("matched_flow", Session.matched_flow), ("matched_flow_version", Session.matched_flow_version),
    ("resolution_summary", Session.resolution_summary),
    ("root_cause", Session.root_cause), ("step_count", Session.step_count),
    ("psa_ticket_id", Session.psa_ticket_id), ("psa_system", Session.psa_system),
    ("psa_company", Session.psa_company), ("psa_board", Session.psa_board),
    ("psa_priority", Session.psa_priority), ("psa_opened_at", Session.psa_opened_at),
    ("psa_closed_at", Session.psa_closed_at), ("psa_sla_due_at", Session.psa_sla_due_at),
    ("psa_time_spent_minutes", Session.psa_time_spent_minutes),
)
SESSION_HEADER = ("account", *(name for name, _ in SESSION_COLUMNS), "handle_minutes", "sla_breached")


def session_row(slug: str, row) -> tuple:
    """The exported row: the stored fields plus handle time and SLA breach, as the metrics define them."""
    fields = tuple(row)
    by_name = dict(zip((name for name, _ in SESSION_COLUMNS), fields))
    created, ended, status = by_name["created_at"], by_name["ended_at"], by_name["status"]
    worked = ended is not None and status in ("resolved", "escalated")  # as the metrics define handle time
    handle = round((ended - created).total_seconds() / 60, 2) if worked else None
    closed, due = by_name["psa_closed_at"], by_name["psa_sla_due_at"]
    breached = (closed > due) if closed is not None and due is not None else None
    return (slug, *fields, handle, breached)


def export_sessions(db: OrmSession, actor: Principal, request: ExportRequest) -> Table:
    """One row per session started in the period, oldest first."""
    authorize(db, actor, request.account_id, "exports")
    start, end = request.window() or (None, None)
    statement = select(*(column for _, column in SESSION_COLUMNS)).where(Session.account_id == request.account_id)
    if start is not None:
        statement = statement.where(Session.created_at >= start, Session.created_at < end)
    statement = statement.order_by(Session.created_at, Session.id)
    return Table(SESSION_HEADER, (session_row(request.account_slug, row) for row in _streamed(db, statement)))


PROPOSAL_HEADER = (
    "account", "proposal_id", "proposal_type", "status", "domain", "title", "summary", "evidence_key",
    "target_flow", "target_flow_version", "support_count", "confidence", "confidence_rationale",
    "created_at", "updated_at", "reviewed_at", "reviewed_by", "review_reason",
)


def export_proposals(db: OrmSession, actor: Principal, request: ExportRequest) -> Table:
    """One row per flow proposal (created in the period, when a period is given), newest first."""
    authorize(db, actor, request.account_id, "exports")
    statement = (
        select(FlowProposal.id, FlowProposal.proposal_type, FlowProposal.status, FlowProposal.domain,
               FlowProposal.title, FlowProposal.summary, FlowProposal.evidence_key, Flow.external_id,
               FlowProposal.target_flow_version, FlowProposal.support_count, FlowProposal.confidence,
               FlowProposal.confidence_rationale, FlowProposal.created_at, FlowProposal.updated_at,
               FlowProposal.reviewed_at, User.email, FlowProposal.review_reason)
        .outerjoin(Flow, Flow.id == FlowProposal.target_flow_id)
        .outerjoin(User, User.id == FlowProposal.reviewed_by_user_id)
        .where(FlowProposal.account_id == request.account_id)
        .order_by(FlowProposal.created_at.desc(), FlowProposal.id.desc())
    )
    window = request.window()
    if window is not None:
        statement = statement.where(FlowProposal.created_at >= window[0], FlowProposal.created_at < window[1])
    return Table(PROPOSAL_HEADER, ((request.account_slug, *row) for row in _streamed(db, statement)))


def export_metrics(db: OrmSession, actor: Principal, request: ExportRequest) -> Table:
    """The metrics report flattened: one row per figure. Needs "analytics" too (build_metrics checks it)."""
    authorize(db, actor, request.account_id, "exports")
    report = build_metrics(db, actor, request.account_id, days=request.days or DEFAULT_DAYS, now=request.now)
    return Table(FLAT_HEADER, report.flat_rows())


IMPACT_HEADER = (
    "account", "flow_id", "flow_name", "version", "previous_version", "published_at", "source", "proposal_id",
    "proposal_title", "compared", "window_start", "window_end", "verdict",
    "sessions_before", "finished_before", "resolved_before", "escalated_before",
    "sessions_after", "finished_after", "resolved_after", "escalated_after",
    "resolution_rate_before", "resolution_rate_after", "resolution_rate_change", "resolution_change_low",
    "resolution_change_high", "escalation_rate_before", "escalation_rate_after", "escalation_rate_change",
    "escalation_change_low", "escalation_change_high", "rest_of_account_resolution_change",
    "rest_of_account_escalation_change", "predicted",
)


def impact_rows(slug: str, changes) -> Iterator[tuple]:
    """One row per published change, as the impact report has it (rates as fractions)."""
    for c in changes:
        res, esc = c.resolution, c.escalation
        yield (slug, c.flow_id, c.flow_name, c.version, c.previous_version, c.published_at, c.source, c.proposal_id,
               c.proposal_title, c.compared, c.window_start, c.window_end, c.verdict,
               c.before.sessions, c.before.finished, c.before.resolved, c.before.escalated,
               c.after.sessions, c.after.finished, c.after.resolved, c.after.escalated,
               res.before, res.after, res.delta, *(res.interval or (None, None)),
               esc.before, esc.after, esc.delta, *(esc.interval or (None, None)),
               c.account_resolution.delta, c.account_escalation.delta,
               c.prediction.text if c.prediction else None)


def export_impact(db: OrmSession, actor: Principal, request: ExportRequest) -> Table:
    """The impact report: every published change with its verdict. ``days`` is the window on each
    side of a publication. Needs "analytics" too (build_impact checks it)."""
    authorize(db, actor, request.account_id, "exports")
    report = build_impact(db, actor, request.account_id, window_days=request.days or DEFAULT_DAYS, now=request.now)
    return Table(IMPACT_HEADER, impact_rows(request.account_slug, report.changes))


def export_activity(db: OrmSession, actor: Principal, request: ExportRequest) -> Table:
    """Who decided what: one row per review decision or threshold change (made in the period, when a
    period is given), newest first. Needs "view_activity" too (activity_table checks it)."""
    authorize(db, actor, request.account_id, "exports")
    since, until = request.window() or (None, None)
    return activity_table(db, actor, request.account_id, request.account_slug, since=since, until=until)


EXPORTS: dict[str, Exporter] = {
    "sessions": export_sessions,
    "metrics": export_metrics,
    "proposals": export_proposals,
    "gaps": export_gaps,
    "impact": export_impact,
    "activity": export_activity,
}


def account_request(db: OrmSession, slug: str, days: int | None = DEFAULT_DAYS,
                    now: datetime | None = None) -> ExportRequest | None:
    account_id = db.scalar(select(Account.id).where(Account.slug == slug))
    return None if account_id is None else ExportRequest(account_id, slug, days, now)


def write_export(db: OrmSession, actor: Principal, name: str, request: ExportRequest, out, bom: bool = False) -> int:
    """Write export ``name`` to a text stream (opened with newline=""); returns the number of rows.
    Raises core.accounts.auth.NotAllowed, before writing anything, unless ``actor`` may export."""
    table = EXPORTS[name](db, actor, request)
    return write_csv(out, table.header, table.rows, bom=bom)


def export_chunks(engine: Engine, actor: Principal, name: str, request: ExportRequest,
                  bom: bool = False) -> Iterator[bytes]:
    """Export ``name`` as UTF-8 byte chunks for a download; the database session lives as long
    as the iteration, so nothing but one chunk is ever held. The permission is checked when the
    iteration starts, before the first chunk."""
    with session_factory(engine)() as db:
        table = EXPORTS[name](db, actor, request)
        yield from csv_chunks(table.header, table.rows, bom=bom)


def export_bytes(engine: Engine, actor: Principal, name: str, request: ExportRequest, bom: bool = False) -> bytes:
    """Export ``name`` as one bytes value, for a download button that wants the whole file."""
    return b"".join(export_chunks(engine, actor, name, request, bom=bom))
