"""Command line: argument handling, printing and exit codes only; the work is in the pipeline.

Imports of heavy modules (the analyzer, rich, jinja2, boto3, registry data) happen inside the
commands, so `dag-converter --version` and `--help` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, NoReturn

import click

from dag_converter import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from dag_converter.model import Diagnostic, FileResult
    from dag_converter.runner import SourceRef
    from dag_converter.pipeline import Options
    from dag_converter.report import RunReport

EXIT_OK: Final = 0  #: all DAGs converted; with --check: every YAML already current
EXIT_REFUSED: Final = 1  #: a DAG refused, or (with --check) a YAML stale or missing
EXIT_USAGE: Final = 2  #: bad flags or config, or no input could be read

DEFAULT_OUTPUT: Final = "output_yaml"  #: the AWS converter's default, so its users' scripts keep working


def format_diagnostic(diagnostic: "Diagnostic") -> str:
    """`path:line:col: CODE [severity] message`, the hint on an indented line (STYLE.md 10)."""
    span = diagnostic.span
    line = f"{span.path}:{span.line}:{span.column}: {diagnostic.code} [{diagnostic.severity.value}] {diagnostic.message}"
    if diagnostic.hint:
        line += f"\n    hint: {diagnostic.hint}"
    return line


def _use_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dag-converter")
def main() -> None:
    """Convert Airflow Python DAGs to dag-factory YAML for Amazon MWAA Serverless, without running them."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--output", "-o", default=None,
              help=f"Folder for the YAML files, reports and manifest: a local path or s3://bucket/prefix/.  "
                   f"[default: {DEFAULT_OUTPUT}]")
@click.option("--target", type=click.Choice(["mwaa-serverless", "dag-factory"]), default=None,
              help="What the YAML must run on.  [default: mwaa-serverless]")
@click.option("--dags-folder", metavar="PATH", default=None,
              help="dag-factory target: the dags folder where the YAML is loaded, absolute or '$VAR/...'; "
                   "functions defined in a DAG file are referenced as PATH/<file>.")
@click.option("--allow-operator", "allow_operators", multiple=True, metavar="CLASS_PATH",
              help="Also accept this operator class (repeatable; a trailing * allows a module).")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB",
              help="Skip files matching this pattern, relative to the config's folder (repeatable).")
@click.option("--max-file-size", type=int, default=None,
              help="Refuse source files larger than this many bytes.  [default: 5242880]")
@click.option("--report-format", "report_format", default=None, metavar="FORMATS",
              help="Comma-separated reports to write: json, md, html, sarif, or none.  [default: json,md]")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if a YAML is stale or missing or a DAG is refused.")
@click.option("--diff", is_flag=True, help="Write nothing; print a unified diff of the YAML that would change.")
@click.option("--fail-on-change", is_flag=True,
              help="Convert, but exit 1 if a YAML was created or changed (for the pre-commit hook).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel reads, conversions and uploads.  [default: the CPU count]")
@click.option("--force", is_flag=True, help="Convert and write everything, even what the manifest says is current.")
@click.option("--verify", "verify_sources", is_flag=True,
              help="Prove each converted DAG equivalent before writing it: LOADS AND RUNS the Python DAG files "
                   "with Airflow (use only on code you trust; needs the verify extra). Local paths only.")
@click.option("--bucket", default=None, metavar="NAME", help="Also upload each YAML to s3://NAME/<dag_id>.yaml.")
@click.option("--report-dir", default=None, type=click.Path(file_okay=False),
              help="Also write the reports to this local folder.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="S3 endpoint.  [default: AWS_ENDPOINT_URL, else AWS's own]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read [tool.dag-converter] from this pyproject.toml instead of searching for one.")
@click.option("--quiet", "-q", is_flag=True, help="Print only diagnostics (errors and warnings), no summary.")
@click.option("--verbose", "-v", is_flag=True, help="Also print info diagnostics, skipped files and the config.")
@click.option("--color/--no-color", default=None, help="Colour on a terminal unless NO_COLOR is set.")
def convert(paths: tuple[str, ...], output: str | None, target: str | None, dags_folder: str | None,
            allow_operators: tuple[str, ...],
            excludes: tuple[str, ...], max_file_size: int | None, report_format: str | None, check: bool,
            diff: bool, fail_on_change: bool, jobs: int | None, force: bool, verify_sources: bool,
            bucket: str | None, report_dir: str | None, endpoint_url: str | None, config_file: Path | None, quiet: bool, verbose: bool,
            color: bool | None) -> None:
    """Convert DAG files or folders (searched recursively; local or s3://) into one YAML file per DAG.

    Settings not given as flags come from [tool.dag-converter] in the nearest pyproject.toml. A
    conversion-manifest.json in the output records what was converted from which bytes, so a rerun
    converts and writes only what changed (--force redoes everything).
    """
    from dag_converter.check import find_changes
    from dag_converter.config import (DEFAULT_REPORT_FORMATS, Config, ConfigError, drop_excluded, find_config,
                                      load_config, parse_report_formats)
    from dag_converter.model import Severity
    from dag_converter.pipeline import DEFAULT_MAX_FILE_SIZE, Options, convert_files, write_outputs
    from dag_converter.report import REPORT_FILES, build_report, render_report
    from dag_converter.sources import discover_local
    from dag_converter.validate import make_target
    from dag_converter.emit import write_atomic

    try:
        if config_file is not None:
            config = load_config(config_file)
        else:
            found = find_config([Path.cwd(), Path(paths[0])])
            config = load_config(found) if found is not None else Config()
        formats = (parse_report_formats(report_format) if report_format is not None
                   else config.report_formats if config.report_formats is not None else DEFAULT_REPORT_FORMATS)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    # Flags win over the config file, key by key; a repeatable flag replaces the whole list.
    output = output or config.output or DEFAULT_OUTPUT
    target = target or config.target or "mwaa-serverless"
    allow_operators = allow_operators or config.allow_operators
    excludes = excludes or config.exclude
    if max_file_size is None:
        max_file_size = config.max_file_size or DEFAULT_MAX_FILE_SIZE
    if target not in ("mwaa-serverless", "dag-factory"):
        click.echo(f"error: {config.path}: unknown target {target!r} (choose from dag-factory, mwaa-serverless)",
                   err=True)
        sys.exit(EXIT_USAGE)
    if verbose and config.path is not None:
        click.echo(f"config: {config.path}", err=True)
    dry_run = check or diff

    try:
        chosen = make_target(target, allow_operators, dags_folder)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    options = Options(target=chosen, max_file_size=max_file_size)
    if not (dry_run or fail_on_change):
        _convert_run(paths, output, target, options, excludes, config.base, formats, jobs=jobs, force=force,
                     verify_sources=verify_sources, bucket=bucket, report_dir=report_dir, endpoint_url=endpoint_url, quiet=quiet,
                     verbose=verbose, color=color)
    if any(p.startswith("s3://") for p in (*paths, output)):
        click.echo("error: --check, --diff and --fail-on-change work on local paths only", err=True)
        sys.exit(EXIT_USAGE)
    files, problems = discover_local(paths)
    files, excluded = drop_excluded(files, excludes, config.base)
    if verbose:
        for source in excluded:
            click.echo(f"excluded {source.display}", err=True)
    explicit = {f.display for f in files if f.display in paths}
    results = convert_files(files, options, explicit=lambda f: f.display in explicit)
    out_dir = Path(output)
    changes = find_changes(results, out_dir) if dry_run or fail_on_change else []
    if not dry_run:
        results = write_outputs(results, out_dir)
    report = build_report(target, results, problems)
    report_problems = []
    for name in ([] if dry_run else formats):
        try:
            write_atomic(out_dir / REPORT_FILES[name], render_report(report, name))
        except OSError as exc:
            report_problems.append(f"error: cannot write the report in {out_dir}: {exc.strerror or exc}")
            break

    if diff:
        for change in changes:
            click.echo(change.unified_diff(), nl=False)
    shown_severities = {Severity.ERROR, Severity.WARNING} | ({Severity.INFO} if verbose else set())
    shown = report.all_diagnostics()
    if dry_run:
        shown += [change.diagnostic for change in changes]
    for diagnostic in sorted(shown, key=lambda d: d.sort_key()):
        if diagnostic.severity in shown_severities:
            click.echo(format_diagnostic(diagnostic), err=True)
    if fail_on_change and not dry_run:
        for change in changes:
            verb = "created" if change.old_text is None else "updated"
            click.echo(f"{change.target}: {verb} from {change.dag.workflow.span.path}; stage it and commit again",
                       err=True)
    for line in report_problems:
        click.echo(line, err=True)
    if not quiet:
        if dry_run:
            _print_check_summary(report, len(changes))
        else:
            _print_summary(report, out_dir, _use_color(color), with_report=bool(formats))
    summary = report.summary()
    if summary["dags"] == 0:
        # A pre-commit hook passes every staged Python file; one without DAGs is not a failure.
        if (dry_run or fail_on_change) and not problems:
            sys.exit(EXIT_OK)
        if not problems and not any(f.all_diagnostics() for f in results):
            click.echo(f"error: no DAGs found in {', '.join(paths)}", err=True)
        sys.exit(EXIT_USAGE)
    if report_problems:
        sys.exit(EXIT_USAGE)
    if summary["refused"] or changes:
        sys.exit(EXIT_REFUSED)
    sys.exit(EXIT_OK)


def _convert_run(paths: tuple[str, ...], output: str, target: str, options: "Options", excludes: Sequence[str],
                 base: Path | None, formats: Sequence[str], *, jobs: int | None, force: bool,
                 verify_sources: bool = False, bucket: str | None,
                 report_dir: str | None, endpoint_url: str | None, quiet: bool, verbose: bool,
                 color: bool | None) -> NoReturn:
    """A converting run (local or S3) through the runner: parallel, resumable, progress on stderr."""
    from dag_converter._progress import make_progress
    from dag_converter.model import Severity
    from dag_converter.report import REPORT_FILES, build_report, render_report
    from dag_converter.runner import default_jobs, open_locations, run_conversion, write_reports
    from dag_converter.sources_s3 import S3Unavailable

    jobs = jobs or default_jobs()
    check = None
    if verify_sources:
        check = _verify_check(paths, output, target)
        force = True  # sources the manifest skips would go unverified
    try:
        where = open_locations(paths, output, bucket=bucket, report_dir=report_dir, endpoint_url=endpoint_url,
                               jobs=jobs, excludes=excludes, base=base)
    except (S3Unavailable, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if verbose:
        for excluded in where.excluded:
            click.echo(f"excluded {excluded}", err=True)
    progress = make_progress(sys.stderr.isatty(), _use_color(color), quiet) if where.refs else None
    try:
        if progress is None:
            run = run_conversion(where.refs, options, where.output, where.extra, jobs=jobs, force=force,
                                 check=check)
        else:
            with progress:
                run = run_conversion(where.refs, options, where.output, where.extra, jobs=jobs, force=force,
                                     progress=progress, check=check)
    except KeyboardInterrupt:
        click.echo(f"interrupted: every YAML written is complete and {where.output} holds the manifest; "
                   "run the same command again to continue", err=True)
        sys.exit(EXIT_USAGE)
    problems = list(where.problems)
    report = build_report(target, run.results, problems)
    report_problems = list(run.problems)
    if run.results or not problems:
        report_problems += write_reports({REPORT_FILES[name]: render_report(report, name) for name in formats},
                                         where.report_sinks)
    shown_severities = {Severity.ERROR, Severity.WARNING} | ({Severity.INFO} if verbose else set())
    shown = [format_diagnostic(d) for d in sorted(report.all_diagnostics(), key=lambda d: d.sort_key())
             if d.severity in shown_severities]
    if shown or report_problems:
        click.echo("\n".join([*shown, *report_problems]), err=True)  # one write: a batch may print thousands
    if not quiet:
        _print_summary(report, where.output, _use_color(color), with_report=bool(formats))
        if run.skipped or run.written or run.current:
            click.echo(f"{run.skipped} sources unchanged since the last run; {run.written} YAML files written, "
                       f"{run.current} already current", err=True)
    summary = report.summary()
    if summary["dags"] == 0:
        if not problems and not any(f.all_diagnostics() for f in run.results):
            click.echo(f"error: no DAGs found in {', '.join(paths)}", err=True)
        sys.exit(EXIT_USAGE)
    if report_problems:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if summary["refused"] == 0 else EXIT_REFUSED)


def _verify_check(paths: Sequence[str], output: str, target: str) -> "Callable[[SourceRef, FileResult], FileResult]":
    """The per-file check of `convert --verify`, or exit 2 when it cannot run here."""
    from dag_converter.verify import VerifyUnavailable, require_verify_extra, verify_result

    if any(p.startswith("s3://") for p in paths):
        click.echo("error: --verify needs local DAG files (Airflow loads them from disk)", err=True)
        sys.exit(EXIT_USAGE)
    try:
        require_verify_extra()
    except VerifyUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)

    def check(ref: "SourceRef", result: "FileResult") -> "FileResult":
        return verify_result(Path(ref.display), result, task_groups=target == "dag-factory")

    return check


def _print_check_summary(report: "RunReport", stale: int) -> None:
    s = report.summary()
    current = s["converted"] - stale
    parts = [f"{stale} YAML file{'s' if stale != 1 else ''} would change",
             f"{current} already current", f"{s['refused']} DAG{'s' if s['refused'] != 1 else ''} refused"]
    click.echo(", ".join(parts) + ".", err=True)


def _print_summary(report: "RunReport", out_dir: object, color: bool, *, with_report: bool = True) -> None:
    s = report.summary()
    where = f"YAML and report in {out_dir}" if with_report else f"YAML in {out_dir}"
    if color:
        from rich.console import Console
        from rich.table import Table

        console = Console(stderr=True)
        table = Table(title="dag-converter", show_lines=False)
        for column in ("DAG", "file", "status", "tasks"):
            table.add_column(column)
        for result in report.files:
            for dag in result.dags:
                status = "[green]converted[/green]" if dag.converted else "[red]refused[/red]"
                table.add_row(dag.dag_id, result.path, status, str(len(dag.workflow.tasks)))
        console.print(table)
        console.print(f"{s['converted']} converted, {s['refused']} refused, {s['errors']} errors, "
                      f"{s['warnings']} warnings; {where}")
        return
    for result in report.files:
        for dag in result.dags:
            status = "converted" if dag.converted else "refused"
            click.echo(f"{status:9} {dag.dag_id} ({result.path}, {len(dag.workflow.tasks)} tasks)", err=True)
    click.echo(f"{s['files']} files, {s['dags']} DAGs: {s['converted']} converted, {s['refused']} refused, "
               f"{s['errors']} errors, {s['warnings']} warnings; {where}", err=True)


@main.command()
@click.option("--target", type=click.Choice(["mwaa-serverless", "dag-factory"]), default="mwaa-serverless",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def operators(target: str, as_json: bool) -> None:
    """List the operator classes the rule registry supports, grouped by service."""
    from dag_converter.registry._render import render_operators

    click.echo(render_operators(target, as_json), nl=False)


@main.group()
def registry() -> None:
    """Maintain the rule registry generated from the Amazon provider's source."""


@registry.command("build")
@click.option("--provider-version", default=None, help="Require this installed provider version.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the data file (default: the package's data folder).")
def registry_build(provider_version: str | None, output: Path | None) -> None:
    """Regenerate the registry data by reading the installed provider's source (nothing is imported)."""
    from dag_converter.registry._build import write_registry_data

    try:
        written = write_registry_data(output, provider_version)
    except (RuntimeError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"wrote {written}", err=True)


@main.command()
@click.argument("py_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("yaml_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(py_file: Path, yaml_files: tuple[Path, ...]) -> None:
    """Prove the YAML builds the same DAG as the Python file.

    This LOADS AND RUNS the Python DAG file with Airflow (and the YAML with dag-factory); use it
    only on code you trust. Needs the verify extra: pip install "dag-converter[verify]".
    """
    from dag_converter.verify import SourceLoadError, VerifyUnavailable, YamlLoadError, verify as run_verify

    try:
        differences = run_verify(py_file, list(yaml_files))
    except (VerifyUnavailable, SourceLoadError, YamlLoadError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    for difference in differences:
        click.echo(f"{py_file}: {difference.message}", err=True)
    if differences:
        click.echo(f"{len(differences)} differences", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(f"equivalent: {py_file} and {', '.join(map(str, yaml_files))}", err=True)


from dag_converter.deploy.command import deploy as _deploy  # noqa: E402 - after the group it joins

main.add_command(_deploy)


if __name__ == "__main__":  # pragma: no cover
    main()
