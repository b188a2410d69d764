"""Test data for sign-in and the review workflow: accounts, users with roles, flows, sessions and
flow proposals written straight into the tables (as the analysis would write them)."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from core.accounts.passwords import hash_password
from core.models import Account, Flow, FlowProposal, FlowVersion, Membership, ProposalSession, Session, Step, User

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once for every test user
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)

TREE: dict[str, Any] = {
    "root": "q1",
    "nodes": {
        "q1": {"type": "question", "text": "Does the printer show as offline?",
               "options": [{"label": "Yes", "next": "a1"}, {"label": "No", "next": "e1"}]},
        "a1": {"type": "action", "text": "Restart the Print Spooler service", "next": "r1"},
        "r1": {"type": "resolution", "text": "Printer back online"},
        "e1": {"type": "escalation", "text": "Escalate to the network team"},
    },
}


def enhanced_tree() -> dict[str, Any]:
    """TREE with one more branch: the kind of change an enhancement proposes."""
    tree = copy.deepcopy(TREE)
    tree["nodes"]["q1"]["options"].append({"label": "Only for one user", "next": "a2"})
    tree["nodes"]["a2"] = {"type": "action", "text": "Re-add the printer for that user", "next": "r1"}
    return tree


def account(db: OrmSession, slug: str, name: str | None = None) -> Account:
    row = Account(slug=slug, name=name or slug.replace("-", " ").title(), settings={})
    db.add(row)
    db.flush()
    return row


def user(db: OrmSession, email: str, roles: dict[Account, str], *, active: bool = True,
         display_name: str | None = None) -> User:
    row = User(email=email, password_hash=_HASH, is_active=active, display_name=display_name)
    db.add(row)
    db.flush()
    for acc, role in roles.items():
        db.add(Membership(user_id=row.id, account_id=acc.id, role=role))
    db.flush()
    return row


def two_accounts_with_a_user_per_role(db: OrmSession) -> tuple[Account, Account]:
    """alpha-it, where admin@, manager@ and analyst@alpha.example have those roles, and beta-net."""
    alpha, beta = account(db, "alpha-it", "Alpha IT"), account(db, "beta-net", "Beta Networks")
    for role in ("admin", "manager", "analyst"):
        user(db, f"{role}@alpha.example", {alpha: role})
    return alpha, beta


def flow(db: OrmSession, acc: Account, external_id: str, tree: dict[str, Any] | None = None,
         name: str | None = None, domain: str | None = "printing") -> Flow:
    row = Flow(account_id=acc.id, external_id=external_id, name=name or external_id.replace("-", " ").title(),
               domain=domain, current_version=1, created_at=NOW, updated_at=NOW)
    db.add(row)
    db.flush()
    db.add(FlowVersion(flow_id=row.id, version=1, tree=copy.deepcopy(tree or TREE), source="import", published_at=NOW))
    db.flush()
    return row


def session(db: OrmSession, acc: Account, *, status: str = "resolved", matched_flow: str | None = None,
            summary: str = "Printer offline for the whole office", engineer: str = "sam@msp.example",
            created_at: datetime | None = None, steps: int = 2) -> Session:
    n = next(_numbers)
    start = created_at or NOW - timedelta(days=1, minutes=n)
    row = Session(account_id=acc.id, external_id=f"{acc.slug}-s{n}", status=status, created_at=start,
                  engineer=engineer, problem_domain="printing", problem_summary=summary, matched_flow=matched_flow,
                  resolution_summary="Restarted the spooler", root_cause="Stuck print job",
                  psa_ticket_id=f"T-{1000 + n}", psa_system="connectwise", step_count=steps)
    db.add(row)
    db.flush()
    for seq in range(1, steps + 1):
        db.add(Step(session_id=row.id, seq=seq, step_type="question" if seq == 1 else "action",
                    context_message=f"Step {seq} of the copilot", response="Yes" if seq == 1 else "done",
                    outcome=None if seq == 1 else "succeeded", created_at=start + timedelta(minutes=seq)))
    db.flush()
    return row


def proposal(db: OrmSession, acc: Account, *, proposal_type: str = "new_flow", title: str = "Printer offline",
             tree: dict[str, Any] | None = None, target: Flow | None = None, sessions: list[Session] = (),
             confidence: float = 0.8, domain: str | None = "printing", summary: str | None = None,
             status: str = "pending", created_at: datetime | None = None, **fields: Any) -> FlowProposal:
    row = FlowProposal(
        account_id=acc.id, proposal_type=proposal_type, status=status, domain=domain, title=title,
        summary=summary if summary is not None else f"{title}: seen in {len(sessions)} sessions",
        evidence_key=f"{proposal_type}:{title.lower()}", tree=copy.deepcopy(tree or TREE),
        target_flow_id=target.id if target else None, target_flow_version=target.current_version if target else None,
        support_count=len(sessions), confidence=confidence,
        confidence_rationale=f"{len(sessions)} resolved sessions took this path",
        created_at=created_at or NOW, updated_at=created_at or NOW, **fields,
    )
    db.add(row)
    db.flush()
    for s in sessions:
        db.add(ProposalSession(proposal_id=row.id, session_id=s.id))
    db.flush()
    return row


def large_tree(size: int = 40) -> dict[str, Any]:
    """A published-looking tree of ``size`` nodes (questions of two to four answers, actions with
    texts of the length engineers write, shared ends): the largest the panel must keep legible."""
    texts = ["Check the user's licence and sign-in logs in the admin centre",
             "Restart the affected service and confirm it stays running",
             "Clear the cached credentials in Windows Credential Manager",
             "Update the driver from the vendor's site, not Windows Update",
             "Re-create the profile and copy the user's data back"]
    nodes: dict[str, Any] = {"r_end": {"type": "resolution", "text": "Problem resolved and confirmed with the user"},
                             "e_end": {"type": "escalation", "text": "Escalate to second line with the findings"}}
    queue, n = ["q0"], 0
    while queue:
        node_id = queue.pop(0)
        room = size - len(nodes) - len(queue) - 1
        if node_id.startswith("q"):
            answers = min(2 + n % 3, max(room, 0))
            if answers < 2:
                nodes[node_id] = {"type": "action", "text": texts[n % len(texts)], "next": "r_end"}
            else:
                options = [{"label": f"Answer {k + 1} of question {n}", "next": f"a{n}_{k}"} for k in range(answers)]
                options.append({"label": "Something else", "next": "e_end"})
                nodes[node_id] = {"type": "question", "text": f"Which of these does the user see on screen {n}?",
                                  "options": options}
                queue += [o["next"] for o in options[:-1]]
        else:
            follow = f"q{n + 1}" if room > 0 else "r_end"
            nodes[node_id] = {"type": "action", "text": texts[n % len(texts)], "next": follow}
            if follow != "r_end":
                queue.append(follow)
        n += 1
    return {"root": "q0", "nodes": nodes}
