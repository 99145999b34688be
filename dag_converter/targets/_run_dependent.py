"""Text whose bytes would change from one run to the next: refused, never written (issue 16).

The analyzer computes values the way Python would, and a few Python results depend on the
interpreter's state rather than on the DAG file: the default repr of an object or a bound method
(`<built-in method upper of str object at 0x7f...>`, from `"{0.upper}".format(x)` or `repr(obj)`)
holds a memory address, and the text of a set of strings (`str({"a", "b"})`) lists its items in
an order that changes with PYTHONHASHSEED. Written to YAML, such a value would make the output
differ between runs of the same input, and the workflow differ from what the Python file does.

A value reaching the targets is plain text by then, so these checks read the text itself:
- an address: `<... at 0x...>`, the form of every default repr;
- a set display: a `{...}` part of the text that is a Python literal holding a set of two or
  more items of which one is a string or bytes (ints and bools hash to themselves, so their
  order does not change). Dict reprs are not flagged; a literal set written by hand in the
  source as text is, which is rare and says why.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import Final

_ADDRESS: Final = re.compile(r"<[^<>\n]{1,500} at 0x[0-9A-Fa-f]{4,16}>")
#: where a set of strings may start: `{'`, `{"`, `{b'`, `{('` (a set or dict repr; dicts are let through)
_SET_START: Final = re.compile(r"\{[\s(]*[bBrRuU]?['\"]")
_MAX_CANDIDATES: Final = 64  #: `{` positions tried per string: the text of one value holds few
_MAX_TEXT: Final = 100_000  #: characters of one value scanned for set displays


def run_dependent_reason(text: str) -> str | None:
    """Why `text` would differ between runs (a reason for DC201), or None."""
    if " at 0x" in text and _ADDRESS.search(text):
        return "the text holds a memory address (the default repr of an object or a method), which changes every run"
    if "{" in text and _SET_START.search(text, 0, _MAX_TEXT) and _has_set_display(text[:_MAX_TEXT]):
        return ("the text of a set, whose order changes with the hash seed (str() or format of a set); "
                "sort it first, e.g. ', '.join(sorted(values))")
    return None


@lru_cache(maxsize=4096)
def _has_set_display(text: str) -> bool:
    for n, start in enumerate(m.start() for m in _SET_START.finditer(text)):
        if n >= _MAX_CANDIDATES:
            return False
        end = _closing_brace(text, start)
        if end is None:
            continue
        try:
            value = ast.literal_eval(text[start:end + 1])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if _holds_unordered_set(value):
            return True
    return False


def _closing_brace(text: str, start: int) -> int | None:
    """The index of the `}` closing the `{` at `start`, counting nesting and skipping quotes."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        char = text[i]
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return i if char == "}" else None
    return None


def _holds_unordered_set(value: object, depth: int = 0) -> bool:
    if depth > 50:
        return False
    if isinstance(value, (set, frozenset)):
        if len(value) > 1 and any(isinstance(item, (str, bytes, tuple, frozenset)) for item in value):
            return True
        return any(_holds_unordered_set(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(_holds_unordered_set(item, depth + 1) for item in (*value.keys(), *value.values()))
    if isinstance(value, (list, tuple)):
        return any(_holds_unordered_set(item, depth + 1) for item in value)
    return False


__all__ = ["run_dependent_reason"]
