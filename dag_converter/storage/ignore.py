""".airflowignore as Airflow 3 applies it: glob (its default) or regexp syntax, nested files.

Both the local walk and the S3 listing use these rules, so both skip exactly the same files.

How Airflow 3.0 reads them (airflow/utils/file.py, `[core] dag_ignore_file_syntax`):
- each folder's `.airflowignore` adds its lines to the rules inherited from the folders above;
  a comment starts at `#` (with the blanks before it); empty lines are dropped;
- glob: gitwildmatch lines (pathspec). A line with a `/` at its start or middle is relative to
  the folder of its `.airflowignore`; any other line matches a file or folder name at any depth
  below it. `!pattern` re-includes; the last matching line wins; `dir/` matches folders only;
- regexp: `search` on the path relative to the DAG folder's root (every file's lines alike).

A regexp line is compiled with RE2 (google-re2, the engine Airflow 2.x used for these files):
matching takes time linear in the path's length whatever the pattern, so `(x+x+)+y` cannot
backtrack for hours; repetition counts over 1,000, compiled programs over `_RE2_MAX_MEM` bytes and
constructs RE2 lacks (look-around, back-references) are compile errors. We chose RE2 over a
timeout (the `regex` package) because a timeout makes the set of converted files depend on how
busy the machine is; RE2's bound is by construction. A line that cannot be compiled is skipped
with one warning naming the file, line and reason (Airflow skips invalid lines too).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

Pattern = Any  #: a compiled RE2 pattern (google-re2 has no type stubs)


class IgnoreSyntax(str, Enum):
    """`airflowignore-syntax` in [tool.dag-converter]; Airflow 3's `[core] dag_ignore_file_syntax`."""

    GLOB = "glob"  #: Airflow 3's default
    REGEXP = "regexp"  #: Airflow 2's default


DEFAULT_SYNTAX: Final = IgnoreSyntax.GLOB
MAX_LINE: Final = 4096  #: characters; a longer line is skipped with a warning
MAX_IGNORE_FILE: Final = 1024 * 1024  #: bytes of one .airflowignore that are read
_RE2_MAX_MEM: Final = 8 * 1024 * 1024  #: bytes RE2 may use for one compiled line
_COMMENT: Final = re.compile(r"\s*#.*")


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One compiled line of an .airflowignore."""

    base: str  #: folder of its .airflowignore, relative to the input root ('' for the root)
    raw: str  #: the line as written (comment removed)
    match: Callable[[str], bool]  #: against the text the syntax compares (see `applies`)
    include: bool = False  #: glob `!pattern`: a match re-includes
    anchored: bool = False  #: glob: relative to `base`, not a name at any depth
    folders_only: bool = False  #: glob `dir/`


#: The rules in force in a folder, parents' first.
IgnoreRules = list[IgnoreRule]

#: Reports a skipped line: (where, line number, the line, why).
Warn = Callable[[str, int, str, str], None]


def parse_airflowignore(text: str, base: str, syntax: IgnoreSyntax = DEFAULT_SYNTAX, *,
                        where: str = ".airflowignore", warn: Warn | None = None) -> IgnoreRules:
    """The rules of one .airflowignore found in folder `base` (relative to the input root)."""
    rules: IgnoreRules = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = _COMMENT.sub("", line)
        if not line:
            continue
        rule, problem = _compile(line, base, syntax)
        if rule is not None:
            rules.append(rule)
        elif problem and warn is not None:
            warn(where, number, line, problem)
    return rules


def _compile(line: str, base: str, syntax: IgnoreSyntax) -> tuple[IgnoreRule | None, str]:
    if len(line) > MAX_LINE:
        return None, f"longer than {MAX_LINE} characters"
    if syntax is IgnoreSyntax.REGEXP:
        return _compile_regexp(line, base)
    return _compile_glob(line, base)


#: What compiling a line may raise besides re2.error (which derives from Exception only).
_RE2_ERRORS: Final = (Exception,)


def _re2(pattern: str) -> Pattern:
    import re2

    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False  # RE2 would print each error on stderr itself
    return re2.compile(pattern, options)


def _compile_regexp(line: str, base: str) -> tuple[IgnoreRule | None, str]:
    try:
        pattern = _re2(line)
    except _RE2_ERRORS as exc:
        return None, f"invalid or unbounded regular expression: {_reason(exc)}"
    return IgnoreRule(base, line, lambda text: pattern.search(text) is not None), ""


def _compile_glob(line: str, base: str) -> tuple[IgnoreRule | None, str]:
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern, GitWildMatchPatternError

    if line.strip() == "/":
        return None, "'/' matches nothing"
    try:
        with warnings.catch_warnings():
            # pathspec 1.x deprecates the class, but it is the one Airflow 3.0 matches with.
            warnings.simplefilter("ignore", DeprecationWarning)
            pattern = GitWildMatchPattern(line)
    except (GitWildMatchPatternError, ValueError, re.error, RecursionError, OverflowError) as exc:
        return None, f"invalid glob pattern: {_reason(exc)}"
    if pattern.include is None or pattern.regex is None:
        # blank: nothing to report; anything else (`[invalid`) is a line git and Airflow drop
        return None, "" if not line.strip() else "not a valid glob pattern"
    # pathspec's regex for `*a*a*a*b` backtracks polynomially in Python's engine; RE2 runs it in
    # linear time.
    try:
        regex = _re2(pattern.regex.pattern)
    except _RE2_ERRORS as exc:
        return None, f"glob pattern too complex: {_reason(exc)}"
    return IgnoreRule(base, line, lambda text: regex.match(text) is not None, include=not pattern.include,
                      anchored=line.startswith("/") or "/" in line.rstrip("/"),
                      folders_only=line.endswith("/")), ""


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(text, bytes):  # pragma: no cover - older google-re2 raised bytes messages
        text = text.decode("utf-8", "replace")
    return text.strip("b'\"").splitlines()[0][:200] if text else type(exc).__name__


def is_ignored(relative: str, rules: Sequence[IgnoreRule], *, is_folder: bool = False,
               syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> bool:
    """Whether a file or folder (relative to the input root, '/'-separated) is ignored by the
    rules in force in its folder, as Airflow decides it."""
    if syntax is IgnoreSyntax.REGEXP:
        return any(rule.match(relative) for rule in rules)
    ignored = False
    name = relative.rsplit("/", 1)[-1]
    for rule in rules:
        if rule.anchored:
            if rule.base and not relative.startswith(rule.base + "/"):
                continue
            text = relative[len(rule.base) + 1:] if rule.base else relative
        else:
            text = name
        if rule.folders_only and is_folder:
            text += "/"
        if rule.match(text):
            ignored = not rule.include
    return ignored


__all__ = ["DEFAULT_SYNTAX", "IgnoreRule", "IgnoreRules", "IgnoreSyntax", "MAX_IGNORE_FILE", "MAX_LINE",
           "is_ignored", "parse_airflowignore"]
