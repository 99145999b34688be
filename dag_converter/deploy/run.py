"""One deploy from start to end: read the output folder, check every name and definition, list
the account's workflows, plan, and (unless --plan) apply. Returns data; the command prints it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dag_converter import codes
from dag_converter.deploy.apply import Outcome, apply_plan, failure_diagnostic
from dag_converter.errors import UsageError
from dag_converter.deploy.inputs import MANIFEST_FILE, ConvertedDag, InputError, converted_dags, read_definition
from dag_converter.deploy.names import TAG_KEY_MAX, TAG_SCOPE, TAG_VALUE_MAX, TAGS_MAX, name_problem, workflow_name
from dag_converter.deploy.plan import Action, Desired, Existing, Plan, Settings, desired_workflow, make_plan
from dag_converter.deploy.roles import RoleStep, Roles, WantedRole, make_roles, read_role_file, role_name
from dag_converter.deploy.service import Service, ServiceFailure, make_s3, make_service
from dag_converter.deploy.upload import Folder, S3Ref, read_object, upload
from dag_converter.model import Diagnostic, Severity, Span

INSTALL_HINT = 'deploy needs boto3 >= 1.44: pip install "dag-converter[s3]"'


@dataclass
class DeployResult:
    plan: Plan = field(default_factory=Plan)
    outcomes: list[Outcome] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    roles: list[tuple[RoleStep, bool]] = field(default_factory=list)  #: --create-roles: (step, applied ok)

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def summary(self) -> str:
        """One line of counts; what happened to each workflow is in the diagnostics (DC612 and the errors)."""
        count = {a: sum(1 for o in self.outcomes if o.ok and o.step.action is a) for a in Action}
        failed = sum(1 for o in self.outcomes if not o.ok)
        refused = len({d.span for d in self.diagnostics if d.code in ("DC601", "DC608", "DC609")})
        refused += len({d.span for d in self.diagnostics if d.code == "DC613"})
        uploads = sum(1 for o in self.outcomes if o.uploaded)
        line = (f"{count[Action.CREATE]} created, {count[Action.UPDATE]} updated, "
                f"{count[Action.UNCHANGED]} unchanged, {count[Action.DELETE]} deleted, {failed} failed, "
                f"{refused} refused; {uploads} definitions uploaded.")
        if self.roles:
            done = {a: sum(1 for s, ok in self.roles if ok and s.action is a) for a in Action}
            line += (f" Roles: {done[Action.CREATE]} created, {done[Action.UPDATE]} updated, "
                     f"{done[Action.UNCHANGED]} unchanged, {sum(1 for _, ok in self.roles if not ok)} failed.")
        return line


@dataclass
class _Output:
    """The output folder `convert` wrote: local, or s3:// (then its YAML is deployed where it is)."""

    definitions: Folder  #: where the workflows' definitions live in S3
    manifest: Span  #: the manifest's path, for findings about the whole run
    read: Callable[[str], bytes]  #: the bytes of a YAML below the folder; OSError when unreadable
    versions: dict[str, S3Ref] = field(default_factory=dict)  #: s3:// output: where each YAML read is


def _safe(name: str) -> str:
    """A YAML name from the manifest, kept below the output folder whatever the manifest says."""
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OSError(f"{name!r} is not a path below the output folder")
    return name


def _open_output(output: str, settings: Settings, endpoint_url: str | None) -> tuple[_Output, str]:
    """The output folder and its manifest's text; UsageError when there is nothing to deploy."""
    if output.startswith("s3://"):
        folder = Folder.parse(output)
        if settings.definitions and Folder.parse(settings.definitions) != folder:
            raise UsageError("--definitions is for a local OUTPUT; the YAML of an s3:// OUTPUT is deployed where it is")
        try:
            s3 = make_s3(endpoint_url)
        except ImportError as exc:
            raise UsageError(INSTALL_HINT) from exc
        versions: dict[str, S3Ref] = {}

        def read_s3(name: str) -> bytes:
            data, where = read_object(s3, folder, _safe(name))
            versions[name] = where
            return data
        opened = _Output(folder, Span(folder.url + MANIFEST_FILE), read_s3, versions)
        try:
            return opened, read_object(s3, folder, MANIFEST_FILE)[0].decode("utf-8", "replace")
        except OSError as exc:
            raise UsageError(f"cannot read {opened.manifest.path}: {exc}") from exc
    if not settings.definitions:
        raise UsageError("--definitions s3://BUCKET/PREFIX/ is required when OUTPUT is a local folder")
    try:
        folder = Folder.parse(settings.definitions)
    except ValueError as exc:
        raise UsageError(f"--definitions: {exc}") from exc
    root = Path(output)
    opened = _Output(folder, Span(str(root / MANIFEST_FILE)), lambda name: (root / _safe(name)).read_bytes())
    try:
        return opened, (root / MANIFEST_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {opened.manifest.path}: {exc}; run dag-converter convert first") from exc


def _wanted_roles(dags: list[ConvertedDag], settings: Settings, opened: _Output,
                  diagnostics: list[Diagnostic]) -> list[WantedRole]:
    """--create-roles: each converted DAG's role from its <dag_id>.iam.json; a DAG whose file is
    missing or whose role name IAM would refuse is refused here, before any call."""
    from dag_converter.batch.roles import role_name as role_file
    from dag_converter.deploy.roles import name_problem

    assert settings.role_template is not None
    wanted = []
    for dag in dags:
        if dag.yaml_name is None:
            continue
        workflow = workflow_name(settings.name_prefix, dag.dag_id)
        name = role_name(settings.role_template, dag.dag_id)
        problem = name_problem(name)
        if problem:
            diagnostics.append(codes.make(codes.WORKFLOW_SETTING_INVALID, dag.span, dag_id=dag.dag_id,
                                          detail=f"role name {name!r} from --role-name-template: {problem}",
                                          hint="shorten the DAG id or the --role-name-template"))
            continue
        file = role_file(dag.dag_id, dag.yaml_name)
        try:
            trust, policy = read_role_file(opened.read(file))
        except OSError as exc:
            diagnostics.append(codes.make(codes.ROLE_FILE_MISSING, dag.span, dag_id=dag.dag_id, file=file,
                                          detail=exc.strerror or str(exc)))
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            diagnostics.append(codes.make(codes.ROLE_FILE_MISSING, dag.span, dag_id=dag.dag_id, file=file,
                                          detail=f"not a role document: {exc}"[:300]))
            continue
        wanted.append(WantedRole(name, dag.dag_id, workflow, file, dag.span, trust, policy))
    return wanted


def _plan_roles(roles: Roles, wanted: list[WantedRole], diagnostics: list[Diagnostic]) -> list[RoleStep]:
    """Read-only: what each role needs (GetRole, GetRolePolicy, GetCallerIdentity)."""
    steps = []
    for role in wanted:
        try:
            steps.append(roles.plan(role))
        except ServiceFailure as failure:
            diagnostics.append(failure_diagnostic(failure, role.workflow, role.span))
    return steps


def _apply_roles(roles: Roles, steps: tuple[RoleStep, ...], result: DeployResult) -> set[str]:
    """Create or update the roles that need it; the dag ids whose role failed (their workflows wait)."""
    failed = set()
    for step in steps:
        if step.action is Action.UNCHANGED:
            result.roles.append((step, True))
            continue
        try:
            roles.apply(step)
        except ServiceFailure as failure:
            result.diagnostics.append(failure_diagnostic(failure, step.role.workflow, step.role.span))
            result.roles.append((step, False))
            failed.add(step.role.dag_id)
            continue
        done = "created" if step.action is Action.CREATE else f"updated: {', '.join(step.reasons)}"
        result.diagnostics.append(codes.make(codes.ROLE_DEPLOYED, step.role.span, name=step.role.name,
                                             workflow=step.role.workflow, done=done))
        result.roles.append((step, True))
    return failed


def _desired(dags: list[ConvertedDag], settings: Settings, opened: _Output,
             diagnostics: list[Diagnostic], role_arns: dict[str, str] | None = None) -> tuple[list[Desired], set[str]]:
    """The workflows the converted DAGs ask for, and the names of every DAG of the manifest
    (a refused DAG's workflow is never pruned). Every check here comes before any call.
    `role_arns` (--create-roles): each DAG's own role; a DAG without one was refused already."""
    desired: list[Desired] = []
    keep: set[str] = set()
    for dag in dags:
        name = workflow_name(settings.name_prefix, dag.dag_id)
        keep.add(name)
        if dag.yaml_name is None:
            continue  # refused by convert: its report says why
        if role_arns is not None and dag.dag_id not in role_arns:
            continue  # no role: _wanted_roles or the role's planning said why
        problem = name_problem(name)
        if problem:
            diagnostics.append(codes.make(codes.WORKFLOW_NAME_INVALID, dag.span, dag_id=dag.dag_id, name=name,
                                          reason=problem))
            continue
        try:
            definition = read_definition(dag, opened.read)
        except OSError as exc:
            diagnostics.append(codes.make(codes.DEFINITION_UNREADABLE, dag.span, dag_id=dag.dag_id,
                                          file=dag.yaml_name, detail=exc.strerror or str(exc)))
            continue
        own = settings if role_arns is None else dataclasses.replace(settings, role_arn=role_arns[dag.dag_id])
        want = desired_workflow(name, definition, own, opened.definitions.url)
        problem = _tags_problem(want)
        if problem:
            diagnostics.append(codes.make(codes.WORKFLOW_SETTING_INVALID, dag.span, dag_id=dag.dag_id,
                                          detail=problem, hint=codes.WORKFLOW_SETTING_INVALID.fix))
            continue
        desired.append(want)
    return desired, keep


def _discover(service: Service, desired: list[Desired], keep: set[str], *, prune: bool, prefix: str,
              kms_key: str | None, opened: _Output, diagnostics: list[Diagnostic]) -> Plan | None:
    """Read the account (ListWorkflows, ListTagsForResource only) and plan; None when it cannot be listed."""
    try:
        listing = {w["Name"]: w for w in service.workflows() if w.get("Name")}
    except ServiceFailure as failure:
        diagnostics.append(failure_diagnostic(failure, "(all)", opened.manifest))
        return None
    existing: dict[str, Existing] = {}
    found: list[Desired] = []
    for want in desired:
        summary = listing.get(want.name)
        if summary is not None:
            try:
                existing[want.name] = Existing(want.name, summary["WorkflowArn"], service.tags(summary["WorkflowArn"]))
            except ServiceFailure as failure:
                diagnostics.append(failure_diagnostic(failure, want.name, want.span))
                continue
        found.append(want)
    if kms_key:
        for want in found:
            if want.name in existing:
                _check_encryption(service, existing[want.name], want, kms_key, diagnostics)
    prunable: list[Existing] = []
    for name, summary in sorted(listing.items()) if prune else ():
        if name in keep or not name.startswith(prefix) or summary.get("WorkflowStatus") == "DELETING":
            continue
        try:
            tags = service.tags(summary["WorkflowArn"])
        except ServiceFailure as failure:
            diagnostics.append(failure_diagnostic(failure, name, opened.manifest))
            continue
        if tags.get(TAG_SCOPE) == opened.definitions.url:  # deployed by this tool from these definitions
            prunable.append(Existing(name, summary["WorkflowArn"], tags))
    return make_plan(found, existing, prunable)


def run_deploy(output: str, settings: Settings, *, plan_only: bool, prune: bool, start: bool,
               endpoint_url: str | None) -> DeployResult:
    """Plan (and unless `plan_only`, apply) the deploy of OUTPUT; UsageError before any call when
    the output folder or the setup is unusable."""
    result = DeployResult()
    opened, manifest_text = _open_output(output, settings, endpoint_url)
    try:
        dags = converted_dags(manifest_text)
    except InputError as exc:
        raise UsageError(f"{opened.manifest.path}: {exc}") from exc
    roles: Roles | None = None
    role_steps: list[RoleStep] = []
    if settings.role_template is not None:
        wanted = _wanted_roles(dags, settings, opened, result.diagnostics)
        try:
            roles = make_roles()
        except ImportError as exc:
            raise UsageError(INSTALL_HINT) from exc
        except Exception as exc:  # botocore's NoRegionError and kin
            raise UsageError(f"cannot make an IAM client: {exc}") from exc
        role_steps = _plan_roles(roles, wanted, result.diagnostics)
    role_arns = {s.role.dag_id: s.arn for s in role_steps} if roles is not None else None
    desired, keep = _desired(dags, settings, opened, result.diagnostics, role_arns)
    try:
        service = make_service()
    except ImportError as exc:
        raise UsageError(INSTALL_HINT) from exc
    except Exception as exc:  # botocore's NoRegionError and kin: a setup problem, not a workflow's
        raise UsageError(f"cannot make an MWAA Serverless client: {exc}") from exc
    plan = _discover(service, desired, keep, prune=prune, prefix=settings.name_prefix, kms_key=settings.kms_key,
                     opened=opened, diagnostics=result.diagnostics)
    if plan is None:
        return result
    planned = {s.desired.definition.dag.dag_id for s in plan.steps if s.desired is not None}
    plan = dataclasses.replace(plan, roles=tuple(s for s in role_steps if s.role.dag_id in planned))
    result.plan = plan
    if plan_only:
        return result
    if roles is not None:
        failed = _apply_roles(roles, plan.roles, result)
        if failed:  # a workflow whose role could not be made waits for the next deploy
            plan = dataclasses.replace(plan, steps=tuple(
                s for s in plan.steps if s.desired is None or s.desired.definition.dag.dag_id not in failed))
    s3 = None

    def locate(want: Desired) -> tuple[S3Ref, bool]:
        nonlocal s3
        name = want.definition.dag.yaml_name or ""
        if name in opened.versions:
            return opened.versions[name], False
        if s3 is None:
            s3 = make_s3(endpoint_url)
        return upload(s3, opened.definitions, name, want.definition.data, want.definition.sha256)

    def locate_code(want: Desired) -> tuple[S3Ref, bool]:
        """The code package beside the YAML: where the output holds it, or uploaded like the YAML."""
        nonlocal s3
        definition = want.definition
        name = definition.dag.package_name or ""
        assert definition.package is not None and definition.package_sha256 is not None
        if name in opened.versions:
            return opened.versions[name], False
        if s3 is None:
            s3 = make_s3(endpoint_url)
        return upload(s3, opened.definitions, name, definition.package, definition.package_sha256,
                      content_type="application/zip")

    result.outcomes, found = apply_plan(plan, service, locate, kms_key=settings.kms_key, start=start,
                                        fallback=opened.manifest, locate_code=locate_code)
    result.diagnostics += found
    return result


def _check_encryption(service: Service, have: Existing, want: Desired, kms_key: str,
                      diagnostics: list[Diagnostic]) -> None:
    """A warning when an existing workflow is not on --kms-key: encryption is set at creation only."""
    try:
        current = service.call("GetWorkflow", WorkflowArn=have.arn).get("EncryptionConfiguration") or {}
    except ServiceFailure as failure:
        diagnostics.append(failure_diagnostic(failure, want.name, want.span))
        return
    if current.get("KmsKeyId") != kms_key:
        shown = current.get("KmsKeyId") or current.get("Type") or "the service's default key"
        diagnostics.append(codes.make(codes.ENCRYPTION_UNCHANGED, want.span, name=want.name, current=shown,
                                      wanted=kms_key))


def _tags_problem(want: Desired) -> str | None:
    if len(want.tags) > TAGS_MAX:
        return f"{len(want.tags)} tags (its DAG tags, --tag and dag-converter's 3); a workflow takes at most {TAGS_MAX}"
    for key, value in want.tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX or key.startswith("aws:"):
            return f"tag {key[:40]!r} is not a valid workflow tag (key 1-{TAG_KEY_MAX} characters, not aws:*)"
    return None


__all__ = ["DeployResult", "run_deploy"]
