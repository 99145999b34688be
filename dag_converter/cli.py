"""Command line: argument handling, printing and exit codes only; the work is in the pipeline.

Imports of heavy modules (the analyzer, rich, jinja2, boto3, registry data) happen inside the
commands, so `dag-converter --version` and `--help` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from dag_converter import __version__

if TYPE_CHECKING:
    from dag_converter.model import Diagnostic
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
@click.option("--output", "-o", default=DEFAULT_OUTPUT, show_default=True,
              help="Folder for the YAML files, reports and manifest: a local path or s3://bucket/prefix/.")
@click.option("--target", type=click.Choice(["mwaa-serverless"]), default="mwaa-serverless", show_default=True,
              help="What the YAML must run on.")
@click.option("--allow-operator", "allow_operators", multiple=True, metavar="CLASS_PATH",
              help="Also accept this operator class (repeatable; a trailing * allows a module).")
@click.option("--max-file-size", type=int, default=5 * 1024 * 1024, show_default=True,
              help="Refuse source files larger than this many bytes.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel reads, conversions and uploads  [default: the CPU count]")
@click.option("--force", is_flag=True, help="Convert and write everything, even what the manifest says is current.")
@click.option("--bucket", default=None, metavar="NAME", help="Also upload each YAML to s3://NAME/<dag_id>.yaml.")
@click.option("--report-dir", default=None, type=click.Path(file_okay=False),
              help="Also write the reports to this local folder.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="S3 endpoint (default: AWS_ENDPOINT_URL, else AWS's own).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
@click.option("--verbose", "-v", is_flag=True, help="Also print info diagnostics and skipped files.")
@click.option("--color/--no-color", default=None, help="Colour on a terminal unless NO_COLOR is set.")
def convert(paths: tuple[str, ...], output: str, target: str, allow_operators: tuple[str, ...], max_file_size: int,
            jobs: int | None, force: bool, bucket: str | None, report_dir: str | None, endpoint_url: str | None,
            quiet: bool, verbose: bool, color: bool | None) -> None:
    """Convert DAG files or folders (searched recursively; local or s3://) into one YAML file per DAG.

    A conversion-manifest.json in the output records what was converted from which bytes, so a
    rerun converts and writes only what changed (--force redoes everything).
    """
    from dag_converter._progress import make_progress
    from dag_converter.model import Severity
    from dag_converter.pipeline import Options
    from dag_converter.report import build_report, render_json, render_markdown
    from dag_converter.runner import default_jobs, open_locations, run_conversion, write_reports
    from dag_converter.sources_s3 import S3Unavailable
    from dag_converter.validate import make_target

    options = Options(target=make_target(target, allow_operators), max_file_size=max_file_size)
    jobs = jobs or default_jobs()
    try:
        where = open_locations(paths, output, bucket=bucket, report_dir=report_dir, endpoint_url=endpoint_url,
                               jobs=jobs)
    except (S3Unavailable, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    problems = list(where.problems)
    progress = make_progress(sys.stderr.isatty(), _use_color(color), quiet) if where.refs else None
    try:
        if progress is None:
            run = run_conversion(where.refs, options, where.output, where.extra, jobs=jobs, force=force)
        else:
            with progress:
                run = run_conversion(where.refs, options, where.output, where.extra, jobs=jobs, force=force,
                                     progress=progress)
    except KeyboardInterrupt:
        click.echo(f"interrupted: every YAML written is complete; {where.output} holds the manifest, "
                   "run the same command again to continue", err=True)
        sys.exit(EXIT_USAGE)
    results = run.results
    report = build_report(target, results, problems)
    report_problems = list(run.problems)
    if results or not problems:
        report_problems += write_reports({"conversion-report.json": render_json(report),
                                          "conversion-report.md": render_markdown(report)}, where.report_sinks)

    minimum = {Severity.ERROR} if quiet else {Severity.ERROR, Severity.WARNING}
    if verbose:
        minimum.add(Severity.INFO)
    for diagnostic in sorted(report.all_diagnostics(), key=lambda d: d.sort_key()):
        if diagnostic.severity in minimum or (quiet and diagnostic.severity is Severity.WARNING):
            click.echo(format_diagnostic(diagnostic), err=True)
    for line in report_problems:
        click.echo(line, err=True)
    if not quiet:
        _print_summary(report, str(where.output), _use_color(color))
        if run.skipped or run.current or run.written:
            click.echo(f"{run.skipped} sources unchanged since the last run; {run.written} YAML files written, "
                       f"{run.current} already current", err=True)
    summary = report.summary()
    if summary["dags"] == 0:
        if not problems and not any(f.all_diagnostics() for f in results):
            click.echo(f"error: no DAGs found in {', '.join(paths)}", err=True)
        sys.exit(EXIT_USAGE)
    if report_problems:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK if summary["refused"] == 0 else EXIT_REFUSED)


def _print_summary(report: "RunReport", out_dir: str, color: bool) -> None:
    s = report.summary()
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
                      f"{s['warnings']} warnings; YAML and report in {out_dir}")
        return
    for result in report.files:
        for dag in result.dags:
            status = "converted" if dag.converted else "refused"
            click.echo(f"{status:9} {dag.dag_id} ({result.path}, {len(dag.workflow.tasks)} tasks)", err=True)
    click.echo(f"{s['files']} files, {s['dags']} DAGs: {s['converted']} converted, {s['refused']} refused, "
               f"{s['errors']} errors, {s['warnings']} warnings; YAML and report in {out_dir}", err=True)


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


if __name__ == "__main__":  # pragma: no cover
    main()
