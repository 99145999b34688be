"""Template files, rendered on both sides as Airflow renders them when a task runs (issue 22).

A templated field whose value ends with one of the operator's `template_ext` names a file. When Airflow
loads a DAG file, DagBag replaces the name with the file's text (`resolve_template_files`: Jinja's loader
looks in the DAG's folder, then in `template_searchpath`), and the running task renders that text. The
converter writes the text into the YAML instead, or ships the file in the code package, so the two sides
may hold the same text and still render differently: an `{% include %}` of a file the service does not
have, a macro of the DAG, a file changed after the conversion. Verify therefore compares what each side
renders, with Airflow's own `render_template` and Jinja environment (the DAG's folder, searchpath, macros
and filters), in a context Airflow builds itself (`RuntimeTaskInstance.get_template_context`, fed a run
the way Airflow's triggerer feeds one) for one manual run at a fixed instant. What only a running task
can read (XCom, Variables, Connections, asset events, earlier runs) renders as the expression that reads
it, the same way on both sides. No metadata database is involved.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: The instant of the run the templates are rendered for; any fixed instant makes both sides comparable.
RENDERED_AT: Final = _dt.datetime(2025, 1, 2, tzinfo=_dt.timezone.utc)

#: Longest rendered line shown in a difference.
_SHOWN_CHARS: Final = 160


@dataclass
class TemplateFiles:
    """The templated fields that named a template file, per side, DAG and task, when the DAG was loaded
    (before `resolve_template_files` replaced the names with the files' text)."""

    fields: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)

    def record(self, side: str, dag: Any) -> None:
        for task in dag.tasks:
            names = file_fields(task)
            if names:
                self.fields[(side, dag.dag_id, task.task_id)] = names

    def of(self, dag_id: str, task_id: str) -> frozenset[str]:
        """The fields of this task that named a file on either side."""
        return self.fields.get(("python", dag_id, task_id), frozenset()) | self.fields.get(
            ("yaml", dag_id, task_id), frozenset())


def file_fields(task: Any) -> frozenset[str]:
    """The templated fields of `task` whose value names a template file, by the test Airflow's
    `Templater.resolve_template_files` applies (a string, or a list item, ending with template_ext)."""
    if hasattr(task, "expand_input"):
        return frozenset()  # a mapped task renders once expanded, per map index
    extensions = tuple(getattr(task, "template_ext", None) or ())
    if not extensions:
        return frozenset()

    def names_file(value: object) -> bool:
        return isinstance(value, str) and value.endswith(extensions)

    found = set()
    for name in getattr(task, "template_fields", ()):
        value = getattr(task, name, None)
        if names_file(value) or (isinstance(value, list) and any(names_file(v) for v in value)):
            found.add(name)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a field renders to, or why it cannot be rendered."""

    value: Any = None
    error: str | None = None


def data_interval(dag: Any) -> tuple[_dt.datetime, _dt.datetime]:
    """The data interval of a manual run at RENDERED_AT, as the DAG's timetable infers it."""
    try:
        interval = dag.timetable.infer_manual_data_interval(run_after=RENDERED_AT)
        return interval.start, interval.end
    except Exception:  # a custom timetable that cannot infer one: an empty interval
        return RENDERED_AT, RENDERED_AT


def render(task: Any, name: str, interval: tuple[_dt.datetime, _dt.datetime], *,
           folder_name: str | None = None) -> Rendered:
    """The field `name` of `task` rendered by Airflow for a manual run with this data interval. An
    error names the DAG's folder `folder_name` when given (a temporary folder's path would make the
    message differ from run to run)."""
    try:
        context = _context(task, interval)
        value = task.render_template(getattr(task, name), context, task.get_template_env())
    except Exception as exc:  # Jinja and Airflow raise anything: TemplateNotFound, UndefinedError, ...
        detail = " ".join(str(exc).split()) or "(no message)"
        if folder_name is not None:
            detail = detail.replace(str(task.dag.folder), folder_name)
        return Rendered(error=f"{type(exc).__name__}: {detail}")
    return Rendered(value=value)


def _context(task: Any, interval: tuple[_dt.datetime, _dt.datetime]) -> Mapping[str, Any]:
    from airflow.sdk.api.datamodels._generated import DagRun, DagRunState, DagRunType, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    dag = task.dag
    run = DagRun(dag_id=dag.dag_id, run_id=f"manual__{RENDERED_AT.isoformat()}", logical_date=RENDERED_AT,
                 data_interval_start=interval[0], data_interval_end=interval[1], run_after=RENDERED_AT,
                 start_date=RENDERED_AT, run_type=DagRunType.MANUAL, state=DagRunState.RUNNING, conf=None,
                 consumed_asset_events=[])
    instance = RuntimeTaskInstance.model_construct(
        id=uuid.UUID(int=0), task_id=task.task_id, dag_id=dag.dag_id, run_id=run.run_id, try_number=1,
        map_index=-1, task=task, max_tries=task.retries or 0, start_date=RENDERED_AT,
        _ti_context_from_server=TIRunContext.model_construct(dag_run=run, max_tries=task.retries or 0),
    )
    context = dict(instance.get_template_context())
    # What reads the running task's state through the execution API: rendered as its expression.
    for key in ("ti", "task_instance", "conn", "outlet_events", "inlet_events", "prev_start_date_success",
                "prev_end_date_success", "prev_data_interval_start_success", "prev_data_interval_end_success"):
        context[key] = RunTimeValue(key)
    context["var"] = {"json": RunTimeValue("var.json"), "value": RunTimeValue("var.value")}
    return context


class RunTimeValue:
    """A value only a running task can read (`ti.xcom_pull(...)`, `var.value.name`): attribute access,
    item access and calls build the expression, which renders as `<expression>`."""

    #: Attributes Jinja and its sandbox probe on any value; they must not look like expressions.
    _PROBED: Final = frozenset({"unsafe_callable", "alters_data", "jinja_pass_arg"})

    def __init__(self, expression: str) -> None:
        self._expression = expression

    def __getattr__(self, name: str) -> RunTimeValue:
        if name.startswith("_") or name in RunTimeValue._PROBED:
            raise AttributeError(name)
        return RunTimeValue(f"{self._expression}.{name}")

    def __getitem__(self, key: object) -> RunTimeValue:
        return RunTimeValue(f"{self._expression}[{key!r}]")

    def __call__(self, *args: object, **kwargs: object) -> RunTimeValue:
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return RunTimeValue(f"{self._expression}({', '.join(shown)})")

    def __str__(self) -> str:
        return f"<{self._expression}>"

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunTimeValue) and other._expression == self._expression

    def __hash__(self) -> int:
        return hash(self._expression)


def shown(python: Rendered, yaml: Rendered, show: Any) -> tuple[str, str]:
    """The two sides of a rendered difference, short: an error, or the first line where two texts part."""
    if python.error is None and yaml.error is None and isinstance(python.value, str) and isinstance(yaml.value, str):
        py_lines, yaml_lines = python.value.splitlines(), yaml.value.splitlines()
        for number in range(max(len(py_lines), len(yaml_lines))):
            py_line = py_lines[number] if number < len(py_lines) else None
            yaml_line = yaml_lines[number] if number < len(yaml_lines) else None
            if py_line != yaml_line:
                return _line(number, py_line), _line(number, yaml_line)
    return _side(python, show), _side(yaml, show)


def _line(number: int, text: str | None) -> str:
    if text is None:
        return f"line {number + 1}: <end of text>"
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return f"line {number + 1}: {text!r}"


def _side(rendered: Rendered, show: Any) -> str:
    text = f"<cannot render: {rendered.error}>" if rendered.error is not None else str(show(rendered.value))
    return text if len(text) <= 2 * _SHOWN_CHARS else text[:2 * _SHOWN_CHARS] + "..."


__all__ = ["RENDERED_AT", "Rendered", "RunTimeValue", "TemplateFiles", "data_interval", "file_fields", "render",
           "shown"]
