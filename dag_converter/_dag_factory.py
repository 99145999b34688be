"""The dag-factory target's rules: what `validate.check_workflow` does differently for it.

dag-factory 1.0 (TARGET.md §2) keeps more of Airflow than MWAA Serverless: any importable
operator, task groups, TaskFlow `decorator:` tasks with `+task` references, `expand`/`partial`,
python callables by import string or by file and name, and `__type__` schedules. Each function
here normalises one part of a workflow for it and reports, as diagnostics, what dag-factory 1.0
cannot build; nothing is guessed. The emitter then writes the normalised workflow as is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from dag_converter import codes
from dag_converter.analyzer import module_name_for
from dag_converter.model import Argument, CallableRef, Duration, ObjectValue, Span, Task, TaskGroupInfo, \
    TaskKind, Unresolved, Workflow, XComRef, walk_values
from dag_converter.validate import (
    AMAZON_PREFIX,
    TASKFLOW_OPERATOR_PREFIX,
    _REFUSED,
    _Check,
    _check_value,
    _default_args,
    _has_amazon_rules,
    _is_taskflow,
    _report_unresolved,
    _task_argument,
)

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


# ---------------------------------------------------------------------------------------------
# Values


def schedule_object(value: object, span: Span, check: _Check) -> object:
    """A timedelta, Asset, list of Assets or timetable schedule, kept for `__type__`."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not all(isinstance(i, ObjectValue) and i.class_path == "airflow.sdk.Asset"
                                           for i in items):
        check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule="a list", detail="only a list of Assets is a schedule")
        return _REFUSED
    for item in items:
        if isinstance(item, Duration):
            continue
        if not isinstance(item, ObjectValue) or item.class_path not in SCHEDULE_TYPES:
            described = item.class_path if isinstance(item, ObjectValue) else type(item).__name__
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=described,
                      detail="dag-factory 1.0 builds only Assets, timedeltas and Airflow's cron/delta timetables")
            return _REFUSED
        for inner in walk_values([*item.args, *(v for _, v in item.kwargs)]):
            if isinstance(inner, (ObjectValue, CallableRef, XComRef)) or (
                    isinstance(inner, str) and "$" in inner):
                check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=item.class_path,
                          detail="an argument has no YAML form")
                return _REFUSED
    return value


def params_objects(value: object) -> object:
    """DAG params with `Param(...)` kept whole: dag-factory builds `__type__: airflow.sdk.Param`."""
    return value


def _xcom_key(ref: XComRef, workflow: Workflow) -> Task | None:
    return next((t for t in workflow.tasks if t.task_id == ref.task_id), None)


def _refuse_value(task: Task, check: _Check, span: Span, reason: str) -> object:
    code = codes.TASKFLOW_TASK if task.kind == TaskKind.TASKFLOW else codes.MAPPED_TASK
    check.add(code, span, task=task.task_id, function=f"{task.callable_name}()", hint_override=reason)
    return _REFUSED


def _mapped_value(arg: Argument, task: Task, workflow: Workflow, check: _Check, *, taskflow: bool) -> object:
    """An `expand` value: a literal list, `+task` (TaskFlow) or `<task>.output` (operators)."""
    value = arg.value
    if _report_unresolved(value, f"expand argument {arg.name!r} of task {task.task_id!r}", check):
        return _REFUSED
    if isinstance(value, XComRef):
        upstream = _xcom_key(value, workflow)
        if value.key != "return_value" or upstream is None:
            return _refuse_value(task, check, arg.span, f"expand over XCom key {value.key!r} has no dag-factory 1.0 form")
        if taskflow:
            if not _is_taskflow(upstream):
                # `+name` resolves to the operator object for classic operators, not its output.
                return _refuse_value(task, check, arg.span, f"a TaskFlow task can expand over another TaskFlow "
                                     f"task's result only; {upstream.task_id!r} is an operator")
            return "+" + task_label(upstream)
        if _is_taskflow(upstream):
            return _refuse_value(task, check, arg.span, f"dag-factory 1.0 cannot expand an operator over the "
                                 f"TaskFlow task {upstream.task_id!r}")
        return f"{upstream.task_id}.output"
    if any(isinstance(v, XComRef) for v in walk_values(value)):
        return _refuse_value(task, check, arg.span, "an XCom reference inside a collection has no dag-factory form")
    if isinstance(value, str) and (value.startswith("+") or ".output" in value or "XcomArg" in value):
        return _refuse_value(task, check, arg.span, f"dag-factory would read the string {value!r} as a task reference")
    if not _check_value(value, arg.name, arg.span, check, templated=None):
        return _REFUSED
    return value


def _call_value(arg: Argument, task: Task, workflow: Workflow, check: _Check) -> object:
    """A TaskFlow call argument: a literal, or `+task` for another TaskFlow task's result."""
    value = arg.value
    if _report_unresolved(value, f"argument {arg.name!r} of task {task.task_id!r}", check):
        return _REFUSED
    if isinstance(value, XComRef):
        upstream = _xcom_key(value, workflow)
        if upstream is None or value.key != "return_value":
            return _refuse_value(task, check, arg.span, "`+task['key']` needs dag-factory 1.1; 1.0 passes only return values")
        if not _is_taskflow(upstream):
            return _refuse_value(task, check, arg.span, f"dag-factory 1.0 passes only TaskFlow results as "
                                 f"`+task`; {upstream.task_id!r} is an operator (use "
                                 f"'{{{{ ti.xcom_pull(task_ids=\"{upstream.task_id}\") }}}}' in the source)")
        return "+" + task_label(upstream)
    if any(isinstance(v, XComRef) for v in walk_values(value)):
        return _refuse_value(task, check, arg.span, "an XCom reference inside a collection has no dag-factory form")
    if isinstance(value, str) and value.startswith("+"):
        return _refuse_value(task, check, arg.span, f"dag-factory would read the string {value!r} as a task reference")
    if not _check_value(value, arg.name, arg.span, check, templated=None):
        return _REFUSED
    return value


# ---------------------------------------------------------------------------------------------
# Callables


def callable_arguments(field: str, ref: CallableRef, span: Span, check: _Check) -> list[Argument] | None:
    """`python_callable: module.function` for an importable function, or `python_callable_name` +
    `python_callable_file` for one defined in the DAG file; None (with a diagnostic) otherwise."""
    if not ref.defined_in_file:
        return [Argument("python_callable", ref.qualname, span)]
    module, _, function = ref.qualname.rpartition(".")
    if "<locals>" in module or function == "<lambda>" or module != module_name_for(span.path):
        check.add(codes.CALLABLE_VALUE, ref.span or span, field=field, function=function,
                  hint_override="it is a lambda, nested in a function, or rebound by a decorator, so no module "
                                "attribute holds it; define it with def at module level")
        return None
    if check.target.dags_folder is None or check.relative is None:
        check.add(codes.DAGS_FOLDER_UNKNOWN, ref.span or span, field=field, function=function)
        return None
    check.add(codes.CALLABLE_IN_DAG_FILE, ref.span or span, field=field, function=function, file=check.relative)
    return [Argument("python_callable_name", function, span),
            Argument("python_callable_file", f"{check.target.dags_folder.rstrip('/')}/{check.relative}", span)]


# ---------------------------------------------------------------------------------------------
# Tasks


def operator_task(task: Task, workflow: Workflow, canonical: str, rule: object, legacy_from: str | None,
                  dag_defaults: dict[object, object], check: _Check) -> Task:
    """A classic (possibly mapped) operator task: any importable class."""
    short = canonical.rsplit(".", 1)[-1]
    module = canonical.rpartition(".")[0]
    allowed = check.target.allows(task.operator, canonical)
    if not module or module == module_name_for(task.span.path) or "<locals>" in canonical:
        check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                  hint=f"{short} is defined in the DAG file, so YAML cannot import it; move it into a module "
                       "of the dags folder and import it from there")
    elif canonical.startswith(AMAZON_PREFIX) and rule is None and _has_amazon_rules(check.registry) and not allowed:
        check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                  hint="no such class in apache-airflow-providers-amazon 9.32.0; check the name")
    expand_names = set(task.expand)
    if task.mapped and not expand_names:
        check.add(codes.MAPPED_TASK, task.span, task=task.task_id,
                  hint_override="expand_kwargs() has no dag-factory 1.0 form; use expand() with named arguments")
    arguments: list[Argument] = []
    expand: dict[str, object] = {}
    for arg in task.arguments:
        if arg.inherited_from is not None:
            continue
        if arg.name in expand_names:
            value = _mapped_value(arg, task, workflow, check, taskflow=False)
            if value is not _REFUSED:
                expand[arg.name] = value
            continue
        if arg.name == "python_callable" and isinstance(arg.value, CallableRef):
            if canonical not in PYTHON_CALLABLE_OPERATORS:
                check.add(codes.CALLABLE_VALUE, arg.span, field=arg.name, function=arg.value.qualname,
                          hint_override="dag-factory 1.0 imports python_callable only for PythonOperator, "
                                        "BranchPythonOperator and PythonSensor and their subclasses")
                continue
            kept = callable_arguments(arg.name, arg.value, arg.span, check)
            arguments.extend(kept or ())
            continue
        converted = _task_argument(arg, task, short, rule, check)
        if converted is not None:
            arguments.append(converted)
    if expand:
        arguments.append(Argument("expand", expand, task.span))
    from dag_converter.registry import OperatorRule

    if isinstance(rule, OperatorRule) and rule.complete:
        given = {a.name for a in task.arguments} | {str(k) for k in dag_defaults} | {"task_id"}
        for name in rule.required:
            if name not in given:
                check.add(codes.MISSING_ARGUMENT, task.span, operator=short, argument=name)
    return replace(task, operator=canonical, arguments=tuple(arguments), source_operator=legacy_from)


def taskflow_task(task: Task, workflow: Workflow, check: _Check) -> Task:
    """A `@task` function call (or `.partial().expand()` of one) as a `decorator:` task."""
    variant = task.operator[len(TASKFLOW_OPERATOR_PREFIX):]
    function = f"{task.callable_name}()"
    if variant != "python":
        check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=function,
                  hint_override=f"only @task becomes a dag-factory decorator task; @task.{variant} has no 1.0 form")
        return task
    ref = task.taskflow.callable if task.taskflow is not None else None
    arguments: list[Argument] = []
    if isinstance(ref, CallableRef):
        kept = callable_arguments("python_callable", ref, task.span, check)
        if kept is None:
            return task
        arguments.extend(kept)
    else:
        reason = ref.reason if isinstance(ref, Unresolved) else "the function is not known"
        check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=function,
                  hint_override=f"{reason}; dag-factory needs the plain function: define it without @task at module "
                                f"level (or in a module) and make the task with task({task.callable_name})(...)")
        return task
    given = task.taskflow.parameters if task.taskflow is not None else None
    params = set(given) if given is not None else None
    passed = set(task.taskflow.call_arguments) if task.taskflow is not None else set()
    expand_names = set(task.expand)
    mapped = task.mapped
    options: list[Argument] = []
    call: dict[str, object] = {}
    expand: dict[str, object] = {}
    refused = False
    for arg in task.arguments:
        if arg.inherited_from is not None:
            continue
        if arg.name.startswith("arg") and arg.name[3:].isdigit():
            _refuse_value(task, check, arg.span, "a positional argument of a function whose parameters are not "
                          "known (imported); pass it by keyword")
            refused = True
            continue
        if arg.name in expand_names:
            value = _mapped_value(arg, task, workflow, check, taskflow=True)
            if value is _REFUSED:
                refused = True
            else:
                expand[arg.name] = value
        elif arg.name in passed or (params is not None and arg.name in params):
            value = _call_value(arg, task, workflow, check)
            if value is _REFUSED:
                refused = True
            else:
                call[arg.name] = value
        else:
            converted = _task_argument(arg, task, "task", None, check)
            if converted is not None:
                options.append(converted)
    if refused:
        return task
    arguments.extend(options)
    if mapped:
        # dag-factory 1.0 ignores call arguments outside `partial` once `expand` is given.
        if call:
            arguments.append(Argument("partial", call, task.span))
        arguments.append(Argument("expand", expand, task.span))
    else:
        arguments.extend(Argument(name, value, task.span) for name, value in call.items())
    return replace(task, operator=TASKFLOW_DECORATOR, kind=TaskKind.TASKFLOW, arguments=tuple(arguments))


# ---------------------------------------------------------------------------------------------
# Task groups


def shape_groups(workflow: Workflow, check: _Check) -> Workflow:
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
        if task.group and task.kind == "taskflow" and (task.upstream or downstream.get(task.task_id)):
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
        arguments = []
        for arg in group.arguments:
            if arg.name == "default_args":
                if isinstance(arg.value, dict):
                    arguments.append(Argument(arg.name, _default_args(arg.value, arg.span, check), arg.span))
                elif not _report_unresolved(arg.value, f"default_args of task group {group.group_id!r}", check):
                    check.add(codes.UNSUPPORTED_TASK_GROUP, arg.span, what=f"task group {group.group_id!r}",
                              reason="default_args is not a dict")
                continue
            if _report_unresolved(arg.value, f"argument {arg.name!r} of task group {group.group_id!r}", check):
                continue
            if _check_value(arg.value, arg.name, arg.span, check, templated=False):
                arguments.append(arg)
        parent = group_label(groups_by_id[group.parent]) if group.parent in groups_by_id else group.parent
        groups.append(TaskGroupInfo(group_label(group), group.span, parent, tuple(arguments)))
    return replace(workflow, tasks=tuple(tasks), groups=tuple(groups))


__all__ = ["TASKFLOW_DECORATOR", "operator_task", "params_objects", "schedule_object", "shape_groups",
           "taskflow_task"]
