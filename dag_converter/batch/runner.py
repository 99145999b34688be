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
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from dag_converter import codes
from dag_converter.analyzer import LocalFolder, PluginsArchive, with_plugins
from dag_converter.batch.changes import OutputChange, output_change
from dag_converter.batch.roles import RoleFile, RoleWriter, read_back
from dag_converter.batch.dependants import with_dependants
from dag_converter.batch.manifest import (MANIFEST_NAME, RESTORED_YAML, Manifest, load_manifest, reads_current,
                                          restore_result, settings_key, sha256_text)
from dag_converter.batch.orphans import Orphan, find_orphans
from dag_converter.config import Mode
from dag_converter.model import DagResult, FileResult, Span
from dag_converter.pipeline import Options, convert_source, on_analysis_thread, size_problem
from dag_converter.storage import Sink, Source, StorageError, root_of
from dag_converter.storage.base import FolderFiles

if TYPE_CHECKING:
    from dag_converter.iam.policy import RoleDerivation
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")

#: Save the manifest after this many finished sources, so an interrupted run loses little work
#: and a big run does not rewrite the manifest once per file.
MANIFEST_SAVE_EVERY: Final = 25  #: finished sources between manifest saves, at the least...
# ...and at most one save per this many seconds: each save rewrites the whole manifest, so saving
# by count alone costs time quadratic in the number of sources. What a save misses is redone by
# the next run, whose writes find the YAML already current.
MANIFEST_SAVE_SECONDS: Final = 2.0
#: Codes of failures that may pass (network, permissions): such a source is not recorded as done.
#: DC121 depends on the output folder, not the source: checked again by every run.
_TRANSIENT: Final = frozenset({codes.UNREADABLE_FILE.code, codes.STORAGE_ERROR.code, codes.WRITE_FAILED.code,
                               codes.INTERNAL_ERROR.code, codes.OUTPUT_FROM_OTHER_SOURCE.code})
_FILES_PER_WORKER_CHUNK: Final = 64  #: files per worker in one chunk of a parallel run
# A sequential run converts its files in chunks on the analysis thread: one hand-over between
# threads per chunk, not per file; a chunk is short enough that Ctrl-C still stops the run
# promptly. Its reads happen on the calling thread between chunks, with no reader threads: those
# cost more in hand-overs of the GIL than they saved (measured: the analysis ran about 12% slower).
_FILES_PER_HANDOVER: Final = 16
#: With the default --jobs, worker processes start only for at least this many files to convert;
#: fewer are converted in this process (an explicit --jobs N always starts N workers). Measured
#: with `python benchmarks/run.py --files 300 --runs 3 --crossover` (cold `convert`, median of 3,
#: 2 cores shared with other jobs, load average about 7, 2026-11-29), workers (--jobs 2) against
#: --jobs 1: 10 files 5.33 s vs 2.18 s, 20: 4.53 vs 2.09, 40: 6.58 vs 3.79, 80: 5.24 vs 3.85,
#: 160: 8.11 vs 6.13, 300: 19.07 vs 22.45. Workers pay for their start-up between 160 and 300
#: files here; rerun the crossover on a quieter or bigger machine to move this.
PARALLEL_MIN_FILES: Final = 240
#: Files per call when workers convert: small, so this process takes its share while they start.
_FILES_PER_PIECE: Final = 8


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
    written: int  #: YAML files written (PutObject calls for S3), role files included
    current: int  #: YAML files already holding the right bytes, so not written
    roles: tuple["RoleDerivation", ...] = ()  #: convert --iam: each converted DAG's role, in source order
    orphans: tuple[Orphan, ...] = ()  #: YAML written from a source that no longer defines its DAG (left in place)
    pruned: tuple[str, ...] = ()  #: orphaned YAML removed by --prune (where it was)


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
                 progress: Progress, scope: Sequence[str], *, settle: bool = True, auto_jobs: bool = False,
                 roles: RoleWriter | None = None) -> None:
        self.options = options
        self.auto_jobs = auto_jobs  #: `jobs` is the default: start workers only for a batch worth it
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
        self.roles = roles
        self.role_files: dict[str, RoleFile] = {}  #: dag_id -> its role file (convert --iam)
        self.manifest = Manifest(settings_key(options, roles.key() if roles is not None else None))
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
        self._saved_text = self.output.read_text(MANIFEST_NAME)
        self._manifest_found = self._saved_text is not None
        # Every mode reads what earlier runs wrote and read: dependants and orphans come from it.
        self.previous = load_manifest(self._saved_text, self.manifest.settings)
        if not self.mode.writes:
            return Manifest(self.manifest.settings)  # --check and --diff compare every YAML and record nothing
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
            beside = tuple((f.name, f.text) for f in map(self.role_files.get, (d.dag_id for d in result.dags
                                                                              if d.converted)) if f is not None)
            self.manifest.record(source.display, source.recorded_fingerprint(), result, source.relative, beside)
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
        for name, (source, digest) in self.previous.orphans.items():
            if name not in self.manifest.orphans and not root_of(source, self.scope):
                self.manifest.orphans[name] = (source, digest)
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

    # -- orphans ---------------------------------------------------------------------------------
    def prune(self, orphans: Sequence[Orphan]) -> list[str]:
        """Remove orphaned YAML that still holds what was written (a file edited since is left,
        with a problem line); returns the names removed. Extra sinks lose the same names."""
        removed: list[str] = []
        for orphan in orphans:
            text = self.output.read_text(orphan.name)
            if text is not None and sha256_text(text) != orphan.digest:
                self.problems.append(f"error: {self.output.url(orphan.name)} changed since dag-converter wrote it; "
                                     "not removed (delete it yourself if it is not needed)")
                continue
            try:
                for sink in self.sinks:
                    if sink.exists(orphan.name):
                        sink.delete(orphan.name)
            except StorageError as exc:
                self.problems.append(f"error: cannot remove {self.output.url(orphan.name)}: {exc}")
                continue
            removed.append(orphan.name)
        return removed

    def keep_orphans(self, orphans: Sequence[Orphan]) -> None:
        """Orphans left in place stay on record, so a later --prune or --check still finds them."""
        for orphan in orphans:
            self.manifest.orphans[orphan.name] = (orphan.source, orphan.digest)

    # -- reading and converting -------------------------------------------------------------
    def convert_all(self, sources: Sequence[Source]) -> list[FileResult]:
        """Read and convert every source, in bounded chunks: the next chunk is read while this one
        converts; results come back in source order. A chunk bounds the bytes held in memory and
        the futures in flight; each worker call takes several files."""
        self.progress.phase("convert", len(sources))
        results: list[FileResult] = []
        sequential = self.jobs == 1 or len(sources) < 2 or (self.auto_jobs and len(sources) < PARALLEL_MIN_FILES)
        workers: _Workers | None = None
        if sequential:
            readers: Executor = DummyExecutor()
            chunk = _FILES_PER_HANDOVER
        else:
            # Threads read (S3 reads are I/O-bound), worker processes convert (CPU-bound).
            readers = ThreadPoolExecutor(self.jobs * 2, thread_name_prefix="read")
            workers = _Workers(self.jobs, self.options)
            chunk = self.jobs * _FILES_PER_WORKER_CHUNK
        try:
            for batch, datas in _read_ahead(sources, chunk, readers, self.options):
                todo = [i for i, data in enumerate(datas) if not isinstance(data, FileResult)]
                jobs = [(datas[i], batch[i].display, batch[i].relative, batch[i].explicit, batch[i].root)
                        for i in todo]
                converted: dict[int, FileResult] = {}
                if workers is None:
                    converted = dict(zip(todo, _convert_jobs(jobs, self.options)))
                else:
                    pieces = [(todo[k:k + _FILES_PER_PIECE], jobs[k:k + _FILES_PER_PIECE])
                              for k in range(0, len(jobs), _FILES_PER_PIECE)]
                    for (indexes, _), outcome in zip(pieces, workers.convert([p for _, p in pieces])):
                        for i, result in zip(indexes, outcome if isinstance(outcome, list) else repeat(None)):
                            # A worker died (out of memory, killed): its files fail, the run goes on.
                            converted[i] = result if result is not None else _worker_failure(batch[i], outcome)
                for i, data in enumerate(datas):
                    results.append(data if isinstance(data, FileResult) else converted[i])
                    self.progress.advance("convert")
                if self.settle:
                    _settle()
        except BaseException:
            _cancel(readers)
            if workers is not None:
                workers.shutdown(wait=False)
            raise
        readers.shutdown(wait=True)
        if workers is not None:
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
                found = [output_change(d, self.output) for d in results[i].dags]
                found += [output_change(d, self.output, (role.name, role.text)) for d in results[i].dags
                          if (role := self.role_files.get(d.dag_id)) is not None and d.converted]
                changes[i] = [c for c in found if c is not None]
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
            role = self.role_files.get(dag.dag_id)
            # The YAML to every sink, then its role file to the output only (it is not a definition).
            files = [(dag.output_name, dag.yaml_text, None, self.sinks)]
            if role is not None:
                files.append((role.name, role.text, (role.name, role.text), self.sinks[:1]))
            for name, text, beside, sinks in files:
                for n, sink in enumerate(sinks):
                    package = dag.code_package if beside is None else None
                    if package is not None and not package.restored and \
                            (self.force or not sink.is_current_bytes(package.name, package.data)):
                        try:  # the package first: a YAML in the output always finds the code it names
                            sink.write_bytes(package.name, package.data)
                        except StorageError as exc:
                            dag = dag.refuse(codes.make(codes.WRITE_FAILED, dag.workflow.span,
                                                        target=sink.url(package.name), detail=str(exc)))
                            break
                    if n == 0 and self.mode is Mode.FAIL_ON_CHANGE:
                        change = output_change(dag, sink, beside)
                        is_current = change is None
                        if change is not None:
                            changes.append(change)
                    else:
                        is_current = sink.is_current(name, text)
                    if is_current and not self.force:
                        with self._count_lock:
                            self.current += 1
                        continue
                    other = None if n or self.force or beside else _other_source(sink, name, text)
                    if other is not None:
                        dag = dag.refuse(codes.make(codes.OUTPUT_FROM_OTHER_SOURCE, dag.workflow.span,
                                                    target=sink.url(name), other=other))
                        while changes and changes[-1].dag.dag_id == dag.dag_id:
                            changes.pop()
                        break
                    try:
                        sink.write_text(name, text)
                        with self._count_lock:
                            self.written += 1
                    except StorageError as exc:
                        problem = codes.make(codes.WRITE_FAILED, dag.workflow.span, target=sink.url(name),
                                             detail=str(exc))
                        dag = dag.refuse(problem)
                        while changes and changes[-1].dag.dag_id == dag.dag_id:
                            changes.pop()  # not written, so not changed: the refusal says why
                        break
                if not dag.converted:
                    break
            new_dags.append(dag)
        return result.with_dags(new_dags), changes


def run_sources(sources: Sequence[Source], options: Options, output: Sink, extra: Sequence[Sink] = (), *,
                mode: Mode = Mode.WRITE, jobs: int = 1, force: bool = False, progress: Progress | None = None,
                check: Check | None = None, scope: Sequence[str] = (), roles: RoleWriter | None = None,
                prune: bool = False, auto_jobs: bool = False) -> BatchOutcome:
    """Convert every source and, by `mode`, write its YAML to `output` (and the `extra` sinks) or
    compare it with what `output` holds. A WRITE run skips sources the manifest in `output`
    records as converted from the same bytes. `scope` are the paths the sources were found
    under: manifest entries outside them are kept as they are. Explicitly named helper modules
    bring in the DAG files that read them (batch/dependants.py); YAML the manifest says was
    written from a source that no longer defines its DAG is an orphan: removed with `prune`
    (WRITE), else reported and kept on record. With `roles` (convert --iam), each converted DAG's
    role file is written (or compared) beside its YAML in `output`."""
    run = _Run(options, mode, output, extra, jobs, force, progress or _NoProgress(), scope, auto_jobs=auto_jobs,
               roles=roles)
    previous = run.load()
    if any(s.explicit and s.root is not None for s in sources):
        sources = with_dependants(sources, run.previous)
    results: list[FileResult | None] = [None] * len(sources)
    todo: list[int] = []
    versions = _FolderVersions()
    for i, source in enumerate(sources):
        entry = previous.lookup(source.display, source.fingerprint)
        # A YAML deleted from the output since means the source is done again, not skipped; so
        # does a change to a folder file its conversion read or looked for.
        if entry is not None and all(output.exists(name) for name, _ in entry.outputs) and \
                reads_current(entry, versions.of(source.root, options.plugins)):
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
        if roles is not None:
            for i in todo:
                final[i], files = roles.derive(final[i])
                run.role_files.update((f.derivation.dag_id, f) for f in files)
        final, changes = run.output_all(sources, final, todo)
        orphans = find_orphans(run.previous, sources, final, scope, output)
        pruned = run.prune(orphans) if prune and mode is Mode.WRITE else []
        run.keep_orphans([o for o in orphans if o.name not in pruned])
    finally:
        run.save()
    derivations: list[RoleDerivation] = []
    if roles is not None:
        redone = set(todo)
        for i, result in enumerate(final):
            if i in redone:
                derivations += [run.role_files[d.dag_id].derivation for d in result.dags
                                if d.converted and d.dag_id in run.role_files]
            else:
                derivations += read_back(result.dags, output)
    left = tuple(o for o in orphans if o.name not in pruned)
    return BatchOutcome(tuple(final), tuple(changes), tuple(run.problems), skipped, run.written, run.current,
                        tuple(derivations), left, tuple(output.url(name) for name in pruned))


def refuse_duplicates(results: list[FileResult]) -> list[FileResult]:
    """Two DAGs with one id in one run would write one file twice: refuse both, naming each other.
    Ids that differ only by case (`ETL`, `etl`) collide on macOS and Windows file systems: refused too."""
    owners: dict[str, list[tuple[int, int]]] = {}
    for fi, result in enumerate(results):
        for di, dag in enumerate(result.dags):
            owners.setdefault(dag.dag_id.lower(), []).append((fi, di))
    changed = {fi for places in owners.values() if len(places) > 1 for fi, _ in places}
    if not changed:
        return results
    updated = list(results)
    for fi in sorted(changed):
        result = updated[fi]
        new_dags = []
        for di, dag in enumerate(result.dags):
            places = owners[dag.dag_id.lower()]
            if len(places) < 2:
                new_dags.append(dag)
                continue
            same = [p for p in places if p != (fi, di) and results[p[0]].dags[p[1]].dag_id == dag.dag_id]
            cased = [p for p in places if p != (fi, di) and results[p[0]].dags[p[1]].dag_id != dag.dag_id]
            if same:
                others = [results[ofi].path + f":{results[ofi].dags[odi].workflow.span.line}" for ofi, odi in same]
                dag = dag.refuse(codes.make(codes.DUPLICATE_DAG_ID, dag.workflow.span, dag_id=dag.dag_id,
                                            other=", ".join(others)))
            if cased:
                others = [f"{results[ofi].dags[odi].dag_id!r} ({results[ofi].path}:"
                          f"{results[ofi].dags[odi].workflow.span.line})" for ofi, odi in cased]
                dag = dag.refuse(codes.make(codes.DAG_ID_CASE_COLLISION, dag.workflow.span, dag_id=dag.dag_id,
                                            other=", ".join(others)))
            new_dags.append(dag)
        updated[fi] = result.with_dags(new_dags)
    return updated


def convert_sources(sources: Sequence[Source], options: Options) -> list[FileResult]:
    """Read and convert sources in this process, writing nothing (the driver's own read and
    convert path, duplicate ids refused): for tests and tools that want results, not files."""
    run = _Run(options, Mode.CHECK, _NoSink(), (), 1, False, _NoProgress(), (), settle=False)
    return refuse_duplicates(run.convert_all(sources))


_HEADER: Final = re.compile(r"# Generated by dag-converter from (.*)\. Edit the Python source, not this file\.")


def _other_source(sink: Sink, name: str, text: str) -> str | None:
    """The source named in the header of the YAML `name` already holds, when that is not the
    source of `text`: replacing it would silently swap one workflow for another."""
    old = sink.read_text(name)
    if old is None:
        return None
    old_header = _HEADER.fullmatch(old.split("\n", 1)[0])
    new_header = _HEADER.fullmatch(text.split("\n", 1)[0])
    if old_header is None or new_header is None:
        return None
    old_source, new_source = old_header.group(1), new_header.group(1)
    # A file named alone (the pre-commit hook) is `dag_1.py` in the header, and `team1/dag_1.py`
    # when its folder was converted: one source.
    if old_source == new_source or old_source.endswith("/" + new_source) or new_source.endswith("/" + old_source):
        return None
    return old_source


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

    def is_current_bytes(self, name: str, data: bytes) -> bool:
        return False

    def write_bytes(self, name: str, data: bytes) -> None:
        raise StorageError("this run writes nothing")

    def delete(self, name: str) -> None:
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


class _FolderVersions:
    """The current version of each folder file a manifest entry names, asked once per folder and
    path in a run (DAG files share their helper modules): a local file's digest, an S3 object's
    ETag from the walk's listing (no request)."""

    def __init__(self) -> None:
        self._known: dict[tuple[object, str], str] = {}

    def of(self, root: "Path | FolderFiles | None", plugins: "PluginsArchive | None" = None) -> Callable[[str], str]:
        layered = with_plugins(root, plugins)  # the plugins archive behind the folder, as the conversion saw it
        folder = LocalFolder(layered) if isinstance(layered, Path) else layered

        def version(path: str) -> str:
            if folder is None:
                return ""  # no folder to ask: never current
            key = (root, path)
            known = self._known.get(key)
            if known is None:
                known = self._known[key] = folder.digest(path)
            return known

        return version


def _worker_failure(source: Source, exc: BaseException) -> FileResult:
    return FileResult.failed(source.display, codes.make(codes.INTERNAL_ERROR, Span(source.display),
                                                        detail=f"worker process died: {type(exc).__name__}"))


class _Workers:
    """Worker processes that start in the background. Until all are ready (each has imported the
    converter and answered a first call), this process converts pieces itself, from the back of
    the list while ready workers take them from the front, so a small batch never waits for
    workers and a large one does not run one process more than there are workers."""

    def __init__(self, jobs: int, options: Options) -> None:
        self.jobs = jobs
        self.options = options
        self.pings: list[Future[None]] = []
        self.used = False  #: a piece was handed to the pool
        # Starting the pool blocks until the forkserver runs (an interpreter that imports the
        # converter): a thread waits for that while this process converts.
        self._starter = threading.Thread(target=self._start, name="start-workers", daemon=True)
        self._starter.start()

    def _start(self) -> None:
        self.pool = _new_pool(self.jobs)
        self.pings = [self.pool.submit(_warm_up) for _ in range(self.jobs)]

    def _ready(self) -> int:
        if self._starter.is_alive():
            return 0
        return sum(1 for ping in self.pings if ping.done())

    def convert(self, pieces: Sequence[Sequence[tuple[bytes, str, str, bool, Path | None]]]
                ) -> list[list[FileResult] | BaseException]:
        """Each piece's results, or the BrokenProcessPool that lost them."""
        from concurrent.futures.process import BrokenProcessPool

        out: list[list[FileResult] | BaseException | None] = [None] * len(pieces)
        queue = deque(range(len(pieces)))
        running: dict[Future[list[FileResult]], tuple[int, object]] = {}  #: piece, and the pool running it
        while queue or running:
            while queue and len(running) < 2 * self._ready():
                k = queue.popleft()
                try:
                    running[self.pool.submit(_convert_jobs, pieces[k], self.options)] = (k, self.pool)
                    self.used = True
                except BrokenProcessPool as exc:
                    out[k] = exc
                    self.restart()
            if queue and self._ready() < self.jobs:
                # Workers still starting: this process converts from the back meanwhile. Once every
                # worker is up it only waits, or it would compete with them for the cores.
                k = queue.pop()
                out[k] = _convert_jobs(pieces[k], self.options)
            elif running:
                wait(running, return_when=FIRST_COMPLETED)
            for future in [f for f in running if f.done()]:
                k, pool = running.pop(future)
                try:
                    out[k] = future.result()
                except BrokenProcessPool as exc:
                    out[k] = exc
                    if pool is self.pool:  # the first loss of this pool: the rest go on in a new one
                        self.restart()
        return [o for o in out if o is not None]

    def restart(self) -> None:
        self._starter.join()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._start()

    def shutdown(self, *, wait: bool) -> None:
        self._starter.join()
        if not self.used:
            # This process converted everything before a worker was ready: waiting for workers
            # still importing the converter would only add their start-up to the run. They hold
            # no work, so they are stopped (the pool's process table is the only handle on them).
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                process.terminate()
            wait = False
        self.pool.shutdown(wait=wait, cancel_futures=True)


def _warm_up() -> None:
    """A worker's first call: the converter imported and the analysis thread started."""
    on_analysis_thread(int)


def _new_pool(jobs: int) -> "ProcessPoolExecutor":
    from concurrent.futures import ProcessPoolExecutor

    aws = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    return ProcessPoolExecutor(jobs, mp_context=_process_context(), initializer=_start_worker, initargs=(aws,))


def _process_context() -> "multiprocessing.context.BaseContext":
    import multiprocessing

    # fork is unsafe once reader threads (and boto3's connection pool) exist; forkserver forks
    # from a clean single-threaded server instead.
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent handles it, workers just stop with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_worker(aws: dict[str, str]) -> None:
    """A worker reads the helper modules and data files of an S3 DAG folder with a client of its
    own (S3Folder): it takes the AWS settings of the run that started it, not those of the run
    that started the forkserver it was forked from (a failed read would refuse a DAG)."""
    _ignore_sigint()
    for name in [name for name in os.environ if name.startswith("AWS_") and name not in aws]:
        del os.environ[name]
    os.environ.update(aws)


def _cancel(*executors: Executor) -> None:
    for executor in executors:
        executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["BatchOutcome", "Check", "DummyExecutor", "Mode", "Progress", "convert_sources", "default_jobs",
           "read_source", "refuse_duplicates", "run_sources", "write_reports"]
