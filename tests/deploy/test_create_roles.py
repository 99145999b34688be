"""`deploy --create-roles`: each workflow's execution role created from the `<dag_id>.iam.json`
that `convert --iam` wrote, against moto's IAM in server mode (through a recording proxy, so the
test sees which IAM operations were called) and the fake MWAA Serverless."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deploy.conftest import DAG_LINE, Project, dag_file, run_cli
from deploy.fake_mwaa import FakeMwaaServerless
from deploy.iam_proxy import IamProxy
from dag_converter.deploy.roles import template_problem
from dag_converter.iam.roles import POLICY_NAME

DAGS = ("etl_a", "etl_b", "etl_c")


@pytest.fixture
def iam_proxy(s3_endpoint: str) -> Iterator[IamProxy]:
    with IamProxy(s3_endpoint) as proxy:
        yield proxy


@pytest.fixture
def iam(s3_endpoint: str, aws_env: dict[str, str]):  # noqa: ANN201 - a boto3 client has no importable type
    client = boto3.client("iam", region_name="us-east-1", endpoint_url=s3_endpoint)
    yield client
    for dag_id in DAGS:  # moto's server lives for the session: leave no role behind
        for name in (f"dag-converter-{dag_id}", f"wf-role-{dag_id}"):
            try:
                client.delete_role_policy(RoleName=name, PolicyName=POLICY_NAME)
            except client.exceptions.NoSuchEntityException:
                pass
            try:
                client.delete_role(RoleName=name)
            except client.exceptions.NoSuchEntityException:
                pass


def convert_iam(project: Project) -> None:
    converted = run_cli("convert", "dags", "--output", "out", "--iam", cwd=project.root, env=project.env)
    assert converted.returncode == 0, converted.stderr


def deploy(project: Project, proxy: IamProxy, *args: str):  # noqa: ANN201
    env = {**project.env, "AWS_ENDPOINT_URL_IAM": proxy.url, "AWS_ENDPOINT_URL_STS": proxy.url}
    return run_cli("deploy", "out", "--definitions", project.definitions, "--create-roles", *args,
                   cwd=project.root, env=env)


def role_file(project: Project, dag_id: str) -> dict:
    return json.loads((project.root / "out" / f"{dag_id}.iam.json").read_text(encoding="utf-8"))


def test_each_workflow_gets_its_own_role_with_the_derived_documents(
        project: Project, mwaa: FakeMwaaServerless, iam_proxy: IamProxy, iam) -> None:  # noqa: ANN001
    convert_iam(project)
    result = deploy(project, iam_proxy)
    assert result.returncode == 0, result.stderr
    for dag_id in DAGS:
        role = iam.get_role(RoleName=f"dag-converter-{dag_id}")["Role"]
        expected = role_file(project, dag_id)
        assert role["AssumeRolePolicyDocument"] == expected["trust_policy"]
        policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=POLICY_NAME)["PolicyDocument"]
        assert policy == expected["permissions_policy"]
        assert any(s["Action"] == ["s3:ListBucket"] for s in policy["Statement"])  # the DAG's S3ListOperator
        assert mwaa.by_name(dag_id).versions[0]["RoleArn"] == role["Arn"]
    assert sorted(iam_proxy.mutating_calls()) == ["CreateRole"] * 3 + ["PutRolePolicy"] * 3
    assert f"dags/etl_a.py:{DAG_LINE}:0: DC614 [info] execution role 'dag-converter-etl_a' of workflow 'etl_a' " \
           "created" in result.stderr
    assert "Roles: 3 created, 0 updated, 0 unchanged, 0 failed." in result.stderr

    # A rerun with nothing changed calls nothing that changes IAM or MWAA Serverless.
    iam_proxy.clear()
    mwaa.calls.clear()
    again = deploy(project, iam_proxy)
    assert again.returncode == 0, again.stderr
    assert iam_proxy.mutating_calls() == [] and mwaa.mutating_calls() == []
    assert "0 created, 0 updated, 3 unchanged" in again.stderr and "Roles: 0 created, 0 updated, 3 unchanged" in again.stderr

    # A changed DAG: --plan names the role update and changes nothing; the deploy then updates it.
    project.write_dag("etl_b.py", dag_file("etl_b").replace('bucket="data"', 'bucket="other-data"'))
    convert_iam(project)
    iam_proxy.clear()
    mwaa.calls.clear()
    plan = deploy(project, iam_proxy, "--plan")
    assert plan.returncode == 0, plan.stderr
    assert f"update    role dag-converter-etl_b for etl_b (dags/etl_b.py:{DAG_LINE}): permissions changed" in plan.stdout
    assert "unchanged role dag-converter-etl_a" in plan.stdout
    assert "Roles: 0 to create, 1 to update, 2 unchanged." in plan.stdout
    assert iam_proxy.mutating_calls() == [] and mwaa.mutating_calls() == []
    applied = deploy(project, iam_proxy)
    assert applied.returncode == 0, applied.stderr
    assert iam_proxy.mutating_calls() == ["PutRolePolicy"]
    policy = iam.get_role_policy(RoleName="dag-converter-etl_b", PolicyName=POLICY_NAME)["PolicyDocument"]
    assert policy == role_file(project, "etl_b")["permissions_policy"]


def test_plan_of_new_roles_calls_nothing_that_changes(project: Project, mwaa: FakeMwaaServerless,
                                                      iam_proxy: IamProxy, iam) -> None:  # noqa: ANN001
    convert_iam(project)
    plan = deploy(project, iam_proxy, "--plan", "--role-name-template", "wf-role-{dag_id}", "--output-format", "json")
    assert plan.returncode == 0, plan.stderr
    document = json.loads(plan.stdout)["plan"]
    roles = {r["role"]: r for r in document["roles"]}
    assert sorted(roles) == [f"wf-role-{d}" for d in DAGS]
    assert {r["action"] for r in roles.values()} == {"create"}
    assert roles["wf-role-etl_a"]["arn"] == "arn:aws:iam::123456789012:role/wf-role-etl_a"
    assert len(roles["wf-role-etl_a"]["digest"]) == 64
    assert iam_proxy.mutating_calls() == [] and mwaa.mutating_calls() == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="wf-role-etl_a")


def test_a_missing_role_file_refuses_that_dag_only(project: Project, mwaa: FakeMwaaServerless,
                                                   iam_proxy: IamProxy, iam) -> None:  # noqa: ANN001
    convert_iam(project)
    (project.root / "out" / "etl_b.iam.json").unlink()
    result = deploy(project, iam_proxy)
    assert result.returncode == 1
    assert f"dags/etl_b.py:{DAG_LINE}:0: DC613 [error] DAG 'etl_b' has no usable execution role file " \
           "etl_b.iam.json" in result.stderr
    assert "convert --iam" in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_a", "etl_c"]
    assert iam.get_role(RoleName="dag-converter-etl_a")["Role"]["RoleName"] == "dag-converter-etl_a"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="dag-converter-etl_b")


def test_a_template_that_names_no_role_is_refused_before_any_call(project: Project, mwaa: FakeMwaaServerless,
                                                                  iam_proxy: IamProxy) -> None:
    convert_iam(project)
    for template, why in (("roles/{dag_id}", "letters, digits"), ("shared-role", "{dag_id}"),
                          ("{dag_id}-{region}", "only field"), ("r" * 64 + "{dag_id}", "characters")):
        result = deploy(project, iam_proxy, "--role-name-template", template)
        assert result.returncode == 2, result.stderr
        assert "--role-name-template" in result.stderr and why in result.stderr
    both = deploy(project, iam_proxy, "--role-arn", "arn:aws:iam::123456789012:role/x")
    assert both.returncode == 2 and "exclude each other" in both.stderr
    assert iam_proxy.actions == [] and mwaa.calls == []
    # A template that is fine but too long for one DAG's id refuses the DAGs it would misname.
    long = deploy(project, iam_proxy, "--role-name-template", "r" * 60 + "{dag_id}")
    assert long.returncode == 1
    assert f"dags/etl_a.py:{DAG_LINE}:0: DC609 [error] DAG 'etl_a' cannot be deployed: role name" in long.stderr
    assert "65 characters" in long.stderr
    assert iam_proxy.actions == [] and mwaa.mutating_calls() == []


@pytest.mark.parametrize(("template", "ok"), [
    ("dag-converter-{dag_id}", True), ("{dag_id}", True), ("team+{dag_id}@prod", True),
    ("a/{dag_id}", False), ("{dag_id:>5}", False), ("{0}", False), ("{dag_id", False), ("", False),
])
def test_template_problem(template: str, ok: bool) -> None:
    assert (template_problem(template) is None) is ok


def test_role_file_path_is_beside_the_yaml(tmp_path: Path) -> None:
    from dag_converter.batch.roles import role_name

    assert role_name("etl", "etl.yaml") == "etl.iam.json"
    assert role_name("etl", "team/etl.yaml") == "team/etl.iam.json"
