"""The checks every target runs, and the workflow normalised for the target.

`check_workflow` applies shared/TARGET.md decisions 1-11 to one analysed workflow: the DAG id, the
DAG arguments, each task's operator and arguments (values, templates, XCom, `$VAR`s, required
and unknown names), the graph and its cycles. Where targets differ it asks the target: a feature
question (`target.supports(Feature.X)`) or a hook (`target.check_operator`, `target.check_limits`,
...). Nothing here names a target. It returns the diagnostics and a normalised copy of the workflow
(operators at their canonical paths, schedule_interval read as schedule, XCom references written
as Jinja, zoned dates given a `timezone` key, values the target ignores dropped) that the emitter
writes as is. A workflow with any error diagnostic is refused: the emitter never sees it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from dag_converter import codes
from dag_converter.model import (
    Argument,
    CallableRef,
    DateTime,
    Diagnostic,
    Duration,
    ObjectValue,
    Span,
    Task,
    TaskGroupInfo,
    TaskKind,
    Workflow,
    XComRef,
    find_unresolved,
    walk_values,
)
from dag_converter.registry import AMAZON_PREFIX, PROVIDER_VERSION, OperatorRule, Registry, get_registry
from dag_converter.targets._run_dependent import run_dependent_reason
from dag_converter.targets._schedules import cron_problem, eventbridge_cron_problem, rate_problem
from dag_converter.targets.base import REFUSED, CheckContext, Feature, Target

if TYPE_CHECKING:
    from jinja2 import Environment

#: Used with fullmatch: `$` alone would accept a trailing newline (`etl\n` is not `etl`).
SAFE_DAG_ID: Final = re.compile(r"[A-Za-z0-9_.-]+")
# Airflow's validate_key (airflow/sdk/definitions/_internal/node.py): `KEY_REGEX = re.compile(r"^[\w.-]+$")`
# and `max_length: int = 250`, applied to every dag_id and task_id ("The key has to be less than 250
# characters" / "The key ... has to be made of alphanumeric characters, dashes, dots and underscores exclusively").
AIRFLOW_KEY: Final = re.compile(r"^[\w.-]+$")
MAX_KEY_LENGTH: Final = 250
# Its validate_group_key, applied to a TaskGroup's own group_id (without its parents' prefix) when the
# group is made: `GROUP_KEY_REGEX = re.compile(r"^[\w-]+$")` (no dots) and `max_length: int = 200`.
AIRFLOW_GROUP_KEY: Final = re.compile(r"^[\w-]+$")
MAX_GROUP_KEY_LENGTH: Final = 200
# Durations Airflow converts from a number of seconds (BaseOperator._convert_timedelta: "return
# timedelta(seconds=value)"); execution_timeout and dagrun_timeout it refuses instead (NUMERIC_TIMEOUT).
NUMERIC_DURATIONS: Final = frozenset({"retry_delay", "max_retry_delay"})
_ENV_VAR: Final = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")

# Filters Airflow adds to Jinja's own (airflow/templates.py FILTERS).
_AIRFLOW_FILTERS: Final = frozenset({"ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz"})
# Names Jinja itself or a template defines; never worth a warning.
JINJA_BUILTINS: Final = frozenset({"range", "loop", "dict", "lipsum", "cycler", "joiner", "namespace", "true",
                                   "false", "none", "True", "False", "None"})
CALLBACK_KEYS: Final = frozenset({
    "on_success_callback", "on_failure_callback", "on_retry_callback", "on_execute_callback",
    "on_skipped_callback", "sla_miss_callback",
})


def check_workflow(workflow: Workflow, target: Target, *, registry: Registry | None = None,
                   today: date | None = None, relative: str | None = None,
                   in_loop: bool = False) -> tuple[Workflow, list[Diagnostic]]:
    """Validate one workflow for `target`; returns the normalised workflow and every finding.

    `relative` is the DAG file's path relative to the dags folder, for targets that refer back to
    functions defined in it (dag-factory's python_callable_file). `in_loop`: the same source lines
    build several DAGs (a loop), so each finding names its DAG (the lines alone cannot tell them apart)."""
    normalised, found = _check_workflow(workflow, target, registry=registry, today=today, relative=relative)
    if in_loop:
        suffix = f" (DAG {workflow.dag_id!r})"
        found = [d if d.message.endswith(suffix) else replace(d, message=d.message + suffix) for d in found]
    return normalised, found


def _check_workflow(workflow: Workflow, target: Target, *, registry: Registry | None,
                    today: date | None, relative: str | None) -> tuple[Workflow, list[Diagnostic]]:
    check = CheckContext(target, registry or get_registry(), today or date.today(), relative)
    check.found.extend(workflow.diagnostics)
    invalid_groups = {g.group_id for g in workflow.groups if not _check_group_id(g, workflow, check)}
    parents = {g.group_id: g.parent for g in workflow.groups}
    for group in workflow.groups:  # a group inside an invalid one carries its id in its own
        ancestor = group.parent
        while ancestor is not None and ancestor not in invalid_groups:
            ancestor = parents.get(ancestor)
        if ancestor is not None:
            invalid_groups.add(group.group_id)
    for task in workflow.tasks:
        _check_task_id(task, workflow, invalid_groups, check)
    if not SAFE_DAG_ID.fullmatch(workflow.dag_id) or workflow.dag_id in (".", ".."):
        if not workflow.dag_id.startswith("<dag at line"):
            check.add(codes.UNSAFE_DAG_ID, workflow.span, dag_id=workflow.dag_id,
                      detail="only letters, digits, '_', '.' and '-' are allowed")
    elif len(workflow.dag_id) > MAX_KEY_LENGTH:
        check.add(codes.UNSAFE_DAG_ID, workflow.span, dag_id=workflow.dag_id[:40] + "...",
                  detail=f"it is {len(workflow.dag_id)} characters long; Airflow allows {MAX_KEY_LENGTH}")
    else:
        target.check_dag_id(workflow.dag_id, workflow.span, check)
    arguments = _dag_arguments(workflow, check)
    default_args = next((a.value for a in arguments if a.name == "default_args"), {})
    tasks = tuple(_task(task, workflow, default_args if isinstance(default_args, dict) else {}, check)
                  for task in workflow.tasks)
    _check_graph(workflow, check)
    normalised = replace(workflow, arguments=tuple(arguments), tasks=tasks, diagnostics=())
    if target.supports(Feature.TASK_GROUPS):
        normalised = target.shape_groups(normalised, check)
    else:
        _flatten_groups(workflow, check)
    return normalised, sorted(_unique(_one_per_cause(check.found)), key=Diagnostic.sort_key)


def _check_task_id(task: Task, workflow: Workflow, invalid_groups: set[str], check: CheckContext) -> None:
    """Airflow's validate_key rule for task ids (see AIRFLOW_KEY), on the id Airflow gives the
    task: its label prefixed by its task groups' ids where they prefix (`group.task`). A task whose
    own label is valid, in a group whose id is not, is the group's finding (DC323) only."""
    task_id = task.task_id
    prefix = _group_prefix(task, workflow)
    label = task_id[len(prefix):]
    if prefix and prefix[:-1] in invalid_groups and len(label) <= MAX_KEY_LENGTH and AIRFLOW_KEY.match(label):
        return
    if len(task_id) > MAX_KEY_LENGTH:
        hint = f"shorten it to {MAX_KEY_LENGTH} characters or fewer"
        if prefix and len(task_id) - len(prefix) <= MAX_KEY_LENGTH:
            hint = (f"shorten the task id or its task groups' ids: the prefix {_shown(prefix)} makes it "
                    f"{len(task_id)} characters, or pass prefix_group_id=False to the group")
        check.add(codes.INVALID_TASK_ID, task.span, task=_shown(task_id, quoted=False),
                  detail=f"it is {len(task_id)} characters long; Airflow allows {MAX_KEY_LENGTH}", hint=hint)
    elif not AIRFLOW_KEY.match(task_id):
        check.add(codes.INVALID_TASK_ID, task.span, task=task_id,
                  detail="only letters, digits, '_', '.' and '-' are allowed",
                  suggestion=re.sub(r"[^\w.-]+", "_", task_id).strip("_") or "task")


def _shown(text: str, *, quoted: bool = True) -> str:
    """A long id cut to 40 characters for a message."""
    cut = text if len(text) <= 40 else text[:40] + "..."
    return repr(cut) if quoted else cut


def _group_prefix(task: Task, workflow: Workflow) -> str:
    """What the task's groups put before its label: `group.` when its group prefixes, else ''."""
    if task.group is None:
        return ""
    groups = {g.group_id: g for g in workflow.groups}
    group = groups.get(task.group)
    if group is None or not _prefixes(group) or not task.task_id.startswith(group.group_id + "."):
        return ""
    return group.group_id + "."


def _prefixes(group: TaskGroupInfo) -> bool:
    """The group's prefix_group_id (True unless the source passed False)."""
    return next((a.value for a in group.arguments if a.name == "prefix_group_id"), True) is not False


def group_label(group: TaskGroupInfo, workflow: Workflow) -> str:
    """A group's own group_id, as the source passed it: its full id without the parent's prefix
    (Airflow's TaskGroup._group_id; the full id is `parent.label` when the parent prefixes)."""
    parent = next((g for g in workflow.groups if g.group_id == group.parent), None)
    if parent is not None and _prefixes(parent) and group.group_id.startswith(parent.group_id + "."):
        return group.group_id[len(parent.group_id) + 1:]
    return group.group_id


def _check_group_id(group: TaskGroupInfo, workflow: Workflow, check: CheckContext) -> bool:
    """Airflow's validate_group_key rule for a task group's own id (see AIRFLOW_GROUP_KEY);
    False when the id breaks it (reported)."""
    label = group_label(group, workflow)
    if label.startswith("group_at_line_"):
        return True  # an id not known statically, already reported where the group is made
    if len(label) > MAX_GROUP_KEY_LENGTH:
        check.add(codes.INVALID_GROUP_ID, group.span, group=_shown(label, quoted=False),
                  detail=f"it is {len(label)} characters long; Airflow allows {MAX_GROUP_KEY_LENGTH}",
                  hint=f"shorten it to {MAX_GROUP_KEY_LENGTH} characters or fewer")
        return False
    if not AIRFLOW_GROUP_KEY.match(label):
        detail = "only letters, digits, '_' and '-' are allowed"
        if AIRFLOW_KEY.match(label):
            detail += " ('.' is what separates a group's id from its tasks' ids)"
        check.add(codes.INVALID_GROUP_ID, group.span, group=label, detail=detail,
                  suggestion=re.sub(r"[^\w-]+", "_", label).strip("_") or "group")
        return False
    return True


def _flatten_groups(workflow: Workflow, check: CheckContext) -> None:
    """Without task groups the tasks keep their full ids and each group is reported once."""
    parents = {g.group_id: g.parent for g in workflow.groups}

    def within(group_id: str | None, ancestor: str) -> bool:
        while group_id is not None:
            if group_id == ancestor:
                return True
            group_id = parents.get(group_id)
        return False

    for group in workflow.groups:
        members = [t.task_id for t in workflow.tasks if within(t.group, group.group_id)]
        check.add(codes.TASK_GROUP_FLATTENED, group.span, group=group.group_id,
                  example=", ".join(members[:3]) + (", ..." if len(members) > 3 else "") or "(none)")


def _one_per_cause(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A construct refused because a value inside it is unknown (DC204 at the place of a DC201 or
    DC202) is one finding: the value's, which says what is unknown."""
    def place(d: Diagnostic) -> tuple[str, int, int]:
        return d.span.path, d.span.line, d.span.column

    unknown = {place(d) for d in diagnostics if d.code in (codes.UNRESOLVED_VALUE.code, codes.RUNTIME_VALUE.code)}
    constructs = Counter(place(d) for d in diagnostics if d.code == codes.UNSUPPORTED_CONSTRUCT.code)
    kept = []
    for d in diagnostics:
        if d.code == codes.UNSUPPORTED_CONSTRUCT.code:
            if place(d) in unknown:
                continue
            # `for t in helper():` is one loop over an unknown collection, not also an unfollowed call.
            if constructs[place(d)] > 1 and d.message.startswith("call to "):
                continue
        kept.append(d)
    return _one_per_place(kept)


#: The text that follows `{what}` in DC201 and DC202 messages: the cause, the same for every
#: argument one unknown value reaches.
_AFTER_WHAT: Final = {codes.UNRESOLVED_VALUE.code: " cannot be resolved statically: ",
                      codes.RUNTIME_VALUE.code: " is read at run time ("}


def _one_per_place(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One unknown value that reaches several arguments is one finding, at the value's place:
    a single DC201/DC202 names the arguments (all of them up to four, else three and how many more)."""
    groups: dict[tuple[str, Span, str], list[Diagnostic]] = {}
    order: list[Diagnostic | tuple[str, Span, str]] = []
    for d in diagnostics:
        marker = _AFTER_WHAT.get(d.code)
        if marker is None or marker not in d.message:
            order.append(d)
            continue
        key = (d.code, d.span, marker + d.message.partition(marker)[2])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(d)
    merged: list[Diagnostic] = []
    for item in order:
        if isinstance(item, Diagnostic):
            merged.append(item)
            continue
        found = groups[item]
        if len(found) == 1:
            merged.append(found[0])
            continue
        code, span, cause = item
        whats = sorted({d.message.partition(_AFTER_WHAT[code])[0] for d in found})
        named = ", ".join(whats[:-1]) + " and " + whats[-1] if len(whats) <= 4 \
            else ", ".join(whats[:3]) + f" and {len(whats) - 3} more"
        hints = {d.hint for d in found}
        # Templated and untemplated arguments mixed: the code's own hint is right for every one.
        definition = codes.UNRESOLVED_VALUE if code == codes.UNRESOLVED_VALUE.code else codes.RUNTIME_VALUE
        hint = hints.pop() if len(hints) == 1 else (definition.hint or "").format()
        if code == codes.RUNTIME_VALUE.code:  # several arguments
            cause = cause.replace(" is read at run time", " are read at run time", 1).replace("hold it", "hold them")
        merged.append(Diagnostic(code=code, severity=definition.severity, message=named + cause, span=span, hint=hint))
    return merged


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            result.append(diagnostic)
    return result


# ---------------------------------------------------------------------------------------------
# DAG arguments


def _dag_arguments(workflow: Workflow, check: CheckContext) -> list[Argument]:
    target = check.target
    result: list[Argument] = []
    names = {a.name for a in workflow.arguments}
    zones: set[str] = set()
    scheduled = False
    for arg in workflow.arguments:
        name, value = arg.name, arg.value
        if name == "schedule_interval":
            if "schedule" in names:
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                          reason="both schedule and schedule_interval are given")
                continue
            check.add(codes.SCHEDULE_INTERVAL, arg.span)
            name = "schedule"
        if name == "concurrency":
            # Airflow 2's DAG(concurrency=) became max_active_tasks (removed in Airflow 3: the task
            # SDK's DAG has no `concurrency` attribute, so DAG(concurrency=...) raises TypeError).
            if "max_active_tasks" in names:
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                          reason="both concurrency and max_active_tasks are given")
                continue
            check.add(codes.AIRFLOW2_DAG_ARGUMENT, arg.span, old="concurrency", new="max_active_tasks")
            name = "max_active_tasks"
            arg = Argument(name, value, arg.span)
        if report_unresolved(value, f"DAG argument {name!r}", check):
            continue
        if name == "schedule" or (name == "timetable" and target.supports(Feature.SCHEDULE_OBJECTS)
                                  and "schedule" not in names):
            # Airflow 2's timetable= is Airflow 3's schedule=.
            converted = _schedule(value, arg.span, check)
            if converted is not REFUSED:
                scheduled = converted is not None
                result.append(Argument("schedule", converted, arg.span))
            continue
        if name == "end_date" and value is None:
            continue  # Airflow's default: no end date
        if name in ("start_date", "end_date"):
            if value is None:  # Airflow's own default: no start or end date
                result.append(arg)
                continue
            if not isinstance(value, DateTime):
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name, reason="not a date")
                continue
            if value.tz not in (None, "UTC"):
                zones.add(value.tz)
            result.append(arg)
            continue
        if name in CALLBACK_KEYS:
            kept = _callback(arg, check)
            if kept is not None:
                result.append(kept)
            continue
        if name == "params":
            if value is not None and not isinstance(value, dict):
                # Airflow builds ParamsDict(params), which iterates a mapping (airflow/sdk/definitions/param.py).
                check.add(codes.INVALID_DAG_ARGUMENT, arg.span, field=name,
                          detail=f"must be a mapping of names to values, not a {type(value).__name__}",
                          hint="write params={'name': value, ...}")
                continue
            # Targets with Param objects keep them whole (dag-factory builds `__type__: airflow.sdk.Param`).
            kept_value = value if target.supports(Feature.PARAMS_OBJECTS) else _params(value, arg.span, check)
            result.append(Argument(name, kept_value, arg.span))
            continue
        if name == "default_args":
            if not isinstance(value, dict):
                check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name, reason="not a dict")
                continue
            result.append(Argument(name, default_args(value, arg.span, check), arg.span))
            continue
        if name == "timetable":
            check.add(codes.UNSUPPORTED_SCHEDULE, arg.span, schedule="timetable=...",
                      detail="timetables are not supported")
            continue
        if name == "dagrun_timeout" and typed_duration(name, value, arg.span, check) is REFUSED:
            continue
        dropped = target.dropped_dag_argument(name)
        if dropped is not None:
            check.add(codes.DAG_ARGUMENT_DROPPED, arg.span, field=name, reason=dropped)
            continue
        if name not in target.dag_keys:
            check.add(codes.DAG_ARGUMENT_UNSUPPORTED, arg.span, field=name,
                      reason="dag-factory 1.0 does not pass this argument to DAG()")
            continue
        if check_value(value, name, arg.span, check, templated=False):
            result.append(arg)
    _start_date_from_default_args(result, zones)
    if len(zones) > 1:
        check.add(codes.DAG_ARGUMENT_UNSUPPORTED, workflow.span, field="start_date",
                  reason=f"dates in several time zones ({', '.join(sorted(zones))})")
    elif zones:
        # dag-factory parses start/end dates in the DAG-level `timezone` (TARGET.md decision 10).
        zone = next(iter(zones))
        index = max(i for i, a in enumerate(result) if a.name in ("start_date", "end_date"))
        result.insert(index + 1, Argument("timezone", zone, result[index].span))
    target.check_dag_arguments(result, scheduled, check)
    return result


def _start_date_from_default_args(result: list[Argument], zones: set[str]) -> None:
    """A start_date given only in default_args is also written at DAG level: dag-factory 1.0 calls
    DAG(start_date=dag_params.get("start_date", None)) (dagfactory/dagbuilder.py), which would hide
    the default_args date that Airflow's DAG falls back to (`_default_start_date`)."""
    if any(a.name == "start_date" for a in result):
        return
    index, defaults = next(((i, a) for i, a in enumerate(result) if a.name == "default_args"), (None, None))
    if index is None or defaults is None or not isinstance(defaults.value, dict):
        return
    start = defaults.value.get("start_date")
    if not isinstance(start, DateTime):
        return
    if start.tz not in (None, "UTC"):
        zones.add(start.tz)
    result.insert(index, Argument("start_date", start, defaults.span))


def _schedule(value: object, span: Span, check: CheckContext) -> object:
    """The schedule as the target writes it, or REFUSED (with a diagnostic)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "none":
            return None
        if text.startswith("@"):
            presets = check.target.schedule_presets
            if presets is None or text in presets:
                return text
            if text == "@once" and check.target.once_as == "manual":
                check.add(codes.ONCE_AS_MANUAL, span)
                return None
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=repr(text), detail="the preset has no cron form",
                      hint="use a cron expression or None"
                      + (", or convert with --once-as manual" if text == "@once" else ""))
            return REFUSED
        if text.startswith(("rate(", "cron(")) and not check.target.eventbridge_schedules:
            problem = "EventBridge rate()/cron() expressions are MWAA Serverless only; Airflow needs a 5-field cron"
        elif text.startswith("rate("):
            problem = rate_problem(text)
        elif text.startswith("cron("):
            problem = eventbridge_cron_problem(text)
        else:
            problem = cron_problem(text, check.today)
        if problem is None:
            return text
        check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=repr(text), detail=problem)
        return REFUSED
    if check.target.supports(Feature.SCHEDULE_OBJECTS) and isinstance(value, (Duration, ObjectValue, list)):
        return check.target.schedule_object(value, span, check)
    if isinstance(value, Duration):
        cron = duration_to_cron(value.seconds)
        if cron is None:
            check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=f"timedelta({value.exact_seconds} s)",
                      detail="the interval has no cron equivalent (it must divide an hour or a day)")
            return REFUSED
        check.add(codes.SCHEDULE_REWRITTEN, span, old=f"timedelta(seconds={value.exact_seconds})", new=repr(cron))
        return cron
    described = value.class_path if isinstance(value, ObjectValue) else type(value).__name__
    check.add(codes.UNSUPPORTED_SCHEDULE, span, schedule=described,
              detail="assets, datasets and timetables are not supported")
    return REFUSED


def duration_to_cron(seconds: float) -> str | None:
    """A cron expression that fires every `seconds`, when one exists (minutes dividing an hour,
    hours dividing a day, or exactly one day)."""
    if seconds <= 0 or not float(seconds).is_integer():
        return None
    total = int(seconds)
    if total % 60:
        return None
    minutes = total // 60
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0:
        hours = minutes // 60
        if hours == 24:
            return "0 0 * * *"
        if hours < 24 and 24 % hours == 0:
            return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    return None


def _params(value: object, span: Span, check: CheckContext) -> object:
    """DAG params as plain defaults; a Param's schema parts are dropped with a warning."""
    if not isinstance(value, dict):
        return value
    result: dict[object, object] = {}
    for key, item in value.items():
        if isinstance(item, ObjectValue) and item.class_path.endswith("Param"):
            kwargs = dict(item.kwargs)
            default = item.args[0] if item.args else kwargs.pop("default", None)
            extra = sorted(k for k in kwargs if k != "default")
            if extra:
                check.add(codes.PARAM_SCHEMA_DROPPED, item.span or span, name=key, parts=", ".join(extra))
            result[key] = default
        else:
            result[key] = item
    return result


def default_args(value: dict[object, object], span: Span, check: CheckContext) -> dict[object, object]:
    """DAG or task group default_args: each value checked, callbacks and limits as for a task."""
    result: dict[object, object] = {}
    zones = set()
    for key, item in value.items():
        name = str(key)
        if report_unresolved(item, f"default_args[{name!r}]", check):
            continue
        if name in CALLBACK_KEYS:
            kept = _callback(Argument(name, item, span), check)
            if kept is not None:
                result[key] = kept.value
            continue
        if name in ("start_date", "end_date") and isinstance(item, DateTime) and item.tz not in (None, "UTC"):
            zones.add(item.tz)
        item = typed_duration(name, item, span, check)
        if item is REFUSED:
            continue
        check.target.check_limits(name, item, span, check)
        if check_value(item, f"default_args.{name}", span, check, templated=False):
            result[key] = item
    if len(zones) == 1:
        result["timezone"] = next(iter(zones))
    elif len(zones) > 1:
        check.add(codes.DAG_ARGUMENT_UNSUPPORTED, span, field="default_args",
                  reason="dates in several time zones")
    return result


def _callback(arg: Argument, check: CheckContext) -> Argument | None:
    """Callbacks: an importable function is kept as its import string; one defined in the DAG
    file cannot be referenced from YAML. A target that does not run callbacks drops it with a
    warning; a target that runs them refuses the DAG."""
    refs = arg.value if isinstance(arg.value, list) else [arg.value]
    if arg.value is None:
        return arg
    if isinstance(arg.value, CallableRef) and not arg.value.defined_in_file:
        return Argument(arg.name, arg.value.qualname, arg.span)
    what = ", ".join(r.qualname.rsplit(".", 1)[-1] if isinstance(r, CallableRef) else type(r).__name__ for r in refs)
    if not check.target.supports(Feature.CALLBACKS):
        check.add(codes.CALLBACK_DROPPED, arg.span, field=arg.name, function=what)
        return None
    check.add(codes.CALLABLE_VALUE, arg.span, field=arg.name, function=what)
    return None


# ---------------------------------------------------------------------------------------------
# Tasks


def _task(task: Task, workflow: Workflow, dag_defaults: dict[object, object], check: CheckContext) -> Task:
    target = check.target
    resolution = check.registry.resolve(task.operator)
    canonical = resolution.canonical
    rule = resolution.rule
    short = canonical.rsplit(".", 1)[-1]
    if resolution.legacy_from is not None:
        check.add(codes.LEGACY_NAME, task.span, old=resolution.legacy_from, new=canonical)
    if task.kind is TaskKind.TASKFLOW and target.supports(Feature.TASKFLOW):
        return target.taskflow_task(task, workflow, check)
    if task.mapped and not target.supports(Feature.MAPPING):
        check.add(codes.MAPPED_TASK, task.span, task=task.task_id)
        return replace(task, operator=canonical)
    if task.kind is TaskKind.TASKFLOW:
        check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=f"{task.callable_name}()")
        return replace(task, operator=canonical)
    before = len(check.found)
    target.check_operator(task, canonical, rule, check)
    refused = any(d.code == codes.UNSUPPORTED_OPERATOR.code for d in check.found[before:])
    expand = target.expand_arguments(task, workflow, check) if task.mapped else None
    arguments_start = len(check.found)
    arguments: list[Argument] = []
    for arg in task.arguments:
        if arg.inherited_from is not None and target.supports(Feature.TASK_GROUPS):
            continue  # the group keeps its default_args, and applies them itself
        if arg.name in task.expand:
            continue
        if (arg.name == "python_callable" and isinstance(arg.value, CallableRef)
                and target.supports(Feature.PYTHON_CALLABLES)):
            arguments.extend(target.python_callable(arg, canonical, check))
            continue
        converted = task_argument(arg, task, short, rule, check)
        if converted is not None:
            arguments.append(converted)
    if refused:
        # One root cause, one diagnostic: a function passed to an operator the target does not run
        # (PythonOperator's python_callable) is part of the DC301, not a finding of its own.
        check.found[arguments_start:] = [d for d in check.found[arguments_start:]
                                         if d.code != codes.CALLABLE_VALUE.code]
    if expand:
        arguments.append(Argument("expand", expand, task.span))
    if rule is not None and rule.complete and not (task.mapped and not task.expand):  # expand_kwargs() supplies them
        given = {a.name for a in task.arguments} | {str(k) for k in dag_defaults} | {"task_id"}
        # A misspelt required argument is one DC302 (with its "did you mean"), not also a DC303.
        given |= {rule.suggest(a.name) or "" for a in task.arguments if not rule.accepts(a.name)}
        for name in rule.required:
            if name not in given:
                check.add(codes.MISSING_ARGUMENT, task.span, operator=short, argument=name)
    return replace(task, operator=canonical, arguments=tuple(arguments))


def unknown_amazon_class(task: Task, canonical: str, rule: OperatorRule | None, check: CheckContext) -> bool:
    """Report an Amazon provider path the registry does not define (a typo or a removed class)."""
    if (canonical.startswith(AMAZON_PREFIX) and rule is None and _has_amazon_rules(check.registry)
            and not check.target.allows(task.operator, canonical)):
        check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                  hint=f"no such class in apache-airflow-providers-amazon {PROVIDER_VERSION}; check the name")
        return True
    return False


def _has_amazon_rules(registry: Registry) -> bool:
    return any(path.startswith(AMAZON_PREFIX) for path in registry.rules)


def task_argument(arg: Argument, task: Task, operator: str, rule: OperatorRule | None,
                  check: CheckContext) -> Argument | None:
    """One task argument as the YAML writes it, or None (with a diagnostic when refused)."""
    target = check.target
    name, value = arg.name, arg.value
    if rule is not None and not rule.accepts(name):
        suggestion = rule.suggest(name)
        check.add(codes.UNKNOWN_ARGUMENT, arg.span, operator=operator, argument=name,
                  hint=f"did you mean {suggestion!r}?" if suggestion else "remove it")
        return None
    templated = None if rule is None or not rule.complete else name in rule.templated_fields
    if report_unresolved(value, f"argument {name!r} of task {task.task_id!r}", check, templated=bool(templated)):
        return None
    rejected = target.rejected_argument(name, value)
    if rejected is not None:
        check.add(codes.OPERATOR_ARGUMENT_UNSUPPORTED, arg.span, field=name, detail=rejected)
        return None
    if name in CALLBACK_KEYS:
        return _callback(arg, check)
    value = _xcom_to_template(value, name, operator, templated, arg.span, check)
    if value is REFUSED:
        return None
    value = typed_duration(name, value, arg.span, check)
    if value is REFUSED:
        return None
    target.check_limits(name, value, arg.span, check)
    if target.ignored_argument(name):
        check.add(codes.SERVICE_IGNORED_ARGUMENT, arg.span, field=name)
    if not check_value(value, name, arg.span, check, templated=templated, operator=operator):
        return None
    return Argument(name, value, arg.span, arg.inherited_from)


def typed_duration(name: str, value: object, span: Span, check: CheckContext) -> object:
    """A duration given as a number of seconds, as Airflow reads it: retry_delay becomes a
    timedelta (written as one: MWAA Serverless rejects a bare number), execution_timeout is refused
    as Airflow refuses it; REFUSED after reporting."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if name in NUMERIC_DURATIONS:
        return Duration(float(value))
    if name in ("execution_timeout", "dagrun_timeout"):
        check.add(codes.NUMERIC_TIMEOUT, span, field=name, value=value)
        return REFUSED
    return value


def _xcom_to_template(value: object, name: str, operator: str, templated: bool | None,
                      span: Span, check: CheckContext) -> object:
    """TARGET.md decision 5: XCom in a templated field -> `{{ ti.xcom_pull(task_ids='x') }}`."""
    if isinstance(value, XComRef):
        if templated:
            key = "" if value.key == "return_value" else f", key='{value.key}'"
            return "{{ ti.xcom_pull(task_ids='" + value.task_id + "'" + key + ") }}"
        check.add(codes.XCOM_UNTEMPLATED, value.span or span, field=name, operator=operator, task=value.task_id)
        return REFUSED
    if isinstance(value, (list, tuple)):
        items = [_xcom_to_template(v, name, operator, templated, span, check) for v in value]
        if any(i is REFUSED for i in items):
            return REFUSED
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        out = {k: _xcom_to_template(v, name, operator, templated, span, check) for k, v in value.items()}
        return REFUSED if any(v is REFUSED for v in out.values()) else out
    return value


#: Hints for a value not known statically. `start-workflow-run --override-parameters` sets DAG
#: params for one run (TARGET.md §1.5), which only reach a task through a `{{ params.x }}` template
#: in a templated field: it cannot set a DAG argument, a default_args entry or an untemplated field.
_HINT_TEMPLATED: Final = "use a literal or a module-level constant, or a '{{ params.name }}' template " \
                         "and set the value per run with --override-parameters"
_HINT_FIXED: Final = "use a literal or a module-level constant (this argument is not templated, so " \
                     "--override-parameters cannot set it)"


_HINT_FUNCTION_ARGUMENT: Final = "YAML names a function only as a python_callable or a callback: drop this " \
                                 "argument (the task then runs without it) or keep this DAG in Python"


def report_unresolved(value: object, what: str, check: CheckContext, *, templated: bool = False) -> bool:
    """Report the first value inside `value` that is not statically known; False when there is none.

    `templated`: whether the place renders Jinja, so a params template could carry the value."""
    bad = find_unresolved(value)
    if bad is None:
        return False
    hint = _HINT_TEMPLATED if templated else _HINT_FIXED
    if bad.source:
        check.found.append(codes.make(codes.RUNTIME_VALUE, bad.span, what=what, source=bad.source, hint=hint))
    else:
        check.found.append(codes.make(codes.UNRESOLVED_VALUE, bad.span, what=what, reason=bad.reason, hint=hint))
    return True


def check_value(value: object, field_name: str, span: Span, check: CheckContext, *, templated: bool | None,
                operator: str = "") -> bool:
    """Values the YAML can hold; strings are checked for templates and `$VAR`, and refused when
    their text would differ between runs (an address, a set's order: targets/_run_dependent.py)."""
    for item in walk_values(value, keys=True):
        reason = run_dependent_reason(item) if isinstance(item, str) else None
        if reason is not None:
            check.add(codes.UNRESOLVED_VALUE, span, what=f"argument {field_name!r}", reason=reason)
            return False
    for item in walk_values(value):
        if isinstance(item, CallableRef):
            if (field_name == "python_callable" and not item.defined_in_file
                    and check.target.supports(Feature.PYTHON_CALLABLES)):
                continue
            # Moving the function into a module helps only a python_callable (dag-factory imports it).
            check.add(codes.CALLABLE_VALUE, item.span or span, field=field_name,
                      function=item.qualname.rsplit(".", 1)[-1],
                      hint=None if field_name == "python_callable" else _HINT_FUNCTION_ARGUMENT)
            return False
        if isinstance(item, ObjectValue):
            check.add(codes.UNRESOLVED_VALUE, item.span or span, what=f"argument {field_name!r}",
                      reason=f"a {item.class_path.rsplit('.', 1)[-1]} object has no YAML form here",
                      hint="pass the plain value the object holds (a string, number, list or dict)")
            return False
        if isinstance(item, DateTime) and item.tz not in (None, "UTC") and not field_name.startswith("default_args."):
            check.add(codes.UNRESOLVED_VALUE, span, what=f"argument {field_name!r}",
                      reason="a zoned datetime in an operator argument has no YAML form",
                      hint="pass the date as a UTC datetime, or as an ISO string if the operator accepts one")
            return False
        if isinstance(item, str):
            for match in _ENV_VAR.finditer(item):
                check.add(codes.ENV_VAR_IN_VALUE, span, field=field_name, variable=match.group(0))
            if "{{" in item or "{%" in item:
                _check_template(item, field_name, span, check, templated, operator)
    return True


def _check_template(text: str, field_name: str, span: Span, check: CheckContext, templated: bool | None,
                    operator: str) -> None:
    if templated is False:
        check.add(codes.UNTEMPLATED_TEMPLATE, span, field=field_name, operator=operator)
        return
    error, variables = _template_facts(text)
    if error is not None:
        check.add(codes.TEMPLATE_SYNTAX, span, field=field_name, detail=error)
        return
    known = check.target.template_variables
    if known is None:
        return
    for variable in variables:
        if variable not in known and variable not in JINJA_BUILTINS:
            check.add(codes.TEMPLATE_VARIABLE, span, field=field_name, variable=variable)


@lru_cache(maxsize=4096)
def _template_facts(text: str) -> tuple[str | None, tuple[str, ...]]:
    """(syntax error message or None, the template's undeclared variables, sorted): parsed once
    per distinct template text, with one jinja2 Environment (jinja2 is imported on first use)."""
    from jinja2 import meta
    from jinja2.exceptions import TemplateSyntaxError

    try:
        parsed = _jinja_environment().parse(text)
        # Compiling checks that every filter and test exists (TemplateAssertionError, a
        # TemplateSyntaxError), which Airflow would only find when it renders the field.
        return None, tuple(sorted(meta.find_undeclared_variables(parsed)))
    except TemplateSyntaxError as exc:
        return exc.message or "syntax error", ()


@lru_cache(maxsize=1)
def _jinja_environment() -> "Environment":
    from jinja2 import Environment

    environment = Environment()
    environment.filters.update(dict.fromkeys(_AIRFLOW_FILTERS, str))
    return environment


# ---------------------------------------------------------------------------------------------
# The graph


def _check_graph(workflow: Workflow, check: CheckContext) -> None:
    ids = {t.task_id for t in workflow.tasks}
    for task in workflow.tasks:
        for upstream in task.upstream:
            if upstream not in ids:
                check.add(codes.UNRESOLVED_DEPENDENCY, task.span, side="upstream", operator=task.task_id,
                          reason=f"{upstream!r} is not a task of this DAG")
    cycle = find_cycle({t.task_id: [u for u in t.upstream if u in ids] for t in workflow.tasks})
    if cycle:
        first = next(t for t in workflow.tasks if t.task_id == cycle[0])
        check.add(codes.DEPENDENCY_CYCLE, first.span, cycle=" -> ".join(cycle))


def find_cycle(upstream: dict[str, list[str]]) -> list[str] | None:
    """One cycle in the graph (as a path that returns to its start), or None.

    Iterative depth-first search: a chain of thousands of tasks must not exhaust Python's stack."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in upstream:
        if start in state:
            continue
        path: list[str] = [start]
        pending: list[Iterator[str]] = [iter(sorted(upstream.get(start, [])))]
        state[start] = 1
        while pending:
            parent = next(pending[-1], None)
            if parent is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            if state.get(parent) == 1:
                return list(reversed(path[path.index(parent):] + [parent]))
            if parent not in state:
                state[parent] = 1
                path.append(parent)
                pending.append(iter(sorted(upstream.get(parent, []))))
    return None


__all__ = ["CALLBACK_KEYS", "JINJA_BUILTINS", "SAFE_DAG_ID", "check_value", "check_workflow", "default_args",
           "duration_to_cron", "find_cycle", "report_unresolved", "task_argument",
           "unknown_amazon_class"]
