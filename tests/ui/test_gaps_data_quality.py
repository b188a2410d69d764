"""The knowledge-gaps page says how many unmatched sessions had a summary that says nothing
("see ticket"), which the repeated patterns cannot group: a data-quality note, never a card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import make_engine, unit_of_work, upgrade
from core.models import Session
from core.types import utcnow
from tests.gap_data import seed_gaps
from tests.ui.conftest import go_to, no_exception, plain, signed_in_app, use_database


@pytest.fixture
def vague_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'gaps.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(engine) as db:
        seed = seed_gaps(db)
        when = utcnow() - timedelta(days=2)
        for n, text in enumerate(["see ticket"] * 5 + ["As per call", "*User* says it's not working"]):
            db.add(Session(account_id=seed.account_id, external_id=f"vague-{n}", status="escalated", created_at=when,
                           ended_at=when + timedelta(minutes=5), problem_summary=text, step_count=0))
    engine.dispose()
    use_database(monkeypatch, url)
    return url


def test_summaries_that_say_nothing_are_a_count_on_the_page_and_not_a_recurring_problem(vague_db):
    app = no_exception(go_to(signed_in_app("manager@alpha.example"), "knowledge-gaps"))
    notes = [c.value for c in app.caption if "says nothing about the problem" in c.value]
    assert len(notes) == 1 and plain(notes[0]).startswith(":material/info: 7 sessions with no matched flow")
    assert not any("see ticket" in m.value.lower() and m.value.startswith("##### ") for m in app.markdown)
