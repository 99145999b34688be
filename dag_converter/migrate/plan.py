"""The migration plan as data, and its two renderings (Markdown for review, JSON for tools).

Both are deterministic: no timestamps, DAGs in source order. Secret values never appear: of the
variables carried over only the names are shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

PLAN_MD: Final = "migration-plan.md"
PLAN_JSON: Final = "migration-plan.json"
DOCUMENT_VERSION: Final = 1


class Status(str, Enum):
    MIGRATE = "migrate"  #: a workflow is created, updated or left as it is
    BLOCKED = "blocked"  #: convertible only after a change (a refused construct; with --no-code-package, code)
    SKIPPED = "skipped"  #: broken in the source environment


@dataclass
class DagPlan:
    dag_id: str
    source: str  #: path below the DAG folder
    line: int
    status: Status
    workflow: str | None = None
    schedule: str | None = None
    source_paused: bool | None = None  #: None: the environment's Airflow does not list the DAG
    trigger_mode: str | None = None  #: None: the service's default (scheduled)
    role_name: str | None = None
    role_arn: str | None = None
    role_actions: int = 0
    role_action: str | None = None  #: create, update, unchanged (deploy's role planning)
    definition: str | None = None  #: s3:// URL of the YAML
    code_package: dict[str, Any] | None = None  #: adapters.PackagePlan.as_dict(): name, url, size, sha256, ...
    action: str | None = None  #: create, update, unchanged (deploy's plan)
    reasons: tuple[str, ...] = ()  #: why an update, or why blocked/skipped
    next_step: str | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"dag_id": self.dag_id, "source": self.source, "line": self.line, "status": self.status.value,
                "workflow": self.workflow, "schedule": self.schedule, "source_paused": self.source_paused,
                "trigger_mode": self.trigger_mode, "role": {"name": self.role_name, "arn": self.role_arn,
                                                            "actions": self.role_actions,
                                                            "action": self.role_action} if self.role_name else None,
                "definition": self.definition, "code_package": self.code_package, "action": self.action,
                "reasons": list(self.reasons), "next_step": self.next_step, "notes": list(self.notes)}


@dataclass
class MigrationPlan:
    environment: str
    environment_arn: str
    airflow_version: str | None
    dags_url: str
    source_role: str | None
    definitions: str
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    kms_key: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    variables: tuple[str, ...] = ()  #: names only
    not_carried: tuple[str, ...] = ()
    requirements: dict[str, Any] | None = None
    plugins: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()  #: environment-wide: nothing is deployed while there are any
    dags: list[DagPlan] = field(default_factory=list)

    def of(self, status: Status) -> list[DagPlan]:
        return [d for d in self.dags if d.status is status]

    def counts(self) -> dict[str, int]:
        found = {s.value: len(self.of(s)) for s in Status}
        for action in ("create", "update", "unchanged"):
            found[action] = sum(1 for d in self.of(Status.MIGRATE) if d.action == action)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_version": DOCUMENT_VERSION,
            "environment": {"name": self.environment, "arn": self.environment_arn,
                            "airflow_version": self.airflow_version, "dags": self.dags_url,
                            "execution_role": self.source_role},
            "definitions": self.definitions,
            "carried_over": {"network": {"subnets": list(self.subnets), "security_groups": list(self.security_groups)},
                             "kms_key": self.kms_key, "tags": dict(self.tags), "variables": list(self.variables)},
            "not_carried_over": list(self.not_carried),
            "requirements": self.requirements, "plugins": self.plugins,
            "problems": list(self.problems),
            "counts": self.counts(),
            "dags": [d.as_dict() for d in self.dags],
        }


def render_json(plan: MigrationPlan) -> str:
    return json.dumps(plan.as_dict(), indent=2, sort_keys=True) + "\n"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def render_markdown(plan: MigrationPlan) -> str:
    counts = plan.counts()
    lines = [
        f"# Migration plan: MWAA environment `{plan.environment}` to MWAA Serverless",
        "",
        f"- DAG folder: `{plan.dags_url}` (Airflow {plan.airflow_version or 'unknown'})",
        f"- Definitions go to: `{plan.definitions}`",
        f"- Source execution role (not reused; each workflow gets its own): `{plan.source_role or '-'}`",
        f"- DAGs: {counts['migrate']} to migrate ({counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged), {counts['blocked']} blocked, {counts['skipped']} skipped",
        "",
        "## Carried over to every workflow",
        "",
        f"- Network: subnets {', '.join(plan.subnets) or '-'}; security groups {', '.join(plan.security_groups) or '-'}",
        f"- Encryption: {('customer managed key `' + plan.kms_key + '` (set at creation, cannot change)') if plan.kms_key else 'the service default key'}",
        f"- Tags: {', '.join(f'{k}={v}' for k, v in plan.tags) or '-'}",
        f"- Environment variables: {', '.join(plan.variables) or '-'} (values not shown)",
        f"- Airflow configuration options not carried over: {', '.join(plan.not_carried) or '-'}",
    ]
    for title, info in (("Requirements", plan.requirements), ("Plugins", plan.plugins)):
        if info:
            extra = f"; packages: {', '.join(info.get('packages') or ()) or '-'}" if "packages" in info else ""
            problem = f"; {info['problem']}" if info.get("problem") else ""
            lines.append(f"- {title}: `{info['path']}`{extra}{problem} (for the code packages' requirements)")
    if plan.problems:
        lines += ["", "## Problems (nothing is deployed until they are fixed)", ""]
        lines += [f"- {p}" for p in plan.problems]
    lines += ["", "## Workflows", "",
              "| DAG | source | workflow | schedule | trigger mode | role | code package | action |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for dag in plan.of(Status.MIGRATE):
        mode = dag.trigger_mode or "default (scheduled)"
        if dag.source_paused:
            mode += " (paused in the source)"
        action = dag.action or "-"
        if dag.reasons:
            action += ": " + ", ".join(dag.reasons)
        role = f"{dag.role_name} ({dag.role_actions} actions; {dag.role_action or '-'})"
        package = f"{dag.code_package['name']} ({dag.code_package['size']} bytes)" if dag.code_package else None
        lines.append(f"| {_cell(dag.dag_id)} | {_cell(f'{dag.source}:{dag.line}')} | {_cell(dag.workflow)} | "
                     f"{_cell(dag.schedule)} | {_cell(mode)} | {_cell(role)} | {_cell(package)} | {_cell(action)} |")
    packages = [d for d in plan.of(Status.MIGRATE) if d.code_package]
    if packages:
        lines += ["", "## Code packages", "",
                  "Each is uploaded beside its definition and sent as the workflow's `Code`; its role may read it.", "",
                  "| DAG | package | size | sha256 | files | requirements |", "| --- | --- | --- | --- | --- | --- |"]
        for dag in packages:
            info = dag.code_package or {}
            wanted = ", ".join(info.get("requirements") or ()) or "-"
            missing = info.get("not_in_environment") or ()
            if missing:
                wanted += f" (not in the environment's requirements: {', '.join(missing)})"
            lines.append(f"| {_cell(dag.dag_id)} | {_cell(info.get('url'))} | {_cell(info.get('size'))} | "
                         f"{_cell(info.get('sha256'))} | {_cell(info.get('files'))} | {_cell(wanted)} |")
    notes = [(d.dag_id, n) for d in plan.dags for n in d.notes]
    if notes:
        lines += ["", "Notes:", ""] + [f"- `{dag_id}`: {note}" for dag_id, note in notes]
    for status, title in ((Status.BLOCKED, "Blocked"), (Status.SKIPPED, "Skipped")):
        found = plan.of(status)
        if not found:
            continue
        lines += ["", f"## {title}", "", "| DAG | source | why | next step |", "| --- | --- | --- | --- |"]
        for dag in found:
            lines.append(f"| {_cell(dag.dag_id)} | {_cell(f'{dag.source}:{dag.line}')} | "
                         f"{_cell('; '.join(dag.reasons))} | {_cell(dag.next_step)} |")
    lines += ["", "Review, then run the same command with `--apply` (add `--pause-source` to pause the migrated "
              "DAGs in the environment).", ""]
    return "\n".join(lines)


__all__ = ["DagPlan", "MigrationPlan", "PLAN_JSON", "PLAN_MD", "Status", "render_json", "render_markdown"]
