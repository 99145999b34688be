"""What a deploy would do, as data: one step per workflow, computed from the converted DAGs and
the workflows the account has, before any mutating call.

A workflow this tool deployed carries three tags (`names.OWN_TAGS`): the sha256 of the YAML
deployed, the sha256 of the other members sent, and the s3:// folder of the definitions. A DAG
whose two digests match is left alone, so a rerun with nothing changed makes no mutating call.
Only tags changed: the step retags and makes no new workflow version (UpdateWorkflow "creates a
new version ... and disables scheduling on all previous versions", botocore 1.44.8).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from dag_converter.deploy.inputs import Definition
from dag_converter.deploy.names import TAG_DEFINITION, TAG_SCOPE, TAG_SETTINGS
from dag_converter.model import Span


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Settings:
    """The workflow settings of a deploy, from flags and [tool.dag-converter.deploy]."""

    role_arn: str  #: "" with --create-roles: each workflow's own role's ARN is filled in per DAG
    definitions: str | None = None  #: s3://bucket/prefix/ for a local output folder
    name_prefix: str = ""
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    log_group: str | None = None
    kms_key: str | None = None  #: applied on create only: encryption cannot change
    tags: tuple[tuple[str, str], ...] = ()
    trigger_mode: str | None = None
    role_template: str | None = None  #: --create-roles: the name of each workflow's role, from {dag_id}


@dataclass(frozen=True, slots=True)
class Desired:
    """One converted DAG as a workflow: its name, definition and the members sent with it."""

    name: str
    definition: Definition
    members: Mapping[str, Any]  #: RoleArn, Description, LoggingConfiguration, NetworkConfiguration, TriggerMode
    tags: Mapping[str, str]  #: every tag the workflow should carry, ours included

    @property
    def span(self) -> Span:
        return self.definition.dag.span


def desired_workflow(name: str, definition: Definition, settings: Settings, scope: str) -> Desired:
    members: dict[str, Any] = {"RoleArn": settings.role_arn}
    if definition.description:
        members["Description"] = definition.description
    if settings.log_group:
        members["LoggingConfiguration"] = {"LogGroupName": settings.log_group}
    if settings.subnets or settings.security_groups:
        network: dict[str, list[str]] = {}
        if settings.subnets:
            network["SubnetIds"] = list(settings.subnets)
        if settings.security_groups:
            network["SecurityGroupIds"] = list(settings.security_groups)
        members["NetworkConfiguration"] = network
    if settings.trigger_mode:
        members["TriggerMode"] = settings.trigger_mode
    tags = {tag: "" for tag in definition.tags}  # an Airflow tag is a bare string: the key, with no value
    tags.update(dict(settings.tags))
    tags.update({TAG_DEFINITION: definition.deploy_digest, TAG_SETTINGS: digest(members), TAG_SCOPE: scope})
    return Desired(name, definition, members, tags)


def digest(members: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Existing:
    name: str
    arn: str
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    name: str
    arn: str | None = None
    desired: Desired | None = None
    reasons: tuple[str, ...] = ()
    new_version: bool = True  #: UPDATE: call UpdateWorkflow (False: the tags alone changed)

    @property
    def span(self) -> Span | None:
        return self.desired.span if self.desired is not None else None

    def as_dict(self) -> dict[str, object]:
        span = self.span
        return {"action": self.action.value, "name": self.name, "arn": self.arn,
                "dag_id": self.desired.definition.dag.dag_id if self.desired else None,
                "source": span.path if span else None, "line": span.line if span else None,
                "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...] = field(default_factory=tuple)
    #: --create-roles: each workflow's execution role (deploy.roles.RoleStep, which imports this
    #: module: typed Any to keep the import graph free of circles), applied first
    roles: tuple[Any, ...] = ()

    def of(self, action: Action) -> list[Step]:
        return [s for s in self.steps if s.action is action]

    def as_dict(self) -> dict[str, list[dict[str, object]]]:
        keys = {Action.CREATE: "creates", Action.UPDATE: "updates", Action.UNCHANGED: "unchanged",
                Action.DELETE: "deletes"}
        document = {key: [s.as_dict() for s in self.of(action)] for action, key in keys.items()}
        if self.roles:
            document["roles"] = [r.as_dict() for r in self.roles]
        return document


def make_plan(desired: Sequence[Desired], existing: Mapping[str, Existing],
              prunable: Iterable[Existing] = ()) -> Plan:
    """Steps for every desired workflow, in input order, then the deletions (sorted by name).

    `existing` maps the names of desired workflows that exist to their tags; `prunable` are
    workflows of ours (by tag) whose DAG is gone."""
    steps = []
    for want in desired:
        have = existing.get(want.name)
        if have is None:
            steps.append(Step(Action.CREATE, want.name, desired=want))
            continue
        reasons = []
        if TAG_DEFINITION not in have.tags:
            reasons.append("not deployed by dag-converter before")
        else:
            if have.tags.get(TAG_DEFINITION) != want.tags[TAG_DEFINITION]:
                reasons.append("definition changed")
            if have.tags.get(TAG_SETTINGS) != want.tags[TAG_SETTINGS]:
                reasons.append("settings changed")
        if reasons:
            steps.append(Step(Action.UPDATE, want.name, have.arn, want, tuple(reasons)))
        elif any(have.tags.get(k) != v for k, v in want.tags.items()):
            steps.append(Step(Action.UPDATE, want.name, have.arn, want, ("tags changed",), new_version=False))
        else:
            steps.append(Step(Action.UNCHANGED, want.name, have.arn, want))
    for gone in sorted(prunable, key=lambda e: e.name):
        steps.append(Step(Action.DELETE, gone.name, gone.arn, reasons=("its DAG is no longer converted",)))
    return Plan(tuple(steps))


def render_plan(plan: Plan) -> str:
    """The plan as text, one line per workflow, then a count."""
    lines = []
    for role in plan.roles:
        span = role.role.span
        why = f": {', '.join(role.reasons)}" if role.reasons else ""
        lines.append(f"{role.action.value:9} role {role.role.name} for {role.role.workflow} "
                     f"({span.path}:{span.line}){why}")
    for step in plan.steps:
        where = f" ({step.span.path}:{step.span.line})" if step.span else ""
        why = f": {', '.join(step.reasons)}" if step.reasons else ""
        lines.append(f"{step.action.value:9} {step.name}{where}{why}")
    counts = [f"{len(plan.of(a))} to {a.value}" for a in (Action.CREATE, Action.UPDATE, Action.DELETE)]
    lines.append(f"{', '.join(counts)}, {len(plan.of(Action.UNCHANGED))} unchanged.")
    if plan.roles:
        counts = [f"{sum(1 for r in plan.roles if r.action is a)} to {a.value}" for a in (Action.CREATE, Action.UPDATE)]
        lines.append(f"Roles: {', '.join(counts)}, {sum(1 for r in plan.roles if r.action is Action.UNCHANGED)} "
                     "unchanged.")
    return "\n".join(lines) + "\n"


__all__ = ["Action", "Desired", "Existing", "Plan", "Settings", "Step", "desired_workflow", "digest", "make_plan",
           "render_plan"]
