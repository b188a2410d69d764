"""The script generator's core: a library of PowerShell and Bash templates for MSP tasks.

Public API (no UI here; nothing is ever executed)::

    load_library(extra_dir=None) -> Library        # templates + problems; never raises on bad files
    Library.get(template_id) -> Template
    render(template, values) -> RenderedScript     # raises ParameterError (.errors per parameter)
    rank_templates(library, text, domain=None, limit=5) -> list[Match]
    session_query(session) -> (text, domain)
    as_script_node(rendered, next_node="", text=None) -> dict   # a tree `script` node

Modules: ``templates`` (load and check the library), ``placeholders`` (where ``{{param}}``
may stand), ``validation`` (a value against its type), ``escaping`` (shell quoting),
``render`` and ``matching`` (ranking). The template format: ``library/README.md``.
"""

from core.scripts.escaping import quote, quote_bash, quote_powershell
from core.scripts.matching import Match, rank_templates, session_query
from core.scripts.render import ParameterError, RenderedScript, as_script_node, check_values, render
from core.scripts.templates import (
    PARAMETER_TYPES,
    RISKS,
    Library,
    Parameter,
    Template,
    TemplateProblem,
    load_library,
)

__all__ = [
    "PARAMETER_TYPES", "RISKS", "Library", "Match", "Parameter", "ParameterError", "RenderedScript",
    "Template", "TemplateProblem", "as_script_node", "check_values", "load_library", "quote",
    "quote_bash", "quote_powershell", "rank_templates", "render", "session_query",
]
