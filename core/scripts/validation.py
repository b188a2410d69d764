"""Checking one parameter value against its type and pattern, before it is ever quoted.

Public API::

    validate_value(parameter, value) -> (text or None, message or None)
    MAX_LENGTH

A value is text (integers may arrive as ``int``). Every type refuses control characters
(NUL, newlines, tabs, escapes, and the Unicode line and paragraph separators): no MSP task here
needs them, and it keeps every rendered literal on one line. Types that name things
(hostname, username, email, integer, port) accept only a strict pattern, so a hostile value
is turned away before quoting even matters; ``string`` and ``path`` accept any printable text,
which the quoting makes inert. Values that a command could read as an option (a leading
``-``) are refused for hostname, username, email and path. A template's own ``pattern`` (a full
match) and ``min``/``max`` apply on top.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any

MAX_LENGTH = {"string": 1000, "path": 1000, "hostname": 253, "username": 104, "email": 254,
              "choice": 200, "integer": 19, "port": 5}

LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"{LABEL}(?:\.{LABEL})*\.?")
# sAMAccountName, UPN-less Linux and macOS logins, optionally DOMAIN\user.
USERNAME = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9-]{0,14}\\)?[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
EMAIL = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._%+-]{{0,63}}@{LABEL}(?:\.{LABEL})+")
INTEGER = re.compile(r"-?[0-9]{1,18}")

EXPECTED = {
    "hostname": "a host name (letters, digits, hyphens and dots) or an IP address",
    "username": "a user name: letters, digits, '.', '_' and '-', optionally DOMAIN\\user",
    "email": "an email address such as jane.doe@example.com",
    "integer": "a whole number",
    "port": "a port number from 1 to 65535",
}


def validate_value(parameter: Any, value: Any) -> tuple[str | None, str | None]:
    """The value as canonical text, or an error message for the engineer."""
    kind = parameter.type
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, "must be text"
    text = str(value) if isinstance(value, int) else value
    if kind in ("integer", "port", "hostname", "username", "email"):
        text = text.strip()
    bad = next((c for c in text if _is_control(c)), None)
    if bad is not None:
        name = "NUL" if bad == "\x00" else f"U+{ord(bad):04X}"
        return None, f"must not contain control characters (found {name}; newlines and tabs are not allowed)"
    limit = MAX_LENGTH[kind]
    if len(text) > limit:
        return None, f"is {len(text)} characters long; at most {limit}"
    error = _type_error(kind, text, parameter)
    if error:
        return None, error
    if kind in ("integer", "port"):
        text = str(int(text))
    if parameter.pattern and not re.fullmatch(parameter.pattern, text):
        hint = f" ({parameter.help})" if parameter.help else ""
        return None, f"does not match the required pattern {parameter.pattern}{hint}"
    return text, None


def _is_control(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Zl", "Zp")


def _type_error(kind: str, text: str, parameter: Any) -> str | None:
    if kind in ("hostname", "username", "email", "path") and text.startswith("-"):
        return "must not start with '-' (a command could read it as an option)"
    if kind == "hostname":
        if HOSTNAME.fullmatch(text) or _is_ip(text):
            return None
        return f"must be {EXPECTED[kind]}"
    if kind in ("username", "email"):
        pattern = USERNAME if kind == "username" else EMAIL
        return None if pattern.fullmatch(text) else f"must be {EXPECTED[kind]}"
    if kind in ("integer", "port"):
        if not INTEGER.fullmatch(text):
            return f"must be {EXPECTED[kind]}"
        number = int(text)
        low, high = (1, 65535) if kind == "port" else (None, None)
        low = parameter.min if parameter.min is not None else low
        high = parameter.max if parameter.max is not None else high
        if (low is not None and number < low) or (high is not None and number > high):
            if kind == "port":
                return f"must be {EXPECTED[kind]}" if (low, high) == (1, 65535) else f"must be a port from {low} to {high}"
            bounds = f"from {low} to {high}" if low is not None and high is not None else (
                f"at least {low}" if low is not None else f"at most {high}")
            return f"must be a whole number {bounds}"
        return None
    if kind == "choice":
        return None if text in parameter.choices else f"must be one of: {', '.join(parameter.choices)}"
    return None


def _is_ip(text: str) -> bool:
    if "%" in text:  # an IPv6 scope id may hold any text; no task here needs one
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
