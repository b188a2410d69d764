"""Where ``{{param}}`` placeholders sit in a template body, and whether each sits safely.

Public API::

    find_placeholders(body) -> list[Placeholder]        # every {{...}}, in order
    placeholder_problems(body, language) -> list[str]   # one message per unsafe placeholder
    structure_problems(body, language) -> list[str]     # a string left open, unbalanced brackets

A rendered value arrives as a complete single-quoted literal (see ``core.scripts.escaping``).
That is only safe where the shell reads a plain word: in code, not inside a string, a
comment, a here-document or a here-string, where the quotes would be text and ``$(...)``
in the value could run; nor inside bash's ``(( ))``, ``$(( ))`` and ``[[ ]]``, which evaluate
a quoted operand as arithmetic, ``$(...)`` in array subscripts included. So each placeholder must stand alone as a token in code context:
preceded by the start of a line, whitespace, or one of ``( , = ; | & { [``, and followed by the
end of a line, whitespace, or one of ``) , ; | & } ]``. The scan is a small tokenizer per
shell; it is deliberately strict (a placeholder it cannot place is reported, never guessed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
GOOD_INNER = re.compile(rf"\s*({NAME})\s*")
BEFORE_OK = set(" \t\n(,=;|&{[")
AFTER_OK = set(" \t\r\n),;|&}]")

PS_SINGLE = set("'\u2018\u2019\u201a\u201b")
PS_DOUBLE = set('"\u201c\u201d\u201e')


@dataclass(frozen=True)
class Placeholder:
    start: int
    end: int
    name: str | None  # None when the text between the braces is not a parameter name
    raw: str


def find_placeholders(body: str) -> list[Placeholder]:
    found = []
    for match in ANY_PLACEHOLDER.finditer(body):
        good = GOOD_INNER.fullmatch(match.group(1))
        found.append(Placeholder(match.start(), match.end(), good.group(1) if good else None, match.group(0)))
    return found


def placeholder_problems(body: str, language: str) -> list[str]:
    placeholders = find_placeholders(body)
    problems = [f"{p.raw!r} is not a placeholder: use {{{{name}}}} with a parameter name"
                for p in placeholders if p.name is None]
    good = [p for p in placeholders if p.name is not None]
    contexts = _contexts(body, good, language)
    for placeholder in good:
        # A placeholder the scan stepped over (after a \\ or ` escape) was never seen in code.
        context = contexts.get(placeholder.start, "an escape sequence")
        if context != "code":
            problems.append(
                f"{placeholder.raw} sits inside {context}; a placeholder must stand as a bare word in "
                "code (the value arrives already quoted) — assign it to a variable and use that")
            continue
        before = body[placeholder.start - 1] if placeholder.start else "\n"
        after = body[placeholder.end] if placeholder.end < len(body) else "\n"
        if before not in BEFORE_OK or after not in AFTER_OK:
            problems.append(
                f"{placeholder.raw} is glued to other text ({before!r} before, {after!r} after); "
                "a placeholder must be a token of its own — assign it to a variable and use that")
    return problems


def structure_problems(body: str, language: str) -> list[str]:
    """What the same tokenizer can tell about the body as a whole: it must not end inside a
    string, comment or here-document, and (PowerShell) its brackets must balance in code."""
    scan = _scan_powershell if language == "powershell" else _scan_bash
    _, end_state, bracket_problem = scan(body, {})
    problems = []
    if end_state not in ("code", "comment"):  # a last line's comment ends with the body
        problems.append(f"the body ends inside {STATE_NAMES.get(end_state, end_state)}: a quote or terminator is missing")
    if bracket_problem:
        problems.append(bracket_problem)
    return problems


STATE_NAMES = {"single": "a single-quoted string", "double": "a double-quoted string",
               "ansi": "a $'...' string", "backtick": "a backtick substitution", "comment": "a comment",
               "block": "a <# #> comment", "here_single": "a here-string", "here_double": "a here-string",
               "heredoc": "a here-document", "arith": "an arithmetic expression (( ))",
               "test": "a [[ ]] test (bash evaluates its operands as arithmetic)"}
CLOSING = {"(": ")", "{": "}", "[": "]"}


def _contexts(body: str, placeholders: list[Placeholder], language: str) -> dict[int, str]:
    """Each placeholder's start -> the context the scan met it in."""
    scan = _scan_powershell if language == "powershell" else _scan_bash
    starts = {p.start: p for p in placeholders}
    return scan(body, starts)[0]


def _scan_bash(body: str, starts: dict[int, Placeholder]) -> tuple[dict[int, str], str, str | None]:
    contexts: dict[int, str] = {}
    state, i, n, depth = "code", 0, len(body), 0
    pending_heredocs: list[tuple[str, bool]] = []
    while i < n:
        if i in starts:
            contexts[i] = "code" if state == "code" else STATE_NAMES[state]
            i = starts[i].end
            continue
        c = body[i]
        if state == "code":
            if c == "\\":
                i += 2
                continue
            if c == "'":
                state = "single"
            elif c == '"':
                state = "double"
            elif c == "$" and body.startswith("$'", i):
                state, i = "ansi", i + 1
            elif c == "`":
                state = "backtick"
            elif c == "#" and (i == 0 or body[i - 1] in " \t\n;|&()"):
                state = "comment"
            elif body.startswith("((", i) or body.startswith("[[", i):
                # Bash evaluates arithmetic here (and for [[ -eq ]]), array subscripts and
                # their $(...) included, even in a quoted operand: no placeholder may sit inside.
                state, depth, i = ("arith" if c == "(" else "test"), 0, i + 2
                continue
            elif body.startswith("<<", i) and not body.startswith("<<<", i):
                match = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2").match(body, i)
                if match:
                    pending_heredocs.append((match.group(3), bool(match.group(1))))
                    i = match.end()
                    continue
            elif c == "\n" and pending_heredocs:
                i, closed = _skip_heredocs(body, i + 1, pending_heredocs, starts, contexts)
                pending_heredocs = []
                if not closed:
                    return contexts, "heredoc", None
                continue
        elif state in ("single",) and c == "'":
            state = "code"
        elif state == "arith":
            if c == "(":
                depth += 1
            elif c == ")" and depth:
                depth -= 1
            elif body.startswith("))", i):
                state, i = "code", i + 2
                continue
        elif state == "test" and body.startswith("]]", i):
            state, i = "code", i + 2
            continue
        elif state in ("double", "ansi", "backtick"):
            if c == "\\":
                i += 2
                continue
            if (state, c) in (("double", '"'), ("ansi", "'"), ("backtick", "`")):
                state = "code"
        elif state == "comment" and c == "\n":
            state = "code"
            continue  # let code see the newline (it may start pending here-documents)
        i += 1
    if pending_heredocs:
        return contexts, "heredoc", None
    return contexts, "comment" if state == "comment" else state, None


def _skip_heredocs(body: str, i: int, pending: list[tuple[str, bool]],
                   starts: dict[int, Placeholder], contexts: dict[int, str]) -> tuple[int, bool]:
    """Skip the bodies of the here-documents opened on the line just ended; False if one never ends."""
    for delimiter, strip_tabs in pending:
        closed = False
        while i < len(body):
            end = body.find("\n", i)
            end = len(body) if end == -1 else end
            contexts.update((start, "a here-document") for start in starts if i <= start < end)
            line = body[i:end]
            i = end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                closed = True
                break
        if not closed:
            return i, False
    return i, True


def _scan_powershell(body: str, starts: dict[int, Placeholder]) -> tuple[dict[int, str], str, str | None]:
    contexts: dict[int, str] = {}
    brackets: list[tuple[str, int]] = []
    bracket_problem: str | None = None
    state, i, n = "code", 0, len(body)
    at_line_start = True
    while i < n:
        if i in starts:
            contexts[i] = "code" if state == "code" else STATE_NAMES[state]
            i = starts[i].end
            at_line_start = False
            continue
        c = body[i]
        line_start = at_line_start
        at_line_start = c == "\n"
        if state == "code":
            if c == "`":
                i += 2
                continue
            if body.startswith("<#", i):
                state, i = "block", i + 2
                continue
            if c == "@" and i + 1 < n and (body[i + 1] in PS_SINGLE or body[i + 1] in PS_DOUBLE) \
                    and re.match(r"[ \t]*\r?\n", body[i + 2:]):
                state = "here_single" if body[i + 1] in PS_SINGLE else "here_double"
                i += 2
                continue
            if c in PS_SINGLE:
                state = "single"
            elif c in PS_DOUBLE:
                state = "double"
            elif c == "#" and (i == 0 or body[i - 1] in " \t\n;|&(){}"):
                state = "comment"
            elif c in CLOSING:
                brackets.append((c, i))
            elif c in ")}]" and bracket_problem is None:
                if not brackets or CLOSING[brackets[-1][0]] != c:
                    bracket_problem = f"unbalanced {c!r} on line {body.count(chr(10), 0, i) + 1}"
                else:
                    brackets.pop()
        elif state == "single" and c in PS_SINGLE:
            if i + 1 < n and body[i + 1] in PS_SINGLE:
                i += 2
                continue
            state = "code"
        elif state == "double":
            if c == "`":
                i += 2
                continue
            if c in PS_DOUBLE:
                if i + 1 < n and body[i + 1] in PS_DOUBLE:
                    i += 2
                    continue
                state = "code"
        elif state == "comment" and c == "\n":
            state = "code"
        elif state == "block" and body.startswith("#>", i):
            state, i = "code", i + 2
            continue
        elif state in ("here_single", "here_double") and line_start and i + 1 < n and body[i + 1] == "@" \
                and (c in PS_SINGLE if state == "here_single" else c in PS_DOUBLE):
            state, i = "code", i + 2
            continue
        i += 1
    if brackets and bracket_problem is None:
        opener, at = brackets[-1]
        bracket_problem = f"{opener!r} on line {body.count(chr(10), 0, at) + 1} is never closed"
    return contexts, state, bracket_problem
