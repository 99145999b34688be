"""Code packages for MWAA Serverless: the code a DAG's tasks run, shipped beside its YAML.

`build_package()` is the one entry point. Given a DAG's tasks (as the analyzer found them), the DAG
file's source and the DAG folder, it finds statically (libcst; nothing is imported or run) what the
tasks' callables, custom operators and templated files need, and returns a deterministic zip, the
list of its files with the reason each is there, requirements.txt and the pip command that vendors
it, the diagnostics of what cannot be shipped, and how the YAML names each callable
(`python_callable: module.function`). docs/code-packages.md describes the package for users.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from dag_converter import codes
from dag_converter.analyzer import LayeredFolder
from dag_converter.codepackage._environment import Environment, shipped
from dag_converter.codepackage._root import DEFAULT_MAX_FILE_SIZE, FolderRoot
from dag_converter.codepackage.archive import ManifestEntry, PackageEntry, build_zip, render_manifest
from dag_converter.codepackage.collect import Reference, Resolved, collect
from dag_converter.codepackage.files import collect_files, file_references
from dag_converter.codepackage.module import check_module, module_name_for, render_module
from dag_converter.codepackage.pins import Pins, parse_pins
from dag_converter.codepackage.requirements import Requirements, derive_requirements, pip_command_text
from dag_converter.model import CallableRef, Diagnostic, Severity, Span, Task, TaskKind, walk_values

if TYPE_CHECKING:
    from dag_converter.storage.base import FolderFiles

__all__ = [
    "CodePackage", "ManifestEntry", "Pins", "Reference", "Requirements", "build_package", "parse_pins",
    "references_for", "render_manifest",
]


@dataclass(frozen=True, slots=True)
class CodePackage:
    """What build_package() made for one DAG."""

    dag_id: str
    zip_bytes: bytes | None  #: None when a part cannot be shipped (see diagnostics) or nothing needs a package
    files: tuple[ManifestEntry, ...]  #: every file of the zip, in archive order, with why it is there
    requirements: Requirements
    requirements_text: str  #: requirements.txt (only comments when nothing is needed)
    pip_command: str  #: the pip command that vendors the requirements ("" when --build-deps installed them)
    module_name: str | None  #: the generated module, when the DAG file defines a callable
    callable_rewrites: Mapping[str, str]  #: reference as the analyzer names it -> `module.function`
    task_callables: Mapping[str, str]  #: task_id -> `module.function` of its python_callable / TaskFlow function
    operator_paths: Mapping[str, str]  #: task_id -> class path, for custom operators defined in the DAG file
    stripped_decorators: Mapping[str, tuple[str, ...]]  #: task_id -> TaskFlow decorators left out (`@task.branch`)
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def refused(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def manifest_text(self) -> str:
        return render_manifest(self.files)


def references_for(tasks: Sequence[Task], dag_module: str | None = None, *,
                   environment: Environment | None = None) -> list[Reference]:
    """What the package must provide for `tasks`: python_callable and every other callable argument,
    TaskFlow functions, and operator classes from the DAG folder or from distributions the service
    does not pre-install. `dag_module` is the analyzer's module name for the DAG file."""
    env = environment or shipped()
    found: list[Reference] = []
    for task in tasks:
        if task.kind == TaskKind.TASKFLOW or task.taskflow is not None:
            function = task.taskflow.function if task.taskflow is not None else task.callable_name
            if function:
                callable_value = task.taskflow.callable if task.taskflow is not None else None
                if isinstance(callable_value, CallableRef) and not callable_value.defined_in_file:
                    found.append(Reference(task.task_id, callable_value.qualname, callable_value.span or task.span,
                                           role="TaskFlow function"))
                else:
                    found.append(Reference(task.task_id, function, task.span, taskflow=True, role="TaskFlow function"))
        for argument in task.arguments:
            if argument.name.startswith("__"):
                continue  # the analyzer's side channel for TaskFlow tasks, handled above
            for value in walk_values(argument.value):
                if isinstance(value, CallableRef):
                    found.append(Reference(task.task_id, _reference_name(value), value.span or argument.span,
                                           role=argument.name))
        operator = task.operator
        if dag_module and operator.startswith(dag_module + "."):
            found.append(Reference(task.task_id, operator[len(dag_module) + 1:], task.span, role="operator class"))
        elif task.kind == TaskKind.OPERATOR and "." in operator:
            distribution = env.distribution_for(operator.rsplit(".", 1)[0])
            if distribution is None or not env.is_preinstalled(distribution):
                found.append(Reference(task.task_id, operator, task.span, role="operator class"))
    return found


def _reference_name(value: CallableRef) -> str:
    if value.defined_in_file:
        return value.qualname.rsplit(".", 1)[-1]  # `<module>.f`, `<module>.<locals>.f`, `...<lambda>`
    return value.qualname


def build_package(dag_id: str, tasks: Sequence[Task], source: str, path: str, root: "Path | FolderFiles", *,
                  dag_file: str | None = None, dag_module: str | None = None,
                  extra_references: Sequence[Reference] = (), template_searchpath: Sequence[str] = (),
                  import_names: Mapping[str, str] | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                  environment: Environment | None = None, pins: Pins | None = None,
                  build_deps: bool = False) -> CodePackage:
    """The code package of one DAG.

    `source`/`path`: the DAG file's text and its display path; `root`: the DAG folder (nothing outside
    it is read); `dag_file`: the DAG file's path relative to `root` (its folder is where templates are
    looked up; default: the root); `dag_module`: the analyzer's module name for the file (to recognise
    `module.f` references to it); `extra_references`: e.g. DAG-level callbacks; `import_names`:
    import name -> distribution for imports the shipped table does not know; `pins`: the versions
    requirements.txt gives (a needed distribution it does not pin is a DC347 warning); `build_deps`:
    install the requirements into the package with pip (vendor.py; a failure refuses the DAG, DC348).
    """
    try:
        return _build(dag_id, tasks, source, path, root, dag_file=dag_file, dag_module=dag_module,
                      extra_references=extra_references, template_searchpath=template_searchpath,
                      import_names=import_names, max_file_size=max_file_size, environment=environment,
                      pins=pins, build_deps=build_deps)
    except (RecursionError, ValueError, OSError) as exc:  # hostile input: one DAG fails, the batch goes on
        return _failed(dag_id, codes.make(codes.INTERNAL_ERROR, Span(path), detail=f"code package: {exc}"))


def _failed(dag_id: str, diagnostic: Diagnostic) -> CodePackage:
    empty = derive_requirements(())
    return CodePackage(dag_id=dag_id, zip_bytes=None, files=(), requirements=empty,
                       requirements_text=empty.text(dag_id), pip_command=pip_command_text(), module_name=None,
                       callable_rewrites={}, task_callables={}, operator_paths={}, stripped_decorators={},
                       diagnostics=(diagnostic,))


def _build(dag_id: str, tasks: Sequence[Task], source: str, path: str, root: "Path | FolderFiles", *, dag_file: str | None,
           dag_module: str | None, extra_references: Sequence[Reference], template_searchpath: Sequence[str],
           import_names: Mapping[str, str] | None, max_file_size: int, environment: Environment | None,
           pins: Pins | None = None, build_deps: bool = False) -> CodePackage:
    env = (environment or shipped()).with_modules(import_names or {})
    # Template files are looked up where Jinja looks (the DAG folder), never in the plugins archive.
    folder = FolderRoot(_dag_folder(root), max_file_size)
    modules_root = FolderRoot(root, max_file_size)
    references = references_for(tasks, dag_module, environment=env) + list(extra_references)
    closure = collect(source, path, root, _unique(references), dag_file=dag_file, max_file_size=max_file_size,
                      environment=env)
    diagnostics = list(closure.diagnostics)
    dag_dir = str(PurePosixPath(dag_file).parent) if dag_file and "/" in dag_file else ""
    file_refs = [ref for task in tasks for ref in file_references(task)]
    files, file_diagnostics = collect_files(file_refs, folder, dag_dir=dag_dir, search_path=template_searchpath)
    diagnostics.extend(file_diagnostics)
    for module in closure.modules:
        if dag_file is not None and module.path == dag_file:
            diagnostics.append(codes.make(codes.DAG_OBJECT_IN_CALLABLE, Span(path), name=module.module,
                                          what="the DAG file itself, imported by a packaged module"))
    requirements = derive_requirements(closure.imports, environment=env)
    if pins is not None:
        requirements = requirements.pinned(pins)
        diagnostics.extend(codes.make(codes.UNPINNED_REQUIREMENT, req.span or Span(path), distribution=req.distribution,
                                      source=pins.source, why=pins.why_unpinned(req.distribution))
                           for req in requirements.requirements if not pins.pinned(req.distribution))

    in_file = [r for r in closure.resolved if r.module is None]
    taken = {m.module.split(".")[0] for m in closure.modules} | {f.path.split("/")[0].removesuffix(".py")
                                                                  for f in files}
    taken |= set(sys.stdlib_module_names) | {m.split(".")[0] for m in env.modules}
    module_name = module_name_for(dag_id, taken) if in_file else None
    entries: list[PackageEntry] = []
    if module_name is not None:
        text = render_module(dag_id, dag_file or Path(path).name, closure.definitions,
                             future_annotations=closure.future_annotations)
        problem = check_module(text)
        if problem is not None:  # pragma: no cover - pieces of a parsed file always parse again
            diagnostics.append(codes.make(codes.INTERNAL_ERROR, Span(path), detail=f"generated module: {problem}"))
        names = ", ".join(sorted({r.attribute for r in in_file}))
        entries.append(PackageEntry(f"{module_name}.py", text.encode("utf-8"),
                                    f"generated from {dag_file or Path(path).name}: {names} and what they use; builds no DAG"))
    for module in closure.modules:
        read = modules_root.read(module.path)
        if read.data is not None:
            origin = f" (from the plugins archive {root.plugins.display})" \
                if isinstance(root, LayeredFolder) and modules_root.from_plugins(module.path) else ""
            entries.append(PackageEntry(module.path, read.data, f"module {module.module}: {module.reason}{origin}"))
    entries.extend(PackageEntry(f.path, f.data, f.reason) for f in files)
    vendored = False
    if build_deps and requirements.requirements and entries \
            and not any(d.severity is Severity.ERROR for d in diagnostics):
        problem = _vendor(entries, requirements, env)
        if problem is not None:
            diagnostics.append(codes.make(codes.BUILD_DEPS_FAILED, requirements.requirements[0].span or Span(path),
                                          requirements=", ".join(requirements.lines), detail=problem))
        vendored = problem is None

    rewrites = {r.name: r.dotted(module_name or "") for r in closure.resolved}
    task_callables = _task_callables(tasks, closure.resolved, module_name or "")
    operator_paths = {r.task_id: r.dotted(module_name or "") for r in closure.resolved
                      if r.module is None and any(t.task_id == r.task_id and dag_module
                                                  and t.operator == f"{dag_module}.{r.attribute}" for t in tasks)}
    stripped = {r.task_id: r.stripped_decorators for r in closure.resolved if r.stripped_decorators}
    diagnostics = sorted(set(diagnostics), key=Diagnostic.sort_key)
    refused = any(d.severity is Severity.ERROR for d in diagnostics)
    zip_bytes, manifest = build_zip(entries)
    return CodePackage(
        dag_id=dag_id,
        zip_bytes=None if refused or not entries else zip_bytes,
        files=manifest,
        requirements=requirements,
        requirements_text=requirements.text(dag_id, vendored=vendored),
        pip_command="" if vendored else pip_command_text(),
        module_name=module_name,
        callable_rewrites=rewrites,
        task_callables=task_callables,
        operator_paths=operator_paths,
        stripped_decorators=stripped,
        diagnostics=tuple(diagnostics),
    )


def _vendor(entries: list[PackageEntry], requirements: Requirements, env: Environment) -> str | None:
    """Add what pip installs for `requirements` to `entries`; the problem, or None."""
    from dag_converter.codepackage.vendor import vendor  # runs pip: loaded only with --build-deps

    result = vendor(requirements.lines, env)
    if result.error is not None:
        return result.error
    own = {e.path: e for e in entries}
    clash = sorted(e.path for e in result.entries if e.path in own and own[e.path].data != e.data)
    if clash:
        return f"an installed file has the path of a file of the DAG folder: {', '.join(clash[:3])}"
    entries.extend(result.entries)
    return None


def _dag_folder(root: "Path | FolderFiles") -> "Path | FolderFiles":
    """The DAG folder alone, without the plugins archive behind it."""
    if isinstance(root, LayeredFolder):
        return root.local or root.base or root
    return root


def _unique(references: Sequence[Reference]) -> list[Reference]:
    seen: set[tuple[str, str, bool]] = set()
    unique: list[Reference] = []
    for ref in references:
        key = (ref.task_id, ref.name, ref.taskflow)  # the same callable named twice by one task
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    return unique


def _task_callables(tasks: Sequence[Task], resolved: Sequence[Resolved], module_name: str) -> dict[str, str]:
    """task_id -> `module.function` of the task's python_callable or TaskFlow function."""
    by_task: dict[str, str] = {}
    for task in tasks:
        wanted: str | None = None
        if task.taskflow is not None:
            callable_value = task.taskflow.callable
            wanted = (callable_value.qualname if isinstance(callable_value, CallableRef)
                      and not callable_value.defined_in_file else task.taskflow.function)
        elif task.callable_name and task.kind == TaskKind.TASKFLOW:
            wanted = task.callable_name
        else:
            arg = next((a for a in task.arguments if a.name == "python_callable"), None)
            if arg is not None and isinstance(arg.value, CallableRef):
                wanted = _reference_name(arg.value)
        if wanted is None:
            continue
        match = next((r for r in resolved if r.task_id == task.task_id and r.name == wanted), None)
        if match is not None:
            by_task[task.task_id] = match.dotted(module_name)
    return by_task

