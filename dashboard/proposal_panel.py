"""The review queue's detail panel: one proposal, its evidence, its tree, and the review actions.

Actions name the proposal by id and by the row_version shown, never by a table row, so a queue
that changed under the admin's eyes cannot move a decision onto another proposal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core.accounts.auth import Actor
from core.accounts.directory import AccountRef
from core.impact.report import ImpactChange, proposal_impact
from core.metrics.figures import percent, points
from core.models import status_words
from core.proposals import review
from core.proposals.queue import ProposalDetail
from core.sessions.detail import SessionDetail
from core.settings import get_settings
from dashboard import page_links, resources, signed_in, tree_editor, tree_view
from dashboard.text import md_escape, trusted

logger = logging.getLogger(__name__)

FLASH = "_review_flash"
# The last refused action: which proposal, the message, and what the admin typed (label -> text),
# kept until they close it or act again, so a refusal never costs them their reason or their edits.
REFUSAL = "_review_refusal"
UNEXPECTED = ("The action could not be completed because of an unexpected error; it was logged for the "
              "administrators. Nothing was changed. Your input is kept below.")
TYPE_LABEL = {"new_flow": "New flow", "enhancement": "Enhancement"}
STATUS_ICON = {"pending": ":material/hourglass_empty:", "approved": ":material/check_circle:",
               "published": ":material/publish:", "dismissed": ":material/snooze:",
               "rejected": ":material/block:"}


def show_flash() -> None:
    """The toast of the action that ended the previous run (a toast shown before st.rerun is lost)."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        message, ok = flash
        # The message names the proposal by its title, which comes from session text.
        st.toast(md_escape(message), icon=":material/check_circle:" if ok else ":material/error:")


def _act(action: Callable[[], review.ReviewOutcome], on_done: Callable[[bool], None], proposal_id: int,
         typed: dict[str, Any]) -> None:
    """Run a review action. A refusal (domain error) shows its message; anything unexpected is
    logged with its traceback and shown as a short message. Either way what the admin typed stays."""
    try:
        outcome = action()
    except (review.ReviewError, review.NotAllowed) as refused:
        message, ok = str(refused), False
    except Exception:  # st.rerun/st.stop are BaseExceptions and pass through
        logger.exception("Review action on proposal %s failed", proposal_id)
        message, ok = UNEXPECTED, False
    else:
        message, ok = outcome.message, True
    st.session_state[FLASH] = (message, ok)
    if ok:
        st.session_state.pop(REFUSAL, None)
    else:
        st.session_state[REFUSAL] = {"proposal": proposal_id, "message": message,
                                     "typed": {k: v for k, v in typed.items() if v not in (None, "")}}
    on_done(ok)
    st.rerun()


def _refusal(d: ProposalDetail) -> None:
    """The last refused action on this proposal, and what the admin had typed, until they close it."""
    refusal = st.session_state.get(REFUSAL)
    if not refusal or refusal.get("proposal") != d.id:
        return
    st.error(md_escape(refusal["message"]), icon=":material/error:")
    if d.status == "pending":
        return  # the form and the editor are still there, holding what the admin typed
    for label, value in refusal["typed"].items():
        text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
        st.caption(md_escape(f"Your {label.lower()} (not saved):"))
        st.code(text, language="json" if not isinstance(value, str) else None, wrap_lines=True)
    st.button("Close this message", key=f"rq_refusal_close_{d.id}", icon=":material/close:",
              on_click=lambda: st.session_state.pop(REFUSAL, None))


def _header(d: ProposalDetail) -> None:
    st.subheader(md_escape(d.title), anchor=False)
    st.markdown(
        f":blue-badge[{TYPE_LABEL.get(d.proposal_type, md_escape(d.proposal_type))}] "
        f":gray-badge[{STATUS_ICON.get(d.status, '')} {md_escape(d.status)}] "
        + (f":violet-badge[{md_escape(d.domain)}]" if d.domain else "")
    )
    left, middle, expected, right = st.columns(4)
    left.metric("Confidence", percent(d.confidence, 0), border=True)
    middle.metric("Supporting sessions", f"{d.support_count:,}", border=True)
    if d.expected is not None:
        expected.metric("Expected a month", f"{d.expected.per_month:.1f}", border=True,
                        help=trusted(d.expected.sentence()))
    right.metric("Proposed", f"{d.created_at:%d %b %Y}", border=True,
                 help=f"Updated {d.updated_at:%d %b %Y %H:%M} UTC · proposal #{d.id:d}, version {d.row_version:d}")
    if d.expected is not None and d.status == "pending":
        st.caption(trusted(f"Expected impact: {d.expected.sentence()}"))  # our own words and figures
    if d.confidence_rationale:
        st.markdown(f"**Why this confidence:** {md_escape(d.confidence_rationale)}")
    if d.summary:
        st.markdown(md_escape(d.summary))
    if d.proposal_type == "enhancement" and d.status == "pending":
        if d.target_flow_id is None:
            st.warning("The flow this proposal enhances no longer exists.", icon=":material/warning:")
        else:
            moved = (d.target_flow_version is not None and d.target_flow_current_version != d.target_flow_version)
            st.caption(f"Enhances **{md_escape(d.target_flow_name)}** ({md_escape(d.target_flow_external_id)}), "
                       f"published version {d.target_flow_current_version:d}."
                       + (f" The analysis compared against version {d.target_flow_version:d}: the flow has changed "
                          "since, so check the changes below against the current version." if moved else ""))
    if d.status != "pending":
        when = f"{d.reviewed_at:%d %b %Y %H:%M} UTC" if d.reviewed_at else "an unknown time"
        published = (f" Published as **{md_escape(d.published_as[0])}** version {d.published_as[1]:d} "
                     "(see Flows)." if d.published_as else "")
        st.info(f"**{md_escape(d.status.title())}** by {md_escape(d.reviewed_by or 'a removed user')} at {when}.{published}"
                + (f"\n\nReason: {md_escape(d.review_reason)}" if d.review_reason else ""),
                icon=STATUS_ICON.get(d.status))


def _evidence(items: tuple[SessionDetail, ...], total: int) -> None:
    if not items:
        st.caption("No supporting sessions are linked to this proposal.")
        return
    if total > len(items):
        st.caption(f"The {len(items)} most recent of {total:,} supporting sessions.")
    for e in items:
        ticket = f" · {e.psa_system or 'PSA'} ticket {e.psa_ticket_id}" if e.psa_ticket_id else ""
        label = (f"{e.created_at:%d %b %Y %H:%M} · {e.engineer or 'unknown engineer'} · {status_words(e.status)}{ticket} — "
                 f"{e.problem_summary or e.external_id}")
        with st.expander(md_escape(label, limit=160)):
            session_tables(e)
            _script_link(e)


def _script_link(e: SessionDetail) -> None:
    """A link to the Script generator with this session (its id as imported) preselected."""
    actor, account = signed_in.current_actor(), resources.current_account()
    if actor is None or account is None or not actor.may(account.id, "scripts"):
        return
    st.page_link(page_links.link_to(page_links.SCRIPTS), label="Script for this session", icon=":material/terminal:",
                 query_params={"session": e.external_id},
                 help="Rank the script library for this session's problem and steps.")


def session_tables(e: SessionDetail) -> None:
    """One session's fields and its steps, as tables (dataframe cells never render Markdown).
    The knowledge-gaps page shows the sessions behind a gap the same way."""
    rows = [("Problem", e.problem_summary), ("Resolution", e.resolution_summary),
            ("Root cause", e.root_cause), ("Engineer", e.engineer), ("Outcome", status_words(e.status)),
            ("PSA ticket", f"{e.psa_ticket_id} ({e.psa_system or 'unknown system'})" if e.psa_ticket_id else None),
            ("Session", e.external_id)]
    st.dataframe(pd.DataFrame([(k, v or "–") for k, v in rows], columns=["", "value"]),
                 hide_index=True, width="stretch", placeholder="–")
    if e.steps:
        st.dataframe(
            # Blank, not the grid's grey "None", where a step has no answer or outcome.
            pd.DataFrame([(s.seq, s.step_type, s.context_message or "", s.response or "",
                           "yes" if s.was_free_text else "", s.outcome or "") for s in e.steps],
                         columns=["#", "step", "copilot asked / proposed", "engineer answered",
                                  "free text", "outcome"]),
            hide_index=True, width="stretch", placeholder="–",
            # Widths that fit the panel beside the page's sidebar: long texts are cut in their cell
            # (the row's tooltip shows them whole) instead of pushing the table sideways.
            column_config={"#": st.column_config.NumberColumn(width=40),
                           "step": st.column_config.TextColumn(width=75),
                           "copilot asked / proposed": st.column_config.TextColumn(width=290),
                           "engineer answered": st.column_config.TextColumn(width=250),
                           "free text": st.column_config.TextColumn(width=70),
                           "outcome": st.column_config.TextColumn(width=80)})


def _reason_action(label: str, verb: str, help_text: str, d: ProposalDetail,
                   run: Callable[[str], review.ReviewOutcome], on_done: Callable[[bool], None]) -> None:
    # label and help_text are the code's own words (Dismiss, Reject and their explanations).
    with st.popover(trusted(label), width="stretch"):
        # A form sends the typed reason with the click; a bare text area only sends it on blur.
        with st.form(f"rq_{verb}_form_{d.id}", border=False):
            st.caption(trusted(help_text))
            reason = st.text_area("Reason", key=f"rq_{verb}_reason_{d.id}", max_chars=review.MAX_REASON)
            if st.form_submit_button(trusted(f"{label} proposal"), key=f"rq_{verb}_{d.id}", type="primary"):
                _act(lambda: run(reason), on_done, d.id, {"Reason": reason})


def _actions(actor: Actor, account: AccountRef, d: ProposalDetail, on_done: Callable[[bool], None]) -> None:
    engine = resources.engine()
    editing_key = f"rq_editing_{d.id}"
    columns = st.columns(4)
    if d.proposal_type == "new_flow":
        with columns[0].popover("Approve", icon=":material/check:", width="stretch"), \
                st.form(f"rq_approve_form_{d.id}", border=False):
            st.caption("Publishes the proposed tree, as it stands, as a new flow.")
            note = st.text_input("Note (optional)", key=f"rq_approve_note_{d.id}")
            if st.form_submit_button("Approve and publish", key=f"rq_approve_{d.id}", type="primary"):
                _act(lambda: review.approve(engine, actor, account.id, d.id, d.row_version, note=note), on_done,
                     d.id, {"Note": note})
    else:
        columns[0].caption("An enhancement is published through edit & publish, as the next version of its flow.")
    if columns[1].button("Edit & publish", key=f"rq_edit_{d.id}", icon=":material/edit:", width="stretch",
                         type="primary" if st.session_state.get(editing_key) else "secondary"):
        st.session_state[editing_key] = not st.session_state.get(editing_key, False)
        st.rerun()
    with columns[2]:
        _reason_action("Dismiss", "dismiss", "Not now: the proposal may come back when new evidence arrives.", d,
                       lambda r: review.dismiss(engine, actor, account.id, d.id, d.row_version, r), on_done)
    with columns[3]:
        _reason_action("Reject", "reject", "Never propose this again.", d,
                       lambda r: review.reject(engine, actor, account.id, d.id, d.row_version, r), on_done)

    if st.session_state.get(editing_key):
        _editor(actor, account, d, on_done)


def _editor(actor: Actor, account: AccountRef, d: ProposalDetail, on_done: Callable[[bool], None]) -> None:
    engine = resources.engine()
    key = f"rq_tree_{d.id}_{d.row_version}"
    with st.container(border=True):
        target = (f"the next version (v{(d.target_flow_current_version or 0) + 1:d}) of "
                  f"{md_escape(d.target_flow_external_id)}" if d.proposal_type == "enhancement" else "a new flow")
        st.markdown(f"#### Edit & publish\nPublishes the edited tree as {target}.")
        name = None
        if d.proposal_type == "new_flow":
            name = st.text_input("Flow name", value=d.title, key=f"rq_name_{d.id}", max_chars=200)
        draft, problems = tree_editor.tree_editor(key, d.tree, d.target_tree)
        if not problems:
            tree_view.warnings(draft, d.target_tree if d.proposal_type == "enhancement" else None)
        note = st.text_input("Note for the version history (optional)", key=f"rq_note_{d.id}")
        publish, reset, cancel = st.columns([2, 1, 1])
        if publish.button("Publish", key=f"rq_publish_{d.id}", type="primary", icon=":material/publish:",
                          disabled=bool(problems), width="stretch"):
            def done(ok: bool) -> None:
                if ok:
                    tree_editor.reset(key)
                    st.session_state.pop(f"rq_editing_{d.id}", None)
                on_done(ok)
            _act(lambda: review.edit_and_publish(engine, actor, account.id, d.id, d.row_version, draft,
                                                 flow_name=name, note=note), done,
                 d.id, {"Flow name": name, "Note": note, "Edited tree": draft})
        if reset.button("Start over", key=f"rq_reset_{d.id}", width="stretch"):
            tree_editor.reset(key)
            st.rerun()
        if cancel.button("Cancel", key=f"rq_cancel_{d.id}", width="stretch"):
            tree_editor.reset(key)
            st.session_state.pop(f"rq_editing_{d.id}", None)
            st.rerun()


VERDICT_TEXT = {"improved": "improved", "worse": "got worse", "no_clear_change": "no clear change",
                "too_early": "too early to tell"}


def _measured(change: ImpactChange) -> None:
    """What the published version did, next to what the proposal predicted."""
    c = change

    def line(name, figure):
        interval = (f" (95% interval {100 * figure.interval[0]:+.1f} to {100 * figure.interval[1]:+.1f} pts)"
                    if figure.interval else "")
        return f"{name} {percent(figure.before)} → {percent(figure.after)}{interval}"
    whose = (f"the {md_escape(c.domain or '')} domain's" if c.compared == "domain" else "the flow's")  # a new flow: its domain
    rest = ("; the rest of the account moved " + ", ".join(
        f"{name} {points(figure.delta)}" for name, figure in
        (("escalation", c.account_escalation), ("resolution", c.account_resolution)) if figure.delta is not None)
        if c.account_escalation.delta is not None or c.account_resolution.delta is not None else "")
    text = (f"**Measured impact: {VERDICT_TEXT[c.verdict]}.** {c.before.finished:,} of {whose} sessions finished "
            f"before, {c.after.finished:,} after. {line('Escalation rate', c.escalation)}; "
            f"{line('resolution rate', c.resolution)}{rest}.")
    if c.prediction:
        text += f"\n\nPredicted: {md_escape(c.prediction.text)}"
    st.markdown(trusted(text))  # figures and labels of our own; the prediction is escaped above


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False)
def _impact(url: str, actor: Actor, account_id: int, proposal_id: int) -> ImpactChange | None:
    with resources.read_session(url) as db:
        return proposal_impact(db, actor, account_id, proposal_id)


def proposal_panel(actor: Actor, account: AccountRef, d: ProposalDetail, can_review: bool,
                   on_done: Callable[[bool], None]) -> None:
    with st.container(border=True):
        _header(d)
        _refusal(d)
        if d.status in ("approved", "published") and actor.may(account.id, "analytics"):
            change = _impact(resources.database_url(), actor, account.id, d.id)
            if change is not None:
                _measured(change)
        if d.status == "pending":
            if can_review:
                _actions(actor, account, d, on_done)
            else:
                st.caption(":material/visibility: Read-only: only admins review proposals.")
        tree_tab = "Proposed tree" if d.published_as is None else "Published tree"
        diagram, evidence = st.tabs([tree_tab, f"Supporting sessions ({d.evidence_total:,})"])
        with diagram:
            tree_view.proposal_trees(d)
        with evidence:
            _evidence(d.evidence, d.evidence_total)
