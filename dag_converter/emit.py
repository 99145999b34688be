"""Model -> dag-factory YAML text, deterministically (storage/ writes it).

The workflow arrives normalised by the validator, so this module only maps values to their YAML
forms (TARGET.md decision 3) and fixes the key order (DESIGN.md: dag keys, then tasks in source
order, each task's `operator` first, arguments in source order, `dependencies` last).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import yaml

from dag_converter.model import DateTime, Duration, EnumMember, ObjectValue, TaskKind, Workflow

_TIMEDELTA_TYPE: Final = "datetime.timedelta"


class _Dumper(yaml.SafeDumper):
    """SafeDumper: never emits `!!python` tags; quotes every string YAML would read as something else."""

    def ignore_aliases(self, data: object) -> bool:
        return True  # the same dict used twice is written twice, never as an anchor/alias


# Characters a YAML reader treats as line breaks (NEL, LS, PS) or that YAML cannot hold raw (the
# BOM, C0/C1 controls, lone surrogates). PyYAML writes some of them unescaped in plain or single-
# quoted scalars, where they read back as something else ('\x85' as a space), so any string holding
# one is written double-quoted, the one style that escapes them.
_NEEDS_ESCAPES: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if _NEEDS_ESCAPES.search(value) or "\r" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def yaml_value(value: object) -> object:
    """The YAML form of a model value."""
    if isinstance(value, Duration):
        return {"__type__": _TIMEDELTA_TYPE, "seconds": value.exact_seconds}
    if isinstance(value, DateTime):
        return format_datetime(value)
    if isinstance(value, ObjectValue):
        # dag-factory builds `{__type__: path, __args__: [...], kw: v}` as path(*args, **kw) (TARGET.md §2.4).
        built: dict[str, object] = {"__type__": value.class_path}
        if value.args:
            built["__args__"] = [yaml_value(v) for v in value.args]
        built.update((k, yaml_value(v)) for k, v in value.kwargs)
        return built
    if isinstance(value, EnumMember):
        # dag-factory builds `{__type__: Enum, __args__: [value]}` as Enum(value): the member itself.
        return {"__type__": value.class_path, "__args__": [value.value]}
    if isinstance(value, (list, tuple)):
        return [yaml_value(v) for v in value]
    if isinstance(value, dict):
        return {k: yaml_value(v) for k, v in value.items()}
    return value


def format_datetime(value: DateTime) -> str:
    """'YYYY-MM-DD' at midnight, else ISO-8601 wall time. The zone, if any, is the DAG's
    `timezone` key: dag-factory parses the string and then sets that zone (TARGET.md §2.5)."""
    moment: datetime = value.value
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.isoformat()


def workflow_document(workflow: Workflow, *, task_groups: bool = False) -> dict[str, object]:
    """The YAML document of one workflow as plain data, in emission order. With `task_groups`
    the workflow's groups become dag-factory `task_groups` (the validator has already named
    tasks and groups by their bare names and set each task's `task_group_name`)."""
    body: dict[str, object] = {"dag_id": workflow.dag_id}
    for arg in workflow.arguments:
        body[arg.name] = yaml_value(arg.value)
    if task_groups and workflow.groups:
        groups: dict[str, object] = {}
        for group in workflow.groups:
            conf: dict[str, object] = {arg.name: yaml_value(arg.value) for arg in group.arguments}
            if group.parent:
                conf["parent_group_name"] = group.parent
            groups[group.group_id] = conf
        body["task_groups"] = groups
    tasks: dict[str, object] = {}
    for task in workflow.tasks:
        # TaskFlow tasks are `decorator:` tasks (TARGET.md §2.7); only the dag-factory target keeps them.
        entry: dict[str, object] = {"decorator" if task.kind is TaskKind.TASKFLOW else "operator": task.operator}
        for arg in task.arguments:
            entry[arg.name] = yaml_value(arg.value)
        if task.upstream:
            entry["dependencies"] = list(task.upstream)
        tasks[task.task_id] = entry
    body["tasks"] = tasks
    return {workflow.dag_id: body}


def render_yaml(workflow: Workflow, source: str, *, task_groups: bool = False, code_package: str | None = None) -> str:
    """YAML text for one workflow, with a header naming its source (and its code package, if any)."""
    header = f"# Generated by dag-converter from {source}. Edit the Python source, not this file.\n"
    if code_package is not None:
        header += f"# Its tasks run code from the code package {code_package} (deploy it with this file).\n"
    text = yaml.dump(
        workflow_document(workflow, task_groups=task_groups),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + text


__all__ = ["format_datetime", "render_yaml", "workflow_document", "yaml_value"]
