"""A small account with known knowledge gaps, for the knowledge-gaps page's tests (AppTest and
browser): kept small on purpose, gap reports on big seeds are slow.

* printer-offline, node q1: 12 of 20 answers typed ("Only on the terminal server", one typed as a
  spreadsheet formula): a ``weak_options`` gap, high;
* 6 resolved ``email`` sessions with no flow, in discovery, all "Outlook keeps asking for the
  password": ``uncharted_territory`` (medium: no flow in the domain) and ``repeated_pattern`` (low);
* a pending enhancement of printer-offline anchored at q1 and a pending new flow in ``email``:
  the related proposals; a rejected one in ``email`` that must not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session as OrmSession

from core.flows import walk
from core.models import Account, Session, Step
from core.types import utcnow
from tests import factories as make

FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"


@dataclass
class GapSeed:
    account_id: int
    other_account_id: int
    enhancement: int
    new_flow: int
    rejected: int
    typed_session: str  # a session behind the weak-options gap, as imported


def _session(db: OrmSession, acc: Account, n: int, when: datetime, *, matched: str | None, domain: str,
             summary: str, tier: str, steps: list[tuple]) -> Session:
    row = Session(account_id=acc.id, external_id=f"{acc.slug}-g{n:03d}", status="resolved", created_at=when,
                  ended_at=when + timedelta(minutes=20), engineer=f"eng{n % 3}@msp.example", problem_domain=domain,
                  problem_summary=summary, matched_flow=matched, confidence_tier=tier,
                  resolution_summary="Restarted the spooler", step_count=len(steps))
    db.add(row)
    db.flush()
    for seq, (kind, node, text, response, free, outcome) in enumerate(steps, start=1):
        row.steps.append(Step(seq=seq, step_type=kind, node_id=node, context_message=text, response=response,
                              was_free_text=free, outcome=outcome, created_at=when + timedelta(minutes=seq)))
    walk.mark(row)  # as the import does
    return row


def seed_gaps(db: OrmSession, days_ago: int = 3) -> GapSeed:
    when = utcnow() - timedelta(days=days_ago)
    alpha, beta = make.two_accounts_with_a_user_per_role(db)
    printer = make.flow(db, alpha, "printer-offline", name="Printer offline")
    question = make.TREE["nodes"]["q1"]["text"]
    typed = []
    for n in range(20):
        answer = (FORMULA if n == 0 else "Only on the terminal server") if n < 12 else "Yes"
        steps = [("question", "q1", question, answer, n < 12, None),
                 ("action", "a1", "Restart the Print Spooler service", "done", False, "succeeded")]
        row = _session(db, alpha, n, when - timedelta(minutes=n), matched="printer-offline", domain="printing",
                       summary="Printer offline", tier="guided", steps=steps)
        if n < 12:
            typed.append(row)
    outlook = [_session(db, alpha, 100 + n, when - timedelta(minutes=n), matched=None, domain="email",
                        summary="Outlook keeps asking for the password", tier="discovery",
                        steps=[("action", None, "Reset the credential manager entry", "done", False, "succeeded")])
               for n in range(6)]
    enhancement = make.proposal(db, alpha, proposal_type="enhancement", title="Add \"Only on the terminal server\"",
                                tree=make.enhanced_tree(), target=printer, sessions=typed[:4], confidence=0.7)
    enhancement.evidence_key = "enh:printer-offline:v1:q1:free::a1"  # as the analysis keys it
    new_flow = make.proposal(db, alpha, title="Outlook keeps asking for the password", domain="email",
                             sessions=outlook[:3], confidence=0.6)
    rejected = make.proposal(db, alpha, title="Old Outlook idea", domain="email", status="rejected")
    # Another tenant's twin data: never part of alpha's report.
    _session(db, beta, 900, when, matched=None, domain="email", summary="Outlook keeps asking for the password",
             tier="discovery", steps=[])
    db.flush()
    return GapSeed(alpha.id, beta.id, enhancement.id, new_flow.id, rejected.id, typed[0].external_id)

