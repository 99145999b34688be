"""Carry a plan out, one workflow at a time. A failing workflow becomes a diagnostic at its DAG's
source line and the next workflow goes on; nothing here prints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from dag_converter import codes
from dag_converter.deploy.plan import Action, Desired, Plan, Step
from dag_converter.deploy.service import Service, ServiceFailure
from dag_converter.deploy.upload import S3Ref
from dag_converter.model import Diagnostic, Span

#: what deploy --create-roles calls on IAM (a denial names the iam: action to grant)
IAM_OPERATIONS = frozenset({"GetRole", "GetRolePolicy", "CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"})
#: where the definition of a desired workflow is in S3, and whether this run uploaded it
Locate = Callable[[Desired], tuple[S3Ref, bool]]


@dataclass(frozen=True, slots=True)
class Outcome:
    step: Step
    ok: bool
    arn: str | None = None
    version: str | None = None  #: the WorkflowVersion created
    uploaded: bool = False
    run_id: str | None = None  #: with --start

    def as_dict(self) -> dict[str, object]:
        return {**self.step.as_dict(), "ok": self.ok, "arn": self.arn or self.step.arn, "version": self.version,
                "uploaded": self.uploaded, "run_id": self.run_id}


def apply_plan(plan: Plan, service: Service, locate: Locate, *, kms_key: str | None, start: bool,
               fallback: Span, locate_code: Locate | None = None) -> tuple[list[Outcome], list[Diagnostic]]:
    """`locate_code` places a workflow's code package in S3 (sent as `Code`) when its definition has one."""
    outcomes: list[Outcome] = []
    diagnostics: list[Diagnostic] = []
    for step in plan.steps:
        if step.action is Action.UNCHANGED:
            outcomes.append(Outcome(step, True, step.arn))
            continue
        span = step.span or fallback
        found: list[Diagnostic] = []
        try:
            outcome = _apply(step, service, locate, kms_key, start, span, found, locate_code)
        except ServiceFailure as failure:
            found.append(failure_diagnostic(failure, step.name, span))
            outcome = Outcome(step, False)
        outcomes.append(outcome)
        if outcome.ok:
            found.insert(0, codes.make(codes.WORKFLOW_DEPLOYED, span, name=step.name, done=_done(outcome)))
        diagnostics += found
    return outcomes, diagnostics


def _apply(step: Step, service: Service, locate: Locate, kms_key: str | None, start: bool, span: Span,
           found: list[Diagnostic], locate_code: Locate | None = None) -> Outcome:
    def call(operation: str, **params: object) -> dict:
        response = service.call(operation, **params)
        if service.throttled:
            found.append(codes.make(codes.RETRIED, span, operation=operation, name=step.name, count=service.throttled))
        for warning in response.get("Warnings") or ():
            found.append(codes.make(codes.SERVICE_WARNING, span, operation=operation, name=step.name, detail=warning))
        return response

    if step.action is Action.DELETE:
        call("DeleteWorkflow", WorkflowArn=step.arn)
        return Outcome(step, True, step.arn)
    want = step.desired
    assert want is not None
    if step.action is Action.UPDATE and not step.new_version:
        call("TagResource", ResourceArn=step.arn, Tags=dict(want.tags))
        return Outcome(step, True, step.arn)
    code: dict[str, object] = {}
    if want.definition.package is not None and locate_code is not None:
        # The package first: "the service copies the code from this location at the time of the request".
        code_where, code_uploaded = locate_code(want)
        code = {"Code": {"S3Location": code_where.member()}}
    else:
        code_uploaded = False
    where, uploaded = locate(want)
    uploaded = uploaded or code_uploaded
    token = uuid.uuid4().hex  # one per workflow and run: the same across this call's retries
    if step.action is Action.CREATE:
        params: dict[str, object] = {"Name": want.name, "DefinitionS3Location": where.member(), **code,
                                     **want.members, "Tags": dict(want.tags), "ClientToken": token}
        if kms_key:
            params["EncryptionConfiguration"] = {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": kms_key}
        response = call("CreateWorkflow", **params)
    else:
        response = call("UpdateWorkflow", WorkflowArn=step.arn, DefinitionS3Location=where.member(), **code,
                        **want.members)
        # UpdateWorkflow takes no Tags: the digests are written once the new version exists
        call("TagResource", ResourceArn=response["WorkflowArn"], Tags=dict(want.tags))
    arn, version = response["WorkflowArn"], response.get("WorkflowVersion")
    run_id = None
    if start:
        started = call("StartWorkflowRun", WorkflowArn=arn, ClientToken=token,
                       **({"WorkflowVersion": version} if version else {}))
        run_id = started.get("RunId")
    return Outcome(step, True, arn, version, uploaded, run_id)


def _done(outcome: Outcome) -> str:
    step = outcome.step
    version = f" (version {outcome.version})" if outcome.version else ""
    if step.action is Action.CREATE:
        text = f"created{version}"
    elif step.action is Action.DELETE:
        text = f"deleted: {', '.join(step.reasons)}"
    elif step.new_version:
        text = f"updated{version}: {', '.join(step.reasons)}"
    else:
        text = "retagged: tags changed"
    return text + (f"; run {outcome.run_id} started" if outcome.run_id else "")


def failure_diagnostic(failure: ServiceFailure, name: str, span: Span) -> Diagnostic:
    """The DC6xx diagnostic for a failed call."""
    code = failure.code
    if code == "ValidationException":
        fields = "; ".join(f"{n}: {m}" for n, m in failure.fields)
        detail = failure.message + (f" [{fields}]" if fields else "")
        hint = (f"fix {', '.join(n for n, _ in failure.fields)} and deploy again" if failure.fields
                else codes.SERVICE_VALIDATION.fix)
        return codes.make(codes.SERVICE_VALIDATION, span, operation=failure.operation, name=name,
                          reason=failure.reason or "invalid", detail=detail, hint=hint)
    if code == "ConflictException":
        return codes.make(codes.WORKFLOW_CONFLICT, span, operation=failure.operation, name=name,
                          resource=failure.resource or "another resource", detail=failure.message)
    if code in ("ThrottlingException", "InternalServerException"):
        return codes.make(codes.THROTTLED, span, operation=failure.operation, name=name, attempts=failure.attempts,
                          quota=failure.quota or "unknown")
    if code in ("AccessDeniedException", "AccessDenied", "403"):
        service = "s3" if failure.operation in ("PutObject", "GetObject", "HeadObject") else \
            "iam" if failure.operation in IAM_OPERATIONS else "sts" if failure.operation == "GetCallerIdentity" \
            else "airflow-serverless"
        return codes.make(codes.ACCESS_DENIED, span, operation=failure.operation, name=name,
                          detail=failure.message or code, action=f"{service}:{failure.operation}")
    return codes.make(codes.DEPLOY_FAILED, span, operation=failure.operation, name=name,
                      detail=f"{code}: {failure.message}",
                      hint="workflows already deployed are left as they are; run the same deploy again")


__all__ = ["Locate", "Outcome", "apply_plan", "failure_diagnostic"]
