"""`dag-converter migrate --from-environment NAME`: the click command. The work is in run; this module
checks the flags and prints once, at the end."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final, NoReturn

import click

from dag_converter.config import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from dag_converter.migrate.run import MigrateResult

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1  #: a role, a workflow or a pause failed
EXIT_USAGE: Final = 2  #: bad flags, or the environment cannot be read


@click.command()
@click.option("--from-environment", "environment", required=True, metavar="NAME",
              help="The MWAA environment to migrate.")
@click.option("--definitions", default=None, metavar="S3_URL",
              help="s3://BUCKET/PREFIX/ for the workflows' YAML.  [default: s3://<the environment's bucket>/"
                   "dag-converter/<NAME>/, outside its DAG folder]")
@click.option("--plan", "mode", flag_value="plan", default=True,
              help="Write the migration plan beside the reports; change nothing (the default).")
@click.option("--apply", "mode", flag_value="apply", help="Create or update the roles and workflows of the plan.")
@click.option("--pause-source", is_flag=True,
              help="With --apply: pause each source DAG whose workflow is deployed (the only change to the environment).")
@click.option("--output", "-o", default=DEFAULT_OUTPUT, show_default=True, metavar="DIR",
              help="Local folder for the converted YAML, the reports and the plan.")
@click.option("--name-prefix", default="", metavar="PREFIX", help="Workflow name = PREFIX + dag id.")
@click.option("--role-prefix", default="mwaa-serverless-", show_default=True, metavar="PREFIX",
              help="Execution role name = PREFIX + dag id.")
@click.option("--paused-trigger-mode", default="DISABLED", show_default=True, metavar="MODE",
              help="TriggerMode of a workflow whose DAG is paused in the source (our reading of the service's "
                   "Disabled type; the API model lists no values).")
@click.option("--code-package/--no-code-package", default=True, show_default=True,
              help="Ship the Python a DAG's tasks run as its code package (convert --code-package); without, "
                   "such DAGs are blocked.")
@click.option("--build-deps", "build_deps", is_flag=True, default=False,
              help="Install each code package's requirements (pinned by the environment's requirements file) into "
                   "it with pip, as convert --build-deps does; needs PyPI or your pip index.")
@click.option("--force", is_flag=True,
              help="Convert every DAG again, even those the last run converted from the same objects.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="One endpoint for every service.  [default: AWS_ENDPOINT_URL_MWAA, _MWAA_SERVERLESS, _S3, _IAM, "
                   "else AWS's own]")
def migrate(environment: str, definitions: str | None, mode: str, pause_source: bool, output: str, name_prefix: str,
            role_prefix: str, paused_trigger_mode: str, code_package: bool, build_deps: bool, force: bool,
            endpoint_url: str | None) -> None:
    """Migrate an MWAA environment's DAGs to MWAA Serverless workflows, through a reviewed plan.

    Reads the environment (its DAG folder, network, key, tags, secrets backend, requirements) and which
    of its DAGs are paused or broken, converts the DAG folder (with code packages and one execution role
    per workflow; a rerun converts only what changed) and writes migration-plan.md and
    migration-plan.json to OUTPUT. --apply then creates or updates the roles, uploads the definitions and
    code packages and creates or updates the workflows; the environment itself is changed only with
    --pause-source.
    """
    from dag_converter.deploy.service import shape_problem
    from dag_converter.errors import UsageError
    from dag_converter.migrate.plan import PLAN_MD
    from dag_converter.migrate.run import Options, run_migrate

    if pause_source and mode != "apply":
        _fail("--pause-source changes the environment; it goes with --apply only")
    problem = shape_problem("GenericString", paused_trigger_mode)
    if problem:
        _fail(f"--paused-trigger-mode {paused_trigger_mode!r}: {problem}")
    if build_deps and not code_package:
        _fail("--build-deps installs the code packages' requirements; it does not go with --no-code-package")
    options = Options(environment, output, definitions, mode == "apply", pause_source, name_prefix, role_prefix,
                      paused_trigger_mode, endpoint_url, code_package, force, build_deps)
    try:
        result = run_migrate(options)
    except UsageError as exc:
        _fail(str(exc))
    _print(result, output, PLAN_MD, environment)
    sys.exit(EXIT_FAILED if result.failed else EXIT_OK)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _print(result: "MigrateResult", output: str, plan_md: str, environment: str) -> None:
    from pathlib import Path

    from dag_converter.report.concise import format_diagnostic

    plan = result.plan
    lines: list[str] = [result.conversion]
    if plan is not None:
        counts = plan.counts()
        lines.append(f"plan: {counts['migrate']} DAGs to migrate ({counts['create']} to create, {counts['update']} "
                     f"to update, {counts['unchanged']} unchanged), {counts['blocked']} blocked, "
                     f"{counts['skipped']} skipped; see {Path(output) / plan_md}")
    for name, done in result.roles:
        lines.append(f"role {name}: {done}")
    lines += [format_diagnostic(d) for d in sorted(result.diagnostics, key=lambda d: d.sort_key())]
    for dag_id in result.paused:
        lines.append(f"paused {dag_id} in environment {environment} (its workflow is deployed)")
    lines += result.lines
    if result.outcomes:
        done = {a: sum(1 for o in result.outcomes if o.ok and o.step.action.value == a)
                for a in ("create", "update", "unchanged")}
        failed = sum(1 for o in result.outcomes if not o.ok)
        lines.append(f"{done['create']} created, {done['update']} updated, {done['unchanged']} unchanged, "
                     f"{failed} failed; {len(result.paused)} source DAGs paused.")
    click.echo("\n".join(line for line in lines if line), err=True)


__all__ = ["migrate"]
