"""Script generator: a ready PowerShell or Bash script for a troubleshooting step.

The templates are ranked for a typed problem description or for one of the account's sessions
(``?session=ID``, the id as imported, so the review panel can link here); the engineer picks one,
fills in its parameters and gets the script to copy or download. Nothing is ever executed here.
"""

from __future__ import annotations

import streamlit as st

from core.accounts.auth import Actor, NotAllowed
from core.scripts import RenderedScript, Template, session_query
from core.scripts.sessions import ScriptSession, session_for_scripts
from core.settings import get_settings
from dashboard import resources, script_picker, url_params
from dashboard.text import md_escape, md_label

TTL = get_settings().cache_ttl_seconds
DESCRIPTION, SESSION = "A problem description", "A session"
MATCHES, LIBRARY = "Best matches", "Whole library"
_SEEN = "_sg_url_session"
_RESULT = "_sg_result"


@st.cache_data(ttl=TTL, show_spinner=False)
def _session(url: str, actor: Actor, account_id: int, external_id: str) -> ScriptSession | None:
    with resources.read_session(url) as db:
        return session_for_scripts(db, actor, account_id, external_id)


def _load_url_state() -> None:
    """A link naming a session (``?session=ID``) opens the page on that session, each time it changes."""
    requested = st.query_params.get("session", "").strip()
    if requested and requested != st.session_state.get(_SEEN):
        st.session_state["sg_source"] = SESSION
        st.session_state["sg_session"] = requested[:128]
        st.session_state[_SEEN] = requested


def _save_url_state(source: str, session_id: str) -> None:
    wanted = session_id.strip() if source == SESSION else ""
    url_params.sync({"session": wanted})
    st.session_state[_SEEN] = wanted or None


def _session_summary(s: ScriptSession) -> None:
    ticket = f" · ticket {md_escape(s.psa_ticket_id)}" if s.psa_ticket_id else ""
    st.markdown(f"**{md_escape(s.problem_summary or '(no summary)', limit=300)}**")
    st.caption(f"{s.created_at:%d %b %Y %H:%M} UTC · {md_escape(s.engineer or 'unknown engineer')} · "
               f"{md_escape(s.status)} · domain {md_escape(s.problem_domain or 'unknown')}{ticket} · "
               f"{len(s.steps)} steps")
    if s.steps:
        with st.expander(f"Steps ({len(s.steps)})"):
            st.dataframe(
                [{"#": step.seq, "step": step.step_type, "copilot asked / proposed": step.context_message or "",
                  "engineer answered": step.response or "", "outcome": step.outcome or ""} for step in s.steps],
                hide_index=True, width="stretch", placeholder="–")


def _query(actor: Actor, account_id: int, url: str) -> tuple[str, str | None]:
    """The text (and domain) to rank the templates by, from the description or the session."""
    st.session_state.setdefault("sg_source", DESCRIPTION)
    source = st.segmented_control("Find templates for", [DESCRIPTION, SESSION], key="sg_source",
                                  required=True) or DESCRIPTION
    text, domain, session_id = "", None, ""
    if source == SESSION:
        session_id = st.text_input("Session id (as imported)", key="sg_session", max_chars=128,
                                   placeholder="e.g. acme-2024-000123", icon=":material/forum:")
        if session_id.strip():
            try:
                found = _session(url, actor, account_id, session_id.strip())
            except NotAllowed as refused:
                st.error(md_escape(str(refused)), icon=":material/block:")
                st.stop()
            if found is None:
                st.warning(f"There is no session {md_escape(session_id, limit=128)} in this account.",
                           icon=":material/search_off:")
            else:
                _session_summary(found)
                text, domain = session_query(found)
    else:
        text = st.text_area("Problem description", key="sg_text", max_chars=2000, height=90,
                            placeholder="e.g. printer offline, jobs stuck in the queue")
    _save_url_state(source, session_id)
    return text, domain


def _choose(text: str, domain: str | None) -> Template | None:
    lib = script_picker.library()
    st.session_state.setdefault("sg_mode", MATCHES)
    mode = st.segmented_control("Choose from", [MATCHES, LIBRARY], key="sg_mode", required=True) or MATCHES
    if mode == LIBRARY:
        return script_picker.browse(lib, "sg_browse")
    if not text.strip():
        st.info("Describe the problem or give a session id to rank the templates, or browse the whole library.",
                icon=":material/lightbulb:")
        return None
    matches = script_picker.ranked(lib, text, domain)
    if not matches:
        st.info("No template matches these words. Try other words, or browse the whole library.",
                icon=":material/search_off:")
        return None
    return script_picker.pick_match(matches, "sg")


def _result(rendered: RenderedScript) -> None:
    """The script (its explanation is the template's, shown above the form)."""
    st.subheader("Generated script", anchor=False)
    st.markdown(f"{script_picker.risk_badge(rendered.risk)} :gray-badge[:material/description: {md_escape(rendered.filename)}]")
    st.code(rendered.body, language=rendered.language, line_numbers=True)
    st.download_button(f"Download {md_label(rendered.filename)}", rendered.body.encode("utf-8"), file_name=rendered.filename,
                       mime="text/plain", icon=":material/download:", on_click="ignore", key="sg_download")
    st.caption(":material/info: Copy it with the icon at the code's top right, or download it. Review it, then run it "
               "yourself on the machine it is meant for: the dashboard never runs scripts.")


def scripts_page() -> None:
    actor, account = resources.require("scripts")
    url = resources.database_url()
    lib = script_picker.library()
    _load_url_state()

    st.title("Script generator")
    st.caption("Ranks the script library's PowerShell and Bash templates for a problem or a session; fill in "
               "a template's parameters to get the script. **Nothing runs from the dashboard**: you review "
               "the script, then copy or download it.")
    if actor.role_in(account.id) == "admin":
        script_picker.problems_expander(lib)
    if not lib.templates:
        st.warning("The script library holds no usable template.", icon=":material/warning:")
        return

    text, domain = _query(actor, account.id, url)
    template = _choose(text, domain)
    if template is None:
        st.session_state.pop(_RESULT, None)
        return

    st.divider()
    st.subheader(md_escape(template.title), anchor=False)
    st.markdown(script_picker.template_badges(template))
    st.markdown(f"**What it does.** {md_escape(template.explanation)}")
    submitted, rendered = script_picker.parameter_form(template, "sg_params", "Generate script")
    if submitted:
        st.session_state[_RESULT] = rendered  # None when a value was refused: no stale script stays
    elif st.session_state.get(_RESULT) is not None and st.session_state[_RESULT].template_id != template.id:
        st.session_state.pop(_RESULT)
    shown = st.session_state.get(_RESULT)
    if shown is not None and shown.template_id == template.id:
        _result(shown)
