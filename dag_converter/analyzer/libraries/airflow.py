"""Airflow as the interpreter sees it: DAG/@dag, TaskGroup/@task_group, operators, .partial/.expand,
@task, >>/<</chain/cross_downstream, Label, XComArg, Param, schedules, TriggerRule/WeightRule.

Calls of Airflow names are handled by Role (`CALLS`); operators are recognised by name or by the
rule registry. The objects made (DAG, group and task builders) are in dags.py. The DAGs open at a
moment are the interpreter's regions: diagnostics found inside one belong to that DAG.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer.dags import (
    DagBuilder,
    DagFunction,
    Decorator,
    DecoratorKind,
    EdgeLabel,
    GroupBuilder,
    PartialOperator,
    TaskBuilder,
    TaskFlowFunction,
    TaskGroupFunction,
    TaskMethod,
    TaskOutput,
    freeze,
    function_ref,
)
from dag_converter.analyzer.imports import SCHEDULE_CLASSES, Role, Symbol, role_of
from dag_converter.analyzer.interpreter import BaseLibrary, Interpreter
from dag_converter.analyzer.libraries.templates import inline_template_files
from dag_converter.analyzer.values import (
    Break,
    CallArgs,
    Continue,
    Return,
    Scope,
    Unresolved,
    UserFunction,
    first_unresolved,
)
from dag_converter.model import (
    Argument,
    CallableRef,
    Diagnostic,
    EnumMember,
    ObjectValue,
    TaskFlowCall,
    TaskKind,
    walk_values,
)
from dag_converter.registry import ProviderEnum, get_registry

_OPERATOR_NAME: Final = re.compile(r"^[A-Z]\w*(Operator|Sensor)$")
TASKFLOW_OPERATOR: Final = "airflow.providers.standard.decorators.python.task"
_NOT_TASK_ARGS: Final = frozenset({"task_id", "dag", "task_group"})
_TRIGGER_RULES: Final = frozenset({
    "ALL_SUCCESS", "ALL_FAILED", "ALL_DONE", "ALL_DONE_SETUP_SUCCESS", "ALL_SKIPPED", "ONE_SUCCESS",
    "ONE_FAILED", "ONE_DONE", "NONE_FAILED", "NONE_FAILED_OR_SKIPPED", "NONE_SKIPPED", "DUMMY",
    "ALWAYS", "NONE_FAILED_MIN_ONE_SUCCESS", "ALL_DONE_MIN_ONE_SUCCESS",
})
_WEIGHT_RULES: Final = frozenset({"DOWNSTREAM", "UPSTREAM", "ABSOLUTE"})
_ENUM_MEMBERS: Final = {Role.TRIGGER_RULE: _TRIGGER_RULES, Role.WEIGHT_RULE: _WEIGHT_RULES}
_DEPENDENCY_METHODS: Final = ("set_upstream", "set_downstream")

CallHandler = Callable[["AirflowLibrary", Symbol, CallArgs, cst.Call], object]


class AirflowLibrary(BaseLibrary):
    """Builds DAGs, groups and tasks as the file's code makes them."""

    def __init__(self, interpreter: Interpreter) -> None:
        super().__init__(interpreter)
        self.registry = get_registry()
        self.dags: list[DagBuilder] = []  #: every DAG made, in order
        self.groups: list[GroupBuilder] = []  #: the task groups open, innermost last

    @property
    def dag_stack(self) -> list[DagBuilder]:
        return self.interpreter.regions  # type: ignore[return-value]

    def current_dag(self) -> DagBuilder | None:
        return self.dag_stack[-1] if self.dag_stack else None

    # -- diagnostics -----------------------------------------------------------------------------

    def report_unresolved(self, what: str, value: object, node: cst.CSTNode, dag: DagBuilder | None = None) -> None:
        self.interpreter.report(self.unresolved_diagnostic(what, value, node), dag)

    def unresolved_diagnostic(self, what: str, value: object, node: cst.CSTNode | None) -> Diagnostic:
        if isinstance(value, Unresolved) and value.source:
            return codes.make(codes.RUNTIME_VALUE, value.span, what=what, source=value.source)
        span = value.span if isinstance(value, Unresolved) else self.interpreter.span_or_file(node)
        reason = value.reason if isinstance(value, Unresolved) else "unknown value"
        return codes.make(codes.UNRESOLVED_VALUE, span, what=what, reason=reason,
                          hint="use a literal or module-level constant, or params and --override-parameters")

    def freeze(self, value: object, node: cst.CSTNode | None) -> object:
        return freeze(self.interpreter, value, node)

    # -- the Library protocol ----------------------------------------------------------------------

    def call(self, func: object, call: CallArgs, node: cst.Call) -> object:
        if isinstance(func, Symbol):
            return self.call_symbol(func, call, node)
        if isinstance(func, DagFunction):
            return self.call_dag_function(func, call, node)
        if isinstance(func, TaskFlowFunction):
            return self.call_taskflow(func, call.positional, self._keywords(call), node)
        if isinstance(func, TaskGroupFunction):
            return self.call_task_group(func, call, node)
        if isinstance(func, Decorator):
            args = call.positional
            if func.kind is DecoratorKind.TASK and len(args) == 1 and not call.keywords \
                    and isinstance(args[0], Symbol) and not args[0].local:
                # `task(retries=2)(helpers.f)`: an imported function made a TaskFlow task.
                return TaskFlowFunction(None, args[0].qualname.rsplit(".", 1)[-1], func.variant,
                                        dict(func.kwargs), args[0])
            return self.interpreter.unresolved(node, "decorator applied to a non-function")
        if isinstance(func, TaskMethod):
            return self.call_task_method(func, call, node)
        return NotImplemented

    def attribute(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, Symbol):
            members = _ENUM_MEMBERS.get(role_of(base.qualname))  # type: ignore[arg-type]
            if members is not None and name in members:
                return name.lower()
            return self.enum_member(base, name, node)
        if isinstance(base, EnumMember):
            if name == "value":
                return base.value
            if name == "name":
                return base.name
            return self.interpreter.unresolved(node, f"attribute {name!r} of enum member {base.name}")
        if isinstance(base, TaskBuilder):
            if name == "output":
                return TaskOutput(base)
            if name == "task_id":
                return base.task_id
            if name in (*_DEPENDENCY_METHODS, "as_setup", "as_teardown"):
                return TaskMethod(base, name)
            if name in base.arguments:
                return base.arguments[name].value
            return self.interpreter.unresolved(node, f"attribute {name!r} of task {base.task_id!r}")
        if isinstance(base, TaskOutput):
            if name in _DEPENDENCY_METHODS:
                return TaskMethod(base.task, name)
            return self.interpreter.unresolved(node, f"attribute {name!r} of an XCom reference")
        if isinstance(base, GroupBuilder):
            if name in _DEPENDENCY_METHODS:
                return TaskMethod(base, name)
            if name == "group_id":
                return base.group_id
        if isinstance(base, DagBuilder):
            if name == "dag_id":
                return base.dag_id
            if name == "tasks":
                return list(base.tasks.values())  # the tasks defined so far, as in Airflow
            if name == "task_ids":
                return list(base.tasks)
            if name == "task_dict":
                return dict(base.tasks)
            if name == "task":
                # `@dag.task`: the TaskFlow decorator (the task joins the DAG open where it is called)
                return Symbol("airflow.sdk.task")
            if name in base.arguments:
                return base.arguments[name].value
        if isinstance(base, PartialOperator) and name in ("expand", "expand_kwargs"):
            return TaskMethod(base, name)
        if isinstance(base, TaskFlowFunction) and name in ("override", "expand", "partial", "expand_kwargs"):
            return TaskMethod(base, name)
        return NotImplemented

    def enum_member(self, enum: Symbol, name: str, node: cst.CSTNode) -> object:
        """A member of an enum a provider defines (the registry's data, read from the provider's
        source). Members equal to their values as strings are their values (the operators accept
        the value); any other member stays the member, which the YAML rebuilds with `__type__`."""
        provider_enum = self.registry.enum(enum.qualname)
        if provider_enum is None:
            return NotImplemented
        if name not in provider_enum.members:
            short = provider_enum.class_path.rsplit(".", 1)[-1]
            return self.interpreter.unresolved(
                node, f"{short}.{name} is not a member of {provider_enum.class_path} with a value its source states")
        value = provider_enum.members[name]
        return value if provider_enum.string else EnumMember(provider_enum.class_path, name, value)

    def enum_by_value(self, provider_enum: ProviderEnum, call: CallArgs, node: cst.Call) -> object:
        """`ClusterStates("ACTIVE")`: the member with that value, as `enum_member` gives it."""
        bad = first_unresolved([*call.positional, *call.keywords.values()])
        if bad is not None:
            return bad
        short = provider_enum.class_path.rsplit(".", 1)[-1]
        value = call.positional[0] if len(call.positional) == 1 and not call.keywords else None
        if provider_enum.string and isinstance(value, str) and value in provider_enum.members.values():
            return value
        name = next((n for n, v in provider_enum.members.items() if v == value and type(v) is type(value)), None)
        if name is None:
            return self.interpreter.unresolved(node, f"{short}(...) with a value that is not one of its members")
        return value if provider_enum.string else EnumMember(provider_enum.class_path, name, value)

    def text(self, value: object, node: cst.CSTNode) -> object:
        if isinstance(value, EnumMember):
            if not isinstance(value.value, str):
                # IntEnum's str() is the number from Python 3.11, the member's name before.
                return self.interpreter.unresolved(node, f"str() of the integer enum member {value.name}")
            return f"{value.class_path.rsplit('.', 1)[-1]}.{value.name}"  # Enum.__str__
        if not isinstance(value, TaskOutput):
            return NotImplemented
        task = value.task
        if task.dag is None:
            return self.interpreter.unresolved(node, f"str() of the output of task {task.task_id!r}, which has no DAG")
        # XComArg.__str__: the Jinja expression that pulls the value (a plain string, no dependency).
        return (f"{{{{ task_instance.xcom_pull(task_ids='{task.task_id}', dag_id='{task.dag.dag_id}', "
                f"key='{value.key}') }}}}")

    def subscript(self, base: object, key: object, node: cst.CSTNode) -> object:
        if isinstance(base, TaskOutput) and isinstance(key, str):
            return TaskOutput(base.task, key)  # XComArg["key"]: the same task's XCom under that key
        return NotImplemented

    def binary(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if op == "RightShift":
            return self.relate(left, right, node, ">>")
        if op == "LeftShift":
            self.relate(right, left, node, "<<")
            return right  # `a << b` returns b, like Airflow's __lshift__
        return NotImplemented

    def set_attribute(self, base: object, name: str, value: object, node: cst.CSTNode) -> object:
        if isinstance(base, TaskBuilder):
            self.set_task_argument(base, name, value, node)
            return None
        if isinstance(base, DagBuilder):
            base.arguments[name] = Argument(name, self.freeze(value, node), self.interpreter.span(node))
            return None
        return NotImplemented

    def decorate(self, decorator: object, function: UserFunction, node: cst.CSTNode) -> object:
        if isinstance(decorator, Symbol):
            role = role_of(decorator.qualname)
            if role is Role.DAG_DECORATOR:
                return DagFunction(function, {}, {})
            if role is Role.TASK_DECORATOR:
                return TaskFlowFunction(function, function.name, "python", {})
            parent, _, variant = decorator.qualname.rpartition(".")
            if role_of(parent) is Role.TASK_DECORATOR:
                return TaskFlowFunction(function, function.name, variant, {})
            if role is Role.TASK_GROUP_DECORATOR:
                return TaskGroupFunction(function, {}, {})
        if isinstance(decorator, Decorator):
            if decorator.kind is DecoratorKind.DAG:
                return DagFunction(function, decorator.kwargs, decorator.kwarg_nodes)
            if decorator.kind is DecoratorKind.TASK:
                return TaskFlowFunction(function, function.name, decorator.variant, decorator.kwargs)
            return TaskGroupFunction(function, decorator.kwargs, decorator.kwarg_nodes)
        return NotImplemented

    def enter(self, value: object, node: cst.CSTNode) -> Callable[[], None] | None:
        if isinstance(value, DagBuilder):
            value.registered = True
            self.dag_stack.append(value)
            return self.dag_stack.pop
        if isinstance(value, GroupBuilder):
            self.groups.append(value)
            self.dag_stack.append(value.dag)

            def leave() -> None:
                self.groups.pop()
                self.dag_stack.pop()

            return leave
        return None

    def same_symbol(self, left: Symbol, right: Symbol) -> object:
        # Two spellings of one operator class (an Airflow 2 path and its current path).
        first, second = self.registry.resolve(left.qualname).rule, self.registry.resolve(right.qualname).rule
        return first is not None and first is second

    # -- calls of Airflow names ---------------------------------------------------------------------

    def call_symbol(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        qual = func.qualname
        role = role_of(qual)
        handler = CALLS.get(role) if role is not None else None
        if handler is not None:
            return handler(self, func, call, node)
        provider_enum = self.registry.enum(qual)
        if provider_enum is not None:
            return self.enum_by_value(provider_enum, call, node)
        parent, _, last = qual.rpartition(".")
        if role_of(parent) is Role.TASK_DECORATOR:
            return Decorator(DecoratorKind.TASK, last, self._keywords(call), call.nodes)
        if last == "partial" and self.looks_like_operator(parent, call.keywords):
            return PartialOperator(parent, self._keywords(call), call.nodes)
        if self.looks_like_operator(qual, call.keywords):
            return self.make_task(qual, call.positional, self._keywords(call), node, call.nodes)
        return NotImplemented

    @staticmethod
    def _keywords(call: CallArgs) -> dict[str, object]:
        if call.unknown_keywords is None:
            return call.keywords
        return {**call.keywords, "**": call.unknown_keywords}

    def looks_like_operator(self, qual: str, kwargs: Mapping[str, object]) -> bool:
        if "task_id" in kwargs:
            return True
        name = qual.rsplit(".", 1)[-1]
        return bool(_OPERATOR_NAME.match(name)) or self.registry.resolve(qual).rule is not None

    def _dag_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        return self.make_dag(call.positional, self._keywords(call), node, call.nodes)

    def _task_group_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        return self.make_group(call.positional, self._keywords(call), node, call.nodes)

    def _chain_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        self.make_chain(role_of(func.qualname), call.positional, node)  # type: ignore[arg-type]
        return None

    def _exactly_one_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        """Airflow's `exactly_one(*args)`: whether exactly one argument is truthy."""
        if call.keywords or call.unknown_keywords is not None:
            return self.interpreter.unresolved(node, "exactly_one() with keyword arguments")
        truths = [self.interpreter.truth(value, node) for value in call.positional]
        bad = first_unresolved(truths)
        return bad if bad is not None else sum(map(bool, truths)) == 1

    def _label_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        return EdgeLabel(call.positional[0] if call.positional else call.keywords.get("label"))

    def _xcom_arg_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        task = call.positional[0] if call.positional else call.keywords.get("operator")
        if isinstance(task, TaskBuilder):
            key = call.keywords.get("key", "return_value")
            return TaskOutput(task, key if isinstance(key, str) else "return_value")
        return self.interpreter.unresolved(node, "XComArg() of something that is not a task")

    def _object_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        """Param(...) and schedule objects (Assets, timetables), kept whole as ObjectValues."""
        bad = first_unresolved(call.everything())
        if bad is not None:
            return bad
        path = "airflow.sdk.Param" if role_of(func.qualname) is Role.PARAM else SCHEDULE_CLASSES[func.qualname]
        return ObjectValue(path, tuple(self.freeze(a, node) for a in call.positional),
                           tuple((k, self.freeze(v, node)) for k, v in call.keywords.items()),
                           self.interpreter.span(node))

    def _dag_decorator_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        return Decorator(DecoratorKind.DAG, "", self._keywords(call), call.nodes)

    def _task_decorator_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        args, kwargs = call.positional, self._keywords(call)
        if len(args) == 1 and isinstance(args[0], UserFunction) and not kwargs:
            return TaskFlowFunction(args[0], args[0].name, "python", {})
        if len(args) == 1 and isinstance(args[0], Symbol) and not args[0].local and not kwargs:
            return TaskFlowFunction(None, args[0].qualname.rsplit(".", 1)[-1], "python", {}, args[0])
        return Decorator(DecoratorKind.TASK, "python", kwargs, call.nodes)

    def _task_group_decorator_call(self, func: Symbol, call: CallArgs, node: cst.Call) -> object:
        args, kwargs = call.positional, self._keywords(call)
        if len(args) == 1 and isinstance(args[0], UserFunction) and not kwargs:
            return TaskGroupFunction(args[0], {}, {})
        return Decorator(DecoratorKind.TASK_GROUP, "", kwargs, call.nodes)

    # -- DAGs -------------------------------------------------------------------------------------

    def make_dag(self, args: list[object], kwargs: dict[str, object], node: cst.Call,
                 kwarg_nodes: Mapping[str, cst.Arg]) -> DagBuilder:
        interp = self.interpreter
        interp.meter.new_dag(node)
        dag_id = args[0] if args else kwargs.get("dag_id")
        span = interp.span(node)
        placeholder = f"<dag at line {span.line}>"
        builder = DagBuilder(dag_id if isinstance(dag_id, str) else placeholder, span)
        if not isinstance(dag_id, str):
            builder.diagnostics.append(self.unresolved_diagnostic("dag_id", dag_id, node) if dag_id is not None
                                       else codes.make(codes.UNRESOLVED_VALUE, span, what="dag_id",
                                                       reason="DAG() called without a dag_id",
                                                       hint="pass dag_id as the first argument or by keyword"))
        if len(args) > 1:
            builder.diagnostics.append(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, span, detail="DAG() arguments after dag_id must be passed by keyword",
                hint="pass DAG arguments by name"))
        for name, value in kwargs.items():
            if name == "dag_id":
                continue
            arg_node = kwarg_nodes.get(name, node)
            if name == "**":
                builder.diagnostics.append(self.unresolved_diagnostic("DAG arguments", value, arg_node))
                continue
            builder.arguments[name] = Argument(name, self.freeze(value, arg_node), interp.span(arg_node))
        self.dags.append(builder)
        return builder

    def call_dag_function(self, func: DagFunction, call: CallArgs, node: cst.Call) -> object:
        interp = self.interpreter
        dag_kwargs = dict(func.kwargs)
        dag_kwargs.setdefault("dag_id", func.function.name)
        builder = self.make_dag([], dag_kwargs, node, func.kwarg_nodes)
        builder.span = interp.span(func.function.node)
        builder.registered = True  # @dag functions return a registered DAG
        # The function's parameters become DAG params in Airflow, read at run time.
        names = func.function.parameter_names() or []
        bound: dict[str, object] = dict(zip(names, call.positional))
        bound.update(self._keywords(call))
        runtime: dict[str, object] = {
            name: Unresolved("a parameter of a @dag function is a run-time DAG param", interp.span(node))
            for name in names}
        runtime.update({k: v for k, v in bound.items() if k not in runtime})
        if names:
            builder.diagnostics.append(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, interp.span(func.function.node),
                detail=f"@dag function {func.function.name}() takes parameters ({', '.join(names)}); they become run-time DAG params",
                hint="use params={...} on the decorator and '{{ params.name }}' templates instead"))
        self.dag_stack.append(builder)
        scope = Scope(values=dict(runtime), parent=func.function.scope)
        try:
            interp.depth += 1
            interp.exec_block(func.function.node.body, scope)  # type: ignore[union-attr]
        except (Return, Break, Continue):
            pass
        finally:
            interp.depth -= 1
            self.dag_stack.pop()
        return builder

    # -- task groups --------------------------------------------------------------------------------

    def make_group(self, args: list[object], kwargs: dict[str, object], node: cst.Call,
                   kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        interp = self.interpreter
        label = args[0] if args else kwargs.get("group_id")
        dag = kwargs.get("dag")
        parent = kwargs.get("parent_group")
        if not isinstance(parent, GroupBuilder):
            parent = self.groups[-1] if self.groups else None
        if not isinstance(dag, DagBuilder):
            dag = parent.dag if parent is not None else self.current_dag()
        if dag is None:
            return interp.unresolved(node, "TaskGroup outside a DAG")
        if not isinstance(label, str):
            self.report_unresolved("task group id", label, node, dag)
            label = f"group_at_line_{interp.span(node).line}"
        prefix = kwargs.get("prefix_group_id", True)
        if not isinstance(prefix, bool):
            self.report_unresolved("prefix_group_id", prefix, node, dag)
            prefix = True
        group_id = parent.child_id(label) if parent is not None else label
        defaults = kwargs.get("default_args") or {}
        if not isinstance(defaults, dict):
            self.report_unresolved("task group default_args", defaults, node, dag)
            defaults = {}
        group = GroupBuilder(group_id, dag, interp.span(node), parent, prefix, dict(defaults))
        for name, value in kwargs.items():
            if name in ("group_id", "dag", "parent_group"):
                continue
            arg_node = kwarg_nodes.get(name, node)
            group.arguments[name] = Argument(name, self.freeze(value, arg_node), interp.span(arg_node))
        dag.groups.append(group)
        return group

    def call_task_group(self, func: TaskGroupFunction, call: CallArgs, node: cst.Call) -> object:
        """Airflow's _TaskGroupFactory: a group named after the function (suffixed `__1`, `__2`
        when the id is taken), the body run inside it; returns what the body returns, else the group."""
        group_kwargs = {"group_id": func.function.name, **func.kwargs}
        group = self.make_group([], group_kwargs, node, func.kwarg_nodes)
        if not isinstance(group, GroupBuilder):
            return group
        self.interpreter.meter.tick(node, len(group.dag.groups))  # the id search below
        taken = {g.group_id for g in group.dag.groups if g is not group}
        if group.group_id in taken:
            base = re.split(r"__\d+$", group.group_id)[0]
            suffix = 1
            while f"{base}__{suffix}" in taken:
                suffix += 1
            group.group_id = f"{base}__{suffix}"
        self.groups.append(group)
        self.dag_stack.append(group.dag)
        try:
            result = self.interpreter.call_function(func.function, call.positional, self._keywords(call), node)
        finally:
            self.groups.pop()
            self.dag_stack.pop()
        return group if result is None else result

    # -- tasks ----------------------------------------------------------------------------------------

    def make_task(self, operator: str, args: list[object], kwargs: dict[str, object], node: cst.Call,
                  kwarg_nodes: Mapping[str, cst.Arg], kind: TaskKind = TaskKind.OPERATOR,
                  callable_name: str | None = None, mapped: bool = False) -> object:
        interp = self.interpreter
        dag = kwargs.get("dag")
        group = kwargs.get("task_group")
        if not isinstance(group, GroupBuilder):
            group = self.groups[-1] if self.groups else None
        if not isinstance(dag, DagBuilder):
            dag = group.dag if group is not None else self.current_dag()
        if dag is None:
            # An XComArg argument relates the task to its producer, whose DAG it then joins (Airflow).
            owners = {id(ref.task.dag): ref.task.dag for value in kwargs.values()
                      for ref in _task_outputs(value) if ref.task.dag is not None}
            dag = next(iter(owners.values())) if len(owners) == 1 else None
        if group is not None and group.dag is not dag:
            group = None
        label = kwargs.get("task_id")
        span = interp.span(node)
        if not isinstance(label, str):
            if dag is not None:
                if label is None:
                    dag.diagnostics.append(codes.make(codes.MISSING_ARGUMENT, span, operator=operator.rsplit(".", 1)[-1],
                                                      argument="task_id"))
                else:
                    self.report_unresolved("task_id", label, kwarg_nodes.get("task_id", node), dag)
            label = f"task_at_line_{span.line}"
        if args and dag is not None:
            dag.diagnostics.append(codes.make(codes.UNSUPPORTED_CONSTRUCT, span,
                                              detail="operator arguments must be passed by keyword",
                                              hint="Airflow operators take keyword arguments only"))
        task_id = group.child_id(label) if group is not None else label
        task = TaskBuilder(task_id, operator, span, dag, group=group, kind=kind, callable_name=callable_name,
                           mapped=mapped)
        for name, value in kwargs.items():
            if name in _NOT_TASK_ARGS:
                continue
            arg_node = kwarg_nodes.get(name, node)
            if name == "**":
                if dag is not None:
                    dag.diagnostics.append(self.unresolved_diagnostic(f"arguments of task {task_id!r}", value, arg_node))
                continue
            task.arguments[name] = Argument(name, self.freeze(value, arg_node), interp.span(arg_node))
        rule = self.registry.resolve(operator).rule
        searchpath = dag.arguments.get("template_searchpath") if dag is not None else None
        inline_template_files(interp, rule.class_path if rule is not None else operator, task.arguments,
                              {name: kwarg_nodes.get(name, node) for name in task.arguments},
                              searchpath.value if searchpath is not None else None)
        if group is not None:
            self.apply_group_defaults(task, group)
        if dag is None:
            return task  # a task with no DAG is not part of any workflow, as in Airflow
        if task_id in dag.tasks:
            dag.diagnostics.append(codes.make(codes.DUPLICATE_TASK_ID, span, task=task_id,
                                              other_line=dag.tasks[task_id].span.line))
            return dag.tasks[task_id]
        interp.meter.new_task(node)
        dag.tasks[task_id] = task
        if group is not None:
            group.tasks.append(task)
        for name, value in kwargs.items():
            if name not in _NOT_TASK_ARGS:
                self.add_xcom_edges(task, name, value, every_field=kind is not TaskKind.OPERATOR or mapped)
        return task

    def apply_group_defaults(self, task: TaskBuilder, group: GroupBuilder) -> None:
        """Copy TaskGroup default_args into the task, inner groups first, as Airflow merges them;
        each copy says which group it came from (`Argument.inherited_from`)."""
        chain: list[GroupBuilder] = []
        current: GroupBuilder | None = group
        while current is not None:
            chain.append(current)
            current = current.parent
        merged: dict[str, object] = {}
        for g in reversed(chain):
            merged.update(g.default_args)
        rule = self.registry.resolve(task.operator).rule
        for name, value in merged.items():
            if not isinstance(name, str) or name in task.arguments or name in _NOT_TASK_ARGS:
                continue
            if rule is not None and not rule.accepts(name):
                continue  # Airflow passes only the default_args the operator's signature takes
            task.arguments[name] = Argument(name, self.freeze(value, None), group.span, inherited_from=group.group_id)

    def add_xcom_edges(self, task: TaskBuilder, name: str, value: object, every_field: bool = False) -> None:
        """XComArgs passed to templated fields make their task upstream (Airflow does this in __init__)."""
        refs = list(_task_outputs(value))
        if not refs:
            return
        if not every_field:
            rule = self.registry.resolve(task.operator).rule
            if rule is not None and rule.complete and name not in rule.templated_fields:
                return
        for ref in refs:
            if ref.task is not task:
                task.upstream.add(ref.task.task_id)

    def set_task_argument(self, task: TaskBuilder, name: str, value: object, node: cst.CSTNode) -> None:
        if name == "task_id":
            self.interpreter.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.interpreter.span(node),
                                               detail="task_id changed after the task was created",
                                               hint="pass the final task_id when the operator is created"), task.dag)
            return
        task.arguments.pop(name, None)
        task.arguments[name] = Argument(name, self.freeze(value, node), self.interpreter.span(node))
        self.add_xcom_edges(task, name, value)

    # -- TaskFlow -------------------------------------------------------------------------------------

    def call_taskflow(self, func: TaskFlowFunction, args: list[object], kwargs: dict[str, object],
                      node: cst.Call, mapped: bool = False) -> object:
        dag = self.current_dag()
        label = func.kwargs.get("task_id", func.name)
        if not isinstance(label, str):
            label = func.name
        if dag is not None:
            # Airflow de-duplicates repeated calls of one TaskFlow function as name, name__1, ...
            group = self.groups[-1] if self.groups else None
            full = group.child_id(label) if group is not None else label
            count = dag.taskflow_names.get(full, 0)
            dag.taskflow_names[full] = count + 1
            if count:
                label = f"{label}__{count}"
        call_kwargs: dict[str, object] = {"task_id": label}
        for key, value in func.kwargs.items():
            if key != "task_id":
                call_kwargs[key] = value
        for index, value in enumerate(args):
            call_kwargs[f"arg{index}"] = value
        names = func.function.parameter_names() if func.function is not None else None
        passed = [f"arg{index}" for index in range(len(args))]
        if names is not None:
            # Positional arguments bind to the function's parameters, as Python binds them.
            for index, name in enumerate(names[: len(args)]):
                call_kwargs[name] = call_kwargs.pop(f"arg{index}")
                passed[index] = name
        call_kwargs.update(kwargs)
        passed.extend(k for k in kwargs if k not in passed)
        task = self.make_task(f"{TASKFLOW_OPERATOR}.{func.variant}", [], call_kwargs, node, {},
                              kind=TaskKind.TASKFLOW, callable_name=func.name, mapped=mapped)
        if isinstance(task, TaskBuilder):
            # What the dag-factory target needs to write a `decorator:` task: the function as an
            # importable reference and its parameter names (call arguments vs decorator options).
            task.taskflow = TaskFlowCall(func.name, self.taskflow_callable(func, node),
                                         tuple(names) if names is not None else None, tuple(passed))
            return TaskOutput(task)
        return task

    def taskflow_callable(self, func: TaskFlowFunction, node: cst.CSTNode) -> object:
        """The undecorated function of a TaskFlow task as a CallableRef, or why YAML cannot name it."""
        span = self.interpreter.span(node)
        if func.imported is not None:
            return CallableRef(func.imported.qualname, False, span)
        if func.function is None:
            return Unresolved(f"the function of TaskFlow task {func.name}() is not known", span)
        ref = function_ref(self.interpreter, func.function, node)
        if ".<locals>." in ref.qualname:
            # `@task def f` binds f to the decorated task: a module attribute named f exists, but
            # dag-factory would load the task object, not the function it wraps.
            return Unresolved(f"{func.name}() is decorated with @task where it is defined, so no module "
                              "attribute holds the plain function", span)
        return ref

    def call_task_method(self, method: TaskMethod, call: CallArgs, node: cst.Call) -> object:
        target, name = method.target, method.name
        args, kwargs = call.positional, self._keywords(call)
        if name in _DEPENDENCY_METHODS:
            other = args[0] if args else None
            if name == "set_upstream":
                self.relate(other, target, node, "set_upstream")
            else:
                self.relate(target, other, node, "set_downstream")
            return None
        if name in ("as_setup", "as_teardown"):
            self.interpreter.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.interpreter.span(node),
                                               detail=f"{name}() setup/teardown tasks have no dag-factory form",
                                               hint="use trigger_rule='all_done' on a cleanup task instead"))
            return target
        if isinstance(target, PartialOperator):
            merged = dict(target.kwargs)
            merged.update(kwargs)
            merged.setdefault("task_id", target.kwargs.get("task_id"))
            task = self.make_task(target.operator, [], merged, node, {**target.kwarg_nodes}, mapped=True)
            if isinstance(task, TaskBuilder):
                task.expand = tuple(sorted(kwargs))
                for value in args:  # expand_kwargs(xcom): the mapped task runs after the XCom's task
                    self.add_xcom_edges(task, name, value, every_field=True)
            return task
        if isinstance(target, TaskFlowFunction):
            if name in ("override", "partial"):
                return TaskFlowFunction(target.function, target.name, target.variant, {**target.kwargs, **kwargs},
                                        target.imported)
            result = self.call_taskflow(target, [], dict(kwargs), node, mapped=True)
            if isinstance(result, TaskOutput) and name == "expand":
                result.task.expand = tuple(sorted(kwargs))
            return result
        return self.interpreter.unresolved(node, f"{name}()")

    # -- dependencies -------------------------------------------------------------------------------

    def relate(self, upstream: object, downstream: object, node: cst.CSTNode, operator: str) -> object:
        """Make every task of `upstream` run before every task of `downstream`; returns the right side."""
        interp = self.interpreter
        if isinstance(downstream, EdgeLabel):
            interp.report(codes.make(codes.EDGE_LABEL, interp.span(node), label=downstream.text))
            return EdgeLabel(downstream.text, (upstream,))
        if isinstance(upstream, EdgeLabel):
            for source in upstream.upstream:
                self.relate(source, downstream, node, operator)
            return downstream
        ups = self.dependency_side(upstream, node, "upstream", operator, leaves=True)
        downs = self.dependency_side(downstream, node, "downstream", operator, leaves=False)
        if ups is None or downs is None:
            return downstream
        if isinstance(upstream, list) and isinstance(downstream, list):
            interp.report(codes.make(codes.UNRESOLVED_DEPENDENCY, interp.span(node), side="either side",
                                     operator=operator,
                                     reason="Airflow cannot set dependencies between two lists (TypeError)"))
            return downstream
        self.connect(ups, downs, node)
        return downstream

    def connect(self, ups: list[TaskBuilder], downs: list[TaskBuilder], node: cst.CSTNode) -> None:
        """Every task of `downs` after every task of `ups`, charged as len(ups) x len(downs) edges."""
        self.adopt([*ups, *downs], node)
        self.interpreter.meter.new_edges(len(ups) * len(downs), node)
        for down in downs:
            for up in ups:
                if up is not down:
                    down.upstream.add(up.task_id)

    def adopt(self, tasks: list[TaskBuilder], node: cst.CSTNode) -> None:
        """A task made outside any DAG joins the DAG of the tasks it is related to, as Airflow's
        set_relatives does (`with dag: a = ...` then `b = Op(...)`; `a >> b`)."""
        if all(task.dag is not None for task in tasks):
            return
        dags = {id(task.dag): task.dag for task in tasks if task.dag is not None}
        if len(dags) != 1:
            return  # no DAG on either side (nothing to join), or tasks of several DAGs (Airflow raises)
        dag = next(iter(dags.values()))
        for task in tasks:
            if task.dag is not None:
                continue
            task.dag = dag
            if task.task_id in dag.tasks:
                dag.diagnostics.append(codes.make(codes.DUPLICATE_TASK_ID, task.span, task=task.task_id,
                                                  other_line=dag.tasks[task.task_id].span.line))
                continue
            self.interpreter.meter.new_task(node)
            dag.tasks[task.task_id] = task

    def dependency_side(self, value: object, node: cst.CSTNode, side: str, operator: str,
                        leaves: bool) -> list[TaskBuilder] | None:
        interp = self.interpreter
        items = value if isinstance(value, (list, tuple)) else [value]
        tasks: list[TaskBuilder] = []
        for item in items:
            if isinstance(item, TaskOutput):
                item = item.task
            if isinstance(item, TaskBuilder):
                tasks.append(item)
            elif isinstance(item, GroupBuilder):
                interp.meter.tick(node, 2 * len(item.dag.tasks) + 1)  # all_tasks and _downstream_map below
                members = item.all_tasks()
                ids = {t.task_id for t in members}
                if leaves:
                    downstream_ids = _downstream_map(item.dag)
                    tasks.extend(t for t in members if not (downstream_ids.get(t.task_id, set()) & ids))
                else:
                    tasks.extend(t for t in members if not (t.upstream & ids))
            elif interp.already_refused(item):
                continue  # the DC204 of the call that made it says it may create tasks or dependencies
            else:
                what = item.reason if isinstance(item, Unresolved) else f"a {type(item).__name__} value"
                if isinstance(item, Unresolved) and item.source:
                    what = f"a value read at run time ({item.source})"
                interp.report(codes.make(codes.UNRESOLVED_DEPENDENCY, interp.span(node), side=side,
                                         operator=operator, reason=what))
                # The DAG is refused; the edges between known tasks are still recorded so the
                # report's map of the DAG holds every edge that is certain.
        return tasks

    def make_chain(self, role: Role, args: list[object], node: cst.CSTNode) -> None:
        interp = self.interpreter
        if role is Role.CROSS_DOWNSTREAM:
            if len(args) != 2:
                interp.report(codes.make(codes.UNRESOLVED_DEPENDENCY, interp.span(node), side="the arguments",
                                         operator="cross_downstream", reason="expected two lists"))
                return
            ups = self.dependency_side(args[0], node, "upstream", "cross_downstream", leaves=True)
            downs = self.dependency_side(args[1], node, "downstream", "cross_downstream", leaves=False)
            self.connect_all(ups or [], downs or [], node)
            return
        if role is Role.CHAIN_LINEAR:
            for left, right in zip(args, args[1:]):
                ups = self.dependency_side(left, node, "upstream", "chain_linear", leaves=True)
                downs = self.dependency_side(right, node, "downstream", "chain_linear", leaves=False)
                self.connect_all(ups or [], downs or [], node)
            return
        # chain(): adjacent lists of equal length pair up element-wise; a list next to a single
        # task connects to each element (Airflow's chain semantics).
        for left, right in zip(args, args[1:]):
            left_is_list = isinstance(left, (list, tuple))
            right_is_list = isinstance(right, (list, tuple))
            if left_is_list and right_is_list:
                if len(left) != len(right):  # type: ignore[arg-type]
                    interp.report(codes.make(codes.UNRESOLVED_DEPENDENCY, interp.span(node), side="the arguments",
                                             operator="chain",
                                             reason="adjacent lists of different lengths (Airflow raises)"))
                    return
                for up, down in zip(left, right):  # type: ignore[call-overload]
                    self.relate(up, down, node, "chain")
            else:
                self.relate(left, right, node, "chain")

    def connect_all(self, ups: list[TaskBuilder], downs: list[TaskBuilder], node: cst.CSTNode) -> None:
        """cross_downstream and chain_linear: every pair, a task after itself included (Airflow adds it)."""
        self.interpreter.meter.new_edges(len(ups) * len(downs), node)
        for down in downs:
            for up in ups:
                down.upstream.add(up.task_id)


#: Role -> handler of a call of that Airflow name.
CALLS: Final[dict[Role, CallHandler]] = {
    Role.DAG: AirflowLibrary._dag_call,
    Role.TASK_GROUP: AirflowLibrary._task_group_call,
    Role.CHAIN: AirflowLibrary._chain_call,
    Role.CHAIN_LINEAR: AirflowLibrary._chain_call,
    Role.CROSS_DOWNSTREAM: AirflowLibrary._chain_call,
    Role.LABEL: AirflowLibrary._label_call,
    Role.EXACTLY_ONE: AirflowLibrary._exactly_one_call,
    Role.XCOM_ARG: AirflowLibrary._xcom_arg_call,
    Role.PARAM: AirflowLibrary._object_call,
    Role.SCHEDULE_OBJECT: AirflowLibrary._object_call,
    Role.DAG_DECORATOR: AirflowLibrary._dag_decorator_call,
    Role.TASK_DECORATOR: AirflowLibrary._task_decorator_call,
    Role.TASK_GROUP_DECORATOR: AirflowLibrary._task_group_decorator_call,
}


def _task_outputs(value: object) -> Iterable[TaskOutput]:
    return (v for v in walk_values(value) if isinstance(v, TaskOutput))


def _downstream_map(dag: DagBuilder) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for task in dag.tasks.values():
        for up in task.upstream:
            result.setdefault(up, set()).add(task.task_id)
    return result


__all__ = ["CALLS", "TASKFLOW_OPERATOR", "AirflowLibrary"]
