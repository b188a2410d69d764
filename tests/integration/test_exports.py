"""CSV exports on SQLite and PostgreSQL: what they hold, that they are formula-safe, that they stream."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert

from core.commands import OPERATOR  # these tests are about the figures; permissions: test_report_permissions
from core.db import unit_of_work
from core.exports import catalog
from core.exports.catalog import EXPORTS, ExportRequest, account_request, export_bytes, write_export
from core.metrics import FLAT_HEADER
from core.models import Account, Flow, FlowProposal, Session, User

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def add_account(engine, slug: str) -> int:
    with unit_of_work(engine) as db:
        account = Account(slug=slug, name=slug.title(), settings={})
        db.add(account)
        db.flush()
        return account.id


def export_text(engine, name: str, slug: str, days: int | None = 30) -> str:
    out = io.StringIO(newline="")
    with unit_of_work(engine) as db:
        write_export(db, OPERATOR, name, account_request(db, slug, days, NOW), out)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def acme(engine) -> int:
    acme = add_account(engine, "acme")
    other = add_account(engine, "other")
    with unit_of_work(engine) as db:
        db.add_all([
            Session(account_id=acme, external_id="fp-1", created_at=NOW - DAY, ended_at=NOW - DAY + timedelta(minutes=12),
                    status="resolved", engineer="ann@acme.example", problem_domain="email",
                    problem_summary='=HYPERLINK("http://evil.example","open me")', confidence_tier="guided",
                    matched_flow="fl-mail", matched_flow_version=3, psa_company="=Harbor Dental", resolution_summary='Reset "the" profile,\nthen restarted',
                    step_count=4, psa_ticket_id="T-1", psa_board="Service Desk", psa_priority="P1",
                    psa_opened_at=NOW - DAY, psa_closed_at=NOW - DAY + timedelta(hours=5),
                    psa_sla_due_at=NOW - DAY + timedelta(hours=4), psa_time_spent_minutes=30.0),
            Session(account_id=acme, external_id="fp-2", created_at=NOW - 2 * DAY, status="active",
                    problem_summary="-1 printers offline; Zoë's desk 東京", step_count=0),
            Session(account_id=acme, external_id="fp-old", created_at=NOW - 31 * DAY, status="resolved"),
            Session(account_id=other, external_id="fp-theirs", created_at=NOW - DAY, status="resolved"),
        ])
    return acme


def test_the_sessions_export_has_one_row_per_session_of_the_period_oldest_first(engine, acme):
    rows = rows_of(export_text(engine, "sessions", "acme"))

    assert [r["id"] for r in rows] == ["fp-2", "fp-1"]
    first = rows[1]
    assert first["account"] == "acme"
    assert first["psa_ticket_id"] == "T-1" and first["psa_board"] == "Service Desk"
    assert first["psa_company"] == "'=Harbor Dental"  # a client's name is typed text too
    assert first["matched_flow_version"] == "3"
    assert first["step_count"] == "4"
    assert first["psa_time_spent_minutes"] == "30.0"
    assert first["handle_minutes"] == "12.0"
    assert first["sla_breached"] == "true"
    assert first["created_at"] == "2026-05-31T12:00:00+00:00"
    assert rows[0]["handle_minutes"] == "" and rows[0]["sla_breached"] == ""


def test_the_sessions_export_neutralises_formulas_and_keeps_quotes_newlines_and_unicode(engine, acme):
    text = export_text(engine, "sessions", "acme")
    rows = rows_of(text)

    assert rows[1]["problem_summary"] == '\'=HYPERLINK("http://evil.example","open me")'
    assert rows[0]["problem_summary"] == "'-1 printers offline; Zoë's desk 東京"
    assert rows[1]["resolution_summary"] == 'Reset "the" profile,\nthen restarted'
    assert '"Reset ""the"" profile,\nthen restarted"' in text


def test_without_a_period_the_sessions_export_holds_every_session_of_the_account(engine, acme):
    assert [r["id"] for r in rows_of(export_text(engine, "sessions", "acme", days=None))] == ["fp-old", "fp-2", "fp-1"]


def test_the_metrics_export_is_the_report_one_row_per_figure(engine, acme):
    text = export_text(engine, "metrics", "acme")
    rows = rows_of(text)

    assert text.startswith(",".join(FLAT_HEADER) + "\r\n")
    sessions = next(r for r in rows if (r["section"], r["dimension"], r["metric"]) == ("volume", "total", "sessions"))
    assert (sessions["value"], sessions["previous_value"], sessions["change"]) == ("2", "1", "1")
    assert any(r["dimension"] == "engineer" and r["key"] == "ann@acme.example" for r in rows)


def test_the_proposals_export_has_one_row_per_proposal_with_its_flow_and_reviewer(engine, acme):
    with unit_of_work(engine) as db:
        flow = Flow(account_id=acme, external_id="fl-mail", name="Mail", domain="email")
        reviewer = User(email="lead@acme.example", password_hash=None)
        db.add_all([flow, reviewer])
        db.flush()
        db.add_all([
            FlowProposal(account_id=acme, proposal_type="enhancement", status="approved", domain="email",
                         title="@SUM(1+1) add a profile reset step", tree={"root": "a"}, support_count=7,
                         confidence=0.82, target_flow_id=flow.id, target_flow_version=2,
                         reviewed_by_user_id=reviewer.id, reviewed_at=NOW, created_at=NOW - DAY),
            FlowProposal(account_id=acme, proposal_type="new_flow", status="pending", title="VPN drops",
                         tree={"root": "a"}, support_count=3, confidence=0.5, created_at=NOW - 90 * DAY),
        ])
    rows = rows_of(export_text(engine, "proposals", "acme", days=None))

    assert [r["title"] for r in rows] == ["'@SUM(1+1) add a profile reset step", "VPN drops"]
    assert rows[0]["target_flow"] == "fl-mail" and rows[0]["reviewed_by"] == "lead@acme.example"
    assert (rows[0]["support_count"], rows[0]["confidence"]) == ("7", "0.82")
    assert [r["title"] for r in rows_of(export_text(engine, "proposals", "acme", days=30))] == [
        "'@SUM(1+1) add a profile reset step"]


def test_an_account_with_no_proposals_exports_just_the_header(engine, acme):
    assert export_text(engine, "proposals", "acme", days=None).count("\r\n") == 1


def test_the_download_bytes_are_the_same_csv_in_utf8(engine, acme):
    request = ExportRequest(acme, "acme", 30, NOW)

    data = export_bytes(engine, OPERATOR, "sessions", request)
    assert data.decode("utf-8") == export_text(engine, "sessions", "acme")


def test_every_export_reads_through_a_streaming_query(engine, acme):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM sessions" in statement or "FROM flow_proposals" in statement:
            seen.append((context.execution_options.get("stream_results"), type(cursor).__name__))

    event.listen(engine, "before_cursor_execute", record)
    try:
        for name in ("sessions", "proposals"):
            export_text(engine, name, "acme")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(seen) == 2 and all(stream for stream, _ in seen)
    if engine.dialect.name == "postgresql":
        assert {cursor for _, cursor in seen} == {"ServerCursor"}  # a named, server-side cursor


def test_exporting_many_sessions_holds_only_a_batch_in_memory(engine, monkeypatch):
    account = add_account(engine, "big")
    summary = "x" * 4000
    with unit_of_work(engine) as db:
        db.execute(insert(Session), [
            {"account_id": account, "external_id": f"s-{i:05d}", "created_at": NOW - DAY + timedelta(seconds=i),
             "status": "resolved", "problem_summary": summary, "step_count": 0}
            for i in range(3000)
        ])
    monkeypatch.setattr(catalog, "BATCH", 100)

    class Counter(io.TextIOBase):
        written = 0

        def write(self, text: str) -> int:
            self.written += len(text)
            return len(text)

    sink = Counter()
    with unit_of_work(engine) as db:
        request = account_request(db, "big", 30, NOW)
        tracemalloc.start()
        try:
            rows = write_export(db, OPERATOR, "sessions", request, sink)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert rows == 3000
    assert sink.written > 12_000_000  # the whole export went through ...
    assert peak < 4_000_000  # ... while never more than a few batches were held


def test_the_export_names_are_the_ones_the_command_line_offers():
    assert {"sessions", "metrics", "proposals"} <= set(EXPORTS)
