"""The fake MWAA Serverless holds to the service model: real boto3 clients against it (no stubs)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from deploy.conftest import ROLE
from deploy.fake_mwaa import Fault, FakeMwaaServerless


@pytest.fixture
def client(mwaa: FakeMwaaServerless, aws_env: dict[str, str], s3, bucket: str) -> Iterator:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="wf/a.yaml", Body=b"a:\n  tasks: {}\n")
    yield boto3.client("mwaa-serverless", region_name="us-east-1", endpoint_url=mwaa.url,
                       config=Config(retries={"total_max_attempts": 1}, parameter_validation=False))


def location(bucket: str, key: str = "wf/a.yaml") -> dict[str, str]:
    return {"Bucket": bucket, "ObjectKey": key}


def error(exc: pytest.ExceptionInfo[ClientError]) -> dict:
    return exc.value.response


def test_name_pattern_is_checked_by_the_server(client, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as exc:
        client.create_workflow(Name="_under", DefinitionS3Location=location(bucket), RoleArn=ROLE)
    assert error(exc)["Error"]["Code"] == "ValidationException"
    assert error(exc)["Reason"] == "fieldValidationFailed"
    assert error(exc)["FieldList"] == [{"Name": "Name", "Message": "does not match [a-zA-Z0-9]+[a-zA-Z0-9\\.\\-_]*"}]


def test_required_members_and_types_use_botocores_validator(client, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as exc:
        client.create_workflow(Name="a", DefinitionS3Location=location(bucket), EngineVersion="one")
    fields = {f["Name"] for f in error(exc)["FieldList"]}
    assert fields == {"RoleArn", "EngineVersion"}


def test_enum_and_list_items(client, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as exc:
        client.create_workflow(Name="a", DefinitionS3Location=location(bucket), RoleArn=ROLE,
                               EncryptionConfiguration={"Type": "MINE"},
                               NetworkConfiguration={"SubnetIds": ["subnet-1", "vpc-2"]})
    assert [f["Name"] for f in error(exc)["FieldList"]] == ["EncryptionConfiguration.Type",
                                                            "NetworkConfiguration.SubnetIds[1]"]


def test_unique_names_versions_tags_and_delete(client, bucket: str, mwaa: FakeMwaaServerless) -> None:  # noqa: ANN001
    created = client.create_workflow(Name="a", DefinitionS3Location=location(bucket), RoleArn=ROLE, Tags={"k": "v"})
    with pytest.raises(ClientError) as exc:
        client.create_workflow(Name="a", DefinitionS3Location=location(bucket), RoleArn=ROLE)
    assert error(exc)["Error"]["Code"] == "ConflictException"
    assert error(exc)["ResourceId"] == created["WorkflowArn"]
    updated = client.update_workflow(WorkflowArn=created["WorkflowArn"], DefinitionS3Location=location(bucket),
                                     RoleArn=ROLE)
    assert updated["WorkflowVersion"] != created["WorkflowVersion"]
    assert client.list_tags_for_resource(ResourceArn=created["WorkflowArn"])["Tags"] == {"k": "v"}
    client.delete_workflow(WorkflowArn=created["WorkflowArn"])
    assert mwaa.workflows == {}
    with pytest.raises(ClientError) as exc:
        client.delete_workflow(WorkflowArn=created["WorkflowArn"])
    assert error(exc)["Error"]["Code"] == "ResourceNotFoundException"


def test_inaccessible_definition(client, bucket: str) -> None:  # noqa: ANN001
    with pytest.raises(ClientError) as exc:
        client.create_workflow(Name="a", DefinitionS3Location=location(bucket, "wf/missing.yaml"), RoleArn=ROLE)
    assert error(exc)["FieldList"][0]["Name"] == "DefinitionS3Location"


def test_paging_with_botocores_paginator(client, mwaa: FakeMwaaServerless) -> None:  # noqa: ANN001
    for n in range(5):
        mwaa.add(f"w{n}")
    pages = list(client.get_paginator("list_workflows").paginate())
    assert [len(p["Workflows"]) for p in pages] == [2, 2, 1]
    assert [w["Name"] for p in pages for w in p["Workflows"]] == ["w0", "w1", "w2", "w3", "w4"]


def test_throttling_carries_retry_after(client, mwaa: FakeMwaaServerless) -> None:  # noqa: ANN001
    mwaa.faults = [Fault("ListWorkflows", "ThrottlingException")]
    with pytest.raises(ClientError) as exc:
        client.list_workflows()
    assert error(exc)["Error"]["Code"] == "ThrottlingException"
    assert error(exc)["RetryAfterSeconds"] == 0 and error(exc)["QuotaCode"] == "L-CREATE-RATE"
    assert client.list_workflows()["Workflows"] == []


def test_service_waits_what_the_service_asks(mwaa: FakeMwaaServerless, aws_env: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from dag_converter.deploy.service import ServiceFailure, make_service

    monkeypatch.setenv("AWS_ENDPOINT_URL_MWAA_SERVERLESS", mwaa.url)
    service = make_service()
    waits: list[float] = []
    service.sleep = waits.append
    mwaa.faults = [Fault("ListWorkflows", "ThrottlingException", times=2, members={"RetryAfterSeconds": 7})]
    assert list(service.workflows()) == []
    assert waits == [7.0, 7.0] and service.throttled == 2
    mwaa.faults = [Fault("ListWorkflows", "ThrottlingException", times=9, members={"RetryAfterSeconds": 600})]
    waits.clear()
    with pytest.raises(ServiceFailure) as failure:
        list(service.workflows())
    assert waits == [30.0] * 4  # capped; 5 attempts in all
    assert (failure.value.code, failure.value.attempts, failure.value.quota) == ("ThrottlingException", 5,
                                                                                 "L-CREATE-RATE")
