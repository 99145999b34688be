"""StartPositions gives every node the start libcst's PositionProvider gives it."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dag_converter.analyzer.positions import StartPositions
from tests.analyzer._support import sources


class _AllNodes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


@pytest.mark.parametrize(("name", "source"), sources(), ids=[n for n, _ in sources()])
def test_starts_match_position_provider(name: str, source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = StartPositions(module)
    finder = _AllNodes()
    module.visit(finder)
    assert len(finder.nodes) > 1
    for node in finder.nodes:
        start = expected[node].start
        assert positions.start(node) == (start.line, start.column), (type(node).__name__, cst.Module([]).code_for_node(node))


def test_node_outside_the_module_has_no_start() -> None:
    positions = StartPositions(cst.parse_module("x = 1\n"))
    assert positions.start(cst.Name("x")) is None


def _with_containers(module: cst.Module, positions: StartPositions) -> list[cst.CSTNode]:
    """Every node, after registering what the analyzer registers: arguments within their call,
    conditions within their `if`/`while`."""
    finder = _AllNodes()
    module.visit(finder)
    for node in finder.nodes:
        if isinstance(node, cst.Call):
            for arg in node.args:
                positions.within(arg, node)
        elif isinstance(node, (cst.If, cst.While)):
            positions.within(node.test, node)
    return finder.nodes


@pytest.mark.parametrize(("name", "source"), sources(), ids=[n for n, _ in sources()])
def test_starts_found_in_the_source_match_position_provider(name: str, source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = StartPositions(module, source)
    for node in _with_containers(module, positions):
        found = positions.quick_start(node)
        start = expected[node].start
        assert found is None or found == (start.line, start.column), (type(node).__name__, module.code_for_node(node))
        assert positions.start(node) == (start.line, start.column)


def test_most_calls_and_arguments_are_found_without_the_whole_module_pass() -> None:
    asked = found = 0
    for _, source in sources():
        module = cst.parse_module(source)
        positions = StartPositions(module, source)
        for node in _with_containers(module, positions):
            if isinstance(node, (cst.Call, cst.Arg)):
                asked += 1
                found += positions.quick_start(node) is not None
    assert asked > 100
    assert found / asked > 0.9, f"{found} of {asked}"


def test_an_ambiguous_argument_is_placed_within_its_call() -> None:
    source = "f(a=1)\nif True:\n    g(\n        a=1,\n    )\n"
    module = cst.parse_module(source)
    positions = StartPositions(module, source)
    call = module.body[1].body.body[0].body[0].value  # type: ignore[attr-defined]
    arg = call.args[0]
    assert positions.quick_start(arg) is None  # `a=1` occurs twice
    positions.within(arg, call)
    assert positions.quick_start(arg) == (4, 8)


def test_an_elif_condition_is_placed_within_its_branch() -> None:
    source = "if x:\n    pass\nelif flag:\n    pass\nflag = 1\n"
    module = cst.parse_module(source)
    positions = StartPositions(module, source)
    elif_node = module.body[0].orelse  # type: ignore[attr-defined]
    positions.within(elif_node.test, elif_node)
    assert positions.quick_start(elif_node.test) == (3, 5)
    assert positions.quick_start(elif_node) is None  # a statement is never placed by its own text


def test_a_source_with_carriage_returns_takes_the_whole_module_pass() -> None:
    source = "x = f(1)\r\ny = g(2)\r\n"
    module = cst.parse_module(source)
    positions = StartPositions(module, source)
    call = module.body[1].body[0].value  # type: ignore[attr-defined]
    assert positions.quick_start(call) is None
    assert positions.start(call) == (2, 4)
