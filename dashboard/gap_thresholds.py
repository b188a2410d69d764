"""The Knowledge gaps page's threshold form (admins): edit the account's thresholds, Preview the
report with them without saving, Save them (checked again in core), or discard the changes."""

from __future__ import annotations

from dataclasses import asdict, fields

import streamlit as st

from core.accounts.auth import Actor, NotAllowed
from core.db import unit_of_work
from core.gaps import DEFAULT_THRESHOLDS, Gap, GapReport, GapThresholds, ThresholdError
from core.gaps.thresholds import save_account_thresholds
from core.gaps.words import THRESHOLD_GROUPS
from dashboard import resources
from dashboard.gap_card import severity_badge
from dashboard.text import md_escape, trusted

FLASH = "_kg_flash"
PREVIEW = "_kg_preview"
_LOADED = "_kg_thresholds_loaded"
PANEL = "kg_thresholds_open"

# The form: (group, [(field, label, kind)]); kind "share" is edited as a percentage.
THRESHOLD_FORM = tuple((g.title, [(f.name, f"{f.label} (%)" if f.kind == "share" else f.label, f.kind) for f in g.fields])
                       for g in THRESHOLD_GROUPS)


def _seed_threshold_inputs(stored: GapThresholds, force: bool = False) -> None:
    """The form's inputs start from the stored thresholds, and again whenever those change."""
    marker = asdict(stored)
    # A closed panel draws no inputs, and Streamlit forgets their values: seed them again then.
    present = all(f"kg_t_{name}" in st.session_state for _, items in THRESHOLD_FORM for name, _, _ in items)
    if not force and present and st.session_state.get(_LOADED) == marker:
        return
    for _, items in THRESHOLD_FORM:
        for name, _, kind in items:
            value = getattr(stored, name)
            st.session_state[f"kg_t_{name}"] = round(value * 100, 2) if kind == "share" else value
    st.session_state[_LOADED] = marker


def _discard(stored: GapThresholds) -> None:
    """Discard changes: an on_click callback, because a widget's value may only be set before the
    widget is drawn in a run (setting it after the form raised StreamlitAPIException)."""
    st.session_state.pop(PREVIEW, None)
    _seed_threshold_inputs(stored, force=True)


def _load_defaults() -> None:
    _seed_threshold_inputs(DEFAULT_THRESHOLDS, force=True)
    st.session_state[_LOADED] = None  # the inputs no longer show what is stored


def _edited() -> GapThresholds:
    """The thresholds in the form; raises ThresholdError naming the field that is wrong."""
    values = {}
    for _, items in THRESHOLD_FORM:
        for name, _, kind in items:
            value = st.session_state[f"kg_t_{name}"]
            values[name] = round(value / 100, 6) if kind == "share" else value
    kept = {f.name for f in fields(GapThresholds)} - set(values)
    values.update({name: getattr(DEFAULT_THRESHOLDS, name) for name in kept})
    return GapThresholds(**values)


def _changes(before: GapReport, after: GapReport) -> tuple[list[Gap], list[Gap], int]:
    def key(g: Gap) -> tuple:
        return g.gap_type, g.domain, g.title

    old, new = {key(g): g for g in before.gaps}, {key(g): g for g in after.gaps}
    appear = [g for k, g in new.items() if k not in old]
    disappear = [g for k, g in old.items() if k not in new]
    moved = sum(1 for k in new.keys() & old.keys() if new[k].severity != old[k].severity)
    return appear, disappear, moved


def thresholds_panel(actor: Actor, account_id: int, stored: GapThresholds, saved: GapReport,
                      previewed: GapReport | None) -> None:
    # Stateful, so that a closed panel draws none of its thirty inputs (a preview is made with it open).
    panel = st.expander("Tune the thresholds", icon=":material/tune:", key=PANEL, on_change="rerun")
    if not panel.open:
        return
    with panel:
        _seed_threshold_inputs(stored)
        st.caption("What counts as a gap, and how severe, for this account. A rate counts when its whole 95% "
                   "interval lies above the normal level; its severity is the lesser of the rate's band and the "
                   "extra sessions it causes, against bars that grow with the account. Preview shows the report "
                   "with the edited values without saving; Save stores them for everyone in the account.")
        st.button("Fill in the defaults", key="kg_defaults", on_click=_load_defaults, icon=":material/restart_alt:")
        with st.form("kg_thresholds", border=False):
            for group, items in THRESHOLD_FORM:
                st.markdown(f"**{group}**")
                for column, (name, label, kind) in zip(st.columns(max(4, len(items))), items):
                    if kind == "int":
                        column.number_input(label, min_value=1, step=1, key=f"kg_t_{name}")
                    elif kind == "share":
                        column.number_input(label, min_value=0.0, max_value=100.0, step=0.5, format="%.1f",
                                            key=f"kg_t_{name}")
                    else:
                        column.number_input(label, min_value=0.0, step=0.05, format="%.2f", key=f"kg_t_{name}")
            preview, save, discard = st.columns([1, 1, 4])
            do_preview = preview.form_submit_button("Preview", icon=":material/visibility:", width="stretch")
            do_save = save.form_submit_button("Save", type="primary", icon=":material/save:", width="stretch")
            discard.form_submit_button("Discard changes", disabled=previewed is None,
                                       on_click=_discard, args=(stored,))
        if do_preview or do_save:
            try:
                edited = _edited()
            except ThresholdError as problem:
                st.error(f"These thresholds cannot be used: {md_escape(problem)}", icon=":material/error:")
                if do_save:
                    st.toast("Not saved: fix the thresholds first.", icon=":material/error:")
                return
            if do_preview:
                st.session_state[PREVIEW] = asdict(edited)
                st.rerun()
            try:
                with unit_of_work(resources.engine()) as db:
                    save_account_thresholds(db, actor, account_id, edited)
            except (NotAllowed, ThresholdError) as refused:
                st.session_state[FLASH] = (f"Not saved: {refused}", False)
            else:
                st.session_state[FLASH] = ("Thresholds saved: the report now uses them.", True)
                st.session_state.pop(PREVIEW, None)
            st.rerun()
        if previewed is not None:
            appear, disappear, moved = _changes(saved, previewed)
            st.info(f"With these thresholds: **{len(previewed.gaps)}** gaps instead of **{len(saved.gaps)}**: "
                    f"**{len(appear)}** appear, **{len(disappear)}** disappear, **{moved:d}** change severity. "
                    "The cards below show the preview; nothing is saved yet.", icon=":material/visibility:")
            for title, listed in (("Appear", appear), ("Disappear", disappear)):
                if listed:
                    st.markdown(f"**{trusted(title)}:**\n" + "\n".join(f"- {severity_badge(g.severity)} {md_escape(g.title)}"
                                                             for g in listed[:10])
                                + (f"\n- … and {len(listed) - 10} more" if len(listed) > 10 else ""))
