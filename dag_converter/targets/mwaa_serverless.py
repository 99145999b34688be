"""The Amazon MWAA Serverless target: everything true of the service only (TARGET.md §1).

The service runs the Amazon provider's operators and EmptyOperator (anything else only when
named with --allow-operator), a few schedule presets, a fixed set of Jinja names, and limits on
retries and timeouts. It ignores some DAG and task arguments and rejects others. It has no task
groups (they are flattened, with an info each), no TaskFlow, no dynamic mapping and no callbacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from dag_converter import codes
from dag_converter.model import Argument, DateTime, Duration, Span, Task
from dag_converter.registry import AMAZON_PREFIX, EMPTY_OPERATOR_PATH, OperatorRule
from dag_converter.targets._common import unknown_amazon_class
from dag_converter.targets.base import ALLOWED, ALLOWED_WITH_WARNING, NOT_ALLOWED, CheckContext, Target

# MWAA Serverless accepts these presets (TARGET.md §1.5); @once and @continuous it cannot run.
SERVICE_PRESETS: Final = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually"})
# Jinja names MWAA Serverless provides (TARGET.md §1.6).
SERVICE_TEMPLATE_VARIABLES: Final = frozenset(
    {"macros", "task_instance", "ti", "params", "ds", "ds_nodash", "ts", "ts_nodash"}
)
# DAG() arguments dag-factory drops and MWAA Serverless ignores (TARGET.md §1.3): dropping them
# changes nothing on the service, so they are dropped with a warning.
SERVICE_IGNORED_DAG_KEYS: Final = frozenset({
    "owner_links", "fail_fast", "max_consecutive_failed_dag_runs", "user_defined_macros",
    "user_defined_filters", "jinja_environment_kwargs", "template_undefined", "auto_register",
    "default_view", "orientation", "dag_display_name_template",
})
# DAG() arguments dag-factory passes on but MWAA Serverless documents as ignored (supported Airflow
# parameters page: "The following DAG-level parameters are ignored: ... catchup, access_control, ...
# tags, ... description, ... dagrun_timeout, sla_miss_callback, on_failure_callback,
# on_success_callback, is_paused_upon_creation"): kept, with an info, or a warning where the
# Python DAG behaves differently without them (SERVICE.md §6.2 rule 1).
SERVICE_IGNORED_KEPT_DAG_KEYS: Final = frozenset({
    "catchup", "tags", "description", "dagrun_timeout", "is_paused_upon_creation", "access_control",
    "render_template_as_native_obj", "template_searchpath", "dag_display_name", "sla_miss_callback",
    "on_success_callback", "on_failure_callback",
})
# Workflow names (botocore mwaa-serverless service model, CreateWorkflowRequest.Name):
# "pattern": "^[a-zA-Z0-9]+[a-zA-Z0-9\\.\\-_]*$", "max": 255.
WORKFLOW_NAME: Final = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.\-_]*$")
MAX_WORKFLOW_NAME: Final = 255
# Task arguments MWAA Serverless documents as ignored (TARGET.md §1.4); kept, with an info.
SERVICE_IGNORED_TASK_KEYS: Final = frozenset({
    "email_on_retry", "email_on_failure", "retry_exponential_backoff", "depends_on_past",
    "ignore_first_depends_on_past", "wait_for_downstream", "priority_weight", "sla", "max_active_tis_per_dag",
    "max_active_tis_per_dagrun", "task_concurrency", "resources", "run_as_user", "executor_config", "doc",
    "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name", "logger_name", "allow_nested_operators",
    "inlets", "outlets", "map_index_template", "email", "owner", "max_retry_delay", "do_xcom_push",
    "multiple_outputs", "start_date", "end_date", "weight_rule", "queue", "pool", "pool_slots",
    "trigger_rule", "executor", "wait_for_past_depends_before_skipping", "aws_conn_id", "region_name",
    "deferrable",
})
# Quietly kept: documentation fields raise no info at all, they only change the UI.
_QUIET_KEYS: Final = frozenset({"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name"})
SERVICE_REJECTED_TASK_KEYS: Final = {
    "verify": "is not supported on MWAA Serverless (the service controls TLS verification)",
    "botocore_config": "is not supported on MWAA Serverless",
}
# The service validates these when the task runs (TARGET.md §1.4).
MAX_RETRIES: Final = 3
MAX_RETRY_DELAY: Final = 300
MAX_EXECUTION_TIMEOUT: Final = 3600
# "max_active_runs: must be less than the account quota; default 16" (supported Airflow parameters page).
DEFAULT_MAX_ACTIVE_RUNS_QUOTA: Final = 16

_PYTHON_HINTS: Final = {
    "PythonOperator": "convert with --code-package to ship the callable beside the YAML, or move the Python code "
                      "to LambdaInvokeFunctionOperator, GlueJobOperator or BatchOperator",
    "BashOperator": "convert with --code-package to ship the command's scripts beside the YAML, or run the "
                    "command with BatchOperator, EcsRunTaskOperator or an SSM-based Lambda",
    "BranchPythonOperator": "MWAA Serverless has no branching; split the workflow",
    "ShortCircuitOperator": "MWAA Serverless has no short-circuiting; split the workflow",
    "TriggerDagRunOperator": "start the other workflow with MwaaServerlessStartWorkflowRunOperator",
}


@dataclass(frozen=True)
class MwaaServerless(Target):
    """Amazon MWAA Serverless: the Amazon provider and its allowlist, the service's limits."""

    schedule_presets: frozenset[str] | None = field(default=SERVICE_PRESETS, repr=False)
    template_variables: frozenset[str] | None = field(default=SERVICE_TEMPLATE_VARIABLES, repr=False)
    eventbridge_schedules: bool = field(default=True, repr=False)

    def operator_status(self, rule: OperatorRule) -> str:
        if not rule.class_path.startswith(AMAZON_PREFIX) and rule.class_path != EMPTY_OPERATOR_PATH \
                and not self.allows(rule.class_path):
            return NOT_ALLOWED  # standard-provider classes: their code needs a code package (another issue)
        return ALLOWED if rule.allowlisted else ALLOWED_WITH_WARNING

    def check_operator(self, task: Task, canonical: str, rule: OperatorRule | None, check: CheckContext) -> None:
        """TARGET.md decision 1: the Amazon provider and EmptyOperator; others only with --allow-operator."""
        allowed_by_flag = self.allows(task.operator, canonical)
        is_amazon = canonical.startswith(AMAZON_PREFIX)
        if not allowed_by_flag and not is_amazon and canonical != EMPTY_OPERATOR_PATH:
            short = canonical.rsplit(".", 1)[-1]
            hint = _PYTHON_HINTS.get(short) or (
                f"{short} is defined in this DAG file; convert with --code-package to ship it beside the YAML"
                if "." not in canonical.rsplit(".", 1)[0] else
                f"convert with --code-package to ship {short} (and its provider) beside the YAML, use an Amazon "
                f"provider operator, or pass --allow-operator {canonical}"
            )
            check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical, hint=hint)
        elif unknown_amazon_class(task, canonical, rule, check):
            pass
        elif rule is not None and is_amazon and self.operator_status(rule) == ALLOWED_WITH_WARNING:
            check.add(codes.NOT_ALLOWLISTED, task.span, operator=canonical)

    def dropped_dag_argument(self, name: str) -> str | None:
        if name in SERVICE_IGNORED_DAG_KEYS:
            return "dag-factory does not pass it to DAG() and MWAA Serverless ignores it"
        return None

    def check_dag_id(self, dag_id: str, span: Span, check: CheckContext) -> None:
        """deploy names the workflow after the dag id; warn when the service would refuse that name."""
        if not WORKFLOW_NAME.match(dag_id):
            check.add(codes.DAG_ID_NOT_WORKFLOW_NAME, span, dag_id=dag_id,
                      reason="a workflow name starts with a letter or digit")

    def check_dag_arguments(self, arguments: list[Argument], scheduled: bool, check: CheckContext) -> None:
        """The service's DAG-level rules (supported Airflow parameters page; SERVICE.md §6)."""
        by_name = {a.name: a for a in arguments}
        for name in ("max_active_runs", "max_active_tasks"):
            # aws-samples validator: "max_active_runs must be an integer >= 1" (and the same for tasks).
            arg = by_name.get(name)
            if arg is not None and (isinstance(arg.value, bool) or not isinstance(arg.value, int) or arg.value < 1):
                check.add(codes.INVALID_DAG_ARGUMENT, arg.span, field=name,
                          detail=f"is {arg.value!r}; MWAA Serverless requires a whole number of at least 1",
                          hint=f"use {name}=1 or more")
            elif arg is not None and name == "max_active_runs" and arg.value > DEFAULT_MAX_ACTIVE_RUNS_QUOTA:
                check.add(codes.MAX_ACTIVE_RUNS_OVER_QUOTA, arg.span, value=arg.value,
                          quota=DEFAULT_MAX_ACTIVE_RUNS_QUOTA)
        start, end = by_name.get("start_date"), by_name.get("end_date")
        if (start is not None and end is not None and isinstance(start.value, DateTime)
                and isinstance(end.value, DateTime) and end.value.value < start.value.value):
            # "end_date: must be greater than or equal to start_date" (supported Airflow parameters page).
            check.add(codes.INVALID_DAG_ARGUMENT, end.span, field="end_date",
                      detail=f"({end.value.value.isoformat()}) is before start_date ({start.value.value.isoformat()})",
                      hint="move end_date after start_date, or drop it")
        for arg in arguments:
            self._ignored_dag_argument(arg, check)
        dagrun_timeout = by_name.get("dagrun_timeout")
        if dagrun_timeout is not None and isinstance(dagrun_timeout.value, Duration) and dagrun_timeout.value.seconds < 0:
            check.add(codes.NEGATIVE_DURATION, dagrun_timeout.span, field="dagrun_timeout",
                      value=dagrun_timeout.value.exact_seconds)
        if not scheduled:
            return
        if start is not None and isinstance(start.value, DateTime) and start.value.value.date() < check.today:
            check.add(codes.PAST_START_DATE, start.span, date=start.value.value.date().isoformat())

    def _ignored_dag_argument(self, arg: Argument, check: CheckContext) -> None:
        if arg.name not in SERVICE_IGNORED_KEPT_DAG_KEYS:
            return
        effect = hint = None
        if arg.name == "catchup" and arg.value is True:
            effect, hint = "missed runs since start_date are not run", "start past runs by hand if you need them"
        elif arg.name == "dagrun_timeout" and arg.value is not None:
            effect = "runs are not stopped when they take longer"
            hint = "set execution_timeout on the tasks (at most 3600 s each)"
        elif arg.name == "render_template_as_native_obj" and arg.value is True:
            effect, hint = "templates render as strings, not Python objects", "make the tasks accept strings"
        elif arg.name == "template_searchpath" and arg.value:
            effect = "template files are not looked up in these folders"
            hint = "inline the templates in the task arguments"
        if effect is None:
            check.add(codes.SERVICE_IGNORED_DAG_ARGUMENT, arg.span, field=arg.name)
        else:
            check.add(codes.SERVICE_IGNORED_DAG_BEHAVIOUR, arg.span, field=arg.name, effect=effect, hint=hint)

    def rejected_argument(self, name: str, value: object) -> str | None:
        if name in SERVICE_REJECTED_TASK_KEYS:
            return SERVICE_REJECTED_TASK_KEYS[name]
        if name == "deferrable" and value is True:
            return "is True, but MWAA Serverless does not support deferrable mode"
        return None

    def ignored_argument(self, name: str) -> bool:
        return name in SERVICE_IGNORED_TASK_KEYS and name not in _QUIET_KEYS

    def check_limits(self, name: str, value: object, span: Span, check: CheckContext) -> None:
        # Use total seconds: timedelta.seconds drops the days, so timedelta(days=1, seconds=10)
        # would pass as 10 s.
        if name == "retries" and isinstance(value, int) and not isinstance(value, bool) \
                and not 0 <= value <= MAX_RETRIES:
            check.add(codes.RETRIES_OVER_LIMIT, span, value=value, limit=MAX_RETRIES)
        elif name in ("retry_delay", "execution_timeout") and isinstance(value, Duration) and value.seconds < 0:
            # "retry_delay: 0-300 seconds" (supported Airflow parameters page); a negative timeout never ends well.
            check.add(codes.NEGATIVE_DURATION, span, field=name, value=value.exact_seconds)
        elif name == "retry_delay" and isinstance(value, Duration) and value.seconds > MAX_RETRY_DELAY:
            check.add(codes.RETRY_DELAY_OVER_LIMIT, span, value=value.exact_seconds, limit=MAX_RETRY_DELAY)
        elif name == "execution_timeout" and isinstance(value, Duration) and value.seconds > MAX_EXECUTION_TIMEOUT:
            check.add(codes.EXECUTION_TIMEOUT_OVER_LIMIT, span, value=value.exact_seconds,
                      limit=MAX_EXECUTION_TIMEOUT)


TARGET: Final = MwaaServerless("mwaa-serverless")

__all__ = ["MAX_EXECUTION_TIMEOUT", "MAX_RETRIES", "MAX_RETRY_DELAY", "SERVICE_PRESETS", "TARGET", "MwaaServerless"]
