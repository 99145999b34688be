"""Names -> fully qualified names, from a module's own import statements.

An imported name is bound to a `Symbol` holding its qualified name; attribute access on a Symbol
extends the name (`s3ops.S3ListOperator` -> `airflow.providers.amazon.aws.operators.s3.S3ListOperator`).
`role_of` then says what the analyzer knows about a qualified name (the DAG class, TaskGroup,
chain, datetime, ...) whatever alias or Airflow version spelled it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

import libcst as cst


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name bound by an import (or a class defined in the file), by qualified name."""

    qualname: str
    local: bool = False  #: defined in the DAG file itself (a class), not importable by path

    def attribute(self, name: str) -> "Symbol":
        return Symbol(f"{self.qualname}.{name}", self.local)


class Role(str, Enum):
    """What the analyzer knows a qualified name to be, whatever alias or Airflow version spelled it."""

    DAG = "DAG"
    DAG_DECORATOR = "dag_decorator"
    TASK_GROUP = "TaskGroup"
    TASK_DECORATOR = "task_decorator"
    TASK_GROUP_DECORATOR = "task_group_decorator"
    CHAIN = "chain"
    CHAIN_LINEAR = "chain_linear"
    CROSS_DOWNSTREAM = "cross_downstream"
    LABEL = "Label"
    XCOM_ARG = "XComArg"
    TRIGGER_RULE = "TriggerRule"
    WEIGHT_RULE = "WeightRule"
    PARAM = "Param"
    VARIABLE = "Variable"
    DAYS_AGO = "days_ago"
    DATETIME = "datetime"
    DATE = "date"
    TIMEDELTA = "timedelta"
    TIMEZONE_UTC = "timezone_utc"
    PENDULUM_DATETIME = "pendulum_datetime"
    PENDULUM_DURATION = "pendulum_duration"
    TIMEZONE = "pendulum_timezone"
    AIRFLOW_UTC_DATETIME = "airflow_utc_datetime"
    NOW = "now"
    OS_ENVIRON = "os_environ"
    DURATION_TIMETABLE = "duration_timetable"
    SCHEDULE_OBJECT = "schedule_object"
    EXACTLY_ONE = "exactly_one"


def _names(*paths: str) -> frozenset[str]:
    return frozenset(paths)


# Where Airflow 2 and 3, the task SDK and the compat provider expose the same object. Each entry
# lists every path users write; all map to one role.
ROLES: Final[dict[Role, frozenset[str]]] = {
    Role.DAG: _names(
        "airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG",
        "airflow.sdk.definitions.dag.DAG", "airflow.providers.common.compat.sdk.DAG",
    ),
    Role.DAG_DECORATOR: _names(
        "airflow.decorators.dag", "airflow.sdk.dag", "airflow.models.dag.dag",
        "airflow.sdk.definitions.dag.dag", "airflow.providers.common.compat.sdk.dag",
    ),
    Role.TASK_GROUP: _names(
        "airflow.utils.task_group.TaskGroup", "airflow.sdk.TaskGroup",
        "airflow.sdk.definitions.taskgroup.TaskGroup", "airflow.providers.common.compat.sdk.TaskGroup",
        "airflow.models.taskgroup.TaskGroup",
    ),
    Role.TASK_DECORATOR: _names(
        "airflow.decorators.task", "airflow.sdk.task", "airflow.sdk.definitions.decorators.task",
        "airflow.providers.common.compat.sdk.task",
    ),
    Role.TASK_GROUP_DECORATOR: _names(
        "airflow.decorators.task_group", "airflow.sdk.task_group",
        "airflow.providers.common.compat.sdk.task_group",
    ),
    Role.CHAIN: _names(
        "airflow.models.baseoperator.chain", "airflow.sdk.chain", "airflow.sdk.bases.operator.chain",
        "airflow.models.chain", "airflow.providers.common.compat.sdk.chain",
    ),
    Role.CHAIN_LINEAR: _names(
        "airflow.models.baseoperator.chain_linear", "airflow.sdk.chain_linear",
        "airflow.sdk.bases.operator.chain_linear", "airflow.providers.common.compat.sdk.chain_linear",
    ),
    Role.CROSS_DOWNSTREAM: _names(
        "airflow.models.baseoperator.cross_downstream", "airflow.sdk.cross_downstream",
        "airflow.sdk.bases.operator.cross_downstream", "airflow.providers.common.compat.sdk.cross_downstream",
    ),
    Role.LABEL: _names(
        "airflow.utils.edgemodifier.Label", "airflow.sdk.Label",
        "airflow.sdk.definitions.edges.Label", "airflow.providers.common.compat.sdk.Label",
    ),
    Role.XCOM_ARG: _names(
        "airflow.models.xcom_arg.XComArg", "airflow.sdk.XComArg", "airflow.models.XComArg",
        "airflow.sdk.definitions.xcom_arg.XComArg",
    ),
    Role.TRIGGER_RULE: _names(
        "airflow.utils.trigger_rule.TriggerRule", "airflow.sdk.TriggerRule",
        "airflow.task.trigger_rule.TriggerRule", "airflow.providers.common.compat.sdk.TriggerRule",
    ),
    Role.WEIGHT_RULE: _names("airflow.utils.weight_rule.WeightRule", "airflow.task.weight_rule.WeightRule"),
    Role.PARAM: _names(
        "airflow.models.param.Param", "airflow.models.Param", "airflow.sdk.Param",
        "airflow.sdk.definitions.param.Param", "airflow.providers.common.compat.sdk.Param",
    ),
    Role.VARIABLE: _names(
        "airflow.models.Variable", "airflow.models.variable.Variable", "airflow.sdk.Variable",
        "airflow.providers.common.compat.sdk.Variable",
    ),
    Role.DAYS_AGO: _names("airflow.utils.dates.days_ago"),
    Role.DATETIME: _names("datetime.datetime"),
    Role.DATE: _names("datetime.date"),
    Role.TIMEDELTA: _names("datetime.timedelta"),
    Role.TIMEZONE_UTC: _names("datetime.timezone.utc", "pendulum.UTC", "airflow.utils.timezone.utc"),
    Role.PENDULUM_DATETIME: _names("pendulum.datetime", "pendulum.DateTime"),
    Role.PENDULUM_DURATION: _names("pendulum.duration", "pendulum.Duration"),
    Role.TIMEZONE: _names("pendulum.timezone", "pendulum.Timezone", "zoneinfo.ZoneInfo", "pendulum.tz.timezone"),
    Role.AIRFLOW_UTC_DATETIME: _names("airflow.utils.timezone.datetime"),
    Role.NOW: _names(
        "datetime.datetime.now", "datetime.datetime.today", "datetime.datetime.utcnow", "datetime.date.today",
        "pendulum.now", "pendulum.today", "pendulum.yesterday", "airflow.utils.timezone.utcnow",
        "time.time", "time.time_ns",
    ),
    Role.OS_ENVIRON: _names("os.environ", "os.getenv", "os.environ.get"),
    Role.EXACTLY_ONE: _names("airflow.utils.helpers.exactly_one"),
    Role.DURATION_TIMETABLE: _names(),
    # Schedules dag-factory builds from `__type__` mappings (TARGET.md §2.5); the analyzer keeps
    # them as ObjectValues at their canonical path (SCHEDULE_CLASSES).
    Role.SCHEDULE_OBJECT: _names(
        "airflow.sdk.Asset", "airflow.sdk.definitions.asset.Asset", "airflow.assets.Asset",
        "airflow.datasets.Dataset", "airflow.Dataset", "airflow.providers.common.compat.assets.Asset",
        "airflow.providers.common.compat.sdk.Asset",
        "airflow.timetables.trigger.CronTriggerTimetable", "airflow.timetables.trigger.DeltaTriggerTimetable",
        "airflow.timetables.trigger.MultipleCronTriggerTimetable",
        "airflow.timetables.interval.CronDataIntervalTimetable",
        "airflow.timetables.interval.DeltaDataIntervalTimetable",
    ),
}

#: The path a schedule object is written with: Assets and Airflow 2 Datasets are one class on
#: Airflow 3 (`airflow.sdk.Asset`), timetables keep their module.
SCHEDULE_CLASSES: Final[dict[str, str]] = {
    path: ("airflow.sdk.Asset" if path.rsplit(".", 1)[1] in ("Asset", "Dataset") else path)
    for path in ROLES[Role.SCHEDULE_OBJECT]
}

# Qualified-name prefixes whose calls read the outside world at run time.
RUNTIME_PREFIXES: Final = (
    "os.", "subprocess.", "socket.", "requests.", "urllib.", "boto3.", "botocore.", "open", "json.load",
    "airflow.hooks.", "airflow.models.connection.", "airflow.sdk.Connection", "pathlib.",
)

_ROLE_BY_NAME: Final[dict[str, Role]] = {path: role for role, paths in ROLES.items() for path in paths}


def role_of(qualname: str) -> Role | None:
    """The role the analyzer gives a qualified name, or None for anything else."""
    return _ROLE_BY_NAME.get(qualname)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _relative_module(module: str, level: int, package: str) -> str:
    parts = package.split(".") if package else []
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    return ".".join(p for p in (base, module) if p)


def import_bindings(node: cst.Import | cst.ImportFrom, package: str = "") -> list[tuple[str, Symbol]] | None:
    """The (local name, Symbol) pairs an import statement binds; None for `from x import *`."""
    bound: list[tuple[str, Symbol]] = []
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None:
                local = dotted_name(alias.asname.name)  # type: ignore[arg-type]
                bound.append((local or full, Symbol(full)))
            else:
                # `import a.b.c` binds `a`; attribute access then walks to a.b.c
                head = full.split(".")[0]
                bound.append((head, Symbol(head)))
        return bound
    if isinstance(node.names, cst.ImportStar):
        return None
    module = dotted_name(node.module) if node.module is not None else ""
    level = len(node.relative)
    if level:
        module = _relative_module(module or "", level, package)
    for alias in node.names:
        name = dotted_name(alias.name) or ""
        local = dotted_name(alias.asname.name) if alias.asname is not None else name  # type: ignore[arg-type]
        bound.append((local or name, Symbol(f"{module}.{name}" if module else name)))
    return bound
