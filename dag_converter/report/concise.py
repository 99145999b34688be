"""The one line format of a diagnostic (flake8's `error_format`): `path:line:col: CODE [severity]
message`, and the hint on an indented `hint:` line (STYLE.md 10). The CLI prints it, the
fixture snapshots store it, and the Markdown and SARIF reports reuse its parts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from dag_converter.model import Diagnostic, Span

HINT_PREFIX = "hint: "

# What must never reach a terminal or a report raw: C0 controls (ESC starts terminal escape
# sequences, BEL rings, CR and LF break the one-line form), DEL, C1 controls (NEL, CSI), the
# Unicode line and paragraph separators, bidirectional overrides (text that reads differently
# from what it is) and lone surrogates (no encoding can write them).
_UNPRINTABLE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_one(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, line-breaking, bidi and surrogate character written as a
    backslash escape (`\\x1b`, `\\x85`, `\\u2028`): what an id, a path or a message may hold is
    shown, never obeyed by the terminal, and a diagnostic stays on one line."""
    return _UNPRINTABLE.sub(_escape_one, text) if _UNPRINTABLE.search(text) else text


def location(span: Span) -> str:
    """`path:line:col`."""
    return f"{printable(span.path)}:{span.line}:{span.column}"


def headline(diagnostic: Diagnostic) -> str:
    """`path:line:col: CODE [severity] message`, without the hint."""
    return (f"{location(diagnostic.span)}: {diagnostic.code} [{diagnostic.severity.value}] "
            f"{printable(diagnostic.message)}")


def message_with_hint(diagnostic: Diagnostic) -> str:
    """The message, and the hint on a line of its own (`hint: ...`) when there is one."""
    return diagnostic.message if not diagnostic.hint else f"{diagnostic.message}\n{HINT_PREFIX}{diagnostic.hint}"


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """The headline, and the hint on an indented line when there is one."""
    line = headline(diagnostic)
    if diagnostic.hint:
        line += f"\n    {HINT_PREFIX}{printable(diagnostic.hint)}"
    return line


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    """Every diagnostic in sort order, one per line (hints indented below), ending in a newline."""
    return "".join(format_diagnostic(d) + "\n" for d in sorted(diagnostics, key=Diagnostic.sort_key))


__all__ = ["format_diagnostic", "format_diagnostics", "headline", "location", "message_with_hint", "printable"]
