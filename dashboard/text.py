"""Untrusted text (session free text, names, titles derived from it): the one place that makes it
inert before the dashboard shows it.

Every text sink of Streamlit renders Markdown (st.markdown, caption, toast, error/warning/info/
success, titles, expander/tab/popover labels, widget labels and help tooltips, radio and pills
options): links, images that load remote URLs, colour and icon directives, LaTeX. Streamlit never
renders raw HTML unless asked (and we never ask), so escaping every punctuation character Markdown
or Streamlit give a meaning makes the text literal. Plotly renders a subset of HTML in titles,
tick labels and hover text (``<a href>``, ``<b>``, ``<br>``...), so text put there is HTML-escaped.
Graphviz labels are escaped for DOT in ``core.flows.diagram``, which stays free of Streamlit.

``tests/unit/test_text_sinks.py`` reads the dashboard's source and fails when a sink receives an
f-string or a variable that did not go through ``md_escape`` (or one of the helpers here).
"""

from __future__ import annotations

import html
import re

# GitHub-flavoured Markdown turns bare URLs, www. names and emails into links even when every
# punctuation mark is escaped; an invisible word joiner in the pattern keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_JOINER = "\u2060"
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&@/])")
# In a one-line widget label these escaped characters mean nothing to Markdown on their own.
_HARMLESS = re.compile(r"\\([().\-/])")


def md_escape(text: object, limit: int | None = None) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters, as literal Markdown."""
    value = " ".join(str("" if text is None else text).split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = _AUTOLINK.sub(lambda m: m.group(0)[0] + _JOINER + m.group(0)[1:], value)
    return _SPECIAL.sub(r"\\\1", value)


def md_label(text: object, limit: int | None = None) -> str:
    """``md_escape`` for a widget label, minus the backslashes that protect nothing there (the label
    is also the field's accessible name, which a screen reader would read with every backslash).
    Parentheses stay harmless without ``[`` and ``]``, which stay escaped, so no link can form."""
    return _HARMLESS.sub(r"\1", md_escape(text, limit))


def html_escape(text: object, limit: int | None = None) -> str:
    """``text`` for Plotly titles, tick labels and hover text: ``<``, ``>`` and ``&`` as entities,
    which Plotly shows as the characters, never as tags. Cut before escaping, so no entity is split."""
    value = " ".join(str("" if text is None else text).split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return html.escape(value, quote=False)


def trusted(text: str) -> str:
    """Marks text the code wrote itself (constants, labels from the code's own tables) where a sink
    receives it through a variable: it changes nothing, it tells the sink check (and the reader)
    that no imported or typed text can be in it."""
    return text
