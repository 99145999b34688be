"""Builtins and methods as tables: each computed exactly or left Unresolved, never guessed."""

from __future__ import annotations

import pytest

from dag_converter.analyzer.builtins import BUILTINS, METHODS, narrow_spec, plain
from dag_converter.analyzer.values import Unresolved

from .test_interpreter import value


@pytest.mark.parametrize(("expression", "expected"), [
    ("sorted([3, 1, 2], reverse=True)", [3, 2, 1]),
    ("list(zip('ab', (1, 2)))", [("a", 1), ("b", 2)]),
    ("min(3, 1, 2) + max([4, 5]) + sum([1, 2])", 9),
    ("any([0, 1]) and not all([0, 1])", True),
    ("dict([('a', 1)], b=2)", {"a": 1, "b": 2}),
    ("sorted(set('cab'))", ["a", "b", "c"]),
    ("list(reversed(range(3)))", [2, 1, 0]),
    ("str(1.5) + str(None)", "1.5None"),
    ("'{a}-{0}'.format(1, a='x')", "x-1"),
    ("', '.join(['a', 'b'])", "a, b"),
    ("'a-b'.split('-')", ["a", "b"]),
    ("[1, 2, 2].count(2) + (1, 2).index(2)", 3),
    ("{'a': 1}.get('b', 5)", 5),
    ("sorted({'a': 1, 'b': 2}.items())", [("a", 1), ("b", 2)]),
    ("'Kü'.encode('utf-8')", "Kü".encode()),  # bytes: the target says where YAML cannot hold them
])
def test_builtins_and_methods_compute_exactly(expression: str, expected: object) -> None:
    assert value(f"x = {expression}\n") == expected


@pytest.mark.parametrize(("expression", "reason"), [
    ("sorted([1], key=len)", "key function"),
    ("len(print)", "len()"),
    ("'a'.ljust(10 ** 9)", "wider"),
    ("'{:>999999}'.format(1)", "wider"),
    ("','.join([1])", "non-strings"),
    ("{'a': 1}.pop('b')", "not in dict"),
    ("[1].frobnicate()", "frobnicate"),
    ("'a'.encode('rot13')", "not a text encoding"),  # LookupError from the codec registry
])
def test_what_cannot_be_computed_is_unresolved(expression: str, reason: str) -> None:
    x = value(f"x = {expression}\n")
    assert isinstance(x, Unresolved) and reason in x.reason


def test_iterating_over_an_imported_name_says_what_it_is() -> None:
    x = value("from lib import Hook\nx = {*Hook.STATES, 'RUNNING'}\n")
    assert isinstance(x, Unresolved)
    assert x.reason == "iterating over lib.Hook.STATES (a name from outside the DAG folder, never imported)"


def test_tables_cover_the_safe_builtins_and_common_methods() -> None:
    assert {"len", "range", "sorted", "dict", "str"} <= set(BUILTINS)
    assert {(str, "join"), (dict, "update"), (list, "append")} <= set(METHODS)


def test_plain_checks_each_shared_container_once() -> None:
    row = [0] * 1000
    assert plain([row] * 1000) and not plain([row, object()])
    assert narrow_spec(">10", 100) and not narrow_spec(">1000", 100)
