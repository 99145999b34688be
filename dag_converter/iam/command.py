"""``dag-converter iam OUTPUT``: write ``<dag_id>.iam.json`` beside each converted DAG's YAML."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from dag_converter.config import RoleSettings

F = TypeVar("F", bound=Callable[..., Any])

REPORT_NAME = "execution-roles.md"
#: the converter's dag_id rule; anything else (a path, say) in a hand-edited YAML is skipped
_SAFE_DAG_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")


def _write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; True when written."""
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


_ROLE_OPTIONS: Final = ("account", "region", "partition", "definition_bucket", "kms_key")


def role_options(command: F) -> F:
    """The options saying where the roles are used: on `iam` and on `convert --iam`."""
    for option in reversed((
        click.option("--account", default=None, metavar="ID", help="AWS account id for the ARNs.  [default: any]"),
        click.option("--region", default=None, metavar="NAME", help="AWS region for the ARNs.  [default: any]"),
        click.option("--partition", default=None, help="ARN partition.  [default: aws]"),
        click.option("--definition-bucket", default=None, metavar="NAME",
                     help="Bucket holding the workflow definitions (the role reads <dag_id>.yaml from it)."),
        click.option("--kms-key", default=None, metavar="ARN", help="Customer managed key the workflows use."),
    )):
        command = option(command)
    return command


def pop_role_settings(values: dict[str, Any]) -> RoleSettings | None:
    """Take the `role_options` out of a command's keyword arguments: RoleSettings, or None when
    none was given."""
    given = {name: values.pop(name) for name in _ROLE_OPTIONS if name in values}
    given = {name: value for name, value in given.items() if value is not None}
    return RoleSettings(**given) if given else None


@click.command("iam")
@click.argument("output", type=click.Path(exists=True, file_okay=False, path_type=Path))
@role_options
@click.option("--quiet", "-q", is_flag=True, help="Print only warnings.")
def iam(output: Path, quiet: bool, **options: Any) -> None:
    """Write a least-privilege execution role (trust + permissions) for each converted DAG in OUTPUT.

    Reads the YAML the converter wrote (and conversion-manifest.json for source positions); writes
    OUTPUT/<dag_id>.iam.json, and execution-roles.md (each DAG's actions by task). Actions come from the registry's IAM data, derived from the Amazon
    provider's code; resources are narrowed from literal arguments.
    """
    from dag_converter.report.concise import format_diagnostic
    from dag_converter.iam.arns import Place
    from dag_converter.iam.policy import RoleDerivation, derive, load_iam_data, output_name, render
    from dag_converter.report.roles import render_markdown_document
    from dag_converter.iam.workflows import FoundWorkflow, workflows_in_output
    from dag_converter.registry import get_registry

    settings = pop_role_settings(options) or RoleSettings()
    definition_bucket, kms_key = settings.definition_bucket, settings.kms_key
    data = load_iam_data()
    registry = get_registry()
    place = Place(partition=settings.partition, region=settings.region, account=settings.account)
    written = current = warnings = 0
    derivations: list[RoleDerivation] = []
    for found in workflows_in_output(output):
        if not isinstance(found, FoundWorkflow):
            click.echo(f"{found.path}: skipped: {found.reason}", err=True)
            continue
        if not _SAFE_DAG_ID.fullmatch(found.workflow.dag_id):
            click.echo(f"{found.yaml_path}: skipped: dag_id {found.workflow.dag_id[:80]!r} is not a safe file name",
                       err=True)
            continue
        derivation = derive(found.workflow, registry, data=data, place=place,
                            definition_bucket=definition_bucket, kms_key=kms_key)
        derivations.append(derivation)
        text, diagnostics = render(derivation, data), derivation.diagnostics
        for diagnostic in diagnostics:
            click.echo(format_diagnostic(diagnostic), err=True)
        warnings += len(diagnostics)
        target = output / output_name(found.workflow.dag_id)
        try:
            changed = _write_atomic(target, text)
        except OSError as exc:
            click.echo(f"{target}: cannot write: {exc.strerror or exc}", err=True)
            sys.exit(1)
        written += changed
        current += not changed
    try:
        _write_atomic(output / REPORT_NAME, render_markdown_document(derivations))
    except OSError as exc:
        click.echo(f"{output / REPORT_NAME}: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(1)
    if not quiet:
        click.echo(f"{written + current} roles: {written} written, {current} already current, "
                   f"{warnings} warnings; in {output}", err=True)
