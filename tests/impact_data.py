"""An account whose flows got new versions with each verdict, imported as files would be: for the
impact pages (AppTest and browser). Verdicts come from the sessions' outcomes, relative to now."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from core.db import make_engine, upgrade
from core.sessions.importer import import_flows, import_sessions
from core.types import utc_day_start
from tests import factories as make

SLUG = "alpha-it"
# (flow id, name, days since v2 went live, before: (resolved, escalated), after: (resolved, escalated))
FLOWS = (
    ("fl-improved", "Outlook *keeps* crashing [new](http://x.example)", 30, (16, 24), (36, 4)),
    ("fl-worse", "VPN drops every hour", 20, (36, 4), (16, 24)),
    ("fl-steady", "Printer offline", 25, (30, 10), (29, 11)),
    ("fl-early", "Password reset", 3, (30, 10), (10, 0)),
)
EXPECTED = {"fl-improved": "improved", "fl-worse": "worse", "fl-steady": "no_clear_change", "fl-early": "too_early"}


def _tree(label: str) -> dict:
    tree = copy.deepcopy(make.TREE)
    tree["nodes"]["q1"]["options"][0]["label"] = label
    return tree


def _session(n: int, flow: str | None, start: datetime, status: str) -> dict:
    return {"id": f"s-{n}", "account": SLUG, "created_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=25)).isoformat(), "status": status,
            "problem_domain": "email", "matched_flow": flow, "confidence_tier": "guided",
            "psa_ticket": {"id": f"T-{n}"},
            "steps": [{"seq": 1, "step_type": "action", "context_message": "Restart it", "outcome": "succeeded",
                       "created_at": start.isoformat()}]}


def seed_impact(url: str, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    engine = make_engine(url)
    upgrade(engine)
    flows, records, n = [], [], 0
    for flow_id, name, days, before, after in FLOWS:
        # Published at midnight UTC: windows run in whole UTC days, and sessions on the old version
        # earlier on the day of publication are left out (docs/impact.md), so a time of day would
        # change the counts.
        published = utc_day_start((now - timedelta(days=days)).date())
        for version, at, label in ((1, now - timedelta(days=200), "Yes"), (2, published, "Yes, for everyone")):
            flows.append({"id": flow_id, "account": SLUG, "name": name, "domain": "email", "version": version,
                          "published_at": at.isoformat(), "tree": _tree(label)})
        for side, (resolved, escalated) in (("before", before), ("after", after)):
            statuses = ["resolved"] * resolved + ["escalated"] * escalated
            for i, status in enumerate(statuses):
                n += 1
                offset = timedelta(hours=6 * (i + 1))
                start = published - offset if side == "before" else min(published + offset, now - timedelta(hours=1))
                records.append(_session(n, flow_id, start, status))
    # The rest of the account: steady, half resolved, over the last 60 days.
    for i in range(240):
        n += 1
        records.append(_session(n, None, now - timedelta(hours=6 * (i + 1)), "resolved" if i % 2 else "escalated"))
    import_flows(engine, list(enumerate(flows, 1)), "flows")
    import_sessions(engine, list(enumerate(records, 1)), "sessions")
    engine.dispose()
