"""Quoting parameter values for the target shell, so that no value can inject a command.

Public API::

    quote(value: str, language: str) -> str       # "powershell" or "bash"
    quote_powershell(value: str) -> str
    quote_bash(value: str) -> str

Every value becomes one single-quoted string literal, quotes included, so a template's body
holds a bare ``{{param}}`` where a literal belongs and its author never writes quotes:

* **PowerShell**: ``'...'``. Inside single quotes PowerShell expands nothing (no ``$``, no
  backtick escapes, no subexpressions); the only special characters are the single quotes
  themselves, and PowerShell treats five characters as one: ``'`` (U+0027), ``‘`` (U+2018),
  ``’`` (U+2019), ``‚`` (U+201A) and ``‛`` (U+201B). Each is doubled *as itself*, exactly as
  PowerShell's own ``CodeGeneration.EscapeSingleQuotedStringContent`` does, so the value
  reads back unchanged and can never close the string.
* **Bash**: ``'...'``. Inside single quotes bash expands nothing at all, and a single quote
  cannot be escaped there, so each ``'`` becomes ``'"'"'`` (close, a double-quoted quote,
  reopen): the shell glues the pieces into one word.

NUL cannot be carried by either shell (bash truncates at it, Windows APIs end strings at it),
so quoting refuses it with ``ValueError``; ``core.scripts.render`` rejects it (and every other
control character) before quoting, with a message for the engineer.
"""

from __future__ import annotations

# The characters PowerShell's tokenizer accepts as a single quote (CharExtensions.IsSingleQuote).
POWERSHELL_SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
LANGUAGES = ("powershell", "bash")


def _refuse_nul(value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"only text can be quoted, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("a NUL character cannot be passed to a shell")


def quote_powershell(value: str) -> str:
    """``value`` as one PowerShell single-quoted string literal."""
    _refuse_nul(value)
    return "'" + "".join(c + c if c in POWERSHELL_SINGLE_QUOTES else c for c in value) + "'"


def quote_bash(value: str) -> str:
    """``value`` as one bash word, single-quoted (always, even when it needs no quoting)."""
    _refuse_nul(value)
    return "'" + value.replace("'", "'\"'\"'") + "'"


def quote(value: str, language: str) -> str:
    if language == "powershell":
        return quote_powershell(value)
    if language == "bash":
        return quote_bash(value)
    raise ValueError(f"unknown script language {language!r}; expected one of {', '.join(LANGUAGES)}")
