"""DAGs, task groups and tasks while a file is interpreted, and their frozen model form.

The builders are mutable: libraries/airflow.py creates and fills them as the file's code runs.
`discover` decides which DAGs exist the way Airflow's DagBag does (DAGs used as context managers
or returned by @dag functions register themselves; DAG objects bound to a module-level name at the
end of the file are found there), and `freeze_dag` turns each into a `model.Workflow`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst

from dag_converter.analyzer.imports import Symbol
from dag_converter.analyzer.interpreter import Interpreter
from dag_converter.analyzer.values import Budget, Opaque, UserFunction, is_container
from dag_converter.model import (
    Argument,
    CallableRef,
    DateTime,
    Diagnostic,
    Duration,
    EnumMember,
    ObjectValue,
    Span,
    Task,
    TaskFlowCall,
    TaskGroupInfo,
    TaskKind,
    Unresolved,
    Workflow,
    XComRef,
)


@dataclass(eq=False)
class DagBuilder:
    dag_id: str
    span: Span
    arguments: dict[str, Argument] = field(default_factory=dict)
    tasks: dict[str, "TaskBuilder"] = field(default_factory=dict)
    groups: list["GroupBuilder"] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    registered: bool = False  #: used as a context manager (Airflow's auto_register)
    taskflow_names: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class GroupBuilder:
    group_id: str  #: full id, parents' prefixes included
    dag: DagBuilder
    span: Span
    parent: "GroupBuilder | None"
    prefix_group_id: bool = True
    default_args: dict[str, object] = field(default_factory=dict)
    arguments: dict[str, Argument] = field(default_factory=dict)
    tasks: list["TaskBuilder"] = field(default_factory=list)

    def child_id(self, label: str) -> str:
        # Airflow's TaskGroup.child_id: the group's own prefix_group_id decides.
        return f"{self.group_id}.{label}" if self.prefix_group_id else label

    def all_tasks(self) -> list["TaskBuilder"]:
        return [t for t in self.dag.tasks.values() if t.group is not None and t.group.within(self)]

    def within(self, ancestor: "GroupBuilder") -> bool:
        current: GroupBuilder | None = self
        while current is not None:
            if current is ancestor:
                return True
            current = current.parent
        return False


@dataclass(eq=False)
class TaskBuilder:
    task_id: str
    operator: str
    span: Span
    dag: DagBuilder | None
    arguments: dict[str, Argument] = field(default_factory=dict)
    upstream: set[str] = field(default_factory=set)
    group: GroupBuilder | None = None
    kind: TaskKind = TaskKind.OPERATOR
    callable_name: str | None = None
    mapped: bool = False
    expand: tuple[str, ...] = ()
    taskflow: TaskFlowCall | None = None


@dataclass(frozen=True)
class TaskOutput:
    """`task.output` / XComArg(task) / a TaskFlow call's result."""

    task: TaskBuilder
    key: str = "return_value"


@dataclass(frozen=True)
class EdgeLabel:
    text: object
    upstream: tuple[object, ...] = ()


@dataclass
class PartialOperator:
    """`Operator.partial(...)`, waiting for `.expand()`."""

    operator: str
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass
class DagFunction:
    """A `@dag` function: each call makes a DAG and runs the body inside it."""

    function: UserFunction
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass
class TaskFlowFunction:
    """A `@task` function: each call makes a TaskFlow task."""

    function: UserFunction | None
    name: str
    variant: str
    kwargs: dict[str, object]
    imported: Symbol | None = None  #: `task(helpers.f)`: the imported function, when not in the file


@dataclass
class TaskGroupFunction:
    """A `@task_group` function: each call opens a task group and runs the body inside it."""

    function: UserFunction
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


class DecoratorKind(str, Enum):
    DAG = "dag"
    TASK = "task"
    TASK_GROUP = "task_group"


@dataclass
class Decorator:
    """`@dag(...)`/`@task(...)`/`@task_group(...)` with its arguments, waiting for its function."""

    kind: DecoratorKind
    variant: str
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass
class TaskMethod:
    """`task.set_upstream`, `partial.expand`, `taskflow.override`, ...: a bound method of a DAG object."""

    target: object
    name: str


# ---------------------------------------------------------------------------------------------
# Freezing interpreter values into model values

#: An imported name spelled as a constant (`RED`, `MAX_SIZE`): a value, never taken for a function.
_CONSTANT_NAME: Final = re.compile(r"^[A-Z][A-Z0-9_]*$")


def freeze(interp: Interpreter, value: object, node: cst.CSTNode | None) -> object:
    """A value as the model holds it: plain data, model values, or Unresolved with a reason."""
    if is_container(value) and node is not None:
        interp.meter.visit(value, "emitting a value", node)
    return _freeze(interp, value, node)


def _freeze(interp: Interpreter, value: object, node: cst.CSTNode | None) -> object:
    if value is None or isinstance(value, (str, int, float, bool, DateTime, Duration, ObjectValue, EnumMember,
                                           Unresolved)):
        return value
    if isinstance(value, list):
        return [_freeze(interp, v, node) for v in value]
    if isinstance(value, tuple):
        return tuple(_freeze(interp, v, node) for v in value)
    if isinstance(value, dict):
        unknown = interp.open_dicts.unknown_part(value)
        if unknown is not None:
            return unknown
        return {k: _freeze(interp, v, node) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        if all(isinstance(v, str) for v in value):
            return sorted(value)
        return Unresolved("a set of non-string values has no fixed order", interp.span_or_file(node))
    if isinstance(value, TaskOutput):
        return XComRef(value.task.task_id, value.key, interp.span_or_file(node))
    if isinstance(value, UserFunction):
        return function_ref(interp, value, node)
    if isinstance(value, TaskFlowFunction):
        return CallableRef(f"{interp.module_name}.{value.name}", True, interp.span_or_file(node))
    if isinstance(value, Symbol):
        parent, _, last = value.qualname.rpartition(".")
        if _CONSTANT_NAME.match(last) and parent:
            # `Color.RED`, `config.BUCKET`: a constant or enum member of an imported module, not a function.
            owner = parent.rsplit(".", 1)[-1]
            if value.local:
                reason = f"{owner}.{last} is an attribute of a class defined in the DAG file (an enum member?)"
            elif owner[:1].isupper():
                reason = (f"{owner}.{last} ({parent}) is an enum member or class constant from outside the DAG "
                          "folder; the converter knows the members of the Amazon and standard providers' enums only")
            else:
                reason = f"{last} is a constant of {parent}, a module outside the DAG folder"
            return Unresolved(reason, interp.span_or_file(node))
        return CallableRef(value.qualname, value.local, interp.span_or_file(node))
    if isinstance(value, TaskBuilder):
        return Unresolved(f"task {value.task_id!r} passed as a value", interp.span_or_file(node))
    if isinstance(value, bytes):
        return Unresolved("bytes values have no YAML form (decode them to text)", interp.span_or_file(node))
    if isinstance(value, Opaque):  # a logger, what print() returns: said by what made it
        return Unresolved(f"a value made by {value.what}() is not known statically", interp.span_or_file(node))
    return Unresolved(f"a {type(value).__name__} value has no YAML form", interp.span_or_file(node))


def function_ref(interp: Interpreter, function: UserFunction, node: cst.CSTNode | None) -> CallableRef:
    """A function as YAML can name it: `module.name` when a module attribute holds exactly this
    function, else `module.<locals>.name` (nested, lambda, or rebound by a decorator)."""
    span = interp.span_or_file(node)
    if isinstance(function.node, cst.FunctionDef):
        if function.scope is interp.module_scope and interp.module_scope.values.get(function.name) is function:
            return CallableRef(f"{interp.module_name}.{function.name}", True, span)
        scopes = interp.imports.scopes if interp.imports is not None else {}
        for module, scope in scopes.items():
            if function.scope is scope and scope.values.get(function.name) is function:
                return CallableRef(f"{module}.{function.name}", False, span)
    return CallableRef(f"{interp.module_name}.<locals>.{function.name}", True, span)


def freeze_dag(dag: DagBuilder) -> Workflow:
    tasks = tuple(
        Task(
            task_id=t.task_id,
            operator=t.operator,
            span=t.span,
            arguments=tuple(t.arguments.values()),
            upstream=tuple(sorted(t.upstream)),
            group=t.group.group_id if t.group is not None else None,
            kind=t.kind,
            callable_name=t.callable_name,
            mapped=t.mapped,
            expand=t.expand,
            taskflow=t.taskflow,
        )
        for t in dag.tasks.values()
    )
    groups = tuple(
        TaskGroupInfo(g.group_id, g.span, g.parent.group_id if g.parent else None, tuple(g.arguments.values()))
        for g in dag.groups
    )
    return Workflow(dag.dag_id, dag.span, tuple(dag.arguments.values()), tasks, groups, tuple(dag.diagnostics))


def discover(interp: Interpreter, all_dags: list[DagBuilder], stopped: Budget | None) -> tuple[Workflow, ...]:
    """The file's DAGs, in the order they were made: registered ones, then DAG objects bound to a
    module-level name. When a limit stopped the file, only the DAGs open at that moment are kept
    (the file is refused once, not once per DAG made before)."""
    if stopped is not None:
        found = [d for d in all_dags if any(d is open_dag for open_dag in stopped.open_regions)]
    else:
        found = [d for d in all_dags if d.registered]
        for value in interp.module_scope.values.values():
            if isinstance(value, DagBuilder) and value not in found:
                found.append(value)
    order = {id(d): index for index, d in enumerate(all_dags)}
    found.sort(key=lambda d: order[id(d)])
    return tuple(freeze_dag(d) for d in found)


__all__ = ["DagBuilder", "DagFunction", "Decorator", "DecoratorKind", "EdgeLabel", "GroupBuilder", "PartialOperator",
           "TaskBuilder", "TaskFlowFunction", "TaskGroupFunction", "TaskMethod", "TaskOutput", "discover", "freeze", "freeze_dag",
           "function_ref"]
