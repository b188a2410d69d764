"""The shaping behind Home's lists, without a database: the waiting proposals from the rows read,
and the top gaps (with the keys the Knowledge gaps page opens) from a report."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from core.gaps import DEFAULT_THRESHOLDS, Gap, GapReport
from core.gaps.top import gap_key, is_gap_key, top_gaps
from core.proposals.waiting import shape_waiting

END = datetime(2026, 12, 1, tzinfo=timezone.utc)


def gap(title: str, severity: str = "high", impact: int = 10, **evidence) -> Gap:
    return Gap(gap_type="dead_end", domain="printing", severity=severity, title=title, description="d",
               evidence=evidence, suggested_action="a", impact=impact)


def report(*gaps: Gap, days: int = 30) -> GapReport:
    return GapReport(generated_at=END, account="alpha-it", period_days=days, period_start=END, period_end=END,
                     gaps=tuple(gaps), thresholds=DEFAULT_THRESHOLDS)


def test_the_waiting_rows_keep_their_order_and_the_count_of_all_pending():
    waiting = shape_waiting(7, [(4, "VPN drops", "new_flow", "networking", 0.9, 3, 1.0),
                                (2, "Printer", "enhancement", None, 0.5, 1, 1 / 3)])
    assert [p.id for p in waiting.first] == [4, 2]
    assert waiting.total == 7 and waiting.more == 5
    assert waiting.first[1].expected_per_month == 0.33


def test_a_null_in_a_waiting_row_reads_as_nothing_rather_than_none():
    waiting = shape_waiting(None, [(1, None, "new_flow", None, None, None, None)])
    p = waiting.first[0]
    assert (p.title, p.confidence, p.support_count, p.expected_per_month) == ("", 0.0, 0, 0.0)
    assert waiting.total == 1  # a row read is a proposal waiting, whatever the count said


def test_nothing_pending_waits_for_nothing():
    waiting = shape_waiting(0, [])
    assert waiting.first == () and waiting.total == 0 and waiting.more == 0


def test_the_top_gaps_are_the_first_three_in_the_reports_order_with_their_ranks():
    gaps = [gap(f"Gap {n}", severity="high" if n < 2 else "low", impact=n) for n in range(5)]
    top = top_gaps(report(*gaps, days=15))
    assert [(g.rank, g.title) for g in top.first] == [(1, "Gap 0"), (2, "Gap 1"), (3, "Gap 2")]
    assert top.total == 5 and top.period_days == 15
    assert top.first[2].expected_per_month == 4.0  # 2 in 15 days, per 30


def test_an_empty_report_has_no_top_gaps():
    top = top_gaps(report())
    assert top.first == () and top.total == 0


def test_a_gaps_key_names_its_place_not_its_figures():
    one = gap("Dead end at q3", flow_id="printer", node_id="q3")
    assert gap_key(replace(one, impact=99, severity="low")) == gap_key(one)
    assert gap_key(gap("Dead end at q3", flow_id="printer", node_id="q4")) != gap_key(one)
    assert is_gap_key(gap_key(one))


@given(st.text(max_size=20))
def test_only_twelve_lowercase_hex_digits_are_a_gap_key(text):
    expected = len(text) == 12 and all(c in "0123456789abcdef" for c in text)
    assert is_gap_key(text) is expected
