"""MWAA Serverless with a code package (`convert --code-package`, SERVICE.md "Code packages").

The service runs PythonOperator, BashOperator, operators of providers it does not pre-install and
users' own BaseOperator subclasses when the workflow comes with a code package, a zip extracted into
its DAG folder. The pipeline builds that package (dag_converter/codepackage) before the checks run
and rewrites every callable and custom operator the package carries to its importable name in the
package (`module.function`, `module.Class`), so this target only has to say how such names are
written: `python_callable: module.function`, TaskFlow tasks as dag-factory `decorator:` tasks
(tests/codepackage/test_parts.py: dag-factory 1.0.0 builds the source DAG from them), any class by
its full path. A callable still named as defined in the DAG file was not packaged: it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from dag_converter import codes
from dag_converter.model import Argument, CallableRef, Task, Workflow
from dag_converter.registry import AMAZON_PREFIX, OperatorRule
from dag_converter.targets._common import unknown_amazon_class
from dag_converter.targets.base import ALLOWED_WITH_WARNING, NOT_PACKAGED_HINT, CheckContext, Feature
from dag_converter.targets.dag_factory import PYTHON_CALLABLE_OPERATORS, DagFactory
from dag_converter.targets.mwaa_serverless import MwaaServerless

#: The decorator dag-factory calls for a TaskFlow task (measured with dag-factory 1.0.0, Airflow 3.0.6).
TASKFLOW_DECORATOR: Final = "airflow.sdk.task"

#: Standard operators the service does not run even with a package: it neither branches nor
#: short-circuits, and starts other workflows with its own operator.
_NOT_ON_SERVICE: Final = {
    "BranchPythonOperator": "MWAA Serverless has no branching; split the workflow",
    "ShortCircuitOperator": "MWAA Serverless has no short-circuiting; split the workflow",
    "TriggerDagRunOperator": "start the other workflow with MwaaServerlessStartWorkflowRunOperator",
}

_NOT_PACKAGED: Final = NOT_PACKAGED_HINT


def _packaged(ref: CallableRef) -> bool:
    """The pipeline rewrote a packaged callable to `module.function`; one left as defined in the
    DAG file is not in the package."""
    return not ref.defined_in_file


@dataclass(frozen=True)
class MwaaServerlessCode(MwaaServerless):
    """MWAA Serverless plus a code package: Python, Bash, TaskFlow, providers' and custom operators."""

    features: frozenset[Feature] = field(default=frozenset({
        Feature.TASKFLOW, Feature.PYTHON_CALLABLES, Feature.CODE_PACKAGES,
    }))

    def check_operator(self, task: Task, canonical: str, rule: OperatorRule | None, check: CheckContext) -> None:
        """Any class the package (or the service) provides, by its full path."""
        module, _, short = canonical.rpartition(".")
        if short in _NOT_ON_SERVICE and module.startswith(("airflow.providers.standard.", "airflow.operators.")):
            check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical, hint=_NOT_ON_SERVICE[short])
        elif not module or "<locals>" in canonical or module.startswith("<"):
            check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical,
                      hint=f"{short} is not in the code package: define the class at module level")
        elif unknown_amazon_class(task, canonical, rule, check):
            pass
        elif rule is not None and canonical.startswith(AMAZON_PREFIX) and self.operator_status(rule) == ALLOWED_WITH_WARNING:
            check.add(codes.NOT_ALLOWLISTED, task.span, operator=canonical)

    def python_callable(self, arg: Argument, canonical: str, check: CheckContext) -> list[Argument]:
        ref = arg.value
        assert isinstance(ref, CallableRef)
        function = ref.qualname.rsplit(".", 1)[-1]
        if canonical not in PYTHON_CALLABLE_OPERATORS:
            check.add(codes.CALLABLE_VALUE, arg.span, field=arg.name, function=function,
                      hint="dag-factory 1.0 imports python_callable only for PythonOperator, "
                           "BranchPythonOperator and PythonSensor and their subclasses")
            return []
        if not _packaged(ref):
            check.add(codes.CALLABLE_VALUE, ref.span or arg.span, field=arg.name, function=function, hint=_NOT_PACKAGED)
            return []
        return [Argument("python_callable", ref.qualname, arg.span)]

    def taskflow_task(self, task: Task, workflow: Workflow, check: CheckContext) -> Task:
        call = task.taskflow
        ref = call.callable if call is not None else None
        if not isinstance(ref, CallableRef) or not _packaged(ref):
            check.add(codes.TASKFLOW_TASK, task.span, task=task.task_id, function=f"{task.callable_name}()",
                      hint=_NOT_PACKAGED)
            return task
        if task.mapped:
            check.add(codes.MAPPED_TASK, task.span, task=task.task_id)
            return task
        built = DagFactory.taskflow_task(self, task, workflow, check)  # type: ignore[arg-type]
        if built is task:
            return task
        return replace(built, operator=TASKFLOW_DECORATOR)


TARGET: Final = MwaaServerlessCode("mwaa-serverless-code")

__all__ = ["TARGET", "TASKFLOW_DECORATOR", "MwaaServerlessCode"]
