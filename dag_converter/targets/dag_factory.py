"""The dag-factory 1.0 target (TARGET.md §2): YAML for a self-managed Airflow 3 with dag-factory.

dag-factory 1.0 keeps more of Airflow than MWAA Serverless: any importable operator, task groups
(with their own default_args), TaskFlow `decorator:` tasks with `+task` references,
`expand`/`partial`, python callables by import string or by file and name, `__type__` schedules
and `Param` objects, and callbacks. Each hook here normalises one part of a workflow for it and
reports, as diagnostics, what dag-factory 1.0 cannot build; nothing is guessed. The emitter then
writes the normalised workflow as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from dag_converter import codes
from dag_converter.model import (
    Argument,
    CallableRef,
    Duration,
    ObjectValue,
    Span,
    Task,
    TaskGroupInfo,
    TaskKind,
    Unresolved,
    Workflow,
    XComRef,
    walk_values,
)
from dag_converter.registry import OperatorRule
from dag_converter.targets._common import (
    check_value,
    default_args,
    report_unresolved,
    task_argument,
    unknown_amazon_class,
)
from dag_converter.targets.base import REFUSED, CheckContext, Feature, Target

#: The decorator dag-factory 1.0 calls for TaskFlow tasks on Airflow 3 (TARGET.md §2.7).
TASKFLOW_DECORATOR: Final = "airflow.sdk.definitions.decorators.task"

# dag-factory turns a `python_callable` import string into a function only for these classes
# (and their subclasses; `DagBuilder.make_task` checks PythonOperator, BranchPythonOperator and
# PythonSensor). For any other operator the string would reach the operator as a string.
PYTHON_CALLABLE_OPERATORS: Final = frozenset(
    f"{module}.{name}"
    for module, names in {
        "airflow.providers.standard.operators.python": (
            "PythonOperator", "BranchPythonOperator", "ShortCircuitOperator", "PythonVirtualenvOperator",
            "BranchPythonVirtualenvOperator", "ExternalPythonOperator", "BranchExternalPythonOperator",
        ),
        "airflow.operators.python": (
            "PythonOperator", "BranchPythonOperator", "ShortCircuitOperator", "PythonVirtualenvOperator",
            "BranchPythonVirtualenvOperator", "ExternalPythonOperator", "BranchExternalPythonOperator",
        ),
        "airflow.providers.standard.sensors.python": ("PythonSensor",),
        "airflow.sensors.python": ("PythonSensor",),
    }.items()
    for name in names
)

#: Schedule classes dag-factory builds from `__type__` (the analyzer's SCHEDULE_CLASSES targets).
SCHEDULE_TYPES: Final = frozenset({
    "airflow.sdk.Asset",
    "airflow.timetables.trigger.CronTriggerTimetable",
    "airflow.timetables.trigger.DeltaTriggerTimetable",
    "airflow.timetables.trigger.MultipleCronTriggerTimetable",
    "airflow.timetables.interval.CronDataIntervalTimetable",
    "airflow.timetables.interval.DeltaDataIntervalTimetable",
})



# ---------------------------------------------------------------------------------------------
# Names


def task_label(task: Task) -> str:
    """The task's name in dag-factory YAML: its id without the task group prefix."""
    if task.group and task.task_id.startswith(task.group + "."):
        return task.task_id[len(task.group) + 1:]
    return task.task_id


def group_label(group: TaskGroupInfo) -> str:
    if group.parent and group.group_id.startswith(group.parent + "."):
        return group.group_id[len(group.parent) + 1:]
    return group.group_id


def _module_name(path: str) -> str:
    """The module name dag-factory's loader gives a DAG file: its file name without `.py`."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    return stem[:-3] if stem.endswith(".py") else stem


# ---------------------------------------------------------------------------------------------
# Values


def _schedule_object(value: object, span: Span, check: CheckContext) -> object:
    """A timedelta, Asset, list of Assets or timetable schedule, kept for `__type__`."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not all(isinstance(i, ObjectValue) and i.class_path == "airflow.sdk.Asset"
                                           for i in items):
        check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule="a list", detail="only a list of Assets is a schedule")
        return REFUSED
    for item in items:
        if isinstance(item, Duration):
            continue
        if not isinstance(item, ObjectValue) or item.class_path not in SCHEDULE_TYPES:
            described = item.class_path if isinstance(item, ObjectValue) else type(item).__name__
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=described,
                      detail="dag-factory 1.0 builds only Assets, timedeltas and Airflow's cron/delta timetables")
            return REFUSED
        for inner in walk_values([*item.args, *(v for _, v in item.kwargs)]):
            if isinstance(inner, (ObjectValue, CallableRef, XComRef)) or (
                    isinstance(inner, str) and "$" in inner):
                check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=item.class_path,
                          detail="an argument has no YAML form")
                return REFUSED
    return value


def _upstream_task(ref: XComRef, workflow: Workflow) -> Task | None:
    return next((t for t in workflow.tasks if t.task_id == ref.task_id), None)


def _refuse_value(task: Task, check: CheckContext, span: Span, reason: str) -> object:
    code = codes.TASKFLOW_TASK if task.kind is TaskKind.TASKFLOW else codes.MAPPED_TASK
    check.add(code, span, task=task.task_id, function=f"{task.callable_name}()", hint=reason)
    return REFUSED


def _mapped_value(arg: Argument, task: Task, workflow: Workflow, check: CheckContext) -> object:
    """An `expand` value: a literal list, `+task` (TaskFlow) or `<task>.output` (operators)."""
    value = arg.value
    taskflow = task.kind is TaskKind.TASKFLOW
    if report_unresolved(value, f"expand argument {arg.name!r} of task {task.task_id!r}", check):
        return REFUSED
    if isinstance(value, XComRef):
        upstream = _upstream_task(value, workflow)
        if value.key != "return_value" or upstream is None:
            return _refuse_value(task, check, arg.span, f"expand over XCom key {value.key!r} has no dag-factory 1.0 form")
        if taskflow:
            if upstream.kind is not TaskKind.TASKFLOW:
                # `+name` resolves to the operator object for classic operators, not its output.
                return _refuse_value(task, check, arg.span, f"a TaskFlow task can expand over another TaskFlow "
                                     f"task's result only; {upstream.task_id!r} is an operator")
            return "+" + task_label(upstream)
        if upstream.kind is TaskKind.TASKFLOW:
            return _refuse_value(task, check, arg.span, f"dag-factory 1.0 cannot expand an operator over the "
                                 f"TaskFlow task {upstream.task_id!r}")
        return f"{upstream.task_id}.output"
    if any(isinstance(v, XComRef) for v in walk_values(value)):
        return _refuse_value(task, check, arg.span, "an XCom reference inside a collection has no dag-factory form")
    if isinstance(value, str) and (value.startswith("+") or ".output" in value or "XcomArg" in value):
        return _refuse_value(task, check, arg.span, f"dag-factory would read the string {value!r} as a task reference")
    if not check_value(value, arg.name, arg.span, check, templated=None):
        return REFUSED
    return value


def _call_value(arg: Argument, task: Task, workflow: Workflow, check: CheckContext) -> object:
    """A TaskFlow call argument: a literal, or `+task` for another TaskFlow task's result."""
    value = arg.value
    if report_unresolved(value, f"argument {arg.name!r} of task {task.task_id!r}", check):
        return REFUSED
    if isinstance(value, XComRef):
        upstream = _upstream_task(value, workflow)
        if upstream is None or value.key != "return_value":
            return _refuse_value(task, check, arg.span, "`+task['key']` needs dag-factory 1.1; 1.0 passes only return values")
        if upstream.kind is not TaskKind.TASKFLOW:
            return _refuse_value(task, check, arg.span, f"dag-factory 1.0 passes only TaskFlow results as "
                                 f"`+task`; {upstream.task_id!r} is an operator (use "
                                 f"'{{{{ ti.xcom_pull(task_ids=\"{upstream.task_id}\") }}}}' in the source)")
        return "+" + task_label(upstream)
    if any(isinstance(v, XComRef) for v in walk_values(value)):
        return _refuse_value(task, check, arg.span, "an XCom reference inside a collection has no dag-factory form")
    if isinstance(value, str) and value.startswith("+"):
        return _refuse_value(task, check, arg.span, f"dag-factory would read the string {value!r} as a task reference")
    if not check_value(value, arg.name, arg.span, check, templated=None):
        return REFUSED
    return value


def _callable_arguments(field_name: str, ref: CallableRef, span: Span, check: CheckContext) -> list[Argument] | None:
    """`python_callable: module.function` for an importable function, or `python_callable_name` +
    `python_callable_file` for one defined in the DAG file; None (with a diagnostic) otherwise."""
    if not ref.defined_in_file:
        return [Argument("python_callable", ref.qualname, span)]
    module, _, function = ref.qualname.rpartition(".")
    if "<locals>" in module or function == "<lambda>" or module != _module_name(span.path):
        check.add(codes.CALLABLE_VALUE, ref.span or span, field=field_name, function=function,
                  hint="it is a lambda, nested in a function, or rebound by a decorator, so no module "
                       "attribute holds it; define it with def at module level")
        return None
    if check.target.dags_folder is None or check.relative is None:
        check.add(codes.DAGS_FOLDER_UNKNOWN, ref.span or span, field=field_name, function=function)
        return None
    check.add(codes.CALLABLE_IN_DAG_FILE, ref.span or span, field=field_name, function=function, file=check.relative)
    return [Argument("python_callable_name", function, span),
            Argument("python_callable_file", f"{check.target.dags_folder.rstrip('/')}/{check.relative}", span)]


# ---------------------------------------------------------------------------------------------
# The target


@dataclass(frozen=True)
class DagFactory(Target):
    """dag-factory 1.0 on Airflow 3: any importable operator and most of Airflow's structure."""

    features: frozenset[Feature] = field(default=frozenset({
        Feature.TASK_GROUPS, Feature.TASKFLOW, Feature.MAPPING, Feature.SCHEDULE_OBJECTS, Feature.PARAMS_OBJECTS,
        Feature.ANY_OPERATOR, Feature.PYTHON_CALLABLES, Feature.CALLBACKS,
    }))

    def check_operator(self, task: Task, canonical: str, rule: OperatorRule | None, check: CheckContext) -> None:
        """Any importable class; one defined in the DAG file itself has no import path."""
        module = canonical.rpartition(".")[0]
        if not module or module == _module_name(task.span.path) or "<locals>" in canonical:
            short = canonical.rsplit(".", 1)[-1]
            check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                      hint=f"{short} is defined in the DAG file, so YAML cannot import it; move it into a module "
                           "of the dags folder and import it from there")
        else:
            unknown_amazon_class(task, canonical, rule, check)

    def schedule_object(self, value: object, span: Span, check: CheckContext) -> object:
        return _schedule_object(value, span, check)

    def expand_arguments(self, task: Task, workflow: Workflow, check: CheckContext) -> dict[str, object] | None:
        if not task.expand:
            check.add(codes.MAPPED_TASK, task.span, task=task.task_id,
                      hint="expand_kwargs() has no dag-factory 1.0 form; use expand() with named arguments")
            return None
        expand: dict[str, object] = {}
        for arg in task.arguments:
            if arg.name in task.expand and arg.inherited_from is None:
                value = _mapped_value(arg, task, workflow, check)
                if value is not REFUSED:
                    expand[arg.name] = value
        return expand

    def python_callable(self, arg: Argument, canonical: str, check: CheckContext) -> list[Argument]:
        if canonical not in PYTHON_CALLABLE_OPERATORS:
            check.add(codes.CALLABLE_VALUE, arg.span, field=arg.name, function=arg.value.qualname,  # type: ignore[union-attr]
                      hint="dag-factory 1.0 imports python_callable only for PythonOperator, "
                           "BranchPythonOperator and PythonSensor and their subclasses")
            return []
        return _callable_arguments(arg.name, arg.value, arg.span, check) or []  # type: ignore[arg-type]

    def taskflow_task(self, task: Task, workflow: Workflow, check: CheckContext) -> Task:
        """A `@task` function call (or `.partial().expand()` of one) as a `decorator:` task."""
        variant = task.operator.rsplit(".", 1)[-1]
        function = f"{task.callable_name}()"
        if variant != "python":
            check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=function,
                      hint=f"only @task becomes a dag-factory decorator task; @task.{variant} has no 1.0 form")
            return task
        call = task.taskflow
        ref = call.callable if call is not None else None
        arguments: list[Argument] = []
        if isinstance(ref, CallableRef):
            kept = _callable_arguments("python_callable", ref, task.span, check)
            if kept is None:
                return task
            arguments.extend(kept)
        else:
            reason = ref.reason if isinstance(ref, Unresolved) else "the function is not known"
            check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=function,
                      hint=f"{reason}; dag-factory needs the plain function: define it without @task at module "
                           f"level (or in a module) and make the task with task({task.callable_name})(...)")
            return task
        params = set(call.parameters) if call is not None and call.parameters is not None else None
        passed = set(call.call_arguments) if call is not None else set()
        options: list[Argument] = []
        values: dict[str, object] = {}
        expand: dict[str, object] = {}
        refused = False
        for arg in task.arguments:
            if arg.inherited_from is not None:
                continue  # the group keeps its default_args, and applies them itself
            if arg.name.startswith("arg") and arg.name[3:].isdigit():
                _refuse_value(task, check, arg.span, "a positional argument of a function whose parameters are not "
                              "known (imported); pass it by keyword")
                refused = True
                continue
            if arg.name in task.expand:
                value = _mapped_value(arg, task, workflow, check)
                if value is REFUSED:
                    refused = True
                else:
                    expand[arg.name] = value
            elif arg.name in passed or (params is not None and arg.name in params):
                value = _call_value(arg, task, workflow, check)
                if value is REFUSED:
                    refused = True
                else:
                    values[arg.name] = value
            else:
                converted = task_argument(arg, task, "task", None, check)
                if converted is not None:
                    options.append(converted)
        if refused:
            return task
        arguments.extend(options)
        if task.mapped:
            # dag-factory 1.0 ignores call arguments outside `partial` once `expand` is given.
            if values:
                arguments.append(Argument("partial", values, task.span))
            arguments.append(Argument("expand", expand, task.span))
        else:
            arguments.extend(Argument(name, value, task.span) for name, value in values.items())
        return replace(task, operator=TASKFLOW_DECORATOR, arguments=tuple(arguments))

    def shape_groups(self, workflow: Workflow, check: CheckContext) -> Workflow:
        """Tasks and groups under their bare dag-factory names, tasks joined to groups by
        `task_group_name`, groups nested by `parent_group_name` (TARGET.md §2.3)."""
        taken: dict[str, str] = {}

        def claim(label: str, what: str, span: Span) -> None:
            """dag-factory names tasks and groups by bare name: two of one name cannot both be built."""
            if label in taken:
                check.add(codes.UNSUPPORTED_TASK_GROUP, span, what=what,
                          reason=f"dag-factory names groups and tasks by bare name, and {label!r} is also {taken[label]}")
            taken.setdefault(label, what)

        for group in workflow.groups:
            claim(group_label(group), f"task group {group.group_id!r}", group.span)
            prefix = next((a.value for a in group.arguments if a.name == "prefix_group_id"), True)
            if prefix is not True:
                check.add(codes.UNSUPPORTED_TASK_GROUP, group.span, what=f"task group {group.group_id!r}",
                          reason="dag-factory 1.0 looks grouped tasks up as 'group.task', so prefix_group_id=False fails")
        downstream: dict[str, list[str]] = {}
        for task in workflow.tasks:
            for up in task.upstream:
                downstream.setdefault(up, []).append(task.task_id)
        for task in workflow.tasks:
            claim(task_label(task), f"task {task.task_id!r}", task.span)
            if task.group and task.kind is TaskKind.TASKFLOW and (task.upstream or downstream.get(task.task_id)):
                check.add(codes.UNSUPPORTED_TASK_GROUP, task.span, what=f"TaskFlow task {task.task_id!r}",
                          reason="dag-factory 1.0 registers decorator tasks under their bare name, so dependencies "
                                 "of one inside a task group fail with KeyError")
        labels = {t.task_id: task_label(t) for t in workflow.tasks}
        groups_by_id = {g.group_id: g for g in workflow.groups}
        tasks = []
        for task in workflow.tasks:
            arguments = task.arguments
            group = None
            if task.group:
                group = group_label(groups_by_id[task.group]) if task.group in groups_by_id else task.group
                arguments = (Argument("task_group_name", group, task.span), *arguments)
            tasks.append(replace(task, task_id=labels[task.task_id], group=group, arguments=arguments,
                                 upstream=tuple(labels.get(u, u) for u in task.upstream)))
        groups = []
        for group in workflow.groups:
            kept = []
            for arg in group.arguments:
                if arg.name == "default_args":
                    if isinstance(arg.value, dict):
                        kept.append(Argument(arg.name, default_args(arg.value, arg.span, check), arg.span))
                    elif not report_unresolved(arg.value, f"default_args of task group {group.group_id!r}", check):
                        check.add(codes.UNSUPPORTED_TASK_GROUP, arg.span, what=f"task group {group.group_id!r}",
                                  reason="default_args is not a dict")
                    continue
                if report_unresolved(arg.value, f"argument {arg.name!r} of task group {group.group_id!r}", check):
                    continue
                if check_value(arg.value, arg.name, arg.span, check, templated=False):
                    kept.append(arg)
            parent = group_label(groups_by_id[group.parent]) if group.parent in groups_by_id else group.parent
            groups.append(TaskGroupInfo(group_label(group), group.span, parent, tuple(kept)))
        return replace(workflow, tasks=tuple(tasks), groups=tuple(groups))


TARGET: Final = DagFactory("dag-factory")

__all__ = ["PYTHON_CALLABLE_OPERATORS", "SCHEDULE_TYPES", "TARGET", "TASKFLOW_DECORATOR", "DagFactory",
           "group_label", "task_label"]
