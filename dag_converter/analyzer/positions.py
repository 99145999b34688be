"""Start positions of libcst nodes: found in the source text when that is cheap and certain,
else computed in one code generation pass over the whole module.

libcst nodes carry no positions. Its `PositionProvider` (through `MetadataWrapper.resolve`) splits
every token with a regex to keep line and column current, builds a `CodeRange` for every node and
adds a second, empty visit of the whole tree: about three times the parse. Code generation alone
(the fallback here) still costs about a third of the parse, and the analysis asks for the start of
only a few dozen nodes per file: the calls that make tasks and DAGs, and their arguments.

So a node's start is first looked up in the source text (`source == module.code`, libcst
round-trips exactly):

- alone: code generation of the node itself, stopped at the end of its syntactic part (or a few
  lines, or a few hundred characters), gives a prefix of its text. Up to the first newline that
  prefix is exactly what the source holds at the node; after a newline the source may hold more
  white space (the indentation of the enclosing block, which a node generated alone does not
  know). When that relaxed prefix occurs exactly once in the source, it occurs at the node.
- within a container located so (an argument within its call, registered by `within`): the
  container is generated once, and its lines are aligned with the source lines, checking every
  character; each node inside it is then placed by arithmetic.

Anything else (an ambiguous text, a node without a syntactic start, a source with "\\r") falls
back to the whole-module pass, which also answers `node in positions`. Both give the start
libcst's PositionProvider reports (tests/analyzer/test_positions.py checks every node of the
fixtures and the corpus against it).
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
_BLANK: Final = " \t\f"
_PREFIX_CHARS: Final = 100  #: a node's text prefix looked up in the source is at most about this long
_PREFIX_LINES: Final = 2  #: ... and spans at most this many lines


class _StartRecordingState(CodegenState):
    """Code generation that notes each node's start as an index into `tokens` (keys: `id(node)`).

    A node's start is where its code begins (first codegen wins, as in PositionProvider), unless
    the node records a syntactic start, which replaces it when its codegen ends.
    `record_syntactic_position` returns the state itself as the context manager (a stack of
    pending records instead of a generator per call: it runs for most nodes)."""

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        #: keyed by identity: the caller holds the generated tree, so no id is reused while this lives
        self.starts: dict[int, int] = {}
        self._syntactic: list[tuple[int, int | None, int]] = []
        note, tokens = self.starts.setdefault, self.tokens

        def before_codegen(node: cst.CSTNode, _id: Callable[[object], int] = id) -> None:
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


class _PrefixDone(Exception):
    """Stops `_PrefixState`'s code generation once it has the prefix it wants."""


class _PrefixState(CodegenState):
    """Code generation of one node (`root`) that stops at the end of the root's syntactic part,
    or after _PREFIX_LINES lines or _PREFIX_CHARS characters. `start` is the token index of the
    root's syntactic start (None when it records none, or records it at another node)."""

    def __init__(self, root: cst.CSTNode, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.root = root
        self.start: int | None = None
        self.size = 0
        self.lines = 0

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.size += len(value)
        if "\n" in value:
            self.lines += 1
        if self.start is not None and (self.size > _PREFIX_CHARS or self.lines >= _PREFIX_LINES):
            raise _PrefixDone

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> "_PrefixState | _Ignored":
        if node is not self.root:
            return _IGNORED
        if start_node is not None:
            raise _PrefixDone  # the start is another node's: leave `start` unset
        self.start = len(self.tokens)
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *_: object) -> bool:
        if kind is None:
            raise _PrefixDone  # the root's syntactic part is complete
        return False


class _Ignored:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> bool:
        return False


_IGNORED: Final = _Ignored()


class _Aligned:
    """A container node generated alone and aligned, line by line, with the source at its start."""

    def __init__(self, starts: dict[int, int], offsets: list[int], first: int, line_starts: list[int],
                 shifts: list[int]) -> None:
        self.starts = starts  #: id(node) -> token index in the container's own code
        self.offsets = offsets  #: token index -> offset in the container's own code
        self.first = first  #: own-code offset of the container's syntactic start; nothing before it is aligned
        self.line_starts = line_starts  #: own-code offset where each of its lines starts (after the first)
        self.shifts = shifts  #: per line (the first included): source offset minus own-code offset

    def source_offset(self, node: cst.CSTNode) -> int | None:
        index = self.starts.get(id(node))
        if index is None:
            return None
        local = self.offsets[index]
        if local < self.first:
            return None
        return local + self.shifts[bisect_right(self.line_starts, local)]


class StartPositions:
    """`start(node)` -> (line, column) as libcst's PositionProvider gives them (line 1-based,
    column 0-based), or None for a node that is not part of the module (built during analysis).

    With `source`, the text the module was parsed from, nodes are first looked up in it; `start`
    must then be asked only about nodes of this module (a node of another module could match its
    text); `node in positions` is always exact. Nodes are keyed by identity; this object holds
    the module (and every other node it is told about), so an id never points to a new object."""

    def __init__(self, module: cst.Module, source: str | None = None) -> None:
        self._module = module
        # "\r" newlines would need their own line arithmetic; such sources take the full pass.
        self._source = source if source is not None and "\r" not in source else None
        # (node, container) by id(node). Both are held: a helper function from a DAG-folder module
        # registers its own nodes here too, and that module's tree may be dropped from its cache.
        self._containers: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}
        self._found: dict[int, int] = {}  #: id(node) -> source offset (nodes of `module`, which this holds)
        self._aligned: dict[int, _Aligned | None] = {}  #: id(container) -> its alignment, None if it failed
        self._line_ends: list[int] | None = None  #: line k (0-based) -> offset just past its newline
        self._full: _FullPass | None = None
        if self._source is None:
            self._full = _FullPass(module)

    def __contains__(self, node: object) -> bool:
        return id(node) in self._full_pass().starts

    def within(self, node: cst.CSTNode, container: cst.CSTNode) -> None:
        """Note that `node` is part of `container` (an argument of a call): when `node`'s own text
        is ambiguous, it is placed within the container instead."""
        if self._full is None:
            self._containers[id(node)] = (node, container)

    def start(self, node: cst.CSTNode) -> tuple[int, int] | None:
        if self._full is None:
            found = self.quick_start(node)
            if found is not None:
                return found
        return self._full_pass().start(node)

    def quick_start(self, node: cst.CSTNode) -> tuple[int, int] | None:
        """The start found in the source text without generating the whole module, or None."""
        if self._source is None:
            return None
        offset = self._offset(node)
        if offset is None:
            return None
        if self._line_ends is None:
            self._line_ends = _line_ends(self._source)
        line = bisect_right(self._line_ends, offset)
        return line + 1, offset - (self._line_ends[line - 1] if line else 0)

    # -- lookups in the source ----------------------------------------------------------------

    def _offset(self, node: cst.CSTNode, *, container: bool = False) -> int | None:
        known = self._found.get(id(node))
        if known is not None:
            return known
        # A statement's text depends on where it is (`if` is written `elif` in an elif chain), so
        # only expressions and arguments are placed by their own text. A container is placed by
        # its text only to align it, and the alignment checks all of it against the source.
        offset = self._alone(node) if container or isinstance(node, (cst.BaseExpression, cst.Arg)) else None
        if offset is None:
            pair = self._containers.get(id(node))
            if pair is not None:
                offset = self._inside(node, pair[1])
        if offset is not None and not container:
            self._found[id(node)] = offset
        return offset

    def _alone(self, node: cst.CSTNode) -> int | None:
        assert self._source is not None
        module = self._module
        state = _PrefixState(node, module.default_indent, module.default_newline)
        try:
            node._codegen(state)
        except _PrefixDone:
            pass
        if state.start is None:
            return None
        # Only the text from the syntactic start on is looked up: what comes before it (the
        # parentheses around an expression; a statement's blank lines and indentation) may
        # span lines, or depend on the enclosing block.
        lines = "".join(state.tokens[state.start:]).split("\n")
        if not "".join(lines).strip(_BLANK):
            return None
        source, first, rest = self._source, lines[0], lines[1:]
        found = None
        at = source.find(first)
        while at >= 0:
            if _continues(source, at + len(first), rest):
                if found is not None:
                    return None  # the text occurs twice: it cannot tell which is the node
                found = at
            at = source.find(first, at + 1)
        return found

    def _inside(self, node: cst.CSTNode, container: cst.CSTNode) -> int | None:
        if id(container) not in self._aligned:
            start = self._offset(container, container=True)
            self._aligned[id(container)] = None if start is None else self._align(container, start)
        aligned = self._aligned[id(container)]
        return None if aligned is None else aligned.source_offset(node)

    def _align(self, container: cst.CSTNode, start: int) -> _Aligned | None:
        """Generate `container` alone and match its lines with the source from `start` (its
        syntactic start there). The source may hold extra white space at the start of each line
        after the first (the enclosing block's indentation); everything else must be equal."""
        assert self._source is not None
        source = self._source
        state = _StartRecordingState(self._module.default_indent, self._module.default_newline)
        container._codegen(state)
        code = "".join(state.tokens)
        offsets = [0, *accumulate(map(len, state.tokens))]
        local = offsets[state.starts[id(container)]]
        line_starts: list[int] = []
        shifts = [start - local]
        position, source_position = local, start
        while True:
            newline = code.find("\n", position)
            if newline < 0:
                return _Aligned(state.starts, offsets, local, line_starts, shifts) \
                    if source.startswith(code[position:], source_position) else None
            if not source.startswith(code[position:newline + 1], source_position):
                return None
            source_position += newline + 1 - position
            position = newline + 1
            inserted = _blank_run(source, source_position) - _blank_run(code, position)
            if inserted < 0:
                return None
            source_position += inserted
            line_starts.append(position)
            shifts.append(source_position - position)

    def _full_pass(self) -> "_FullPass":
        if self._full is None:
            self._full = _FullPass(self._module)
        return self._full


class _FullPass:
    """Every node's start from one code generation pass over the whole module."""

    def __init__(self, module: cst.Module) -> None:
        state = _StartRecordingState(module.default_indent, module.default_newline)
        module._codegen(state)
        self._tokens: list[str] | None = state.tokens
        self.starts = state.starts
        self._offsets: list[int] = []  #: token index -> offset in the generated text
        self._line_ends: list[int] = []

    def start(self, node: cst.CSTNode) -> tuple[int, int] | None:
        index = self.starts.get(id(node))
        if index is None:
            return None
        if self._tokens is not None:  # done once, on the first position asked for
            self._offsets = [0, *accumulate(map(len, self._tokens))]
            self._line_ends = _line_ends("".join(self._tokens))
            self._tokens = None
        offset = self._offsets[index]
        line = bisect_right(self._line_ends, offset)  # newlines before the offset
        return line + 1, offset - (self._line_ends[line - 1] if line else 0)


def _line_ends(code: str) -> list[int]:
    """Offset just past each newline (C-level loops: split, map, accumulate)."""
    if "\r" not in code:
        return list(accumulate(map((1).__add__, map(len, code.split("\n")[:-1]))))
    # "\r\n" and "\r" are newlines too (libcst writes each as one token, never split)
    parts = _NEWLINE_KEPT.split(code)
    return list(accumulate(len(text) + len(newline) for text, newline in zip(parts[::2], parts[1::2])))


def _continues(text: str, position: int, lines: list[str]) -> bool:
    """Whether `text` goes on at `position` with `lines`, each after a newline and any run of
    blanks (a line's own leading blanks included, so this accepts more than the exact text)."""
    for line in lines:
        if not text.startswith("\n", position):
            return False
        position += 1 + _blank_run(text, position + 1)
        body = line.lstrip(_BLANK)
        if not text.startswith(body, position):
            return False
        position += len(body)
    return True


def _blank_run(text: str, position: int) -> int:
    end = position
    while end < len(text) and text[end] in _BLANK:
        end += 1
    return end - position


__all__ = ["StartPositions"]
