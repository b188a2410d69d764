"""Hostile session text in a real browser: imported sessions and flows carry Markdown images and
links, ``javascript:`` URLs and raw HTML pointing at a local recording HTTP server; after the
analysis turns them into proposals, every page is walked as admin, manager and analyst (with every
review action as admin). The recording server must receive no request, and no ``<img>``, ``<a>``
or ``<script>`` in the page may point at it or at ``javascript:``.

One app server and one recording server for the whole module, to keep it fast.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.analysis.queue_claims import QueuePolicy
from core.analysis.service import drain
from core.db import make_engine, unit_of_work, upgrade
from core.models import Account, AuditEntry, FlowProposal, Session
from core.sessions.importer import import_flows, import_sessions
from tests import factories as make
from tests.e2e.conftest import REPO, add_user, free_port, sign_in, stop_process, wait_for_server

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
ROLES = ("admin", "manager", "analyst")
PAGES = ("home", "review-queue", "flows", "knowledge-gaps", "analytics", "exports", "scripts", "activity")


# --- the recording server ----------------------------------------------------------------------

class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), RecordingHandler)


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.requests.append(f"GET {self.path}")
        self.send_response(204)
        self.end_headers()

    do_POST = do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- the hostile data --------------------------------------------------------------------------

def hostile(port: int, tag: str) -> str:
    """Every kind of active content, each pointing at the recording server."""
    host = f"http://127.0.0.1:{port}"
    return (f"{tag} ![x]({host}/img-{tag}.png) [click]({host}/link-{tag}) [js](javascript:alert('{tag}')) "
            f"<img src={host}/raw-{tag}.png> <a href=\"{host}/a-{tag}\">a</a> "
            f"<script>fetch('{host}/script-{tag}')</script> {host}/bare-{tag}")


def short(port: int, tag: str) -> str:
    """For fields of at most 64 characters (domains)."""
    return f"![{tag}](http://127.0.0.1:{port}/{tag}.png)"


def _step(at: datetime, seq: int, kind: str, node, text, *, answer=None, free=False, options=None, outcome=None):
    when = (at + timedelta(minutes=seq)).isoformat()
    return {"seq": seq, "step_type": kind, "node_id": node, "context_message": text, "options": options,
            "response": answer, "was_free_text": free, "outcome": outcome, "created_at": when, "responded_at": when}


def hostile_records(port: int) -> tuple[list[dict], list[dict]]:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    at = now - timedelta(days=1)
    h = lambda tag: hostile(port, tag)  # noqa: E731
    flow = {"id": "fl-hostile", "account": "acme", "name": h("flowname")[:200], "domain": short(port, "fdom"),
            "version": 1, "tree": {"root": "q1", "nodes": {
                "q1": {"type": "question", "text": h("nodetext"),
                       "options": [{"label": f"Classic ![o](http://127.0.0.1:{port}/opt.png)", "next": "a1"},
                                   {"label": "Mobile", "next": "a1"}]},
                "a1": {"type": "action", "text": h("action"), "next": "r1"},
                "r1": {"type": "resolution", "text": h("resolution")}}}}

    def session(sid: str, steps, *, matched, status="resolved", n=0):
        return {"id": sid, "account": "acme", "engineer": h("engineer")[:320],
                "created_at": (at + timedelta(minutes=n)).isoformat(), "ended_at": (at + timedelta(minutes=n + 9)).isoformat(),
                "status": status, "problem_domain": short(port, "dom"), "problem_summary": h("summary"),
                "confidence_tier": "guided" if matched else "discovery", "matched_flow": matched,
                "resolution": {"summary": h("fix"), "root_cause": h("cause")} if status == "resolved" else None,
                "psa_ticket": {"id": f"T-{sid}", "system": "halopsa", "board": h("board")[:128], "priority": "P3",
                               "opened_at": at.isoformat(), "closed_at": (at + timedelta(hours=1)).isoformat(),
                               "sla_due_at": (at + timedelta(hours=4)).isoformat(), "time_spent_minutes": 20},
                "steps": steps}

    sessions = []
    for i in range(8):  # the flow, with a typed answer that is not an option: an enhancement, a gap
        sessions.append(session(f"h-flow-{i}", [
            _step(at, 1, "question", "q1", h("asked"), answer=h("answer"), free=True,
                  options=["Classic", "Mobile"]),
            _step(at, 2, "action", "a1", h("action"), outcome="succeeded"),
            _step(at, 3, "resolution", "r1", h("resolution"))], matched="fl-hostile", n=i))
    for i in range(6):  # no flow: a new-flow proposal, uncharted territory, a repeated pattern
        sessions.append(session(f"h-disc-{i}", [
            _step(at, 1, "question", None, h("discq"), answer="Yes", options=["Yes", "No"]),
            _step(at, 2, "script", None, h("discscript"), outcome="succeeded"),
            _step(at, 3, "resolution", None, h("discres"))], matched=None, n=10 + i))
    for i in range(4):  # escalated on the flow: high escalation
        sessions.append(session(f"h-esc-{i}", [
            _step(at, 1, "question", "q1", h("asked"), answer="Mobile", options=["Classic", "Mobile"]),
            _step(at, 2, "action", "a1", h("action"), outcome="failed")],
            matched="fl-hostile", status="escalated", n=20 + i))
    return [flow], sessions


@dataclass
class Hostile:
    url: str
    port: int
    new_flow: int
    enhancement: int
    to_dismiss: int
    to_reject: int
    flow: int


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory, recorder) -> Hostile:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    engine = make_engine(url)
    upgrade(engine)
    flows, sessions = hostile_records(recorder.server_port)
    import_flows(engine, enumerate(flows, start=1), "flows")
    import_sessions(engine, enumerate(sessions, start=1), "sessions")
    drain(engine, "e2e", QueuePolicy(batch_size=50, lease_seconds=60, max_attempts=3, backoff_seconds=30))
    port = recorder.server_port
    with unit_of_work(engine) as db:
        found = {p.proposal_type: p.id for p in db.scalars(select(FlowProposal).order_by(FlowProposal.id))}
        assert set(found) == {"new_flow", "enhancement"}, found  # the analysis made both from the hostile text
        acme = db.scalars(select(Account)).one()
        supporting = list(db.scalars(select(Session).where(Session.status == "resolved")))[:2]
        extra = [make.proposal(db, acme, title=hostile(port, f"title{i}")[:200], summary=hostile(port, f"psum{i}"),
                               domain=short(port, f"pd{i}"), sessions=supporting).id for i in range(2)]
        flow_id = db.scalar(select(FlowProposal.target_flow_id).where(FlowProposal.id == found["enhancement"]))
    engine.dispose()
    for role in ROLES:
        add_user(url, f"{role}@acme.example", role)
    return Hostile(url, port, found["new_flow"], found["enhancement"], extra[0], extra[1], flow_id)


@pytest.fixture(scope="module")
def app_url(hostile_db, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    script = Path(sys.executable).with_name("streamlit")
    streamlit = [str(script)] if script.exists() else [sys.executable, "-m", "streamlit"]
    import os

    with log.open("w") as sink:
        process = subprocess.Popen(
            [*streamlit, "run", "dashboard/app.py", "--server.port", str(port), "--server.headless", "true",
             "--server.address", "127.0.0.1"],
            cwd=REPO, stdout=sink, stderr=subprocess.STDOUT,
            env={**os.environ, "DATABASE_URL": hostile_db.url, "PYTHONPATH": ""})
    try:
        wait_for_server(f"http://127.0.0.1:{port}/_stcore/health", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


# --- what the page must not hold ---------------------------------------------------------------

ACTIVE = """(port) => {
  const bad = [];
  for (const el of document.querySelectorAll('img, a, image, script, iframe, link, source, video, audio, object')) {
    for (const name of ['src', 'href', 'xlink:href', 'srcset', 'data']) {
      const value = el.getAttribute(name) || '';
      if (value.includes(':' + port) || value.trim().toLowerCase().startsWith('javascript:')) {
        bad.push(el.tagName + ' ' + name + '=' + value);
      }
    }
  }
  return bad;
}"""


def check_page(page, hostile_db: Hostile, what: str) -> None:
    assert page.evaluate(ACTIVE, str(hostile_db.port)) == [], what
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert "Traceback" not in page.inner_text("body"), what


def settle(page) -> None:
    """Until the script run finished (the status widget leaves) and the page had time to fetch anything."""
    page.wait_for_timeout(400)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=30_000)
    page.wait_for_timeout(600)


def open_as(page, base: str, path: str, role: str) -> None:
    page.goto(f"{base}/{path}")
    try:
        sign_in(page, f"{role}@acme.example")
    except Exception:
        page.screenshot(path=REPO / "artifacts" / "screenshots" / "hostile-sign-in-failed.png", full_page=True)
        raise
    settle(page)


def walk_page(page, hostile_db: Hostile, base: str, role: str, path: str, screenshots: Path) -> None:
    query = {"review-queue": f"?proposal={hostile_db.new_flow}", "flows": f"?flow={hostile_db.flow}",
             "scripts": "?session=h-disc-1"}.get(path, "")
    open_as(page, base, ("" if path == "home" else path) + query, role)  # the default page lives at /
    check_page(page, hostile_db, f"{role} {path}")
    if path == "knowledge-gaps":
        evidence = page.get_by_text(re.compile(r"^Evidence · "))
        assert evidence.count() >= 2, "the hostile sessions make gaps"
        for i in range(evidence.count()):
            evidence.nth(i).click()
        settle(page)
        check_page(page, hostile_db, f"{role} gaps evidence")
        pickers = page.locator('[data-testid="stSelectbox"]').filter(has_text="Show a session's steps")
        assert pickers.count()
        pickers.first.get_by_role("combobox").click()
        page.keyboard.press("ArrowDown")
        option = page.get_by_role("option").first  # the options hold engineer names and summaries
        option.wait_for(timeout=10_000)
        check_page(page, hostile_db, f"{role} gaps session options")
        option.click()
        settle(page)
    if path == "review-queue" and role != "analyst":
        sessions_tab = page.get_by_role("tab", name=re.compile("Supporting sessions"))
        if sessions_tab.count():
            sessions_tab.first.click()
            for toggle in page.locator('[data-testid="stExpander"] summary').all()[:4]:
                toggle.click()
            settle(page)
    if path == "analytics":
        # Each tab draws only its own charts and tables: open them all (Clients has no chart).
        for label in ("Over time", "Tiers and domains", "Time to resolution", "Flows", "Clients"):
            page.get_by_role("tab", name=label, exact=True).click()
            settle(page)
            check_page(page, hostile_db, f"{role} analytics {label}")
            for chart in page.locator(".js-plotly-plot").all():
                chart.scroll_into_view_if_needed()
                box = chart.bounding_box()
                if box:  # hover the middle, where the bars are, for the hover labels
                    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.6)
                    page.wait_for_timeout(150)
                    check_page(page, hostile_db, f"{role} analytics {label} hover")
        expect(page.get_by_role("button", name="Clients (CSV)")).to_be_visible()  # the last tab ran
    check_page(page, hostile_db, f"{role} {path} (opened)")
    page.screenshot(path=screenshots / f"hostile-{role}-{path}.png", full_page=True)


# --- the walk ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_page_shows_hostile_text_inert_to_each_role(browser, app_url, hostile_db, recorder, screenshots, role):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        for path in PAGES:
            walk_page(page, hostile_db, app_url, role, path, screenshots)
    finally:
        context.close()
    assert recorder.requests == [], recorder.requests


def _act_in_popover(page, opener: str, field: str | None, text: str, submit: str) -> None:
    page.get_by_role("button", name=opener, exact=True).click()
    if field:
        page.get_by_label(field).last.fill(text)
    page.get_by_role("button", name=submit).click()


def test_every_review_action_on_hostile_proposals_stays_inert(browser, app_url, hostile_db, recorder, screenshots):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        # Approve the new-flow proposal: the toast names it by its (hostile) title.
        open_as(page, app_url, f"review-queue?proposal={hostile_db.new_flow}", "admin")
        _act_in_popover(page, "Approve", None, "", "Approve and publish")
        expect(page.locator('[data-testid="stToast"]').first).to_be_visible(timeout=15_000)
        check_page(page, hostile_db, "approve")
        page.screenshot(path=screenshots / "hostile-approved.png", full_page=True)
        settle(page)

        # Edit & publish the enhancement.
        open_as(page, app_url, f"review-queue?proposal={hostile_db.enhancement}", "admin")
        page.get_by_role("button", name="Edit & publish").click()
        settle(page)
        check_page(page, hostile_db, "editor")
        page.get_by_role("button", name="Publish", exact=True).click()
        expect(page.locator('[data-testid="stToast"]').first).to_be_visible(timeout=15_000)
        check_page(page, hostile_db, "edit & publish")
        page.screenshot(path=screenshots / "hostile-published.png", full_page=True)

        for proposal, verb in ((hostile_db.to_dismiss, "Dismiss"), (hostile_db.to_reject, "Reject")):
            open_as(page, app_url, f"review-queue?proposal={proposal}", "admin")
            _act_in_popover(page, verb, "Reason", hostile(hostile_db.port, f"reason-{verb}"), f"{verb} proposal")
            expect(page.locator('[data-testid="stToast"]').first).to_be_visible(timeout=15_000)
            check_page(page, hostile_db, verb)
            settle(page)
            check_page(page, hostile_db, f"{verb}, decided")  # the reason is shown in the decided panel
            page.screenshot(path=screenshots / f"hostile-{verb.lower()}ed.png", full_page=True)
    finally:
        context.close()

    engine = make_engine(hostile_db.url)
    with unit_of_work(engine) as db:
        statuses = {p.id: p.status for p in db.scalars(select(FlowProposal))}
        entries = list(db.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    engine.dispose()
    assert [statuses[hostile_db.new_flow], statuses[hostile_db.enhancement], statuses[hostile_db.to_dismiss],
            statuses[hostile_db.to_reject]] == ["approved", "published", "dismissed", "rejected"]
    # Then every page again, now with the published flows and decided proposals.
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        for path in ("review-queue", "flows", "activity"):
            walk_page(page, hostile_db, app_url, "admin", path, screenshots)
        open_as(page, app_url, "review-queue?status=all", "admin")
        check_page(page, hostile_db, "all statuses")
        # Every decision opened on the Activity page: hostile reasons, titles, flow names and trees.
        assert len(entries) == 4
        for entry in entries:
            open_as(page, app_url, f"activity?entry={entry}", "admin")
            for toggle in page.locator('[data-testid="stExpander"] summary').all():
                toggle.click()
            settle(page)
            check_page(page, hostile_db, f"activity entry {entry}")
            page.screenshot(path=screenshots / f"hostile-activity-{entry}.png", full_page=True)
    finally:
        context.close()
    assert recorder.requests == [], recorder.requests
    print(json.dumps({"requests_received": len(recorder.requests), "roles": ROLES, "pages": PAGES}))
