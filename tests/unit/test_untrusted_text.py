"""dashboard.text: what untrusted text looks like once it is made inert for Markdown and for Plotly."""

from __future__ import annotations

import re

import pytest

from dashboard.text import html_escape, md_escape, md_label

HOSTILE = [
    "![x](http://127.0.0.1:9/img.png)",
    "[click](http://127.0.0.1:9/link)",
    "[js](javascript:alert(1))",
    "<img src=http://127.0.0.1:9/raw.png>",
    "<script>alert(1)</script>",
    ":red[alarm] :material/warning: $x^2$",
    "see http://127.0.0.1:9/bare and www.example.com or a@b.example",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_leaves_no_markdown_syntax_unescaped(text):
    escaped = md_escape(text)
    # Every character Markdown or Streamlit give a meaning is preceded by a backslash...
    assert not re.search(r"(?<!\\)[\[\]()!<>:$]", escaped)
    # ...and no URL scheme, www. or email survives for GitHub's autolinker.
    assert "://" not in escaped and "www." not in escaped and "a@b" not in escaped


def test_md_escape_keeps_the_words_and_puts_them_on_one_line():
    assert md_escape("Printer  offline\n#2") == "Printer offline \\#2"
    assert md_escape(None) == ""
    assert md_escape("x" * 20, limit=5) == "xxxx…"


def test_md_label_drops_only_the_backslashes_that_protect_nothing_in_a_label():
    assert md_label("Port (1-65535)") == "Port (1-65535)"
    assert md_label("[click](http://x)") .startswith("\\[click\\]")


def test_html_escape_makes_tags_text_for_plotly():
    assert html_escape('<a href="x">y</a> & <b>') == '&lt;a href="x"&gt;y&lt;/a&gt; &amp; &lt;b&gt;'
    assert html_escape("a" * 10, limit=4) == "aaa…"
