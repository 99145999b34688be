"""The one line format of a diagnostic (flake8's `error_format`): `path:line:col: CODE [severity]
message`, and the hint on an indented `hint:` line (STYLE.md 10). The CLI prints it, the
fixture snapshots store it, and the Markdown and SARIF reports reuse its parts."""

from __future__ import annotations

from collections.abc import Iterable

from dag_converter.model import Diagnostic, Span

HINT_PREFIX = "hint: "


def location(span: Span) -> str:
    """`path:line:col`."""
    return f"{span.path}:{span.line}:{span.column}"


def headline(diagnostic: Diagnostic) -> str:
    """`path:line:col: CODE [severity] message`, without the hint."""
    return f"{location(diagnostic.span)}: {diagnostic.code} [{diagnostic.severity.value}] {diagnostic.message}"


def message_with_hint(diagnostic: Diagnostic) -> str:
    """The message, and the hint on a line of its own (`hint: ...`) when there is one."""
    return diagnostic.message if not diagnostic.hint else f"{diagnostic.message}\n{HINT_PREFIX}{diagnostic.hint}"


def format_diagnostic(diagnostic: Diagnostic) -> str:
    """The headline, and the hint on an indented line when there is one."""
    line = headline(diagnostic)
    if diagnostic.hint:
        line += f"\n    {HINT_PREFIX}{diagnostic.hint}"
    return line


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    """Every diagnostic in sort order, one per line (hints indented below), ending in a newline."""
    return "".join(format_diagnostic(d) + "\n" for d in sorted(diagnostics, key=Diagnostic.sort_key))


__all__ = ["format_diagnostic", "format_diagnostics", "headline", "location", "message_with_hint"]
