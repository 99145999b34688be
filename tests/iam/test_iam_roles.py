"""`create_or_update_role` against moto's IAM in server mode over HTTP: the role and its inline policy
exist with the derived documents, and a rerun with the same documents writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from dag_converter.iam import create_or_update_role, derive
from dag_converter.iam.roles import POLICY_NAME
from dag_converter.iam.workflows import FoundWorkflow, workflows_in_output

boto3 = pytest.importorskip("boto3")
DAGS = Path(__file__).parent / "dags"


def _doc(value: Any) -> Any:
    return json.loads(unquote(value)) if isinstance(value, str) else value


@pytest.fixture
def iam(aws_env: dict[str, str]):  # noqa: ANN201 - a boto3 client has no importable type
    return boto3.client("iam", region_name="us-east-1", endpoint_url=aws_env["AWS_ENDPOINT_URL"])


def _derived(tmp_path: Path, dag: str):  # noqa: ANN202
    from click.testing import CliRunner

    from dag_converter.cli import main
    from dag_converter.registry import get_registry

    assert CliRunner().invoke(main, ["convert", str(DAGS / f"{dag}.py"), "-o", str(tmp_path), "-q"]).exit_code == 0
    (found,) = [f for f in workflows_in_output(tmp_path) if isinstance(f, FoundWorkflow)]
    return derive(found.workflow, get_registry())


def test_create_then_update_then_unchanged(iam, tmp_path: Path) -> None:  # noqa: ANN001
    role = _derived(tmp_path, "ecs_run_task")
    name = "mwaa-ecs_run_task"
    first = create_or_update_role(iam, name, role.trust, role.policy)
    assert first["created"] and first["policy_updated"]
    assert first["arn"].endswith(f":role/{name}")
    got = iam.get_role(RoleName=name)["Role"]
    assert _doc(got["AssumeRolePolicyDocument"]) == role.trust
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == [POLICY_NAME]
    stored = _doc(iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"])
    assert stored == role.policy

    again = create_or_update_role(iam, name, role.trust, role.policy)
    assert again == {"arn": first["arn"], "created": False, "trust_updated": False, "policy_updated": False}

    other = _derived(tmp_path / "other", "lambda_invoke")
    changed = create_or_update_role(iam, name, other.trust | {"Version": "2012-10-17"}, other.policy)
    assert changed["policy_updated"] and not changed["created"]
    stored = _doc(iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"])
    assert stored == other.policy


def test_a_changed_trust_policy_is_replaced(iam, tmp_path: Path) -> None:  # noqa: ANN001
    role = _derived(tmp_path, "step_functions")
    name = "mwaa-step_functions"
    create_or_update_role(iam, name, {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "airflow.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        role.policy)
    result = create_or_update_role(iam, name, role.trust, role.policy)
    assert result["trust_updated"] and not result["policy_updated"]
    assert _doc(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]) == role.trust
