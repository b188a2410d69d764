"""Every proposal the analysis stores from the demo data reads as an engineer's (SQLite and
PostgreSQL): the rules of ``core.flows.trees.tree_warnings`` and ``title_warnings`` hold for each."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import and_, select

from core.analysis.answers import matching_option
from core.analysis.queue_claims import QueuePolicy
from core.analysis.service import drain
from core.db import unit_of_work
from core.demo.loader import run_demo
from core.flows.trees import title_warnings, tree_problems, tree_warnings
from core.models import AnalysisQueueItem, FlowProposal, FlowVersion

ANCHOR = datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc)
POLICY = QueuePolicy(batch_size=400, lease_seconds=60, max_attempts=3, backoff_seconds=30)


def stored_proposals(engine):
    with unit_of_work(engine) as db:
        rows = db.execute(
            select(FlowProposal.id, FlowProposal.proposal_type, FlowProposal.title, FlowProposal.tree, FlowVersion.tree)
            .outerjoin(FlowVersion, and_(FlowVersion.flow_id == FlowProposal.target_flow_id,
                                         FlowVersion.version == FlowProposal.target_flow_version))).all()
        refused = db.scalars(select(AnalysisQueueItem.result_detail)
                             .where(AnalysisQueueItem.result == "no_proposal")).all()
    return rows, refused


def test_no_proposal_the_analysis_stores_from_the_demo_breaks_a_wording_rule(engine):
    run_demo(engine, accounts=1, sessions=3000, seed=7, anchor=ANCHOR, batch_size=1000)
    drain(engine, "worker-a", POLICY)
    rows, refused = stored_proposals(engine)
    assert {kind for _, kind, *_ in rows} == {"new_flow", "enhancement"}
    for proposal_id, _kind, title, tree, base in rows:
        problems = tree_problems(tree) + tree_warnings(tree, base) + title_warnings(title)
        assert problems == [], (proposal_id, title, [str(p) for p in problems])
        text = json.dumps(tree, ensure_ascii=False)
        assert "…" not in text and "went different ways" not in text and "…" not in title
        assert "No session has taken" not in text  # an untried answer is dropped, or escalates plainly
    # No session's evidence was turned away for reading wrong: the wording is right by construction.
    assert not [d for d in refused if "reads right" in (d or "") or "read wrong" in (d or "")]
    questions = [n["text"] for _, _, _, tree, _ in rows for n in tree["nodes"].values() if n["type"] == "question"]
    assert "Did that fix it?" in questions
    # Where the problem's summary names the symptom, it is asked about again instead.
    assert {"Is OneDrive still not syncing?", "Does the mapped drive still disconnect after reboot?"} <= set(questions)


def test_no_enhancement_on_the_demo_proposes_an_answer_the_published_question_already_has(engine):
    run_demo(engine, accounts=1, sessions=3000, seed=7, anchor=ANCHOR, batch_size=1000)
    drain(engine, "worker-a", POLICY)
    rows, _ = stored_proposals(engine)
    added = []
    for _id, kind, title, tree, base in rows:
        if kind != "enhancement":
            continue
        for node_id, node in tree["nodes"].items():
            published = base["nodes"].get(node_id)
            if node["type"] != "question" or published is None:
                continue
            labels = [o["label"] for o in published["options"]]
            for option in node["options"]:
                if option["label"] not in labels:
                    added.append(option["label"])
                    assert matching_option(option["label"], labels) is None, (title, option["label"], labels)
    # The demo still shows answers a question genuinely lacks (a USB-C hub, N-able Cove), from sessions.
    assert added
