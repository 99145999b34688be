"""Command line: flags -> RunConfig, batch.run(), then diagnostics, summary and one exit code.

Imports of heavy modules (the analyzer, rich, jinja2, boto3, registry data) happen inside the
commands, so `dag-converter --version` and `--help` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from dag_converter import __version__
from dag_converter.iam.command import pop_role_settings, role_options
from dag_converter.targets import DEFAULT_TARGET, TARGET_NAMES

OUTPUT_FORMATS: Final = ("concise", "full", "json", "github", "sarif")  #: report/output.py renders them

if TYPE_CHECKING:
    from dag_converter.batch import RunResult
    from dag_converter.model import FileResult
    from dag_converter.report import RunReport

EXIT_OK: Final = 0  #: all DAGs converted; with --check: every YAML already current
EXIT_REFUSED: Final = 1  #: a DAG refused, or (with --check) a YAML stale or missing
EXIT_USAGE: Final = 2  #: bad flags or config, or no input could be read

DEFAULT_OUTPUT: Final = "output_yaml"  #: the AWS converter's default (config.DEFAULT_OUTPUT), for --help


def _use_color(color: bool | None) -> bool:
    if color is not None:
        return color
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


class _Group(click.Group):
    """Every command's user errors (errors.UsageError) end here: one line on stderr, exit 2.
    Commands of other packages load on first use (_LAZY_COMMANDS)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(_LAZY_COMMANDS if self.name == "main" else ())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self.name == "main" and cmd_name in _LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            self.add_command(getattr(importlib.import_module(_LAZY_COMMANDS[cmd_name]), cmd_name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        from dag_converter.errors import UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dag-converter")
def main() -> None:
    """Convert Airflow Python DAGs to dag-factory YAML for Amazon MWAA Serverless, without running them."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--output", "-o", default=None,
              help=f"Folder for the YAML files, reports and manifest: a local path or s3://bucket/prefix/.  "
                   f"[default: {DEFAULT_OUTPUT}]")
@click.option("--target", type=click.Choice(TARGET_NAMES), default=None,
              help="What the YAML must run on.  [default: mwaa-serverless]")
@click.option("--dags-folder", metavar="PATH", default=None,
              help="dag-factory target: the dags folder where the YAML is loaded, absolute or '$VAR/...'; "
                   "functions defined in a DAG file are referenced as PATH/<file>.")
@click.option("--code-package", "code_package", is_flag=True, default=False,
              help="mwaa-serverless: ship the code of Python, Bash, TaskFlow, other providers' and custom operators "
                   "in <dag_id>.code.zip beside each YAML (docs/code-packages.md).")
@click.option("--requirements", "requirements", default=None, metavar="FILE",
              help="A pip requirements or constraints file (local): its name==version pins go into each code "
                   "package's requirements.txt; a needed distribution it does not pin is a warning (DC347).")
@click.option("--build-deps", "build_deps", is_flag=True, default=False,
              help="With --code-package: install each package's requirements into it with pip (wheels for the "
                   "workers: manylinux2014_x86_64, Python 3.12); needs PyPI or your pip index.")
@click.option("--plugins", "plugins", default=None, metavar="PATH_OR_S3_URL",
              help="MWAA's plugins.zip: modules DAG files import from it are read (never run) as from the DAG "
                   "folder, and shipped in code packages (docs/code-packages.md).")
@click.option("--allow-operator", "allow_operators", multiple=True, metavar="CLASS_PATH",
              help="Also accept this operator class (repeatable; a trailing * allows a module).")
@click.option("--once-as", "once_as", type=click.Choice(("refuse", "manual")), default=None,
              help="What an @once schedule becomes: refused, or an unscheduled workflow to start once by hand "
                   "(manual).  [default: refuse]")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB",
              help="Skip files matching this pattern, relative to the config's folder (repeatable).")
@click.option("--max-file-size", type=int, default=None,
              help="Refuse source files larger than this many bytes.  [default: 5242880]")
@click.option("--report-format", "report_format", default=None, metavar="FORMATS",
              help="Comma-separated reports to write: json, md, html, sarif, or none.  [default: json,md]")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="Use VALUE for Airflow Variable NAME read when the DAG file is parsed (repeatable; each use is a warning).")
@click.option("--env", "environment", multiple=True, metavar="NAME=VALUE",
              help="Use VALUE for environment variable NAME read when the DAG file is parsed (repeatable; each use is a warning).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if a YAML is stale or missing or a DAG is refused.")
@click.option("--diff", is_flag=True, help="Write nothing; print a unified diff of the YAML that would change.")
@click.option("--fail-on-change", is_flag=True,
              help="Convert, but exit 1 if a YAML was created or changed (for the pre-commit hook).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel reads, conversions and uploads.  [default: the CPU count]")
@click.option("--force", is_flag=True, help="Convert and write everything, even what the manifest says is current.")
@click.option("--verify", "verify", is_flag=True,
              help="Prove each converted DAG equivalent before writing it: LOADS AND RUNS the Python DAG files "
                   "with Airflow (use only on code you trust; needs the verify extra). Local paths only.")
@click.option("--bucket", default=None, metavar="NAME", help="Also upload each YAML to s3://NAME/<dag_id>.yaml.")
@click.option("--report-dir", default=None, type=click.Path(file_okay=False),
              help="Also write the reports to this local folder.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="S3 endpoint.  [default: AWS_ENDPOINT_URL, else AWS's own]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read [tool.dag-converter] from this pyproject.toml instead of searching for one.")
@click.option("--iam", is_flag=True,
              help="Also write each converted DAG's execution role, <dag_id>.iam.json, beside its YAML.")
@role_options
@click.option("--prune", is_flag=True,
              help="Remove YAML this tool wrote (per the manifest) whose DAG file is gone or no longer defines "
                   "that DAG.")
@click.option("--select", "select", multiple=True, metavar="CODES",
              help="Show only these warning and info codes or prefixes (DC2, DC301; comma-separated, "
                   "repeatable). Errors are always shown.")
@click.option("--ignore", "ignore", multiple=True, metavar="CODES",
              help="Hide these warning and info codes or prefixes; an error code is refused.")
@click.option("--extend-ignore", "extend_ignore", multiple=True, metavar="CODES",
              help="Like --ignore, added to the config's ignore list instead of replacing it.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when a DAG is refused or a YAML is stale.")
@click.option("--statistics", is_flag=True, help="Print the number of diagnostics per code (on stdout).")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="Print the diagnostics on stdout in this format (summaries stay on stderr).  "
                   "[default: full, on stderr]")
@click.option("--quiet", "-q", is_flag=True, help="Print only diagnostics (errors and warnings), no summary.")
@click.option("--verbose", "-v", is_flag=True, help="Also print info diagnostics, skipped files and the config.")
@click.option("--debug", "debug", is_flag=True, hidden=True, help="The AWS converter's name for --verbose.")
@click.option("--validate", "validate", is_flag=True, hidden=True, help="The AWS converter's name for --verify.")
@click.option("--no-validate", "no_validate", is_flag=True, hidden=True,
              help="The AWS converter's flag to skip validation: accepted, nothing to skip.")
@click.option("--color/--no-color", default=None, help="Colour on a terminal unless NO_COLOR is set.")
def convert(paths: tuple[str, ...], quiet: bool, verbose: bool, color: bool | None, exit_zero: bool,
            statistics: bool, output_format: str | None, debug: bool, validate: bool, no_validate: bool,
            **flags: Any) -> None:
    """Convert DAG files or folders (searched recursively; local or s3://) into one YAML file per DAG.

    Settings not given as flags come from [tool.dag-converter] in the nearest pyproject.toml. A
    conversion-manifest.json in the output records what was converted from which bytes, so a rerun
    converts and writes only what changed (--force redoes everything).
    """
    from dag_converter.config import Mode, run_config

    verbose = verbose or debug
    if validate and no_validate:
        raise click.UsageError("--validate and --no-validate contradict each other")
    flags["verify"] = flags["verify"] or validate
    config = run_config(paths, role_settings=pop_role_settings(flags), **flags)
    _refuse_missing_paths(config.paths)
    from dag_converter import batch
    from dag_converter.batch.progress import make_progress

    if no_validate:
        click.echo("info: --no-validate (from the AWS converter) changes nothing: dag-converter never runs DAG "
                   "files unless --verify is given", err=True)
    if verbose and config.config_path is not None:
        click.echo(f"config: {config.config_path}", err=True)
    progress = make_progress(sys.stderr.isatty(), _use_color(color), quiet) if config.mode is Mode.WRITE else None
    try:
        result = batch.run(config, progress=progress)
    except KeyboardInterrupt:
        click.echo(f"interrupted: every YAML written is complete and {config.output} holds the manifest; "
                   "run the same command again to continue", err=True)
        sys.exit(EXIT_USAGE)
    _show(result, quiet=quiet, verbose=verbose, color=_use_color(color), output_format=output_format,
          statistics=statistics)
    status = exit_status(result)
    sys.exit(EXIT_OK if exit_zero and status == EXIT_REFUSED else status)


def _refuse_missing_paths(paths: tuple[str, ...]) -> None:
    """A mistyped local path stops the run before anything (an output folder) is created: one
    line, with "did you mean" when a near path exists. Several paths where some exist go on
    (each missing one is a DC109 finding in the batch)."""
    local = [p for p in paths if not p.startswith("s3://")]
    missing = [p for p in local if not os.path.lexists(p)]
    if not missing or len(missing) < len(paths):
        return
    given = missing[0]
    click.echo(f"{given}: DC109 [error] no such file or folder: {given}{_did_you_mean(given)}", err=True)
    sys.exit(EXIT_USAGE)


def _did_you_mean(given: str) -> str:
    import difflib

    parent, name = os.path.split(os.path.normpath(given))
    folder = parent or "."
    while not os.path.isdir(folder) and parent:  # the typo may be in a folder name
        parent, name = os.path.split(parent)
        folder = parent or "."
        given = os.path.join(parent, name) if parent else name
    try:
        names = os.listdir(folder)
    except OSError:
        return ""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f" (did you mean {os.path.join(parent, close[0]) if parent else close[0]}?)" if close else ""


def exit_status(result: "RunResult") -> int:
    """The one mapping from a run's result to the exit code (black's Report.return_code). A file
    that could not be read, decoded, parsed or analysed is an error (1) like a refused DAG, in
    every mode, even when the other files converted."""
    from dag_converter.config import Mode
    from dag_converter.model import FileStatus, Severity

    summary = result.report.summary()
    hook = result.config.mode is not Mode.WRITE
    failed_files = any(_file_failed(f) for f in result.results)
    if summary["dags"] == 0 and any(f.status is FileStatus.REFUSED for f in result.report.files):
        # DAG code the analysis had to refuse before finding its DAGs (a loop over run-time data).
        return EXIT_REFUSED
    if summary["dags"] == 0:
        run_errors = any(d.severity is Severity.ERROR for d in result.report.run_diagnostics)
        # A pre-commit hook passes every staged Python file; one without DAGs is not a failure.
        if hook and not run_errors:
            return EXIT_REFUSED if failed_files or result.orphans else EXIT_OK
        return EXIT_USAGE
    if result.problems:
        return EXIT_USAGE
    stale = result.changes or (hook and result.orphans)
    return EXIT_REFUSED if summary["refused"] or stale or failed_files else EXIT_OK


def _file_failed(result: "FileResult") -> bool:
    """Whether a file itself failed (unreadable, undecodable, unparsable, an analysis error),
    as opposed to a file whose DAGs were each converted or refused."""
    from dag_converter.model import FileStatus, Severity

    return result.status is FileStatus.UNREADABLE or (
        not result.dags and any(d.severity is Severity.ERROR for d in result.diagnostics))


def _show(result: "RunResult", *, quiet: bool, verbose: bool, color: bool, output_format: str | None = None,
          statistics: bool = False) -> None:
    """Diagnostics, then the changes and run-level problems, then the summary; all on stderr
    except --diff's patches, which go to stdout first, and with --output-format or
    --statistics the diagnostics, which go to stdout in that format."""
    from dag_converter.config import Mode
    from dag_converter.model import Severity
    from dag_converter.report.concise import format_diagnostic, printable

    mode = result.config.mode
    if verbose:
        for excluded in result.excluded:
            click.echo(f"excluded {printable(excluded)}", err=True)
    if mode is Mode.DIFF:
        for change in result.changes:
            click.echo(change.unified_diff(), nl=False)
    shown_severities = {Severity.ERROR, Severity.WARNING} | ({Severity.INFO} if verbose else set())
    diagnostics = result.report.all_diagnostics()
    if not mode.writes:
        diagnostics += [change.diagnostic for change in result.changes]
    if mode is not Mode.WRITE:
        diagnostics += [orphan.diagnostic for orphan in result.orphans]
    shown = [d for d in sorted(diagnostics, key=lambda d: d.sort_key()) if d.severity in shown_severities]
    if statistics:
        from dag_converter.rules import statistics as count_codes

        rows = count_codes(shown)
        width = max((len(str(n)) for n, *_ in rows), default=1)
        click.echo("".join(f"{n:>{width}}\t{code}\t[{severity}] {name}\n" for n, code, name, severity in rows),
                   nl=False)
        shown = []
    elif output_format is not None:
        from dag_converter.report.output import render_output

        click.echo(render_output(output_format, shown, result.report), nl=False)
        shown = []
    lines = [format_diagnostic(d) for d in shown]
    if mode is Mode.FAIL_ON_CHANGE:
        lines += [printable(f"{change.target}: {'created' if change.created else 'updated'} from "
                            f"{change.dag.workflow.span.path}; stage it and commit again") for change in result.changes]
    if mode is Mode.WRITE:
        lines += [printable(f"note: {orphan.diagnostic.message}; remove it with --prune") for orphan in result.orphans]
    lines += [printable(f"removed {where} (its DAG is gone)") for where in result.pruned]
    lines += [printable(problem) for problem in result.problems]
    if lines:
        click.echo("\n".join(lines), err=True)  # one write: a batch may print thousands
    if not quiet:
        if mode.writes:
            _print_summary(result.report, result.output, color, with_report=bool(result.config.report_formats))
            if result.skipped or result.written or result.current:
                click.echo(f"{result.skipped} sources unchanged since the last run; {result.written} YAML files "
                           f"written, {result.current} already current", err=True)
        else:
            _print_check_summary(result.report, len(result.changes))
    if result.report.summary()["dags"] == 0 and exit_status(result) == EXIT_USAGE and \
            not result.report.run_diagnostics and not any(f.all_diagnostics() for f in result.results):
        click.echo(printable(f"error: no DAGs found in {', '.join(result.config.paths)}"), err=True)


def _print_check_summary(report: "RunReport", stale: int) -> None:
    s = report.summary()
    current = s["converted"] - stale
    parts = [f"{stale} YAML file{'s' if stale != 1 else ''} would change",
             f"{current} already current", f"{s['refused']} DAG{'s' if s['refused'] != 1 else ''} refused"]
    click.echo(", ".join(parts) + ".", err=True)


def _print_summary(report: "RunReport", out_dir: object, color: bool, *, with_report: bool = True) -> None:
    """Ids and paths come from the folder converted: control characters are escaped and, on a
    terminal, they are rich Text, never markup (`[/]` or `[link=...]` in an id is shown as is)."""
    from dag_converter.report.concise import printable

    s = report.summary()
    where = printable(f"YAML and report in {out_dir}" if with_report else f"YAML in {out_dir}")
    if color:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(stderr=True)
        table = Table(title="dag-converter", show_lines=False)
        for column in ("DAG", "file", "status", "tasks"):
            table.add_column(column)
        for result in report.files:
            for dag in result.dags:
                status = Text("converted", style="green") if dag.converted else Text("refused", style="red")
                table.add_row(Text(printable(dag.dag_id)), Text(printable(result.path)), status,
                              str(len(dag.workflow.tasks)))
        console.print(table)
        console.print(Text(f"{s['converted']} converted, {s['refused']} refused, {s['errors']} errors, "
                           f"{s['warnings']} warnings; {where}"))
        return
    for result in report.files:
        for dag in result.dags:
            status = "converted" if dag.converted else "refused"
            click.echo(f"{status:9} {printable(dag.dag_id)} ({printable(result.path)}, "
                       f"{len(dag.workflow.tasks)} tasks)", err=True)
    click.echo(f"{s['files']} files, {s['dags']} DAGs: {s['converted']} converted, {s['refused']} refused, "
               f"{s['errors']} errors, {s['warnings']} warnings; {where}", err=True)


@main.command()
@click.option("--target", type=click.Choice(TARGET_NAMES), default=DEFAULT_TARGET,
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def operators(target: str, as_json: bool) -> None:
    """List the operator classes the rule registry supports, grouped by service."""
    from dag_converter.registry import render_operators

    click.echo(render_operators(target, as_json), nl=False)


@main.group()
def registry() -> None:
    """Maintain the rule registry generated from the providers' source (Amazon, standard)."""


@registry.command("build")
@click.option("--provider", "provider_key", type=click.Choice(("amazon", "standard")), default="amazon",
              help="Which provider to read.  [default: amazon]")
@click.option("--provider-version", default=None, help="Require this installed provider version.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the data file (default: the package's data folder).")
def registry_build(provider_key: str, provider_version: str | None, output: Path | None) -> None:
    """Regenerate the registry data by reading the installed provider's source (nothing is imported)."""
    from dag_converter.registry import PROVIDERS, write_registry_data

    try:
        written = write_registry_data(output, provider_version, PROVIDERS[provider_key])
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
    from dag_converter.verify import SourceLoadError, YamlLoadError, verify as run_verify

    try:
        differences = run_verify(py_file, list(yaml_files))
    except (SourceLoadError, YamlLoadError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    for difference in differences:
        click.echo(f"{py_file}: {difference.message}", err=True)
    if differences:
        click.echo(f"{len(differences)} differences", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(f"equivalent: {py_file} and {', '.join(map(str, yaml_files))}", err=True)


# Commands that live in their own packages: imported when named (or listed by --help), so a
# `convert` run does not load them.
_LAZY_COMMANDS: Final = {"deploy": "dag_converter.deploy.command", "iam": "dag_converter.iam.command",
                               "migrate": "dag_converter.migrate.command"}


if __name__ == "__main__":  # pragma: no cover
    main()
