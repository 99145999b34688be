"""derive / derive_role on workflows as the analyzer builds them (model values, not YAML)."""

from __future__ import annotations

import json

from dag_converter.iam import derive, derive_role
from dag_converter.report.roles import render_markdown_section
from dag_converter.model import Argument, Span, Task, Unresolved, Workflow, XComRef
from dag_converter.registry import get_registry

S3 = "airflow.providers.amazon.aws.operators.s3."
SPAN = Span("dags/etl.py", 7, 4)


def _task(task_id: str, operator: str, **arguments: object) -> Task:
    return Task(task_id=task_id, operator=operator, span=SPAN,
                arguments=tuple(Argument(k, v, SPAN) for k, v in arguments.items()))  # type: ignore[arg-type]


def _workflow(*tasks: Task) -> Workflow:
    return Workflow(dag_id="etl", span=Span("dags/etl.py", 5), tasks=tasks)


def test_tasks_with_the_same_statement_share_it_and_its_sid_names_both() -> None:
    role = derive(_workflow(_task("list-a", S3 + "S3ListOperator", bucket="b"),
                            _task("list_b", S3 + "S3ListOperator", bucket="b")), get_registry())
    (statement,) = [s for s in role.policy["Statement"] if s["Sid"].startswith("Task")]
    assert statement["Sid"] == "TaskListAListB"
    assert role.statement_tasks["TaskListAListB"] == ("list-a", "list_b")


def test_an_xcom_or_unresolved_value_is_known_only_at_run_time() -> None:
    role = derive(_workflow(
        _task("from_xcom", S3 + "S3ListOperator", bucket=XComRef("upstream")),
        _task("from_env", S3 + "S3ListOperator", bucket=Unresolved("os.environ", SPAN, source="env")),
    ), get_registry())
    statements = [s for s in role.policy["Statement"] if s["Sid"].startswith("Task")]
    assert statements == [{"Sid": "TaskFromXcomFromEnv", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": "*"}]
    assert [(d.code, d.span) for d in role.diagnostics] == [("DC510", SPAN), ("DC510", SPAN)]
    assert "'from_env' argument 'bucket'" in role.diagnostics[0].message + role.diagnostics[1].message


def test_a_jinja_value_in_an_untemplated_field_is_literal() -> None:
    # "delimiter" is templated, "bucket" too; "aws_conn_id" irrelevant. S3ListOperator's bucket with
    # Jinja is a template (templated field): run time.
    role = derive(_workflow(_task("l", S3 + "S3ListOperator", bucket="{{ params.b }}")), get_registry())
    assert role.diagnostics[0].code == "DC510"


def test_an_operator_without_derived_actions_is_reported_not_guessed() -> None:
    path = "airflow.providers.amazon.aws.operators.sagemaker.SageMakerConditionOperator"
    role = derive(_workflow(_task("cond", path)), get_registry())
    assert [d.code for d in role.diagnostics] == ["DC512"]
    assert role.tasks[0].derived is False and role.tasks[0].actions == ()
    assert all(s["Sid"].startswith("Service") for s in role.policy["Statement"])


def test_derive_role_gives_the_document_text_and_the_diagnostics() -> None:
    text, diagnostics = derive_role(_workflow(_task("l", S3 + "S3ListOperator", bucket="{{ x }}")), get_registry())
    document = json.loads(text)
    assert document["dag_id"] == "etl" and text.endswith("\n")
    assert [d.code for d in diagnostics] == ["DC510"]
    assert document["tasks"]["l"]["actions"] == ["s3:ListBucket"]


def test_markdown_lists_actions_by_task() -> None:
    role = derive(_workflow(_task("l", S3 + "S3ListOperator", bucket="b"),
                            _task("cond", "airflow.providers.amazon.aws.operators.sagemaker.SageMakerConditionOperator")),
                  get_registry())
    text = render_markdown_section([role])
    assert "| `l` | `S3ListOperator` | `s3:ListBucket` |" in text
    assert "| `cond` | `SageMakerConditionOperator` | *not derived (DC512)* |" in text


def test_the_conversion_markdown_report_shows_the_roles_when_given() -> None:
    from dataclasses import replace

    from dag_converter.report import build_report, render_markdown

    role = derive(_workflow(_task("l", S3 + "S3ListOperator", bucket="b")), get_registry())
    report = build_report("mwaa-serverless", [])
    assert "Execution roles" not in render_markdown(report)
    text = render_markdown(replace(report, execution_roles=(role,)))
    assert "## Execution roles" in text and "### `etl`" in text
    assert "| `l` | `S3ListOperator` | `s3:ListBucket` |" in text


def test_branch_guarded_actions_follow_their_argument() -> None:
    glue = "airflow.providers.amazon.aws.operators.glue.GlueJobOperator"
    plain = derive(_workflow(_task("j", glue, job_name="etl", script_location="s3://c/e.py")), get_registry())
    updating = derive(_workflow(_task("j", glue, job_name="etl", script_location="s3://c/e.py", update_config=True)),
                      get_registry())
    local = derive(_workflow(_task("j", glue, job_name="etl", script_location="etl.py", s3_bucket="code")),
                   get_registry())
    assert "glue:UpdateJob" not in plain.tasks[0].actions and "s3:PutObject" not in plain.tasks[0].actions
    assert "glue:UpdateJob" in updating.tasks[0].actions
    assert "s3:PutObject" in local.tasks[0].actions
    put = [s for s in local.policy["Statement"] if "s3:PutObject" in s["Action"] and s["Sid"].startswith("Task")]
    assert put[0]["Resource"] == "arn:aws:s3:::code/*"


def test_roles_for_dags_skips_refused_dags() -> None:
    from dag_converter.iam import roles_for_dags
    from dag_converter.model import DagResult

    ok = DagResult(_workflow(_task("l", S3 + "S3ListOperator", bucket="b")), (), "yaml: text\n", "etl.yaml")
    refused = DagResult(Workflow(dag_id="bad", span=SPAN), (), None)
    (name, text, role), = roles_for_dags([ok, refused], get_registry())
    assert name == "etl.iam.json" and json.loads(text)["dag_id"] == "etl" and role.dag_id == "etl"


def test_empty_operator_needs_no_actions_and_no_warning() -> None:
    from dag_converter.registry import EMPTY_OPERATOR_PATH

    role = derive(_workflow(_task("noop", EMPTY_OPERATOR_PATH)), get_registry())
    assert role.diagnostics == () and role.tasks[0].derived and role.tasks[0].actions == ()


def test_an_execution_arn_and_an_emr_serverless_application_narrow_their_statements() -> None:
    sensor = "airflow.providers.amazon.aws.sensors.step_function.StepFunctionExecutionSensor"
    emr = "airflow.providers.amazon.aws.operators.emr.EmrServerlessStartJobOperator"
    execution = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run-1"
    role = derive(_workflow(
        _task("wait", sensor, execution_arn=execution),
        _task("job", emr, application_id="00f1", execution_role_arn="arn:aws:iam::123456789012:role/emr",
              job_driver={}, configuration_overrides={}),
    ), get_registry())
    by_action = {a: s for s in role.policy["Statement"] for a in s["Action"]}
    assert by_action["states:DescribeExecution"]["Resource"] == execution
    assert by_action["emr-serverless:StartJobRun"]["Resource"] == "arn:aws:emr-serverless:*:*:/applications/00f1"
    assert by_action["emr-serverless:GetJobRun"]["Resource"] == "arn:aws:emr-serverless:*:*:/applications/00f1/jobruns/*"
    assert by_action["iam:PassRole"]["Resource"] == "arn:aws:iam::123456789012:role/emr"
    assert role.diagnostics == ()


def test_a_policy_over_the_inline_quota_is_reported() -> None:
    tasks = [_task(f"list_{n:03d}", S3 + "S3ListOperator", bucket=f"bucket-{n:03d}-" + "x" * 40) for n in range(150)]
    role = derive(_workflow(*tasks), get_registry())
    assert [d.code for d in role.diagnostics] == ["DC514"]
    small = derive(_workflow(*tasks[:3]), get_registry())
    assert small.diagnostics == ()
