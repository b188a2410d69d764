"""`python -m core metrics` and `python -m core export`, run as a manager runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_core(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'demo.db'}"
    assert run_core(url, "db", "upgrade").returncode == 0
    loaded = run_core(url, "demo", "--sessions", "1500")
    assert loaded.returncode == 0, loaded.stderr
    return url


def test_metrics_json_is_the_whole_report_and_its_shares_add_up(demo_url):
    result = run_core(demo_url, "metrics", "--account", "northwind-it", "--days", "30", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    volume = report["sections"]["volume"]["totals"]

    assert report["account"] == "northwind-it" and report["days"] == 30
    assert volume["sessions"]["value"] > 0 and volume["sessions"]["previous"] > 0
    shares = sum(volume[k]["value"] for k in ("resolution_rate", "escalation_rate", "abandonment_rate"))
    assert shares == pytest.approx(1.0, abs=1e-5)
    days = report["sections"]["volume"]["breakdowns"]["day"]
    assert sum(d["sessions"]["value"] for d in days) == volume["sessions"]["value"]
    tiers = report["sections"]["tiers"]["breakdowns"]["tier"]
    assert sum(t["sessions"]["value"] for t in tiers) == volume["sessions"]["value"]


def test_metrics_for_one_client_narrow_every_figure_to_the_sessions_of_its_tickets(demo_url):
    whole = json.loads(run_core(demo_url, "metrics", "--account", "northwind-it", "--json").stdout)
    companies = whole["sections"]["psa"]["breakdowns"]["company"]
    assert len(companies) == 13 and companies[-1]["key"] == "(no client recorded)"  # a dozen clients, and the rest
    assert sum(c["sessions"]["value"] for c in companies) == whole["sections"]["volume"]["totals"]["sessions"]["value"]
    largest = companies[0]

    result = run_core(demo_url, "metrics", "--account", "northwind-it", "--company", largest["key"], "--json")
    assert result.returncode == 0, result.stderr
    one = json.loads(result.stdout)

    assert one["filters"]["company"] == largest["key"]
    assert one["sections"]["volume"]["totals"]["sessions"] == largest["sessions"]
    assert one["sections"]["psa"]["totals"]["sla_breaches"] == largest["sla_breaches"]
    assert [c["key"] for c in one["sections"]["psa"]["breakdowns"]["company"]] == [largest["key"]]


def test_metrics_as_text_shows_each_section_with_the_previous_period(demo_url):
    result = run_core(demo_url, "metrics", "--account", "northwind-it")

    assert result.returncode == 0, result.stderr
    for section in ("volume", "tiers", "resolution", "psa", "flows"):
        assert f"\n{section}\n" in result.stdout
    assert "was" in result.stdout and "pts)" in result.stdout


def test_metrics_as_text_make_no_change_against_a_period_before_the_data(demo_url):
    result = run_core(demo_url, "metrics", "--account", "northwind-it", "--days", "90")  # the demo holds 90 days

    assert result.returncode == 0, result.stderr
    assert "No changes: the account's data starts after the previous period does" in result.stdout
    assert "was" in result.stdout and "pts)" not in result.stdout and "(+" not in result.stdout


def test_metrics_for_an_unknown_account_is_an_error(demo_url):
    result = run_core(demo_url, "metrics", "--account", "nobody")

    assert result.returncode == 1
    assert "no account 'nobody'" in result.stderr


@pytest.mark.parametrize("what", ["sessions", "metrics", "proposals"])
def test_export_writes_a_csv_file_and_says_how_many_rows(demo_url, tmp_path, what):
    out = tmp_path / f"{what}.csv"
    result = run_core(demo_url, "export", what, "--account", "northwind-it", "--days", "30", "--out", str(out))

    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert f"Wrote {len(rows) - 1:,} rows to {out}." in result.stdout
    assert not (tmp_path / f"{what}.csv.partial").exists()
    if what != "proposals":
        assert len(rows) > 1


def test_export_for_excel_starts_with_a_byte_order_mark(demo_url, tmp_path):
    out = tmp_path / "excel.csv"
    result = run_core(demo_url, "export", "sessions", "--account", "northwind-it", "--days", "1", "--out", str(out),
                      "--excel")

    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbfaccount,id,")


def test_export_to_stdout_with_a_dash(demo_url):
    result = run_core(demo_url, "export", "sessions", "--account", "northwind-it", "--days", "1", "--out", "-")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("account,id,engineer,")


def test_export_for_an_unknown_account_writes_nothing(demo_url, tmp_path):
    out = tmp_path / "none.csv"
    result = run_core(demo_url, "export", "sessions", "--account", "nobody", "--out", str(out))

    assert result.returncode == 1
    assert not out.exists()


def test_a_period_shorter_than_a_day_is_a_usage_error(demo_url, tmp_path):
    result = run_core(demo_url, "metrics", "--account", "northwind-it", "--days", "0")

    assert result.returncode == 2
    assert "must be at least 1" in result.stderr
