"""The Impact tab of the Flows page and Home's published changes, run with AppTest on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import make_engine, unit_of_work
from core.models import Flow
from tests.e2e.conftest import add_user
from tests.impact_data import EXPECTED, seed_impact
from tests.ui.conftest import go_to, sign_in, open_app, use_database

ADMIN = "admin@test.example"
BADGES = {"improved": "Improved", "worse": "Worse", "no_clear_change": "No clear change", "too_early": "Too early"}


@pytest.fixture
def seeded(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'impact.db'}"
    seed_impact(url)
    add_user(url, ADMIN)
    use_database(monkeypatch, url)
    return url


def flow_ids(url: str) -> dict[str, int]:
    with unit_of_work(make_engine(url)) as db:
        return dict(db.execute(select(Flow.external_id, Flow.id)).all())


def markdown(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_home_lists_the_published_changes_with_their_verdicts(seeded):
    app = sign_in(open_app(), ADMIN)

    assert "Published changes" in [s.value for s in app.subheader]
    text = markdown(app)
    for verdict in EXPECTED.values():
        assert BADGES[verdict] in text
    # Flow names are escaped: the Markdown link in one of them stays text.
    assert "[new](http://x.example)" not in text


@pytest.mark.parametrize("flow_id, verdict", sorted(EXPECTED.items()))
def test_the_impact_tab_shows_the_verdict_and_the_figures(seeded, flow_id, verdict):
    app = sign_in(open_app(flow=str(flow_ids(seeded)[flow_id])), ADMIN)
    app = go_to(app, "flows")

    assert [t.label for t in app.tabs][-1] == "Impact"
    impact = app.tabs[-1]
    text = "\n".join(m.value for m in impact.markdown)
    assert "v1 → v2" in text and BADGES[verdict] in text
    figures = impact.dataframe[0].value
    assert list(figures["Figure"])[:2] == ["Resolution rate", "Escalation rate"]


def test_a_published_proposal_shows_its_measured_impact_beside_its_prediction(tmp_path, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from core.proposals import review
    from core.accounts.auth import load_actor
    from core.db import upgrade
    from core.sessions.importer import import_sessions
    from core.types import utc_day_start
    from tests import factories as make
    from tests.impact_data import _session

    url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = make_engine(url)
    upgrade(engine)
    # At midnight UTC, so that every "before" session falls before the publication's day (whole-day windows).
    published = utc_day_start((datetime.now(timezone.utc) - timedelta(days=20)).date())
    with unit_of_work(engine) as db:
        acme = make.account(db, "alpha-it")
        admin_id = make.user(db, ADMIN, {acme: "admin"}).id
        printer = make.flow(db, acme, "fl-print")
        printer.versions[0].published_at = published - timedelta(days=90)
        proposal = make.proposal(db, acme, proposal_type="enhancement", title="Only *one* user",
                                 tree=make.enhanced_tree(), target=printer,
                                 diff={"options_added": [{"node": "q1", "label": "Only for one user", "next": "a2"}],
                                       "evidence": {"answers": {"just me": 3}}})
        proposal.support_count = 3
        db.flush()
        ids = proposal.id, proposal.row_version, load_actor(db, admin_id), acme.id
    proposal_id, row_version, admin, account_id = ids
    records = [_session(i, "fl-print", published - timedelta(hours=5 * i), "escalated") for i in range(1, 31)]
    records += [_session(100 + i, "fl-print", published + timedelta(hours=5 * i), "resolved") for i in range(1, 31)]
    import_sessions(engine, list(enumerate(records, 1)), "s")
    review.edit_and_publish(engine, admin, account_id, proposal_id, row_version, make.enhanced_tree(), now=published)
    use_database(monkeypatch, url)

    app = go_to(sign_in(open_app(proposal=str(proposal_id), status="all"), ADMIN), "review-queue")

    text = "\n".join(m.value for m in app.markdown)
    assert "Measured impact: improved." in text
    assert "Escalation rate 100.0% → 0.0%" in text
    # The account has no other session: no rest-of-the-account figure to set beside it.
    assert "30 of the flow's sessions finished before" in text and "rest of the account" not in text
    assert ("Predicted: 3 of its 3 supporting sessions typed an answer at the question the change gave the answer "
            "“Only for one user”") in text
