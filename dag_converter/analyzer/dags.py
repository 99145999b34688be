"""DAG discovery: interpret a DAG file's statements statically and collect its workflows.

The module is executed abstractly, statement by statement, on values from `evaluate.py`: imports
bind Symbols, `with DAG(...)` and `DAG(...)` create DAG builders, operator calls create tasks,
`>>`/`<<`/chain/set_upstream record dependencies, functions defined in the file are interpreted
when called, loops run over values known statically. Which DAGs exist is decided the way Airflow's
DagBag decides it: DAGs used as context managers register themselves, and DAG objects bound to a
module-level name at the end of the file are found there.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import libcst as cst

from dag_converter import codes
from dag_converter.analyzer._folder import DagFolder, display_root_of
from dag_converter.analyzer._screen import nesting_problem
from dag_converter.analyzer.evaluate import (
    Budget,
    Evaluator,
    LoopControl,
    Return,
    RuntimeRead,
    Scope,
    UserFunction,
    environment_today,
    first_unresolved,
)
from dag_converter.analyzer.imports import SCHEDULE_CLASSES, Symbol, import_bindings, role_of
from dag_converter.analyzer.positions import StartPositions
from dag_converter.model import (
    Argument,
    CallableRef,
    DateTime,
    Diagnostic,
    Duration,
    ModuleAnalysis,
    ObjectValue,
    Span,
    Task,
    TaskFlowCall,
    TaskGroupInfo,
    TaskKind,
    Unresolved,
    Workflow,
    XComRef,
    walk_values,
)
from dag_converter.registry import get_registry

_PARSER_PLACE: Final = re.compile(r"error at (\d+):(\d+):\s*")
_OPERATOR_NAME: Final = re.compile(r"^[A-Z]\w*(Operator|Sensor)$")
_TASKFLOW_OPERATOR: Final = "airflow.providers.standard.decorators.python.task"
_NOT_TASK_ARGS: Final = frozenset({"task_id", "dag", "task_group"})


# ---------------------------------------------------------------------------------------------
# Objects that exist only while a file is being interpreted


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

    def all_tasks(self, analyzer: "ModuleInterpreter") -> list["TaskBuilder"]:
        return [t for t in self.dag.tasks.values() if t.group is not None and _within(t.group, self)]


def _within(group: GroupBuilder, ancestor: GroupBuilder) -> bool:
    current: GroupBuilder | None = group
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
    operator: str
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass
class DagFunction:
    function: UserFunction
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass
class TaskFlowFunction:
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


@dataclass
class Decorator:
    """`@dag(...)`/`@task(...)` with its arguments, waiting for the function it decorates."""

    role: str
    variant: str
    kwargs: dict[str, object]
    kwarg_nodes: Mapping[str, cst.Arg]


@dataclass(eq=False)
class ModuleValue:
    """A module of the DAG folder, bound by `import common` or `from common import settings`."""

    name: str


@dataclass
class FolderImports:
    """The DAG-folder modules one DAG file's analysis has read, shared by every interpreter in it."""

    folder: DagFolder
    scopes: dict[str, Scope] = field(default_factory=dict)  #: by module name; partial while loading
    positions: list[tuple[str, StartPositions]] = field(default_factory=list)


@dataclass(frozen=True)
class Opaque:
    """A value with no effect on the DAG (a logger, a print result)."""

    what: str


# ---------------------------------------------------------------------------------------------


class ModuleInterpreter(Evaluator):
    """Interprets one DAG file and collects its workflows."""

    def __init__(self, path: str, module: cst.Module, positions: StartPositions,
                 *, module_name: str, package: str, today: _dt.date,
                 imports: FolderImports | None = None) -> None:
        super().__init__(path, positions, today)
        self.imports = imports
        self.module = module
        self.module_name = module_name
        self.package = package
        self.registry = get_registry()
        self.module_scope = Scope()
        self.dag_stack: list[DagBuilder] = []
        self.group_stack: list[GroupBuilder] = []
        self.all_dags: list[DagBuilder] = []
        self.file_diagnostics: list[Diagnostic] = []
        self.reported_calls: set[cst.CSTNode] = set()
        self.reported_spans: set[Span] = set()

    # -- entry point -----------------------------------------------------------------------------

    def run(self) -> ModuleAnalysis:
        try:
            self.exec_block(self.module.body, self.module_scope)
        except Budget as budget:
            self.file_diagnostics.append(codes.make(codes.INPUT_TOO_COMPLEX, budget.span, detail=budget.detail))
        except (Return, LoopControl):
            pass
        for name, span, fields in self.notes:
            if name == "relative-start-date":
                self.file_diagnostics.append(codes.make(codes.RELATIVE_DATE, span, **fields))
        found = [d for d in self.all_dags if d.registered]
        for value in self.module_scope.values.values():
            if isinstance(value, DagBuilder) and value not in found:
                found.append(value)
        found.sort(key=lambda d: self.all_dags.index(d))
        workflows = tuple(self.freeze_dag(d) for d in found)
        return ModuleAnalysis(self.path, workflows, tuple(self.file_diagnostics))

    def span(self, node: cst.CSTNode) -> Span:
        if self.imports is None or not self.imports.positions or node in self.positions:
            # Until a DAG-folder module is read, every node analysed is this file's own, and its
            # start may be looked up in the source; after, ownership is checked exactly.
            return super().span(node)
        # A node of a DAG-folder module (a helper function defined there, called from here).
        for display, positions in self.imports.positions:
            start = positions.start(node)
            if start is not None:
                return Span(display, start[0], start[1] + 1)
        return super().span(node)

    # -- imports of DAG-folder modules -----------------------------------------------------------

    def bind_import(self, symbol: Symbol, node: cst.CSTNode) -> object:
        """The value an import binds: a folder module's value when the name is one, else the Symbol."""
        if self.imports is None:
            return symbol
        parts = symbol.qualname.split(".")
        # The longest dotted prefix that is a folder module. `a.b` can only be one when `a` is
        # (a package or a folder), so the search stops at the first prefix that is not.
        end = 0
        while end < len(parts) and self.imports.folder.module_file(".".join(parts[:end + 1])) is not None:
            end += 1
        if not end:
            return symbol
        value: object = ModuleValue(".".join(parts[:end]))
        for attr in parts[end:]:
            value = self.module_attribute(value, attr, node)  # type: ignore[arg-type]
        return value

    def module_scope_of(self, module: ModuleValue, node: cst.CSTNode) -> Scope | Unresolved:
        assert self.imports is not None
        scope = self.imports.scopes.get(module.name)
        if scope is not None:
            return scope  # loaded, or being loaded (a cyclic import sees the names bound so far)
        parsed = self.imports.folder.parse(module.name)
        if parsed is None or parsed.tree is None:
            problem = parsed.problem if parsed is not None else "not found"
            return self.unresolved(node, f"module {module.name} of the DAG folder: {problem}")
        scope = Scope()
        self.imports.scopes[module.name] = scope
        self.imports.positions.append((parsed.display, parsed.positions))
        reader = ModuleInterpreter(parsed.display, parsed.tree, parsed.positions,
                                   module_name=module.name, package=parsed.package, today=self.today,
                                   imports=self.imports)
        reader.module_scope = scope
        reader.depth = self.depth + 1
        try:
            reader.exec_block(parsed.tree.body, scope)
        except (Return, LoopControl):
            pass
        self.steps += reader.steps
        self.notes.extend(reader.notes)
        return scope

    def module_attribute(self, module: ModuleValue, name: str, node: cst.CSTNode) -> object:
        scope = self.module_scope_of(module, node)
        if isinstance(scope, Unresolved):
            return scope
        if name in scope.values:
            return scope.values[name]
        submodule = f"{module.name}.{name}"
        if self.imports is not None and self.imports.folder.module_file(submodule) is not None:
            return ModuleValue(submodule)
        return self.unresolved(node, f"module {module.name} of the DAG folder defines no {name!r}")

    # -- diagnostics -----------------------------------------------------------------------------

    def report(self, diagnostic: Diagnostic, dag: DagBuilder | None = None) -> None:
        target = dag or (self.dag_stack[-1] if self.dag_stack else None)
        if target is not None:
            target.diagnostics.append(diagnostic)
        else:
            self.file_diagnostics.append(diagnostic)

    def report_unresolved(self, what: str, value: object, node: cst.CSTNode, dag: DagBuilder | None = None) -> None:
        self.report(self.unresolved_diagnostic(what, value, node), dag)

    def unresolved_diagnostic(self, what: str, value: object, node: cst.CSTNode | None) -> Diagnostic:
        if isinstance(value, RuntimeRead):
            return codes.make(codes.RUNTIME_VALUE, value.span, what=what, source=value.source)
        if isinstance(value, Unresolved) and value.source:
            return codes.make(codes.RUNTIME_VALUE, value.span, what=what, source=value.source)
        span = value.span if isinstance(value, Unresolved) else self.span(node) if node else Span(self.path)
        reason = value.reason if isinstance(value, Unresolved) else "unknown value"
        return codes.make(codes.UNRESOLVED_VALUE, span, what=what, reason=reason,
                          hint="use a literal or module-level constant, or params and --override-parameters")

    # -- statements ------------------------------------------------------------------------------

    def exec_block(self, body: Sequence[cst.BaseStatement] | cst.BaseSuite, scope: Scope) -> None:
        if isinstance(body, cst.IndentedBlock):
            statements: Sequence[cst.CSTNode] = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            statements = body.body
        else:
            statements = body  # type: ignore[assignment]
        for statement in statements:
            self.tick(statement)
            self.exec_statement(statement, scope)

    def exec_statement(self, node: cst.CSTNode, scope: Scope) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.exec_small(small, scope)
            return
        handler = getattr(self, f"exec_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope)
        elif isinstance(node, cst.BaseSmallStatement):
            self.exec_small(node, scope)
        else:
            self.construct_unsupported(node, f"{type(node).__name__} statements are not analysed")

    def exec_small(self, node: cst.BaseSmallStatement, scope: Scope) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            bindings = import_bindings(node, self.package)
            if bindings is None:
                return  # `from x import *`: names stay undefined and resolve as Unresolved on use
            for local, symbol in bindings:
                scope.assign(local, self.bind_import(symbol, node))
        elif isinstance(node, cst.Expr):
            value = self.eval(node.value, scope)
            self.check_effect(value, node.value)
        elif isinstance(node, cst.Assign):
            value = self.eval(node.value, scope)
            for target in node.targets:
                self.bind_target(target.target, value, scope)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.bind_target(node.target, self.eval(node.value, scope), scope)
        elif isinstance(node, cst.AugAssign):
            self.exec_augassign(node, scope)
        elif isinstance(node, cst.Return):
            raise Return(None if node.value is None else self.eval(node.value, scope))
        elif isinstance(node, cst.Break):
            raise LoopControl("break")
        elif isinstance(node, cst.Continue):
            raise LoopControl("continue")
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            if isinstance(node, cst.Global):
                scope.globals_names.update(n.name.value for n in node.names)
        # pass, del, assert, raise: no effect on the DAG's shape

    def opaque_call(self, func: object, node: cst.Call, result: object) -> object:
        """A call the analyzer cannot follow (code outside the DAG folder, an unknown callable)
        may create tasks when it runs inside a DAG: refuse the DAG at the call's line."""
        if self.dag_stack and node not in self.reported_calls:
            self.reported_calls.add(node)
            if isinstance(result, Unresolved):
                self.reported_spans.add(result.span)
            what = f"{func.qualname}()" if isinstance(func, Symbol) else cst.Module(body=()).code_for_node(node.func) + "()"
            reason = result.reason if isinstance(result, Unresolved) else "unknown callable"
            if isinstance(func, Symbol):
                reason = "code outside the DAG folder is never imported or run"
            elif isinstance(func, Unresolved):
                reason = func.reason
            self.report(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                detail=f"call to {what} cannot be followed ({reason}); it may create tasks or dependencies",
                hint="define tasks with operator calls in the DAG folder; code outside it is never imported or run",
            ))
        return result

    def check_effect(self, value: object, node: cst.CSTNode) -> None:
        """An expression statement whose effect is unknown may create tasks: refuse inside a DAG."""
        if isinstance(node, cst.Call) and node in self.reported_calls:
            return
        if isinstance(value, Unresolved) and value.span in self.reported_spans:
            return  # the call the value comes from is already refused at its own line
        if isinstance(value, (Unresolved, RuntimeRead)) and self.dag_stack:
            reason = value.reason if isinstance(value, Unresolved) else f"reads {value.source}"
            self.report(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                detail=f"statement inside the DAG cannot be analysed ({reason}); it may create tasks or dependencies",
                hint="define tasks with operator calls in the DAG folder; code outside it is never imported or run",
            ))

    def exec_augassign(self, node: cst.AugAssign, scope: Scope) -> None:
        current = self.eval(node.target, scope)
        value = self.eval(node.value, scope)
        op = type(node.operator).__name__.replace("Assign", "")
        if isinstance(current, list) and op == "Add":
            items = self.iterate(value, node.value)
            if isinstance(items, list):
                current.extend(items)  # lists are extended in place, like Python does
                return
        if isinstance(current, dict) and op == "BitOr" and isinstance(value, dict):
            current.update(value)
            return
        self.bind_target(node.target, self.binary(op, current, value, node), scope)

    def construct_unsupported(self, node: cst.CSTNode, detail: str, hint: str = "") -> None:
        if self.dag_stack or _creates_objects(node):
            self.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.span(node), detail=detail,
                                   hint=hint or "make the values it depends on literals or module constants"))

    def exec_FunctionDef(self, node: cst.FunctionDef, scope: Scope) -> None:
        function = UserFunction(node, scope, node.name.value, self.param_defaults(node.params, scope))
        value: object = function
        for decorator in reversed(node.decorators):
            deco = self.eval(decorator.decorator, scope)
            value = self.apply_decorator(deco, value, decorator)
        scope.assign(node.name.value, value)

    def apply_decorator(self, decorator: object, value: object, node: cst.CSTNode) -> object:
        if not isinstance(value, UserFunction):
            return value
        if isinstance(decorator, Symbol):
            role = role_of(decorator.qualname)
            if role == "dag_decorator":
                return DagFunction(value, {}, {})
            if role == "task_decorator":
                return TaskFlowFunction(value, value.name, "python", {})
            parent = decorator.qualname.rsplit(".", 1)[0]
            if role_of(parent) == "task_decorator":
                return TaskFlowFunction(value, value.name, decorator.qualname.rsplit(".", 1)[1], {})
            if role == "task_group_decorator":
                return TaskGroupFunction(value, {}, {})
        if isinstance(decorator, Decorator):
            if decorator.role == "dag":
                return DagFunction(value, decorator.kwargs, decorator.kwarg_nodes)
            if decorator.role == "task":
                return TaskFlowFunction(value, value.name, decorator.variant, decorator.kwargs)
            if decorator.role == "task_group":
                return TaskGroupFunction(value, decorator.kwargs, decorator.kwarg_nodes)
        if isinstance(decorator, Symbol) and decorator.qualname in ("functools.wraps", "functools.cache",
                                                                    "functools.lru_cache", "staticmethod"):
            return value
        return self.unresolved(node, "function with a decorator the analyzer does not know")

    def exec_ClassDef(self, node: cst.ClassDef, scope: Scope) -> None:
        # Classes defined in the file cannot be imported by path from YAML; calls to them make
        # tasks whose operator is "<module>.<Class>", which the validator refuses.
        scope.assign(node.name.value, Symbol(f"{self.module_name}.{node.name.value}", local=True))

    def exec_If(self, node: cst.If, scope: Scope) -> None:
        self.positions.within(node.test, node)
        test = self.truth(self.eval(node.test, scope), node.test)
        if isinstance(test, (Unresolved, RuntimeRead)):
            if _creates_objects(node):
                reason = test.reason if isinstance(test, Unresolved) else f"reads {test.source}"
                self.report(codes.make(
                    codes.UNSUPPORTED_CONSTRUCT, self.span(node.test),
                    detail=f"condition cannot be evaluated statically ({reason}); the branches define different DAG content",
                    hint="make the condition depend on literals or module constants only",
                ))
                return
            self.exec_both_branches(node, test, scope)
            return
        if test:
            self.exec_block(node.body, scope)
        elif isinstance(node.orelse, cst.If):
            self.exec_If(node.orelse, scope)
        elif isinstance(node.orelse, cst.Else):
            self.exec_block(node.orelse.body, scope)

    def exec_both_branches(self, node: cst.If, test: object, scope: Scope) -> None:
        """An unknown condition around branches that only bind names (imports, constants):
        run each branch apart and keep the names both bind to the same value. The Airflow-version
        switch `if AIRFLOW_V_3_0_PLUS: from airflow.sdk import DAG else: from airflow.models.dag
        import DAG` binds one DAG class either way; a name that differs becomes Unresolved."""
        reason = test.reason if isinstance(test, Unresolved) else f"reads {test.source}"  # type: ignore[attr-defined]
        outcomes: list[dict[str, object]] = []
        for branch in (node.body, node.orelse):
            child = Scope(parent=scope)
            if isinstance(branch, cst.If):
                self.exec_If(branch, child)
            elif isinstance(branch, cst.Else):
                self.exec_block(branch.body, child)
            elif branch is not None:
                self.exec_block(branch, child)
            outcomes.append(child.values)
        for name in dict.fromkeys([*outcomes[0], *outcomes[1]]):
            values = [o[name] if name in o else scope.lookup(name)[1] if scope.lookup(name)[0] else _MISSING
                      for o in outcomes]
            if self.same_binding(values[0], values[1]):
                scope.assign(name, values[0])
            else:
                scope.assign(name, Unresolved(f"{name!r} depends on a condition that cannot be evaluated "
                                              f"statically ({reason})", self.span(node.test)))

    def same_binding(self, left: object, right: object) -> bool:
        if left is right:
            return left is not _MISSING
        if isinstance(left, Symbol) and isinstance(right, Symbol):
            if left.qualname == right.qualname:
                return True
            role = role_of(left.qualname)
            if role is not None:
                return role == role_of(right.qualname)
            # Two spellings of one operator class (an Airflow 2 path and its current path).
            first, second = self.registry.resolve(left.qualname).rule, self.registry.resolve(right.qualname).rule
            return first is not None and first is second
        if type(left) is not type(right) or isinstance(left, (Unresolved, RuntimeRead)):
            return False
        try:
            return bool(left == right)
        except Exception:  # pragma: no cover - values are plain data; equality should not raise
            return False

    def exec_For(self, node: cst.For, scope: Scope) -> None:
        items = self.iterate(self.eval(node.iter, scope), node.iter)
        if isinstance(items, (Unresolved, RuntimeRead)):
            if _creates_objects(node.body):
                reason = items.reason if isinstance(items, Unresolved) else f"reads {items.source}"
                self.report(codes.make(
                    codes.UNSUPPORTED_CONSTRUCT, self.span(node.iter),
                    detail=f"loop over a collection that cannot be known statically ({reason})",
                    hint="loop over a literal list or a module constant",
                ))
            self.bind_target(node.target, items, scope)
            return
        broke = False
        for item in items:  # type: ignore[union-attr]
            self.tick(node)
            self.bind_target(node.target, item, scope)
            try:
                self.exec_block(node.body, scope)
            except LoopControl as control:
                if control.kind == "break":
                    broke = True
                    break
        if not broke and node.orelse is not None:
            self.exec_block(node.orelse.body, scope)

    def exec_While(self, node: cst.While, scope: Scope) -> None:
        self.positions.within(node.test, node)
        while True:
            self.tick(node)
            test = self.truth(self.eval(node.test, scope), node.test)
            if isinstance(test, (Unresolved, RuntimeRead)):
                if _creates_objects(node.body):
                    self.report(codes.make(
                        codes.UNSUPPORTED_CONSTRUCT, self.span(node.test),
                        detail="while loop whose condition cannot be evaluated statically",
                        hint="use a for loop over a literal list",
                    ))
                return
            if not test:
                if node.orelse is not None:
                    self.exec_block(node.orelse.body, scope)
                return
            try:
                self.exec_block(node.body, scope)
            except LoopControl as control:
                if control.kind == "break":
                    return

    def exec_Try(self, node: cst.Try, scope: Scope) -> None:
        # The body is taken to succeed: `try: import new / except ImportError: import old` keeps
        # the new name, which is the one the target runs.
        self.exec_block(node.body, scope)
        if node.orelse is not None:
            self.exec_block(node.orelse.body, scope)
        if node.finalbody is not None:
            self.exec_block(node.finalbody.body, scope)

    def exec_With(self, node: cst.With, scope: Scope) -> None:
        pushed_dags = 0
        pushed_groups = 0
        for item in node.items:
            value = self.eval(item.item, scope)
            if isinstance(value, DagBuilder):
                value.registered = True
                self.dag_stack.append(value)
                pushed_dags += 1
            elif isinstance(value, GroupBuilder):
                self.group_stack.append(value)
                self.dag_stack.append(value.dag)
                pushed_groups += 1
            if item.asname is not None:
                self.bind_target(item.asname.name, value, scope)
        try:
            self.exec_block(node.body, scope)
        finally:
            for _ in range(pushed_groups):
                self.group_stack.pop()
                self.dag_stack.pop()
            for _ in range(pushed_dags):
                self.dag_stack.pop()

    # -- assignment targets ------------------------------------------------------------------------

    def assign_hook(self, target: cst.BaseExpression, value: object, scope: Scope) -> object | None:
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            base = self.eval(target.value, scope)
            element = target.slice[0].slice
            if isinstance(base, dict) and isinstance(element, cst.Index):
                key = self.eval(element.value, scope)
                if isinstance(key, (Unresolved, RuntimeRead)):
                    return key
                base[key] = value
                return None
            if isinstance(base, list) and isinstance(element, cst.Index):
                index = self.eval(element.value, scope)
                if isinstance(index, int) and -len(base) <= index < len(base):
                    base[index] = value
                    return None
            return None
        if isinstance(target, cst.Attribute):
            base = self.eval(target.value, scope)
            name = target.attr.value
            if isinstance(base, TaskBuilder):
                self.set_task_argument(base, name, value, target)
            elif isinstance(base, DagBuilder):
                base.arguments[name] = Argument(name, self.freeze(value, name, target, base), self.span(target))
            return None
        return self.unresolved(target, "assignment target")

    def set_task_argument(self, task: TaskBuilder, name: str, value: object, node: cst.CSTNode) -> None:
        if name == "task_id":
            self.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                                   detail="task_id changed after the task was created",
                                   hint="pass the final task_id when the operator is created"), task.dag)
            return
        task.arguments.pop(name, None)
        task.arguments[name] = Argument(name, self.freeze(value, name, node, task.dag), self.span(node))
        self.add_xcom_edges(task, name, value)

    def subscript_hook(self, base: object, key: object, node: cst.CSTNode) -> object:
        if isinstance(base, TaskOutput) and isinstance(key, str):
            return TaskOutput(base.task, key)  # XComArg["key"]: the same task's XCom under that key
        return super().subscript_hook(base, key, node)

    # -- builtins that need the module -----------------------------------------------------------

    def eval_Name(self, node: cst.Name, scope: Scope) -> object:
        found, _ = scope.lookup(node.value)
        if not found:
            if node.value == "globals":
                return _GLOBALS
            if node.value == "print":
                return Opaque("print")
        return super().eval_Name(node, scope)

    def call_hook(self, func: object, args: list[object], kwargs: dict[str, object], node: cst.Call,
                  kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        if func is _GLOBALS:
            return self.module_scope.values
        if isinstance(func, Opaque):
            return Opaque(func.what)
        if isinstance(func, DagFunction):
            return self.call_dag_function(func, args, kwargs, node)
        if isinstance(func, TaskFlowFunction):
            return self.call_taskflow(func, args, kwargs, node)
        if isinstance(func, TaskGroupFunction):
            return self.call_task_group(func, args, kwargs, node)
        if isinstance(func, Decorator):
            if func.role == "task" and len(args) == 1 and not kwargs and isinstance(args[0], Symbol) \
                    and not args[0].local:
                # `task(retries=2)(helpers.f)`: an imported function made a TaskFlow task.
                return TaskFlowFunction(None, args[0].qualname.rsplit(".", 1)[-1], func.variant,
                                        dict(func.kwargs), args[0])
            return self.unresolved(node, "decorator applied to a non-function")
        if isinstance(func, TaskMethod):
            return self.call_task_method(func, args, kwargs, node)
        return super().call_hook(func, args, kwargs, node, kwarg_nodes)

    def run_body(self, func: UserFunction, scope: Scope) -> object:
        try:
            self.exec_block(func.node.body, scope)  # type: ignore[union-attr]
        except Return as ret:
            return ret.value
        except LoopControl:
            return None
        return None

    # -- calls of Airflow symbols -----------------------------------------------------------------

    def call_symbol(self, func: Symbol, args: list[object], kwargs: dict[str, object], node: cst.Call,
                    kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        qual = func.qualname
        role = role_of(qual)
        if role == "DAG":
            return self.make_dag(args, kwargs, node, kwarg_nodes)
        if role == "TaskGroup":
            return self.make_group(args, kwargs, node, kwarg_nodes)
        if role in ("chain", "chain_linear", "cross_downstream"):
            self.make_chain(role, args, node)
            return None
        if role == "Label":
            return EdgeLabel(args[0] if args else kwargs.get("label"))
        if role == "XComArg":
            task = args[0] if args else kwargs.get("operator")
            if isinstance(task, TaskBuilder):
                key = kwargs.get("key", "return_value")
                return TaskOutput(task, key if isinstance(key, str) else "return_value")
            return self.unresolved(node, "XComArg() of something that is not a task")
        if role == "Param":
            bad = first_unresolved([*args, *kwargs.values()])
            if bad is not None:
                return bad
            return ObjectValue("airflow.sdk.Param", tuple(self.freeze(a, "Param", node, None) for a in args),
                               tuple((k, self.freeze(v, k, node, None)) for k, v in kwargs.items()), self.span(node))
        if role == "schedule_object":
            bad = first_unresolved([*args, *kwargs.values()])
            if bad is not None:
                return bad
            return ObjectValue(SCHEDULE_CLASSES[qual], tuple(self.freeze(a, "schedule", node, None) for a in args),
                               tuple((k, self.freeze(v, k, node, None)) for k, v in kwargs.items()), self.span(node))
        if role == "dag_decorator":
            return Decorator("dag", "", kwargs, kwarg_nodes)
        if role == "task_decorator":
            if len(args) == 1 and isinstance(args[0], UserFunction) and not kwargs:
                return TaskFlowFunction(args[0], args[0].name, "python", {})
            if len(args) == 1 and isinstance(args[0], Symbol) and not args[0].local and not kwargs:
                return TaskFlowFunction(None, args[0].qualname.rsplit(".", 1)[-1], "python", {}, args[0])
            return Decorator("task", "python", kwargs, kwarg_nodes)
        if role == "task_group_decorator":
            if len(args) == 1 and isinstance(args[0], UserFunction) and not kwargs:
                return TaskGroupFunction(args[0], {}, {})
            return Decorator("task_group", "", kwargs, kwarg_nodes)
        if qual == "typing.cast" and len(args) == 2:
            return args[1]  # typing.cast returns its value unchanged
        parent = qual.rsplit(".", 1)[0]
        if role_of(parent) == "task_decorator":
            return Decorator("task", qual.rsplit(".", 1)[1], kwargs, kwarg_nodes)
        if qual.startswith("logging."):
            return Opaque(qual)
        if qual.endswith(".partial") and self.looks_like_operator(parent, kwargs):
            return PartialOperator(parent, kwargs, kwarg_nodes)
        if self.looks_like_operator(qual, kwargs):
            return self.make_task(qual, args, kwargs, node, kwarg_nodes)
        return self.opaque_call(func, node, super().call_symbol(func, args, kwargs, node, kwarg_nodes))

    def looks_like_operator(self, qual: str, kwargs: Mapping[str, object]) -> bool:
        if "task_id" in kwargs:
            return True
        name = qual.rsplit(".", 1)[-1]
        return bool(_OPERATOR_NAME.match(name)) or self.registry.resolve(qual).rule is not None

    # -- DAGs -------------------------------------------------------------------------------------

    def make_dag(self, args: list[object], kwargs: dict[str, object], node: cst.Call,
                 kwarg_nodes: Mapping[str, cst.Arg]) -> DagBuilder:
        dag_id = args[0] if args else kwargs.get("dag_id")
        span = self.span(node)
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
            builder.arguments[name] = Argument(name, self.freeze(value, name, arg_node, builder), self.span(arg_node))
        self.all_dags.append(builder)
        return builder

    def call_dag_function(self, func: DagFunction, args: list[object], kwargs: dict[str, object],
                          node: cst.Call) -> object:
        dag_kwargs = dict(func.kwargs)
        dag_kwargs.setdefault("dag_id", func.function.name)
        builder = self.make_dag([], dag_kwargs, node, func.kwarg_nodes)
        builder.span = self.span(func.function.node)
        builder.registered = True  # @dag functions return a registered DAG
        # The function's parameters become DAG params in Airflow, read at run time.
        params = func.function.node.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        bound = dict(zip(names, args))
        bound.update(kwargs)
        runtime = {name: Unresolved("a parameter of a @dag function is a run-time DAG param", self.span(node))
                   for name in names}
        runtime.update({k: v for k, v in bound.items() if k not in runtime})
        if names:
            builder.diagnostics.append(codes.make(
                codes.UNSUPPORTED_CONSTRUCT, self.span(func.function.node),
                detail=f"@dag function {func.function.name}() takes parameters ({', '.join(names)}); they become run-time DAG params",
                hint="use params={...} on the decorator and '{{ params.name }}' templates instead"))
        self.dag_stack.append(builder)
        scope = Scope(values=dict(runtime), parent=func.function.scope)
        try:
            self.depth += 1
            self.exec_block(func.function.node.body, scope)  # type: ignore[union-attr]
        except Return:
            pass
        except LoopControl:
            pass
        finally:
            self.depth -= 1
            self.dag_stack.pop()
        return builder

    # -- task groups --------------------------------------------------------------------------------

    def make_group(self, args: list[object], kwargs: dict[str, object], node: cst.Call,
                   kwarg_nodes: Mapping[str, cst.Arg]) -> object:
        label = args[0] if args else kwargs.get("group_id")
        dag = kwargs.get("dag")
        parent = kwargs.get("parent_group")
        if not isinstance(parent, GroupBuilder):
            parent = self.group_stack[-1] if self.group_stack else None
        if not isinstance(dag, DagBuilder):
            dag = parent.dag if parent is not None else (self.dag_stack[-1] if self.dag_stack else None)
        if dag is None:
            return self.unresolved(node, "TaskGroup outside a DAG")
        if not isinstance(label, str):
            self.report_unresolved("task group id", label, node, dag)
            label = f"group_at_line_{self.span(node).line}"
        prefix = kwargs.get("prefix_group_id", True)
        if not isinstance(prefix, bool):
            self.report_unresolved("prefix_group_id", prefix, node, dag)
            prefix = True
        group_id = parent.child_id(label) if parent is not None else label
        defaults = kwargs.get("default_args") or {}
        if not isinstance(defaults, dict):
            self.report_unresolved("task group default_args", defaults, node, dag)
            defaults = {}
        group = GroupBuilder(group_id, dag, self.span(node), parent, prefix, dict(defaults))
        for name, value in kwargs.items():
            if name in ("group_id", "dag", "parent_group"):
                continue
            arg_node = kwarg_nodes.get(name, node)
            group.arguments[name] = Argument(name, self.freeze(value, name, arg_node, dag), self.span(arg_node))
        dag.groups.append(group)
        return group

    def call_task_group(self, func: TaskGroupFunction, args: list[object], kwargs: dict[str, object],
                        node: cst.Call) -> object:
        """Airflow's _TaskGroupFactory: a group named after the function (suffixed `__1`, `__2`
        when the id is taken), the body run inside it; returns what the body returns, else the group."""
        group_kwargs = {"group_id": func.function.name, **func.kwargs}
        group = self.make_group([], group_kwargs, node, func.kwarg_nodes)
        if not isinstance(group, GroupBuilder):
            return group
        taken = {g.group_id for g in group.dag.groups if g is not group}
        if group.group_id in taken:
            base = re.split(r"__\d+$", group.group_id)[0]
            suffix = 1
            while f"{base}__{suffix}" in taken:
                suffix += 1
            group.group_id = f"{base}__{suffix}"
        self.group_stack.append(group)
        self.dag_stack.append(group.dag)
        try:
            result = self.call_function(func.function, args, kwargs, node)
        finally:
            self.group_stack.pop()
            self.dag_stack.pop()
        return group if result is None else result

    # -- tasks ----------------------------------------------------------------------------------------

    def make_task(self, operator: str, args: list[object], kwargs: dict[str, object], node: cst.Call,
                  kwarg_nodes: Mapping[str, cst.Arg], kind: TaskKind = TaskKind.OPERATOR,
                  callable_name: str | None = None, mapped: bool = False) -> object:
        dag = kwargs.get("dag")
        group = kwargs.get("task_group")
        if not isinstance(group, GroupBuilder):
            group = self.group_stack[-1] if self.group_stack else None
        if not isinstance(dag, DagBuilder):
            if dag is not None and not isinstance(dag, DagBuilder):
                dag = None
            dag = group.dag if group is not None else (self.dag_stack[-1] if self.dag_stack else None)
        if group is not None and group.dag is not dag:
            group = None
        label = kwargs.get("task_id")
        span = self.span(node)
        if not isinstance(label, str):
            if dag is not None:
                if label is None:
                    dag.diagnostics.append(codes.make(codes.MISSING_ARGUMENT, span, operator=operator.rsplit(".", 1)[-1],
                                                      argument="task_id"))
                else:
                    self.report_unresolved("task_id", label, kwarg_nodes.get("task_id", node), dag)
            label = f"task_at_line_{span.line}"
        if args:
            if dag is not None:
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
            task.arguments[name] = Argument(name, self.freeze(value, name, arg_node, dag), self.span(arg_node))
        if group is not None:
            self.apply_group_defaults(task, group)
        if dag is None:
            return task  # a task with no DAG is not part of any workflow, as in Airflow
        if task_id in dag.tasks:
            dag.diagnostics.append(codes.make(codes.DUPLICATE_TASK_ID, span, task=task_id,
                                              other_line=dag.tasks[task_id].span.line))
            return dag.tasks[task_id]
        dag.tasks[task_id] = task
        if group is not None:
            group.tasks.append(task)
        for name, value in kwargs.items():
            if name not in _NOT_TASK_ARGS:
                self.add_xcom_edges(task, name, value, every_field=kind is not TaskKind.OPERATOR or mapped)
        return task

    def apply_group_defaults(self, task: TaskBuilder, group: GroupBuilder) -> None:
        """Flatten TaskGroup default_args into the task, inner groups first, as Airflow merges them."""
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
            if name in task.arguments or name in _NOT_TASK_ARGS:
                continue
            if rule is not None and not rule.accepts(name):
                continue  # Airflow passes only the default_args the operator's signature takes
            task.arguments[name] = Argument(name, self.freeze(value, name, None, task.dag), group.span,
                                            inherited_from=group.group_id)

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

    def call_taskflow(self, func: TaskFlowFunction, args: list[object], kwargs: dict[str, object],
                      node: cst.Call, mapped: bool = False) -> object:
        dag = self.dag_stack[-1] if self.dag_stack else None
        label = func.kwargs.get("task_id", func.name)
        if not isinstance(label, str):
            label = func.name
        if dag is not None:
            # Airflow de-duplicates repeated calls of one TaskFlow function as name, name__1, ...
            group = self.group_stack[-1] if self.group_stack else None
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
        names = _parameter_names(func.function) if func.function is not None else None
        passed = [f"arg{index}" for index in range(len(args))]
        if names is not None:
            # Positional arguments bind to the function's parameters, as Python binds them.
            for index, name in enumerate(names[: len(args)]):
                call_kwargs[name] = call_kwargs.pop(f"arg{index}")
                passed[index] = name
        call_kwargs.update(kwargs)
        passed.extend(k for k in kwargs if k not in passed)
        task = self.make_task(f"{_TASKFLOW_OPERATOR}.{func.variant}", [], call_kwargs, node, {},
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
        if func.imported is not None:
            return CallableRef(func.imported.qualname, False, self.span(node))
        if func.function is None:
            return Unresolved(f"the function of TaskFlow task {func.name}() is not known", self.span(node))
        ref = self.function_ref(func.function, node)
        if ".<locals>." in ref.qualname:
            # `@task def f` binds f to the decorated task: a module attribute named f exists, but
            # dag-factory would load the task object, not the function it wraps.
            return Unresolved(f"{func.name}() is decorated with @task where it is defined, so no module "
                              "attribute holds the plain function", self.span(node))
        return ref

    def function_ref(self, function: UserFunction, node: cst.CSTNode | None) -> CallableRef:
        """A function as YAML can name it: `module.name` when a module attribute holds exactly this
        function, else `module.<locals>.name` (nested, lambda, or rebound by a decorator)."""
        span = self._span_or_file(node)
        if isinstance(function.node, cst.FunctionDef):
            if function.scope is self.module_scope and self.module_scope.values.get(function.name) is function:
                return CallableRef(f"{self.module_name}.{function.name}", True, span)
            folder = getattr(self, "imports", None)  # DAG-folder modules the analyzer read, if any
            for module, scope in (getattr(folder, "scopes", None) or {}).items():
                if function.scope is scope and scope.values.get(function.name) is function:
                    return CallableRef(f"{module}.{function.name}", False, span)
        return CallableRef(f"{self.module_name}.<locals>.{function.name}", True, span)

    # -- attributes and methods of DAG objects -----------------------------------------------------

    def attribute_hook(self, base: object, name: str, node: cst.CSTNode) -> object:
        if isinstance(base, TaskBuilder):
            if name == "output":
                return TaskOutput(base)
            if name == "task_id":
                return base.task_id
            if name in ("set_upstream", "set_downstream", "as_setup", "as_teardown"):
                return TaskMethod(base, name)
            if name in base.arguments:
                value = base.arguments[name].value
                return value
            return self.unresolved(node, f"attribute {name!r} of task {base.task_id!r}")
        if isinstance(base, TaskOutput):
            if name in ("set_upstream", "set_downstream"):
                return TaskMethod(base.task, name)
            return self.unresolved(node, f"attribute {name!r} of an XCom reference")
        if isinstance(base, GroupBuilder):
            if name in ("set_upstream", "set_downstream"):
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
            if name in base.arguments:
                return base.arguments[name].value
        if isinstance(base, PartialOperator) and name in ("expand", "expand_kwargs"):
            return TaskMethod(base, name)
        if isinstance(base, TaskFlowFunction) and name in ("override", "expand", "partial", "expand_kwargs"):
            return TaskMethod(base, name)
        if isinstance(base, Opaque):
            return Opaque(base.what)
        if isinstance(base, ModuleValue):
            return self.module_attribute(base, name, node)
        return super().attribute_hook(base, name, node)

    def call_task_method(self, method: "TaskMethod", args: list[object], kwargs: dict[str, object],
                         node: cst.Call) -> object:
        target, name = method.target, method.name
        if name in ("set_upstream", "set_downstream"):
            other = args[0] if args else None
            if name == "set_upstream":
                self.relate(other, target, node, "set_upstream")
            else:
                self.relate(target, other, node, "set_downstream")
            return None
        if name in ("as_setup", "as_teardown"):
            self.report(codes.make(codes.UNSUPPORTED_CONSTRUCT, self.span(node),
                                   detail=f"{name}() setup/teardown tasks have no dag-factory form",
                                   hint="use trigger_rule='all_done' on a cleanup task instead"))
            return target
        if isinstance(target, PartialOperator):
            merged = dict(target.kwargs)
            for key, value in kwargs.items():
                merged[key] = value
            merged.setdefault("task_id", target.kwargs.get("task_id"))
            task = self.make_task(target.operator, [], merged, node, {**target.kwarg_nodes}, mapped=True)
            if isinstance(task, TaskBuilder):
                task.expand = tuple(sorted(kwargs))
                for value in args:  # expand_kwargs(xcom): the mapped task runs after the XCom's task
                    self.add_xcom_edges(task, name, value, every_field=True)
            return task
        if isinstance(target, TaskFlowFunction):
            if name == "override":
                return TaskFlowFunction(target.function, target.name, target.variant, {**target.kwargs, **kwargs},
                                        target.imported)
            if name == "partial":
                return TaskFlowFunction(target.function, target.name, target.variant, {**target.kwargs, **kwargs},
                                        target.imported)
            result = self.call_taskflow(target, [], {**kwargs}, node, mapped=True)
            if isinstance(result, TaskOutput) and name == "expand":
                result.task.expand = tuple(sorted(kwargs))
            return result
        return self.unresolved(node, f"{name}()")

    # -- dependencies -------------------------------------------------------------------------------

    def shift_hook(self, op: str, left: object, right: object, node: cst.CSTNode) -> object:
        if isinstance(left, int) and isinstance(right, int):
            return super().shift_hook(op, left, right, node)
        if op == "RightShift":
            return self.relate(left, right, node, ">>")
        self.relate(right, left, node, "<<")
        return right  # `a << b` returns b, like Airflow's __lshift__

    def relate(self, upstream: object, downstream: object, node: cst.CSTNode, operator: str) -> object:
        """Make every task of `upstream` run before every task of `downstream`; returns the right side."""
        if isinstance(downstream, EdgeLabel):
            self.report(codes.make(codes.EDGE_LABEL, self.span(node), label=downstream.text))
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
            self.report(codes.make(codes.UNRESOLVED_DEPENDENCY, self.span(node), side="either side",
                                   operator=operator, reason="Airflow cannot set dependencies between two lists (TypeError)"))
            return downstream
        for down in downs:
            for up in ups:
                if up is not down:
                    down.upstream.add(up.task_id)
        return downstream

    def dependency_side(self, value: object, node: cst.CSTNode, side: str, operator: str,
                        leaves: bool) -> list[TaskBuilder] | None:
        items = value if isinstance(value, (list, tuple)) else [value]
        tasks: list[TaskBuilder] = []
        for item in items:
            if isinstance(item, TaskOutput):
                item = item.task
            if isinstance(item, TaskBuilder):
                tasks.append(item)
            elif isinstance(item, GroupBuilder):
                self.tick(node, cost=2 * len(item.dag.tasks) + 1)  # all_tasks and _downstream_map below
                members = item.all_tasks(self)
                ids = {t.task_id for t in members}
                if leaves:
                    downstream_ids = _downstream_map(item.dag)
                    tasks.extend(t for t in members if not (downstream_ids.get(t.task_id, set()) & ids))
                else:
                    tasks.extend(t for t in members if not (t.upstream & ids))
            else:
                what = item.reason if isinstance(item, Unresolved) else f"a {type(item).__name__} value"
                if isinstance(item, RuntimeRead):
                    what = f"a value read at run time ({item.source})"
                self.report(codes.make(codes.UNRESOLVED_DEPENDENCY, self.span(node), side=side,
                                       operator=operator, reason=what))
                # The DAG is refused; the edges between known tasks are still recorded so the
                # report's map of the DAG holds every edge that is certain.
        return tasks

    def make_chain(self, role: str, args: list[object], node: cst.CSTNode) -> None:
        if role == "cross_downstream":
            if len(args) != 2:
                self.report(codes.make(codes.UNRESOLVED_DEPENDENCY, self.span(node), side="the arguments",
                                       operator="cross_downstream", reason="expected two lists"))
                return
            ups = self.dependency_side(args[0], node, "upstream", "cross_downstream", leaves=True)
            downs = self.dependency_side(args[1], node, "downstream", "cross_downstream", leaves=False)
            for down in downs or []:
                for up in ups or []:
                    down.upstream.add(up.task_id)
            return
        if role == "chain_linear":
            for left, right in zip(args, args[1:]):
                ups = self.dependency_side(left, node, "upstream", "chain_linear", leaves=True)
                downs = self.dependency_side(right, node, "downstream", "chain_linear", leaves=False)
                for down in downs or []:
                    for up in ups or []:
                        down.upstream.add(up.task_id)
            return
        # chain(): adjacent lists of equal length pair up element-wise; a list next to a single
        # task connects to each element (Airflow's chain semantics).
        for left, right in zip(args, args[1:]):
            left_is_list = isinstance(left, (list, tuple))
            right_is_list = isinstance(right, (list, tuple))
            if left_is_list and right_is_list:
                if len(left) != len(right):  # type: ignore[arg-type]
                    self.report(codes.make(codes.UNRESOLVED_DEPENDENCY, self.span(node), side="the arguments",
                                           operator="chain", reason="adjacent lists of different lengths (Airflow raises)"))
                    return
                for up, down in zip(left, right):  # type: ignore[call-overload]
                    self.relate(up, down, node, "chain")
            else:
                self.relate(left, right, node, "chain")

    # -- freezing runtime values into model values --------------------------------------------------

    def freeze(self, value: object, name: str, node: cst.CSTNode | None, dag: DagBuilder | None) -> object:
        if value is None or isinstance(value, (str, int, float, bool, DateTime, Duration, ObjectValue)):
            return value
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, RuntimeRead):
            return Unresolved(f"read at run time ({value.source})", value.span, source=value.source)
        if isinstance(value, list):
            return [self.freeze(v, name, node, dag) for v in value]
        if isinstance(value, tuple):
            return tuple(self.freeze(v, name, node, dag) for v in value)
        if isinstance(value, dict):
            if "**" in value and isinstance(value["**"], (Unresolved, RuntimeRead)):
                return self.freeze(value["**"], name, node, dag)
            return {k: self.freeze(v, name, node, dag) for k, v in value.items()}
        if isinstance(value, (set, frozenset)):
            if all(isinstance(v, str) for v in value):
                return sorted(value)  # type: ignore[type-var]
            return Unresolved("a set of non-string values has no fixed order", self._span_or_file(node))
        if isinstance(value, TaskOutput):
            return XComRef(value.task.task_id, value.key, self._span_or_file(node))
        if isinstance(value, UserFunction):
            return self.function_ref(value, node)
        if isinstance(value, TaskFlowFunction):
            return CallableRef(f"{self.module_name}.{value.name}", True, self._span_or_file(node))
        if isinstance(value, Symbol):
            return CallableRef(value.qualname, value.local, self._span_or_file(node))
        if isinstance(value, TaskBuilder):
            return Unresolved(f"task {value.task_id!r} passed as a value", self._span_or_file(node))
        return Unresolved(f"a {type(value).__name__} value has no YAML form", self._span_or_file(node))

    def _span_or_file(self, node: cst.CSTNode | None) -> Span:
        return self.span(node) if node is not None else Span(self.path)

    def freeze_dag(self, dag: DagBuilder) -> Workflow:
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


@dataclass
class TaskMethod:
    target: object
    name: str


class _Globals:
    pass


_MISSING: Final = object()


_GLOBALS: Final = _Globals()


def _task_outputs(value: object) -> Iterable[TaskOutput]:
    return (v for v in walk_values(value) if isinstance(v, TaskOutput))


def _parameter_names(function: UserFunction) -> list[str] | None:
    if not isinstance(function.node, cst.FunctionDef):
        return None
    params = function.node.params
    return [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]


def _downstream_map(dag: DagBuilder) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for task in dag.tasks.values():
        for up in task.upstream:
            result.setdefault(up, set()).add(task.task_id)
    return result


#: Node fields that hold only whitespace, parentheses, commas or comments: never a call.
_LAYOUT_FIELDS: Final = frozenset({
    "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "comma", "semicolon",
    "newline", "trailing_whitespace", "equal", "colon", "dot", "star", "lbracket", "rbracket", "lbrace", "rbrace",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(kind)
            if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace")
        )
    return names


def _creates_objects(node: cst.CSTNode) -> bool:
    """Whether a statement contains calls, `with` blocks or shifts (anything that may add tasks).

    A direct walk over the nodes' fields that stops at the first find: libcst's visitor machinery
    rebuilds every node it passes and cost several milliseconds per statement."""
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.Call, cst.With)):
            return True
        if isinstance(current, cst.BinaryOperation) and isinstance(current.operator, (cst.RightShift, cst.LeftShift)):
            return True
        for name in _child_fields(type(current)):
            value = getattr(current, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (tuple, list)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))
    return False


def module_name_for(path: str) -> str:
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    return stem[:-3] if stem.endswith(".py") else stem


def analyze_module(source: str, path: str, *, package: str = "", today: _dt.date | None = None,
                   root: Path | None = None) -> ModuleAnalysis:
    """Find the workflows of one DAG file's source text. Never imports or runs it.

    `package` is the file's folder relative to the DAG folder, dotted; `root` is the DAG folder
    itself: modules the file imports from it are read and interpreted (never imported).
    """
    too_complex = nesting_problem(source)
    if too_complex is not None:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path, too_complex[0], 1),
                                                    detail=too_complex[1]),))
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        detail = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        # libcst's native parser puts the precise place in the message ("error at 2:20: ...",
        # 0-based column); its raw_line can point past it.
        where = _PARSER_PLACE.search(detail)
        line, column = (int(where.group(1)), int(where.group(2)) + 1) if where else (exc.raw_line, exc.raw_column + 1)
        detail = _PARSER_PLACE.sub("", detail).replace("parser error: ", "").strip() or "invalid syntax"
        span = Span(path, line, column)
        return ModuleAnalysis(path, (), (codes.make(codes.SYNTAX_ERROR, span, detail=detail),))
    except cst.CSTValidationError as exc:
        # The parser accepted a token its node classes then reject, e.g. an identifier in a
        # script newer than this Python's Unicode database (found by tests/robustness/test_fuzz.py).
        return ModuleAnalysis(path, (), (codes.make(codes.SYNTAX_ERROR, Span(path), detail=str(exc)),))
    except RecursionError:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path),
                                                    detail="source nested too deeply to parse"),))
    try:
        positions = StartPositions(module, source)
        name = module_name_for(path)
        imports = FolderImports(DagFolder(root, display_root_of(path, package))) if root is not None else None
        interpreter = ModuleInterpreter(path, module, positions, module_name=name,
                                        package=package, today=today or environment_today(), imports=imports)
        if imports is not None:
            # A helper module importing this file back sees the names bound so far, as in Python.
            imports.scopes[f"{package}.{name}" if package else name] = interpreter.module_scope
        return interpreter.run()
    except RecursionError:
        return ModuleAnalysis(path, (), (codes.make(codes.INPUT_TOO_COMPLEX, Span(path),
                                                    detail="expression nested too deeply to analyse"),))


__all__ = ["analyze_module"]
