"""Scripts and template files the tasks reference, with the relative paths they are looked up by.

Airflow renders a templated argument whose value ends with one of the operator's `template_ext` as a
file: Jinja looks the name up relative to the DAG file's folder, then in `template_searchpath`. The
package keeps that relative name, so the file sits at the same name under the extraction folder.
Only files the tasks name are shipped, only from inside the DAG folder, never through a link.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from dag_converter import codes
from dag_converter.codepackage._root import FolderRoot
from dag_converter.model import Argument, Diagnostic, Span, Task
from dag_converter.registry.template_files import TEMPLATE_FILES, included_templates

_PYTHON_OPERATORS: Final = frozenset({
    "airflow.providers.standard.operators.python.PythonOperator", "airflow.operators.python.PythonOperator",
})


@dataclass(frozen=True, slots=True)
class FileReference:
    """A task argument value that names a file of the DAG folder."""

    task_id: str
    argument: str
    name: str  #: the name as the task writes it (stripped), e.g. "scripts/load.sh"
    span: Span
    command: bool = False  #: bash runs it as a command (value ends with a space), not a Jinja template


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """A file of the package: its path in the archive, its bytes and why it is there."""

    path: str
    data: bytes
    reason: str


def file_references(task: Task) -> list[FileReference]:
    """The files `task`'s templated arguments name, by the operator's template_ext."""
    rule = TEMPLATE_FILES.get(task.operator)
    found: list[FileReference] = []
    if rule is not None:
        names, extensions = rule
        for argument in task.arguments:
            if argument.name in names:
                found.extend(_references(task.task_id, argument, extensions))
    if task.operator in _PYTHON_OPERATORS:
        exts = next((a.value for a in task.arguments if a.name == "templates_exts"), None)
        templates = next((a for a in task.arguments if a.name == "templates_dict"), None)
        if isinstance(exts, (list, tuple)) and templates is not None:
            found.extend(_references(task.task_id, templates, tuple(e for e in exts if isinstance(e, str))))
    return found


def _references(task_id: str, argument: Argument, extensions: tuple[str, ...]) -> Iterable[FileReference]:
    values: list[object] = [argument.value]
    while values:
        value = values.pop(0)
        if isinstance(value, (list, tuple)):
            values.extend(value)
        elif isinstance(value, dict):
            values.extend(value.values())
        elif isinstance(value, str) and value.strip().endswith(extensions) and "\n" not in value.strip():
            stripped = value.strip()
            command = value != value.rstrip()  # Airflow's trailing-space idiom: run, do not render
            name = stripped.split()[0] if command else stripped
            if name.endswith(extensions) and "{{" not in name:
                yield FileReference(task_id, argument.name, name, argument.span, command)


def collect_files(references: Sequence[FileReference], root: FolderRoot, *, dag_dir: str = "",
                  search_path: Sequence[str] = ()) -> tuple[tuple[PackagedFile, ...], tuple[Diagnostic, ...]]:
    """Read each referenced file from the DAG file's folder (`dag_dir`, relative to the root) or the
    template_searchpath entries (absolute or relative to the root), as Jinja's loader would."""
    files: dict[str, PackagedFile] = {}
    diagnostics: list[Diagnostic] = []
    dirs = [dag_dir] + [d for d in (_inside_root(entry, root) for entry in search_path) if d is not None]
    queue = list(references)
    while queue:
        ref = queue.pop(0)
        if ref.name in files:
            continue
        if posixpath.isabs(ref.name) or ref.name.startswith("~"):
            diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, ref.span, file=ref.name,
                                          reason="it is an absolute path; the package holds paths relative to the DAG folder"))
            continue
        problem = "no such file in the DAG folder"
        for directory in dirs:
            relative = root.normalize(posixpath.join(directory, ref.name) if directory else ref.name)
            if relative is None:
                problem = "the path leaves the DAG folder"
                continue
            read = root.read(relative)
            if read.data is not None:
                how = "run by" if ref.command else "template of"
                files[ref.name] = PackagedFile(ref.name, read.data,
                                               f"{how} {ref.argument} of task {ref.task_id!r} ({relative})")
                if not ref.command:
                    queue.extend(_included(ref, read.data, diagnostics))
                break
            problem = read.problem
        else:
            diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, ref.span, file=ref.name, reason=problem))
    return tuple(files[k] for k in sorted(files)), tuple(diagnostics)


def _included(ref: FileReference, data: bytes, diagnostics: list[Diagnostic]) -> list[FileReference]:
    """The files a template file includes by name: Jinja looks them up as it looks up the file itself."""
    included = included_templates(data.decode("utf-8", errors="replace"))
    if isinstance(included, str):
        diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, ref.span, file=ref.name,
                                      reason=f"Jinja cannot parse it ({included}), so the files it includes are not known"))
        return []
    if None in included:
        diagnostics.append(codes.make(codes.PACKAGE_FILE_UNAVAILABLE, ref.span, file=ref.name,
                                      reason="it includes a template whose name is computed when it renders"))
    return [FileReference(ref.task_id, ref.argument, name, ref.span) for name in included if name is not None]


def _inside_root(entry: str, root: FolderRoot) -> str | None:
    """A template_searchpath entry as a folder relative to the root, or None when it is outside."""
    if not Path(entry).is_absolute():
        return "" if not entry.strip("./") else root.normalize(entry)
    if root.local is None:
        return None  # a folder reader (an S3 prefix) has no absolute paths
    try:
        return Path(entry).resolve().relative_to(root.local.resolve()).as_posix()
    except (ValueError, OSError):
        return None
