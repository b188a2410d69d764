"""Activity without a database: who may see it, a settings change in words, actions in words."""

from __future__ import annotations

from dataclasses import asdict, fields, replace

from hypothesis import given
from hypothesis import strategies as st

from core.accounts.auth import PERMISSIONS, with_activity
from core.gaps.thresholds import DEFAULT_THRESHOLDS, GapThresholds
from core.gaps.words import THRESHOLD_LABELS
from core.proposals.activity import SettingChange, action_words, setting_changes


def test_admins_managers_and_analysts_who_may_export_see_the_activity():
    assert all("view_activity" in PERMISSIONS[role] for role in ("admin", "manager", "analyst"))


def test_an_analyst_role_without_exports_does_not_see_the_activity():
    granted = {"admin": frozenset({"review", "exports"}), "manager": frozenset({"view_queue"}),
               "analyst": frozenset({"analytics"})}
    derived = with_activity(granted)
    assert "view_activity" in derived["admin"] and "view_activity" in derived["manager"]
    assert derived["analyst"] == frozenset({"analytics"})
    assert "view_activity" in with_activity({"analyst": frozenset({"analytics", "exports"})})["analyst"]


def test_a_threshold_change_reads_as_the_settings_that_changed_before_and_after():
    before = asdict(DEFAULT_THRESHOLDS)
    after = asdict(replace(DEFAULT_THRESHOLDS, min_sample=20, escalation_high=0.5))
    assert setting_changes(before, after) == (
        SettingChange("Minimum sample for a rate", "10", "20"),
        SettingChange("High escalation: high", "45.0%", "50.0%"),
    )


def test_an_unchanged_save_reads_as_no_change():
    assert setting_changes(asdict(DEFAULT_THRESHOLDS), asdict(DEFAULT_THRESHOLDS)) == ()


def test_a_value_missing_on_one_side_and_an_unknown_setting_still_read():
    assert setting_changes({"min_sample": 12}, {"new_knob": 3}) == (
        SettingChange("Minimum sample for a rate", "12", "–"),
        SettingChange("New knob", "–", "3"),
    )
    assert setting_changes(None, None) == ()


def test_every_threshold_has_words():
    assert set(THRESHOLD_LABELS) == {f.name for f in fields(GapThresholds)}


@given(st.dictionaries(st.sampled_from(sorted(THRESHOLD_LABELS)), st.floats(0.01, 1) | st.integers(1, 10**6)),
       st.dictionaries(st.sampled_from(sorted(THRESHOLD_LABELS)), st.floats(0.01, 1) | st.integers(1, 10**6)))
def test_exactly_the_settings_whose_values_differ_are_listed(before, after):
    changes = setting_changes(before, after)
    differing = [n for n in THRESHOLD_LABELS if before.get(n) != after.get(n)]
    assert [c.name for c in changes] == [THRESHOLD_LABELS[n][0] for n in differing]
    assert all(c.before and c.after and "None" not in (c.before + c.after) for c in changes)


def test_actions_read_as_words():
    assert action_words("edit_publish") == "Edited and published"
    assert action_words("thresholds_reset") == "Reset gap thresholds"
    assert action_words("some_future_action") == "Some future action"
