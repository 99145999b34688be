"""The interpreter alone: Python semantics with no Airflow, extended through a stub Library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
import pytest

from dag_converter.analyzer.imports import Symbol
from dag_converter.analyzer.interpreter import BaseLibrary, Interpreter, Library
from dag_converter.analyzer.positions import StartPositions
from dag_converter.analyzer.values import Budget, CallArgs, Limits, Unresolved, UserFunction


@dataclass(frozen=True)
class Box:
    label: str


class Recorder(BaseLibrary):
    """A library that knows one function, `lib.make(name)`, one `with lib.Box()`, `a >> b`,
    attributes of its boxes and a decorator `lib.mark`."""

    def __init__(self, interpreter: Interpreter) -> None:
        super().__init__(interpreter)
        self.made: list[str] = []
        self.edges: list[tuple[object, object]] = []
        self.open: list[str] = []
        self.entered: list[str] = []

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, Symbol) and func.qualname == "lib.make":
            name = call.positional[0]
            self.made.append(f"{'/'.join(self.open)}:{name}" if self.open else str(name))
            return ("made", name)
        if isinstance(func, Symbol) and func.qualname == "lib.Box":
            return Box(str(call.keywords.get("label", "box")))
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Box) and name == "label":
            return base.label
        return NotImplemented

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if op == "RightShift":
            self.edges.append((left, right))
            return right
        return NotImplemented

    def enter(self, value: object, node: cst.CSTNode) -> Callable[[], None] | None:
        if isinstance(value, Box):
            self.open.append(value.label)
            self.entered.append(value.label)
            return self.open.pop
        return None

    def decorate(self, decorator: object, function: UserFunction, node: cst.CSTNode) -> object:
        if isinstance(decorator, Symbol) and decorator.qualname == "lib.mark":
            return ("marked", function.name)
        return NotImplemented


def run(source: str, limits: Limits = Limits()) -> tuple[Interpreter, Recorder]:
    module = cst.parse_module(source)
    libraries: list[Recorder] = []

    def make(interpreter: Interpreter) -> Sequence[Library]:
        libraries.append(Recorder(interpreter))
        return libraries[-1:]

    interpreter = Interpreter("t.py", module, StartPositions(module, source), module_name="t", package="",
                              today=dt.date(2030, 1, 1), libraries=make, limits=limits)
    stopped = interpreter.run_module()
    if stopped is not None:
        raise stopped
    return interpreter, libraries[0]


def value(source: str, name: str = "x") -> object:
    interpreter, _ = run(source)
    return interpreter.module_scope.values[name]


def test_python_runs_without_any_library() -> None:
    source = "def f(a, *rest, k=1, **more):\n    return [a, rest, k, more]\nx = f(1, 2, 3, k=4, z=5)\n"
    module = cst.parse_module(source)
    interpreter = Interpreter("t.py", module, StartPositions(module, source), module_name="t", package="",
                              today=dt.date(2030, 1, 1))
    interpreter.run_module()
    assert interpreter.module_scope.values["x"] == [1, (2, 3), 4, {"z": 5}]


@pytest.mark.parametrize(("source", "expected"), [
    ("x = [i * i for i in range(5) if i % 2]", [1, 9]),
    ("x = 0\nfor i in range(10):\n    if i == 3:\n        continue\n    if i == 6:\n        break\n    x += i", 12),
    ("x = 0\nwhile x < 5:\n    x += 2\nelse:\n    x = -x", -6),
    ("try:\n    x = 1\nexcept ImportError:\n    x = 2", 1),
    ("def g():\n    global x\n    x = 7\ng()", 7),
    ("a = {'k': [1]}\nb = a\nb['k'].append(2)\nx = a", {"k": [1, 2]}),
    ("x = (lambda a, b=2: a + b)(1)", 3),
    ("x = {**{'a': 1}, 'b': 2} | {'c': 3}", {"a": 1, "b": 2, "c": 3}),
    ("x = 3 if 'a' in 'abc' else 4", 3),
    ("a, (b, c) = 1, (2, 3)\nx = a + b + c", 6),
])
def test_python_semantics(source: str, expected: object) -> None:
    assert value(source) == expected


def test_unknown_values_absorb_operations_and_keep_the_first_reason() -> None:
    x = value("import mystery\nx = (mystery.value() + 1)['k'].upper()\n")
    assert isinstance(x, Unresolved)
    assert "mystery.value" in x.reason and x.span.line == 2


def test_the_library_is_asked_for_calls_with_attributes_shifts_and_decorators() -> None:
    source = (
        "import lib\n"
        "with lib.Box(label='outer') as box:\n"
        "    a = lib.make('a')\n"
        "    with lib.Box(label='inner'):\n"
        "        b = lib.make('b')\n"
        "    a >> b\n"
        "label = box.label\n"
        "@lib.mark\n"
        "def f():\n"
        "    pass\n"
    )
    interpreter, library = run(source)
    assert library.made == ["outer:a", "outer/inner:b"]
    assert library.entered == ["outer", "inner"] and library.open == []
    assert library.edges == [(("made", "a"), ("made", "b"))]
    assert interpreter.module_scope.values["label"] == "outer"
    assert interpreter.module_scope.values["f"] == ("marked", "f")


def test_an_unknown_decorator_makes_the_function_unresolved() -> None:
    f = value("import other\n@other.wrap\ndef f():\n    pass\n", "f")
    assert isinstance(f, Unresolved) and "decorator" in f.reason


def test_unknown_keyword_mapping_is_not_a_dict_key() -> None:
    source = "import os\ndef f(**kw):\n    return kw\nx = f(a=1, **os.environ)\ny = x.get('a')\n"
    interpreter, _ = run(source)
    x = interpreter.module_scope.values["x"]
    assert x == {"a": 1} and "**" not in x  # type: ignore[operator]
    assert interpreter.open_dicts.unknown_part(x) is not None
    assert interpreter.module_scope.values["y"] == 1


def test_the_work_limit_stops_an_endless_loop_at_its_line() -> None:
    with pytest.raises(Budget) as stopped:
        run("x = 0\nwhile True:\n    x = x\n", Limits(work=10_000))
    assert stopped.value.span.line in (2, 3)
