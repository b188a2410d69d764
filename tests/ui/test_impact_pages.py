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
