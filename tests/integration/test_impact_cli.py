"""`python -m core impact` and `python -m core export impact`, as an operator runs them, on both databases."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.integration.test_analytics_cli import run_core
from tests.integration.test_impact import load

KEYS = {"sessions", "finished", "resolved", "escalated", "resolution_rate", "escalation_rate"}


def url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_impact_json_has_the_documented_shape_newest_first(engine):
    load(engine)

    result = run_core(url(engine), "impact", "--account", "acme", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["account"], report["window_days"]) == ("acme", 30)
    [change] = report["changes"]
    assert {"flow_id", "version", "previous_version", "published_at", "source", "proposal_id", "before", "after",
            "escalation_rate_change", "resolution_rate_change", "verdict"} <= set(change)
    assert KEYS <= set(change["before"]) and KEYS <= set(change["after"])
    assert (change["flow_id"], change["version"], change["previous_version"], change["source"]) == ("fl-print", 2, 1, "import")
    # Rates are fractions and delta is after minus before: 14/70 − 48/80.
    assert change["before"]["escalation_rate"] == 0.6 and change["after"]["escalation_rate"] == 0.2
    low, high = change["escalation_rate_change"]["interval"]
    assert change["escalation_rate_change"]["delta"] == pytest.approx(-0.4) and low < -0.4 < high
    assert change["verdict"] == "improved"


def test_impact_as_text_names_each_change_and_its_verdict(engine):
    load(engine)
    result = run_core(url(engine), "impact", "--account", "acme", "--window", "14")
    assert result.returncode == 0, result.stderr
    assert "fl-print v1 → v2" in result.stdout and "14 days before" in result.stdout


def test_impact_for_an_unknown_account_is_an_error(engine):
    result = run_core(url(engine), "impact", "--account", "nobody", "--json")
    assert result.returncode == 1 and "no account 'nobody'" in result.stderr


def test_the_impact_export_is_one_row_per_change(engine):
    load(engine)
    result = run_core(url(engine), "export", "impact", "--account", "acme", "--out", "-")
    assert result.returncode == 0, result.stderr
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["flow_id"], row["version"], row["verdict"], row["finished_after"]) == ("fl-print", "2", "improved", "70")


def test_the_impact_export_neutralises_a_flow_name_a_spreadsheet_would_run(engine):
    from core.sessions.importer import import_flows
    from tests.integration.test_import import numbered
    from tests.integration.test_impact import PUBLISHED
    from tests.integration.test_session_versions import flow_record

    load(engine)
    renamed = flow_record(2, PUBLISHED, label="Si")
    renamed["name"] = "=HYPERLINK(\"http://x.example\",\"Printer\")"
    import_flows(engine, numbered([renamed]), "flows")

    result = run_core(url(engine), "export", "impact", "--account", "acme", "--out", "-")

    assert result.returncode == 0, result.stderr
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["flow_name"] == "'=HYPERLINK(\"http://x.example\",\"Printer\")"
    assert float(row["escalation_rate_change"]) < 0  # a negative number stays a number: only text is prefixed
