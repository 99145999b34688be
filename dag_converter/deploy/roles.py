"""`deploy --create-roles`: one execution role per workflow, from the ``<dag_id>.iam.json`` that
`convert --iam` wrote beside the DAG's YAML (after the user's review).

The role's name comes from `--role-name-template` (``{dag_id}`` is the DAG's id), checked against
IAM's RoleName shape (botocore's model) before any call. Planning reads only (GetRole,
GetRolePolicy, and STS GetCallerIdentity for the ARN of a role still to create): a role whose
trust and inline policy have the digest of the file is left alone, so a rerun with nothing
changed makes no mutating IAM call. Applying goes through `iam.create_or_update_role`. The IAM
endpoint follows boto3: AWS_ENDPOINT_URL_IAM, then AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

from dag_converter.deploy.plan import Action
from dag_converter.deploy.service import ServiceFailure
from dag_converter.model import Span

DEFAULT_TEMPLATE: Final = "dag-converter-{dag_id}"
FIELDS: Final = ("dag_id",)  #: what a template may name
MUTATING: Final = frozenset({"CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"})  #: what apply may call


def name_problem(name: str) -> str | None:
    """Why IAM refuses ``name`` as a RoleName (its length and pattern in botocore's model), or None."""
    from botocore.loaders import Loader

    shape = Loader().load_service_model("iam", "service-2")["shapes"]["roleNameType"]
    if not shape.get("min", 1) <= len(name) <= shape.get("max", 64):
        return f"{len(name)} characters; an IAM role name takes {shape.get('min', 1)} to {shape.get('max', 64)}"
    if not re.fullmatch(shape["pattern"], name):
        return f"an IAM role name holds only letters, digits and _+=,.@- (pattern {shape['pattern']})"
    return None


def template_problem(template: str) -> str | None:
    """Why `template` cannot name roles: a field other than {dag_id}, none at all (every workflow
    would share one role), or a result that is no role name."""
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
        specs = [(spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"not a template: {exc}"
    if any(f not in FIELDS for f in fields) or any(spec or conv for spec, conv in specs):
        return "the only field a template takes is {dag_id}"
    if "dag_id" not in fields:
        return "it must contain {dag_id}: each workflow gets its own role"
    return name_problem(template.format(dag_id="x"))


def role_name(template: str, dag_id: str) -> str:
    return template.format(dag_id=dag_id)


@dataclass(frozen=True, slots=True)
class WantedRole:
    """A workflow's role as its file asks for it."""

    name: str
    dag_id: str
    workflow: str  #: the workflow's name, for messages
    file: str
    span: Span
    trust: dict[str, Any]
    policy: dict[str, Any]

    @property
    def digest(self) -> str:
        return documents_digest(self.trust, self.policy)


def _decoded(value: Any) -> Any:
    """IAM returns a policy document as URL-encoded JSON text (boto3 may decode it): a dict either way."""
    return json.loads(unquote(value)) if isinstance(value, str) else value


def documents_digest(trust: Any, policy: Any) -> str:
    text = json.dumps({"trust": trust, "policy": policy}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_role_file(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trust policy, permissions policy) of a ``<dag_id>.iam.json``; ValueError when it is not one."""
    document = json.loads(data.decode("utf-8"))
    trust = document.get("trust_policy") if isinstance(document, dict) else None
    policy = document.get("permissions_policy") if isinstance(document, dict) else None
    if not isinstance(trust, dict) or not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        raise ValueError("no trust_policy and permissions_policy objects")
    return trust, policy


@dataclass(frozen=True, slots=True)
class RoleStep:
    action: Action  #: CREATE, UPDATE or UNCHANGED
    role: WantedRole
    arn: str
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"action": self.action.value, "role": self.role.name, "arn": self.arn, "dag_id": self.role.dag_id,
                "workflow": self.role.workflow, "file": self.role.file, "digest": self.role.digest,
                "source": self.role.span.path, "line": self.role.span.line, "reasons": list(self.reasons)}


class Roles:
    """The IAM side of a deploy: read-only planning, then `apply` of one step."""

    def __init__(self, client: Any, sts: Any, *, caller: tuple[str, str] | None = None) -> None:
        """`caller`: (partition, account) when the caller knows them (migrate: the environment's
        ARN); None asks STS GetCallerIdentity once, when a role still to create needs its ARN."""
        self.client = client
        self.sts = sts
        self._account: tuple[str, str] | None = caller  #: (partition, account) of the caller

    def _call(self, client: Any, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(client, re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower())
        try:
            return method(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ServiceFailure(operation, str(error.get("Code", "Unknown")), str(error.get("Message", ""))) from exc
        except BotoCoreError as exc:
            raise ServiceFailure(operation, type(exc).__name__, str(exc)) from exc

    def plan(self, role: WantedRole) -> RoleStep:
        """What applying `role` would do; raises ServiceFailure."""
        from dag_converter.iam.roles import POLICY_NAME

        try:
            have = self._call(self.client, "GetRole", RoleName=role.name)["Role"]
        except ServiceFailure as failure:
            if failure.code != "NoSuchEntity":
                raise
            return RoleStep(Action.CREATE, role, self._arn(role.name))
        try:
            current = _decoded(self._call(self.client, "GetRolePolicy", RoleName=role.name,
                                           PolicyName=POLICY_NAME)["PolicyDocument"])
        except ServiceFailure as failure:
            if failure.code != "NoSuchEntity":
                raise
            current = None
        trust = _decoded(have.get("AssumeRolePolicyDocument"))
        if documents_digest(trust, current) == role.digest:
            return RoleStep(Action.UNCHANGED, role, have["Arn"])
        reasons = tuple(r for r, changed in (("trust policy changed", trust != role.trust),
                                             ("permissions changed", current != role.policy)) if changed)
        return RoleStep(Action.UPDATE, role, have["Arn"], reasons)

    def _arn(self, name: str) -> str:
        """The ARN a role gets when it is created (IAM's format: arn:PARTITION:iam::ACCOUNT:role/NAME)."""
        if self._account is None:
            caller = self._call(self.sts, "GetCallerIdentity")["Arn"].split(":")
            self._account = (caller[1], caller[4])
        partition, account = self._account
        return f"arn:{partition}:iam::{account}:role/{name}"

    def apply(self, step: RoleStep) -> dict[str, Any]:
        """Create or update the role of `step`; raises ServiceFailure."""
        from botocore.exceptions import BotoCoreError, ClientError

        from dag_converter.iam.roles import create_or_update_role

        try:
            return create_or_update_role(self.client, step.role.name, step.role.trust, step.role.policy,
                                         description=f"MWAA Serverless workflow {step.role.workflow} (dag-converter)")
        except ClientError as exc:
            error = exc.response.get("Error", {})
            operation = str(exc.operation_name or "IAM")
            raise ServiceFailure(operation, str(error.get("Code", "Unknown")), str(error.get("Message", ""))) from exc
        except BotoCoreError as exc:
            raise ServiceFailure("IAM", type(exc).__name__, str(exc)) from exc


def make_roles(session_factory: Callable[[], Any] | None = None) -> Roles:
    """IAM and STS clients from the standard chain; endpoints as boto3 resolves them
    (AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL)."""
    import boto3
    from botocore.config import Config

    session = session_factory() if session_factory is not None else boto3.session.Session()
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return Roles(session.client("iam", config=config), session.client("sts", config=config))


__all__ = ["DEFAULT_TEMPLATE", "MUTATING", "RoleStep", "Roles", "WantedRole", "documents_digest", "make_roles",
           "name_problem", "read_role_file", "role_name", "template_problem"]
