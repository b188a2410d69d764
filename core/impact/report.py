"""``build_impact``: every published change of an account, before against after, with a verdict.

Fetch (``core.impact.queries``: the versions, then every window's counts in one UNION ALL),
then shape (the pure functions here and in ``core.impact.verdicts``). See docs/impact.md.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.auth import Principal, authorize
from core.impact.queries import CountWindow, VersionRow, count_account_days, count_windows, fetch_versions
from core.impact.verdicts import (
    Change, Outcomes, abandonment_change, escalation_change, outcomes_from_statuses, rate_change,
    resolution_change, verdict,
)
from core.models import Flow, FlowVersion
from core.types import utcnow

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Prediction:
    """What the proposal's own evidence said the change would do."""

    sessions: int
    typed_answers: int
    nodes: tuple[str, ...]
    top_answer: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "typed_answers": self.typed_answers, "nodes": list(self.nodes),
                "top_answer": self.top_answer, "text": self.text}


@dataclass(frozen=True)
class ImpactChange:
    flow_pk: int
    flow_id: str
    flow_name: str
    domain: str | None
    version: int
    previous_version: int | None
    published_at: datetime
    source: str  # as stored: import, proposal (approved as proposed) or edit (edited, then published)
    proposal_id: int | None
    proposal_title: str | None
    compared: str  # "flow": its sessions on each version; "domain": a new flow's domain
    window_start: datetime
    split_at: datetime  # the start of the publication's UTC day: the before window ends, the after starts
    window_end: datetime
    before: Outcomes
    after: Outcomes
    resolution: Change
    escalation: Change
    abandonment: Change
    # The rest of the account over the same windows: the difference-in-differences control.
    account_before: Outcomes
    account_after: Outcomes
    account_resolution: Change
    account_escalation: Change
    # For a new flow: the share of the domain's finished sessions resolved in discovery.
    discovery_resolution: Change | None
    verdict: str
    prediction: Prediction | None
    touched_nodes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        def short(side: Outcomes) -> dict[str, Any]:
            return side.to_dict()

        def change(c: Change) -> dict[str, Any]:
            return {"delta": c.delta, "interval": list(c.interval) if c.interval else None,
                    "before": c.before, "after": c.after}

        return {
            "flow_id": self.flow_id, "flow_name": self.flow_name, "version": self.version,
            "previous_version": self.previous_version, "published_at": self.published_at.isoformat(),
            # The contract's two kinds; published_as keeps whether the admin edited it first.
            "source": "import" if self.source == "import" else "proposal", "published_as": self.source,
            "proposal_id": self.proposal_id, "proposal_title": self.proposal_title, "compared": self.compared,
            "window": {"start": self.window_start.isoformat(), "split": self.split_at.isoformat(),
                       "end": self.window_end.isoformat()},
            "before": short(self.before), "after": short(self.after),
            "escalation_rate_change": change(self.escalation), "resolution_rate_change": change(self.resolution),
            "abandonment_rate_change": change(self.abandonment),
            "account": {"before": short(self.account_before), "after": short(self.account_after),
                        "escalation_rate_change": change(self.account_escalation),
                        "resolution_rate_change": change(self.account_resolution)},
            "discovery_resolution_change": change(self.discovery_resolution) if self.discovery_resolution else None,
            "verdict": self.verdict,
            "predicted": self.prediction.to_dict() if self.prediction else None,
        }


@dataclass(frozen=True)
class ImpactReport:
    account_id: int
    window_days: int
    now: datetime
    changes: tuple[ImpactChange, ...]  # newest publication first

    def to_dict(self, slug: str) -> dict[str, Any]:
        return {"account": slug, "window_days": self.window_days, "as_of": self.now.isoformat(),
                "changes": [c.to_dict() for c in self.changes]}


def touched_nodes(diff: dict | None) -> tuple[str, ...]:
    """The questions a change gave new or changed options, then the nodes it changed."""
    if not diff:
        return ()
    nodes = [o.get("node") for key in ("options_added", "options_changed") for o in diff.get(key) or []]
    nodes += [n.get("id") for n in diff.get("nodes_changed") or []]
    return tuple(dict.fromkeys(n for n in nodes if n))


def _where(diff: dict, nodes: tuple[str, ...]) -> str:
    """Where the change acts, in the words an admin saw in the proposal (its answers), not node ids."""
    labels = list(dict.fromkeys(o["label"] for key in ("options_added", "options_changed")
                                for o in diff.get(key) or [] if isinstance(o.get("label"), str)))
    if labels:
        more = f" (and {len(labels) - 1} more)" if len(labels) > 1 else ""
        return f" at the question the change gave the answer “{labels[0]}”{more}"
    return f" at {', '.join(nodes)}" if nodes else ""


def prediction(diff: dict | None, support_count: int | None) -> Prediction | None:
    """The proposal's evidence as an expectation: its sessions typed an answer at a node the change
    gave a new option, so engineers should now pick it; or they left the flow there, so fewer
    should escalate or leave it."""
    if not diff or not support_count:
        return None
    evidence = diff.get("evidence") or {}
    answers: dict[str, int] = evidence.get("answers") or {}
    typed = sum(answers.values())
    nodes = touched_nodes(diff)
    where = _where(diff, nodes)
    top = max(answers, key=lambda a: (answers[a], a)) if answers else None
    if typed:
        text = (f"{typed} of its {support_count} supporting session{'s' if support_count != 1 else ''} typed an "
                f"answer{where} (most often “{top}”): expected engineers to pick the new option instead, "
                "so fewer typed answers there and fewer escalations.")
    else:
        text = (f"{support_count} supporting session{'s' if support_count != 1 else ''} left the flow{where} and "
                "resolved another way: expected more resolutions and fewer escalations.")
    return Prediction(support_count, typed, nodes, top, text)


@dataclass(frozen=True)
class Plan:
    """One version to measure and the windows it needs."""

    row: VersionRow
    previous_version: int | None
    compared: str
    start: datetime
    published_at: datetime
    end: datetime


def plan_changes(versions: list[VersionRow], window_days: int, now: datetime) -> list[Plan]:
    """Every version after a flow's first, and each new flow published from a proposal (its first
    version compared through its domain). An imported first version is the baseline, not a change."""
    plans = []
    width = timedelta(days=window_days)
    # Windows start on whole UTC days, so the account-wide counts, kept per day, cover exactly the
    # same sessions as the flow's (the rest of the account is their difference).
    previous: dict[int, int] = {}
    for row in versions:  # ordered by flow, then version
        before = previous.get(row.flow_pk)
        previous[row.flow_pk] = row.version
        if before is None and (row.source == "import" or row.domain is None):
            continue
        published = _day(row.published_at)
        start = published - width
        end = max(published, min(published + width, now))
        plans.append(Plan(row, before, "flow" if before is not None else "domain", start, published, end))
    return plans


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def windows_for(plans: list[Plan]) -> list[CountWindow]:
    windows = []
    for i, plan in enumerate(plans):
        row = plan.row
        if plan.compared == "flow":
            windows.append(CountWindow(f"{i}:b", plan.start, plan.published_at, row.flow_id, plan.previous_version))
            windows.append(CountWindow(f"{i}:a", plan.published_at, plan.end, row.flow_id, row.version))
        else:
            windows.append(CountWindow(f"{i}:b", plan.start, plan.published_at, domain=row.domain))
            windows.append(CountWindow(f"{i}:a", plan.published_at, plan.end, domain=row.domain))
    return windows


def account_windows(plans: list[Plan], days: list[tuple[str, str, int]]) -> dict[str, dict[tuple[str, bool], int]]:
    """The account-wide counts of each plan's two windows (keys ``i:B`` and ``i:A``), summed from
    per-day counts: days sorted once, each window a slice found by bisection. A window ending
    mid-day (now) takes its whole last day: no session starts after now."""
    keys = sorted({d for d, _, _ in days})
    statuses = sorted({s for _, s, _ in days})
    per_status = {s: [0] * len(keys) for s in statuses}
    index = {d: i for i, d in enumerate(keys)}
    for d, status, n in days:
        per_status[status][index[d]] += n
    prefix = {s: [0, *accumulate(values)] for s, values in per_status.items()}

    def window(start: datetime, end: datetime) -> dict[tuple[str, bool], int]:
        last = end.date() if end == _day(end) else end.date() + timedelta(days=1)
        lo, hi = bisect_left(keys, start.date().isoformat()), bisect_left(keys, last.isoformat())
        return {(s, False): prefix[s][hi] - prefix[s][lo] for s in statuses if prefix[s][hi] - prefix[s][lo]}

    counts = {}
    for i, plan in enumerate(plans):
        counts[f"{i}:B"] = window(plan.start, plan.published_at)
        counts[f"{i}:A"] = window(plan.published_at, plan.end)
    return counts


def _by_status(counts: dict[tuple[str, bool], int], minus: dict[tuple[str, bool], int] | None = None) -> dict[str, int]:
    """Sessions by status (discovery or not), less those of ``minus``."""
    out: dict[str, int] = {}
    for (status, _), n in counts.items():
        out[status] = out.get(status, 0) + n
    for (status, _), n in (minus or {}).items():
        out[status] = out.get(status, 0) - n
    return out


def _discovery_resolved(counts: dict[tuple[str, bool], int]) -> int:
    return counts.get(("resolved", True), 0)


def shape_change(plan: Plan, counts: dict[str, dict[tuple[str, bool], int]], index: int, now: datetime) -> ImpactChange:
    raw = {side: counts.get(f"{index}:{side}", {}) for side in "baBA"}
    before, after = outcomes_from_statuses(_by_status(raw["b"])), outcomes_from_statuses(_by_status(raw["a"]))
    # The control: the rest of the account (every session in the same windows but the compared ones).
    account_before = outcomes_from_statuses(_by_status(raw["B"], minus=raw["b"]))
    account_after = outcomes_from_statuses(_by_status(raw["A"], minus=raw["a"]))
    resolution, escalation = resolution_change(before, after), escalation_change(before, after)
    account_resolution = resolution_change(account_before, account_after)
    account_escalation = escalation_change(account_before, account_after)
    discovery = None
    if plan.compared == "domain":
        discovery = rate_change(_discovery_resolved(raw["a"]), after.finished, _discovery_resolved(raw["b"]), before.finished)
    row = plan.row
    return ImpactChange(
        flow_pk=row.flow_pk, flow_id=row.flow_id, flow_name=row.flow_name, domain=row.domain, version=row.version,
        previous_version=plan.previous_version, published_at=row.published_at, source=row.source,
        proposal_id=row.proposal_id, proposal_title=row.proposal_title, compared=plan.compared,
        window_start=plan.start, split_at=plan.published_at, window_end=plan.end, before=before, after=after, resolution=resolution,
        escalation=escalation, abandonment=abandonment_change(before, after), account_before=account_before,
        account_after=account_after, account_resolution=account_resolution, account_escalation=account_escalation,
        discovery_resolution=discovery,
        verdict=verdict(after, resolution, escalation, row.published_at, now,
                        account_resolution.delta, account_escalation.delta),
        prediction=prediction(row.proposal_diff, row.support_count), touched_nodes=touched_nodes(row.proposal_diff),
    )


def build_impact(db: OrmSession, actor: Principal, account_id: int, window_days: int = DEFAULT_WINDOW_DAYS,
                 now: datetime | None = None, flow_pk: int | None = None) -> ImpactReport:
    """Every published change of the account (or of one flow), newest first. Raises
    core.accounts.auth.NotAllowed unless ``actor`` may see the account's analytics."""
    authorize(db, actor, account_id, "analytics")
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, not {window_days}")
    now = now or utcnow()
    plans = plan_changes(fetch_versions(db, account_id, flow_pk), window_days, now)
    windows = windows_for(plans)
    counts = dict(count_windows(db, account_id, windows)) if windows else {}
    if plans:
        days = count_account_days(db, account_id, min(p.start for p in plans), max(p.end for p in plans))
        counts.update(account_windows(plans, days))
    changes = [shape_change(plan, counts, i, now) for i, plan in enumerate(plans)]
    changes.sort(key=lambda c: (c.published_at, c.flow_id, c.version), reverse=True)
    return ImpactReport(account_id, window_days, now, tuple(changes))


def published_changes(db: OrmSession, actor: Principal, account_id: int, limit: int = 5,
                      now: datetime | None = None) -> tuple[ImpactChange, ...]:
    """The account's latest published changes with their verdicts (Home)."""
    return build_impact(db, actor, account_id, now=now).changes[:limit]


def proposal_impact(db: OrmSession, actor: Principal, account_id: int, proposal_id: int,
                    now: datetime | None = None) -> ImpactChange | None:
    """The measured impact of the version a proposal published; None when it published none (or is
    another account's)."""
    flow_pk = db.scalar(select(Flow.id).join(FlowVersion, FlowVersion.flow_id == Flow.id)
                        .where(Flow.account_id == account_id, FlowVersion.source_proposal_id == proposal_id))
    if flow_pk is None:
        authorize(db, actor, account_id, "analytics")
        return None
    changes = build_impact(db, actor, account_id, now=now, flow_pk=flow_pk).changes
    return next((c for c in changes if c.proposal_id == proposal_id), None)
