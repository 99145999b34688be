"""Model + registry + target -> diagnostics, and the workflow normalised for the target.

`check_workflow` applies the target's rules (shared/TARGET.md decisions 1-11) to one analysed
workflow. It returns the diagnostics and a normalised copy of the workflow (operators at their
canonical paths, schedule_interval read as schedule, XCom references written as Jinja, zoned
dates given a `timezone` key, values the target ignores dropped) that the emitter writes as is.
A workflow with any error diagnostic is refused: the emitter never sees it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from dag_converter import codes
from dag_converter.model import (
    Argument,
    CallableRef,
    DateTime,
    Diagnostic,
    Duration,
    ObjectValue,
    Severity,
    Span,
    Task,
    TaskKind,
    Workflow,
    XComRef,
    find_unresolved,
    walk_values,
)
from dag_converter.registry import AMAZON_PREFIX, EMPTY_OPERATOR_PATH, Registry, get_registry

if TYPE_CHECKING:
    from jinja2 import Environment

SAFE_DAG_ID: Final = re.compile(r"^[A-Za-z0-9_.-]+$")
_ENV_VAR: Final = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_CRON_FIELD: Final = re.compile(r"^[0-9A-Za-z*/,?LW#-]+$")

# MWAA Serverless accepts these presets (TARGET.md §1.5); @once and @continuous it cannot run.
SERVICE_PRESETS: Final = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"})
# Jinja names MWAA Serverless provides (TARGET.md §1.6).
SERVICE_TEMPLATE_VARIABLES: Final = frozenset(
    {"macros", "task_instance", "ti", "params", "ds", "ds_nodash", "ts", "ts_nodash"}
)
# Filters Airflow adds to Jinja's own (airflow/templates.py FILTERS).
_AIRFLOW_FILTERS: Final = frozenset({"ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz"})
# Names Jinja itself or a template defines; never worth a warning.
_JINJA_BUILTINS: Final = frozenset({"range", "loop", "dict", "lipsum", "cycler", "joiner", "namespace", "true", "false", "none", "True", "False", "None"})

# DAG() keyword arguments dag-factory 1.0 passes on to DAG() (TARGET.md §2.2).
DAG_FACTORY_DAG_KEYS: Final = frozenset({
    "dag_display_name", "description", "max_active_tasks", "catchup", "max_active_runs", "dagrun_timeout",
    "template_searchpath", "render_template_as_native_obj", "sla_miss_callback", "on_success_callback",
    "on_failure_callback", "default_args", "doc_md", "access_control", "is_paused_upon_creation", "schedule",
    "params", "start_date", "end_date", "tags",
})
# DAG() arguments dag-factory drops and MWAA Serverless ignores (TARGET.md §1.3): dropping them
# changes nothing on the service, so they are dropped with a warning.
SERVICE_IGNORED_DAG_KEYS: Final = frozenset({
    "owner_links", "fail_fast", "max_consecutive_failed_dag_runs", "user_defined_macros",
    "user_defined_filters", "jinja_environment_kwargs", "template_undefined", "auto_register",
    "default_view", "orientation", "dag_display_name_template",
})
CALLBACK_KEYS: Final = frozenset({
    "on_success_callback", "on_failure_callback", "on_retry_callback", "on_execute_callback",
    "on_skipped_callback", "sla_miss_callback",
})
# Task arguments MWAA Serverless documents as ignored (TARGET.md §1.4); kept, with an info.
SERVICE_IGNORED_TASK_KEYS: Final = frozenset({
    "email_on_retry", "email_on_failure", "retry_exponential_backoff", "depends_on_past",
    "ignore_first_depends_on_past", "wait_for_downstream", "priority_weight", "sla", "max_active_tis_per_dag",
    "max_active_tis_per_dagrun", "task_concurrency", "resources", "run_as_user", "executor_config", "doc",
    "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name", "logger_name", "allow_nested_operators",
    "inlets", "outlets", "map_index_template", "email", "owner", "max_retry_delay", "do_xcom_push",
    "multiple_outputs", "start_date", "end_date", "weight_rule", "queue", "pool", "pool_slots",
    "trigger_rule", "executor", "wait_for_past_depends_before_skipping", "aws_conn_id", "region_name",
    "deferrable",
})
# Quietly kept: documentation fields raise no info at all, they only change the UI.
_QUIET_KEYS: Final = frozenset({"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name"})
SERVICE_REJECTED_TASK_KEYS: Final = {
    "verify": "is not supported on MWAA Serverless (the service controls TLS verification)",
    "botocore_config": "is not supported on MWAA Serverless",
}
# Values a Python file has no other way to say; written as YAML null by dag-factory's loader.
MAX_RETRIES: Final = 3
MAX_RETRY_DELAY: Final = 300
MAX_EXECUTION_TIMEOUT: Final = 3600

_PYTHON_HINTS: Final = {
    "PythonOperator": "move the Python code to LambdaInvokeFunctionOperator, GlueJobOperator or BatchOperator",
    "BashOperator": "run the command with BatchOperator, EcsRunTaskOperator or an SSM-based Lambda",
    "BranchPythonOperator": "MWAA Serverless has no branching; split the workflow",
    "ShortCircuitOperator": "MWAA Serverless has no short-circuiting; split the workflow",
    "TriggerDagRunOperator": "start the other workflow with MwaaServerlessStartWorkflowRunOperator",
}


@dataclass(frozen=True, slots=True)
class Target:
    """What a conversion target accepts."""

    name: str
    amazon_only: bool = True  #: refuse operators outside the Amazon provider and EmptyOperator
    service_limits: bool = True  #: MWAA Serverless retry/timeout limits and ignored keys
    flatten_groups: bool = True  #: False: task groups become dag-factory `task_groups`
    taskflow: bool = False  #: TaskFlow tasks become `decorator:` tasks
    mapping: bool = False  #: `.partial().expand()` becomes `expand` (and `partial` for TaskFlow)
    schedule_objects: bool = False  #: timedelta, Asset and timetable schedules as `__type__` mappings
    python_callables: bool = False  #: python_callable as an import string or file + name
    allow_operators: tuple[str, ...] = ()  #: class paths; a trailing `*` allows a module
    dags_folder: str | None = None  #: where DAG files live when the YAML is loaded (python_callable_file)

    def allows(self, *paths: str) -> bool:
        return any(fnmatch.fnmatchcase(p, pattern) or p == pattern for p in paths for pattern in self.allow_operators)


TARGETS: Final = {
    "mwaa-serverless": Target("mwaa-serverless"),
    "dag-factory": Target("dag-factory", amazon_only=False, service_limits=False, flatten_groups=False,
                          taskflow=True, mapping=True, schedule_objects=True, python_callables=True),
}


def make_target(name: str, allow_operators: Sequence[str] = (), dags_folder: str | None = None) -> Target:
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; choose from {', '.join(sorted(TARGETS))}")
    if dags_folder is not None:
        # dag-factory requires an absolute python_callable_file once it has expanded `$VAR`s.
        if not (dags_folder.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", dags_folder)):
            raise ValueError(f"--dags-folder must be an absolute path or start with an environment variable "
                             f"such as $AIRFLOW_HOME, not {dags_folder!r}")
        dags_folder = dags_folder.rstrip("/") or "/"
    return replace(TARGETS[name], allow_operators=tuple(allow_operators), dags_folder=dags_folder)


@dataclass
class _Check:
    """Collects diagnostics for one workflow."""

    target: Target
    registry: Registry
    today: date
    relative: str | None = None  #: the DAG file's path relative to the dags folder
    found: list[Diagnostic] = field(default_factory=list)

    def add(self, code: codes.Code, span: Span, **fields: object) -> None:
        self.found.append(codes.make(code, span, target=self.target.name, **fields))


def check_workflow(workflow: Workflow, target: Target, *, registry: Registry | None = None,
                   today: date | None = None, relative: str | None = None) -> tuple[Workflow, list[Diagnostic]]:
    """Validate one workflow for `target`; returns the normalised workflow and every finding.

    `relative` is the DAG file's path relative to the dags folder, for targets that refer back to
    functions defined in it (dag-factory's python_callable_file)."""
    check = _Check(target, registry or get_registry(), today or date.today(), relative)
    check.found.extend(workflow.diagnostics)
    if not SAFE_DAG_ID.match(workflow.dag_id) or workflow.dag_id in (".", ".."):
        if not workflow.dag_id.startswith("<dag at line"):
            check.add(codes.UNSAFE_DAG_ID, workflow.span, dag_id=workflow.dag_id,
                      detail="only letters, digits, '_', '.' and '-' are allowed")
    arguments = _dag_arguments(workflow, check)
    default_args = next((a.value for a in arguments if a.name == "default_args"), {})
    tasks = tuple(_task(task, workflow, default_args if isinstance(default_args, dict) else {}, check)
                  for task in workflow.tasks)
    _check_graph(workflow, check)
    if not target.flatten_groups:
        from dag_converter._dag_factory import shape_groups

        normalised = shape_groups(replace(workflow, arguments=tuple(arguments), tasks=tasks, diagnostics=()), check)
        return normalised, sorted(_unique(check.found), key=Diagnostic.sort_key)
    if target.flatten_groups:
        parents = {g.group_id: g.parent for g in workflow.groups}

        def within(group_id: str | None, ancestor: str) -> bool:
            while group_id is not None:
                if group_id == ancestor:
                    return True
                group_id = parents.get(group_id)
            return False

        for group in workflow.groups:
            members = [t.task_id for t in workflow.tasks if within(t.group, group.group_id)]
            check.add(codes.TASK_GROUP_FLATTENED, group.span, group=group.group_id,
                      example=", ".join(members[:3]) + (", ..." if len(members) > 3 else "") or "(none)")
    normalised = replace(workflow, arguments=tuple(arguments), tasks=tasks, diagnostics=())
    return normalised, sorted(_unique(check.found), key=Diagnostic.sort_key)


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            result.append(diagnostic)
    return result


def is_refused(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


# ---------------------------------------------------------------------------------------------
# DAG arguments


def _dag_arguments(workflow: Workflow, check: _Check) -> list[Argument]:
    result: list[Argument] = []
    names = {a.name for a in workflow.arguments}
    zones: set[str] = set()
    scheduled = False
    for arg in workflow.arguments:
        name, value = arg.name, arg.value
        if name == "schedule_interval":
            if "schedule" in names:
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                          reason="both schedule and schedule_interval are given")
                continue
            check.add(codes.SCHEDULE_INTERVAL, arg.span)
            name = "schedule"
        if _report_unresolved(value, f"DAG argument {name!r}", check):
            continue
        if name == "schedule":
            converted = _schedule(value, arg.span, check)
            if converted is _REFUSED:
                continue
            scheduled = converted is not None
            result.append(Argument("schedule", converted, arg.span))
            continue
        if name in ("start_date", "end_date"):
            if not isinstance(value, DateTime):
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name, reason="not a date")
                continue
            if value.tz not in (None, "UTC"):
                zones.add(value.tz)
            result.append(arg)
            continue
        if name in CALLBACK_KEYS:
            kept = _callback(arg, check, dag_level=True)
            if kept is not None:
                result.append(kept)
            continue
        if name == "params":
            if check.target.schedule_objects:
                from dag_converter._dag_factory import params_objects

                result.append(Argument(name, params_objects(value), arg.span))
                continue
            result.append(Argument(name, _params(value, arg.span, check), arg.span))
            continue
        if name == "default_args":
            if not isinstance(value, dict):
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name, reason="not a dict")
                continue
            result.append(Argument(name, _default_args(value, arg.span, check), arg.span))
            continue
        if name == "timetable" and check.target.schedule_objects and "schedule" not in names:
            # Airflow 2's timetable= is Airflow 3's schedule=.
            converted = _schedule(value, arg.span, check)
            if converted is not _REFUSED:
                scheduled = converted is not None
                result.append(Argument("schedule", converted, arg.span))
            continue
        if name in ("timetable",):
            check.add(codes.UNSUPPORTED_SCHEDULE, arg.span, schedule="timetable=...",
                      detail="timetables are not supported")
            continue
        if name in SERVICE_IGNORED_DAG_KEYS and check.target.service_limits:
            check.add(codes.DAG_ARGUMENT_DROPPED, arg.span, field=name,
                      reason="dag-factory does not pass it to DAG() and MWAA Serverless ignores it")
            continue
        if name not in DAG_FACTORY_DAG_KEYS:
            check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                      reason="dag-factory 1.0 does not pass this argument to DAG()")
            continue
        if _check_value(value, name, arg.span, check, templated=False):
            result.append(arg)
    if len(zones) > 1:
        check.add(codes.DAG_ARGUMENT_UNSUPPORTED, workflow.span, field="start_date",
                  reason=f"dates in several time zones ({', '.join(sorted(zones))})")
    elif zones:
        # dag-factory parses start/end dates in the DAG-level `timezone` (TARGET.md decision 10).
        zone = next(iter(zones))
        index = max(i for i, a in enumerate(result) if a.name in ("start_date", "end_date"))
        result.insert(index + 1, Argument("timezone", zone, result[index].span))
    if scheduled and check.target.service_limits:
        start = next((a for a in result if a.name == "start_date"), None)
        if start is not None and isinstance(start.value, DateTime) and start.value.value.date() < check.today:
            check.add(codes.PAST_START_DATE, start.span, date=start.value.value.date().isoformat())
    return result


class _Refused:
    pass


_REFUSED: Final = _Refused()


def _schedule(value: object, span: Span, check: _Check) -> object:
    """The schedule as the target writes it, or _REFUSED (with a diagnostic)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "none":
            return None
        if text.startswith("@"):
            if text in SERVICE_PRESETS or not check.target.service_limits:
                return text
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=repr(text), detail="the preset has no cron form")
            return _REFUSED
        fields = text.split()
        if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
            return text
        if re.fullmatch(r"(rate|cron)\(.+\)", text):
            return text
        check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=repr(text), detail="not a 5-field cron expression")
        return _REFUSED
    if check.target.schedule_objects and (isinstance(value, (Duration, ObjectValue)) or isinstance(value, list)):
        from dag_converter._dag_factory import schedule_object

        return schedule_object(value, span, check)
    if isinstance(value, Duration):
        cron = duration_to_cron(value.seconds)
        if cron is None:
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=f"timedelta({value.exact_seconds} s)",
                      detail="the interval has no cron equivalent (it must divide an hour or a day)")
            return _REFUSED
        check.add(codes.SCHEDULE_REWRITTEN, span, old=f"timedelta(seconds={value.exact_seconds})", new=repr(cron))
        return cron
    described = value.class_path if isinstance(value, ObjectValue) else type(value).__name__
    check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=described,
              detail="assets, datasets and timetables are not supported")
    return _REFUSED


def duration_to_cron(seconds: float) -> str | None:
    """A cron expression that fires every `seconds`, when one exists (minutes dividing an hour,
    hours dividing a day, or exactly one day)."""
    if seconds <= 0 or not float(seconds).is_integer():
        return None
    total = int(seconds)
    if total % 60:
        return None
    minutes = total // 60
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0:
        hours = minutes // 60
        if hours == 24:
            return "0 0 * * *"
        if hours < 24 and 24 % hours == 0:
            return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    return None


def _params(value: object, span: Span, check: _Check) -> object:
    if not isinstance(value, dict):
        return value
    result: dict[object, object] = {}
    for key, item in value.items():
        if isinstance(item, ObjectValue) and item.class_path.endswith("Param"):
            kwargs = dict(item.kwargs)
            default = item.args[0] if item.args else kwargs.pop("default", None)
            extra = sorted(k for k in kwargs if k != "default")
            if extra:
                check.add(codes.PARAM_SCHEMA_DROPPED, item.span or span, name=key, parts=", ".join(extra))
            result[key] = default
        else:
            result[key] = item
    return result


def _default_args(value: dict[object, object], span: Span, check: _Check) -> dict[object, object]:
    result: dict[object, object] = {}
    zones = set()
    for key, item in value.items():
        name = str(key)
        if _report_unresolved(item, f"default_args[{name!r}]", check, span):
            continue
        if name in CALLBACK_KEYS:
            kept = _callback(Argument(name, item, span), check, dag_level=False)
            if kept is not None:
                result[key] = kept.value
            continue
        if name in ("start_date", "end_date") and isinstance(item, DateTime) and item.tz not in (None, "UTC"):
            zones.add(item.tz)
        _check_limits(name, item, span, check)
        if _check_value(item, f"default_args.{name}", span, check, templated=False):
            result[key] = item
    if len(zones) == 1:
        result["timezone"] = next(iter(zones))
    elif len(zones) > 1:
        check.add(codes.DAG_ARGUMENT_UNSUPPORTED, span, field="default_args",
                  reason="dates in several time zones")
    return result


def _callback(arg: Argument, check: _Check, dag_level: bool) -> Argument | None:
    """Callbacks: an importable function is kept as its import string; one defined in the DAG
    file cannot be referenced from YAML. MWAA Serverless ignores callbacks, so there it is dropped
    with a warning; targets that run callbacks refuse the DAG."""
    refs = arg.value if isinstance(arg.value, list) else [arg.value]
    if arg.value is None:
        return arg
    if all(isinstance(r, CallableRef) and not r.defined_in_file for r in refs) and not isinstance(arg.value, list):
        return Argument(arg.name, arg.value.qualname, arg.span)  # type: ignore[union-attr]
    what = ", ".join(r.qualname.rsplit(".", 1)[-1] if isinstance(r, CallableRef) else type(r).__name__ for r in refs)
    if check.target.service_limits:
        check.add(codes.CALLBACK_DROPPED, arg.span, field=arg.name, function=what)
        return None
    check.add(codes.CALLABLE_VALUE, arg.span, field=arg.name, function=what)
    return None


# ---------------------------------------------------------------------------------------------
# Tasks


def _task(task: Task, workflow: Workflow, dag_defaults: dict[object, object], check: _Check) -> Task:
    resolution = check.registry.resolve(task.operator)
    canonical = resolution.canonical
    rule = resolution.rule
    short = canonical.rsplit(".", 1)[-1]
    if resolution.legacy_from is not None:
        check.add(codes.LEGACY_NAME, task.span, old=resolution.legacy_from, new=canonical)
    if check.target.taskflow and task.kind == TaskKind.TASKFLOW:
        from dag_converter._dag_factory import taskflow_task

        return taskflow_task(task, workflow, check)
    if task.kind == TaskKind.TASKFLOW and not task.mapped:
        check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=f"{task.callable_name}()")
        return replace(task, operator=canonical)
    if task.mapped and not check.target.mapping:
        check.add(codes.MAPPED_TASK, task.span, task=task.task_id)
        return replace(task, operator=canonical)
    if not check.target.amazon_only:
        from dag_converter._dag_factory import operator_task

        return operator_task(task, workflow, canonical, rule, resolution.legacy_from, dag_defaults, check)
    allowed_by_flag = check.target.allows(task.operator, canonical)
    is_amazon = canonical.startswith(AMAZON_PREFIX)
    if check.target.amazon_only and not allowed_by_flag and not is_amazon and canonical != EMPTY_OPERATOR_PATH:
        hint = _PYTHON_HINTS.get(short) or (
            f"{short} is defined in this DAG file; ship it in a code package and pass --allow-operator"
            if "." not in canonical.rsplit(".", 1)[0] else
            f"use an Amazon provider operator, or pass --allow-operator {canonical}"
        )
        check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical, hint=hint)
    elif is_amazon and rule is None and _has_amazon_rules(check.registry) and not allowed_by_flag:
        check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                  hint="no such class in apache-airflow-providers-amazon 9.32.0; check the name")
    elif rule is not None and is_amazon and not rule.allowlisted and check.target.amazon_only:
        check.add(codes.NOT_ALLOWLISTED, task.span, operator=canonical)
    arguments: list[Argument] = []
    for arg in task.arguments:
        converted = _task_argument(arg, task, short, rule, check)
        if converted is not None:
            arguments.append(converted)
    if rule is not None and rule.complete:
        given = {a.name for a in task.arguments} | {str(k) for k in dag_defaults} | {"task_id"}
        for name in rule.required:
            if name not in given:
                check.add(codes.MISSING_ARGUMENT, task.span, operator=short, argument=name)
    return replace(task, operator=canonical, arguments=tuple(arguments),
                   source_operator=resolution.legacy_from)


def _is_taskflow(task: Task) -> bool:
    return task.operator.startswith(TASKFLOW_OPERATOR_PREFIX)


#: Where the analyzer files TaskFlow tasks: `<prefix><variant>` (python, bash, virtualenv, ...).
TASKFLOW_OPERATOR_PREFIX: Final = "airflow.providers.standard.decorators.python.task."


def _has_amazon_rules(registry: Registry) -> bool:
    return any(path.startswith(AMAZON_PREFIX) for path in registry.rules)


def _task_argument(arg: Argument, task: Task, operator: str, rule: object, check: _Check) -> Argument | None:
    from dag_converter.registry import OperatorRule

    name, value = arg.name, arg.value
    rule = rule if isinstance(rule, OperatorRule) else None
    if name.startswith("__"):
        return None
    if rule is not None and not rule.accepts(name):
        suggestion = rule.suggest(name)
        check.add(codes.UNKNOWN_ARGUMENT, arg.span, operator=operator, argument=name,
                  hint=f"did you mean {suggestion!r}?" if suggestion else "remove it")
        return None
    if _report_unresolved(value, f"argument {name!r} of task {task.task_id!r}", check):
        return None
    if check.target.service_limits and name in SERVICE_REJECTED_TASK_KEYS:
        check.add(codes.OPERATOR_ARGUMENT_UNSUPPORTED, arg.span, field=name, detail=SERVICE_REJECTED_TASK_KEYS[name])
        return None
    if check.target.service_limits and name == "deferrable" and value is True:
        check.add(codes.OPERATOR_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                  detail="deferrable mode is not supported on MWAA Serverless")
        return None
    if name in CALLBACK_KEYS:
        return _callback(arg, check, dag_level=False)
    templated = None if rule is None or not rule.complete else name in rule.templated_fields
    value = _xcom_to_template(value, name, task, operator, templated, arg.span, check)
    if value is _REFUSED:
        return None
    _check_limits(name, value, arg.span, check)
    if check.target.service_limits and name in SERVICE_IGNORED_TASK_KEYS and name not in _QUIET_KEYS:
        check.add(codes.SERVICE_IGNORED_ARGUMENT, arg.span, field=name)
    if not _check_value(value, name, arg.span, check, templated=templated, operator=operator):
        return None
    return Argument(name, value, arg.span)


def _xcom_to_template(value: object, name: str, task: Task, operator: str, templated: bool | None,
                      span: Span, check: _Check) -> object:
    """TARGET.md decision 5: XCom in a templated field -> `{{ ti.xcom_pull(task_ids='x') }}`."""
    if isinstance(value, XComRef):
        if templated:
            key = "" if value.key == "return_value" else f", key='{value.key}'"
            return "{{ ti.xcom_pull(task_ids='" + value.task_id + "'" + key + ") }}"
        check.add(codes.XCOM_UNTEMPLATED, value.span or span, field=name, operator=operator, task=value.task_id)
        return _REFUSED
    if isinstance(value, list):
        items = [_xcom_to_template(v, name, task, operator, templated, span, check) for v in value]
        return _REFUSED if any(i is _REFUSED for i in items) else items
    if isinstance(value, tuple):
        items = [_xcom_to_template(v, name, task, operator, templated, span, check) for v in value]
        return _REFUSED if any(i is _REFUSED for i in items) else tuple(items)
    if isinstance(value, dict):
        out = {k: _xcom_to_template(v, name, task, operator, templated, span, check) for k, v in value.items()}
        return _REFUSED if any(v is _REFUSED for v in out.values()) else out
    return value


def _check_limits(name: str, value: object, span: Span, check: _Check) -> None:
    # MWAA Serverless validates these when the task runs (TARGET.md §1.4). Use total seconds:
    # timedelta.seconds drops the days, so timedelta(days=1, seconds=10) would pass as 10 s.
    if not check.target.service_limits:
        return
    if name == "retries" and isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_RETRIES:
        check.add(codes.RETRIES_OVER_LIMIT, span, value=value, limit=MAX_RETRIES)
    elif name == "retry_delay" and isinstance(value, Duration) and value.seconds > MAX_RETRY_DELAY:
        check.add(codes.RETRY_DELAY_OVER_LIMIT, span, value=value.exact_seconds, limit=MAX_RETRY_DELAY)
    elif name == "execution_timeout" and isinstance(value, Duration) and value.seconds > MAX_EXECUTION_TIMEOUT:
        check.add(codes.EXECUTION_TIMEOUT_OVER_LIMIT, span, value=value.exact_seconds, limit=MAX_EXECUTION_TIMEOUT)


def _report_unresolved(value: object, what: str, check: _Check, span: Span | None = None) -> bool:
    bad = find_unresolved(value)
    if bad is None:
        return False
    if bad.source:
        check.found.append(codes.make(codes.RUNTIME_VALUE, bad.span, what=what, source=bad.source))
    else:
        check.found.append(codes.make(codes.UNRESOLVED_VALUE, bad.span, what=what, reason=bad.reason,
                                      hint="use a literal or module-level constant, or params and --override-parameters"))
    return True


def _check_value(value: object, field_name: str, span: Span, check: _Check, *, templated: bool | None,
                 operator: str = "") -> bool:
    """Values the YAML can hold; strings are checked for templates and `$VAR`."""
    for item in walk_values(value):
        if isinstance(item, CallableRef):
            if field_name in ("python_callable",) and not item.defined_in_file and not check.target.amazon_only:
                continue
            check.add(codes.CALLABLE_VALUE, item.span or span, field=field_name,
                      function=item.qualname.rsplit(".", 1)[-1])
            return False
        if isinstance(item, ObjectValue):
            check.add(codes.UNRESOLVED_VALUE, item.span or span, what=f"argument {field_name!r}",
                      reason=f"a {item.class_path.rsplit('.', 1)[-1]} object has no YAML form here",
                      hint="pass the plain value the object holds (a string, number, list or dict)")
            return False
        if isinstance(item, DateTime) and item.tz not in (None, "UTC") and not field_name.startswith("default_args."):
            check.add(codes.UNRESOLVED_VALUE, span, what=f"argument {field_name!r}",
                      reason="a zoned datetime in an operator argument has no YAML form",
                      hint="pass the date as a UTC datetime, or as an ISO string if the operator accepts one")
            return False
        if isinstance(item, str):
            for match in _ENV_VAR.finditer(item):
                check.add(codes.ENV_VAR_IN_VALUE, span, field=field_name, variable=match.group(0))
            if "{{" in item or "{%" in item:
                _check_template(item, field_name, span, check, templated, operator)
    return True


def _check_template(text: str, field_name: str, span: Span, check: _Check, templated: bool | None,
                    operator: str) -> None:
    if templated is False:
        check.add(codes.UNTEMPLATED_TEMPLATE, span, field=field_name, operator=operator)
        return
    error, variables = _template_facts(text)
    if error is not None:
        check.add(codes.TEMPLATE_SYNTAX, span, field=field_name, detail=error)
        return
    if not check.target.service_limits:
        return
    for variable in variables:
        if variable not in SERVICE_TEMPLATE_VARIABLES and variable not in _JINJA_BUILTINS:
            check.add(codes.TEMPLATE_VARIABLE, span, field=field_name, variable=variable)


@lru_cache(maxsize=4096)
def _template_facts(text: str) -> tuple[str | None, tuple[str, ...]]:
    """(syntax error message or None, the template's undeclared variables, sorted): parsed once
    per distinct template text, with one jinja2 Environment (jinja2 is imported on first use)."""
    from jinja2 import meta
    from jinja2.exceptions import TemplateSyntaxError

    try:
        parsed = _jinja_environment().parse(text)
        # Compiling checks that every filter and test exists (TemplateAssertionError, a
        # TemplateSyntaxError), which Airflow would only find when it renders the field.
        return None, tuple(sorted(meta.find_undeclared_variables(parsed)))
    except TemplateSyntaxError as exc:
        return exc.message or "syntax error", ()


@lru_cache(maxsize=1)
def _jinja_environment() -> "Environment":
    from jinja2 import Environment

    environment = Environment()
    environment.filters.update(dict.fromkeys(_AIRFLOW_FILTERS, str))
    return environment


# ---------------------------------------------------------------------------------------------
# The graph


def _check_graph(workflow: Workflow, check: _Check) -> None:
    ids = {t.task_id for t in workflow.tasks}
    for task in workflow.tasks:
        for upstream in task.upstream:
            if upstream not in ids:
                check.add(codes.UNRESOLVED_DEPENDENCY, task.span, side="upstream", operator=task.task_id,
                          reason=f"{upstream!r} is not a task of this DAG")
    cycle = find_cycle({t.task_id: [u for u in t.upstream if u in ids] for t in workflow.tasks})
    if cycle:
        first = next(t for t in workflow.tasks if t.task_id == cycle[0])
        check.add(codes.DEPENDENCY_CYCLE, first.span, cycle=" -> ".join(cycle))


def find_cycle(upstream: dict[str, list[str]]) -> list[str] | None:
    """One cycle in the graph (as a path that returns to its start), or None.

    Iterative depth-first search: a chain of thousands of tasks must not exhaust Python's stack."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in upstream:
        if start in state:
            continue
        path: list[str] = [start]
        pending: list[Iterator[str]] = [iter(sorted(upstream.get(start, [])))]
        state[start] = 1
        while pending:
            parent = next(pending[-1], None)
            if parent is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            if state.get(parent) == 1:
                return list(reversed(path[path.index(parent):] + [parent]))
            if parent not in state:
                state[parent] = 1
                path.append(parent)
                pending.append(iter(sorted(upstream.get(parent, []))))
    return None


__all__ = ["TARGETS", "Target", "check_workflow", "duration_to_cron", "find_cycle", "is_refused", "make_target"]
