"""One migration from start to end. Returns data; the command prints it.

1. Read the environment (GetEnvironment) and its Airflow's view of the DAGs (InvokeRestApi).
2. Convert its DAG folder from S3 into the local output folder (batch.run, the reports included) as
   `convert --code-package --iam` would: a DAG whose tasks run Python gets its code package, each
   converted DAG its role file, and the manifest lets a rerun skip the sources that did not change.
3. Per DAG: skip it when the environment cannot import its file, block it when convert refused it,
   else read its role file and plan the role with deploy's `Roles` (read-only), and plan the workflow
   deploy would create (paused in the source: the paused trigger mode; the environment's network, key,
   tags and secrets backend carried over; its code package as `Code`).
4. List the account's workflows and plan with deploy's `make_plan`; write the migration plan.
5. With apply: create or update the roles that need it, then carry deploy's plan out (`apply_plan`,
   which uploads the YAML and the package unless S3 has the same bytes); with pause_source, pause each
   source DAG whose workflow is now deployed and tag the workflow so that the next migration does not
   read the pause as the DAG's own state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dag_converter.deploy.apply import Outcome, apply_plan, failure_diagnostic
from dag_converter.deploy.inputs import ConvertedDag, Definition, read_definition
from dag_converter.deploy.names import TAG_SETTINGS, name_problem, workflow_name
from dag_converter.deploy.plan import Action, Desired, Existing, Plan, Settings, desired_workflow, digest, make_plan
from dag_converter.deploy.roles import RoleStep, Roles
from dag_converter.deploy.service import Service, ServiceFailure, make_s3, make_service
from dag_converter.deploy.upload import Folder, S3Ref, upload
from dag_converter.errors import UsageError
from dag_converter.migrate import adapters, source
from dag_converter.migrate.carry import Carried, carry, requirement_lines
from dag_converter.migrate.plan import PLAN_JSON, PLAN_MD, DagPlan, MigrationPlan, Status, render_json, render_markdown
from dag_converter.model import DagResult, Diagnostic, Span

#: the workflow tag written when --pause-source paused the DAG: its value is the environment's name
TAG_SOURCE_PAUSED: Final = "dag-converter:source-paused-by-migrate"
REQUIREMENTS_MAX: Final = 1024 * 1024
DEFAULT_PAUSED_MODE: Final = "DISABLED"
DEFAULT_ROLE_PREFIX: Final = "mwaa-serverless-"


@dataclass(frozen=True, slots=True)
class Options:
    environment: str
    output: str
    definitions: str | None = None
    apply: bool = False
    pause_source: bool = False
    name_prefix: str = ""
    role_prefix: str = DEFAULT_ROLE_PREFIX
    paused_trigger_mode: str = DEFAULT_PAUSED_MODE
    endpoint_url: str | None = None
    code_package: bool = True  #: convert with code packages (--no-code-package: such DAGs are blocked)
    force: bool = False  #: convert every DAG again, whatever the manifest says
    build_deps: bool = False  #: convert --build-deps: pip installs each package's requirements into it


@dataclass
class MigrateResult:
    plan: MigrationPlan | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    roles: list[tuple[str, str]] = field(default_factory=list)  #: (role name, created/updated/unchanged)
    paused: list[str] = field(default_factory=list)  #: source DAGs paused by this run
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  #: "error: ..." / "warning: ..." lines of this run
    conversion: str = ""  #: the convert run's summary

    @property
    def failed(self) -> bool:
        return any(line.startswith("error:") for line in self.lines) or \
            any(d.severity.value == "error" for d in self.diagnostics)


@dataclass
class _Candidate:
    entry: DagPlan
    dag: DagResult
    definition: Definition
    role: RoleStep


def run_migrate(options: Options) -> MigrateResult:
    """Plan (and with options.apply, carry out) the migration; UsageError before any change when the
    environment cannot be read or the output folder is unusable."""
    if options.output.startswith("s3://"):
        raise UsageError("--output must be a local folder (the plan and the converted YAML are written there)")
    result = MigrateResult()
    try:
        mwaa = source.make_mwaa(options.endpoint_url)
        environment = source.get_environment(mwaa, options.environment)
        state = source.airflow_state(mwaa, options.environment)
    except ImportError as exc:
        raise UsageError('migrate needs boto3 >= 1.44: pip install "dag-converter[s3]"') from exc
    except (ServiceFailure, ValueError) as exc:
        raise UsageError(f"cannot read environment {options.environment!r}: {exc}") from exc
    definitions = options.definitions or f"s3://{environment.bucket}/dag-converter/{environment.name}/"
    try:
        folder = Folder.parse(definitions)
    except ValueError as exc:
        raise UsageError(f"--definitions: {exc}") from exc
    carried = carry(environment)
    plan = MigrationPlan(environment.name, environment.arn, environment.airflow_version, environment.dags_url,
                         environment.execution_role, folder.url, carried.subnets, carried.security_groups,
                         carried.kms_key, carried.tags, tuple(n for n, _ in carried.variables), carried.not_carried,
                         problems=carried.problems)
    try:
        s3 = make_s3(options.endpoint_url)
        service = make_service(options.endpoint_url)
    except Exception as exc:  # botocore's NoRegionError and kin: a setup problem
        raise UsageError(f"cannot make the S3 and MWAA Serverless clients: {exc}") from exc
    plan.requirements, requirements_text = _requirements(s3, environment)
    if environment.plugins:
        plan.plugins = {"path": f"s3://{environment.bucket}/{environment.plugins.key}",
                        "version": environment.plugins.version}
    pins = None  # the environment's requirements file pins the code packages' requirements (convert --requirements)
    if plan.requirements is not None and requirements_text is not None:
        pins = (str(plan.requirements["path"]), requirements_text)
    converted = _convert(environment, options, folder, carried, pins)
    result.conversion = converted[1]
    try:
        roles = adapters.make_roles(options.endpoint_url, environment.place())
        listing = {w["Name"]: w for w in service.workflows() if w.get("Name")}
    except ServiceFailure as failure:
        raise UsageError(f"cannot list the MWAA Serverless workflows: {failure}") from failure
    except Exception as exc:  # botocore's NoRegionError and kin: a setup problem
        raise UsageError(f"cannot make the IAM client: {exc}") from exc
    candidates, desired, existing = _entries(converted[0], environment, state, carried, options, folder, plan, service,
                                             roles, listing, result)
    deploy_plan = make_plan(desired, existing)
    steps = {step.name: step for step in deploy_plan.steps}
    for candidate in candidates:
        step = steps[candidate.entry.workflow or ""]
        candidate.entry.action = step.action.value
        candidate.entry.reasons = step.reasons
    plan.dags.sort(key=lambda d: (d.source, d.line, d.dag_id))
    result.plan = plan
    _write(Path(options.output), plan, result)
    if not options.apply or plan.problems:
        if options.apply:
            result.lines.append("error: nothing deployed: the plan lists problems of the environment's settings")
        return result
    _apply(options, environment, carried, candidates, deploy_plan, service, roles, s3, folder, mwaa, state, result)
    return result


def _requirements(s3: Any, environment: source.Environment) -> tuple[dict[str, Any] | None, str | None]:
    """The plan's view of the environment's requirements file, and its text (None when it has none or
    it cannot be read): convert pins the code packages' requirements with it."""
    found = environment.requirements
    if found is None:
        return None, None
    text: str | None = None
    info: dict[str, Any] = {"path": f"s3://{environment.bucket}/{found.key}", "version": found.version, "packages": []}
    try:
        extra = {"VersionId": found.version} if found.version else {}
        response = s3.get_object(Bucket=environment.bucket, Key=found.key, Range=f"bytes=0-{REQUIREMENTS_MAX - 1}",
                                 **extra)
        text = response["Body"].read().decode("utf-8", "replace")
        info["packages"] = list(requirement_lines(text))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded in the plan, the migration goes on
        info["problem"] = f"not read: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        text = None
    return info, text


def _convert(environment: source.Environment, options: Options, folder: Folder, carried: Carried,
             requirements: tuple[str, str] | None) -> tuple[list[tuple[str, DagResult]], str]:
    """Convert the DAG folder from S3 as `convert --code-package --iam --requirements` does, the roles
    reading the definitions and packages where --apply puts them, the packages' requirements pinned by
    the environment's requirements file (`requirements`: its S3 path and text): (relative source path,
    DAG result) per DAG, and the summary. A source the manifest knows unchanged (same object, same settings) is not converted
    again: its YAML, package and role file are in the output already."""
    from dag_converter.batch import RunConfig, run
    from dag_converter.config import DEFAULT_TARGET, RoleSettings, code_package_target

    partition, region, account = environment.place()
    roles = RoleSettings(account=account, region=region, partition=partition, definition_bucket=folder.bucket,
                         definition_prefix=folder.prefix, kms_key=carried.kms_key)
    plugins = environment.plugins  # its modules are read and shipped as convert --plugins does
    config = RunConfig(paths=(environment.dags_url,), output=options.output, endpoint_url=options.endpoint_url,
                       target=code_package_target(DEFAULT_TARGET, options.code_package), force=options.force,
                       iam=roles, requirements=requirements, build_deps=options.build_deps and options.code_package,
                       plugins=f"s3://{environment.bucket}/{plugins.key}" if plugins else None,
                       plugins_version=plugins.version if plugins else None)
    converted = run(config)
    found: list[tuple[str, DagResult]] = []
    base = environment.dags_url
    for file in converted.results:
        relative = file.path[len(base):] if file.path.startswith(base) else file.path
        found += [(relative, dag) for dag in file.dags]
    dags = [dag for _, dag in found]
    summary = (f"{len(converted.results)} files, {len(dags)} DAGs: {sum(d.converted for d in dags)} converted, "
               f"{sum(not d.converted for d in dags)} refused; {converted.skipped} files unchanged since the last "
               f"run (not converted again); YAML and reports in {options.output}")
    for problem in converted.problems:
        summary += f"\n{problem}"
    return found, summary


def _entries(converted: list[tuple[str, DagResult]], environment: source.Environment, state: source.AirflowState,
             carried: Carried, options: Options, folder: Folder, plan: MigrationPlan, service: Service,
             roles: Roles, listing: dict[str, dict[str, Any]], result: MigrateResult
             ) -> tuple[list[_Candidate], list[Desired], dict[str, Existing]]:
    output = Path(options.output)
    requirements = plan.requirements
    pins = requirements.get("packages") if requirements is not None and "problem" not in requirements else None

    def read(name: str) -> bytes:
        """A file convert wrote below the output folder (the manifest names it: kept below)."""
        parts = name.replace("\\", "/").split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise OSError(f"{name!r} is not a path below the output folder")
        return (output / name).read_bytes()
    candidates: list[_Candidate] = []
    desired: list[Desired] = []
    existing: dict[str, Existing] = {}
    for relative, dag in converted:
        span = dag.workflow.span
        entry = DagPlan(dag.dag_id, relative, span.line, Status.MIGRATE, source_paused=state.paused.get(dag.dag_id))
        plan.dags.append(entry)
        broken = state.import_error_for(relative)
        if broken is not None:
            entry.status, entry.reasons = Status.SKIPPED, (f"the environment cannot import {relative}: {broken.reason}",)
            entry.next_step = "fix the import error in the environment first, then migrate again"
            continue
        if not dag.converted:
            entry.status = Status.BLOCKED
            package = adapters.needs_code_package(dag)
            if package and not options.code_package:
                entry.reasons = ("its Python code needs a code package", *package)
                entry.next_step = "migrate without --no-code-package, or move the code to an AWS operator"
            else:
                errors = [f"{d.code} {d.message}" for d in dag.diagnostics if d.severity.value == "error"]
                entry.reasons = tuple(errors[:5]) or ("refused by convert",)
                entry.next_step = "fix the findings listed in conversion-report.md, then migrate again"
            continue
        name = workflow_name(options.name_prefix, dag.dag_id)
        problem = name_problem(name)
        if problem:
            entry.status, entry.reasons = Status.BLOCKED, (f"workflow name {name!r}: {problem}",)
            entry.next_step = "rename the DAG or choose a --name-prefix"
            continue
        entry.workflow = name
        yaml_name = dag.output_name or ""
        package = dag.code_package
        try:
            definition = read_definition(ConvertedDag(dag.dag_id, span, yaml_name,
                                                      package.name if package is not None else None), read)
        except OSError as exc:
            entry.status, entry.reasons = Status.BLOCKED, (f"cannot read the converted output: {exc.strerror or exc}",)
            entry.next_step = "run migrate again with --force (it converts every DAG again)"
            continue
        if package is not None and definition.package is not None:
            entry.code_package = adapters.package_plan(package, definition.package, folder.url + package.name,
                                                       pins).as_dict()
        entry.schedule = _schedule(definition)
        entry.definition = folder.url + yaml_name
        summary = listing.get(name)
        have: Existing | None = None
        if summary is not None:
            try:
                have = Existing(name, summary["WorkflowArn"], service.tags(summary["WorkflowArn"]))
            except ServiceFailure as failure:
                result.diagnostics.append(failure_diagnostic(failure, name, span))
                entry.status, entry.reasons = Status.BLOCKED, (str(failure),)
                entry.next_step = "run migrate again"
                continue
        if have is not None and carried.kms_key:
            entry.notes += _encryption_note(service, have, carried.kms_key)
        paused = bool(entry.source_paused)
        if paused and have is not None and have.tags.get(TAG_SOURCE_PAUSED) == environment.name:
            paused = False
            entry.notes += ("paused in the source by an earlier migrate --pause-source: the workflow stays scheduled",)
        if entry.source_paused is None:
            entry.notes += ("the environment's Airflow does not list this DAG: it is migrated as scheduled",)
        entry.trigger_mode = options.paused_trigger_mode if paused else None
        try:
            wanted = adapters.wanted_role(dag, adapters.role_name(options.role_prefix, dag.dag_id), name, read)
            role = roles.plan(wanted)
        except (OSError, ValueError) as exc:
            entry.status, entry.reasons = Status.BLOCKED, (f"no role file: {exc}"[:300],)
            entry.next_step = "run migrate again with --force (it converts every DAG again)"
            continue
        except ServiceFailure as failure:
            result.diagnostics.append(failure_diagnostic(failure, name, span))
            entry.status, entry.reasons = Status.BLOCKED, (str(failure),)
            entry.next_step = "run migrate again"
            continue
        entry.role_name, entry.role_arn, entry.role_action = wanted.name, role.arn, role.action.value
        entry.role_actions = len({a for s in wanted.policy.get("Statement", ()) for a in _actions(s)})
        entry.notes += tuple(f"{d.code} {d.message}" for d in dag.diagnostics if d.code.startswith("DC51"))
        settings = Settings(role_arn=role.arn, name_prefix=options.name_prefix, subnets=carried.subnets,
                            security_groups=carried.security_groups, kms_key=carried.kms_key, tags=carried.tags,
                            trigger_mode=entry.trigger_mode)
        want = desired_workflow(name, definition, settings, folder.url)
        if carried.variables:
            members = {**want.members, "Environment": {"Variables": dict(carried.variables)}}
            want = Desired(name, definition, members, {**want.tags, TAG_SETTINGS: digest(members)})
        desired.append(want)
        if have is not None:
            existing[name] = have
        candidates.append(_Candidate(entry, dag, definition, role))
    return candidates, desired, existing


def _encryption_note(service: Service, have: Existing, kms_key: str) -> tuple[str, ...]:
    """A note when an existing workflow is not encrypted with the environment's key (set at creation only)."""
    try:
        current = service.call("GetWorkflow", WorkflowArn=have.arn).get("EncryptionConfiguration") or {}
    except ServiceFailure as failure:
        return (f"encryption not checked: {failure}",)
    if current.get("KmsKeyId") == kms_key:
        return ()
    shown = current.get("KmsKeyId") or current.get("Type") or "the service's default key"
    return (f"the workflow is encrypted with {shown}, not the environment's key {kms_key}; encryption cannot "
            "change: delete the workflow and migrate again to use the environment's key",)


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _schedule(definition: Definition) -> str | None:
    import yaml

    try:
        document = yaml.safe_load(definition.data)
    except yaml.YAMLError:
        return None
    body = document.get(definition.dag.dag_id) if isinstance(document, dict) else None
    value = body.get("schedule") if isinstance(body, dict) else None
    return None if value is None else str(value)


def _write(output: Path, plan: MigrationPlan, result: MigrateResult) -> None:
    for name, text in ((PLAN_MD, render_markdown(plan)), (PLAN_JSON, render_json(plan))):
        target = output / name
        try:
            output.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        except OSError as exc:
            result.lines.append(f"error: {target}: cannot write: {exc.strerror or exc}")


def _apply(options: Options, environment: source.Environment, carried: Carried, candidates: list[_Candidate],
           deploy_plan: Plan, service: Service, roles: Roles, s3: Any, folder: Folder, mwaa: Any,
           state: source.AirflowState, result: MigrateResult) -> None:
    ready: set[str] = set()
    for candidate in candidates:
        step = candidate.role
        if step.action is not Action.UNCHANGED:
            try:
                roles.apply(step)
            except ServiceFailure as failure:
                result.lines.append(f"error: role {step.role.name} for {candidate.entry.dag_id}: {failure}; "
                                    "its workflow is not deployed")
                continue
        done = {Action.CREATE: "created", Action.UPDATE: "updated"}.get(step.action, "unchanged")
        result.roles.append((step.role.name, done))
        ready.add(candidate.entry.workflow or "")
    by_name = {c.entry.workflow: c for c in candidates}

    def locate(want: Desired) -> tuple[S3Ref, bool]:
        name = want.definition.dag.yaml_name or ""
        return upload(s3, folder, name, want.definition.data, want.definition.sha256)

    def locate_code(want: Desired) -> tuple[S3Ref, bool]:
        definition = want.definition
        assert definition.package is not None and definition.package_sha256 is not None
        return upload(s3, folder, definition.dag.package_name or "", definition.package, definition.package_sha256,
                      content_type="application/zip")

    steps = Plan(tuple(s for s in deploy_plan.steps if s.name in ready))
    result.outcomes, found = apply_plan(steps, service, locate, kms_key=carried.kms_key, start=False,
                                        fallback=Span(str(Path(options.output) / PLAN_MD)), locate_code=locate_code)
    result.diagnostics += found
    if not options.pause_source:
        return
    for outcome in result.outcomes:
        candidate = by_name.get(outcome.step.name)
        if not outcome.ok or candidate is None or outcome.step.action is Action.DELETE:
            continue
        dag_id = candidate.entry.dag_id
        if state.paused.get(dag_id) is not False:
            continue  # paused already, or unknown to the environment's Airflow: nothing to pause
        try:
            source.pause_dag(mwaa, environment.name, dag_id)
            if outcome.arn:
                service.call("TagResource", ResourceArn=outcome.arn, Tags={TAG_SOURCE_PAUSED: environment.name})
        except ServiceFailure as failure:
            result.lines.append(f"error: could not pause {dag_id} in {environment.name}: {failure}")
            continue
        result.paused.append(dag_id)


__all__ = ["DEFAULT_PAUSED_MODE", "DEFAULT_ROLE_PREFIX", "MigrateResult", "Options", "TAG_SOURCE_PAUSED",
           "run_migrate"]
