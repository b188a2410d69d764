"""The script library: template data files, loaded and checked, never trusted blindly.

Public API::

    load_library(extra_dir=None) -> Library
    Library.templates            # tuple[Template, ...], valid ones only, sorted by id
    Library.problems             # tuple[TemplateProblem, ...]: (file, template_id, field, message)
    Library.get(template_id)     # Template, or KeyError
    Template, Parameter          # frozen dataclasses
    RISKS, PARAMETER_TYPES, LANGUAGES

The shipped templates live in ``core/scripts/library/*.yaml``; admins add their own in the
folder named by the ``script_library_dir`` setting (``load_library`` reads it when
``extra_dir`` is not given). A file holds one template (a mapping) or several
(``templates: [...]``). See ``core/scripts/library/README.md`` for the format.

Loading never raises on a bad file: unreadable files, bad YAML, missing or unknown fields,
unknown risks or types, placeholders without a parameter (or parameters never used), unsafe
placeholder positions, a body left inside a string (or, in PowerShell,
with unbalanced brackets), invalid ``pattern`` regexes, defaults that fail their own checks and
duplicate ids (across both folders: the first one read wins) each become a
``TemplateProblem``, and the template is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.scripts.placeholders import find_placeholders, placeholder_problems, structure_problems
from core.scripts.validation import validate_value

SHIPPED_DIR = Path(__file__).resolve().parent / "library"
LANGUAGES = ("powershell", "bash")
RISKS = ("read_only", "changes_config", "disruptive")
RISK_LABELS = {"read_only": "read-only", "changes_config": "changes configuration",
               "disruptive": "disruptive"}
PARAMETER_TYPES = ("string", "hostname", "username", "email", "integer", "port", "path", "choice")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_BODY = 16_000  # leaves room under the tree node's 20,000 for the header and the values
MAX_FILE_BYTES = 1_000_000

TEMPLATE_KEYS = {"id", "title", "language", "domain", "tags", "risk", "explanation",
                 "parameters", "body"}
REQUIRED_KEYS = ("id", "title", "language", "domain", "risk", "explanation", "body")
PARAMETER_KEYS = {"name", "label", "type", "required", "default", "pattern", "help",
                  "choices", "min", "max"}


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    type: str = "string"
    required: bool = True
    default: str | int | None = None
    pattern: str | None = None
    help: str = ""
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    language: str
    domain: str
    risk: str
    explanation: str
    body: str
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    source: str = ""  # the file it came from

    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]

    @property
    def extension(self) -> str:
        return ".ps1" if self.language == "powershell" else ".sh"


@dataclass(frozen=True)
class TemplateProblem:
    file: str
    template_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f", template {self.template_id}" if self.template_id else "")
        return f"{where}, field {self.field or '(file)'}: {self.message}"


@dataclass(frozen=True)
class Library:
    templates: tuple[Template, ...] = ()
    problems: tuple[TemplateProblem, ...] = ()
    _by_id: dict[str, Template] = field(default_factory=dict, repr=False, compare=False)

    def get(self, template_id: str) -> Template:
        try:
            return self._by_id[template_id]
        except KeyError:
            raise KeyError(f"no script template {template_id!r}") from None

    def __len__(self) -> int:
        return len(self.templates)


def load_library(extra_dir: str | Path | None = None) -> Library:
    """The shipped templates plus those in ``extra_dir`` (default: the setting), checked."""
    if extra_dir is None:
        from core.settings import get_settings
        extra_dir = get_settings().script_library_dir or None
    folders = [SHIPPED_DIR] + ([Path(extra_dir)] if extra_dir else [])
    templates: dict[str, Template] = {}
    problems: list[TemplateProblem] = []
    for folder in folders:
        if not folder.is_dir():
            problems.append(TemplateProblem(str(folder), None, "", "the script library folder does not exist"))
            continue
        for path in sorted(folder.glob("*.y*ml")):
            if path.suffix not in (".yaml", ".yml"):
                continue
            for template in _load_file(path, problems):
                if template.id in templates:
                    problems.append(TemplateProblem(
                        str(path), template.id, "id",
                        f"duplicate id: already defined in {templates[template.id].source}"))
                else:
                    templates[template.id] = template
    ordered = tuple(sorted(templates.values(), key=lambda t: t.id))
    return Library(ordered, tuple(problems), {t.id: t for t in ordered})


def _load_file(path: Path, problems: list[TemplateProblem]) -> list[Template]:
    file = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(TemplateProblem(file, None, "", f"the file is larger than {MAX_FILE_BYTES} bytes"))
            return []
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(TemplateProblem(file, None, "", f"cannot read the file: {error}"))
        return []
    except yaml.YAMLError as error:
        problems.append(TemplateProblem(file, None, "", f"not valid YAML: {' '.join(str(error).split())}"))
        return []
    if isinstance(data, dict) and "templates" in data:
        if set(data) != {"templates"} or not isinstance(data["templates"], list):
            problems.append(TemplateProblem(file, None, "templates", "expected only 'templates:' with a list of templates"))
            return []
        entries = data["templates"]
    elif isinstance(data, dict):
        entries = [data]
    else:
        problems.append(TemplateProblem(file, None, "", "expected a template (a mapping) or 'templates:' with a list"))
        return []
    loaded = []
    for index, entry in enumerate(entries):
        template = _check_template(entry, file, f"templates[{index}]" if len(entries) > 1 or "templates" in data else "", problems)
        if template is not None:
            loaded.append(template)
    return loaded


def _check_template(entry: Any, file: str, where: str, problems: list[TemplateProblem]) -> Template | None:
    if not isinstance(entry, dict):
        problems.append(TemplateProblem(file, None, where, "a template must be a mapping"))
        return None
    raw_id = entry.get("id")
    template_id = raw_id if isinstance(raw_id, str) and raw_id else (f"({where})" if where else None)
    found: list[TemplateProblem] = []

    def problem(field_name: str, message: str) -> None:
        found.append(TemplateProblem(file, template_id, field_name, message))

    for key in sorted(set(entry) - TEMPLATE_KEYS, key=str):
        problem(str(key), f"unknown field; the fields are {', '.join(sorted(TEMPLATE_KEYS))}")
    for key in REQUIRED_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            problem(key, "required, as non-empty text" if value is None else "must be non-empty text")
    if isinstance(raw_id, str) and not ID_PATTERN.fullmatch(raw_id):
        problem("id", "must be 2-64 lower-case letters, digits and hyphens, starting with a letter or digit")
    for key in ("title", "domain"):
        value = entry.get(key)
        if isinstance(value, str) and (len(value) > 200 or any(ord(c) < 32 for c in value)):
            problem(key, "must be one line of at most 200 characters")
    if isinstance(entry.get("language"), str) and entry["language"] not in LANGUAGES:
        problem("language", f"unknown language {entry['language']!r}; expected one of {', '.join(LANGUAGES)}")
    if isinstance(entry.get("risk"), str) and entry["risk"] not in RISKS:
        problem("risk", f"unknown risk {entry['risk']!r}; expected one of {', '.join(RISKS)}")
    body = entry.get("body")
    if isinstance(body, str) and len(body) > MAX_BODY:
        problem("body", f"the body has {len(body)} characters; at most {MAX_BODY}")
    if isinstance(body, str) and "\x00" in body:
        problem("body", "the body contains a NUL character")

    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        problem("tags", "must be a list of non-empty texts")
        tags = []

    raw_parameters = entry.get("parameters", [])
    if raw_parameters is None:
        raw_parameters = []
    parameters: list[Parameter] = []
    if not isinstance(raw_parameters, list):
        problem("parameters", "must be a list of parameters")
    else:
        seen: set[str] = set()
        for index, raw in enumerate(raw_parameters):
            parameter, messages = _check_parameter(raw, f"parameters[{index}]")
            for field_name, message in messages:
                problem(field_name, message)
            if parameter is None:
                continue
            if parameter.name in seen:
                problem(f"parameters[{index}].name", f"duplicate parameter {parameter.name!r}")
                continue
            seen.add(parameter.name)
            parameters.append(parameter)

    language = entry.get("language")
    if isinstance(body, str) and language in LANGUAGES:
        names = {p.name for p in parameters}
        used = {p.name for p in find_placeholders(body) if p.name}
        for name in sorted(used - names):
            problem("body", f"placeholder {{{{{name}}}}} has no parameter of that name")
        for index, raw in enumerate(raw_parameters if isinstance(raw_parameters, list) else []):
            name = raw.get("name") if isinstance(raw, dict) else None
            if name in names and name not in used:
                problem(f"parameters[{index}]", f"parameter {name!r} is never used in the body")
        for message in placeholder_problems(body, language) + structure_problems(body, language):
            problem("body", message)

    problems.extend(found)
    if found:
        return None
    return Template(
        id=entry["id"], title=entry["title"].strip(), language=language, domain=entry["domain"].strip(),
        risk=entry["risk"], explanation=entry["explanation"].strip(), body=body.strip("\n") + "\n",
        tags=tuple(t.strip() for t in tags), parameters=tuple(parameters), source=file,
    )


def _check_parameter(raw: Any, where: str) -> tuple[Parameter | None, list[tuple[str, str]]]:
    """The parameter, or None, and the problems found as (field, message)."""
    messages: list[tuple[str, str]] = []

    def problem(field_name: str, message: str) -> None:
        messages.append((field_name, message))

    if not isinstance(raw, dict):
        problem(where, "a parameter must be a mapping")
        return None, messages
    for key in sorted(set(raw) - PARAMETER_KEYS, key=str):
        problem(f"{where}.{key}", f"unknown field; the fields are {', '.join(sorted(PARAMETER_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        problem(f"{where}.name", "required: a name of letters, digits and underscores, not starting with a digit")
    kind = raw.get("type", "string")
    if kind not in PARAMETER_TYPES:
        problem(f"{where}.type", f"unknown type {kind!r}; expected one of {', '.join(PARAMETER_TYPES)}")
    for key in ("label", "help", "pattern"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], str):
            problem(f"{where}.{key}", "must be text")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        problem(f"{where}.required", "must be true or false")
    pattern = raw.get("pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as error:
            problem(f"{where}.pattern", f"invalid regular expression: {error}")
    for key in ("min", "max"):
        if key in raw and (not isinstance(raw[key], int) or isinstance(raw[key], bool)):
            problem(f"{where}.{key}", "must be a whole number")
    choices = raw.get("choices")
    if kind == "choice":
        if not isinstance(choices, list) or not choices or not all(
                isinstance(c, str) and c and all(ord(x) >= 32 for x in c) for c in choices):
            problem(f"{where}.choices", "a choice parameter needs a non-empty list of one-line texts")
    elif choices is not None:
        problem(f"{where}.choices", "only a choice parameter has choices")
    if messages:
        return None, messages
    parameter = Parameter(
        name=name, label=(raw.get("label") or name).strip(), type=kind, required=required,
        default=raw.get("default"), pattern=pattern, help=(raw.get("help") or "").strip(),
        choices=tuple(choices or ()), min=raw.get("min"), max=raw.get("max"),
    )
    if parameter.default is not None:
        error = validate_value(parameter, parameter.default)[1]
        if error:
            problem(f"{where}.default", f"the default fails its own check: {error}")
            return None, messages
    elif not parameter.required and kind in ("integer", "port", "choice"):
        problem(f"{where}.default", f"an optional {kind} parameter needs a default")
        return None, messages
    return parameter, messages
