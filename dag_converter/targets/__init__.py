"""Conversion targets: what each accepts, and the workflow normalised for it.

The only way into the targets: `get_target(name, ...)` returns a configured `Target`,
`check_workflow(workflow, target)` runs the shared checks with the target's hooks. Other stages
ask `target.supports(Feature.X)`; none imports a target module or compares target names.

Adding a target is one module that defines `TARGET` (a `Target` subclass instance) plus one line
in `_MODULES`. The modules (and the registry they read) are imported on first use, so listing the
names (the CLI's choices) stays cheap.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Final

from dag_converter.model import Diagnostic, Severity, Workflow
from dag_converter.errors import ConfigError, UnknownTarget
from dag_converter.targets.base import ALLOWED, ALLOWED_WITH_WARNING, NOT_PACKAGED_HINT, ONCE_AS_CHOICES, CheckContext, Feature, Target

if TYPE_CHECKING:
    from dag_converter.registry import Registry

#: Target name -> the module defining it (`TARGET`), in the order the CLI lists them.
_MODULES: Final = {
    "mwaa-serverless": "dag_converter.targets.mwaa_serverless",
    "dag-factory": "dag_converter.targets.dag_factory",
    "mwaa-serverless-code": "dag_converter.targets.mwaa_serverless_code",  # --code-package
}
TARGET_NAMES: Final = tuple(_MODULES)
DEFAULT_TARGET: Final = "mwaa-serverless"


def get_target(name: str, allow_operators: Sequence[str] = (), dags_folder: str | None = None,
               once_as: str = "refuse") -> Target:
    """The target called `name`, configured with --allow-operator, --dags-folder and --once-as."""
    if name not in _MODULES:
        raise UnknownTarget(f"unknown target {name!r}; choose from {', '.join(sorted(_MODULES))}")
    if once_as not in ONCE_AS_CHOICES:
        raise ConfigError(f"--once-as must be one of {', '.join(ONCE_AS_CHOICES)}, not {once_as!r}")
    if dags_folder is not None:
        # dag-factory requires an absolute python_callable_file once it has expanded `$VAR`s.
        if not (dags_folder.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", dags_folder)):
            raise ConfigError(f"--dags-folder must be an absolute path or start with an environment variable "
                             f"such as $AIRFLOW_HOME, not {dags_folder!r}")
        dags_folder = dags_folder.rstrip("/") or "/"
    target: Target = importlib.import_module(_MODULES[name]).TARGET
    return replace(target, allow_operators=tuple(allow_operators), dags_folder=dags_folder, once_as=once_as)


def check_workflow(workflow: Workflow, target: Target, *, registry: Registry | None = None,
                   today: date | None = None, relative: str | None = None,
                   in_loop: bool = False) -> tuple[Workflow, list[Diagnostic]]:
    """Validate one workflow for `target`: the normalised workflow and every finding.

    `relative` is the DAG file's path relative to the dags folder, for targets that refer back to
    functions defined in it (dag-factory's python_callable_file)."""
    from dag_converter.targets._common import check_workflow as check

    return check(workflow, target, registry=registry, today=today, relative=relative, in_loop=in_loop)


def is_refused(diagnostics: Sequence[Diagnostic]) -> bool:
    """Whether any finding is an error (the DAG is then not converted)."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


def __getattr__(name: str) -> object:
    """`TARGETS`: every target by name, unconfigured (their modules are imported on first use)."""
    if name == "TARGETS":
        return {n: get_target(n) for n in _MODULES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ALLOWED", "ALLOWED_WITH_WARNING", "DEFAULT_TARGET", "NOT_PACKAGED_HINT", "ONCE_AS_CHOICES", "TARGETS", "TARGET_NAMES", "CheckContext", "Feature",
           "Target", "UnknownTarget", "check_workflow", "get_target", "is_refused"]
