"""What no column can hold, whatever the schema says: the checks every imported or edited value
passes before any validator or database driver sees it.

A JSON Schema cannot say "no NUL character" in every string, and the drivers and validators
fail on such values with tracebacks of their own (PostgreSQL refuses NUL in text and JSONB,
UTF-8 has no lone surrogates, the schema validator's conversion stops at 255 levels of nesting).
One walk, without recursion, finds the first such value and names its field.
"""

from __future__ import annotations

import math
from typing import Any

# Far deeper than any record or tree of the contract (a tree's option label sits 5 levels down),
# far shallower than the limits of the validator (255) and of Python's recursion.
MAX_DEPTH = 64

# Cheap tests on a raw JSON line that rule a walk out: a NUL can only arrive escaped (JSON forbids
# raw control characters in strings), and nesting needs a bracket or brace per level.
_NUL_ESCAPE = b"\\u0000"
_BRACKETS_BEFORE_WALK = MAX_DEPTH


def needs_walk(raw: bytes) -> bool:
    """False when ``raw``, a JSON text, certainly holds no NUL and no deep nesting."""
    return _NUL_ESCAPE in raw or raw.count(b"[") + raw.count(b"{") >= _BRACKETS_BEFORE_WALK


def unstorable(value: Any, prefix: str = "") -> tuple[str, str] | None:
    """(field, message) of the first value that cannot be stored, or None.

    Fields are written as the import names them: ``steps[2].response``, ``tree.nodes.q1.text``.
    """
    stack: list[tuple[Any, str, int]] = [(value, prefix, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return path, problem
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                # The path down is as deep as the nesting: name where it starts.
                shown = path if len(path) <= 60 else path[:60] + "…"
                return shown, f"nested more than {MAX_DEPTH} levels deep"
            # Pushed in reverse, so the first problem found is the first in the record.
            if isinstance(item, dict):
                for key, child in reversed(item.items()):
                    if isinstance(key, str):
                        problem = _text_problem(key)
                        if problem:
                            return path, f"a key {problem}"
                    name = str(key)
                    stack.append((child, f"{path}.{name}" if path else name, depth + 1))
            else:
                for index in range(len(item) - 1, -1, -1):
                    child = item[index]
                    stack.append((child, f"{path}[{index}]", depth + 1))
        elif isinstance(item, float) and not math.isfinite(item):
            return path, "not a finite number"
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid Unicode"
    return None


def findable(text: str) -> bool:
    """Whether a stored value could equal ``text``: a lookup by anything else finds nothing (and
    would fail in the database driver, which refuses a NUL even as a query parameter)."""
    return _text_problem(text) is None
