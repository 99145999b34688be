"""Start positions of libcst nodes, computed in one code generation pass, cheaply.

libcst's `PositionProvider` (through `MetadataWrapper.resolve`) is the same walk, but it splits
every token with a regex to keep line and column current, builds a `CodeRange` for every node, and
`MetadataWrapper` adds a second, empty visit of the whole tree; it cost about three times the
parse. Here code generation only records, for each node, how many tokens were written before its
syntactic start (the same start `PositionProvider` reports: libcst's nodes call
`record_syntactic_position` where leading whitespace and parentheses end). A line and column are
counted in the generated text only for the nodes whose position is asked for.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Final

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE_KEPT: Final = re.compile(r"(\r\n?|\n)")


class _StartRecordingState(CodegenState):
    """Code generation that notes each node's start as an index into `tokens` (keys: `id(node)`).

    A node's start is where its code begins (first codegen wins, as in PositionProvider), unless
    the node records a syntactic start, which replaces it when its codegen ends.
    `record_syntactic_position` returns the state itself as the context manager (a stack of
    pending records instead of a generator per call: it runs for most nodes)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.starts: dict[int, int] = {}
        self._syntactic: list[tuple[int, int | None, int]] = []
        #: every node seen, so that no id in `starts` can be reused by a new object while this lives
        self.nodes: list[cst.CSTNode] = []
        note, keep, tokens = self.starts.setdefault, self.nodes.append, self.tokens

        def before_codegen(node: cst.CSTNode, _id: Callable[[object], int] = id) -> None:
            keep(node)
            note(_id(node), len(tokens))

        self.before_codegen = before_codegen  # type: ignore[method-assign]  # called for every node

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> "_StartRecordingState":
        self._syntactic.append((id(node), None if start_node is None else id(start_node), len(self.tokens)))
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        node, start_node, start = self._syntactic.pop()
        self.starts[node] = self.starts[start_node] if start_node is not None else start

    def pop_trailing_newline(self) -> None:
        pass  # the text is not wanted, only where nodes start; keep every token counted


class StartPositions:
    """`start(node)` -> (line, column) as libcst's PositionProvider gives them (line 1-based,
    column 0-based), or None for a node that is not part of the module (built during analysis).
    Nodes are keyed by identity; this object holds them, so an id never points to a new object."""

    def __init__(self, module: cst.Module) -> None:
        state = _StartRecordingState(module)
        module._codegen(state)
        self._tokens: list[str] | None = state.tokens
        self._starts = state.starts
        self._nodes = state.nodes
        self._offsets: list[int] = []  #: token index -> offset in the generated text
        self._line_ends: list[int] = []  #: line k (0-based) -> offset just past its newline

    def __contains__(self, node: object) -> bool:
        return id(node) in self._starts

    def start(self, node: cst.CSTNode) -> tuple[int, int] | None:
        index = self._starts.get(id(node))
        if index is None:
            return None
        if self._tokens is not None:
            self._index(self._tokens)
        offset = self._offsets[index]
        line = bisect_right(self._line_ends, offset)  # newlines before the offset
        return line + 1, offset - (self._line_ends[line - 1] if line else 0)

    def _index(self, tokens: list[str]) -> None:
        """Done once, on the first position asked for (in C-level loops: split, map, accumulate)."""
        code = "".join(tokens)
        self._offsets = [0, *accumulate(map(len, tokens))]
        if "\r" not in code:
            self._line_ends = list(accumulate(map((1).__add__, map(len, code.split("\n")[:-1]))))
        else:  # "\r\n" and "\r" are newlines too (libcst writes each as one token, never split)
            parts = _NEWLINE_KEPT.split(code)
            pairs = zip(parts[::2], parts[1::2])
            self._line_ends = list(accumulate(len(text) + len(newline) for text, newline in pairs))
        self._tokens = None


__all__ = ["StartPositions"]
