"""What a conversion target is: its features, its configuration and the hooks the shared checks call.

A target is one frozen `Target` object (black's `TargetVersion` + `Feature` table, sqlfluff's
dialect bundles). Other stages never compare target names: they ask
`target.supports(Feature.TASK_GROUPS)`. The checks every target runs live in `_common.py`; they
call the hooks below where targets differ, and each target module (`mwaa_serverless.py`,
`dag_factory.py`) overrides the hooks that are true of it only. The defaults describe the
strictest plain target: every operator accepted, nothing MWAA-specific, no optional feature.

`CheckContext` collects the diagnostics of one workflow while the checks run.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Final

from dag_converter import codes
from dag_converter.model import Argument, Diagnostic, Span, Task, Workflow

if TYPE_CHECKING:
    from dag_converter.registry import OperatorRule, Registry


class Feature(str, Enum):
    """What a target can express; other stages ask for these, never for a target's name."""

    TASK_GROUPS = "task-groups"  #: groups stay groups (dag-factory `task_groups`), with their own default_args
    TASKFLOW = "taskflow"  #: `@task` calls become `decorator:` tasks
    MAPPING = "mapping"  #: `.partial().expand()` becomes `expand` (and `partial` for TaskFlow)
    SCHEDULE_OBJECTS = "schedule-objects"  #: timedelta, Asset and timetable schedules as `__type__` mappings
    PARAMS_OBJECTS = "params-objects"  #: DAG params keep `Param(...)` whole instead of their default
    ANY_OPERATOR = "any-operator"  #: any importable operator class, not only an allowlist
    PYTHON_CALLABLES = "python-callables"  #: python_callable as an import string or file + function name
    CALLBACKS = "callbacks"  #: the target runs DAG and task callbacks (otherwise they are dropped)
    CODE_PACKAGES = "code-packages"  #: reserved: the DAG folder's own modules shipped with the YAML


#: How the `operators` listing and docs/operators.md show a class (TARGET.md decision 1).
ALLOWED: Final = "allowed"
#: An Amazon class that MWAA Serverless should run, but its documented allowlist does not name.
ALLOWED_WITH_WARNING: Final = "allowed-with-warning"
#: A class the registry describes (its arguments are checked) that the target does not run.
NOT_ALLOWED: Final = "refused"

#: DAG() keyword arguments dag-factory 1.0 passes on to DAG() (TARGET.md §2.2); every target
#: writes dag-factory YAML, so this is the default set of DAG keys.
DAG_FACTORY_DAG_KEYS: Final = frozenset({
    "dag_display_name", "description", "max_active_tasks", "catchup", "max_active_runs", "dagrun_timeout",
    "template_searchpath", "render_template_as_native_obj", "sla_miss_callback", "on_success_callback",
    "on_failure_callback", "default_args", "doc_md", "access_control", "is_paused_upon_creation", "schedule",
    "params", "start_date", "end_date", "tags",
})


#: Feature.CODE_PACKAGES: the hint of a callable the code package does not carry. When the package
#: itself is refused, its own findings say why at each callable's line, and findings with this hint
#: are left out as repeats (codepackage/wire.py).
NOT_PACKAGED_HINT: Final = ("it is not in the code package (a lambda, a nested function, or code the package "
                            "could not take); define it with def at module level")


class FeatureSet(frozenset):  # type: ignore[type-arg]
    """A target's features. Its repr is sorted: a target's repr is part of the run's settings key
    (runner.settings_key), which must not change with the string hash seed of the process."""

    def __repr__(self) -> str:
        return "{" + ", ".join(sorted(f.value if isinstance(f, Feature) else repr(f) for f in self)) + "}"


class _Refused:
    """The value of a check that refused (and reported) what it was given."""

    def __repr__(self) -> str:
        return "REFUSED"


#: Returned by value conversions that reported a diagnostic and produced nothing.
REFUSED: Final = _Refused()


@dataclass(frozen=True)
class Target:
    """One conversion target: its name, its features and, as methods, its rules.

    Subclasses (one per target module) override the hooks; `allow_operators` and `dags_folder`
    are the run's configuration (`targets.get_target` fills them in)."""

    name: str
    features: frozenset[Feature] = frozenset()
    allow_operators: tuple[str, ...] = ()  #: class paths; a trailing `*` allows a module
    dags_folder: str | None = None  #: where DAG files live when the YAML is loaded (python_callable_file)
    #: what an `@once` schedule becomes on a target without it: "refuse" (DC401) or "manual" (unscheduled, DC412)
    once_as: str = "refuse"

    #: DAG() arguments the YAML may carry
    dag_keys: frozenset[str] = field(default=DAG_FACTORY_DAG_KEYS, repr=False)
    #: schedule presets (`@daily`) the target runs; None: any preset
    schedule_presets: frozenset[str] | None = field(default=None, repr=False)
    #: names a Jinja template may use; None: any name (not checked)
    template_variables: frozenset[str] | None = field(default=None, repr=False)
    #: whether EventBridge `cron(...)`/`rate(...)` schedules run (MWAA Serverless); Airflow's croniter refuses them
    eventbridge_schedules: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.features) is not FeatureSet:
            object.__setattr__(self, "features", FeatureSet(self.features))

    def supports(self, feature: Feature) -> bool:
        return feature in self.features

    def allows(self, *paths: str) -> bool:
        """Whether --allow-operator names one of `paths`."""
        return any(fnmatch.fnmatchcase(p, pattern) or p == pattern for p in paths for pattern in self.allow_operators)

    # -- operators -----------------------------------------------------------------------------

    def operator_status(self, rule: OperatorRule) -> str:
        """How this target treats a class of the registry (for listings and docs)."""
        return ALLOWED

    def check_operator(self, task: Task, canonical: str, rule: OperatorRule | None, check: CheckContext) -> None:
        """Report an operator class the target cannot run."""

    # -- arguments -----------------------------------------------------------------------------

    def check_dag_id(self, dag_id: str, span: Span, check: CheckContext) -> None:
        """Target rules on a dag id that Airflow accepts (e.g. what the service names workflows)."""

    def dropped_dag_argument(self, name: str) -> str | None:
        """Why a DAG argument is dropped with a warning (it changes nothing on the target), or None."""
        return None

    def check_dag_arguments(self, arguments: list[Argument], scheduled: bool, check: CheckContext) -> None:
        """Target rules over the converted DAG arguments as a whole."""

    def rejected_argument(self, name: str, value: object) -> str | None:
        """Why a task argument is refused on this target, or None."""
        return None

    def ignored_argument(self, name: str) -> bool:
        """Whether the target documents a task argument as ignored (kept, with an info)."""
        return False

    def check_limits(self, name: str, value: object, span: Span, check: CheckContext) -> None:
        """Report a task or default_args value outside the target's limits."""

    # -- optional features: called only when the target declares the feature -----------------

    def schedule_object(self, value: object, span: Span, check: CheckContext) -> object:
        """Feature.SCHEDULE_OBJECTS: a non-string schedule as written, or REFUSED."""
        raise NotImplementedError(f"{self.name} declares {Feature.SCHEDULE_OBJECTS.value} without schedule_object")

    def expand_arguments(self, task: Task, workflow: Workflow, check: CheckContext) -> dict[str, object] | None:
        """Feature.MAPPING: the `expand` mapping of a mapped operator task, or None when refused."""
        raise NotImplementedError(f"{self.name} declares {Feature.MAPPING.value} without expand_arguments")

    def python_callable(self, arg: Argument, canonical: str, check: CheckContext) -> list[Argument]:
        """Feature.PYTHON_CALLABLES: the YAML arguments naming a python_callable function."""
        raise NotImplementedError(f"{self.name} declares {Feature.PYTHON_CALLABLES.value} without python_callable")

    def taskflow_task(self, task: Task, workflow: Workflow, check: CheckContext) -> Task:
        """Feature.TASKFLOW: a TaskFlow task as the target writes it."""
        raise NotImplementedError(f"{self.name} declares {Feature.TASKFLOW.value} without taskflow_task")

    def shape_groups(self, workflow: Workflow, check: CheckContext) -> Workflow:
        """Feature.TASK_GROUPS: tasks and groups named and joined as the target's YAML needs."""
        raise NotImplementedError(f"{self.name} declares {Feature.TASK_GROUPS.value} without shape_groups")


@dataclass
class CheckContext:
    """Collects the diagnostics of one workflow for one target."""

    target: Target
    registry: Registry
    today: date
    relative: str | None = None  #: the DAG file's path relative to the dags folder
    found: list[Diagnostic] = field(default_factory=list)

    def add(self, code: codes.Code, span: Span, **fields: object) -> None:
        """A diagnostic of `code`; `target` is filled in, `hint=` overrides the code's hint."""
        self.found.append(codes.make(code, span, target=self.target.name, **fields))


#: The values of --once-as / `once-as`.
ONCE_AS_CHOICES: Final = ("refuse", "manual")

__all__ = ["NOT_ALLOWED", "NOT_PACKAGED_HINT", "ONCE_AS_CHOICES", "ALLOWED", "ALLOWED_WITH_WARNING", "DAG_FACTORY_DAG_KEYS", "REFUSED", "CheckContext", "Feature", "FeatureSet",
           "Target"]
