"""The direct field walk in `creates_objects` agrees with a libcst visitor over every statement."""

from __future__ import annotations

import libcst as cst
import pytest

from dag_converter.analyzer.interpreter import creates_objects as _creates_objects
from tests.analyzer._support import sources


def _visitor_creates_objects(node: cst.CSTNode) -> bool:
    found = False

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, _: cst.Call) -> bool:
            nonlocal found
            found = True
            return False

        def visit_With(self, _: cst.With) -> bool:
            nonlocal found
            found = True
            return False

        def visit_BinaryOperation(self, op: cst.BinaryOperation) -> bool:
            nonlocal found
            if isinstance(op.operator, (cst.RightShift, cst.LeftShift)):
                found = True
            return True

    node.visit(_Finder())
    return found


class _Statements(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite, cst.BaseExpression)):
            self.nodes.append(node)
        return True


@pytest.mark.parametrize(("name", "source"), sources(), ids=[n for n, _ in sources()])
def test_field_walk_matches_visitor(name: str, source: str) -> None:
    finder = _Statements()
    cst.parse_module(source).visit(finder)
    for node in finder.nodes:
        assert _creates_objects(node) == _visitor_creates_objects(node), cst.Module([]).code_for_node(node)
