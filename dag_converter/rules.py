"""Which diagnostics a run shows, as ruff selects rules: `--select`, `--ignore`, `--extend-ignore`
(codes or prefixes such as `DC2`), `per-file-ignores` in [tool.dag-converter], and inline
`# dag-converter: ignore[DC202]` comments on the line a diagnostic points at.

Only warnings and infos can be silenced: an error refuses its DAG whatever is ignored, so an
error stays shown. Naming an error code in an ignore is refused (ConfigError for flags and the
config; DC117 for an inline comment), and a prefix or a `--select` leaves errors in place.
Everything that filters diagnostics is here; batch.run() applies `select_diagnostics` once to a
run's results, and the pipeline applies `apply_inline_ignores` to each file's own findings (the
comments are in its text, which only the pipeline sees).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from dag_converter import codes
from dag_converter.errors import ConfigError
from dag_converter.model import DagResult, Diagnostic, FileResult, Severity, Span

_CODE_OR_PREFIX: Final = re.compile(r"^DC\d{0,3}$")
_INLINE: Final = re.compile(r"#\s*dag-converter:\s*ignore\[([^\]]*)\]")
ALL: Final = "ALL"


def _matches(code: str, selectors: Iterable[str]) -> bool:
    return any(s == ALL or code.startswith(s) for s in selectors)


def _error_codes(selector: str) -> list[str]:
    return sorted(c.code for c in codes.REGISTRY.values() if c.severity is Severity.ERROR and c.code == selector)


def check_selectors(selectors: Sequence[str], where: str) -> tuple[str, ...]:
    """Upper-cased selectors; raises ConfigError for a malformed one or for an error code."""
    checked = []
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        if selector != ALL and not _CODE_OR_PREFIX.match(selector):
            raise ConfigError(f"{where}: {raw!r} is not a diagnostic code or prefix (DC202, DC2, ALL)")
        checked.append(selector)
    return tuple(checked)


def refuse_error_ignores(selectors: Sequence[str], where: str) -> None:
    for selector in selectors:
        errors = _error_codes(selector)
        if errors:
            raise ConfigError(f"{where}: {', '.join(errors)} is an error and refuses its DAG; it cannot be ignored "
                              "(only warnings and infos can)")


@dataclass(frozen=True, slots=True)
class Selection:
    """The rule selection of a run; the default shows everything."""

    select: tuple[str, ...] = ()  #: empty: every code
    ignore: tuple[str, ...] = ()  #: --ignore and --extend-ignore together
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  #: (glob, selectors)

    @property
    def is_default(self) -> bool:
        return not (self.select or self.ignore or self.per_file_ignores)

    def shows(self, diagnostic: Diagnostic) -> bool:
        if diagnostic.severity is Severity.ERROR:
            return True
        if self.select and not _matches(diagnostic.code, self.select):
            return False
        if _matches(diagnostic.code, self.ignore):
            return False
        path = diagnostic.span.path.replace("\\", "/").removeprefix("./")
        return not any(_matches(diagnostic.code, selectors) for pattern, selectors in self.per_file_ignores
                       if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, f"*/{pattern}"))


def make_selection(select: Sequence[str] = (), ignore: Sequence[str] = (), extend_ignore: Sequence[str] = (),
                   per_file_ignores: Mapping[str, Sequence[str]] | None = None) -> Selection:
    """A checked Selection; raises ConfigError (exit 2) for a malformed selector or an ignored error."""
    ignored = check_selectors([*ignore, *extend_ignore], "--ignore")
    refuse_error_ignores(ignored, "--ignore")
    per_file = []
    for pattern, selectors in sorted((per_file_ignores or {}).items()):
        checked = check_selectors(selectors, f"per-file-ignores {pattern!r}")
        refuse_error_ignores(checked, f"per-file-ignores {pattern!r}")
        per_file.append((pattern.replace("\\", "/").removeprefix("./"), checked))
    return Selection(check_selectors(select, "--select"), ignored, tuple(per_file))


def select_diagnostics(results: Sequence[FileResult], run_diagnostics: Sequence[Diagnostic],
                       selection: Selection) -> tuple[list[FileResult], list[Diagnostic]]:
    """The results and run findings with the diagnostics the selection hides removed; verdicts
    (converted or refused, the YAML) never change."""
    if selection.is_default:
        return list(results), list(run_diagnostics)
    kept = []
    for result in results:
        dags = tuple(DagResult(d.workflow, tuple(x for x in d.diagnostics if selection.shows(x)), d.yaml_text,
                               d.output_name) for d in result.dags)
        kept.append(FileResult(result.path, result.status, tuple(x for x in result.diagnostics if selection.shows(x)),
                               dags, result.reads))
    return kept, [d for d in run_diagnostics if selection.shows(d)]


def inline_ignores(text: str) -> dict[int, tuple[str, ...]]:
    """Line -> codes of each `# dag-converter: ignore[...]` comment (a prefix is allowed)."""
    if "dag-converter:" not in text:
        return {}
    found = {}
    for number, line in enumerate(text.split("\n"), start=1):
        match = _INLINE.search(line)
        if match:
            found[number] = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
    return found


def apply_inline_ignores(result: FileResult, text: str) -> FileResult:
    """The file's warnings and infos on a line with a matching ignore comment removed; an
    ignore that silenced nothing, or names an error, becomes a DC117 warning on its line."""
    ignores = inline_ignores(text)
    if not ignores:
        return result
    used: set[tuple[int, str]] = set()

    def keep(diagnostic: Diagnostic) -> bool:
        if diagnostic.span.path != result.path or diagnostic.severity is Severity.ERROR:
            return True
        for selector in ignores.get(diagnostic.span.line, ()):
            if diagnostic.code.startswith(selector):
                used.add((diagnostic.span.line, selector))
                return False
        return True

    dags = [DagResult(d.workflow, tuple(x for x in d.diagnostics if keep(x)), d.yaml_text, d.output_name)
            for d in result.dags]
    file_level = [x for x in result.diagnostics if keep(x)]
    for line, selectors in sorted(ignores.items()):
        for selector in selectors:
            if (line, selector) in used:
                continue
            detail = ("names an error, which refuses its DAG and cannot be ignored" if _error_codes(selector)
                      else "is not a diagnostic code" if not _CODE_OR_PREFIX.match(selector)
                      else "matches no warning or info on this line")
            file_level.append(codes.make(codes.UNUSED_IGNORE, Span(result.path, line, 1), codes=selector,
                                         detail=detail))
    return FileResult(result.path, result.status, tuple(sorted(file_level, key=Diagnostic.sort_key)), tuple(dags),
                      result.reads)


def statistics(diagnostics: Iterable[Diagnostic]) -> list[tuple[int, str, str, str]]:
    """(count, code, name, severity) per code, most frequent first (ruff's --statistics)."""
    counts: dict[str, int] = {}
    severity: dict[str, str] = {}
    for diagnostic in diagnostics:
        counts[diagnostic.code] = counts.get(diagnostic.code, 0) + 1
        severity[diagnostic.code] = diagnostic.severity.value
    named = {c.code: c.name for c in codes.REGISTRY.values()}
    return sorted(((n, code, named.get(code, ""), severity[code]) for code, n in counts.items()),
                  key=lambda row: (-row[0], row[1]))


__all__ = ["ALL", "Selection", "apply_inline_ignores", "check_selectors", "inline_ignores", "make_selection",
           "select_diagnostics", "statistics"]
