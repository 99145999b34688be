"""A conversion run over many sources: skip what the manifest says is done, read in threads,
convert in processes, write in threads, record each finished source in the manifest.

The order of the results (and so the report's bytes) is the order of the sources, whatever
`jobs` is: work finishes in any order but lands in its source's slot. Interrupted (Ctrl-C), the
run stops taking work, lets the writes in flight finish (each is atomic), saves the manifest of
the finished sources and re-raises, so a rerun continues where this one stopped.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from dag_converter import __version__, codes
from dag_converter.manifest import MANIFEST_NAME, RESTORED_YAML, Manifest, load_manifest, restore_result
from dag_converter.model import DagResult, Diagnostic, FileResult, Span
from dag_converter.pipeline import Options, convert_source, file_status, on_analysis_thread, refuse_duplicates
from dag_converter.sinks import LocalSink, S3Sink, Sink, SinkError
from dag_converter.sources import SourceFile, discover_local, is_skipped_folder
from dag_converter.sources_s3 import S3Failure, S3Location, S3Source, discover_s3, is_s3_url, make_client, reader

if TYPE_CHECKING:
    from botocore.client import BaseClient

#: Save the manifest after this many finished sources, so an interrupted run loses little work
#: and a big run does not rewrite the manifest once per file.
MANIFEST_SAVE_EVERY: Final = 25  #: finished sources between manifest saves, at the least...
# ...and at most one save per this many seconds: each save rewrites the whole manifest, so saving
# by count alone costs time quadratic in the number of sources. What a save misses is redone by
# the next run, whose writes find the YAML already current.
MANIFEST_SAVE_SECONDS: Final = 2.0
#: Codes of failures that may pass (network, permissions): such a source is not recorded as done.
_TRANSIENT: Final = frozenset({codes.UNREADABLE_FILE.code, codes.STORAGE_ERROR.code, codes.WRITE_FAILED.code,
                               codes.INTERNAL_ERROR.code})


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source to convert, wherever it lives."""

    display: str  #: as the user gave it; also the source's key in the manifest
    relative: str  #: relative to the input root, '/'-separated
    fingerprint: str  #: changes whenever the content may have changed
    size: int | None  #: known before reading (a listing, a stat), for the size limit
    read: Callable[[], bytes]  #: raises OSError or S3Failure
    explicit: bool = False  #: named by the user, not found in a folder
    root: Path | None = None  #: local DAG folder whose modules the file may import (read statically)


def local_refs(files: Iterable[SourceFile], explicit: Callable[[SourceFile], bool]) -> list[SourceRef]:
    refs = []
    trees: dict[Path, str] = {}
    for f in files:
        root = f.root
        if root not in trees:
            trees[root] = _tree_fingerprint(root)
        try:
            st = f.path.stat()
            # The folder's digest is part of each file's: a DAG may import a module beside it,
            # so any change to the folder's Python files converts its DAGs again (unchanged
            # YAML is still not rewritten).
            fingerprint, size = f"size={st.st_size};mtime_ns={st.st_mtime_ns};folder={trees[root]}", st.st_size
        except OSError:
            fingerprint, size = "", None  # never matches: the read reports the error
        refs.append(SourceRef(f.display, f.relative, fingerprint, size, f.read_bytes, explicit(f), root))
    return refs


def _tree_fingerprint(root: Path) -> str:
    """A digest of the size and mtime of every Python file below root, .airflowignore'd ones too
    (helper modules often live in ignored folders)."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not is_skipped_folder(d))
        for name in sorted(n for n in names if n.endswith(".py")):
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(path, root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def s3_refs(sources: Iterable[S3Source], read: Callable[[S3Source], Callable[[], bytes]]) -> list[SourceRef]:
    return [SourceRef(s.display, s.relative, s.fingerprint, s.size, read(s), s.explicit) for s in sources]


class Progress(Protocol):
    """What the CLI shows while a run goes; called from the run's own thread only."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, name: str) -> None: ...


class _NoProgress:
    def phase(self, name: str, total: int) -> None:
        return None

    def advance(self, name: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RunResult:
    results: tuple[FileResult, ...]
    problems: tuple[str, ...]  #: run-level failures (the manifest could not be saved, ...)
    skipped: int  #: sources unchanged since the manifest's run: not read, not converted
    written: int  #: YAML files written (PutObject calls for S3)
    current: int  #: YAML files already holding the right bytes, so not written


def settings_key(options: Options) -> str:
    """What makes an old conversion stale besides its source: the tool version and the options."""
    return f"dag-converter {__version__}; {options!r}"


class _Run:
    def __init__(self, options: Options, output: Sink, extra: Sequence[Sink], jobs: int, force: bool,
                 progress: Progress) -> None:
        self.options = options
        self.output = output
        self.sinks = [output, *extra]
        self.jobs = max(1, jobs)
        self.force = force
        self.progress = progress
        self.problems: list[str] = []
        self.written = 0
        self.current = 0
        self.manifest = Manifest(settings_key(options))
        self._saved_text: str | None = None
        self._unsaved = 0
        self._saved_at = time.monotonic()
        self._count_lock = threading.Lock()  #: written/current are counted from writer threads

    # -- manifest ----------------------------------------------------------------------------
    def load(self) -> Manifest:
        for sink in self.sinks:
            sink.prepare()
        self._saved_text = self.output.read_text(MANIFEST_NAME)
        if self.force:
            return Manifest(self.manifest.settings)
        return load_manifest(self._saved_text, self.manifest.settings)

    def finished(self, ref: SourceRef, result: FileResult) -> None:
        if any(d.code in _TRANSIENT for d in result.all_diagnostics()):
            self.manifest.forget(ref.display)
        else:
            self.manifest.record(ref.display, ref.fingerprint, result)
        self._unsaved += 1
        if self._unsaved >= MANIFEST_SAVE_EVERY and time.monotonic() - self._saved_at >= MANIFEST_SAVE_SECONDS:
            self.save()

    def save(self) -> None:
        self._unsaved = 0
        self._saved_at = time.monotonic()
        text = self.manifest.dumps()
        if text == self._saved_text:
            return  # an unchanged rerun writes nothing at all
        try:
            self.output.write_text(MANIFEST_NAME, text)
            self._saved_text = text
        except SinkError as exc:
            message = f"error: cannot write {self.output.url(MANIFEST_NAME)}: {exc}"
            if message not in self.problems:
                self.problems.append(message)

    # -- reading and converting -------------------------------------------------------------
    def convert_all(self, refs: Sequence[SourceRef]) -> list[FileResult]:
        self.progress.phase("convert", len(refs))
        results: list[FileResult] = []
        if self.jobs == 1 or len(refs) < 2:
            def convert_batch(batch: Sequence[SourceRef]) -> None:
                for ref in batch:
                    data = _read(ref, self.options)
                    results.append(data if isinstance(data, FileResult) else _convert(data, ref, self.options))
                    self.progress.advance("convert")

            # In batches on the analysis thread: one hand-over between threads per batch, not
            # per file; a batch is short enough that Ctrl-C still stops the run promptly. The
            # reads stay on that thread too: reader threads beside it cost more in hand-overs
            # of the GIL than they saved (measured: the analysis ran about 12% slower).
            for start in range(0, len(refs), _FILES_PER_HANDOVER):
                on_analysis_thread(lambda: convert_batch(refs[start:start + _FILES_PER_HANDOVER]))
                _settle()
            return results
        # Sources go through in bounded chunks: threads read a chunk (S3 reads are I/O-bound),
        # worker processes convert it (CPU-bound), results come back in source order. A chunk
        # bounds the bytes held in memory and the futures in flight; each worker call takes
        # several files.
        workers = _new_pool(self.jobs)
        with ThreadPoolExecutor(self.jobs * 2, thread_name_prefix="read") as readers:
            try:
                for batch, datas in self._read_ahead(refs, self.jobs * _FILES_PER_WORKER_CHUNK, readers):
                    todo = [i for i, data in enumerate(datas) if not isinstance(data, FileResult)]
                    jobs = [(datas[i], batch[i].display, batch[i].relative, batch[i].explicit, batch[i].root)
                            for i in todo]
                    size = max(1, len(todo) // (self.jobs * 4))
                    pieces = [jobs[k:k + size] for k in range(0, len(jobs), size)]
                    converted: dict[int, FileResult] = {}
                    try:
                        done = (r for rs in workers.map(_convert_jobs, pieces, repeat(self.options)) for r in rs)
                        for i, result in zip(todo, done):
                            converted[i] = result
                    except BrokenProcessPool as exc:
                        # A worker died (out of memory, killed): its files fail, the run goes on.
                        for i in todo:
                            if i not in converted:
                                converted[i] = _worker_failure(batch[i], exc)
                        workers.shutdown(wait=False, cancel_futures=True)
                        workers = _new_pool(self.jobs)
                    for i, data in enumerate(datas):
                        results.append(data if isinstance(data, FileResult) else converted[i])
                        self.progress.advance("convert")
                    _settle()
            except BaseException:
                _cancel(readers, workers)
                raise
            workers.shutdown(wait=True)
        return results

    def _read_ahead(self, refs: Sequence[SourceRef], size: int,
                    readers: Executor) -> Iterator[tuple[Sequence[SourceRef], list[bytes | FileResult]]]:
        """The sources in chunks of `size`, each with its bytes (or the failure to read them).
        The next chunk is read, in `readers`, while the caller converts this one; at most two
        chunks are held in memory."""
        def submit(start: int) -> list[Future[bytes | FileResult]]:
            return [readers.submit(_read, ref, self.options) for ref in refs[start:start + size]]

        pending = submit(0)
        for start in range(0, len(refs), size):
            current, pending = pending, submit(start + size)
            yield refs[start:start + size], [future.result() for future in current]

    # -- writing -----------------------------------------------------------------------------
    def write_all(self, refs: Sequence[SourceRef], results: list[FileResult], fresh: Sequence[int]) -> list[FileResult]:
        """Write the YAML of each freshly converted source, in threads; record each source in the
        manifest once all of its YAML is in place."""
        with_yaml = [i for i in fresh if any(d.yaml_text is not None for d in results[i].dags)]
        nothing_to_write = set(fresh) - set(with_yaml)
        for i in sorted(nothing_to_write):
            self.finished(refs[i], results[i])
        self.progress.phase("write", len(with_yaml))
        if not with_yaml:
            return results
        updated = list(results)
        with ThreadPoolExecutor(self.jobs * 2, thread_name_prefix="write") as writers:
            try:
                futures = {writers.submit(self._write_file, results[i]): i for i in with_yaml}
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    # Record finished sources in source order within a batch, so the manifest's
                    # saves do not depend on which thread won a race.
                    for future in sorted(done, key=futures.__getitem__):
                        i = futures[future]
                        updated[i] = future.result()
                        self.finished(refs[i], updated[i])
                        self.progress.advance("write")
            except BaseException:
                writers.shutdown(wait=True, cancel_futures=True)
                raise
        return updated

    def _write_file(self, result: FileResult) -> FileResult:
        new_dags: list[DagResult] = []
        for dag in result.dags:
            if dag.yaml_text is None or dag.output_name is None:
                new_dags.append(dag)
                continue
            for sink in self.sinks:
                if not self.force and sink.is_current(dag.output_name, dag.yaml_text):
                    with self._count_lock:
                        self.current += 1
                    continue
                try:
                    sink.write_text(dag.output_name, dag.yaml_text)
                    with self._count_lock:
                        self.written += 1
                except SinkError as exc:
                    problem = codes.make(codes.WRITE_FAILED, dag.workflow.span, target=sink.url(dag.output_name),
                                         detail=str(exc))
                    dag = replace(dag, diagnostics=(*dag.diagnostics, problem), yaml_text=None, output_name=None)
                    break
            new_dags.append(dag)
        return replace(result, dags=tuple(new_dags), status=file_status(new_dags))


def run_conversion(refs: Sequence[SourceRef], options: Options, output: Sink, extra: Sequence[Sink] = (), *,
                   jobs: int = 1, force: bool = False, progress: Progress | None = None,
                   check: Callable[[SourceRef, FileResult], FileResult] | None = None) -> RunResult:
    """Convert every source and write its YAML to `output` (and the `extra` sinks), skipping
    sources the manifest in `output` records as converted from the same bytes."""
    run = _Run(options, output, extra, jobs, force, progress or _NoProgress())
    previous = run.load()
    results: list[FileResult | None] = [None] * len(refs)
    todo: list[int] = []
    for i, ref in enumerate(refs):
        entry = previous.lookup(ref.display, ref.fingerprint)
        # A YAML deleted from the output since means the source is done again, not skipped.
        if entry is not None and all(output.exists(name) for name, _ in entry.outputs):
            results[i] = restore_result(entry)
            run.manifest.keep(ref.display, entry)
        else:
            todo.append(i)
    skipped = len(refs) - len(todo)
    try:
        converted = run.convert_all([refs[i] for i in todo])
        for i, result in zip(todo, converted):
            # `check` (convert --verify) may refuse DAGs before anything is written.
            results[i] = check(refs[i], result) if check is not None else result
        final = refuse_duplicates([r for r in results if r is not None])
        redone = set(todo)
        for i, result in enumerate(final):
            # A restored DAG refused now (its id is also in a new file) must be redone next time.
            if i not in redone and any(d.yaml_text is None and o.yaml_text == RESTORED_YAML
                                     for d, o in zip(result.dags, results[i].dags)):  # type: ignore[union-attr]
                run.manifest.forget(refs[i].display)
        final = run.write_all(refs, final, todo)
    finally:
        run.save()
    return RunResult(tuple(final), tuple(run.problems), skipped, run.written, run.current)


def write_reports(files: dict[str, str], sinks: Sequence[Sink]) -> list[str]:
    """Write each report file to each sink unless it already holds the same bytes. A sink that
    fails once (full disk, no such folder) is not tried again: one line says so, not one per file."""
    problems = []
    for sink in sinks:
        for name, text in files.items():
            if sink.is_current(name, text):
                continue
            try:
                sink.write_text(name, text)
            except SinkError as exc:
                problems.append(f"error: cannot write the report {sink.url(name)}: {exc}")
                break
    return problems


@dataclass(frozen=True, slots=True)
class Locations:
    """The sources of a run and where its output goes, as the CLI names them."""

    refs: tuple[SourceRef, ...]
    problems: tuple[Diagnostic, ...]  #: paths that do not exist, listings that failed
    output: Sink
    extra: tuple[Sink, ...]  #: --bucket: the YAML also goes there
    report_sinks: tuple[Sink, ...]  #: the output, plus --report-dir
    excluded: tuple[str, ...] = ()  #: local files dropped by --exclude patterns


def open_locations(paths: Sequence[str], output: str, *, bucket: str | None = None,
                   report_dir: str | None = None, endpoint_url: str | None = None,
                   jobs: int = 1, excludes: Sequence[str] = (), base: Path | None = None) -> Locations:
    """Resolve local paths and s3:// URLs into sources and sinks. Raises S3Unavailable when an
    s3:// location is used without boto3 installed."""
    client = None

    def s3_client() -> "BaseClient":
        nonlocal client
        if client is None:
            client = make_client(endpoint_url, max_connections=jobs * 2)
        return client

    refs: list[SourceRef] = []
    problems: list[Diagnostic] = []
    excluded: tuple[str, ...] = ()
    local_paths = [p for p in paths if not is_s3_url(p)]
    for path in paths:
        if is_s3_url(path):
            found, trouble = discover_s3(s3_client(), path)
            refs.extend(s3_refs(found, lambda source: reader(s3_client(), source)))
            problems.extend(trouble)
    if local_paths:
        files, trouble = discover_local(local_paths)
        if excludes:
            from dag_converter.config import drop_excluded

            files, dropped = drop_excluded(files, excludes, base or Path.cwd())
            excluded = tuple(f.display for f in dropped)
        named = {f.display for f in files if f.display in local_paths}
        refs.extend(local_refs(files, lambda f: f.display in named))
        problems.extend(trouble)
    order = {p: n for n, p in enumerate(paths)}
    # Sources in the order their paths were given, each path's files in walk order.
    refs.sort(key=lambda r: order.get(_root_of(r.display, paths), len(paths)))
    out: Sink = S3Sink(s3_client(), S3Location.parse(output)) if is_s3_url(output) else LocalSink(Path(output))
    extra: tuple[Sink, ...] = (S3Sink(s3_client(), S3Location(bucket, "")),) if bucket else ()
    reports: list[Sink] = [out]
    if report_dir:
        reports.append(LocalSink(Path(report_dir)))
    return Locations(tuple(refs), tuple(problems), out, extra, tuple(reports), excluded)


def _root_of(display: str, paths: Sequence[str]) -> str:
    for path in paths:
        if display == path or display.startswith(path.rstrip("/") + "/") or \
                display.startswith(path.rstrip(os.sep) + os.sep):
            return path
    return ""


_FILES_PER_WORKER_CHUNK: Final = 64  #: files per worker in one chunk of a parallel run
_FILES_PER_HANDOVER: Final = 16  #: files converted per call on the analysis thread in a sequential run


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


def _read(ref: SourceRef, options: Options) -> bytes | FileResult:
    if ref.size is not None and ref.size > options.max_file_size:
        return FileResult(ref.display, "unreadable", (codes.make(codes.FILE_TOO_LARGE, Span(ref.display),
                                                                 size=ref.size, limit=options.max_file_size),))
    try:
        return ref.read()
    except S3Failure as exc:
        return FileResult(ref.display, "unreadable", (codes.make(codes.STORAGE_ERROR, Span(ref.display),
                                                                 detail=str(exc)),))
    except OSError as exc:
        return FileResult(ref.display, "unreadable", (codes.make(codes.UNREADABLE_FILE, Span(ref.display),
                                                                 detail=exc.strerror or str(exc)),))


def _settle() -> None:
    """Results pile up until the report is written, and every full garbage collection walked
    all of them again: once a young collection has freed what the last batch left behind, they
    are frozen out of the collector's sight (about 0.1 ms per file of a 1000-file run)."""
    gc.collect(1)
    gc.freeze()


def _convert(data: bytes, ref: SourceRef, options: Options) -> FileResult:
    return convert_source(data, ref.display, ref.relative, options, explicit=ref.explicit, root=ref.root)


def _convert_jobs(jobs: Sequence[tuple[bytes, str, str, bool, Path | None]], options: Options) -> list[FileResult]:
    """Several files in a worker process, in one call on its analysis thread. Only plain values
    cross the process boundary: a source's reader (an S3 client) cannot be pickled."""
    return on_analysis_thread(lambda: [convert_source(data, display, relative, options, explicit=explicit, root=root)
                                       for data, display, relative, explicit, root in jobs])


def _worker_failure(ref: SourceRef, exc: BaseException) -> FileResult:
    return FileResult(ref.display, "unreadable", (codes.make(codes.INTERNAL_ERROR, Span(ref.display),
                                                             detail=f"worker process died: {type(exc).__name__}"),))


def _new_pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(jobs, mp_context=_process_context(), initializer=_ignore_sigint)


def _process_context() -> multiprocessing.context.BaseContext:
    # fork is unsafe once reader threads (and boto3's connection pool) exist; forkserver forks
    # from a clean single-threaded server instead.
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent handles it, workers just stop with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cancel(*executors: Executor) -> None:
    for executor in executors:
        executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["Locations", "Progress", "RunResult", "SourceRef", "default_jobs", "local_refs", "open_locations", "run_conversion", "s3_refs",
           "settings_key", "write_reports"]
