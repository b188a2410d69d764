"""A malformed template is reported (file, template id, field, message) and left out, never raised."""

from __future__ import annotations

import textwrap

import pytest

from core.scripts import load_library

GOOD = """\
id: {id}
title: Show a host's addresses
language: bash
domain: networking
risk: read_only
explanation: Read-only. Looks the host up in DNS.
parameters:
  - name: host
    label: Host
    type: hostname
body: |
  HOST={{{{host}}}}
  getent hosts "$HOST"
"""


def load(tmp_path, text: str, name: str = "custom.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    library = load_library(extra_dir=tmp_path)
    custom = [p for p in library.problems if str(tmp_path) in p.file]
    return library, custom


def test_a_well_formed_admin_template_has_no_problems(tmp_path):
    library, problems = load(tmp_path, GOOD.format(id="host-addresses"))
    assert problems == []
    assert library.get("host-addresses").parameters[0].type == "hostname"


def test_bad_yaml_is_reported_with_the_file(tmp_path):
    library, problems = load(tmp_path, "id: [unclosed\ntitle: x\n")
    assert len(problems) == 1
    assert problems[0].file.endswith("custom.yaml") and "not valid YAML" in problems[0].message
    assert len(library.templates) >= 30  # the rest of the library still loads


def test_a_file_that_is_not_a_mapping_is_reported(tmp_path):
    _, problems = load(tmp_path, "- just\n- a list\n")
    assert "expected a template" in problems[0].message


def test_an_undecodable_file_is_reported(tmp_path):
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    library = load_library(extra_dir=tmp_path)
    assert any("cannot read the file" in p.message for p in library.problems)


def test_a_missing_extra_folder_is_reported(tmp_path):
    library = load_library(extra_dir=tmp_path / "nope")
    assert any("does not exist" in p.message for p in library.problems)
    assert len(library.templates) >= 30


@pytest.mark.parametrize("field", ["id", "title", "language", "domain", "risk", "explanation", "body"])
def test_a_missing_required_field_is_reported_with_its_name(tmp_path, field):
    lines = [line for line in GOOD.format(id="t-missing").splitlines(keepends=True)
             if not line.startswith(f"{field}:")]
    text = "".join(lines)
    if field == "body":
        text = text.replace('  HOST={{host}}\n  getent hosts "$HOST"\n', "")
    library, problems = load(tmp_path, text)
    assert any(p.field == field and "required" in p.message for p in problems), problems
    with pytest.raises(KeyError):
        library.get("t-missing")


@pytest.mark.parametrize("field, old, new, message", [
    ("risk", "risk: read_only", "risk: dangerous", "unknown risk 'dangerous'"),
    ("language", "language: bash", "language: python", "unknown language 'python'"),
    ("parameters[0].type", "type: hostname", "type: ipv4", "unknown type 'ipv4'"),
    ("id", "id: t-bad", "id: Bad_Id!", "lower-case letters"),
    ("paramters", "parameters:", "paramters:", "unknown field"),
])
def test_an_unknown_value_or_field_is_reported(tmp_path, field, old, new, message):
    _, problems = load(tmp_path, GOOD.format(id="t-bad").replace(old, new))
    assert any(p.field == field and message in p.message for p in problems), problems


def test_a_placeholder_without_a_parameter_is_reported(tmp_path):
    text = GOOD.format(id="t-orphan").replace('getent hosts "$HOST"', 'PORT={{port}}\n  getent hosts "$HOST"')
    _, problems = load(tmp_path, text)
    assert [(p.template_id, p.field) for p in problems] == [("t-orphan", "body")]
    assert "{{port}} has no parameter" in problems[0].message


def test_a_parameter_never_used_in_the_body_is_reported(tmp_path):
    text = GOOD.format(id="t-unused").replace("  HOST={{host}}\n", "  HOST=localhost\n")
    _, problems = load(tmp_path, text)
    assert [(p.field, p.message) for p in problems] == [("parameters[0]", "parameter 'host' is never used in the body")]


def test_an_invalid_pattern_regex_is_reported(tmp_path):
    text = GOOD.format(id="t-regex").replace("    type: hostname\n", "    type: hostname\n    pattern: '[a-z'\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "parameters[0].pattern" and "invalid regular expression" in p.message for p in problems)


def test_a_default_that_fails_its_own_check_is_reported(tmp_path):
    text = GOOD.format(id="t-default").replace("    type: hostname\n", "    type: hostname\n    default: 'bad host; reboot'\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "parameters[0].default" for p in problems), problems


def test_a_choice_parameter_without_choices_is_reported(tmp_path):
    text = GOOD.format(id="t-choice").replace("    type: hostname\n", "    type: choice\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "parameters[0].choices" for p in problems), problems


def test_a_duplicate_id_is_reported_and_the_first_one_wins(tmp_path):
    library, problems = load(tmp_path, GOOD.format(id="clear-print-queue"))
    assert [(p.template_id, p.field) for p in problems] == [("clear-print-queue", "id")]
    assert "duplicate id" in problems[0].message
    assert library.get("clear-print-queue").language == "powershell"  # the shipped one


def test_duplicate_ids_within_one_file_are_reported(tmp_path):
    one = textwrap.indent(GOOD.format(id="t-twice"), "    ").replace("    id:", "  - id:", 1)
    _, problems = load(tmp_path, "templates:\n" + one + one)
    assert [p.message.split(":")[0] for p in problems] == ["duplicate id"]


def test_one_bad_template_in_a_file_leaves_the_others_loaded(tmp_path):
    good = textwrap.indent(GOOD.format(id="t-good"), "    ").replace("    id:", "  - id:", 1)
    bad = textwrap.indent(GOOD.format(id="t-broken").replace("risk: read_only", "risk: 7"), "    ").replace("    id:", "  - id:", 1)
    library, problems = load(tmp_path, "templates:\n" + bad + good)
    assert library.get("t-good")
    assert [(p.template_id, p.field) for p in problems] == [("t-broken", "risk")]


@pytest.mark.parametrize("body, reason", [
    ('echo "host {{host}}"', "double-quoted string"),
    ("echo '{{host}}'", "single-quoted string"),
    ("echo ok # {{host}}", "a comment"),
    ("cat <<EOF\n{{host}}\nEOF", "here-document"),
    ("cat /home/{{host}}/x", "glued"),
    ("echo `{{host}}`", "backtick"),
])
def test_a_placeholder_in_an_unsafe_bash_position_is_reported(tmp_path, body, reason):
    text = GOOD.format(id="t-unsafe").replace('  HOST={{host}}\n  getent hosts "$HOST"\n',
                                              textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "body" and reason in p.message for p in problems), problems


@pytest.mark.parametrize("body, reason", [
    ('Write-Host "Unlocking {{host}}"', "double-quoted string"),
    ("Write-Host \u201cUnlocking {{host}}\u201d", "double-quoted string"),
    ("Write-Host '{{host}}'", "single-quoted string"),
    ("Write-Host \u2018{{host}}\u2019", "single-quoted string"),
    ("Get-Item # {{host}}", "a comment"),
    ("<# note\n{{host}} #>", "<# #> comment"),
    ("$x = @\"\n{{host}}\n\"@", "here-string"),
    ("$x = @'\n{{host}}\n'@", "here-string"),
    ("Get-Item C:\\Users\\{{host}}", "glued"),
])
def test_a_placeholder_in_an_unsafe_powershell_position_is_reported(tmp_path, body, reason):
    text = GOOD.format(id="t-unsafe").replace("language: bash", "language: powershell").replace(
        '  HOST={{host}}\n  getent hosts "$HOST"\n', textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "body" and reason in p.message for p in problems), problems


@pytest.mark.parametrize("language, body", [
    ("bash", 'echo "a # b" \'{{x\'\nHOST={{host}}\ncat <<EOF\n$HOST\nEOF\nping -c 1 -- {{host}}'),
    ("powershell", "$a = 'it''s'; $b = \"`\"q\"\n$Host1 = {{host}}\n$x = @'\nliteral\n'@\nTest-Connection -ComputerName {{host}}"),
])
def test_placeholders_in_code_after_strings_and_here_docs_are_accepted(tmp_path, language, body):
    body = body.replace("'{{x'", "'{x'")
    text = GOOD.format(id="t-safe").replace("language: bash", f"language: {language}").replace(
        '  HOST={{host}}\n  getent hosts "$HOST"\n', textwrap.indent(body, "  ") + "\n")
    library, problems = load(tmp_path, text)
    assert problems == []
    assert library.get("t-safe")


def test_a_malformed_placeholder_is_reported(tmp_path):
    text = GOOD.format(id="t-malformed").replace('getent hosts "$HOST"', "echo {{ bad-name }}")
    _, problems = load(tmp_path, text)
    assert any("is not a placeholder" in p.message for p in problems), problems


@pytest.mark.parametrize("language, body, message", [
    ("bash", "echo 'unterminated", "ends inside a single-quoted string"),
    ("bash", 'echo "unterminated', "ends inside a double-quoted string"),
    ("bash", "cat <<EOF\nno end", "ends inside a here-document"),
    ("powershell", "Get-Service | Where-Object { $_.Status", "'{' on line 2 is never closed"),
    ("powershell", "Get-Service)", "unbalanced ')' on line 2"),
    ("powershell", "$x = @'\nno end", "ends inside a here-string"),
    ("powershell", "<# no end", "ends inside a <# #> comment"),
])
def test_a_body_left_inside_a_string_or_with_open_brackets_is_reported(tmp_path, language, body, message):
    text = GOOD.format(id="t-open").replace("language: bash", f"language: {language}").replace(
        '  getent hosts "$HOST"\n', textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "body" and message in p.message for p in problems), problems


def test_a_body_ending_in_a_comment_is_fine(tmp_path):
    _, problems = load(tmp_path, GOOD.format(id="t-comment").replace('getent hosts "$HOST"', 'getent hosts "$HOST" # done'))
    assert problems == []


@pytest.mark.parametrize("language, body", [
    ("bash", "echo \\{{host}}"),
    ("powershell", "Write-Output `{{host}}"),
])
def test_a_placeholder_behind_an_escape_character_is_reported(tmp_path, language, body):
    text = GOOD.format(id="t-escaped").replace("language: bash", f"language: {language}").replace(
        '  HOST={{host}}\n  getent hosts "$HOST"\n', textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "body" and "{{host}}" in p.message for p in problems), problems


@pytest.mark.parametrize("body, reason", [
    ("echo $(( {{host}} + 1 ))", "arithmetic"),
    ("(( {{host}} > 1 )) && echo big", "arithmetic"),
    ("[[ {{host}} -eq 1 ]] && echo one", "[[ ]] test"),
])
def test_a_placeholder_in_bash_arithmetic_is_reported(tmp_path, body, reason):
    # bash runs $(...) from array subscripts there, even in a single-quoted operand:
    # (( 'a[$(touch x)]' )) creates x.
    text = GOOD.format(id="t-arith").replace('  HOST={{host}}\n  getent hosts "$HOST"\n',
                                             textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert any(p.field == "body" and reason in p.message for p in problems), problems


def test_bash_arithmetic_with_nested_parentheses_returns_to_code(tmp_path):
    body = 'N=$(( (2 + 3) * 4 ))\n[[ -n "$N" ]] && HOST={{host}}\ngetent hosts "$HOST"'
    text = GOOD.format(id="t-nested").replace('  HOST={{host}}\n  getent hosts "$HOST"\n',
                                              textwrap.indent(body, "  ") + "\n")
    _, problems = load(tmp_path, text)
    assert problems == []
