"""One file's bytes through the stages: decode -> analyze -> validate -> emit, on the analysis thread.

Every failure becomes a diagnostic in the file's result, never an exception out of here: one bad
file never stops a batch (LibCST's TransformFailure, STYLE.md 8). Runs over many files, reads and
writes are batch/'s.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
import tokenize
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

from dag_converter import codes
from dag_converter.analyzer import (DEFAULT_LIMITS, FolderReader, LocalFolder, PluginsArchive, RunValues,
                                   analyze_module, with_plugins)
from dag_converter.analyzer import environment_today
from dag_converter.config import DEFAULT_MAX_FILE_SIZE
from dag_converter.emit import render_yaml
from dag_converter.model import (DagResult, Diagnostic, FileResult, FileStatus, FolderRead, ModuleAnalysis,
                                 PackageOutput, Severity, Span, Workflow)
from dag_converter.registry import get_registry
from dag_converter.rules import apply_inline_ignores
from dag_converter.targets import DEFAULT_TARGET, Feature, Target, check_workflow, get_target, is_refused

if TYPE_CHECKING:
    from dag_converter.codepackage.pins import Pins

T = TypeVar("T")

# libcst's native parser overflows the C stack on deeply nested source (a segmentation fault, not
# an exception); analyzer/_screen.py refuses such source before it is parsed, and the analysis
# runs on a thread with a large stack as a second margin.
ANALYSIS_STACK_SIZE: Final = 256 * 1024 * 1024  #: bytes; virtual memory, only touched pages are used
ANALYSIS_RECURSION_LIMIT: Final = 10_000  #: Python frames on that thread (about 25 KB of stack each)


@dataclass(frozen=True, slots=True)
class Options:
    target: Target = field(default_factory=lambda: get_target(DEFAULT_TARGET))
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    today: date | None = None
    run_values: RunValues = field(default_factory=RunValues)  #: --var/--env: run-time values the user froze
    pins: "Pins | None" = None  #: --requirements: the versions a code package's requirements.txt gives
    build_deps: bool = False  #: --build-deps: install each code package's requirements into it with pip
    #: --plugins: MWAA's plugins.zip, a module root behind the DAG folder (imports resolve there too)
    plugins: PluginsArchive | None = None


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
                   *, explicit: bool = True, root: Path | FolderReader | None = None) -> FileResult:
    """Convert one file's bytes. `explicit` is False for files found by walking a folder,
    which are skipped quietly when they do not mention DAGs. `root` is the local DAG folder
    `relative` starts from: modules the file imports from it are read statically."""
    return on_analysis_thread(lambda: _convert_guarded(data, display, relative, options, explicit, root))


def _convert_guarded(data: bytes, display: str, relative: str, options: Options, explicit: bool,
                     root: Path | FolderReader | None) -> FileResult:
    collecting = gc.isenabled()
    # No automatic garbage collection during one file: the syntax tree is freed by reference
    # counting when the file is done, but while it lives each young-generation collection
    # walked it, about a tenth of the whole conversion. The evaluator collects by itself
    # during long evaluations (Evaluator.tick), so an endless loop does not grow memory.
    gc.disable()
    try:
        return _convert_source(data, display, relative, options, explicit, root)
    except RecursionError:
        return FileResult.failed(display, codes.make(codes.INPUT_TOO_COMPLEX, Span(display),
                                                     detail="input nested too deeply to analyse"))
    except Exception as exc:  # pragma: no cover - a bug must not stop the batch; it is reported
        return FileResult.failed(display, codes.make(codes.INTERNAL_ERROR, Span(display),
                                                     detail=f"{type(exc).__name__}: {exc}"))
    finally:
        if collecting:
            gc.enable()


def _convert_source(data: bytes, display: str, relative: str, options: Options, explicit: bool,
                    root: Path | FolderReader | None = None) -> FileResult:
    problem = size_problem(display, len(data), options.max_file_size)
    if problem is not None:
        return FileResult.failed(display, problem)
    if not data.strip():
        if relative.rsplit("/", 1)[-1] == "__init__.py":
            return FileResult(display, FileStatus.SKIPPED)  # an empty package marker is normal, not a lost file
        return FileResult(display, FileStatus.NO_DAGS, (codes.make(codes.EMPTY_FILE, Span(display)),))
    text, problem = decode_source(data, display)
    if problem is not None:
        return FileResult.failed(display, problem)
    assert text is not None
    if not mentions_dag(data):
        if not explicit:
            return FileResult(display, FileStatus.SKIPPED)
        return FileResult(display, FileStatus.NO_DAGS, (codes.make(codes.FILE_WITHOUT_DAGS, Span(display)),))
    package = ".".join(relative.split("/")[:-1])
    root = with_plugins(root, options.plugins)
    analysis = analyze_module(text, display, package=package, today=options.today or environment_today(),
                              root=root, file=relative, run_values=options.run_values,
                              # Code packages ship template files; other targets get their text inline.
                              inline_templates=not options.target.supports(Feature.CODE_PACKAGES),
                              limits=replace(DEFAULT_LIMITS, file_bytes=options.max_file_size))
    looked_at = {read.path: read for read in analysis.folder_reads}
    result = apply_inline_ignores(_analysed(analysis, display, relative, options, text, root, looked_at), text)
    # What the file's conversion read or looked for in its folder: a rerun redoes it when one changes.
    reads = tuple(looked_at[path] for path in sorted(looked_at))
    return dataclasses.replace(result, reads=reads) if reads else result


def _analysed(analysis: ModuleAnalysis, display: str, relative: str, options: Options, text: str,
              root: "Path | FolderReader | None", looked_at: dict[str, FolderRead]) -> FileResult:
    """The file's result; the folder files its code packages read are added to `looked_at`."""
    file_errors = [d for d in analysis.diagnostics if d.severity is Severity.ERROR]
    if any(d.code in (codes.SYNTAX_ERROR.code, codes.INPUT_TOO_COMPLEX.code) for d in file_errors) \
            and not analysis.workflows:
        return FileResult(display, FileStatus.UNREADABLE, analysis.diagnostics)
    dags: list[DagResult] = []
    spans = Counter(w.span for w in analysis.workflows)  # one DAG() call building several DAGs: a loop
    for workflow in analysis.workflows:
        package: PackageOutput | None = None
        package_findings: tuple[Diagnostic, ...] = ()
        checked = workflow
        if options.target.supports(Feature.CODE_PACKAGES) and not file_errors:
            checked, package, package_findings, package_reads = _package(workflow, text, display, relative, root,
                                                                         options)
            looked_at.update((read.path, read) for read in package_reads)
        normalised, diagnostics = check_workflow(checked, options.target,
                                                 today=options.today or environment_today(), relative=relative,
                                                 in_loop=spans[workflow.span] > 1)
        if package_findings:
            from dag_converter.codepackage.wire import settle
            diagnostics = settle(diagnostics, package_findings)
        # A file-level error (an unknown condition around DAG code, ...) refuses every DAG in it.
        diagnostics = sorted({*diagnostics, *file_errors, *package_findings}, key=Diagnostic.sort_key)
        if is_refused(diagnostics):
            dags.append(DagResult(workflow, tuple(diagnostics), None))
        else:
            yaml_text = render_yaml(normalised, relative, task_groups=options.target.supports(Feature.TASK_GROUPS),
                                    code_package=package.name if package is not None else None)
            dags.append(DagResult(workflow, tuple(diagnostics), yaml_text, f"{workflow.dag_id}.yaml", package))
    file_level = tuple(d for d in analysis.diagnostics if d not in file_errors or not dags)
    if not dags:
        diagnostics = file_level or (codes.make(codes.FILE_WITHOUT_DAGS, Span(display)),)
        status = FileStatus.REFUSED if any(d.severity is Severity.ERROR for d in diagnostics) else FileStatus.NO_DAGS
        return FileResult(display, status, tuple(diagnostics))
    return FileResult(display, FileStatus.of_dags(dags), file_level, tuple(dags))


def _package(workflow: Workflow, text: str, display: str, relative: str, root: "Path | FolderReader | None",
             options: Options) -> tuple[Workflow, PackageOutput | None, tuple[Diagnostic, ...], tuple[FolderRead, ...]]:
    """The workflow named for its code package, the package as written beside the YAML, its findings,
    and the folder files it read or looked for (what it ships, and what it found missing).
    Packages are built from the DAG folder, local or an s3:// prefix (its files read on demand)."""
    # only targets with code packages load it
    from dag_converter.codepackage.wire import package_workflow, recording_reads

    with recording_reads() as looked_at:
        renamed, package, findings = package_workflow(workflow, text, display, relative, root, pins=options.pins,
                                                      build_deps=options.build_deps)
    folder = LocalFolder(root) if isinstance(root, Path) else root
    reads = tuple(FolderRead(path, folder.digest(path, data)) for path, data in sorted(looked_at.items())) \
        if folder is not None else ()
    if package is None or package.zip_bytes is None:
        return renamed, None, findings, reads
    output = PackageOutput(f"{workflow.dag_id}.code.zip", package.zip_bytes,
                           tuple((f.path, f.reason) for f in package.files), package.requirements_text,
                           package.pip_command)
    return renamed, output, findings, reads


def size_problem(display: str, size: int, limit: int) -> Diagnostic | None:
    """DC107 when a file is over the size limit: the one size check, used before a read
    (the listed or stat'ed size) and on the bytes read (a file may grow in between)."""
    if size > limit:
        return codes.make(codes.FILE_TOO_LARGE, Span(display), size=size, limit=limit)
    return None


__all__ = ["DEFAULT_MAX_FILE_SIZE", "Options", "convert_source", "decode_source", "on_analysis_thread",
           "size_problem"]
