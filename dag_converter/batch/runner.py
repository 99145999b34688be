"""The one batch driver: every run (convert, --check, --diff, --fail-on-change, local or S3) goes
through `run_sources`, and the Mode decides what happens to the YAML (black's WriteBack).

A run skips what the manifest says is done (WRITE only), reads and converts in chunks, refuses
duplicate DAG ids, then writes (WRITE, FAIL_ON_CHANGE) or compares (CHECK, DIFF) each YAML and
records each finished source in the manifest. There is one loop over an Executor: worker
processes and reader threads when `jobs` > 1, a synchronous executor when `jobs` is 1 or there is
one file (libcst's DummyExecutor), so the sequential run is the same code with no pools.

The order of the results (and so the report's bytes) is the order of the sources, whatever
`jobs` is: work finishes in any order but lands in its source's slot. Interrupted (Ctrl-C), the
run stops taking work, lets the writes in flight finish (each is atomic), saves the manifest of
the finished sources and re-raises, so a rerun continues where this one stopped.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from dag_converter import codes
from dag_converter.batch.changes import OutputChange, output_change
from dag_converter.batch.manifest import (MANIFEST_NAME, RESTORED_YAML, Manifest, load_manifest, restore_result,
                                          settings_key)
from dag_converter.config import Mode
from dag_converter.model import DagResult, FileResult, Span
from dag_converter.pipeline import Options, convert_source, on_analysis_thread, size_problem
from dag_converter.storage import Sink, Source, StorageError, root_of
from dag_converter.storage.base import FolderFiles

T = TypeVar("T")

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
_FILES_PER_WORKER_CHUNK: Final = 64  #: files per worker in one chunk of a parallel run
# A sequential run converts its files in chunks on the analysis thread: one hand-over between
# threads per chunk, not per file; a chunk is short enough that Ctrl-C still stops the run
# promptly. Its reads happen on the calling thread between chunks, with no reader threads: those
# cost more in hand-overs of the GIL than they saved (measured: the analysis ran about 12% slower).
_FILES_PER_HANDOVER: Final = 16


class Progress(Protocol):
    """What the CLI shows while a run goes; called from the run's own thread only."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, name: str) -> None: ...


class _NoProgress:
    def phase(self, name: str, total: int) -> None:
        return None

    def advance(self, name: str) -> None:
        return None


#: `convert --verify`: may refuse DAGs of a freshly converted source before anything is written.
Check = Callable[[Source, FileResult], FileResult]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What the driver did with a list of sources."""

    results: tuple[FileResult, ...]  #: in source order
    changes: tuple[OutputChange, ...]  #: CHECK/DIFF: YAML that would change; FAIL_ON_CHANGE: YAML that changed
    problems: tuple[str, ...]  #: run-level failures (the manifest could not be saved, ...)
    skipped: int  #: sources unchanged since the manifest's run: not read, not converted
    written: int  #: YAML files written (PutObject calls for S3)
    current: int  #: YAML files already holding the right bytes, so not written


class DummyExecutor(Executor):
    """Runs each call at once, in the caller's thread (libcst's DummyExecutor): the parallel loop
    with no pools, for `jobs == 1` or a single file."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered by result(), like a pool's future
            future.set_exception(exc)
        return future


class _Run:
    def __init__(self, options: Options, mode: Mode, output: Sink, extra: Sequence[Sink], jobs: int, force: bool,
                 progress: Progress, scope: Sequence[str], *, settle: bool = True) -> None:
        self.options = options
        self.settle = settle  #: freeze finished results out of the collector's sight (a whole run only)
        self.mode = mode
        self.output = output
        self.sinks = [output, *extra] if mode.writes else [output]
        self.jobs = max(1, jobs)
        self.force = force
        self.progress = progress
        self.scope = scope
        self.problems: list[str] = []
        self.written = 0
        self.current = 0
        self.manifest = Manifest(settings_key(options))
        self.previous = Manifest(self.manifest.settings)
        self._manifest_found = False
        self._saved_text: str | None = None
        self._unsaved = 0
        self._saved_at = time.monotonic()
        self._count_lock = threading.Lock()  #: written/current are counted from writer threads

    # -- manifest ----------------------------------------------------------------------------
    def load(self) -> Manifest:
        """Prepare the sinks and read the manifest; returns the entries a source may be skipped by."""
        for sink in self.sinks:
            sink.prepare()
        if not self.mode.writes:
            return self.previous  # --check and --diff compare every YAML and record nothing
        self._saved_text = self.output.read_text(MANIFEST_NAME)
        self._manifest_found = self._saved_text is not None
        self.previous = load_manifest(self._saved_text, self.manifest.settings)
        if self.force or self.mode is not Mode.WRITE:
            # --fail-on-change compares every YAML it is given, as the pre-commit hook promises.
            return Manifest(self.manifest.settings)
        return self.previous

    def finished(self, source: Source, result: FileResult) -> None:
        if not self.mode.writes:
            return
        if any(d.code in _TRANSIENT for d in result.all_diagnostics()):
            self.manifest.forget(source.display)
        else:
            self.manifest.record(source.display, source.fingerprint, result)
        self._unsaved += 1
        if self._unsaved >= MANIFEST_SAVE_EVERY and time.monotonic() - self._saved_at >= MANIFEST_SAVE_SECONDS:
            self.save()

    def save(self) -> None:
        # --fail-on-change (the pre-commit hook) updates a manifest a full run left, never starts
        # one: a new file in the YAML folder of a repository would be one more thing to commit.
        if not self.mode.writes or (self.mode is Mode.FAIL_ON_CHANGE and not self._manifest_found):
            return
        self._unsaved = 0
        self._saved_at = time.monotonic()
        # Sources this run did not look at (outside every path it was given) keep their entries:
        # a run over a few files must not make the next full run redo the rest.
        for source, entry in self.previous.sources.items():
            if source not in self.manifest.sources and not root_of(source, self.scope):
                self.manifest.keep(source, entry)
        text = self.manifest.dumps()
        if text == self._saved_text:
            return  # an unchanged rerun writes nothing at all
        try:
            self.output.write_text(MANIFEST_NAME, text)
            self._saved_text = text
        except StorageError as exc:
            message = f"error: cannot write {self.output.url(MANIFEST_NAME)}: {exc}"
            if message not in self.problems:
                self.problems.append(message)

    # -- reading and converting -------------------------------------------------------------
    def convert_all(self, sources: Sequence[Source]) -> list[FileResult]:
        """Read and convert every source, in bounded chunks: the next chunk is read while this one
        converts; results come back in source order. A chunk bounds the bytes held in memory and
        the futures in flight; each worker call takes several files."""
        self.progress.phase("convert", len(sources))
        results: list[FileResult] = []
        sequential = self.jobs == 1 or len(sources) < 2
        if sequential:
            readers: Executor = DummyExecutor()
            workers: Executor = DummyExecutor()
            chunk, calls_per_chunk = _FILES_PER_HANDOVER, 1
        else:
            # Threads read (S3 reads are I/O-bound), worker processes convert (CPU-bound).
            readers = ThreadPoolExecutor(self.jobs * 2, thread_name_prefix="read")
            workers = _new_pool(self.jobs)
            chunk, calls_per_chunk = self.jobs * _FILES_PER_WORKER_CHUNK, self.jobs * 4
        try:
            for batch, datas in _read_ahead(sources, chunk, readers, self.options):
                todo = [i for i, data in enumerate(datas) if not isinstance(data, FileResult)]
                jobs = [(datas[i], batch[i].display, batch[i].relative, batch[i].explicit, batch[i].root)
                        for i in todo]
                size = max(1, len(todo) // calls_per_chunk)
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
                if self.settle:
                    _settle()
        except BaseException:
            _cancel(readers, workers)
            raise
        readers.shutdown(wait=True)
        workers.shutdown(wait=True)
        return results

    # -- writing or comparing ----------------------------------------------------------------
    def output_all(self, sources: Sequence[Source], results: list[FileResult],
                   fresh: Sequence[int]) -> tuple[list[FileResult], list[OutputChange]]:
        """Write (or, without writing, compare) the YAML of each freshly converted source; record
        each source in the manifest once all of its YAML is in place."""
        with_yaml = [i for i in fresh if any(d.yaml_text is not None for d in results[i].dags)]
        nothing_to_write = set(fresh) - set(with_yaml)
        for i in sorted(nothing_to_write):
            self.finished(sources[i], results[i])
        self.progress.phase("write" if self.mode.writes else "compare", len(with_yaml))
        updated = list(results)
        changes: dict[int, list[OutputChange]] = {}
        if not with_yaml:
            return updated, []
        if not self.mode.writes:
            for i in with_yaml:
                changes[i] = [c for c in (output_change(d, self.output) for d in results[i].dags) if c is not None]
                self.progress.advance("compare")
            return updated, [c for i in with_yaml for c in changes[i]]
        writers: Executor = DummyExecutor() if len(with_yaml) < 2 else \
            ThreadPoolExecutor(self.jobs * 2, thread_name_prefix="write")
        try:
            futures = {writers.submit(self._write_file, results[i]): i for i in with_yaml}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                # Record finished sources in source order within a batch, so the manifest's
                # saves do not depend on which thread won a race.
                for future in sorted(done, key=futures.__getitem__):
                    i = futures[future]
                    updated[i], changes[i] = future.result()
                    self.finished(sources[i], updated[i])
                    self.progress.advance("write")
        except BaseException:
            writers.shutdown(wait=True, cancel_futures=True)
            raise
        writers.shutdown(wait=True)
        return updated, [c for i in with_yaml for c in changes[i]]

    def _write_file(self, result: FileResult) -> tuple[FileResult, list[OutputChange]]:
        """Write one source's YAML to every sink; a failed write refuses that DAG (DC112)."""
        new_dags: list[DagResult] = []
        changes: list[OutputChange] = []
        for dag in result.dags:
            if dag.yaml_text is None or dag.output_name is None:
                new_dags.append(dag)
                continue
            for n, sink in enumerate(self.sinks):
                if n == 0 and self.mode is Mode.FAIL_ON_CHANGE:
                    change = output_change(dag, sink)
                    is_current = change is None
                    if change is not None:
                        changes.append(change)
                else:
                    is_current = sink.is_current(dag.output_name, dag.yaml_text)
                if is_current and not self.force:
                    with self._count_lock:
                        self.current += 1
                    continue
                try:
                    sink.write_text(dag.output_name, dag.yaml_text)
                    with self._count_lock:
                        self.written += 1
                except StorageError as exc:
                    problem = codes.make(codes.WRITE_FAILED, dag.workflow.span, target=sink.url(dag.output_name),
                                         detail=str(exc))
                    dag = dag.refuse(problem)
                    if changes and changes[-1].dag.dag_id == dag.dag_id:
                        changes.pop()  # not written, so not changed: the refusal says why
                    break
            new_dags.append(dag)
        return result.with_dags(new_dags), changes


def run_sources(sources: Sequence[Source], options: Options, output: Sink, extra: Sequence[Sink] = (), *,
                mode: Mode = Mode.WRITE, jobs: int = 1, force: bool = False, progress: Progress | None = None,
                check: Check | None = None, scope: Sequence[str] = ()) -> BatchOutcome:
    """Convert every source and, by `mode`, write its YAML to `output` (and the `extra` sinks) or
    compare it with what `output` holds. A WRITE run skips sources the manifest in `output`
    records as converted from the same bytes. `scope` are the paths the sources were found
    under: manifest entries outside them are kept as they are."""
    run = _Run(options, mode, output, extra, jobs, force, progress or _NoProgress(), scope)
    previous = run.load()
    results: list[FileResult | None] = [None] * len(sources)
    todo: list[int] = []
    for i, source in enumerate(sources):
        entry = previous.lookup(source.display, source.fingerprint)
        # A YAML deleted from the output since means the source is done again, not skipped.
        if entry is not None and all(output.exists(name) for name, _ in entry.outputs):
            results[i] = restore_result(entry)
            run.manifest.keep(source.display, entry)
        else:
            todo.append(i)
    skipped = len(sources) - len(todo)
    changes: list[OutputChange] = []
    try:
        converted = run.convert_all([sources[i] for i in todo])
        for i, result in zip(todo, converted):
            results[i] = check(sources[i], result) if check is not None else result
        final = refuse_duplicates([r for r in results if r is not None])
        redone = set(todo)
        for i, result in enumerate(final):
            # A restored DAG refused now (its id is also in a new file) must be redone next time.
            if i not in redone and any(d.yaml_text is None and o.yaml_text == RESTORED_YAML
                                     for d, o in zip(result.dags, results[i].dags)):  # type: ignore[union-attr]
                run.manifest.forget(sources[i].display)
        final, changes = run.output_all(sources, final, todo)
    finally:
        run.save()
    return BatchOutcome(tuple(final), tuple(changes), tuple(run.problems), skipped, run.written, run.current)


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
            new_dags.append(dag.refuse(codes.make(codes.DUPLICATE_DAG_ID, dag.workflow.span, dag_id=dag.dag_id,
                                                  other=", ".join(others))))
        updated[fi] = result.with_dags(new_dags)
    return updated


def convert_sources(sources: Sequence[Source], options: Options) -> list[FileResult]:
    """Read and convert sources in this process, writing nothing (the driver's own read and
    convert path, duplicate ids refused): for tests and tools that want results, not files."""
    run = _Run(options, Mode.CHECK, _NoSink(), (), 1, False, _NoProgress(), (), settle=False)
    return refuse_duplicates(run.convert_all(sources))


class _NoSink:
    """An output that holds nothing and takes nothing: convert_sources compares with it never."""

    def prepare(self) -> None:
        return None

    def url(self, name: str) -> str:
        return name

    def exists(self, name: str) -> bool:
        return False

    def is_current(self, name: str, text: str) -> bool:
        return False

    def read_text(self, name: str) -> str | None:
        return None

    def write_text(self, name: str, text: str) -> None:
        raise StorageError("this run writes nothing")


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
            except StorageError as exc:
                problems.append(f"error: cannot write the report {sink.url(name)}: {exc}")
                break
    return problems


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


def _read_ahead(sources: Sequence[Source], size: int, readers: Executor,
                options: Options) -> Iterator[tuple[Sequence[Source], list[bytes | FileResult]]]:
    """The sources in chunks of `size`, each with its bytes (or the failure to read them). The
    next chunk is read, in `readers`, while the caller converts this one; at most two chunks are
    held in memory."""
    def submit(start: int) -> list[Future[bytes | FileResult]]:
        return [readers.submit(read_source, source, options) for source in sources[start:start + size]]

    pending = submit(0)
    for start in range(0, len(sources), size):
        current, pending = pending, submit(start + size)
        yield sources[start:start + size], [future.result() for future in current]


def read_source(source: Source, options: Options) -> bytes | FileResult:
    """The source's bytes, or its result when it cannot be read: too large (by its listed size),
    unreadable, or a storage failure. The one read path of every run."""
    if source.size is not None:
        problem = size_problem(source.display, source.size, options.max_file_size)
        if problem is not None:
            return FileResult.failed(source.display, problem)
    try:
        return source.read()
    except StorageError as exc:
        return FileResult.failed(source.display, codes.make(codes.STORAGE_ERROR, Span(source.display),
                                                            detail=str(exc)))
    except OSError as exc:
        return FileResult.failed(source.display, codes.make(codes.UNREADABLE_FILE, Span(source.display),
                                                            detail=exc.strerror or str(exc)))


def _settle() -> None:
    """Results pile up until the report is written, and every full garbage collection walked
    all of them again: once a young collection has freed what the last batch left behind, they
    are frozen out of the collector's sight (about 0.1 ms per file of a 1000-file run)."""
    gc.collect(1)
    gc.freeze()


def _convert_jobs(jobs: Sequence[tuple[bytes, str, str, bool, "Path | FolderFiles | None"]], options: Options) -> list[FileResult]:
    """Several files in one call on the analysis thread (of a worker process, or of this one).
    Only plain values cross the process boundary: a source's reader (an S3 client) cannot be
    pickled."""
    return on_analysis_thread(lambda: [convert_source(data, display, relative, options, explicit=explicit, root=root)
                                       for data, display, relative, explicit, root in jobs])


def _worker_failure(source: Source, exc: BaseException) -> FileResult:
    return FileResult.failed(source.display, codes.make(codes.INTERNAL_ERROR, Span(source.display),
                                                        detail=f"worker process died: {type(exc).__name__}"))


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


__all__ = ["BatchOutcome", "Check", "DummyExecutor", "Mode", "Progress", "convert_sources", "default_jobs",
           "read_source", "refuse_duplicates", "run_sources", "write_reports"]
