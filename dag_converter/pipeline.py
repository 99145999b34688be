"""One file through the stages: read -> analyze -> validate -> emit; and a run over many files.

Every failure becomes a diagnostic in the file's result, never an exception out of here: one bad
file never stops a batch (LibCST's TransformFailure, STYLE.md 8).
"""

from __future__ import annotations

import gc
import io
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Final, TypeVar

from dag_converter import codes
from dag_converter.analyzer import analyze_module
from dag_converter.analyzer import environment_today
from dag_converter.emit import render_yaml, write_atomic
from dag_converter.model import DagResult, Diagnostic, FileResult, Severity, Span
from dag_converter.registry import get_registry
from dag_converter.sources import SourceFile
from dag_converter.validate import Target, check_workflow, is_refused, make_target

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
T = TypeVar("T")

# libcst's native parser overflows the C stack on deeply nested source (a segmentation fault, not
# an exception); analyzer/_screen.py refuses such source before it is parsed, and the analysis
# runs on a thread with a large stack as a second margin.
ANALYSIS_STACK_SIZE: Final = 256 * 1024 * 1024  #: bytes; virtual memory, only touched pages are used
ANALYSIS_RECURSION_LIMIT: Final = 10_000  #: Python frames on that thread (about 25 KB of stack each)


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


_analysis_thread: ThreadPoolExecutor | None = None
_analysis_lock = threading.Lock()


def _analysis_executor() -> ThreadPoolExecutor:
    """One long-lived thread per process with ANALYSIS_STACK_SIZE bytes of stack: starting a
    thread with a large stack for every file cost about as much as a tenth of the analysis."""
    global _analysis_thread
    with _analysis_lock:
        if _analysis_thread is None:
            previous = threading.stack_size()
            threading.stack_size(ANALYSIS_STACK_SIZE)  # applies to threads started from now on
            try:
                executor = ThreadPoolExecutor(1, thread_name_prefix="dag-converter-analysis")
                executor.submit(int).result()  # start the thread now, while the stack size is set
            finally:
                threading.stack_size(previous)
            _analysis_thread = executor
            # What exists now lives for the whole run: the modules and the operator registry.
            # Frozen out of the collector's sight, they are not walked again by every full
            # collection while results pile up (measured: about 6% of a 1000-file run).
            get_registry()
            gc.freeze()
        return _analysis_thread


_inside = threading.local()  #: `active` is True on the analysis thread while it runs a call


def on_analysis_thread(function: Callable[[], T]) -> T:
    """Run `function` on the analysis thread, with a recursion limit to match its stack (inline
    when already there); exceptions propagate to the caller. Calls from several threads run one
    after another, so the interpreter-wide recursion limit is never changed under another
    analysis. Each call is a hand-over between threads: a batch of files goes in one call."""
    if getattr(_inside, "active", False):
        return function()
    try:
        executor = _analysis_executor()
    except (ValueError, RuntimeError):  # pragma: no cover - a platform without settable stacks
        return function()

    def run() -> T:
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous, ANALYSIS_RECURSION_LIMIT))
        _inside.active = True
        try:
            return function()
        finally:
            _inside.active = False
            sys.setrecursionlimit(previous)

    return executor.submit(run).result()


def mentions_dag(data: bytes) -> bool:
    """Airflow's own safe-mode heuristic, narrowed to the issue's rule: files naming DAG or dag."""
    return b"dag" in data or b"DAG" in data


def convert_source(data: bytes, display: str, relative: str, options: Options,
                   *, explicit: bool = True, root: Path | None = None) -> FileResult:
    """Convert one file's bytes. `explicit` is False for files found by walking a folder,
    which are skipped quietly when they do not mention DAGs. `root` is the local DAG folder
    `relative` starts from: modules the file imports from it are read statically."""
    return on_analysis_thread(lambda: _convert_guarded(data, display, relative, options, explicit, root))


def _convert_guarded(data: bytes, display: str, relative: str, options: Options, explicit: bool,
                     root: Path | None) -> FileResult:
    collecting = gc.isenabled()
    # No automatic garbage collection during one file: the syntax tree is freed by reference
    # counting when the file is done, but while it lives each young-generation collection
    # walked it, about a tenth of the whole conversion. The evaluator collects by itself
    # during long evaluations (Evaluator.tick), so an endless loop does not grow memory.
    gc.disable()
    try:
        return _convert_source(data, display, relative, options, explicit, root)
    except RecursionError:
        return FileResult(display, "unreadable", (codes.make(codes.INPUT_TOO_COMPLEX, Span(display),
                                                             detail="input nested too deeply to analyse"),))
    except Exception as exc:  # pragma: no cover - a bug must not stop the batch; it is reported
        return FileResult(display, "unreadable", (codes.make(codes.INTERNAL_ERROR, Span(display),
                                                             detail=f"{type(exc).__name__}: {exc}"),))
    finally:
        if collecting:
            gc.enable()


def _convert_source(data: bytes, display: str, relative: str, options: Options, explicit: bool,
                    root: Path | None = None) -> FileResult:
    if len(data) > options.max_file_size:
        return FileResult(display, "unreadable", (codes.make(codes.FILE_TOO_LARGE, Span(display), size=len(data),
                                                             limit=options.max_file_size),))
    if not data.strip():
        if relative.rsplit("/", 1)[-1] == "__init__.py":
            return FileResult(display, "skipped")  # an empty package marker is normal, not a lost file
        return FileResult(display, "no-dags", (codes.make(codes.EMPTY_FILE, Span(display)),))
    text, problem = decode_source(data, display)
    if problem is not None:
        return FileResult(display, "unreadable", (problem,))
    assert text is not None
    if not mentions_dag(data):
        return FileResult(display, "skipped" if not explicit else "no-dags",
                          () if not explicit else (codes.make(codes.FILE_WITHOUT_DAGS, Span(display)),))
    package = ".".join(relative.split("/")[:-1])
    analysis = analyze_module(text, display, package=package, today=options.today or environment_today(),
                              root=root)
    file_errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    if any(d.code in (codes.SYNTAX_ERROR.code, codes.INPUT_TOO_COMPLEX.code) for d in file_errors) \
            and not analysis.workflows:
        return FileResult(display, "unreadable", analysis.diagnostics)
    dags: list[DagResult] = []
    for workflow in analysis.workflows:
        normalised, diagnostics = check_workflow(workflow, options.target,
                                                 today=options.today or environment_today(), relative=relative)
        # A file-level error (an unknown condition around DAG code, ...) refuses every DAG in it.
        diagnostics = sorted({*diagnostics, *file_errors}, key=Diagnostic.sort_key)
        if is_refused(diagnostics):
            dags.append(DagResult(workflow, tuple(diagnostics), None))
        else:
            yaml_text = render_yaml(normalised, relative, task_groups=not options.target.flatten_groups)
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
    return convert_source(data, source.display, source.relative, options, explicit=explicit,
                          root=source.root)


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


__all__ = ["Options", "convert_files", "convert_source", "decode_source", "on_analysis_thread", "refuse_duplicates",
           "write_outputs"]
