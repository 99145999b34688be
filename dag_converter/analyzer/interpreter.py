"""An abstract interpreter for the Python subset DAG files use, without running anything.

`eval_<Expr>` computes an expression, `exec_<Stmt>` runs a statement, on values from `values.py`.
Anything not computable exactly becomes `Unresolved(reason, span)`, which absorbs the operations
that touch it: the interpreter never guesses. It knows Python only. What imported libraries do
(datetime, Airflow, ...) comes from `Library` objects it asks in turn; the first answer that is
not NotImplemented wins. Every operation charges the file's `Meter` (values.Limits).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer._folder import DagFolder
from dag_converter.analyzer.builtins import BUILTINS, MODULE_BUILTINS, call_method, hashable, narrow_spec, plain
from dag_converter.analyzer.imports import Symbol, import_bindings, role_of
from dag_converter.analyzer.positions import StartPositions
from dag_converter.analyzer.values import (
    DEFAULT_LIMITS,
    BoundMethod,
    Break,
    Budget,
    Builtin,
    CallArgs,
    Continue,
    DictView,
    Limits,
    Meter,
    ModuleValue,
    Opaque,
    OpenDicts,
    PathValue,
    Return,
    RunRead,
    RunValues,
    Scope,
    Unresolved,
    UserFunction,
    first_unresolved,
    why,
)
from dag_converter.model import DateTime, Diagnostic, Duration, Span, find_unresolved

_PERCENT_SPEC: Final = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_SAFE_BUILTINS: Final = frozenset(BUILTINS)
_SHIFTS: Final = frozenset({"RightShift", "LeftShift"})
_CALL_COST: Final = 8  #: work units of one call of an interpreted function (binding, a scope, unwinding)
#: Node types whose value is built by the operation (charged by size); names, attributes and
#: literals only hand over a value that exists already.
_BUILDING: Final = frozenset({
    "BinaryOperation", "FormattedString", "ConcatenatedString", "Call", "List", "Tuple", "Set", "Dict",
    "ListComp", "SetComp", "DictComp", "GeneratorExp", "Subscript",
})


class Library(Protocol):
    """What the interpreter asks a library about. Each method returns NotImplemented for values
    that are not the library's own; `enter` returns an exit callback, or None."""

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object: ...

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object: ...

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object: ...

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object: ...

    def set_attribute(self, base: object, name: str, value: object, node: cst.CSTNode) -> object: ...

    def decorate(self, decorator: object, function: UserFunction, node: cst.CSTNode) -> object: ...

    def enter(self, value: object, node: cst.CSTNode) -> Callable[[], None] | None: ...

    def same_symbol(self, left: Symbol, right: Symbol) -> object:
        """True when two import paths name one object (True/False), else NotImplemented."""
        ...

    def text(self, value: object, node: cst.CSTNode) -> object:
        """`str(value)` (also `f"{value}"`) for a value of the library's own, else NotImplemented."""
        ...

    def contains(self, item: object, container: object, node: cst.CSTNode) -> object:
        """`item in container` for a container of the library's own (a run-time read such as
        `os.environ`), else NotImplemented."""
        ...


class BaseLibrary:
    """A Library that knows nothing: subclasses override what they handle."""

    def __init__(self, interpreter: "Interpreter") -> None:
        self.interpreter = interpreter

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        return NotImplemented

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        return NotImplemented

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        return NotImplemented

    def set_attribute(self, base: object, name: str, value: object, node: cst.CSTNode) -> object:
        return NotImplemented

    def decorate(self, decorator: object, function: UserFunction, node: cst.CSTNode) -> object:
        return NotImplemented

    def enter(self, value: object, node: cst.CSTNode) -> Callable[[], None] | None:
        return None

    def same_symbol(self, left: Symbol, right: Symbol) -> object:
        return NotImplemented

    def text(self, value: object, node: cst.CSTNode) -> object:
        return NotImplemented

    def contains(self, item: object, container: object, node: cst.CSTNode) -> object:
        return NotImplemented


class Region(Protocol):
    """An open definition (a DAG) that the diagnostics found while it is open belong to."""

    diagnostics: list[Diagnostic]


@dataclass
class FolderImports:
    """The DAG-folder modules one DAG file's analysis has read, shared by every interpreter in it."""

    folder: DagFolder
    scopes: dict[str, Scope] = field(default_factory=dict)  #: by module name; partial while loading
    positions: list[tuple[str, StartPositions]] = field(default_factory=list)


LibraryFactory = Callable[["Interpreter"], Sequence[Library]]

#: Modules whose calls cannot create tasks or dependencies when given data: they never call back
#: into the DAG file (no hooks, no callbacks) and build no Airflow object. A call into them with
#: plain, unknown or same-module arguments is an unknown value, not also a construct to refuse.
_INERT_MODULES: Final = (
    "io.", "zipfile.", "hashlib.", "hmac.", "base64.", "binascii.", "zlib.", "gzip.", "uuid.", "random.",
    "secrets.", "struct.", "time.", "math.", "decimal.", "ipaddress.", "shlex.",
)
#: Airflow hooks talk to a service; making one (or calling its methods) adds nothing to a DAG.
_INERT_PATTERN: Final = re.compile(r"airflow\.(providers\.[\w.]+\.)?hooks\.")


def _inert_module(qualname: str) -> bool:
    return qualname.startswith(_INERT_MODULES) or _INERT_PATTERN.match(qualname) is not None


_EFFECT_HINT: Final = "define tasks with operator calls in the DAG folder; code outside it is never imported or run"


class Interpreter:
    """Runs one module's statements abstractly; libraries give imported names their meaning."""

    def __init__(self, path: str, module: cst.Module, positions: StartPositions, *, module_name: str,
                 package: str, today: _dt.date, libraries: LibraryFactory = lambda _: (),
                 limits: Limits = DEFAULT_LIMITS, imports: FolderImports | None = None,
                 meter: Meter | None = None, file: str = "", run_values: RunValues | None = None,
                 inline_templates: bool = True) -> None:
        self.path = path
        #: `__file__` as Airflow sees it: the path below the DAG folder root ('' when not known)
        self.file = file
        self.run_values = run_values or RunValues()
        #: template files named by templated arguments become their text (off when a code package ships them)
        self.inline_templates = inline_templates
        self.run_reads: list[RunRead] = []  #: Variables, environment variables, connections read (inventory)
        self.module = module
        self.positions = positions
        self.module_name = module_name
        self.package = package
        self.today = today
        self.limits = limits
        self.imports = imports
        self.meter = meter or Meter(limits, self.span, lambda: tuple(self.regions))
        self.depth = 0
        self.module_scope = Scope()
        self.open_dicts = OpenDicts()
        self.regions: list[Region] = []  #: open definitions, innermost last (see Region)
        self.file_diagnostics: list[Diagnostic] = []
        self.notes: list[Diagnostic] = []  #: file diagnostics listed after the run's own
        #: calls refused as DC204, and the spans of the unknown values they returned, by region
        #: (id of the open DAG): a call run again for another DAG (a loop) refuses that DAG too
        self.reported_calls: set[tuple[cst.CSTNode, int]] = set()
        self.reported_spans: set[tuple[Span, int]] = set()
        #: spans of unknown values made by inert calls (see _INERT_MODULES): their methods are inert too
        self.inert_spans: set[Span] = set()
        self.make_libraries = libraries
        self.libraries: Sequence[Library] = libraries(self)

    # -- the module ------------------------------------------------------------------------------

    def run_module(self) -> Budget | None:
        """Run the module's body; a Budget that stopped it is returned."""
        try:
            self.exec_block(self.module.body, self.module_scope)
        except Budget as budget:
            return budget
        except (Return, Break, Continue):
            pass
        return None

    # -- positions and diagnostics ---------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        if self.imports is None or not self.imports.positions or node in self.positions:
            # Until a DAG-folder module is read, every node analysed is this file's own, and its
            # start may be looked up in the source; after, ownership is checked exactly.
            return self._own_span(node)
        # A node of a DAG-folder module (a helper function defined there, called from here).
        for display, positions in self.imports.positions:
            start = positions.start(node)
            if start is not None:
                return Span(display, start[0], start[1] + 1)
        return self._own_span(node)

    def _own_span(self, node: cst.CSTNode) -> Span:
        start = self.positions.start(node)
        if start is None:
            return Span(self.path)
        return Span(self.path, start[0], start[1] + 1)  # model columns are 1-based

    def span_or_file(self, node: cst.CSTNode | None) -> Span:
        return self.span(node) if node is not None else Span(self.path)

    def unresolved(self, node: cst.CSTNode, reason: str) -> Unresolved:
        return Unresolved(reason, self.span(node))

    def region_key(self) -> int:
        """The innermost open region's identity (0 outside any): what a refusal is filed with."""
        return id(self.regions[-1]) if self.regions else 0

    def already_refused(self, value: object) -> bool:
        """`value` is the unknown result of a call already refused (DC204) in the open region:
        one more diagnostic about it would repeat that one's cause."""
        return (isinstance(value, Unresolved) and value.source is None
                and (value.span, self.region_key()) in self.reported_spans)

    def report(self, diagnostic: Diagnostic, region: Region | None = None) -> None:
        """File a diagnostic with `region`, else the innermost open region, else the file."""
        target = region or (self.regions[-1] if self.regions else None)
        if target is not None:
            target.diagnostics.append(diagnostic)
        else:
            self.file_diagnostics.append(diagnostic)

    # -- the libraries -----------------------------------------------------------------------------

    def _ask(self, question: Callable[[Library], object]) -> object:
        for library in self.libraries:
            answer = question(library)
            if answer is not NotImplemented:
                return answer
        return NotImplemented

    # -- expressions ---------------------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, scope: Scope) -> object:
        meter = self.meter
        meter.work += 1
        if meter.work > meter._checkpoint:
            meter._check(node)
        kind = type(node).__name__
        method = getattr(self, f"eval_{kind}", None)
        if method is None:
            return self.unresolved(node, f"{kind} expressions are not evaluated statically")
        value = method(node, scope)
        if kind in _BUILDING:
            meter.built(value, node)
        return value

    def eval_Integer(self, node: cst.Integer, scope: Scope) -> object:
        try:
            return self.meter.built(int(node.value.replace("_", ""), 0), node)
        except ValueError as exc:  # over sys.get_int_max_str_digits() digits, or `0777`
            return self.unresolved(node, f"integer literal: {exc}")

    def eval_Float(self, node: cst.Float, scope: Scope) -> object:
        return float(node.value.replace("_", ""))

    def eval_Imaginary(self, node: cst.Imaginary, scope: Scope) -> object:
        return self.unresolved(node, "Imaginary expressions are not evaluated statically")

    def eval_SimpleString(self, node: cst.SimpleString, scope: Scope) -> object:
        prefix = node.prefix.lower()
        if "b" in prefix:
            # A bytes value: `.decode()` makes text of it; as a task argument it has no YAML form (dags.freeze).
            try:
                return node.evaluated_value
            except (SyntaxError, ValueError) as exc:
                return self.unresolved(node, f"bytes literal Python rejects: {getattr(exc, 'msg', exc)}")
        text = node.value
        if "\\" not in text and "\r" not in text:
            # No escapes: the value is the text between the quotes (literal_eval compiles it).
            quote = 3 if text.startswith(('"""', "'''"), len(prefix)) else 1
            return text[len(prefix) + quote:len(text) - quote]
        try:
            return node.evaluated_value
        except (SyntaxError, ValueError) as exc:  # "\ucket": an escape Python itself rejects
            return self.unresolved(node, f"string literal Python rejects: {getattr(exc, 'msg', exc)}")

    def eval_ConcatenatedString(self, node: cst.ConcatenatedString, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binary("+", left, right, node)

    def eval_FormattedString(self, node: cst.FormattedString, scope: Scope) -> object:
        return self.formatted(node.parts, "r" in node.prefix.lower(), node, scope)

    def formatted(self, node_parts: Sequence[cst.BaseFormattedStringContent], raw: bool, node: cst.CSTNode,
                  scope: Scope) -> object:
        """The text of an f-string's parts (`node` is the f-string, or the field a format spec is in)."""
        parts: list[str] = []
        for part in node_parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            value = self.eval(part.expression, scope)
            if isinstance(value, Unresolved):
                return value
            if part.conversion in ("r", "a"):
                value = self.repr_of(value, part)
            spec = ""
            if part.format_spec:
                spec_value = self.formatted(part.format_spec, False, part, scope)
                if isinstance(spec_value, Unresolved):
                    return spec_value
                spec = str(spec_value)
            text = self.format_value(value, spec, part)
            if isinstance(text, Unresolved):
                return text
            parts.append(str(text))
        if raw:
            return "".join(parts)
        # Non-raw f-string text may hold escapes; decode them the way Python does.
        joined = "".join(parts)
        if "\\" in "".join(p.value for p in node_parts if isinstance(p, cst.FormattedStringText)):
            try:
                joined = joined.encode("latin-1", "backslashreplace").decode("unicode_escape")
            except UnicodeDecodeError:
                return self.unresolved(node, "f-string escape sequence")
        return joined

    def format_value(self, value: object, spec: str, node: cst.CSTNode) -> object:
        """`format(value, spec)` for a value the interpreter may format, else Unresolved."""
        if isinstance(value, (str, int, float, bool)) or value is None:
            if not narrow_spec(spec, self.limits.format_width):
                return self.unresolved(node, f"format spec wider than {self.limits.format_width}")
            try:
                return format(value, spec)
            except (ValueError, TypeError, OverflowError) as exc:
                return self.unresolved(node, f"format spec {spec!r}: {exc}")
        if isinstance(value, PathValue):
            value = value.path
            return self.format_value(value, spec, node)
        if not spec:
            text = self.text_of(value, node)
            if text is not NotImplemented:
                return text
        if isinstance(value, DateTime) and not spec:
            return str(value.value) if value.tz in (None, "UTC") else self.unresolved(node, "formatting a zoned datetime")
        if isinstance(value, DateTime):
            if "%" not in spec:
                return self.unresolved(node, f"datetime format {spec!r}")
            try:
                return value.value.strftime(spec)
            except (ValueError, UnicodeError) as exc:  # a lone surrogate in the spec, say
                return self.unresolved(node, f"datetime format {spec!r}: {exc}")
        if isinstance(value, (list, tuple, dict)) and not spec:
            return self.repr_of(value, node)
        return self.unresolved(node, f"formatting a {type(value).__name__} value")

    def text_of(self, value: object, node: cst.CSTNode) -> object:
        """`str(value)` as a library knows it, else NotImplemented."""
        return self._ask(lambda library: library.text(value, node))

    def repr_of(self, value: object, node: cst.CSTNode) -> object:
        if isinstance(value, (str, int, float, bool, list, tuple, dict)) or value is None:
            self.meter.visit(value, "repr()", node)
            if not plain(value):
                return find_unresolved(value) or self.unresolved(node, "repr() of a value holding non-literal objects")
            return repr(value)
        return self.unresolved(node, f"repr() of a {type(value).__name__}")

    def eval_Name(self, node: cst.Name, scope: Scope) -> object:
        name = node.value
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        found, value = scope.lookup(name)
        if found:
            return value
        if name == "__name__":
            # Airflow imports DAG files as modules: `if __name__ == "__main__":` blocks never run.
            return "__dag_module__"
        if name == "__file__" and self.file:
            return self.file
        if name == "__doc__":
            return self.module.get_docstring(clean=False)
        if name in MODULE_BUILTINS:
            return Builtin(name)
        if name in _SAFE_BUILTINS:
            return Symbol(f"builtins.{name}")
        if name == "open":
            return Symbol("open")  # the libraries know it (a data file of the DAG folder, else a run-time read)
        return self.unresolved(node, f"name {name!r} is not defined in this file")

    def eval_Attribute(self, node: cst.Attribute, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        return self.attribute(base, node.attr.value, node)

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Unresolved):
            # A run-time read stays one, but a library may still name what is read (`os.environ.get`).
            answer = self._ask(lambda library: library.attribute(base, name, node)) if base.source else NotImplemented
            return base if answer is NotImplemented else answer
        if isinstance(base, (str, list, dict, tuple, set, bytes)):
            return BoundMethod(base, name)
        if isinstance(base, ModuleValue):
            return self.module_attribute(base, name, node)
        if isinstance(base, Opaque):
            return Opaque(base.what)
        answer = self._ask(lambda library: library.attribute(base, name, node))
        if answer is not NotImplemented:
            return answer
        if isinstance(base, Symbol):
            return base.attribute(name)
        return self.unresolved(node, f"attribute {name!r} of a {type(base).__name__}")

    def eval_Subscript(self, node: cst.Subscript, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        if isinstance(base, Unresolved):
            if base.source and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                # `os.environ["X"]`: still read at run time, but a library may record which key.
                key = self.eval(node.slice[0].slice.value, scope)
                answer = self._ask(lambda library: library.subscript(base, key, node))
                if answer is not NotImplemented:
                    return answer
            return base
        if len(node.slice) != 1:
            return self.unresolved(node, "multi-dimensional subscript")
        element = node.slice[0].slice
        if isinstance(element, cst.Slice):
            parts = [None if part is None else self.eval(part, scope)
                     for part in (element.lower, element.upper, element.step)]
            bad = first_unresolved(parts)
            if bad is not None:
                return bad
            if not isinstance(base, (str, list, tuple)):
                return self.unresolved(node, f"slicing a {type(base).__name__}")
            try:
                return base[slice(*parts)]
            except (TypeError, ValueError, OverflowError) as exc:
                return self.unresolved(node, f"slice: {exc}")
        assert isinstance(element, cst.Index)
        key = self.eval(element.value, scope)
        return self.subscript(base, key, node)

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        if isinstance(key, Unresolved):
            return key
        if isinstance(base, dict):
            if hashable(key) and key in base:
                return base[key]
            return self.unresolved(node, f"key {key!r} is not in the dict")
        if isinstance(base, (list, tuple, str)) and isinstance(key, int) and not isinstance(key, bool):
            try:
                return base[key]
            except IndexError:
                return self.unresolved(node, f"index {key} out of range")
        answer = self._ask(lambda library: library.subscript(base, key, node))
        if answer is not NotImplemented:
            return answer
        return self.unresolved(node, f"subscript of a {type(base).__name__}")

    def eval_List(self, node: cst.List, scope: Scope) -> object:
        return self._elements(node.elements, scope, node)

    def eval_Tuple(self, node: cst.Tuple, scope: Scope) -> object:
        items = self._elements(node.elements, scope, node)
        return tuple(items) if isinstance(items, list) else items

    def eval_Set(self, node: cst.Set, scope: Scope) -> object:
        items = self._elements(node.elements, scope, node)
        if not isinstance(items, list):
            return items
        return self.make_set(items, node)

    def make_set(self, items: list[object], node: cst.CSTNode) -> object:
        if not all(hashable(item) for item in items):
            return self.unresolved(node, "set of unhashable values")
        self.meter.visit(items, "building a set", node)
        return set(items)

    def _elements(self, elements: Sequence[cst.BaseElement], scope: Scope, node: cst.CSTNode) -> object:
        items: list[object] = []
        for element in elements:
            value = self.eval(element.value, scope)
            if isinstance(element, cst.StarredElement):
                iterable = self.iterate(value, element)
                if isinstance(iterable, Unresolved):
                    return iterable
                self.meter.before_building(len(items) + len(iterable), "a literal", node)
                items.extend(iterable)
            else:
                items.append(value)
        return items

    def eval_Dict(self, node: cst.Dict, scope: Scope) -> object:
        result: dict[object, object] = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(element.value, scope)
                if isinstance(value, Unresolved):
                    return value
                if not isinstance(value, dict):
                    return self.unresolved(element, f"** of a {type(value).__name__}")
                self.meter.before_building(len(result) + len(value), "a dict literal", node)
                result.update(value)
                self.open_dicts.copy_to(value, result)
                continue
            key = self.eval(element.key, scope)
            if isinstance(key, Unresolved):
                return key
            if not hashable(key):
                return self.unresolved(element, "unhashable dict key")
            result[key] = self.eval(element.value, scope)
        return result

    def eval_IfExp(self, node: cst.IfExp, scope: Scope) -> object:
        test = self.truth(self.eval(node.test, scope), node.test)
        if isinstance(test, Unresolved):
            return test
        return self.eval(node.body if test else node.orelse, scope)

    def eval_UnaryOperation(self, node: cst.UnaryOperation, scope: Scope) -> object:
        value = self.eval(node.expression, scope)
        if isinstance(value, Unresolved):
            return value
        op = type(node.operator).__name__
        if op == "Not":
            truth = self.truth(value, node)
            return truth if isinstance(truth, Unresolved) else not truth
        if isinstance(value, (int, float)):
            if op == "Minus":
                return -value
            if op == "Plus":
                return +value
            if op == "BitInvert" and isinstance(value, int):
                return ~value
        if isinstance(value, Duration) and op == "Minus":
            return Duration(-value.seconds)
        return self.unresolved(node, f"unary {op} of a {type(value).__name__}")

    def eval_BooleanOperation(self, node: cst.BooleanOperation, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        truth = self.truth(left, node.left)
        if isinstance(truth, Unresolved):
            return truth
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, scope) if truth else left
        return left if truth else self.eval(node.right, scope)

    def truth(self, value: object, node: cst.CSTNode) -> object:
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, (str, int, float, bool, list, tuple, dict, set)) or value is None:
            return bool(value)
        if isinstance(value, DateTime):
            return True
        if isinstance(value, Duration):
            return bool(value.seconds)
        return self.unresolved(node, f"truth value of a {type(value).__name__}")

    def eval_Comparison(self, node: cst.Comparison, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            op = type(target.operator).__name__
            if op in ("In", "NotIn") and isinstance(right, Unresolved) and right.source:
                outcome = self._contains(op, left, right, node)
            else:
                bad = first_unresolved((left, right))
                if bad is not None:
                    return bad
                outcome = self.compare(op, left, right, node)
            if outcome is not True:
                return outcome
            left = right
        return True

    def _contains(self, op: str, left: object, right: Unresolved, node: cst.CSTNode) -> object:
        """`x in <run-time read>` (`"X" in os.environ`): still unknown, but a library may name what
        is read (and know the answer, when the user froze the value)."""
        answer = self._ask(lambda library: library.contains(left, right, node))
        if answer is NotImplemented:
            return right
        return not answer if op == "NotIn" and isinstance(answer, bool) else answer

    def compare(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        # Charged first: telling whether a value is plain visits it too.
        self.meter.visit(left, "a comparison", node)
        if not (op in ("In", "NotIn") and isinstance(right, (dict, set, frozenset))):  # a hash look-up
            self.meter.visit(right, "a comparison", node)
        if not (plain(left) and plain(right)):
            if op in ("Is", "IsNot") and (left is None or right is None):
                same = left is None and right is None
                return same if op == "Is" else not same
            if op in ("Equal", "NotEqual") and isinstance(left, (DateTime, Duration)) and type(left) is type(right):
                same = left == right
                return same if op == "Equal" else not same
            return self.unresolved(node, "comparison of non-literal values")
        try:
            if op == "Equal":
                return left == right
            if op == "NotEqual":
                return left != right
            if op == "LessThan":
                return left < right  # type: ignore[operator]
            if op == "LessThanEqual":
                return left <= right  # type: ignore[operator]
            if op == "GreaterThan":
                return left > right  # type: ignore[operator]
            if op == "GreaterThanEqual":
                return left >= right  # type: ignore[operator]
            if op == "In":
                return left in right  # type: ignore[operator]
            if op == "NotIn":
                return left not in right  # type: ignore[operator]
            if op == "Is":
                return left is right if left is None or isinstance(left, bool) else left == right
            if op == "IsNot":
                return left is not right if left is None or isinstance(left, bool) else left != right
        except TypeError as exc:
            return self.unresolved(node, f"comparison: {exc}")
        return self.unresolved(node, f"comparison {op}")

    def eval_BinaryOperation(self, node: cst.BinaryOperation, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binary(type(node.operator).__name__, left, right, node)

    _OPS: Final = {
        "Add": lambda a, b: a + b, "+": lambda a, b: a + b, "Subtract": lambda a, b: a - b,
        "Multiply": lambda a, b: a * b, "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b,
        "Modulo": lambda a, b: a % b, "Power": lambda a, b: a**b, "BitOr": lambda a, b: a | b,
        "BitAnd": lambda a, b: a & b,
    }

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        bad = first_unresolved((left, right))
        if bad is not None:
            return bad
        if op in _SHIFTS and isinstance(left, int) and isinstance(right, int):
            if isinstance(left, bool) or isinstance(right, bool):
                return self.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")
            if right > 64:
                return self.unresolved(node, "shift too large")
            return left >> right if op == "RightShift" else left << right
        if op in _SHIFTS or not (plain(left) and plain(right)):
            answer = self._ask(lambda library: library.binary(op, left, right, node))
            if answer is not NotImplemented:
                return answer
        if op == "Modulo" and isinstance(left, str):
            if isinstance(right, list) or not plain(right):
                return self.unresolved(node, "% formatting with non-literal values")
            specs = [n for m in _PERCENT_SPEC.finditer(left) for n in m.groups() if n]
            values = right if isinstance(right, tuple) else (right,)
            if not narrow_spec(" ".join(specs), self.limits.format_width, values if "*" in specs else ()):
                return self.unresolved(node, f"% format wider than {self.limits.format_width}")
            self.meter.visit(right, "% formatting", node)
            try:
                return left % right
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                return self.unresolved(node, f"% formatting: {exc}")
        if op == "BitOr" and isinstance(left, dict) and isinstance(right, dict):
            merged = {**left, **right}
            self.open_dicts.copy_to(left, merged)
            self.open_dicts.copy_to(right, merged)
            return merged
        if not (plain(left) and plain(right)):
            return self.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")
        func = self._OPS.get(op)
        if func is None:
            return self.unresolved(node, f"operator {op}")
        self._check_size(op, left, right, node)
        if op == "Power" and isinstance(right, int) and right > 1024:
            return self.unresolved(node, "exponent too large")
        if op == "Power" and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() * right > self.limits.int_bits:
            return self.unresolved(node, "power too large")
        try:
            return func(left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
            return self.unresolved(node, f"{op}: {exc}")

    def _check_size(self, op: str, left: object, right: object, node: cst.CSTNode) -> None:
        """Refuse `s * n`, `n * s` or `a + b` before Python builds a value too large to analyse."""
        if op == "Multiply":
            sequence, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                self.meter.before_building(len(sequence) * count, "repetition", node)
        elif op == "BitOr" and isinstance(left, (set, frozenset)) and isinstance(right, (set, frozenset)):
            self.meter.before_building(len(left) + len(right), "set union", node)
        elif op in ("Add", "+") and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            self.meter.before_building(len(left) + len(right), "concatenation", node)

    # -- comprehensions ------------------------------------------------------------------------------

    def _comprehension(self, node: cst.BaseComp, scope: Scope) -> Iterator[Scope | Unresolved]:
        """The scopes a comprehension's element is evaluated in; an Unresolved ends it."""

        def walk(comp: cst.CompFor, inner: Scope) -> Iterator[Scope | Unresolved]:
            iterable = self.iterate(self.eval(comp.iter, inner), comp.iter)
            if isinstance(iterable, Unresolved):
                yield iterable
                return
            for item in iterable:
                self.meter.tick(comp)
                child = Scope(parent=inner)
                bad = self.bind_target(comp.target, item, child)
                if bad is not None:
                    yield bad
                    return
                keep = True
                for cond in comp.ifs:
                    truth = self.truth(self.eval(cond.test, child), cond)
                    if isinstance(truth, Unresolved):
                        yield truth
                        return
                    if not truth:
                        keep = False
                        break
                if not keep:
                    continue
                if comp.inner_for_in is not None:
                    for found in walk(comp.inner_for_in, child):
                        yield found
                        if isinstance(found, Unresolved):
                            return
                else:
                    yield child

        yield from walk(node.for_in, Scope(parent=scope))

    def eval_ListComp(self, node: cst.ListComp | cst.GeneratorExp | cst.SetComp, scope: Scope) -> object:
        items: list[object] = []
        limit = self.limits.value_size
        for inner in self._comprehension(node, scope):
            if isinstance(inner, Unresolved):
                return inner
            items.append(self.eval(node.elt, inner))
            if len(items) > limit:
                self.meter.built(items, node)
        return items

    def eval_GeneratorExp(self, node: cst.GeneratorExp, scope: Scope) -> object:
        return self.eval_ListComp(node, scope)

    def eval_SetComp(self, node: cst.SetComp, scope: Scope) -> object:
        items = self.eval_ListComp(node, scope)
        return self.make_set(items, node) if isinstance(items, list) else items

    def eval_DictComp(self, node: cst.DictComp, scope: Scope) -> object:
        result: dict[object, object] = {}
        for inner in self._comprehension(node, scope):
            if isinstance(inner, Unresolved):
                return inner
            key = self.eval(node.key, inner)
            if isinstance(key, Unresolved):
                return key
            if not hashable(key):
                return self.unresolved(node, "unhashable key")
            result[key] = self.eval(node.value, inner)
        return result

    def eval_Lambda(self, node: cst.Lambda, scope: Scope) -> object:
        return UserFunction(node, scope, "<lambda>", self.param_defaults(node.params, scope))

    def param_defaults(self, params: cst.Parameters, scope: Scope) -> dict[str, object]:
        defaults: dict[str, object] = {}
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                defaults[param.name.value] = self.eval(param.default, scope)
        return defaults

    # -- iteration and binding -------------------------------------------------------------------

    def iterate(self, value: object, node: cst.CSTNode) -> list[object] | Unresolved:
        """A list of the items of an iterable value, or Unresolved."""
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, (list, tuple, str)):
            if len(value) > 4096:
                self.meter.tick(node, len(value) >> 4)
            return list(value)
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, (set, frozenset)):
            if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
                try:
                    # Python's set order is an implementation detail; Airflow's order for
                    # str items depends on hash randomisation, so order does not decide task ids.
                    self.meter.visit(value, "iterating over a set", node)
                    return sorted(value)
                except TypeError:
                    pass
            return self.unresolved(node, "iteration order of a set is not fixed")
        if isinstance(value, DictView):
            return value.items_list()
        if isinstance(value, Symbol):
            where = "a class of the DAG file" if value.local else "a name from outside the DAG folder, never imported"
            return self.unresolved(node, f"iterating over {value.qualname} ({where})")
        return self.unresolved(node, f"iterating over a {type(value).__name__}")

    def bind_target(self, target: cst.BaseExpression, value: object, scope: Scope) -> Unresolved | None:
        """Bind an assignment/loop target; returns an Unresolved when it cannot."""
        if isinstance(target, cst.Name):
            scope.assign(target.value, value)
            return None
        if isinstance(target, (cst.Tuple, cst.List)):
            items = self.iterate(value, target)
            if isinstance(items, Unresolved):
                for element in target.elements:
                    self.bind_target(element.value, items, scope)
                return None
            elements = target.elements
            if len(items) != len(elements) and not any(isinstance(e, cst.StarredElement) for e in elements):
                bad = self.unresolved(target, "unpacking a value of the wrong length")
                for element in elements:
                    self.bind_target(element.value, bad, scope)
                return bad
            for element, item in zip(elements, items):
                self.bind_target(element.value, item, scope)
            return None
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            base = self.eval(target.value, scope)
            element = target.slice[0].slice
            if isinstance(base, dict) and isinstance(element, cst.Index):
                key = self.eval(element.value, scope)
                if isinstance(key, Unresolved):
                    return key
                if not hashable(key):
                    return self.unresolved(target, "unhashable dict key")
                base[key] = value
                return None
            if isinstance(base, list) and isinstance(element, cst.Index):
                index = self.eval(element.value, scope)
                if isinstance(index, int) and -len(base) <= index < len(base):
                    base[index] = value
            return None
        if isinstance(target, cst.Attribute):
            base = self.eval(target.value, scope)
            self._ask(lambda library: library.set_attribute(base, target.attr.value, value, target))
            return None
        return self.unresolved(target, "assignment target")

    # -- calls ---------------------------------------------------------------------------------

    def eval_Call(self, node: cst.Call, scope: Scope) -> object:
        func = self.eval(node.func, scope)
        call = CallArgs()
        within = self.positions.within
        for arg in node.args:
            within(arg, node)  # an argument whose own text is ambiguous is placed within its call
            value = self.eval(arg.value, scope)
            if arg.star == "*":
                items = self.iterate(value, arg)
                if isinstance(items, Unresolved):
                    call.positional.append(items)
                else:
                    call.positional.extend(items)
            elif arg.star == "**":
                unknown = self.open_dicts.unknown_part(value)
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    call.keywords.update(value)  # type: ignore[arg-type]
                    for key in value:
                        call.nodes[key] = arg  # type: ignore[index]
                    if unknown is not None:
                        call.unknown_keywords = unknown
                else:
                    call.unknown_keywords = value if isinstance(value, Unresolved) \
                        else self.unresolved(arg, "** of a non-dict value")
                    call.nodes["**"] = arg
            elif arg.keyword is not None:
                call.keywords[arg.keyword.value] = value
                call.nodes[arg.keyword.value] = arg
            else:
                call.positional.append(value)
        return self.call(func, call, node)

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, Unresolved):
            if func.source or (func.span in self.inert_spans and self._data_only(call)):
                return func
            return self.opaque_call(func, node, func)
        if isinstance(func, BoundMethod):
            if call.unknown_keywords is not None:
                if not (isinstance(func.target, dict) and func.name == "update"):
                    return call.unknown_keywords
                self.open_dicts.mark(func.target, call.unknown_keywords)
            return call_method(self, func.target, func.name, call.positional, call.keywords, node)
        if isinstance(func, UserFunction):
            return self.call_function(func, call.positional, self._keywords(call), node)
        if isinstance(func, Builtin):
            return MODULE_BUILTINS[func.name](self, call.positional, call.keywords, node)
        if isinstance(func, Opaque):
            return Opaque(func.what)
        if isinstance(func, Symbol) and func.qualname.startswith("builtins."):
            handler = BUILTINS.get(func.qualname[len("builtins."):])
            if handler is None:
                return self.unresolved(node, f"builtin {func.qualname[len('builtins.'):]}()")
            try:
                return handler(self, call.positional, self._keywords(call), node)
            except (TypeError, ValueError, IndexError, OverflowError) as exc:
                return self.unresolved(node, f"{func.qualname[len('builtins.'):]}(): {exc}")
        answer = self._ask(lambda library: library.call(func, call, node))
        if answer is not NotImplemented:
            return answer
        if isinstance(func, Symbol):
            result = self.unresolved(node, f"call to {func.qualname}() cannot be evaluated statically")
            if not func.local and _inert_module(func.qualname) and self._data_only(call):
                self.inert_spans.add(result.span)
                return result
            return self.opaque_call(func, node, result)
        return self.unresolved(node, f"calling a {type(func).__name__}")

    def _data_only(self, call: CallArgs) -> bool:
        """No argument could be called back or changed in place (`random.shuffle(ids)`): immutable
        literals, unknown values, and names of inert modules."""
        def data(value: object) -> bool:
            if isinstance(value, Symbol):
                return not value.local and _inert_module(value.qualname)
            if isinstance(value, tuple):
                return all(data(item) for item in value)
            return value is None or isinstance(value, (str, bytes, int, float, Unresolved, Opaque))
        return all(data(v) for v in (*call.positional, *call.keywords.values())) \
            and (call.unknown_keywords is None or isinstance(call.unknown_keywords, Unresolved))

    @staticmethod
    def _keywords(call: CallArgs) -> dict[str, object]:
        """Keywords for Python-level callees: an unknown `**` is one more unknown keyword."""
        if call.unknown_keywords is None:
            return call.keywords
        return {**call.keywords, "**": call.unknown_keywords}

    def opaque_call(self, func: object, node: cst.Call, result: object) -> object:
        """A call the interpreter cannot follow (code outside the DAG folder, an unknown callable)
        may create tasks when it runs inside a region: refuse the region at the call's line."""
        if self.regions and (node, self.region_key()) not in self.reported_calls:
            self.reported_calls.add((node, self.region_key()))
            if isinstance(result, Unresolved):
                self.reported_spans.add((result.span, self.region_key()))
            what = f"{func.qualname}()" if isinstance(func, Symbol) else cst.Module(body=()).code_for_node(node.func) + "()"
            reason = result.reason if isinstance(result, Unresolved) else "unknown callable"
            if isinstance(func, Symbol):
                reason = "code outside the DAG folder is never imported or run"
            elif isinstance(func, Unresolved):
                reason = func.reason
            self.report(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                detail=f"call to {what} cannot be followed ({reason}); it may create tasks or dependencies",
                hint=_EFFECT_HINT,
            ))
        return result

    def call_function(self, func: UserFunction, args: list[object], kwargs: dict[str, object],
                      node: cst.CSTNode) -> object:
        """Interpret a call of a function defined in the file, with its arguments bound."""
        scope = self.bind_call(func, args, kwargs, node)
        if isinstance(scope, Unresolved):
            return scope
        return self.run_function(func, scope, node)

    def bind_call(self, func: UserFunction, args: list[object], kwargs: dict[str, object],
                  node: cst.CSTNode) -> Scope | Unresolved:
        """The scope of one call of `func`: parameters bound the way Python binds them."""
        if self.depth >= self.limits.call_depth:
            return self.unresolved(node, f"calls nested deeper than {self.limits.call_depth} levels")
        kwargs = dict(kwargs)
        scope = Scope(parent=func.scope)
        params = func.node.params
        positional = [*params.posonly_params, *params.params]
        remaining = list(args)

        def bind_by_name(name: str) -> bool:
            """A keyword argument, else the default; False when neither was given."""
            if name in kwargs:
                scope.values[name] = kwargs.pop(name)
            elif name in func.defaults:
                scope.values[name] = func.defaults[name]
            else:
                return False
            return True

        for param in positional:
            name = param.name.value
            if remaining:
                scope.values[name] = remaining.pop(0)
            elif not bind_by_name(name):
                return self.unresolved(node, f"{func.name}() called without argument {name!r}")
        if isinstance(params.star_arg, cst.Param):
            scope.values[params.star_arg.name.value] = tuple(remaining)
            remaining = []
        if remaining:
            return self.unresolved(node, f"{func.name}() called with too many arguments")
        for param in params.kwonly_params:
            if not bind_by_name(param.name.value):
                return self.unresolved(node, f"{func.name}() called without argument {param.name.value!r}")
        if params.star_kwarg is not None:
            unknown = kwargs.pop("**", None)
            rest: dict[object, object] = dict(kwargs)
            if isinstance(unknown, Unresolved):
                self.open_dicts.mark(rest, unknown)  # an unknown **mapping: the rest is partly unknown
            scope.values[params.star_kwarg.name.value] = rest
        elif kwargs:
            return self.unresolved(node, f"{func.name}() got unexpected arguments {sorted(kwargs)}")
        # Unresolved arguments are bound as values; they only matter where they are used.
        return scope

    def run_function(self, func: UserFunction, scope: Scope, node: cst.CSTNode) -> object:
        """Run `func`'s body in `scope` (one level deeper); what it returns."""
        self.meter.tick(node, _CALL_COST)
        self.depth += 1
        try:
            if isinstance(func.node, cst.Lambda):
                return self.eval(func.node.body, scope)
            try:
                self.exec_block(func.node.body, scope)
            except Return as ret:
                return ret.value
            except (Break, Continue):
                return None
            return None
        finally:
            self.depth -= 1

    # -- statements ------------------------------------------------------------------------------

    def exec_block(self, body: Sequence[cst.BaseStatement] | cst.BaseSuite, scope: Scope) -> None:
        if isinstance(body, cst.IndentedBlock):
            statements: Sequence[cst.CSTNode] = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            statements = body.body
        else:
            statements = body  # type: ignore[assignment]
        meter = self.meter
        for statement in statements:
            meter.work += 1
            if meter.work > meter._checkpoint:
                meter._check(statement)
            self.exec_statement(statement, scope)

    def exec_statement(self, node: cst.CSTNode, scope: Scope) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.exec_small(small, scope)
            return
        handler = getattr(self, f"exec_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope)
        elif isinstance(node, cst.BaseSmallStatement):
            self.exec_small(node, scope)
        else:
            self.construct_unsupported(node, f"{type(node).__name__} statements are not analysed")

    def exec_small(self, node: cst.BaseSmallStatement, scope: Scope) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            bindings = import_bindings(node, self.package)
            if bindings is None:
                return  # `from x import *`: names stay undefined and resolve as Unresolved on use
            for local, symbol in bindings:
                scope.assign(local, self.bind_import(symbol, node))
        elif isinstance(node, cst.Expr):
            value = self.eval(node.value, scope)
            self.check_effect(value, node.value)
        elif isinstance(node, cst.Assign):
            value = self.eval(node.value, scope)
            for target in node.targets:
                self.bind_target(target.target, value, scope)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.bind_target(node.target, self.eval(node.value, scope), scope)
        elif isinstance(node, cst.AugAssign):
            self.exec_augassign(node, scope)
        elif isinstance(node, cst.Return):
            raise Return(None if node.value is None else self.eval(node.value, scope))
        elif isinstance(node, cst.Break):
            raise Break()
        elif isinstance(node, cst.Continue):
            raise Continue()
        elif isinstance(node, cst.Global):
            scope.globals_names.update(n.name.value for n in node.names)
        # pass, del, assert, raise, nonlocal: no effect on the DAG's shape

    def check_effect(self, value: object, node: cst.CSTNode) -> None:
        """An expression statement whose effect is unknown may create tasks: refuse inside a region."""
        if isinstance(node, cst.Call) and (node, self.region_key()) in self.reported_calls:
            return
        if self.already_refused(value):
            return  # the call the value comes from is already refused at its own line
        if isinstance(value, Unresolved) and value.span in self.inert_spans:
            return  # a call into an inert module (io, zipfile, a hook...): no task, no dependency
        if isinstance(value, Unresolved) and self.regions:
            self.report(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                detail=f"statement inside the DAG cannot be analysed ({why(value)}); it may create tasks or dependencies",
                hint=_EFFECT_HINT,
            ))

    def exec_augassign(self, node: cst.AugAssign, scope: Scope) -> None:
        current = self.eval(node.target, scope)
        value = self.eval(node.value, scope)
        op = type(node.operator).__name__.replace("Assign", "")
        if isinstance(current, list) and op == "Add":
            items = self.iterate(value, node.value)
            if isinstance(items, list):
                self.meter.before_building(len(current) + len(items), "+=", node)
                current.extend(items)  # lists are extended in place, like Python does
                self.meter.built(current, node)
                return
        if isinstance(current, dict) and op == "BitOr" and isinstance(value, dict):
            current.update(value)
            self.open_dicts.copy_to(value, current)
            return
        result = self.binary(op, current, value, node)
        self.meter.built(result, node)
        self.bind_target(node.target, result, scope)

    def construct_unsupported(self, node: cst.CSTNode, detail: str, hint: str = "") -> None:
        if self.regions or creates_objects(node):
            self.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.span(node), detail=detail,
                                   hint=hint or "make the values it depends on literals or module constants"))

    def exec_FunctionDef(self, node: cst.FunctionDef, scope: Scope) -> None:
        function = UserFunction(node, scope, node.name.value, self.param_defaults(node.params, scope))
        value: object = function
        for decorator in reversed(node.decorators):
            deco = self.eval(decorator.decorator, scope)
            value = self.decorate(deco, value, decorator)
        scope.assign(node.name.value, value)

    def decorate(self, decorator: object, value: object, node: cst.CSTNode) -> object:
        if not isinstance(value, UserFunction):
            return value
        answer = self._ask(lambda library: library.decorate(decorator, value, node))
        if answer is not NotImplemented:
            return answer
        return self.unresolved(node, "function with a decorator the analyzer does not know")

    def exec_ClassDef(self, node: cst.ClassDef, scope: Scope) -> None:
        # Classes defined in the file cannot be imported by path from YAML; calls to them make
        # objects whose path is "<module>.<Class>", which the targets refuse.
        scope.assign(node.name.value, Symbol(f"{self.module_name}.{node.name.value}", local=True))

    def exec_If(self, node: cst.If, scope: Scope) -> None:
        self.positions.within(node.test, node)
        test = self.truth(self.eval(node.test, scope), node.test)
        if isinstance(test, Unresolved):
            if creates_objects(node):
                if self.already_refused(test):
                    return  # the call the condition comes from is refused at its own place
                self.report(codes.make(
                    codes.UNSUPPORTED_CONSTRUCT, self.span(node.test),
                    detail=f"condition cannot be evaluated statically ({why(test)}); the branches define different DAG content",
                    hint="make the condition depend on literals or module constants only",
                ))
                return
            self.exec_both_branches(node, test, scope)
            return
        if test:
            self.exec_block(node.body, scope)
        elif isinstance(node.orelse, cst.If):
            self.exec_If(node.orelse, scope)
        elif isinstance(node.orelse, cst.Else):
            self.exec_block(node.orelse.body, scope)

    def exec_both_branches(self, node: cst.If, test: Unresolved, scope: Scope) -> None:
        """An unknown condition around branches that only bind names (imports, constants):
        run each branch apart and keep the names both bind to the same value. The Airflow-version
        switch `if AIRFLOW_V_3_0_PLUS: from airflow.sdk import DAG else: from airflow.models.dag
        import DAG` binds one DAG class either way; a name that differs becomes Unresolved."""
        outcomes: list[dict[str, object]] = []
        for branch in (node.body, node.orelse):
            child = Scope(parent=scope)
            if isinstance(branch, cst.If):
                self.exec_If(branch, child)
            elif isinstance(branch, cst.Else):
                self.exec_block(branch.body, child)
            elif branch is not None:
                self.exec_block(branch, child)
            outcomes.append(child.values)
        for name in dict.fromkeys([*outcomes[0], *outcomes[1]]):
            bound = [(name in o, o[name]) if name in o else scope.lookup(name) for o in outcomes]
            if bound[0][0] and bound[1][0] and self.same_binding(bound[0][1], bound[1][1]):
                scope.assign(name, bound[0][1])
            else:
                scope.assign(name, Unresolved(f"{name!r} depends on a condition that cannot be evaluated "
                                              f"statically ({why(test)})", self.span(node.test)))

    def same_binding(self, left: object, right: object) -> bool:
        if left is right:
            return True
        if isinstance(left, Symbol) and isinstance(right, Symbol):
            if left.qualname == right.qualname:
                return True
            role = role_of(left.qualname)
            if role is not None:
                return role == role_of(right.qualname)
            return self._ask(lambda library: library.same_symbol(left, right)) is True
        if type(left) is not type(right) or isinstance(left, Unresolved):
            return False
        try:
            return bool(left == right)
        except Exception:  # pragma: no cover - values are plain data; equality should not raise
            return False

    def exec_For(self, node: cst.For, scope: Scope) -> None:
        items = self.iterate(self.eval(node.iter, scope), node.iter)
        if isinstance(items, Unresolved):
            if creates_objects(node.body):
                self.report(codes.make(
                    codes.UNSUPPORTED_CONSTRUCT, self.span(node.iter),
                    detail=f"loop over a collection that cannot be known statically ({why(items)})",
                    hint="loop over a literal list or a module constant",
                ))
            self.bind_target(node.target, items, scope)
            return
        broke = False
        meter = self.meter
        for item in items:
            meter.work += 1
            if meter.work > meter._checkpoint:
                meter._check(node)
            self.bind_target(node.target, item, scope)
            try:
                self.exec_block(node.body, scope)
            except Break:
                broke = True
                break
            except Continue:
                pass
        if not broke and node.orelse is not None:
            self.exec_block(node.orelse.body, scope)

    def exec_While(self, node: cst.While, scope: Scope) -> None:
        self.positions.within(node.test, node)
        while True:
            self.meter.tick(node)
            test = self.truth(self.eval(node.test, scope), node.test)
            if isinstance(test, Unresolved):
                if creates_objects(node.body):
                    self.report(codes.make(
                        codes.UNSUPPORTED_CONSTRUCT, self.span(node.test),
                        detail="while loop whose condition cannot be evaluated statically",
                        hint="use a for loop over a literal list",
                    ))
                return
            if not test:
                if node.orelse is not None:
                    self.exec_block(node.orelse.body, scope)
                return
            try:
                self.exec_block(node.body, scope)
            except Break:
                return
            except Continue:
                pass

    def exec_Try(self, node: cst.Try, scope: Scope) -> None:
        # The body is taken to succeed: `try: import new / except ImportError: import old` keeps
        # the new name, which is the one the target runs.
        self.exec_block(node.body, scope)
        if node.orelse is not None:
            self.exec_block(node.orelse.body, scope)
        if node.finalbody is not None:
            self.exec_block(node.finalbody.body, scope)

    def exec_With(self, node: cst.With, scope: Scope) -> None:
        exits: list[Callable[[], None]] = []
        try:
            for item in node.items:
                value = self.eval(item.item, scope)
                for library in self.libraries:
                    leave = library.enter(value, item)
                    if leave is not None:
                        exits.append(leave)
                        break
                if item.asname is not None:
                    self.bind_target(item.asname.name, value, scope)
            self.exec_block(node.body, scope)
        finally:
            for leave in reversed(exits):
                leave()

    # -- imports of DAG-folder modules -----------------------------------------------------------

    def bind_import(self, symbol: Symbol, node: cst.CSTNode) -> object:
        """The value an import binds: a folder module's value when the name is one, else the Symbol."""
        if self.imports is None:
            return symbol
        parts = symbol.qualname.split(".")
        # The longest dotted prefix that is a folder module. `a.b` can only be one when `a` is
        # (a package or a folder), so the search stops at the first prefix that is not.
        end = 0
        while end < len(parts) and self.imports.folder.module_file(".".join(parts[:end + 1])) is not None:
            end += 1
        if not end:
            return symbol
        if end < len(parts) - 1 and self.imports.folder.is_namespace(".".join(parts[:end])):
            # `from infra.s3_stack import X` with an unrelated `infra/` folder (no __init__.py) at the
            # root: Python merges namespace folders, so infra.s3_stack is code from outside the folder.
            return symbol
        value: object = ModuleValue(".".join(parts[:end]))
        for attr in parts[end:]:
            value = self.module_attribute(value, attr, node) if isinstance(value, ModuleValue) else value
        return value

    def module_scope_of(self, module: ModuleValue, node: cst.CSTNode) -> Scope | Unresolved:
        assert self.imports is not None
        scope = self.imports.scopes.get(module.name)
        if scope is not None:
            return scope  # loaded, or being loaded (a cyclic import sees the names bound so far)
        parsed = self.imports.folder.parse(module.name)
        if parsed is None or parsed.tree is None:
            problem = parsed.problem if parsed is not None else "not found"
            where = self.imports.folder.origin(parsed.relative) if parsed is not None else "the DAG folder"
            return self.unresolved(node, f"module {module.name} of {where}: {problem}")
        if self.imports.folder.shadowed(parsed.relative, self.limits.file_bytes):
            return self.unresolved(node, f"module {module.name} is both in the DAG folder and in the plugins archive, "
                                         "with other code: Airflow 2 imports the DAG folder's, Airflow 3 the plugins'; "
                                         "rename one of them")
        scope = Scope()
        self.imports.scopes[module.name] = scope
        self.imports.positions.append((parsed.display, parsed.positions))
        # A module's own interpreter, with libraries of its own: DAGs it defines when imported
        # are not this file's. It shares this file's Meter, so its work counts here.
        reader = Interpreter(parsed.display, parsed.tree, parsed.positions, module_name=module.name,
                             package=parsed.package, today=self.today, libraries=self.make_libraries,
                             limits=self.limits, imports=self.imports, meter=self.meter, file=parsed.relative,
                             run_values=self.run_values, inline_templates=self.inline_templates)
        reader.module_scope = scope
        reader.open_dicts = self.open_dicts
        reader.depth = self.depth + 1
        try:
            reader.exec_block(parsed.tree.body, scope)
        except (Return, Break, Continue):
            pass
        self.notes.extend(reader.notes)
        self.run_reads.extend(reader.run_reads)
        return scope

    def module_attribute(self, module: ModuleValue, name: str, node: cst.CSTNode) -> object:
        scope = self.module_scope_of(module, node)
        if isinstance(scope, Unresolved):
            return scope
        if name in scope.values:
            return scope.values[name]
        submodule = f"{module.name}.{name}"
        if self.imports is not None and self.imports.folder.module_file(submodule) is not None:
            return ModuleValue(submodule)
        return self.unresolved(node, f"module {module.name} of the DAG folder defines no {name!r}")


# ---------------------------------------------------------------------------------------------
# Does a statement create objects?

#: Node fields that hold only whitespace, parentheses, commas or comments: never a call.
_LAYOUT_FIELDS: Final = frozenset({
    "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "comma", "semicolon",
    "newline", "trailing_whitespace", "equal", "colon", "dot", "star", "lbracket", "rbracket", "lbrace", "rbrace",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(kind)
            if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace")
        )
    return names


def creates_objects(node: cst.CSTNode) -> bool:
    """Whether a statement contains calls, `with` blocks or shifts (anything that may add tasks).

    A direct walk over the nodes' fields that stops at the first find: libcst's visitor machinery
    rebuilds every node it passes and cost several milliseconds per statement."""
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.Call, cst.With)):
            return True
        if isinstance(current, cst.BinaryOperation) and isinstance(current.operator, (cst.RightShift, cst.LeftShift)):
            return True
        for name in _child_fields(type(current)):
            value = getattr(current, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))
    return False


__all__ = ["BaseLibrary", "FolderImports", "Interpreter", "Library", "LibraryFactory", "Region", "creates_objects"]
