"""The script library in the dashboard: choosing a template, its parameter form, the risk badge, and
inserting a generated script into a tree. Used by the Script generator page and the tree editor.

Nothing here runs a script: ``core.scripts.render`` checks and quotes the values, the dashboard
only shows the result. Template texts come from data files admins may extend, so every one of
them is Markdown-escaped before it is shown.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import streamlit as st

from core.scripts import (
    Library,
    Match,
    Parameter,
    ParameterError,
    RenderedScript,
    Template,
    as_script_node,
    load_library,
    rank_templates,
    render,
)
from core.scripts.validation import EXPECTED
from core.settings import get_settings
from dashboard.text import md_escape, md_label, trusted

TTL = get_settings().cache_ttl_seconds
LANGUAGE_LABEL = {"powershell": "PowerShell", "bash": "Bash"}
# Colour, icon, label per risk; an unknown risk (never loaded, but never trusted either) is grey.
RISK_BADGES = {
    "read_only": ("green", ":material/visibility:", "Read-only"),
    "changes_config": ("orange", ":material/tune:", "Changes configuration"),
    "disruptive": ("red", ":material/warning:", "Disruptive: restarts services / deletes files"),
}
ALL = "(all)"
NUMBER_TYPES = ("integer", "port")
STEP_NODE_TYPES = ("action", "script")
WEAK_SCORE = 0.2  # below this best score the matches only share a word or two with the query


# --- the library -------------------------------------------------------------------------------

@st.cache_data(ttl=TTL, show_spinner=False)
def _library(extra_dir: str) -> Library:
    return load_library(extra_dir)


def library() -> Library:
    """The shipped templates plus the admins' folder (``script_library_dir``), read at most once
    per cache period; the sidebar's "Refresh data" reads the files again."""
    return _library(get_settings().script_library_dir)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=200)
def _ranked(extra_dir: str, text: str, domain: str | None, limit: int) -> list[tuple[str, float, list[str]]]:
    return [(m.template.id, m.score, m.why)
            for m in rank_templates(_library(extra_dir), text, domain=domain, limit=limit)]


def ranked(lib: Library, text: str, domain: str | None = None, limit: int = 5) -> list[Match]:
    """``rank_templates`` over the cached library, itself cached by text and domain."""
    found = _ranked(get_settings().script_library_dir, text, domain, limit)
    return [Match(lib.get(template_id), score, why) for template_id, score, why in found]


# --- how a template looks ----------------------------------------------------------------------

def risk_badge(risk: str) -> str:
    colour, icon, label = RISK_BADGES.get(risk, ("gray", ":material/help:", f"Risk: {md_escape(risk) or 'unknown'}"))
    return f":{colour}-badge[{icon} {label}]"


def template_badges(template: Template) -> str:
    return (f"{risk_badge(template.risk)} "
            f":blue-badge[:material/terminal: {LANGUAGE_LABEL.get(template.language, md_escape(template.language))}] "
            f":violet-badge[{md_escape(template.domain)}]")


def template_label(template: Template) -> str:
    """Plain text (selectbox options are not Markdown)."""
    return (f"{template.title} · {LANGUAGE_LABEL.get(template.language, template.language)} · "
            f"{template.risk_label}")


def problems_expander(lib: Library) -> None:
    """For admins: what in the library could not be loaded, and why."""
    if not lib.problems:
        return
    broken = {(p.file, p.template_id) for p in lib.problems}
    with st.expander(f"{len(broken)} template{'s' if len(broken) != 1 else ''} could not be loaded "
                     f"({len(lib.problems)} problem{'s' if len(lib.problems) != 1 else ''})",
                     icon=":material/report:"):
        st.caption("Left out of the library until fixed; the other templates load normally. "
                   "The format is described in core/scripts/library/README.md.")
        st.dataframe(
            [{"file": p.file, "template": p.template_id or "–", "field": p.field or "(file)", "message": p.message}
             for p in lib.problems],
            hide_index=True, width="stretch", placeholder="–",
        )


# --- choosing a template -----------------------------------------------------------------------

def browse(lib: Library, key: str) -> Template | None:
    """The whole library, narrowed by domain and language; returns the chosen template."""
    domain_col, language_col = st.columns(2)
    domains = sorted({t.domain for t in lib.templates})
    languages = sorted({t.language for t in lib.templates})
    domain = domain_col.selectbox("Domain", [ALL, *domains], key=f"{key}_domain")
    language = language_col.selectbox("Language", [ALL, *languages], key=f"{key}_language",
                                      format_func=lambda v: LANGUAGE_LABEL.get(v, v))
    shown = sorted((t for t in lib.templates
                    if domain in (ALL, t.domain) and language in (ALL, t.language)), key=lambda t: t.title.lower())
    if not shown:
        st.info("No template in the library for this domain and language.", icon=":material/search_off:")
        return None
    ids = [t.id for t in shown]
    chosen = st.selectbox(f"Template ({len(ids)})", ids, key=f"{key}_template_{_digest(ids)}",
                          format_func=lambda i: template_label(lib.get(i)))
    return lib.get(chosen) if chosen else None


def pick_match(matches: list[Match], key: str) -> Template | None:
    """The ranked matches with their score and why; returns the chosen template (the best by default)."""
    ids = [m.template.id for m in matches]
    by_id = {m.template.id: m for m in matches}
    if matches[0].score < WEAK_SCORE:
        st.caption(f":material/info: Weak matches (best score {matches[0].score:.2f}): no template fits these words "
                   "well. Read the explanation before using one, or browse the whole library.")

    def label(template_id: str) -> str:
        m = by_id[template_id]
        return (f"**{md_escape(m.template.title)}** · {LANGUAGE_LABEL.get(m.template.language, '')} · "
                f"{md_escape(m.template.risk_label)} · score {m.score:.2f}")

    chosen = st.radio("Best matches", ids, key=f"{key}_match_{_digest(ids)}", format_func=label,
                      captions=[md_escape(" · ".join(m.why)) or "–" for m in matches],
                      help="Score: how closely the template's title, tags and explanation match the words "
                           "(0 to 1), plus 0.15 when its domain is the session's.")
    return by_id[chosen].template if chosen else None


def _digest(ids: list[str]) -> str:
    # A new widget key whenever the options change, so a pick never carries over to other options.
    return hashlib.sha1(",".join(ids).encode()).hexdigest()[:10]


# --- the parameter form ------------------------------------------------------------------------

def _help(parameter: Parameter) -> str:
    parts = [parameter.help] if parameter.help else []
    if parameter.type in EXPECTED:
        parts.append(f"Expected: {EXPECTED[parameter.type]}.")
    if parameter.type == "integer" and (parameter.min is not None or parameter.max is not None):
        parts.append(f"Range: {parameter.min if parameter.min is not None else '…'} to "
                     f"{parameter.max if parameter.max is not None else '…'}.")
    if parameter.pattern:
        parts.append(f"Must match the pattern {parameter.pattern}.")
    if not parameter.required:
        parts.append("Optional.")
    return md_escape(" ".join(parts)) if parts else ""


def _widget(parameter: Parameter, key: str) -> Any:
    label = md_label(parameter.label) + ("" if parameter.required else " (optional)")
    help_text = _help(parameter) or None
    if parameter.type in NUMBER_TYPES:
        # No min/max on the widget: the core's check names the allowed range in its message,
        # where a clamped widget would silently change the number.
        default = int(parameter.default) if parameter.default is not None else None
        return st.number_input(label, value=default, step=1, format="%d", key=key, help=help_text)
    if parameter.type == "choice":
        choices = list(parameter.choices)
        index = choices.index(parameter.default) if parameter.default in choices else (None if parameter.required else 0)
        return st.selectbox(label, choices, index=index, key=key, help=help_text)
    default = "" if parameter.default is None else str(parameter.default)
    return st.text_input(label, value=default, key=key, help=help_text, max_chars=1000)


def parameter_form(template: Template, key: str, submit_label: str,
                   submit_icon: str = ":material/play_arrow:") -> tuple[bool, RenderedScript | None]:
    """One widget per parameter (defaults filled in) and a submit button. Returns whether it was
    submitted and the rendered script; a refused value's message shows under its field (no script)."""
    slots: dict[str, Any] = {}
    values: dict[str, Any] = {}
    with st.form(f"{key}_form_{template.id}", border=True):
        if not template.parameters:
            st.caption("This template has no parameters.")
        for parameter in template.parameters:
            values[parameter.name] = _widget(parameter, f"{key}_{template.id}_{parameter.name}")
            slots[parameter.name] = st.empty()
        submitted = st.form_submit_button(trusted(submit_label), icon=submit_icon, type="primary")  # the caller's words
        summary = st.empty()
    if not submitted:
        return False, None
    try:
        return True, render(template, values)
    except ParameterError as refused:
        labels = {p.name: p.label for p in template.parameters}
        for name, message in refused.errors.items():
            text = f"{md_escape(labels.get(name, name))} {md_escape(message)}"
            (slots[name] if name in slots else summary).error(text, icon=":material/error:")
        count = len(refused.errors)
        summary.error(f"{count} value{'s' if count != 1 else ''} must be corrected; nothing was generated.",
                      icon=":material/error:")
    except ValueError as broken:  # a template the loader should have refused
        summary.error(f"This template cannot be used: {md_escape(str(broken))}", icon=":material/error:")
    return True, None


# --- a script node for the tree editor ---------------------------------------------------------

def _new_node_id(template: Template, nodes: dict[str, Any]) -> str:
    base = f"script-{template.id}"[:60]
    candidate, n = base, 2
    while candidate in nodes:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def insert_script_node(tree: dict[str, Any], rendered: RenderedScript, after: str, leads_to: str,
                       node_id: str) -> dict[str, Any]:
    """A copy of ``tree`` with a script node ``node_id`` between ``after`` (an action or script node,
    whose ``next`` now points at the new node) and ``leads_to``. Raises ValueError when the
    script is too long for a node."""
    new = copy.deepcopy(tree)
    nodes = new["nodes"]
    nodes[node_id] = as_script_node(rendered, next_node=leads_to)
    nodes[after]["next"] = node_id
    return new


def _node_label(node_id: str, node: Any) -> str:
    node = node if isinstance(node, dict) else {}
    text = " ".join(str(node.get("text") or "").split())
    return f"{node_id} ({node.get('type', '?')}): {text[:60]}{'…' if len(text) > 60 else ''}"


def script_node_inserter(key: str, tree: Any) -> dict[str, Any] | None:
    """The tree editor's "Insert a script node" control; returns the new tree when the admin inserts."""
    notice_key = f"{key}_script_notice"
    with st.expander("Insert a script node", icon=":material/terminal:",
                     expanded=notice_key in st.session_state):
        notice = st.session_state.pop(notice_key, None)
        if notice:
            st.success(md_escape(notice), icon=":material/check_circle:")
        nodes = tree.get("nodes") if isinstance(tree, dict) else None
        if not isinstance(nodes, dict) or not nodes:
            st.caption("The tree must have nodes before a script can be inserted.")
            return None
        steps = [n for n, node in nodes.items() if isinstance(node, dict) and node.get("type") in STEP_NODE_TYPES]
        if not steps:
            st.caption("A script node follows an action or script node; this tree has none.")
            return None
        st.caption("Generates a script from the library and inserts it as a `script` node after the node you "
                   "choose; the tree is then checked like any other edit. Nothing is run.")
        lib = library()
        template = browse(lib, f"{key}_sp")
        if template is None:
            return None
        st.markdown(template_badges(template))
        after_col, leads_col = st.columns(2)
        after = after_col.selectbox("After node", steps, key=f"{key}_sp_after",
                                    format_func=lambda n: _node_label(n, nodes[n]),
                                    help="This node's next step becomes the script.")
        current_next = str((nodes.get(after) or {}).get("next") or "")
        targets = list(nodes)
        leads_to = leads_col.selectbox(
            "Then leads to", targets, key=f"{key}_sp_next_{after}",
            index=targets.index(current_next) if current_next in targets else 0,
            format_func=lambda n: _node_label(n, nodes[n]),
            help="The node that follows the script; by default the one that followed the chosen node.")
        node_id = _new_node_id(template, nodes)
        st.caption(f"New node id: {md_escape(node_id)}")
        rendered = parameter_form(template, f"{key}_sp", "Insert script node", ":material/add:")[1]
        if rendered is None:
            return None
        try:
            new_tree = insert_script_node(tree, rendered, after, leads_to, node_id)
        except ValueError as too_long:
            st.error(md_escape(str(too_long)), icon=":material/error:")
            return None
        st.session_state[notice_key] = f"Inserted script node {node_id} after {after}."  # escaped when shown
        for stale in [k for k in st.session_state if k == f"{key}_sp_after" or str(k).startswith(f"{key}_sp_next_")]:
            del st.session_state[stale]  # the chosen node now leads to the script: choose afresh
        return new_tree
