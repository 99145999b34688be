"""The converted workflows of an output folder, read back from the YAML the converter wrote.

The YAML has each task's operator class and literal arguments (a value the converter could not
know statically was refused, so what is there is what runs; Jinja templates stay templates). The
manifest (conversion-manifest.json), when present, adds where each DAG and task is in the Python
source, so a warning points at the source line. Only the folder's own top-level ``*.yaml`` files
are read, each at most `MAX_BYTES`; a file that is not a converted DAG is reported and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from dag_converter.model import Argument, Span, Task, Workflow

MAX_BYTES: Final = 5 * 1024 * 1024
MANIFEST_NAME: Final = "conversion-manifest.json"
#: Task keys that are dag-factory's, not the operator's arguments.
_NOT_ARGUMENTS: Final = frozenset({"operator", "task_id", "dependencies", "task_group_name", "decorator"})


@dataclass(frozen=True, slots=True)
class FoundWorkflow:
    workflow: Workflow
    yaml_path: Path


@dataclass(frozen=True, slots=True)
class Skipped:
    path: Path
    reason: str


def _positions(folder: Path) -> dict[str, tuple[str, int, dict[str, int]]]:
    """dag_id -> (source path, DAG line, task_id -> line), from the manifest if it is readable."""
    path = folder / MANIFEST_NAME
    try:
        if not path.is_file() or path.stat().st_size > 8 * MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, tuple[str, int, dict[str, int]]] = {}
    sources = data.get("sources") if isinstance(data, dict) else None
    for source, entry in (sources.items() if isinstance(sources, dict) else ()):
        result = entry.get("result", {}) if isinstance(entry, dict) else {}
        for dag in result.get("dags", ()) if isinstance(result, dict) else ():
            if isinstance(dag, dict) and isinstance(dag.get("dag_id"), str):
                tasks = {t["task_id"]: _line(t.get("line")) for t in dag.get("tasks", ())
                         if isinstance(t, dict) and isinstance(t.get("task_id"), str)}
                out[dag["dag_id"]] = (str(source), _line(dag.get("line")), tasks)
    return out


def _line(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _tasks(raw: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(raw, dict):
        return [(str(k), v) for k, v in raw.items() if isinstance(v, dict)]
    if isinstance(raw, list):
        return [(str(t["task_id"]), t) for t in raw if isinstance(t, dict) and "task_id" in t]
    return []


def _workflow(dag_id: str, body: dict[str, Any], yaml_path: Path,
              where: tuple[str, int, dict[str, int]] | None) -> Workflow:
    source, line, lines = where if where else (str(yaml_path), 0, {})
    tasks = []
    for task_id, spec in _tasks(body.get("tasks")):
        operator = spec.get("operator")
        if not isinstance(operator, str):
            continue
        span = Span(source, lines.get(task_id, 0))
        arguments = tuple(Argument(str(name), value, span) for name, value in spec.items()
                          if name not in _NOT_ARGUMENTS)
        tasks.append(Task(task_id=task_id, operator=operator, span=span, arguments=arguments))
    return Workflow(dag_id=str(body.get("dag_id", dag_id)), span=Span(source, line), tasks=tuple(tasks))


def workflows_in_output(folder: Path | str) -> Iterator[FoundWorkflow | Skipped]:
    """Each converted DAG of ``folder`` (sorted by file name), or why a YAML file was skipped."""
    root = Path(folder)
    positions = _positions(root)
    for path in sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        try:
            if path.stat().st_size > MAX_BYTES:
                yield Skipped(path, f"larger than {MAX_BYTES} bytes")
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
            yield Skipped(path, f"not readable YAML: {type(exc).__name__}")
            continue
        if not isinstance(data, dict) or not data:
            yield Skipped(path, "not a dag-factory file")
            continue
        found = False
        for dag_id, body in data.items():
            if isinstance(body, dict) and "tasks" in body and isinstance(dag_id, str):
                found = True
                yield FoundWorkflow(_workflow(dag_id, body, path, positions.get(dag_id)), path)
        if not found:
            yield Skipped(path, "no DAG with tasks")
