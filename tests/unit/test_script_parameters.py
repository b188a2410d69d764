"""Each parameter value is checked by type and pattern, with a clear message per parameter."""

from __future__ import annotations

import pytest

from core.scripts import Parameter, ParameterError, Template, render


def template(*parameters: Parameter, language: str = "bash") -> Template:
    body = "\n".join(f"V_{p.name}={{{{{p.name}}}}}" for p in parameters) + "\n"
    return Template(id="t-params", title="Params", language=language, domain="server",
                    risk="read_only", explanation="Read-only.", body=body, parameters=parameters)


def error_for(parameter: Parameter, value) -> str | None:
    try:
        render(template(parameter), {parameter.name: value})
    except ParameterError as error:
        return error.errors[parameter.name]
    return None


@pytest.mark.parametrize("value", ["srv01", "srv01.contoso.local", "mail.example.com.", "192.168.1.50",
                                   "fe80::1", "2001:db8::8a2e:370:7334", "a-b.c-d.example"])
def test_a_hostname_accepts_names_and_ip_addresses(value):
    assert error_for(Parameter("host", "Host", "hostname"), value) is None


@pytest.mark.parametrize("value", ["srv01; reboot", "-oProxyCommand=calc", "a b", "srv_01", "$(id)",
                                   "host`whoami`", "x" * 64 + ".example.com", "bad..dots", "-srv01",
                                   "fe80::1%$(touch pwned)", "1.2.3.4 5"])
def test_a_hostname_refuses_anything_else(value):
    assert error_for(Parameter("host", "Host", "hostname"), value) is not None


@pytest.mark.parametrize("value", ["jdoe", "j.doe", "svc_backup", "CONTOSO\\jdoe", "john-smith"])
def test_a_username_accepts_account_names(value):
    assert error_for(Parameter("user", "User", "username"), value) is None


@pytest.mark.parametrize("value", ["j doe", "jdoe'; calc", "-jdoe", "jdoe$", "a@b", "jdoe\\x\\y", ""])
def test_a_username_refuses_anything_else(value):
    assert error_for(Parameter("user", "User", "username"), value) is not None


def test_a_blank_required_value_is_reported_as_required():
    assert error_for(Parameter("user", "User", "username"), "   ") == "is required"


@pytest.mark.parametrize("value, ok", [("jane.doe@example.com", True), ("a+tag@sub.example.co.uk", True),
                                       ("jane@localhost", False), ("jane doe@example.com", False),
                                       ("-x@example.com", False), ("a'b@example.com", False)])
def test_an_email_must_be_a_plain_address(value, ok):
    assert (error_for(Parameter("mail", "Mail", "email"), value) is None) is ok


@pytest.mark.parametrize("value, ok", [("7", True), (7, True), ("007", True), ("0", False), ("31", False),
                                       ("1e3", False), ("7; reboot", False), ("", False), (True, False)])
def test_an_integer_is_digits_within_its_bounds(value, ok):
    parameter = Parameter("days", "Days", "integer", min=1, max=30)
    assert (error_for(parameter, value) is None) is ok


def test_an_integer_is_rendered_bare_and_canonical():
    assert "V_days=7\n" in render(template(Parameter("days", "Days", "integer")), {"days": "007"}).body


@pytest.mark.parametrize("value, ok", [("443", True), (65535, True), ("0", False), ("65536", False),
                                       ("-1", False), ("44 3", False), ("https", False)])
def test_a_port_is_a_number_from_1_to_65535(value, ok):
    assert (error_for(Parameter("port", "Port", "port"), value) is None) is ok


def test_a_port_message_says_the_range():
    assert error_for(Parameter("port", "Port", "port"), "70000") == "must be a port number from 1 to 65535"


@pytest.mark.parametrize("value, ok", [("/var/backups", True), ("C:\\Program Files\\App", True),
                                       ("\\\\nas01\\backups", True), ("-rf", False), ("/tmp/a\nb", False)])
def test_a_path_is_any_one_line_text_not_starting_with_a_dash(value, ok):
    assert (error_for(Parameter("path", "Path", "path"), value) is None) is ok


def test_a_choice_must_be_one_of_its_choices():
    parameter = Parameter("scan", "Scan", "choice", choices=("QuickScan", "FullScan"))
    assert error_for(parameter, "FullScan") is None
    assert error_for(parameter, "quickscan") == "must be one of: QuickScan, FullScan"


def test_a_pattern_must_match_the_whole_value():
    parameter = Parameter("unit", "Unit", "string", pattern="[a-z]+", help="lower-case letters")
    assert error_for(parameter, "nginx") is None
    message = error_for(parameter, "nginx; reboot")
    assert "does not match the required pattern [a-z]+" in message and "lower-case letters" in message


def test_a_string_over_the_length_limit_is_refused():
    assert error_for(Parameter("s", "S", "string"), "a" * 1001) == "is 1001 characters long; at most 1000"


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\u2028", "\u0085", "\x7f"])
def test_control_characters_are_refused_in_every_type(char):
    for kind in ("string", "path", "hostname", "username"):
        message = error_for(Parameter("v", "V", kind), f"a{char}b")
        assert message and "control characters" in message, (kind, repr(char))


def test_every_bad_value_is_reported_at_once_by_parameter_name():
    parameters = (Parameter("host", "Host", "hostname"), Parameter("port", "Port", "port"),
                  Parameter("user", "User", "username"))
    with pytest.raises(ParameterError) as raised:
        render(template(*parameters), {"host": "bad host", "port": "0", "user": "jdoe", "extra": "x"})
    assert set(raised.value.errors) == {"host", "port", "extra"}
    assert "Host: must be a host name" in str(raised.value)


def test_a_blank_value_takes_the_default_and_an_optional_one_becomes_empty():
    parameters = (Parameter("port", "Port", "port", default=9100), Parameter("note", "Note", "string", required=False))
    body = render(template(*parameters), {"port": ""}).body
    assert "V_port=9100\n" in body and "V_note=''\n" in body
