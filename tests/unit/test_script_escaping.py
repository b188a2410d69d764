"""No parameter value can inject a command: each arrives as one literal, in bash and PowerShell.

Bash is proven for real: the rendered script runs in bash and must print the value back as
exactly one argument, without creating a sentinel file that the payloads try to touch.
PowerShell (pwsh is not installed here) is proven at the token level: a reader that follows
PowerShell's single-quoted string rules must read the literal back, unchanged, ending exactly
where the placeholder ended.
"""

from __future__ import annotations

import subprocess

import pytest

from core.scripts import Parameter, ParameterError, Template, quote_bash, quote_powershell, render
from core.scripts.escaping import POWERSHELL_SINGLE_QUOTES

SENTINEL = "pwned"

# Values a string parameter accepts (one line, no control characters) that try to break out.
HOSTILE = [
    "'; Remove-Item C:\\ -Recurse #",
    f"$(touch {SENTINEL})",
    f"`touch {SENTINEL}`",
    f'"; touch {SENTINEL}; "',
    f"'; touch {SENTINEL}; '",
    f"'\"'\"'; touch {SENTINEL}; #",
    "\u2018; touch pwned; \u2019",
    "\u2019\u2019\u201a\u201b'",
    "$env:X ${IFS} $HOME ~ * ? [a] {a,b}",
    "$'\\x41' \\ \\\\ !! !$",
    "' | Out-File C:\\pwned.txt #",
    "@' here '@ \"@ ` `$(x)",
    "-rf --no-preserve-root",
    "",
    "a" * 1000,
]


def string_template(language: str) -> Template:
    if language == "bash":
        body = "V={{v}}\nprintf '<%s>' \"$V\"\nprintf '[%s]' {{v}}\n"
    else:
        body = "$V = {{v}}\nWrite-Output {{v}}\n"
    return Template(id="t-echo", title="Echo", language=language, domain="server", risk="read_only",
                    explanation="Read-only.", body=body,
                    parameters=(Parameter("v", "Value", "string", required=False),))


def run_bash(script: str, cwd) -> str:
    path = cwd / "script.sh"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(["bash", str(path)], cwd=cwd, capture_output=True, timeout=20,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "IFS": " "})
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")  # bytes: no newline translation of a \r in the value


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_reaches_bash_as_one_literal_argument(tmp_path, value):
    rendered = render(string_template("bash"), {"v": value})
    assert subprocess.run(["bash", "-n"], input=rendered.body, text=True).returncode == 0
    expected_value = value  # an empty value is an empty argument, still exactly one
    assert run_bash(rendered.body, tmp_path) == f"<{expected_value}>[{expected_value}]"
    assert not (tmp_path / SENTINEL).exists()


@pytest.mark.parametrize("value", [
    f"line one\ntouch {SENTINEL}", f"a\rtouch {SENTINEL}", "tab\there", "x" * 100_000,
    f"'\n touch {SENTINEL} \n'", "\u2028\u0085",
])
def test_bash_quoting_holds_even_for_values_validation_refuses(tmp_path, value):
    script = f"printf '[%s]' {quote_bash(value)}\n"
    assert run_bash(script, tmp_path) == f"[{value}]"
    assert not (tmp_path / SENTINEL).exists()


def read_powershell_single_quoted(text: str, start: int) -> tuple[str, int]:
    """PowerShell's rule: a single-quoted string opens with any of the five single quotes and
    closes at the first single quote not followed by another; a doubled one is one character."""
    assert text[start] in POWERSHELL_SINGLE_QUOTES, text[start:start + 20]
    out, i = [], start + 1
    while i < len(text):
        c = text[i]
        if c in POWERSHELL_SINGLE_QUOTES:
            if i + 1 < len(text) and text[i + 1] in POWERSHELL_SINGLE_QUOTES:
                out.append(c)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise AssertionError("the string never closes")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_reaches_powershell_as_one_single_quoted_literal(value):
    body = render(string_template("powershell"), {"v": value}).body
    for prefix in ("$V = ", "Write-Output "):
        start = body.index(prefix) + len(prefix)
        decoded, end = read_powershell_single_quoted(body, start)
        assert decoded == value
        assert body[end] == "\n"  # the literal ends exactly where the placeholder did


@pytest.mark.parametrize("quote_char", sorted(POWERSHELL_SINGLE_QUOTES))
def test_every_powershell_single_quote_character_is_doubled_as_itself(quote_char):
    assert quote_powershell(f"a{quote_char}b") == f"'a{quote_char}{quote_char}b'"


def test_powershell_quoting_leaves_dollar_backtick_and_double_quotes_alone():
    # Inside single quotes PowerShell expands none of these, so they stay as typed.
    assert quote_powershell('$env:X $(calc) `n "x"') == "'$env:X $(calc) `n \"x\"'"


def test_bash_quoting_always_quotes_and_splices_single_quotes():
    assert quote_bash("abc") == "'abc'"
    assert quote_bash("") == "''"
    assert quote_bash("it's") == "'it'\"'\"'s'"


@pytest.mark.parametrize("quote", [quote_bash, quote_powershell])
def test_a_nul_character_cannot_be_quoted(quote):
    with pytest.raises(ValueError, match="NUL"):
        quote("a\x00b")


@pytest.mark.parametrize("language", ["bash", "powershell"])
@pytest.mark.parametrize("value", ["a\x00b", "a\nRemove-Item C:\\ -Recurse", "a\rcalc", "a" * 1001])
def test_render_refuses_nul_newlines_and_overlong_values_with_a_message(language, value):
    with pytest.raises(ParameterError) as raised:
        render(string_template(language), {"v": value})
    assert set(raised.value.errors) == {"v"}


@pytest.mark.parametrize("kind, value", [
    ("hostname", "srv01; Remove-Item C:\\ -Recurse"), ("hostname", "$(touch pwned)"),
    ("username", "jdoe`calc`"), ("username", "jdoe' -or 1 -eq 1 #"), ("port", "443; calc"),
    ("integer", "1 + $(calc)"), ("email", "a@b.com\"; calc; \""), ("hostname", "${IFS}srv"),
])
def test_strict_types_turn_hostile_values_away_before_quoting(kind, value):
    template = Template(id="t-strict", title="Strict", language="powershell", domain="server",
                        risk="read_only", explanation="Read-only.", body="$V = {{v}}\n",
                        parameters=(Parameter("v", "Value", kind),))
    with pytest.raises(ParameterError):
        render(template, {"v": value})


def test_a_shipped_template_renders_a_hostile_pattern_free_value_inertly(tmp_path):
    from core.scripts import load_library

    template = load_library(extra_dir="").get("backup-freshness-check")
    value = f"/mnt/$(touch {SENTINEL})/`touch {SENTINEL}`/'x'"
    body = render(template, {"path": value}).body
    assert "BACKUP_DIR='/mnt/$(touch pwned)/`touch pwned`/'\"'\"'x'\"'\"''" in body
    result = subprocess.run(["bash", "-c", body], cwd=tmp_path, capture_output=True, text=True, timeout=20)
    assert "is not a directory" in result.stderr
    assert not (tmp_path / SENTINEL).exists()
