"""Static evaluation of Python expressions, without running anything.

Values are plain Python values (str, int, float, bool, None, list, dict, tuple, set) plus the
model's typed values (DateTime, Duration, XComRef, CallableRef, ObjectValue) and `Unresolved`.
Anything the evaluator cannot compute exactly becomes `Unresolved(reason, span)`, which spreads
through every operation that touches it: the analyzer never guesses.

`Evaluator` handles expressions and the pure parts of the language (builtins, str/dict/list
methods, datetime arithmetic, comprehensions, calls of functions defined in the file). The DAG
semantics (DAG, operators, task groups, dependencies) live in `dags.py`, which extends it.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import libcst as cst
from dag_converter.analyzer.imports import RUNTIME_PREFIXES, Symbol, role_of
from dag_converter.analyzer.positions import StartPositions
from dag_converter.model import CallableRef, DateTime, Duration, ObjectValue, Span, Unresolved, XComRef

MAX_SEQUENCE: Final = 100_000  #: longest list/range the evaluator will build
MAX_STEPS: Final = 2_000_000  #: evaluation steps per file before giving up (endless loops)
COLLECT_EVERY: Final = 1 << 16  #: steps between garbage collections while automatic collection is off
MAX_CALL_DEPTH: Final = 40  #: nested calls of functions defined in the file
# Values are bounded so that no single operation on them can take much memory or time:
# `x = x + x` in a loop, `'%0999999999d' % 1` or `'a'.ljust(10**9)` stop with a diagnostic.
MAX_STRING: Final = 1_000_000  #: characters in a string value
MAX_INT_BITS: Final = 100_000  #: bits in an integer value
MAX_FORMAT_WIDTH: Final = 10_000  #: width or precision in a format spec, fill width of str methods
_SPEC_NUMBER: Final = re.compile(r"\d+")
_PERCENT_SPEC: Final = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


class Budget(Exception):
    """Raised when a file needs more work than the limits allow; the file is refused."""

    def __init__(self, detail: str, span: Span) -> None:
        super().__init__(detail)
        self.detail = detail
        self.span = span


class Return(Exception):
    """Control flow of `return` inside an interpreted function."""

    def __init__(self, value: object) -> None:
        self.value = value


class LoopControl(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind  # "break" | "continue"


@dataclass
class Scope:
    """Variables of a module or of one call of an interpreted function."""

    values: dict[str, object] = field(default_factory=dict)
    parent: "Scope | None" = None
    globals_names: set[str] = field(default_factory=set)

    def lookup(self, name: str) -> tuple[bool, object]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return True, scope.values[name]
            scope = scope.parent
        return False, None

    def root(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: object) -> None:
        if name in self.globals_names:
            self.root().values[name] = value
        else:
            self.values[name] = value


@dataclass
class UserFunction:
    """A function defined in the DAG file; calling it interprets its body."""

    node: cst.FunctionDef | cst.Lambda
    scope: Scope
    name: str
    defaults: dict[str, object]
    decorators: tuple[object, ...] = ()


@dataclass(frozen=True)
class RuntimeRead:
    """A value read from the outside world when the file runs (Variable.get, os.environ, ...)."""

    source: str
    span: Span


def _is_unresolved(value: object) -> bool:
    return isinstance(value, (Unresolved, RuntimeRead))


def first_unresolved(values: Sequence[object]) -> object | None:
    for value in values:
        if _is_unresolved(value):
            return value
    return None


_TRIGGER_RULES: Final = {
    "ALL_SUCCESS", "ALL_FAILED", "ALL_DONE", "ALL_DONE_SETUP_SUCCESS", "ALL_SKIPPED", "ONE_SUCCESS",
    "ONE_FAILED", "ONE_DONE", "NONE_FAILED", "NONE_FAILED_OR_SKIPPED", "NONE_SKIPPED", "DUMMY",
    "ALWAYS", "NONE_FAILED_MIN_ONE_SUCCESS", "ALL_DONE_MIN_ONE_SUCCESS",
}
_WEIGHT_RULES: Final = {"DOWNSTREAM", "UPSTREAM", "ABSOLUTE"}

_TIMEDELTA_UNITS: Final = {
    "weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
    "milliseconds": 0.001, "microseconds": 0.000001,
}
_SAFE_BUILTINS: Final = {
    "len", "range", "enumerate", "zip", "sorted", "str", "int", "float", "bool", "list", "dict", "set",
    "tuple", "min", "max", "sum", "abs", "round", "reversed", "any", "all", "frozenset",
}


class Evaluator:
    """Evaluates libcst expressions in a scope."""

    def __init__(self, path: str, positions: StartPositions, today: _dt.date) -> None:
        self.path = path
        self.positions = positions
        self.today = today
        self.steps = 0
        self.checkpoint = COLLECT_EVERY  #: the step count at which `tick` next looks up from the work
        self.depth = 0
        self.notes: list[tuple[str, Span, dict[str, object]]] = []  #: (code name, span, fields)

    # -- positions -----------------------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        start = self.positions.start(node)
        if start is None:
            return Span(self.path)
        return Span(self.path, start[0], start[1] + 1)  # model columns are 1-based

    def unresolved(self, node: cst.CSTNode, reason: str) -> Unresolved:
        return Unresolved(reason, self.span(node))

    def tick(self, node: cst.CSTNode, cost: int = 1) -> None:
        """Count `cost` steps of work against MAX_STEPS; work that grows with the DAG (a task
        group's members, say) charges its size, so the budget bounds time, not only statements."""
        self.steps += cost
        if self.steps > self.checkpoint:
            self._checkpoint(node)

    def _checkpoint(self, node: cst.CSTNode) -> None:
        if self.steps > MAX_STEPS:
            raise Budget(f"analysis stopped after {MAX_STEPS} steps (an endless or very long loop?)", self.span(node))
        # pipeline.py turns automatic garbage collection off while a file is analysed: it found
        # little to free there and cost a tenth of the time. A long evaluation frees its cyclic
        # garbage (the tracebacks of `return` and `continue`) here instead, so memory stays flat.
        if not gc.isenabled():
            gc.collect(1)
        self.checkpoint = min(MAX_STEPS, self.steps + COLLECT_EVERY)

    # -- expressions ---------------------------------------------------------------------------

    def eval(self, node: cst.BaseExpression, scope: Scope) -> object:
        self.tick(node)
        method = getattr(self, f"eval_{type(node).__name__}", None)
        if method is None:
            return self.unresolved(node, f"{type(node).__name__} expressions are not evaluated statically")
        return self.bounded(method(node, scope), node)

    def bounded(self, value: object, node: cst.CSTNode) -> object:
        """`value`, or Budget when it is larger than the evaluator lets a value grow."""
        if isinstance(value, str):
            too_large = len(value) > MAX_STRING
        elif isinstance(value, (list, tuple, dict, set, frozenset)):
            too_large = len(value) > MAX_SEQUENCE
        elif isinstance(value, int):
            too_large = value.bit_length() > MAX_INT_BITS
        else:
            return value
        if too_large:
            raise Budget(f"value too large to analyse (a {type(value).__name__} over the evaluator's limit)",
                         self.span(node))
        return value

    def eval_Integer(self, node: cst.Integer, scope: Scope) -> object:
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError as exc:  # over sys.get_int_max_str_digits() digits, or `0777`
            return self.unresolved(node, f"integer literal: {exc}")

    def eval_Float(self, node: cst.Float, scope: Scope) -> object:
        return float(node.value.replace("_", ""))

    def eval_SimpleString(self, node: cst.SimpleString, scope: Scope) -> object:
        prefix = node.prefix.lower()
        if "b" in prefix:
            return self.unresolved(node, "bytes literals have no YAML form")
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
            if _is_unresolved(value):
                return value
            if part.conversion == "r":
                value = self._repr(value, part)
            elif part.conversion == "a":
                value = self._repr(value, part)
            spec = ""
            if part.format_spec:
                spec_value = self.formatted(part.format_spec, False, part, scope)
                if _is_unresolved(spec_value):
                    return spec_value
                spec = str(spec_value)
            text = self._format(value, spec, part)
            if _is_unresolved(text):
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

    def _format(self, value: object, spec: str, node: cst.CSTNode) -> object:
        if isinstance(value, (str, int, float, bool)) or value is None:
            if not _narrow_spec(spec):
                return self.unresolved(node, f"format spec wider than {MAX_FORMAT_WIDTH}")
            try:
                return format(value, spec)
            except (ValueError, TypeError, OverflowError) as exc:
                return self.unresolved(node, f"format spec {spec!r}: {exc}")
        if isinstance(value, DateTime) and not spec:
            return str(value.value) if value.tz in (None, "UTC") else self.unresolved(node, "formatting a zoned datetime")
        if isinstance(value, DateTime):
            return value.value.strftime(spec) if "%" in spec else self.unresolved(node, f"datetime format {spec!r}")
        if isinstance(value, (list, tuple, dict)) and not spec:
            return self._repr(value, node) if not isinstance(value, str) else value
        return self.unresolved(node, f"formatting a {type(value).__name__} value")

    def _repr(self, value: object, node: cst.CSTNode) -> object:
        if isinstance(value, (str, int, float, bool, list, tuple, dict)) or value is None:
            if _contains_special(value):
                return self.unresolved(node, "repr() of a value holding non-literal objects")
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
        if name in _SAFE_BUILTINS:
            return Symbol(f"builtins.{name}")
        return self.unresolved(node, f"name {name!r} is not defined in this file")

    def eval_Attribute(self, node: cst.Attribute, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        return self.attribute(base, node.attr.value, node)

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if _is_unresolved(base):
            return base
        if isinstance(base, Symbol):
            qual = f"{base.qualname}.{name}"
            owner_role = role_of(base.qualname)
            if owner_role == "TriggerRule" and name in _TRIGGER_RULES:
                return name.lower()
            if owner_role == "WeightRule" and name in _WEIGHT_RULES:
                return name.lower()
            if qual == "os.environ":
                return RuntimeRead("os.environ", self.span(node))
            return base.attribute(name)
        if isinstance(base, DateTime):
            if name in ("year", "month", "day", "hour", "minute", "second", "microsecond"):
                return getattr(base.value, name)
        if isinstance(base, Duration):
            if name == "days":
                return int(base.seconds // 86400)
            if name == "seconds":
                return int(base.seconds % 86400)
        if isinstance(base, (str, list, dict, tuple, set)):
            return BoundMethod(base, name)
        return self.attribute_hook(base, name, node)

    def attribute_hook(self, base: object, name: str, node: cst.CSTNode) -> object:
        return self.unresolved(node, f"attribute {name!r} of a {type(base).__name__}")

    def eval_Subscript(self, node: cst.Subscript, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        if _is_unresolved(base):
            return base
        if len(node.slice) != 1:
            return self.unresolved(node, "multi-dimensional subscript")
        element = node.slice[0].slice
        if isinstance(element, cst.Slice):
            parts = []
            for part in (element.lower, element.upper, element.step):
                parts.append(None if part is None else self.eval(part, scope))
            bad = first_unresolved(parts)
            if bad is not None:
                return bad
            if not isinstance(base, (str, list, tuple)):
                return self.unresolved(node, f"slicing a {type(base).__name__}")
            try:
                return base[slice(*parts)]  # type: ignore[misc]
            except (TypeError, ValueError, OverflowError) as exc:
                return self.unresolved(node, f"slice: {exc}")
        key = self.eval(element.value, scope)  # type: ignore[union-attr]
        return self.subscript(base, key, node)

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        if _is_unresolved(key):
            return key
        if isinstance(base, RuntimeRead):
            return base
        if isinstance(base, dict):
            if _hashable(key) and key in base:
                return base[key]
            return self.unresolved(node, f"key {key!r} is not in the dict")
        if isinstance(base, (list, tuple, str)) and isinstance(key, int) and not isinstance(key, bool):
            try:
                return base[key]
            except IndexError:
                return self.unresolved(node, f"index {key} out of range")
        return self.subscript_hook(base, key, node)

    def subscript_hook(self, base: object, key: object, node: cst.CSTNode) -> object:
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
        return self._make_set(items, node)

    def _make_set(self, items: list[object], node: cst.CSTNode) -> object:
        if not all(_hashable(item) for item in items):
            return self.unresolved(node, "set of unhashable values")
        return set(items)

    def _elements(self, elements: Sequence[cst.BaseElement], scope: Scope, node: cst.CSTNode) -> object:
        items: list[object] = []
        for element in elements:
            value = self.eval(element.value, scope)
            if isinstance(element, cst.StarredElement):
                iterable = self.iterate(value, element)
                if _is_unresolved(iterable):
                    return iterable
                items.extend(iterable)  # type: ignore[arg-type]
            else:
                items.append(value)
            if len(items) > MAX_SEQUENCE:
                raise Budget(f"literal with more than {MAX_SEQUENCE} elements", self.span(node))
        return items

    def eval_Dict(self, node: cst.Dict, scope: Scope) -> object:
        result: dict[object, object] = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.eval(element.value, scope)
                if _is_unresolved(value):
                    return value
                if not isinstance(value, dict):
                    return self.unresolved(element, f"** of a {type(value).__name__}")
                result.update(value)
                continue
            key = self.eval(element.key, scope)
            if _is_unresolved(key):
                return key
            if not _hashable(key):
                return self.unresolved(element, "unhashable dict key")
            result[key] = self.eval(element.value, scope)
            if len(result) > MAX_SEQUENCE:
                raise Budget(f"dict literal with more than {MAX_SEQUENCE} entries", self.span(node))
        return result

    def eval_IfExp(self, node: cst.IfExp, scope: Scope) -> object:
        test = self.truth(self.eval(node.test, scope), node.test)
        if _is_unresolved(test):
            return test
        return self.eval(node.body if test else node.orelse, scope)

    def eval_UnaryOperation(self, node: cst.UnaryOperation, scope: Scope) -> object:
        value = self.eval(node.expression, scope)
        if _is_unresolved(value):
            return value
        op = type(node.operator).__name__
        if op == "Not":
            truth = self.truth(value, node)
            return truth if _is_unresolved(truth) else not truth
        if isinstance(value, (int, float)) and not isinstance(value, bool) or isinstance(value, bool):
            if op == "Minus":
                return -value  # type: ignore[operator]
            if op == "Plus":
                return +value  # type: ignore[operator]
            if op == "BitInvert" and isinstance(value, int):
                return ~value
        if isinstance(value, Duration) and op == "Minus":
            return Duration(-value.seconds)
        return self.unresolved(node, f"unary {op} of a {type(value).__name__}")

    def eval_BooleanOperation(self, node: cst.BooleanOperation, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        truth = self.truth(left, node.left)
        if _is_unresolved(truth):
            return truth
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, scope) if truth else left
        return left if truth else self.eval(node.right, scope)

    def truth(self, value: object, node: cst.CSTNode) -> object:
        if _is_unresolved(value):
            return value
        if isinstance(value, (str, int, float, bool, list, tuple, dict, set)) or value is None:
            return bool(value)
        if isinstance(value, (DateTime, Duration)):
            return True if isinstance(value, DateTime) else bool(value.seconds)
        return self.unresolved(node, f"truth value of a {type(value).__name__}")

    def eval_Comparison(self, node: cst.Comparison, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            bad = first_unresolved([left, right])
            if bad is not None:
                return bad
            outcome = self.compare(type(target.operator).__name__, left, right, node)
            if outcome is not True:
                return outcome
            left = right
        return True

    def compare(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if not (_plain(left) and _plain(right)):
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
        bad = first_unresolved([left, right])
        if bad is not None:
            return bad
        if op in ("RightShift", "LeftShift"):
            return self.shift_hook(op, left, right, node)
        if isinstance(left, (DateTime, Duration)) or isinstance(right, (DateTime, Duration)):
            return self._time_arithmetic(op, left, right, node)
        if op == "Modulo" and isinstance(left, str):
            if isinstance(right, list) or not (_plain(right)):
                return self.unresolved(node, "% formatting with non-literal values")
            specs = [n for m in _PERCENT_SPEC.finditer(left) for n in m.groups() if n]
            values = right if isinstance(right, tuple) else (right,)
            if not _narrow_spec(" ".join(specs), values if "*" in specs else ()):
                return self.unresolved(node, f"% format wider than {MAX_FORMAT_WIDTH}")
            try:
                return left % right  # type: ignore[operator]
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                return self.unresolved(node, f"% formatting: {exc}")
        if op == "BitOr" and isinstance(left, dict) and isinstance(right, dict):
            return {**left, **right}
        if not (_plain(left) and _plain(right)):
            return self.binary_hook(op, left, right, node)
        func = self._OPS.get(op)
        if func is None:
            return self.unresolved(node, f"operator {op}")
        if op == "Multiply" and isinstance(left, (str, list, tuple)) and isinstance(right, int):
            if len(left) * right > MAX_SEQUENCE:  # type: ignore[arg-type]
                raise Budget("repetition builds a value too large to analyse", self.span(node))
        if op == "Power" and isinstance(right, int) and right > 1024:
            return self.unresolved(node, "exponent too large")
        if op == "Power" and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() * right > MAX_INT_BITS:
            return self.unresolved(node, "power too large")
        try:
            return self.bounded(func(left, right), node)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
            return self.unresolved(node, f"{op}: {exc}")

    def binary_hook(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        return self.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")

    def shift_hook(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
            if right > 64:
                return self.unresolved(node, "shift too large")
            return left >> right if op == "RightShift" else left << right
        return self.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")

    def _time_arithmetic(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if isinstance(left, Duration) and isinstance(right, Duration):
            if op == "Add":
                return Duration(left.seconds + right.seconds)
            if op == "Subtract":
                return Duration(left.seconds - right.seconds)
            if op in ("Divide", "FloorDivide"):
                return left.seconds / right.seconds if op == "Divide" else left.seconds // right.seconds
        if isinstance(left, Duration) and isinstance(right, (int, float)) and not isinstance(right, bool):
            if op == "Multiply":
                return Duration(left.seconds * right)
            if op in ("Divide", "FloorDivide"):
                return Duration(left.seconds / right if op == "Divide" else left.seconds // right)
        if isinstance(right, Duration) and isinstance(left, (int, float)) and op == "Multiply":
            return Duration(right.seconds * left)
        if isinstance(left, DateTime) and isinstance(right, Duration) and op in ("Add", "Subtract"):
            delta = _dt.timedelta(seconds=right.seconds)
            return DateTime(left.value + delta if op == "Add" else left.value - delta, left.tz)
        if isinstance(left, Duration) and isinstance(right, DateTime) and op == "Add":
            return DateTime(right.value + _dt.timedelta(seconds=left.seconds), right.tz)
        if isinstance(left, DateTime) and isinstance(right, DateTime) and op == "Subtract":
            if left.tz == right.tz:
                return Duration((left.value - right.value).total_seconds())
        return self.unresolved(node, f"{op} of {type(left).__name__} and {type(right).__name__}")

    # -- comprehensions --------------------------------------------------------------------------

    def _comprehension(self, node: cst.BaseComp, scope: Scope) -> Iterator[Scope]:
        def walk(comp: cst.CompFor, inner: Scope) -> Iterator[Scope]:
            iterable = self.iterate(self.eval(comp.iter, inner), comp.iter)
            if _is_unresolved(iterable):
                raise _Abort(iterable)
            for item in iterable:  # type: ignore[union-attr]
                self.tick(comp)
                child = Scope(parent=inner)
                bad = self.bind_target(comp.target, item, child)
                if bad is not None:
                    raise _Abort(bad)
                keep = True
                for cond in comp.ifs:
                    truth = self.truth(self.eval(cond.test, child), cond)
                    if _is_unresolved(truth):
                        raise _Abort(truth)
                    if not truth:
                        keep = False
                        break
                if not keep:
                    continue
                if comp.inner_for_in is not None:
                    yield from walk(comp.inner_for_in, child)
                else:
                    yield child

        yield from walk(node.for_in, Scope(parent=scope))

    def eval_ListComp(self, node: cst.ListComp, scope: Scope) -> object:
        try:
            return [self.eval(node.elt, inner) for inner in self._comprehension(node, scope)]
        except _Abort as abort:
            return abort.value

    def eval_GeneratorExp(self, node: cst.GeneratorExp, scope: Scope) -> object:
        return self.eval_ListComp(node, scope)  # type: ignore[arg-type]

    def eval_SetComp(self, node: cst.SetComp, scope: Scope) -> object:
        items = self.eval_ListComp(node, scope)  # type: ignore[arg-type]
        return self._make_set(items, node) if isinstance(items, list) else items

    def eval_DictComp(self, node: cst.DictComp, scope: Scope) -> object:
        result: dict[object, object] = {}
        try:
            for inner in self._comprehension(node, scope):
                key = self.eval(node.key, inner)
                if _is_unresolved(key) or not _hashable(key):
                    return key if _is_unresolved(key) else self.unresolved(node, "unhashable key")
                result[key] = self.eval(node.value, inner)
        except _Abort as abort:
            return abort.value
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

    def iterate(self, value: object, node: cst.CSTNode) -> object:
        """A list of the items of an iterable value, or Unresolved."""
        if _is_unresolved(value):
            return value
        if isinstance(value, (list, tuple, str)):
            return list(value)
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, (set, frozenset)):
            if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
                try:
                    # Python's set order is an implementation detail; Airflow's order for
                    # str items depends on hash randomisation, so order does not decide task ids.
                    return sorted(value)
                except TypeError:
                    pass
            return self.unresolved(node, "iteration order of a set is not fixed")
        if isinstance(value, DictView):
            return value.items_list()
        return self.unresolved(node, f"iterating over a {type(value).__name__}")

    def bind_target(self, target: cst.BaseExpression, value: object, scope: Scope) -> object | None:
        """Bind an assignment/loop target; returns an Unresolved when it cannot."""
        if isinstance(target, cst.Name):
            scope.assign(target.value, value)
            return None
        if isinstance(target, (cst.Tuple, cst.List)):
            items = self.iterate(value, target)
            if _is_unresolved(items):
                for element in target.elements:
                    self.bind_target(element.value, items, scope)
                return None
            elements = target.elements
            if len(items) != len(elements) and not any(isinstance(e, cst.StarredElement) for e in elements):  # type: ignore[arg-type]
                bad = self.unresolved(target, "unpacking a value of the wrong length")
                for element in elements:
                    self.bind_target(element.value, bad, scope)
                return bad
            for element, item in zip(elements, items):  # type: ignore[arg-type]
                self.bind_target(element.value, item, scope)
            return None
        return self.assign_hook(target, value, scope)

    def assign_hook(self, target: cst.BaseExpression, value: object, scope: Scope) -> object | None:
        return self.unresolved(target, "assignment target")

    # -- calls ---------------------------------------------------------------------------------

    def eval_Call(self, node: cst.Call, scope: Scope) -> object:
        func = self.eval(node.func, scope)
        args: list[object] = []
        kwargs: dict[str, object] = {}
        kwarg_nodes: dict[str, cst.Arg] = {}
        within = self.positions.within
        for arg in node.args:
            within(arg, node)  # an argument whose own text is ambiguous is placed within its call
            value = self.eval(arg.value, scope)
            if arg.star == "*":
                items = self.iterate(value, arg)
                if _is_unresolved(items):
                    args.append(items)
                else:
                    args.extend(items)  # type: ignore[arg-type]
            elif arg.star == "**":
                if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                    kwargs.update(value)  # type: ignore[arg-type]
                    for key in value:
                        kwarg_nodes[key] = arg  # type: ignore[index]
                else:
                    kwargs["**"] = value if _is_unresolved(value) else self.unresolved(arg, "** of a non-dict value")
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
                kwarg_nodes[arg.keyword.value] = arg
            else:
                args.append(value)
        return self.call(func, args, kwargs, node, kwarg_nodes)

    def call(self, func: object, args: list[object], kwargs: dict[str, object], node: cst.Call,
             kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        if isinstance(func, RuntimeRead):
            return func
        if _is_unresolved(func):
            return self.opaque_call(func, node, func)
        if isinstance(func, BoundMethod):
            return self.call_method(func, args, kwargs, node)
        if isinstance(func, UserFunction):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, Symbol):
            if func.qualname.startswith("builtins."):
                return self.call_builtin(func.qualname[len("builtins."):], args, kwargs, node)
            handled = self.call_value_symbol(func, args, kwargs, node)
            if handled is not _NOT_HANDLED:
                return handled
            return self.call_symbol(func, args, kwargs, node, kwarg_nodes)
        return self.call_hook(func, args, kwargs, node, kwarg_nodes)

    def call_hook(self, func: object, args: list[object], kwargs: dict[str, object], node: cst.Call,
                  kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        return self.unresolved(node, f"calling a {type(func).__name__}")

    def opaque_call(self, func: object, node: cst.Call, result: object) -> object:
        """Called with every call the evaluator cannot follow; returns the call's value."""
        return result

    def call_symbol(self, func: Symbol, args: list[object], kwargs: dict[str, object], node: cst.Call,
                    kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        return self.unresolved(node, f"call to {func.qualname}() cannot be evaluated statically")

    def call_function(self, func: UserFunction, args: list[object], kwargs: dict[str, object],
                      node: cst.CSTNode) -> object:
        """Interpret a call of a function defined in the file, with its arguments bound."""
        if self.depth >= MAX_CALL_DEPTH:
            return self.unresolved(node, f"calls nested deeper than {MAX_CALL_DEPTH} levels")
        bad = first_unresolved([*args, *kwargs.values()])
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
            scope.values[params.star_kwarg.name.value] = dict(kwargs)
        elif kwargs:
            return self.unresolved(node, f"{func.name}() got unexpected arguments {sorted(kwargs)}")
        del bad  # unresolved arguments are bound as values; they only matter where they are used
        self.depth += 1
        try:
            if isinstance(func.node, cst.Lambda):
                return self.eval(func.node.body, scope)
            return self.run_body(func, scope)
        finally:
            self.depth -= 1

    def run_body(self, func: UserFunction, scope: Scope) -> object:
        return self.unresolved(func.node, "function bodies are interpreted by the DAG analyzer")

    def call_method(self, method: BoundMethod, args: list[object], kwargs: dict[str, object],
                    node: cst.CSTNode) -> object:
        bad = first_unresolved([*args, *kwargs.values()])
        target, name = method.target, method.name
        if isinstance(target, str):
            if name == "format":
                if bad is not None:
                    return bad
                if not all(_plain(v) for v in [*args, *kwargs.values()]):
                    return self.unresolved(node, ".format() with non-literal values")
                try:
                    specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(target)]
                except ValueError as exc:
                    return self.unresolved(node, f".format(): {exc}")
                if not _narrow_spec(" ".join(specs), [*args, *kwargs.values()] if "{" in "".join(specs) else ()):
                    return self.unresolved(node, f".format() wider than {MAX_FORMAT_WIDTH}")
                try:
                    return target.format(*args, **kwargs)
                except (IndexError, KeyError, ValueError) as exc:
                    return self.unresolved(node, f".format(): {exc}")
            if name in _STR_METHODS:
                if bad is not None:
                    return bad
                if name == "join":
                    items = self.iterate(args[0], node) if args else None
                    if _is_unresolved(items):
                        return items
                    if not all(isinstance(i, str) for i in items):  # type: ignore[union-attr]
                        return self.unresolved(node, "join() of non-strings")
                    size = sum(map(len, items)) + len(target) * len(items)  # type: ignore[arg-type]
                    if size > MAX_STRING:
                        raise Budget("join() builds a string too large to analyse", self.span(node))
                    return target.join(items)  # type: ignore[arg-type]
                if not all(_plain(v) for v in [*args, *kwargs.values()]):
                    return self.unresolved(node, f"str.{name}() with non-literal arguments")
                if name in ("zfill", "center", "ljust", "rjust") and not _narrow_spec("", args):
                    return self.unresolved(node, f"str.{name}() wider than {MAX_FORMAT_WIDTH}")
                if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) \
                        and (target.count(args[0]) + 1) * len(args[1]) + len(target) > MAX_STRING:
                    raise Budget("replace() builds a string too large to analyse", self.span(node))
                try:
                    return getattr(target, name)(*args, **kwargs)
                except (TypeError, ValueError, OverflowError) as exc:
                    return self.unresolved(node, f"str.{name}(): {exc}")
        if isinstance(target, dict):
            if name == "copy" and not args:
                return dict(target)
            if name == "get" and args and _hashable(args[0]):
                return target.get(args[0], args[1] if len(args) > 1 else None)  # type: ignore[arg-type]
            if name == "update":
                for arg in args:
                    if _is_unresolved(arg):
                        target["**"] = arg
                    elif isinstance(arg, dict):
                        target.update(arg)
                    else:
                        return self.unresolved(node, "dict.update() with a non-dict")
                target.update(kwargs)
                return None
            if name in ("keys", "values", "items"):
                return DictView(target, name)
            if name == "pop" and args and _hashable(args[0]):
                if args[0] in target:
                    return target.pop(args[0])  # type: ignore[arg-type]
                return args[1] if len(args) > 1 else self.unresolved(node, f"key {args[0]!r} not in dict")
            if name == "setdefault" and args and _hashable(args[0]):
                return target.setdefault(args[0], args[1] if len(args) > 1 else None)  # type: ignore[arg-type]
        if isinstance(target, list):
            if name == "append" and len(args) == 1:
                target.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                items = self.iterate(args[0], node)
                if _is_unresolved(items):
                    target.append(items)
                    return None
                target.extend(items)  # type: ignore[arg-type]
                self.bounded(target, node)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                target.insert(args[0], args[1])
                return None
            if name == "copy" and not args:
                return list(target)
            if name in ("index", "count") and len(args) == 1 and _plain(args[0]):
                try:
                    return getattr(target, name)(args[0])
                except ValueError as exc:
                    return self.unresolved(node, str(exc))
        if isinstance(target, (tuple, list)) and name in ("index", "count") and len(args) == 1:
            try:
                return getattr(target, name)(args[0])
            except ValueError as exc:
                return self.unresolved(node, str(exc))
        return self.method_hook(method, args, kwargs, node)

    def method_hook(self, method: BoundMethod, args: list[object], kwargs: dict[str, object],
                    node: cst.CSTNode) -> object:
        return self.unresolved(node, f"method {method.name}() of a {type(method.target).__name__}")

    def call_builtin(self, name: str, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        bad = first_unresolved([*args, *kwargs.values()])
        if bad is not None:
            return bad
        try:
            if name == "range":
                if not all(isinstance(a, int) for a in args):
                    return self.unresolved(node, "range() of non-integers")
                size = len(range(*args))  # type: ignore[arg-type]
                if size > MAX_SEQUENCE:
                    raise Budget(f"range() of {size} items is too large to analyse", self.span(node))
                return list(range(*args))  # type: ignore[arg-type]
            if name in ("list", "tuple", "set", "frozenset", "sorted", "reversed", "enumerate", "zip",
                        "min", "max", "sum", "any", "all"):
                lists = [self.iterate(a, node) for a in args]
                bad = first_unresolved(lists)
                if bad is not None:
                    return bad
                if name == "list":
                    return list(lists[0]) if lists else []  # type: ignore[arg-type]
                if name == "tuple":
                    return tuple(lists[0]) if lists else ()  # type: ignore[arg-type]
                if name in ("set", "frozenset"):
                    return self._make_set(list(lists[0]) if lists else [], node)  # type: ignore[arg-type]
                if name == "sorted":
                    if "key" in kwargs:
                        return self.unresolved(node, "sorted() with a key function")
                    if not all(_plain(v) for v in lists[0]):  # type: ignore[union-attr]
                        return self.unresolved(node, "sorted() of non-literal values")
                    return sorted(lists[0], reverse=bool(kwargs.get("reverse", False)))  # type: ignore[arg-type,type-var]
                if name == "reversed":
                    return list(reversed(lists[0]))  # type: ignore[arg-type]
                if name == "enumerate":
                    start = kwargs.get("start", args[1] if len(args) > 1 else 0)
                    return [(i, v) for i, v in enumerate(lists[0], start)]  # type: ignore[arg-type,call-overload]
                if name == "zip":
                    return [tuple(t) for t in zip(*lists)]  # type: ignore[call-overload]
                if not all(_plain(v) for lst in lists for v in lst):  # type: ignore[union-attr]
                    return self.unresolved(node, f"{name}() of non-literal values")
                if name in ("min", "max") and len(args) > 1:
                    return min(args) if name == "min" else max(args)  # type: ignore[type-var]
                return {"min": min, "max": max, "sum": sum, "any": any, "all": all}[name](lists[0])  # type: ignore[operator]
            if name == "len":
                if isinstance(args[0], (str, list, tuple, dict, set)):
                    return len(args[0])
                return self.unresolved(node, f"len() of a {type(args[0]).__name__}")
            if name == "dict":
                result: dict[object, object] = {}
                if args:
                    source = args[0]
                    if isinstance(source, dict):
                        result.update(source)
                    else:
                        items = self.iterate(source, node)
                        if _is_unresolved(items):
                            return items
                        for item in items:  # type: ignore[union-attr]
                            if not (isinstance(item, (tuple, list)) and len(item) == 2 and _hashable(item[0])):
                                return self.unresolved(node, "dict() of items that are not pairs")
                            result[item[0]] = item[1]
                result.update(kwargs)
                return result
            if name in ("str", "int", "float", "bool", "abs", "round"):
                if not all(_plain(a) for a in args):
                    if name == "str" and args and isinstance(args[0], DateTime) and args[0].tz in (None, "UTC"):
                        return str(args[0].value)
                    return self.unresolved(node, f"{name}() of a non-literal value")
                return {"str": str, "int": int, "float": float, "bool": bool, "abs": abs, "round": round}[name](*args)
        except (TypeError, ValueError, IndexError, OverflowError) as exc:
            return self.unresolved(node, f"{name}(): {exc}")
        return self.unresolved(node, f"builtin {name}()")

    # -- known value constructors (datetime, timedelta, pendulum, enums) -------------------------

    def call_value_symbol(self, func: Symbol, args: list[object], kwargs: dict[str, object],
                          node: cst.Call) -> object:
        role = role_of(func.qualname)
        qual = func.qualname
        if role is None:
            if qual in ("os.getenv", "os.environ.get") or qual.startswith(RUNTIME_PREFIXES) or qual == "open":
                return RuntimeRead(f"{qual}()", self.span(node))
            if qual.endswith(".get") and role_of(qual[: -len(".get")]) == "Variable":
                return RuntimeRead("Variable.get()", self.span(node))
            if qual.endswith(".get_connection") or ".Connection" in qual:
                return RuntimeRead(f"{qual}()", self.span(node))
            return _NOT_HANDLED
        bad = first_unresolved([*args, *kwargs.values()])
        if role in ("timedelta", "pendulum_duration"):
            if bad is not None:
                return bad
            return self._timedelta(args, kwargs, node, pendulum=role == "pendulum_duration")
        if role in ("datetime", "pendulum_datetime", "airflow_utc_datetime", "date"):
            if bad is not None:
                return bad
            return self._datetime(role, args, kwargs, node)
        if role == "pendulum_timezone":
            if bad is not None:
                return bad
            if len(args) == 1 and isinstance(args[0], str):
                return TimeZone(args[0])
            return self.unresolved(node, "time zone from a non-literal name")
        if role == "days_ago":
            if bad is not None:
                return bad
            days = args[0] if args else kwargs.get("n")
            if not isinstance(days, int) or len(args) > 1 or set(kwargs) - {"n"}:
                return self.unresolved(node, "days_ago() with arguments other than a day count")
            date = _dt.datetime.combine(self.today, _dt.time()) - _dt.timedelta(days=days)
            self.notes.append(("relative-start-date", self.span(node),
                               {"call": f"days_ago({days})", "date": date.date().isoformat()}))
            return DateTime(date, None)
        if role == "now":
            return self.unresolved(node, f"{qual}() is the time the file is parsed, not a fixed value")
        if role == "Variable":
            return RuntimeRead("Variable", self.span(node))
        if role == "os_environ":
            return RuntimeRead(f"{qual}()", self.span(node))
        return _NOT_HANDLED

    def _timedelta(self, args: list[object], kwargs: dict[str, object], node: cst.CSTNode, pendulum: bool) -> object:
        names = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
        if pendulum:
            if {"years", "months"} & set(kwargs):
                return self.unresolved(node, "durations in months or years have no fixed length")
            names = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
        values = dict(zip(names, args))
        values.update(kwargs)
        total = 0.0
        for unit, amount in values.items():
            if unit not in _TIMEDELTA_UNITS or not isinstance(amount, (int, float)) or isinstance(amount, bool):
                return self.unresolved(node, f"timedelta argument {unit}={amount!r}")
            total += amount * _TIMEDELTA_UNITS[unit]
        # Round away float noise from milliseconds/microseconds the way timedelta does (to 1 µs).
        return Duration(round(total, 6))

    def _datetime(self, role: str, args: list[object], kwargs: dict[str, object], node: cst.CSTNode) -> object:
        fields = ["year", "month", "day", "hour", "minute", "second", "microsecond"]
        values = dict(zip(fields, args))
        tz: object = "UTC" if role in ("pendulum_datetime", "airflow_utc_datetime") else None
        for key, value in kwargs.items():
            if key in fields:
                values[key] = value
            elif key in ("tz", "tzinfo"):
                tz = value
            else:
                return self.unresolved(node, f"datetime argument {key!r}")
        if len(args) > len(fields):
            extra = args[len(fields)]
            tz = extra
        if isinstance(tz, TimeZone):
            tz = tz.name
        elif isinstance(tz, Symbol) and role_of(tz.qualname) == "timezone_utc":
            tz = "UTC"
        if tz is not None and not isinstance(tz, str):
            return self.unresolved(node, "time zone that is not a literal zone name")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values.values()):
            return self.unresolved(node, "datetime fields must be integers")
        try:
            moment = _dt.datetime(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError) as exc:
            return self.unresolved(node, f"datetime: {exc}")
        if isinstance(tz, str) and tz not in ("UTC", "utc", "Etc/UTC"):
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(tz)
            except Exception:  # pragma: no cover - zoneinfo raises several types for bad names
                return self.unresolved(node, f"unknown time zone {tz!r}")
            return DateTime(moment, tz)
        return DateTime(moment, None)


class _Abort(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _NotHandled:
    pass


_NOT_HANDLED: Final = _NotHandled()


@dataclass(frozen=True)
class TimeZone:
    name: str


@dataclass
class BoundMethod:
    target: object
    name: str


@dataclass
class DictView:
    target: dict[object, object]
    kind: str

    def items_list(self) -> list[object]:
        if self.kind == "keys":
            return list(self.target.keys())
        if self.kind == "values":
            return list(self.target.values())
        return [tuple(item) for item in self.target.items()]


_STR_METHODS: Final = {
    "replace", "upper", "lower", "join", "split", "rsplit", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "title", "capitalize", "zfill", "removeprefix", "removesuffix", "splitlines", "casefold",
    "swapcase", "center", "ljust", "rjust", "find", "rfind", "count", "isdigit", "isalpha", "isalnum",
}


def _narrow_spec(spec: str, widths: Sequence[object] = ()) -> bool:
    """True when no number in a format spec, and no int given as a width, exceeds MAX_FORMAT_WIDTH."""
    numbers = [int(n) for n in _SPEC_NUMBER.findall(spec)]
    numbers += [w for w in widths if isinstance(w, int)]
    return all(n <= MAX_FORMAT_WIDTH for n in numbers)


def _plain(value: object) -> bool:
    """A literal value Python's own operators may be applied to safely."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _contains_special(value: object) -> bool:
    return not _plain(value)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def environment_today() -> _dt.date:
    """The date relative start dates are computed from; DAG_CONVERTER_TODAY pins it for tests."""
    pinned = os.environ.get("DAG_CONVERTER_TODAY")
    if pinned and re.fullmatch(r"\d{4}-\d{2}-\d{2}", pinned):
        return _dt.date.fromisoformat(pinned)
    return _dt.date.today()


__all__ = [
    "Budget", "BoundMethod", "CallableRef", "Evaluator", "ObjectValue", "RuntimeRead", "Scope", "TimeZone",
    "UserFunction", "XComRef", "environment_today", "first_unresolved",
]
