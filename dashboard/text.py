"""Untrusted text (session free text, titles derived from it) shown through Streamlit's Markdown.

Streamlit never renders raw HTML unless asked (and we never ask), but Markdown itself can still
inject links, images that load remote URLs, colour and icon directives, or LaTeX. Escaping
every punctuation character Markdown or Streamlit give a meaning makes the text literal.
"""

from __future__ import annotations

import re

# GitHub-flavoured Markdown turns bare URLs, www. names and emails into links even when every
# punctuation mark is escaped; an invisible word joiner in the pattern keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_JOINER = "\u2060"
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&@/])")


def md_escape(text: object, limit: int | None = None) -> str:
    value = " ".join(str("" if text is None else text).split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = _AUTOLINK.sub(lambda m: m.group(0)[0] + _JOINER + m.group(0)[1:], value)
    return _SPECIAL.sub(r"\\\1", value)
