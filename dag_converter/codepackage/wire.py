"""The code package in the per-file pipeline: build it for one DAG, name its code in the workflow.

`package_workflow()` is what pipeline.py calls for a target with Feature.CODE_PACKAGES: it builds
the DAG's package (build_package) and returns the workflow with every callable and custom operator
the package carries renamed to its import path inside the package (`module.function`,
`module.Class`), so the target's checks and the emitter write those names. A callable or class
left as the analyzer named it was not packaged; the target refuses it at its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dag_converter import codes
from dag_converter.codepackage import CodePackage, build_package
from dag_converter.codepackage._root import recording_reads
from dag_converter.model import Argument, CallableRef, Diagnostic, Severity, Span, Task, TaskKind, Workflow
from dag_converter.targets import NOT_PACKAGED_HINT

if TYPE_CHECKING:
    from dag_converter.codepackage.pins import Pins
    from dag_converter.storage.base import FolderFiles

__all__ = ["dag_module_name", "package_workflow", "recording_reads", "rename_code", "settle"]


def dag_module_name(relative: str) -> str:
    """The module name the analyzer gives a DAG file: its path in the folder, dotted, without `.py`."""
    stem = relative[:-3] if relative.endswith(".py") else relative
    return stem.replace("\\", "/").strip("/").replace("/", ".")


def package_workflow(workflow: Workflow, source: str, display: str, relative: str,
                     root: "Path | FolderFiles | None", *, pins: "Pins | None" = None, build_deps: bool = False
                     ) -> tuple[Workflow, CodePackage | None, tuple[Diagnostic, ...]]:
    """The workflow renamed for its package, the package (None when nothing needs one), and the
    package's findings (errors refuse the DAG). `pins` and `build_deps`: see build_package()."""
    if root is None:
        if not _needs_code(workflow):
            return workflow, None, ()
        return workflow, None, (codes.make(codes.PACKAGE_FILE_UNAVAILABLE, Span(display), file=relative,
                                           reason="the DAG file has no DAG folder to build a code package from"),)
    package = build_package(workflow.dag_id, workflow.tasks, source, display, root, dag_file=relative,
                            dag_module=dag_module_name(relative), pins=pins, build_deps=build_deps)
    renamed = rename_code(workflow, package)  # what did resolve, so the checks report only the rest
    if package.refused:
        return renamed, None, package.diagnostics
    return renamed, package if package.zip_bytes is not None else None, package.diagnostics


def settle(target_findings: list[Diagnostic], package_findings: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """The target's findings, less its "not in the code package" repeats when the package's own
    findings already refuse the DAG at each callable's line."""
    if not any(d.severity is Severity.ERROR for d in package_findings):
        return target_findings
    return [d for d in target_findings if d.hint != NOT_PACKAGED_HINT]


def _needs_code(workflow: Workflow) -> bool:
    return any(t.kind is TaskKind.TASKFLOW or any(isinstance(a.value, CallableRef) for a in t.arguments)
               for t in workflow.tasks)


def rename_code(workflow: Workflow, package: CodePackage) -> Workflow:
    """Each packaged callable as `module.function` (importable), each packaged class by its path."""
    tasks = tuple(_rename_task(task, package) for task in workflow.tasks)
    return replace(workflow, tasks=tasks)


def _rename_task(task: Task, package: CodePackage) -> Task:
    own = package.task_callables.get(task.task_id)
    changes: dict[str, object] = {}
    if task.taskflow is not None and own is not None:
        changes["taskflow"] = replace(task.taskflow, callable=CallableRef(own, False, task.span))
    arguments = tuple(_rename_argument(arg, own, package.callable_rewrites) for arg in task.arguments)
    if arguments != task.arguments:
        changes["arguments"] = arguments
    operator = package.operator_paths.get(task.task_id)
    if operator is not None:
        changes["operator"] = operator
    return replace(task, **changes) if changes else task  # type: ignore[arg-type]


def _rename_argument(arg: Argument, own: str | None, rewrites: Mapping[str, str]) -> Argument:
    if arg.name == "python_callable" and isinstance(arg.value, CallableRef) and own is not None:
        return replace(arg, value=CallableRef(own, False, arg.value.span))
    value = _rename_value(arg.value, rewrites)
    return arg if value is arg.value else replace(arg, value=value)


def _rename_value(value: object, rewrites: Mapping[str, str]) -> object:
    if isinstance(value, CallableRef):
        name = value.qualname.rsplit(".", 1)[-1] if value.defined_in_file else value.qualname
        dotted = rewrites.get(name)
        return CallableRef(dotted, False, value.span) if dotted is not None else value
    if isinstance(value, list):
        items = [_rename_value(v, rewrites) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        mapped = {k: _rename_value(v, rewrites) for k, v in value.items()}
        return mapped if any(mapped[k] is not value[k] for k in value) else value
    return value
