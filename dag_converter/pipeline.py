"""One file through the stages: read -> analyze -> validate -> emit; and a run over many files.

Every failure becomes a diagnostic in the file's result, never an exception out of here: one bad
file never stops a batch (LibCST's TransformFailure, STYLE.md 8).
"""

from __future__ import annotations

import io
import sys
import threading
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Final

from dag_converter import codes
from dag_converter.analyzer import analyze_module
from dag_converter.analyzer.evaluate import environment_today
from dag_converter.emit import render_yaml, write_atomic
from dag_converter.model import DagResult, Diagnostic, FileResult, Severity, Span
from dag_converter.sources import SourceFile
from dag_converter.validate import Target, check_workflow, is_refused, make_target

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024

# Hostile or generated sources must not crash the process: libcst's native parser recurses once
# per nesting level and overflows the C stack (a segmentation fault, not an exception) somewhere
# between 3,000 and 10,000 levels of `((((1))))`, `-` `-` `-1`, `a+a+a...`, `elif` chains and the like.
# So every source is first screened with the standard library's tokenizer (linear, no recursion)
# against limits no real DAG file reaches, and the analysis then runs on a thread with a large
# stack as a second margin.
MAX_BRACKET_DEPTH: Final = 200  #: CPython's own limit ("too many nested parentheses")
MAX_INDENT_DEPTH: Final = 100  #: CPython's own limit ("too many levels of indentation")
MAX_NESTING: Final = 1_000  #: estimated syntax tree depth (operators, brackets, blocks, elif chains)
MAX_STATEMENT_TOKENS: Final = 250_000  #: tokens in one statement (a literal of ~100,000 elements)
ANALYSIS_STACK_SIZE: Final = 256 * 1024 * 1024  #: bytes; virtual memory, only touched pages are used
ANALYSIS_RECURSION_LIMIT: Final = 10_000  #: Python frames on that thread (about 25 KB of stack each)
# Keywords that nest an expression one level deeper in the syntax tree.
_NESTING_KEYWORDS: Final = frozenset({"not", "and", "or", "if", "else", "lambda", "await", "in", "is", "for",
                                      "yield", "async"})


@dataclass(frozen=True, slots=True)
class Options:
    target: Target = field(default_factory=lambda: make_target("mwaa-serverless"))
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    today: date | None = None


def decode_source(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Source text as Python would read it: BOM and `# -*- coding: ... -*-` headers honoured."""
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, codes.make(codes.BINARY_FILE, Span(path, data[:nul].count(b"\n") + 1, 1), offset=nul)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, codes.make(codes.UNDECODABLE_FILE, Span(path, 1, 1), encoding="declared", detail=str(exc))
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = data[:start].count(b"\n") + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        return None, codes.make(codes.UNDECODABLE_FILE, Span(path, line, column),
                                encoding=encoding.upper().replace("UTF-8-SIG", "UTF-8"),
                                detail=f"{reason} at byte {start}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def check_nesting(text: str, path: str) -> Diagnostic | None:
    """DC108 when the source is nested deeper, or has a longer statement, than the limits above.

    The tree depth is over-estimated from tokens: every bracket and operator adds a level to the
    comma-separated item it is in (`a+a+a` is three levels deep, `[a, a, a]` one), plus the block
    depth and the `elif` chain, which the parser nests like the blocks themselves. A tokenizer
    error is left to the parser, which reports it as a syntax error."""
    levels = [0]  # per open bracket: levels added since the last comma at that bracket level
    nested = 0  # sum(levels)
    indent = 0
    elif_chains: dict[int, int] = {}
    block_depth = 0
    statement_tokens = 0
    line_start = True
    too_deep = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            line = token.start[0]
            if kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                continue
            if kind == tokenize.INDENT:
                indent += 1
                if indent > MAX_INDENT_DEPTH:
                    too_deep = f"blocks nested more than {MAX_INDENT_DEPTH} levels deep (Python's own limit)"
                    break
                continue
            if kind == tokenize.DEDENT:
                indent -= 1
                continue
            if kind == tokenize.NEWLINE or (kind == tokenize.OP and string == ";"):
                levels, nested, statement_tokens, line_start = [0], 0, 0, True
                continue
            statement_tokens += 1
            if statement_tokens > MAX_STATEMENT_TOKENS:
                too_deep = f"a statement longer than {MAX_STATEMENT_TOKENS} tokens"
                break
            if line_start:
                line_start = False
                for level in [k for k in elif_chains if k > indent]:
                    del elif_chains[level]
                if string == "elif":
                    elif_chains[indent] = elif_chains.get(indent, 0) + 1
                elif string != "else":
                    elif_chains[indent] = 0
                block_depth = indent + sum(elif_chains.values())
            if kind == tokenize.OP:
                if string in "([{":
                    levels[-1] += 1
                    nested += 1
                    levels.append(0)
                    if len(levels) - 1 > MAX_BRACKET_DEPTH:
                        too_deep = f"brackets nested more than {MAX_BRACKET_DEPTH} levels deep (Python's own limit)"
                        break
                elif string in ")]}":
                    if len(levels) > 1:
                        nested -= levels.pop()
                elif string == ",":
                    nested -= levels[-1]
                    levels[-1] = 0
                else:
                    levels[-1] += 1
                    nested += 1
            elif kind == tokenize.STRING or (kind == tokenize.NAME and string in _NESTING_KEYWORDS):
                levels[-1] += 1  # adjacent strings nest too: "a" "b" "c" is a chain of concatenations
                nested += 1
            if block_depth + nested > MAX_NESTING:
                too_deep = f"an expression or block nested more than {MAX_NESTING} levels deep"
                break
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return None
    if too_deep is None:
        return None
    return codes.make(codes.INPUT_TOO_COMPLEX, Span(path, line, 1), detail=f"source too complex to analyse: {too_deep}")


def _on_large_stack(function: Callable[[], FileResult]) -> FileResult:
    """Run `function` on a thread with ANALYSIS_STACK_SIZE bytes of stack and a recursion limit
    to match; exceptions propagate to the caller."""
    outcome: list[FileResult | BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="dag-converter-analysis", daemon=True)
    previous_stack, previous_limit = threading.stack_size(), sys.getrecursionlimit()
    try:
        threading.stack_size(ANALYSIS_STACK_SIZE)  # applies to threads started from now on
    except (ValueError, RuntimeError):  # pragma: no cover - a platform without settable stacks
        return function()
    try:
        # The limit is per interpreter, not per thread; this thread only waits meanwhile.
        sys.setrecursionlimit(max(previous_limit, ANALYSIS_RECURSION_LIMIT))
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_stack)
        sys.setrecursionlimit(previous_limit)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def mentions_dag(data: bytes) -> bool:
    """Airflow's own safe-mode heuristic, narrowed to the issue's rule: files naming DAG or dag."""
    return b"dag" in data or b"DAG" in data


def convert_source(data: bytes, display: str, relative: str, options: Options,
                   *, explicit: bool = True) -> FileResult:
    """Convert one file's bytes. `explicit` is False for files found by walking a folder,
    which are skipped quietly when they do not mention DAGs."""
    try:
        return _on_large_stack(lambda: _convert_source(data, display, relative, options, explicit))
    except RecursionError:
        return FileResult(display, "unreadable", (codes.make(codes.INPUT_TOO_COMPLEX, Span(display),
                                                             detail="input nested too deeply to analyse"),))
    except Exception as exc:  # pragma: no cover - a bug must not stop the batch; it is reported
        return FileResult(display, "unreadable", (codes.make(codes.INTERNAL_ERROR, Span(display),
                                                             detail=f"{type(exc).__name__}: {exc}"),))


def _convert_source(data: bytes, display: str, relative: str, options: Options, explicit: bool) -> FileResult:
    if len(data) > options.max_file_size:
        return FileResult(display, "unreadable", (codes.make(codes.FILE_TOO_LARGE, Span(display), size=len(data),
                                                             limit=options.max_file_size),))
    if not data.strip():
        return FileResult(display, "no-dags", (codes.make(codes.EMPTY_FILE, Span(display)),))
    text, problem = decode_source(data, display)
    if problem is not None:
        return FileResult(display, "unreadable", (problem,))
    assert text is not None
    if not mentions_dag(data):
        return FileResult(display, "skipped" if not explicit else "no-dags",
                          () if not explicit else (codes.make(codes.FILE_WITHOUT_DAGS, Span(display)),))
    too_complex = check_nesting(text, display)
    if too_complex is not None:
        return FileResult(display, "unreadable", (too_complex,))
    package = ".".join(relative.split("/")[:-1])
    analysis = analyze_module(text, display, package=package, today=options.today or environment_today())
    file_errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    if any(d.code in (codes.SYNTAX_ERROR.code, codes.INPUT_TOO_COMPLEX.code) for d in file_errors) \
            and not analysis.workflows:
        return FileResult(display, "unreadable", analysis.diagnostics)
    dags: list[DagResult] = []
    for workflow in analysis.workflows:
        normalised, diagnostics = check_workflow(workflow, options.target,
                                                 today=options.today or environment_today())
        # A file-level error (an unknown condition around DAG code, ...) refuses every DAG in it.
        diagnostics = sorted({*diagnostics, *file_errors}, key=Diagnostic.sort_key)
        if is_refused(diagnostics):
            dags.append(DagResult(workflow, tuple(diagnostics), None))
        else:
            yaml_text = render_yaml(normalised, relative)
            dags.append(DagResult(workflow, tuple(diagnostics), yaml_text, f"{workflow.dag_id}.yaml"))
    file_level = tuple(d for d in analysis.diagnostics if d not in file_errors or not dags)
    if not dags:
        diagnostics = file_level or (codes.make(codes.FILE_WITHOUT_DAGS, Span(display)),)
        status = "refused" if any(d.severity is Severity.ERROR for d in diagnostics) else "no-dags"
        return FileResult(display, status, tuple(diagnostics))
    return FileResult(display, file_status(dags), file_level, tuple(dags))


def file_status(dags: Sequence[DagResult]) -> str:
    converted = sum(1 for d in dags if d.converted)
    if converted == len(dags):
        return "converted"
    return "partial" if converted else "refused"


def refuse_duplicates(results: list[FileResult]) -> list[FileResult]:
    """Two DAGs with one id in one run would write one file twice: refuse both, naming each other."""
    owners: dict[str, list[tuple[int, int]]] = {}
    for fi, result in enumerate(results):
        for di, dag in enumerate(result.dags):
            owners.setdefault(dag.dag_id, []).append((fi, di))
    changed = {fi for places in owners.values() if len(places) > 1 for fi, _ in places}
    if not changed:
        return results
    updated = list(results)
    for fi in sorted(changed):
        result = updated[fi]
        new_dags = []
        for di, dag in enumerate(result.dags):
            places = owners[dag.dag_id]
            if len(places) < 2:
                new_dags.append(dag)
                continue
            others = [results[ofi].path + f":{results[ofi].dags[odi].workflow.span.line}"
                      for ofi, odi in places if (ofi, odi) != (fi, di)]
            extra = codes.make(codes.DUPLICATE_DAG_ID, dag.workflow.span, dag_id=dag.dag_id, other=", ".join(others))
            new_dags.append(replace(dag, diagnostics=tuple(sorted((*dag.diagnostics, extra), key=Diagnostic.sort_key)),
                                    yaml_text=None, output_name=None))
        updated[fi] = replace(result, dags=tuple(new_dags), status=file_status(new_dags))
    return updated


def convert_files(files: Iterable[SourceFile], options: Options, *, explicit: Callable[[SourceFile], bool],
                  on_done: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Convert every file (sequentially); read errors become results."""
    results = []
    for source in files:
        result = read_and_convert(source, options, explicit(source))
        results.append(result)
        if on_done is not None:
            on_done(result)
    return refuse_duplicates(results)


def read_and_convert(source: SourceFile, options: Options, explicit: bool) -> FileResult:
    try:
        size = source.size()
        if size > options.max_file_size:
            return FileResult(source.display, "unreadable", (codes.make(codes.FILE_TOO_LARGE, Span(source.display),
                                                                        size=size, limit=options.max_file_size),))
        data = source.read_bytes()
    except OSError as exc:
        detail = exc.strerror or str(exc)
        return FileResult(source.display, "unreadable", (codes.make(codes.UNREADABLE_FILE, Span(source.display),
                                                                    detail=detail),))
    return convert_source(data, source.display, source.relative, options, explicit=explicit)


def write_outputs(results: list[FileResult], output: Path) -> list[FileResult]:
    """Write each converted DAG's YAML atomically; a failed write refuses that DAG with DC112.
    An unchanged file is not rewritten."""
    updated = []
    for result in results:
        new_dags = []
        for dag in result.dags:
            if dag.yaml_text is None or dag.output_name is None:
                new_dags.append(dag)
                continue
            target = output / dag.output_name
            try:
                if not (target.is_file() and target.read_text(encoding="utf-8") == dag.yaml_text):
                    write_atomic(target, dag.yaml_text)
            except OSError as exc:
                problem = codes.make(codes.WRITE_FAILED, dag.workflow.span, target=str(target),
                                     detail=exc.strerror or str(exc))
                dag = replace(dag, diagnostics=(*dag.diagnostics, problem), yaml_text=None, output_name=None)
            new_dags.append(dag)
        if new_dags:
            result = replace(result, dags=tuple(new_dags), status=file_status(new_dags))
        updated.append(result)
    return updated


__all__ = ["Options", "convert_files", "convert_source", "decode_source", "refuse_duplicates", "write_outputs"]
