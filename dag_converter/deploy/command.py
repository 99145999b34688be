"""`dag-converter deploy OUTPUT`: the click command. Flags and [tool.dag-converter.deploy] become
`Settings`; the work is in inputs, plan, upload and apply; this module prints once, at the end."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final, NoReturn

import click

from dag_converter.errors import UsageError
from dag_converter.deploy.names import OWN_TAGS, TAG_KEY_MAX, TAG_VALUE_MAX, name_problem
from dag_converter.deploy.plan import Settings

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1  #: a workflow failed or was refused
EXIT_USAGE: Final = 2  #: bad flags or config, or no manifest

#: keys of [tool.dag-converter.deploy]; flags win key by key
CONFIG_KEYS: Final = ("definitions", "role-arn", "name-prefix", "subnets", "security-groups", "log-group", "kms-key",
                      "tags", "trigger-mode", "role-name-template")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def read_config(config_file: Path | None) -> dict[str, Any]:
    """[tool.dag-converter.deploy] of --config, else of the nearest pyproject.toml above the working
    directory (the project's, never the output or DAG folder's)."""
    from dag_converter.config import find_config, tomllib

    path = config_file or find_config([Path.cwd()])
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("dag-converter", {}).get("deploy", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.dag-converter.deploy] must be a table")
    values = {key.replace("_", "-"): value for key, value in table.items()}
    unknown = sorted(set(values) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [tool.dag-converter.deploy]: {', '.join(unknown)} "
                         f"(known: {', '.join(CONFIG_KEYS)})")
    for key, value in values.items():
        ok = (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())) if key == "tags" else \
             (isinstance(value, list) and all(isinstance(v, str) for v in value)) if key in ("subnets", "security-groups") \
             else isinstance(value, str)
        if not ok:
            raise UsageError(f"{path}: [tool.dag-converter.deploy] {key} has the wrong type")
    return values


def make_settings(flags: dict[str, Any], config: dict[str, Any]) -> Settings:
    """Flags over config; every global setting checked against the service model before any call."""
    from dag_converter.deploy.service import shape_problem

    def pick(key: str) -> Any:
        value = flags.get(key.replace("-", "_"))
        return value if value not in (None, ()) else config.get(key)

    role = pick("role-arn")
    template = None
    if flags.get("create_roles"):
        from dag_converter.deploy.roles import DEFAULT_TEMPLATE, template_problem

        if flags.get("role_arn"):
            raise UsageError("--role-arn and --create-roles exclude each other: each workflow gets its own role")
        role, template = "", pick("role-name-template") or DEFAULT_TEMPLATE
        problem = template_problem(template)
        if problem:
            raise UsageError(f"--role-name-template {template!r}: {problem}")
    elif flags.get("role_name_template"):
        raise UsageError("--role-name-template goes with --create-roles")
    elif not role:
        raise UsageError("--role-arn is required (or role-arn in [tool.dag-converter.deploy]), "
                         "or --create-roles to create each workflow's role from convert --iam")
    tags = dict(config.get("tags", {}))
    for text in flags.get("tags") or ():
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise UsageError(f"--tag {text!r}: use KEY=VALUE")
        tags[key] = value
    settings = Settings(role_arn=role, definitions=pick("definitions"), name_prefix=pick("name-prefix") or "",
                        subnets=tuple(pick("subnets") or ()), security_groups=tuple(pick("security-groups") or ()),
                        log_group=pick("log-group"), kms_key=pick("kms-key"), tags=tuple(sorted(tags.items())),
                        trigger_mode=pick("trigger-mode"), role_template=template)
    checks = [*((("--role-arn", "RoleARN", role),) if template is None else ()),
              *(("--subnet", "SubnetString", s) for s in settings.subnets),
              *(("--security-group", "SecurityGroupString", g) for g in settings.security_groups)]
    if settings.trigger_mode is not None:
        checks.append(("--trigger-mode", "GenericString", settings.trigger_mode))
    for flag, shape, value in checks:
        problem = shape_problem(shape, value)
        if problem:
            raise UsageError(f"{flag} {value!r}: {problem}")
    if settings.name_prefix and name_problem(settings.name_prefix + "x"):
        raise UsageError(f"--name-prefix {settings.name_prefix!r}: {name_problem(settings.name_prefix + 'x')}")
    for key, value in settings.tags:
        if key in OWN_TAGS or key.startswith("aws:") or not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
            raise UsageError(f"--tag {key!r}: keys are 1-{TAG_KEY_MAX} characters, not aws:* or dag-converter's own; "
                             f"values at most {TAG_VALUE_MAX}")
    return settings


@click.command()
@click.argument("output")
@click.option("--definitions", default=None, metavar="S3_URL",
              help="s3://BUCKET/PREFIX/ to upload the YAML to when OUTPUT is local.")
@click.option("--role-arn", default=None, metavar="ARN", help="Execution role of every workflow.")
@click.option("--create-roles", is_flag=True,
              help="Instead of --role-arn: create or update each workflow's own role from the <dag_id>.iam.json "
                   "that convert --iam wrote.  IAM endpoint: AWS_ENDPOINT_URL_IAM.")
@click.option("--role-name-template", default=None, metavar="TEMPLATE",
              help="With --create-roles: the role names.  [default: dag-converter-{dag_id}]")
@click.option("--plan", "plan_only", is_flag=True, help="Print what would be created, updated and deleted; change nothing.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the plan or the results as one JSON document on stdout.")
@click.option("--prune", is_flag=True,
              help="Also delete the workflows this tool deployed from these definitions whose DAG is gone.")
@click.option("--start", is_flag=True, help="Start one run of each workflow created or updated.")
@click.option("--name-prefix", default=None, metavar="PREFIX", help="Workflow name = PREFIX + dag id.")
@click.option("--subnet", "subnets", multiple=True, metavar="ID", help="Subnet of the workflows' tasks (repeatable).")
@click.option("--security-group", "security_groups", multiple=True, metavar="ID",
              help="Security group of the workflows' tasks (repeatable).")
@click.option("--log-group", default=None, metavar="NAME", help="CloudWatch Logs group of the workflows.")
@click.option("--kms-key", default=None, metavar="KEY",
              help="Customer managed KMS key; applied when a workflow is created (encryption cannot change).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag every workflow (repeatable).")
@click.option("--trigger-mode", default=None, help="TriggerMode of every workflow, passed as given.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="S3 endpoint.  [default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS's own]")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Read [tool.dag-converter.deploy] from this pyproject.toml instead of searching from here.")
def deploy(output: str, plan_only: bool, output_format: str, prune: bool, start: bool, endpoint_url: str | None,
           config_file: Path | None, **flags: Any) -> None:
    """Create or update one MWAA Serverless workflow per DAG that `convert` wrote to OUTPUT.

    A workflow whose definition and settings are unchanged since the last deploy is left alone,
    so running deploy again is safe. MWAA Serverless endpoint: AWS_ENDPOINT_URL_MWAA_SERVERLESS.
    """
    from dag_converter.deploy.run import run_deploy

    try:
        settings = make_settings(flags, read_config(config_file))
        if plan_only and start:
            raise UsageError("--start changes workflows; it cannot go with --plan")
    except UsageError as exc:
        _fail(str(exc))
    try:
        result = run_deploy(output, settings, plan_only=plan_only, prune=prune, start=start, endpoint_url=endpoint_url)
    except UsageError as exc:
        _fail(str(exc))
    _print(result, output_format, plan_only)
    sys.exit(EXIT_FAILED if result.failed else EXIT_OK)


def _print(result: Any, output_format: str, plan_only: bool) -> None:
    from dag_converter.report.concise import format_diagnostic
    from dag_converter.deploy.plan import render_plan
    from dag_converter.report import diagnostic_dict

    diagnostics = sorted(result.diagnostics, key=lambda d: d.sort_key())
    if output_format == "json":
        document: dict[str, Any] = {"plan": result.plan.as_dict()} if plan_only else \
            {"results": [o.as_dict() for o in result.outcomes]}
        if result.roles and not plan_only:
            document["roles"] = [{**step.as_dict(), "ok": ok} for step, ok in result.roles]
        document["diagnostics"] = [diagnostic_dict(d) for d in diagnostics]
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif plan_only:
        click.echo(render_plan(result.plan), nl=False)
    lines = [format_diagnostic(d) for d in diagnostics]
    if not plan_only:
        lines += [result.summary()]
    click.echo("\n".join(lines), err=True)


__all__ = ["deploy", "make_settings", "read_config"]
