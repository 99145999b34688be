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
