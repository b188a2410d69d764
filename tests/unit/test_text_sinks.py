"""Every text the dashboard hands to a Streamlit sink that renders Markdown is either the code's own
text or went through ``dashboard.text`` (md_escape, md_label): checked on the source, so a new
``st.caption(f"... {session.summary}")`` fails here before anyone sees an injected image.

The check reads dashboard/ and pages/ with ``ast``. A text argument is accepted when it is:
a string constant; a module constant (ALL_CAPS) or a lookup in one; ``md_escape(...)``,
``md_label(...)`` or ``trusted(...)`` (text the code wrote itself, passed through a variable); a
number or date (a numeric or strftime format spec, ``len``/``sum``/``int``..., arithmetic); an
f-string, ``+``, ``x if c else y``, ``a or b`` or ``"sep".join(...)`` made only of such parts; a
local variable or loop variable bound only to such values; or a call to a dashboard function whose
every ``return`` is such a value. Anything else (a parameter, an attribute of a row, ``str(error)``)
is reported with its file and line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.joinpath("dashboard").glob("*.py"), *ROOT.joinpath("pages").glob("*.py")])

# The first positional argument (or ``body``/``label``) renders Markdown.
BODY_SINKS = {"markdown", "caption", "toast", "error", "warning", "info", "success", "title", "header",
              "subheader", "expander", "popover", "status", "metric", "write",
              "button", "download_button", "form_submit_button", "link_button", "checkbox", "toggle", "radio",
              "selectbox", "multiselect", "slider", "select_slider", "text_input", "text_area", "number_input",
              "date_input", "time_input", "file_uploader", "color_picker", "segmented_control", "pills", "feedback"}
# Column configs: the column title and its help.
COLUMN_TYPES = {"Column", "TextColumn", "NumberColumn", "ProgressColumn", "DatetimeColumn", "DateColumn",
                "TimeColumn", "CheckboxColumn", "SelectboxColumn", "LinkColumn", "ListColumn", "BarChartColumn",
                "LineChartColumn", "AreaChartColumn", "ImageColumn", "JSONColumn", "MultiselectColumn"}
TEXT_KEYWORDS = {"body", "label", "help", "title"}
LIST_KEYWORDS = {"captions"}
# Options shown as Markdown (radio, pills, segmented control); selectbox and multiselect show plain text.
MARKDOWN_OPTIONS = {"radio", "segmented_control", "pills"}
ESCAPERS = {"md_escape", "md_label", "trusted"}
NUMERIC = {"len", "sum", "int", "round", "min", "max", "abs", "float"}
# core.metrics.figures' formatters: a number in, its text out ("26.2%", "+4.2 pts"), never free text.
NUMBER_FORMATTERS = {"percent", "points"}
STR_METHODS = {"title", "lower", "upper", "strip", "capitalize", "replace", "format"}
ITERATION = {"zip", "enumerate", "list", "sorted", "reversed", "tuple"}


def _numeric_spec(spec: ast.JoinedStr | None) -> bool:
    """A format spec that a str refuses (ValueError): so the value is a number or a date."""
    if spec is None:
        return False
    text = "".join(v.value for v in spec.values if isinstance(v, ast.Constant))
    return bool(text) and (text[-1] in "dfFeEgGnxXob%" or "," in text or "_" in text or "%" in text)


def _constant_name(name: str) -> bool:
    return name.isupper() or (name.strip("_").isupper())


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)


class Checker:
    def __init__(self, modules: dict[str, Module]):
        self.modules = modules
        self.resolving: set[tuple[str, str]] = set()

    # --- where a name was bound ----------------------------------------------------------------

    def _scope(self, module: Module, node: ast.AST) -> ast.AST:
        while node in module.parents:
            node = module.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                return node
        return module.tree

    def _bindings(self, module: Module, scope: ast.AST, name: str) -> list[tuple[str, ast.AST, ast.AST]]:
        """("value", expr) for assignments, ("iter", iterable) for loop targets, ("param", ...) for arguments."""
        found: list[tuple[str, ast.AST, ast.AST]] = []
        if isinstance(scope, (ast.FunctionDef, ast.Lambda)):
            args = scope.args
            if name in {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}:
                found.append(("param", scope, scope))
        for node in ast.walk(scope):
            if node is not scope and isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)) \
                    and not isinstance(scope, ast.Module):
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if any(isinstance(t, ast.Name) and t.id == name for t in ast.walk(target)):
                        found.append(("value", node.value, node))
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) \
                    and node.target.id == name and node.value is not None:
                found.append(("value", node.value, node))
            elif isinstance(node, (ast.For, ast.comprehension)):
                if any(isinstance(t, ast.Name) and t.id == name for t in ast.walk(node.target)):
                    found.append(("iter", node.iter, node))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "append" and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == name:
                found.extend(("value", arg, node) for arg in node.args)
            elif isinstance(node, ast.NamedExpr) and node.target.id == name:
                found.append(("value", node.value, node))
        return found

    def _name_safe(self, module: Module, node: ast.Name, elements: bool) -> bool:
        if _constant_name(node.id):
            return True
        scope = self._scope(module, node)
        while True:
            bindings = self._bindings(module, scope, node.id)
            if bindings or scope is module.tree:
                break
            scope = self._scope(module, scope)
        if not bindings:
            return False
        for kind, value, _ in bindings:
            if kind == "param":
                return False
            if kind == "iter" and not self.iterable_safe(module, value):
                return False
            if kind == "value" and not (self.safe(module, value) or (elements and self.iterable_safe(module, value))):
                return False
        return True

    # --- what counts as safe -------------------------------------------------------------------

    def iterable_safe(self, module: Module, node: ast.AST) -> bool:
        """An iterable whose items are safe text (or containers, or numbers)."""
        if isinstance(node, ast.Name):
            return self._name_safe(module, node, elements=True)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return all(self.safe(module, e) or self.iterable_safe(module, e) for e in node.elts)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self.safe(module, node.elt)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.iterable_safe(module, node.left) and self.iterable_safe(module, node.right)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ITERATION:
                return all(self.iterable_safe(module, a) or self._is_columns(a) for a in node.args)
            if isinstance(func, ast.Name) and func.id == "range":
                return True
            if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values"):
                return self.iterable_safe(module, func.value)
            if self._is_columns(node):
                return True
            target = self._function(module, func)
            if target is not None:
                return self._returns(target, lambda m, v: self.safe(m, v) or self.iterable_safe(m, v))
        if isinstance(node, ast.Subscript):
            return self.iterable_safe(module, node.value)
        if isinstance(node, ast.Attribute):
            return isinstance(node.value, ast.Name) and _constant_name(node.value.id)
        return False

    @staticmethod
    def _is_columns(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("columns", "tabs")

    def _function(self, module: Module, func: ast.AST) -> tuple[Module, ast.FunctionDef] | None:
        if isinstance(func, ast.Name) and func.id in module.functions:
            return module, module.functions[func.id]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.modules:
            other = self.modules[func.value.id]
            if func.attr in other.functions:
                return other, other.functions[func.attr]
        if isinstance(func, ast.Name):  # imported by name from another dashboard module
            for other in self.modules.values():
                for node in ast.walk(module.tree):
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(other.name) \
                            and any((a.asname or a.name) == func.id for a in node.names) and func.id in other.functions:
                        return other, other.functions[func.id]
        return None

    def _returns(self, target: tuple[Module, ast.FunctionDef], check) -> bool:
        module, function = target
        key = (module.name, function.name)
        if key in self.resolving:
            return True  # recursion: judged by the other returns
        self.resolving.add(key)
        try:
            returns = [n.value for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None
                       and self._scope(module, n) is function]
            return bool(returns) and all(check(module, r) for r in returns)
        finally:
            self.resolving.discard(key)

    def safe(self, module: Module, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (str, int, float, type(None), bool))
        if isinstance(node, ast.JoinedStr):
            return all(self.safe(module, v) for v in node.values)
        if isinstance(node, (ast.Tuple, ast.List)):  # unpacked into names, each judged as one text
            return all(self.safe(module, e) for e in node.elts)
        if isinstance(node, ast.FormattedValue):
            if node.conversion != -1:
                return False
            return _numeric_spec(node.format_spec) or self.safe(module, node.value)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Mod):
                return False  # "%" on a str formats: the arguments would go in unchecked
            if isinstance(node.op, ast.Add):
                return self.safe(module, node.left) and self.safe(module, node.right)
            return True  # -, *, /, //: numbers
        if isinstance(node, ast.UnaryOp):
            return True
        if isinstance(node, ast.IfExp):
            return self.safe(module, node.body) and self.safe(module, node.orelse)
        if isinstance(node, ast.BoolOp):
            return all(self.safe(module, v) for v in node.values)
        if isinstance(node, ast.Compare):
            return True
        if isinstance(node, ast.Name):
            return self._name_safe(module, node, elements=False)
        if isinstance(node, ast.Subscript):
            base = node.value
            if isinstance(base, ast.Name) and _constant_name(base.id):
                return True
            return isinstance(base, ast.Name) and self._name_safe(module, base, elements=True)
        if isinstance(node, ast.Call):
            return self._call_safe(module, node)
        return False

    @staticmethod
    def _imported_from_figures(module: Module, name: str) -> bool:
        return any(isinstance(n, ast.ImportFrom) and n.module == "core.metrics.figures"
                   and any(a.name == name and a.asname is None for a in n.names) for n in module.tree.body)

    def _call_safe(self, module: Module, node: ast.Call) -> bool:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in ESCAPERS:
            return True
        if isinstance(func, ast.Name) and func.id in NUMERIC:
            return True
        if isinstance(func, ast.Name) and func.id in NUMBER_FORMATTERS and self._imported_from_figures(module, func.id):
            return True
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if func.attr == "get" and isinstance(receiver, ast.Name) and _constant_name(receiver.id):
                return all(self.safe(module, a) for a in node.args[1:])
            if func.attr == "join":
                return self.safe(module, receiver) and all(self.iterable_safe(module, a) for a in node.args)
            if func.attr in STR_METHODS:
                return self.safe(module, receiver) and all(self.safe(module, a) for a in node.args)
        target = self._function(module, func)
        if target is not None:
            return self._returns(target, self.safe)
        return False

    # --- the sinks -----------------------------------------------------------------------------

    def problems(self, module: Module) -> list[str]:
        found = []
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            sink = node.func.attr
            texts: list[ast.AST] = []
            lists: list[ast.AST] = []
            if sink in BODY_SINKS or sink in COLUMN_TYPES or sink in ("tabs", "page_link", "exception"):
                if sink == "exception":
                    if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "st"):
                        continue  # logger.exception: the server log, where tracebacks belong
                    found.append(f"{module.path.name}:{node.lineno}: st.exception shows a traceback")
                    continue
                if sink == "tabs":
                    lists.extend(node.args[:1])
                elif sink != "page_link":
                    texts.extend(node.args[:1])
                texts.extend(k.value for k in node.keywords if k.arg in TEXT_KEYWORDS)
                lists.extend(k.value for k in node.keywords if k.arg in LIST_KEYWORDS)
                if sink in MARKDOWN_OPTIONS:
                    shown = next((k.value for k in node.keywords if k.arg == "format_func"), None)
                    if shown is None:
                        lists.extend(node.args[1:2])
                    else:
                        texts.extend(self._format_outputs(module, shown))
                if any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                       for k in node.keywords):
                    found.append(f"{module.path.name}:{node.lineno}: unsafe_allow_html")
            for text in texts:
                if not self.safe(module, text):
                    found.append(f"{module.path.name}:{text.lineno}: {sink}({ast.unparse(text)[:90]})")
            for items in lists:
                if not self.iterable_safe(module, items):
                    found.append(f"{module.path.name}:{items.lineno}: {sink}([{ast.unparse(items)[:90]}])")
        return found

    def _format_outputs(self, module: Module, func: ast.AST) -> list[ast.AST]:
        if isinstance(func, ast.Lambda):
            return [func.body]
        target = self._function(module, func)
        if target is not None:
            inner_module, function = target
            return [n.value for n in ast.walk(function) if isinstance(n, ast.Return) and n.value is not None]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and (_constant_name(func.value.id) or func.value.id == "str"):
            return []  # a lookup in the code's own table, or str.title of the code's own options
        return [func]


def _modules() -> dict[str, Module]:
    modules = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        module = Module(path.stem, path, tree)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                module.parents[child] = node
            if isinstance(node, ast.FunctionDef):
                module.functions.setdefault(node.name, node)
        modules[path.stem] = module
    return modules


def _check(source: str) -> list[str]:
    tree = ast.parse(source)
    module = Module("example", Path("example.py"), tree)
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            module.parents[child] = node
        if isinstance(node, ast.FunctionDef):
            module.functions.setdefault(node.name, node)
    return Checker({"example": module}).problems(module)


def test_every_text_sink_in_the_dashboard_gets_escaped_or_own_text():
    modules = _modules()
    checker = Checker(modules)
    problems = [p for m in modules.values() for p in checker.problems(m)]
    assert not problems, "untrusted text may reach a Markdown sink:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [
    "st.toast(outcome.message)",
    "st.markdown(f'**{d.title}**')",
    "st.caption('By ' + d.engineer)",
    "def f(text):\n    st.error(text)",
    "st.expander(f'{e.problem_summary}')",
    "column.metric('Sessions', 3, help=row.reason)",
    "st.tabs(['Tree', d.title])",
    "st.radio('Pick', ids, format_func=lambda i: by_id[i].title)",
    "st.page_link(p, label=f'#{p.id} {p.title}')",
    "st.error(str(exc))",
    "st.markdown(d.summary, unsafe_allow_" "html=True)",  # split: the repository's own grep looks for real uses
    "st.markdown('%s' % d.summary)",
    "st.column_config.TextColumn(name)",
    "st.exception(exc)",
    "x = d.title\nst.info(f'{x}')",
    "for s in sessions:\n    st.caption(s.engineer)",
    "from core.gaps import percent\nst.markdown(percent(d.title))",  # a formatter of that name, not the figures'
])
def test_a_sink_given_untrusted_text_is_reported(source):
    assert _check(source), source


@pytest.mark.parametrize("source", [
    "st.toast(md_escape(outcome.message))",
    "st.markdown(f'**{md_escape(d.title)}** · {d.confidence:.0%} · {d.created_at:%d %b %Y} · #{d.id:d}')",
    "st.caption('By ' + md_escape(d.engineer))",
    "LABELS = {'a': 'A'}\nst.radio('Pick', ['a'], format_func=LABELS.get)",
    "st.tabs(['Tree', f'Sessions ({n:,})'])",
    "for group, items in FORM:\n    st.markdown(f'**{group}**')",
    "def badge(s):\n    return f':red-badge[{md_escape(s)}]'\nst.markdown(badge(x) + ' ' + TYPES[t])",
    "x = md_escape(d.title) if d.title else 'untitled'\nst.info(f'{x}')",
    "from core.metrics.figures import percent\nst.markdown(f'**{percent(rate)}** resolved')",
])
def test_a_sink_given_escaped_or_own_text_passes(source):
    assert not _check(source), source
