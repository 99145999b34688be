"""A run over many sources: `run(config) -> RunResult`, the one entry every command goes through.

run() opens the sources and sinks a RunConfig names (storage/), builds the conversion options,
hands everything to the one driver (runner.run_sources, whose Mode decides between writing,
checking, diffing and failing on change) and writes the reports. It prints nothing: the CLI
shows the result. User errors (a bad URL, an unknown target, no boto3, no verify extra) are
raised as errors.UsageError before any work starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dag_converter.analyzer import PLUGINS_MAX_BYTES, PluginsArchive, PluginsUnusable, RunValues
from dag_converter.batch.changes import OutputChange
from dag_converter.batch.roles import RoleWriter
from dag_converter.batch.runner import Check, Progress, convert_sources, default_jobs, run_sources, write_reports
from dag_converter.config import DEFAULT_MAX_FILE_SIZE, Mode, RunConfig
from dag_converter.errors import UnknownTarget, VerifyUnavailable
from dag_converter.pipeline import Options
from dag_converter.report import REPORT_FILES, RunReport, build_report, render_report
from dag_converter.rules import make_selection, select_diagnostics
from dag_converter.storage import Sink, Source, Storage, StorageError, is_s3_url
from dag_converter.storage.ignore import IgnoreSyntax
from dag_converter.targets import TARGET_NAMES, Feature, get_target

if TYPE_CHECKING:
    from dag_converter.batch.orphans import Orphan
    from dag_converter.model import Diagnostic, FileResult


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run did, for the CLI to show and turn into an exit code."""

    config: RunConfig
    report: RunReport  #: the results in source order, and the run's own findings (missing paths, ...)
    changes: tuple[OutputChange, ...]  #: CHECK/DIFF: YAML that would change; FAIL_ON_CHANGE: YAML that changed
    problems: tuple[str, ...]  #: "error: ..." lines: the manifest or a report could not be written
    output: str  #: where the YAML went, as shown to the user
    skipped: int = 0  #: sources unchanged since the manifest's run
    written: int = 0  #: YAML files written
    current: int = 0  #: YAML files already current
    excluded: tuple[str, ...] = ()  #: local files dropped by --exclude
    orphans: tuple["Orphan", ...] = ()  #: YAML written from a source that no longer defines its DAG, left in place
    pruned: tuple[str, ...] = ()  #: orphaned YAML removed by --prune

    @property
    def results(self) -> tuple["FileResult", ...]:
        return self.report.files


def run(config: RunConfig, *, progress: Progress | None = None) -> RunResult:
    """Convert (or check, or diff) what `config` names. Raises errors.UsageError, and
    KeyboardInterrupt after saving the manifest of the sources finished."""
    options = make_options(config)
    selection = make_selection(config.select, config.ignore, config.extend_ignore, dict(config.per_file_ignores))
    jobs = config.jobs or default_jobs()
    storage = Storage(config.endpoint_url, connections=jobs * 2)
    if config.plugins:
        options = dataclasses.replace(options, plugins=open_plugins(config.plugins, storage, config.plugins_version,
                                                                    max_member=config.max_file_size))
    check = _verify_check(config, options) if config.verify else None
    found = storage.open_sources(config.paths, excludes=config.excludes, base=config.base,
                                 ignore_syntax=IgnoreSyntax(config.airflowignore_syntax))
    output = storage.open_sink(config.output)
    extra: tuple[Sink, ...] = (storage.open_sink(f"s3://{config.bucket}"),) if config.bucket else ()
    roles = RoleWriter(config.iam, _definition_folder(str(output))) if config.iam is not None else None
    entered = progress if progress is not None and found.sources else None
    with entered if isinstance(entered, contextlib.AbstractContextManager) else contextlib.nullcontext():
        outcome = run_sources(found.sources, options, output, extra, mode=config.mode, jobs=jobs,
                              force=config.force or config.verify,  # a skipped source would go unverified
                              progress=entered, check=check, scope=config.paths, roles=roles, prune=config.prune,
                              auto_jobs=config.jobs is None)
    # The one place the rule selection applies: what is shown and reported, never the verdicts.
    results, run_problems = select_diagnostics(outcome.results, found.problems, selection)
    report = build_report(config.target, results, run_problems)
    if roles is not None:
        report = dataclasses.replace(report, execution_roles=outcome.roles)
    problems = list(outcome.problems)
    if config.mode.writes and config.report_formats and (outcome.results or not found.problems):
        sinks: list[Sink] = [output]
        if config.report_dir:
            sinks.append(storage.open_sink(config.report_dir))
        problems += write_reports({REPORT_FILES[name]: render_report(report, name) for name in config.report_formats},
                                  sinks)
    return RunResult(config, report, outcome.changes, tuple(problems), str(output), outcome.skipped,
                     outcome.written, outcome.current, found.excluded, outcome.orphans, outcome.pruned)


def _definition_folder(output: str) -> tuple[str, str] | None:
    """(bucket, key prefix) of an s3:// output, where deploy finds the definitions; None when local."""
    if not is_s3_url(output):
        return None
    bucket, _, prefix = output[len("s3://"):].partition("/")
    prefix = prefix.strip("/")
    return bucket, prefix + "/" if prefix else ""


def make_options(config: RunConfig) -> Options:
    """The per-file conversion options a RunConfig asks for; raises UnknownTarget or ConfigError."""
    if config.target not in TARGET_NAMES:
        raise UnknownTarget(f"{config.target_origin}: unknown target {config.target!r} "
                            f"(choose from {', '.join(sorted(TARGET_NAMES))})")
    target = get_target(config.target, config.allow_operators, config.dags_folder, config.once_as)
    pins = None
    if config.requirements is not None:
        from dag_converter.codepackage.pins import parse_pins

        pins = parse_pins(config.requirements[1], config.requirements[0])
    return Options(target=target, max_file_size=config.max_file_size, today=config.today,
                   run_values=RunValues(config.variables, config.environment), pins=pins,
                   build_deps=config.build_deps)


def open_plugins(location: str, storage: Storage, version: str | None = None, *,
                 max_member: int = DEFAULT_MAX_FILE_SIZE) -> PluginsArchive:
    """The plugins archive at `location` (a local path or s3:// URL, at S3 object `version`),
    checked whole; raises PluginsUnusable (a UsageError: the run does not start) with one line.
    Members larger than any read of the run asks for (`max_member`, at least the module size
    limit) are listed, not kept."""
    try:
        data = storage.read_whole(location, PLUGINS_MAX_BYTES, version)
    except StorageError as exc:
        raise PluginsUnusable(f"plugins archive {location}: {exc}; nothing was converted") from None
    return PluginsArchive.from_bytes(data, location, max(max_member, DEFAULT_MAX_FILE_SIZE))


def _verify_check(config: RunConfig, options: Options) -> Check:
    """The per-file check of `convert --verify`; raises VerifyUnavailable when it cannot run here."""
    from dag_converter.verify import require_verify_extra, verify_result

    if any(is_s3_url(p) for p in config.paths):
        raise VerifyUnavailable("--verify needs local DAG files (Airflow loads them from disk)")
    require_verify_extra()
    task_groups = options.target.supports(Feature.TASK_GROUPS)
    plugins = options.plugins.data if options.plugins is not None else None

    def check(source: Source, result: "FileResult") -> "FileResult":
        return verify_result(Path(source.display), result, task_groups=task_groups, plugins=plugins)

    return check


def convert_paths(paths: Sequence[str], options: Options) -> tuple[list["FileResult"], list["Diagnostic"]]:
    """Convert local files and folders in this process, writing nothing: (results, problems).
    For tests and tools; the CLI goes through run()."""
    found = Storage().open_sources(paths)
    return convert_sources(found.sources, options), list(found.problems)


__all__ = ["Mode", "OutputChange", "RunConfig", "RunResult", "convert_paths", "convert_sources", "make_options", "open_plugins",
           "run"]
