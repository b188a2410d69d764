"""The analytics figures: titles, axis labels, hover text with units, one colour per outcome and tier."""

from __future__ import annotations

from dashboard import charts

DAYS = [{"key": "2026-05-01", "sessions": 4, "resolved": 2, "escalated": 1, "abandoned": 1, "active": 0},
        {"key": "2026-05-02", "sessions": 0, "resolved": 0, "escalated": 0, "abandoned": 0, "active": 0}]
TIERS = [{"tier": t, "sessions": 3, "resolution_rate": 0.5, "escalation_rate": None if t == "(none)" else 0.25}
         for t in ("guided", "assisted", "discovery", "(none)")]


def test_every_figure_has_a_title_axis_labels_and_hover_text():
    figures = [
        charts.volume_over_time(DAYS, weekly=False),
        charts.tier_mix_over_time([{"key": "2026-05-01", "tier": "guided", "sessions": 2, "total": 4},
                                   {"key": "2026-05-02", "tier": "guided", "sessions": 0, "total": 0}], weekly=True),
        charts.tier_calibration(TIERS),
        charts.escalation_by_domain([{"domain": "email", "escalated": 1, "with_outcome": 4, "escalation_rate": 0.25}],
                                    0.2),
        charts.time_to_resolution([{"label": "< 1 h", "cases": 3, "previous_cases": 1}], 0.5),
        charts.flow_usage([{"flow": "f-mail", "sessions": 4, "resolved": 2, "with_outcome": 4,
                            "resolution_rate": 0.5}]),
    ]
    for fig in figures:
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and (fig.layout.yaxis.title.text or fig.layout.yaxis.type == "category"
                                                or fig.layout.xaxis2.title.text)
        for trace in fig.data:
            assert trace.hovertemplate and "<extra></extra>" in trace.hovertemplate
    assert "sessions" in figures[0].data[0].hovertemplate
    assert "%{y:.1%}" in figures[2].data[0].hovertemplate  # rates with one decimal
    assert "resolved cases" in figures[4].data[0].hovertemplate
    assert figures[4].layout.title.text == "Time to resolution (median 30 min)"


def test_outcomes_and_tiers_keep_their_colours_in_every_chart():
    volume = {t.name: t.marker.color for t in charts.volume_over_time(DAYS, weekly=False).data}
    assert volume == {"Resolved": "#16a34a", "Escalated": "#dc2626", "Abandoned": "#9ca3af", "Still active": "#60a5fa"}
    calibration = {t.name: t.marker.color for t in charts.tier_calibration(TIERS).data}
    assert calibration == {"Resolution rate": volume["Resolved"], "Escalation rate": volume["Escalated"]}
    domain = charts.escalation_by_domain([{"domain": "x", "escalated": 1, "with_outcome": 2, "escalation_rate": 0.5}],
                                         None)
    assert domain.data[0].marker.color == volume["Escalated"]
    mix = charts.tier_mix_over_time([{"key": "2026-05-01", "tier": "guided", "sessions": 1, "total": 1}], False)
    assert {t.name: t.marker.color for t in mix.data}["Guided"] == charts.TIER_COLOURS["guided"]


def test_small_counts_get_whole_number_ticks_and_empty_days_no_share():
    fig = charts.volume_over_time(DAYS, weekly=False)
    assert fig.layout.yaxis.dtick == 1
    mix = charts.tier_mix_over_time([{"key": "2026-05-02", "tier": "guided", "sessions": 0, "total": 0}], False)
    assert mix.data[0].y == (None,)


def test_hours_read_naturally():
    assert [charts.format_hours(h) for h in (None, 0.25, 1.54, 30, 100)] == ["–", "15 min", "1.5 h", "30.0 h",
                                                                            "4.2 days"]


HOSTILE = '<a href="http://127.0.0.1:9/x">click</a> & <img src=http://127.0.0.1:9/p.png>'


def test_session_labels_reach_plotly_html_escaped():
    domain = charts.escalation_by_domain([{"domain": HOSTILE, "escalated": 1, "with_outcome": 2,
                                           "escalation_rate": 0.5}], 0.5)
    flows = charts.flow_usage([{"flow": HOSTILE, "sessions": 3, "resolved": 1, "with_outcome": 2,
                                "resolution_rate": 0.5}])
    tiers = charts.tier_calibration([{"tier": HOSTILE, "sessions": 1, "resolution_rate": 0.5,
                                      "escalation_rate": 0.5}])
    shown = [str(v) for fig in (domain, flows, tiers) for trace in fig.data
             for v in [*(trace.x or ()), *(trace.y or ()), *(c for row in (trace.customdata or ()) for c in row)]]
    labels = [v for v in shown if "click" in v]
    assert labels and all("<" not in v and ">" not in v for v in labels)
    assert any("&lt;a href" in v and "&amp;" in v for v in labels)
