"""The interpreter with the standard libraries: values computed exactly, or Unresolved with a
reason (never a guess)."""

from __future__ import annotations

import datetime as dt

import libcst as cst
import pytest

from dag_converter.analyzer.interpreter import Interpreter
from dag_converter.analyzer.libraries import standard_libraries
from dag_converter.analyzer.values import Scope
from dag_converter.analyzer.positions import StartPositions
from dag_converter.model import DateTime, Duration, EnumMember, Unresolved


def evaluate(expression: str, setup: str = "") -> object:
    module = cst.parse_module(f"{setup}\n__value__ = {expression}\n")
    positions = StartPositions(module)
    interpreter = Interpreter("t.py", module, positions, module_name="t", package="",
                              today=dt.date(2030, 1, 10), libraries=standard_libraries)
    interpreter.run_module()
    return interpreter.module_scope.values["__value__"]


@pytest.mark.parametrize(("expression", "setup", "expected"), [
    ('"%s-%d" % ("a", 2)', "", "a-2"),
    ('"{}/{k}".format("x", k="y")', "", "x/y"),
    ('{**BASE, "b": 3}', "BASE = {'a': 1, 'b': 2}", {"a": 1, "b": 3}),
    ("dict(a=1, **{'b': 2})", "", {"a": 1, "b": 2}),
    ("C", "B = {'a': 1}\nC = B.copy()\nC.update(b=2)", {"a": 1, "b": 2}),
    ("B", "B = {'a': 1}\nC = B.copy()\nC.update(b=2)", {"a": 1}),
    ("[x * 2 for x in range(3) if x]", "", [2, 4]),
    ("{k: v for k, v in zip('ab', [1, 2])}", "", {"a": 1, "b": 2}),
    ("sorted({'b', 'a'})", "", ["a", "b"]),
    ("list(enumerate(['x'], start=1))", "", [(1, "x")]),
    ("len('abc') + len([1])", "", 4),
    ("'abcdef'[1:4:2]", "", "bd"),
    ("' A,b '.strip().lower().split(',')", "", ["a", "b"]),
    ("'-'.join(['a', 'b']).replace('-', '_').upper()", "", "A_B"),
    ("f'{N:03d}'", "N = 7", "007"),
    ("timedelta(minutes=5) * 2 + timedelta(seconds=1)", "from datetime import timedelta", Duration(601)),
    ("pendulum.duration(hours=1)", "import pendulum", Duration(3600)),
    ("datetime(2030, 1, 1) + timedelta(days=1)", "from datetime import datetime, timedelta",
     DateTime(dt.datetime(2030, 1, 2))),
    ("days_ago(2)", "from airflow.utils.dates import days_ago", DateTime(dt.datetime(2030, 1, 8))),
    ("cast(str, 'v')", "from typing import cast", "v"),
    ("[exactly_one('a', None), exactly_one('a', 'b'), exactly_one(0, [])]", "from airflow.utils.helpers import exactly_one",
     [True, False, False]),
])
def test_values_are_computed_exactly(expression: str, setup: str, expected: object) -> None:
    assert evaluate(expression, setup) == expected


@pytest.mark.parametrize(("expression", "setup"), [
    ("Variable.get('x')", "from airflow.models import Variable"),
    ("os.environ['X']", "import os"),
    ("os.getenv('X')", "import os"),
])
def test_run_time_reads_are_marked(expression: str, setup: str) -> None:
    value = evaluate(expression, setup)
    assert isinstance(value, Unresolved) and value.source


@pytest.mark.parametrize(("expression", "setup", "reason"), [
    ("lib.value()", "import lib", "lib.value"),
    ("datetime.now()", "from datetime import datetime", "parsed"),
    ("f'token-{int(time.time())}'", "import time", "time.time() is the time the file is parsed"),
    ("undefined_name", "", "not defined"),
    ("pendulum.duration(months=1)", "import pendulum", "months"),
    ("exactly_one('a', lib.value())", "import lib\nfrom airflow.utils.helpers import exactly_one", "lib.value"),
])
def test_unknown_values_are_unresolved_with_a_reason(expression: str, setup: str, reason: str) -> None:
    value = evaluate(expression, setup)
    assert isinstance(value, Unresolved)
    assert reason in value.reason
    assert value.span.line > 0


def test_unknown_condition_keeps_names_both_branches_agree_on() -> None:
    setup = (
        "from lib import V3\n"
        "if V3:\n    from airflow.sdk import DAG\n    X = 1\n"
        "else:\n    from airflow.models.dag import DAG\n    X = 2\n"
    )
    assert evaluate("DAG", setup).qualname == "airflow.sdk.DAG"  # type: ignore[attr-defined]
    assert isinstance(evaluate("X", setup), Unresolved)


def test_function_arguments_defaults_and_keywords_are_bound() -> None:
    setup = "def f(a, b=2, *, c=3, **rest):\n    return [a, b, c, rest]\n"
    assert evaluate("f(1, c=4, d=5)", setup) == [1, 2, 4, {"d": 5}]


def test_scope_lookup_walks_parents() -> None:
    outer = Scope({"a": 1})
    assert Scope(parent=outer).lookup("a") == (True, 1)


_STRING_LITERALS = ['"a"', "'a'", '""', "''", '"""x"""', "'''y'''", '""""""', "''''''", 'r"x"', 'U"x"',
                    'R"""a"b"""', "'\"\"\"'", '"\'\'\'"', '"x\\"y"', "'''a\"'''", '"""a\'b"""', '"""a\nb"""',
                    'r"a\\nb"', '"a\\tb"', '"\\u00e9"', '"é"', 'rb"x"']


@pytest.mark.parametrize("literal", _STRING_LITERALS)
def test_string_literals_evaluate_as_python_reads_them(literal: str) -> None:
    import ast

    value = evaluate(literal)
    assert value == ast.literal_eval(literal)  # bytes too: a value, refused only where it reaches YAML


_EKS = "from airflow.providers.amazon.aws.hooks.eks import ClusterStates"
_CLUSTER_STATES = "airflow.providers.amazon.aws.hooks.eks.ClusterStates"


@pytest.mark.parametrize(("expression", "setup", "expected"), [
    # Plain enums stay members (written as __type__); string-comparable ones are their values.
    ("ClusterStates.ACTIVE", _EKS, EnumMember(_CLUSTER_STATES, "ACTIVE", "ACTIVE")),
    ("ClusterStates('FAILED')", _EKS, EnumMember(_CLUSTER_STATES, "FAILED", "FAILED")),
    ("ClusterStates.ACTIVE.value", _EKS, "ACTIVE"),
    ("f'{ClusterStates.ACTIVE}'", _EKS, "ClusterStates.ACTIVE"),
    ("ClusterStates.ACTIVE", "from airflow.providers.amazon.aws.sensors.eks import ClusterStates",
     EnumMember(_CLUSTER_STATES, "ACTIVE", "ACTIVE")),
    ("eks.ClusterStates.ACTIVE", "from airflow.providers.amazon.aws.hooks import eks",
     EnumMember(_CLUSTER_STATES, "ACTIVE", "ACTIVE")),
    ("RdsDbType.CLUSTER", "from airflow.providers.amazon.aws.utils.rds import RdsDbType",
     EnumMember("airflow.providers.amazon.aws.utils.rds.RdsDbType", "CLUSTER", "cluster")),
    ("FILE_FORMAT.JSON", "from airflow.providers.amazon.aws.transfers.sql_to_s3 import FILE_FORMAT",
     EnumMember("airflow.providers.amazon.aws.transfers.sql_to_s3.FILE_FORMAT", "JSON", 2)),
    ("EcsClusterStates.ACTIVE", "from airflow.providers.amazon.aws.hooks.ecs import EcsClusterStates", "ACTIVE"),
    ("DmsTaskState.FAILED_MOVE", "from airflow.providers.amazon.aws.hooks.dms import DmsTaskState", "failed-move"),
    ("WeekDay.MONDAY", "from airflow.providers.standard.utils.weekday import WeekDay",
     EnumMember("airflow.providers.standard.utils.weekday.WeekDay", "MONDAY", 1)),
])
def test_provider_enum_members(expression: str, setup: str, expected: object) -> None:
    assert evaluate(expression, setup) == expected


@pytest.mark.parametrize("expression", ["ClusterStates.BOGUS", "ClusterStates('bogus')"])
def test_unknown_provider_enum_members_are_unresolved(expression: str) -> None:
    value = evaluate(expression, _EKS)
    assert isinstance(value, Unresolved) and "ClusterStates" in value.reason


@pytest.mark.parametrize(("source", "reason"), [
    ("from mylib.states import Color\nT = Color.RED", "Color.RED (mylib.states.Color) is an enum member"),
    ("from mylib import config\nT = config.CLUSTER", "CLUSTER is a constant of mylib.config"),
    ("from enum import Enum\nclass Color(Enum):\n    RED = 'red'\nT = Color.RED", "class defined in the DAG file"),
])
def test_imported_constants_are_values_not_functions(source: str, reason: str) -> None:
    """`target_state=Color.RED` from a module the converter cannot read: an unknown value with the
    reason, never 'the function RED'."""
    from dag_converter.analyzer import analyze_module

    analysis = analyze_module(f'''{source}
from datetime import datetime
from airflow import DAG
from airflow.providers.amazon.aws.sensors.eks import EksClusterStateSensor
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    EksClusterStateSensor(task_id="t", cluster_name="c", target_state=T)
''', "d.py")
    value = analysis.workflows[0].tasks[0].arguments[-1].value
    assert isinstance(value, Unresolved) and reason in value.reason
