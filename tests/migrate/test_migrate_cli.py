"""`dag-converter migrate` run as a subprocess against moto (S3, IAM), the fake MWAA Serverless and the
fake MWAA environment: an environment with an active DAG, a paused DAG, a broken DAG, a DAG needing a
code package (its PythonOperator's callable imports networkx, which the environment's requirements pin)
and a secrets backend."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from deploy.conftest import run_cli
from s3.conftest import RequestLog
from deploy.fake_mwaa import FakeMwaaServerless
from migrate.conftest import HELPER, PYTHON_DAG, s3_dag
from migrate.fake_mwaa_env import FakeEnvironment, FakeMwaa, dag_response, import_error

ENV = "prod-airflow"
ACCOUNT = "123456789012"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
KWARGS = '{"connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables"}'
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
GROUPS = ["sg-0123456789abcdef0"]
PREFIX = f"dag-converter/{ENV}/"


class World:
    def __init__(self, root: Path, env: dict[str, str], serverless: FakeMwaaServerless, source: FakeMwaa,
                 bucket: str, endpoint: str, log: RequestLog) -> None:
        self.root, self.env, self.serverless, self.source, self.bucket = root, env, serverless, source, bucket
        self.iam = boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint)
        self.s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
        self.log = log

    def policy(self, role: str) -> dict[str, Any]:
        return self.iam.get_role_policy(RoleName=role, PolicyName="dag-converter-execution")["PolicyDocument"]

    def migrate(self, *args: str) -> Any:
        return run_cli("migrate", "--from-environment", ENV, "--output", "out", *args, cwd=self.root, env=self.env)

    def plan(self) -> dict[str, Any]:
        return json.loads((self.root / "out" / "migration-plan.json").read_text(encoding="utf-8"))

    def roles(self) -> dict[str, dict[str, Any]]:
        return {r["RoleName"]: r for r in self.iam.list_roles()["Roles"] if r["RoleName"].startswith("mwaa-serverless-")}

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self.source.environments[ENV].dags[dag_id]


@pytest.fixture
def world(tmp_path: Path, aws_env: dict[str, str], s3, bucket: str, s3_endpoint: str,  # noqa: ANN001
          mwaa: FakeMwaaServerless, mwaa_env: FakeMwaa, request_log: RequestLog) -> World:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for name, text in (("etl_active.py", s3_dag("etl_active")), ("etl_paused.py", s3_dag("etl_paused", "@weekly")),
                       ("broken.py", s3_dag("etl_broken", prelude="import not_installed_anywhere\n")),
                       ("py_etl.py", PYTHON_DAG), ("helpers/__init__.py", ""), ("helpers/text.py", HELPER)):
        s3.put_object(Bucket=bucket, Key=f"dags/{name}", Body=text.encode())
    s3.put_object(Bucket=bucket, Key="requirements.txt",
                  Body=b"# providers\napache-airflow-providers-snowflake==6.3.0\n\n-c constraints.txt\npandas>=2\n"
                       b"NetworkX==3.4.2\n")
    environment = {
        "Name": ENV, "Status": "AVAILABLE", "Arn": f"arn:aws:airflow:us-east-1:{ACCOUNT}:environment/{ENV}",
        "AirflowVersion": "3.0.6", "SourceBucketArn": f"arn:aws:s3:::{bucket}", "DagS3Path": "dags",
        "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/service-role/mwaa-prod",
        "NetworkConfiguration": {"SubnetIds": SUBNETS, "SecurityGroupIds": GROUPS}, "KmsKey": KMS,
        "Tags": {"team": "data", "cost-center": "42"},
        "AirflowConfigurationOptions": {"secrets.backend": BACKEND, "secrets.backend_kwargs": KWARGS,
                                        "core.default_task_retries": "3"},
        "RequirementsS3Path": "requirements.txt",
    }
    dags = {"etl_active": dag_response("etl_active", "/usr/local/airflow/dags/etl_active.py"),
            "etl_paused": dag_response("etl_paused", "/usr/local/airflow/dags/etl_paused.py", is_paused=True),
            "py_etl": dag_response("py_etl", "/usr/local/airflow/dags/py_etl.py")}
    errors = [import_error(1, "broken.py", "ModuleNotFoundError: No module named 'not_installed_anywhere'")]
    mwaa_env.add(FakeEnvironment(environment, dags, errors))
    env = {**aws_env, "AWS_ENDPOINT_URL_MWAA": mwaa_env.url, "AWS_ENDPOINT_URL_MWAA_SERVERLESS": mwaa.url,
           "AWS_ENDPOINT_URL_S3": s3_endpoint, "AWS_ENDPOINT_URL_IAM": s3_endpoint}
    root = tmp_path / "project"
    root.mkdir()
    made = World(root, env, mwaa, mwaa_env, bucket, s3_endpoint, request_log)
    for name in made.roles():  # moto's IAM lives for the session: each test starts without our roles
        for policy in made.iam.list_role_policies(RoleName=name)["PolicyNames"]:
            made.iam.delete_role_policy(RoleName=name, PolicyName=policy)
        made.iam.delete_role(RoleName=name)
    return made


def test_plan_lists_each_dag_with_what_it_carries_and_changes_nothing(world: World) -> None:
    result = world.migrate("--plan")
    assert result.returncode == 0, result.stderr
    plan = world.plan()
    dags = {d["dag_id"]: d for d in plan["dags"]}
    assert sorted(dags) == ["etl_active", "etl_broken", "etl_paused", "py_etl"]
    active, paused = dags["etl_active"], dags["etl_paused"]
    assert (active["status"], active["action"], active["trigger_mode"], active["source_paused"]) == \
        ("migrate", "create", None, False)
    assert (paused["status"], paused["action"], paused["trigger_mode"], paused["source_paused"]) == \
        ("migrate", "create", "DISABLED", True)
    assert (active["schedule"], paused["schedule"]) == ("@daily", "@weekly")
    assert active["workflow"] == "etl_active"
    assert active["role"]["name"] == "mwaa-serverless-etl_active"
    assert active["role"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/mwaa-serverless-etl_active"
    assert active["definition"] == f"s3://{world.bucket}/dag-converter/{ENV}/etl_active.yaml"
    broken = dags["etl_broken"]
    assert broken["status"] == "skipped" and "No module named 'not_installed_anywhere'" in broken["reasons"][0]
    python = dags["py_etl"]  # its PythonOperator's code travels in a code package
    assert (python["status"], python["action"], python["workflow"]) == ("migrate", "create", "py_etl")
    package = python["code_package"]
    zipped = (world.root / "out" / "py_etl.code.zip").read_bytes()
    assert package["name"] == "py_etl.code.zip" and package["url"] == f"s3://{world.bucket}/{PREFIX}py_etl.code.zip"
    assert (package["size"], package["sha256"]) == (len(zipped), hashlib.sha256(zipped).hexdigest())
    assert package["requirements"] == ["networkx==3.4.2"]  # the environment's pin of what the package imports
    # the package's own requirements.txt (in the reports) holds the same pin: convert read the environment's file
    report = json.loads((world.root / "out" / "conversion-report.json").read_text(encoding="utf-8"))
    shipped = next(d["code_package"] for f in report["files"] for d in f["dags"] if d["dag_id"] == "py_etl")
    assert [line for line in shipped["requirements"].splitlines() if not line.startswith("#")] == \
        [f"networkx==3.4.2  # networkx (s3://{world.bucket}/dags/py_etl.py:3)"]
    assert f"versions from s3://{world.bucket}/requirements.txt" in shipped["requirements"]
    assert package["not_in_environment"] == [] and package["files"] == 3
    # the helper module was read from the environment's bucket, as Airflow would import it
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert archive.read("helpers/text.py").decode() == HELPER and "helpers/__init__.py" in archive.namelist()
    assert active["code_package"] is None
    assert python["role"]["action"] == "create" and active["role"]["action"] == "create"
    carried = plan["carried_over"]
    assert carried["network"] == {"subnets": SUBNETS, "security_groups": GROUPS}
    assert carried["kms_key"] == KMS and carried["tags"] == {"cost-center": "42", "team": "data"}
    assert carried["variables"] == ["AIRFLOW__WORKERS__SECRETS_BACKEND", "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS"]
    assert plan["not_carried_over"] == ["core.default_task_retries"]
    assert plan["requirements"]["packages"] == ["apache-airflow-providers-snowflake==6.3.0", "pandas>=2",
                                                "NetworkX==3.4.2"]
    assert plan["counts"] == {"migrate": 3, "blocked": 0, "skipped": 1, "create": 3, "update": 0, "unchanged": 0}
    markdown = (world.root / "out" / "migration-plan.md").read_text(encoding="utf-8")
    assert "| etl_paused | etl_paused.py:" in markdown and "DISABLED (paused in the source)" in markdown
    assert "## Code packages" in markdown
    assert f"| py_etl | s3://{world.bucket}/{PREFIX}py_etl.code.zip | {len(zipped)} | {package['sha256']} |" in markdown
    assert "NetworkX==3.4.2" in markdown and f"py_etl.code.zip ({len(zipped)} bytes)" in markdown
    assert KWARGS not in markdown and KWARGS not in json.dumps(plan)  # secret settings: names only
    assert (world.root / "out" / "conversion-report.md").is_file()
    # nothing changed anywhere
    assert world.serverless.mutating_calls() == [] and world.roles() == {}
    assert world.log.count("PUT", f"/{world.bucket}/{PREFIX}") == 0
    assert world.source.rest_calls("PATCH") == []
    assert {r["Path"] for r in world.source.rest_calls()} == {"/dags", "/importErrors"}
    # the plan is deterministic
    first = (world.root / "out" / "migration-plan.json").read_bytes()
    assert world.migrate("--plan").returncode == 0
    assert (world.root / "out" / "migration-plan.json").read_bytes() == first


def test_apply_creates_exactly_the_plan_then_a_rerun_changes_nothing(world: World) -> None:
    result = world.migrate("--apply")
    assert result.returncode == 0, result.stderr
    created = {w.name: w for w in world.serverless.workflows.values()}
    assert sorted(created) == ["etl_active", "etl_paused", "py_etl"]
    active, paused = created["etl_active"].versions[-1], created["etl_paused"].versions[-1]
    assert "TriggerMode" not in active and paused["TriggerMode"] == "DISABLED"
    for name, version in (("etl_active", active), ("etl_paused", paused), ("py_etl", created["py_etl"].versions[-1])):
        assert version["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/mwaa-serverless-{name}"
        assert version["NetworkConfiguration"] == {"SubnetIds": SUBNETS, "SecurityGroupIds": GROUPS}
        assert version["EncryptionConfiguration"] == {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": KMS}
        assert version["Environment"] == {"Variables": {"AIRFLOW__WORKERS__SECRETS_BACKEND": BACKEND,
                                                        "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS": KWARGS}}
        assert version["DefinitionS3Location"]["ObjectKey"] == f"{PREFIX}{name}.yaml"
        assert {"team": "data", "cost-center": "42"}.items() <= created[name].tags.items()
    assert "Code" not in active and "Code" not in paused
    # the code-needing DAG: its package is uploaded beside its definition and sent as Code.S3Location
    code = created["py_etl"].versions[-1]["Code"]["S3Location"]
    assert (code["Bucket"], code["ObjectKey"]) == (world.bucket, f"{PREFIX}py_etl.code.zip")
    stored = world.s3.get_object(Bucket=world.bucket, Key=code["ObjectKey"], VersionId=code["VersionId"])
    assert stored["Body"].read() == (world.root / "out" / "py_etl.code.zip").read_bytes()
    assert stored["ContentType"] == "application/zip"
    roles = world.roles()
    assert sorted(roles) == ["mwaa-serverless-etl_active", "mwaa-serverless-etl_paused", "mwaa-serverless-py_etl"]
    trust = roles["mwaa-serverless-etl_active"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "airflow-serverless.amazonaws.com"}
    assert any("s3:ListBucket" in s["Action"] for s in world.policy("mwaa-serverless-etl_active")["Statement"])
    # the role is the one convert --iam derived (beside the YAML), reading its definition and its package
    reads = [s for s in world.policy("mwaa-serverless-py_etl")["Statement"] if "s3:GetObject" in s["Action"]]
    objects = {r for s in reads for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert f"arn:aws:s3:::{world.bucket}/{PREFIX}py_etl.code.zip" in objects
    assert f"arn:aws:s3:::{world.bucket}/{PREFIX}py_etl.yaml" in objects
    role_file = json.loads((world.root / "out" / "py_etl.iam.json").read_text(encoding="utf-8"))
    assert role_file["permissions_policy"] == world.policy("mwaa-serverless-py_etl")
    assert world.source.rest_calls("PATCH") == []  # the source is left alone without --pause-source
    assert "role mwaa-serverless-etl_active: created" in result.stderr

    calls = len(world.serverless.calls)
    yaml_written = (world.root / "out" / "py_etl.yaml").stat().st_mtime_ns
    world.log.clear()
    again = world.migrate("--apply")
    assert again.returncode == 0, again.stderr
    assert world.serverless.mutating_calls() == ["CreateWorkflow"] * 3
    assert len(world.serverless.workflows) == 3 and len(world.serverless.calls) > calls
    assert world.log.count("PUT", "/") == 0  # nothing uploaded
    assert world.log.count("POST", "/") == 2 * 3  # IAM: GetRole and GetRolePolicy of each role, no write
    assert "role mwaa-serverless-py_etl: unchanged" in again.stderr
    assert "0 created, 0 updated, 3 unchanged, 0 failed" in again.stderr
    # nothing converted again: the manifest knows every object of the DAG folder
    assert "6 files unchanged since the last run" in again.stderr
    assert (world.root / "out" / "py_etl.yaml").stat().st_mtime_ns == yaml_written
    plan = world.plan()
    assert plan["counts"]["unchanged"] == 3
    migrated = {d["dag_id"]: d for d in plan["dags"] if d["status"] == "migrate"}
    assert {d["role"]["action"] for d in migrated.values()} == {"unchanged"}
    assert migrated["etl_active"]["notes"] == migrated["etl_paused"]["notes"] == []
    # what the Python calls is not derived: the plan says so, from the manifest on a rerun too
    assert [n[:5] for n in migrated["py_etl"]["notes"]] == ["DC512"]
    python = next(d for d in plan["dags"] if d["dag_id"] == "py_etl")
    assert python["code_package"]["requirements"] == ["networkx==3.4.2"]  # restored from the manifest

    forced = world.migrate("--apply", "--force")  # converts again: same bytes, so still nothing to deploy
    assert forced.returncode == 0, forced.stderr
    assert "0 files unchanged since the last run" in forced.stderr
    assert world.serverless.mutating_calls() == ["CreateWorkflow"] * 3


def test_without_code_packages_the_python_dag_is_blocked(world: World) -> None:
    result = world.migrate("--plan", "--no-code-package")
    assert result.returncode == 0, result.stderr
    python = next(d for d in world.plan()["dags"] if d["dag_id"] == "py_etl")
    # the PythonOperator is refused once, by DC301 (whose hint names --code-package); no DC312 repeats it
    assert python["status"] == "blocked" and python["reasons"][0] == "its Python code needs a code package"
    assert any(r.startswith("DC301") for r in python["reasons"]) and "--no-code-package" in python["next_step"]
    assert python["code_package"] is None and not (world.root / "out" / "py_etl.code.zip").exists()


def test_a_workflow_made_elsewhere_is_updated_and_its_key_reported(world: World) -> None:
    world.serverless.add("etl_active")  # by the console: the service's own key, no tags of ours
    result = world.migrate("--plan")
    assert result.returncode == 0, result.stderr
    active = next(d for d in world.plan()["dags"] if d["dag_id"] == "etl_active")
    assert (active["action"], active["reasons"]) == ("update", ["not deployed by dag-converter before"])
    assert any("encrypted with AWS_MANAGED_KEY" in note and "cannot change" in note for note in active["notes"])
    assert world.serverless.mutating_calls() == []


def test_pause_source_pauses_only_the_migrated_dags(world: World) -> None:
    assert world.migrate("--pause-source").returncode == 2  # only with --apply
    # without code packages py_etl is blocked: a DAG not migrated is never paused
    result = world.migrate("--apply", "--pause-source", "--no-code-package")
    assert result.returncode == 0, result.stderr
    patches = world.source.rest_calls("PATCH")
    assert [(p["Path"], p["Body"]) for p in patches] == [("/dags/etl_active", {"is_paused": True})]
    assert world.dag("etl_active")["is_paused"] is True
    assert world.dag("py_etl")["is_paused"] is False  # blocked: never touched
    assert f"paused etl_active in environment {ENV}" in result.stderr
    # the next migration reads the pause as ours: the workflow stays scheduled, nothing changes
    mutating = world.serverless.mutating_calls()
    again = world.migrate("--apply", "--pause-source", "--no-code-package")
    assert again.returncode == 0, again.stderr
    assert world.serverless.mutating_calls() == mutating
    assert len(world.source.rest_calls("PATCH")) == 1
    active = next(d for d in world.plan()["dags"] if d["dag_id"] == "etl_active")
    assert active["trigger_mode"] is None and active["action"] == "unchanged"


def test_an_unknown_environment_is_a_usage_error(world: World) -> None:
    result = run_cli("migrate", "--from-environment", "nope", "--output", "out", cwd=world.root, env=world.env)
    assert result.returncode == 2
    assert "cannot read environment 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_without_the_airflow_rest_api_nothing_is_planned(world: World) -> None:
    world.source.environments[ENV].deny_rest = True
    result = world.migrate("--apply")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "AccessDeniedException" in result.stderr and "InvokeRestApi" in result.stderr
    assert world.serverless.mutating_calls() == [] and world.roles() == {}


def test_a_secrets_setting_over_the_service_limit_blocks_the_apply(world: World) -> None:
    options = world.source.environments[ENV].environment["AirflowConfigurationOptions"]
    options["secrets.backend_kwargs"] = '{"connections_prefix": "' + "c" * 300 + '"}'
    result = world.migrate("--apply")
    assert result.returncode == 1
    assert "nothing deployed" in result.stderr
    assert "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS would be" in world.plan()["problems"][0]
    assert world.serverless.mutating_calls() == [] and world.roles() == {}


def test_build_deps_installs_the_environment_s_pin_into_the_package(world: World) -> None:
    import urllib.request

    try:
        with urllib.request.urlopen("https://pypi.org/simple/networkx/", timeout=15) as response:  # noqa: S310
            response.read(1)
    except OSError as exc:
        pytest.skip(f"PyPI is unreachable ({exc}): --build-deps needs the package index")
    refused = world.migrate("--plan", "--build-deps", "--no-code-package")
    assert refused.returncode != 0 and "does not go with --no-code-package" in refused.stderr
    result = world.migrate("--plan", "--build-deps")
    assert result.returncode == 0, result.stderr
    python = next(d for d in world.plan()["dags"] if d["dag_id"] == "py_etl")
    assert python["status"] == "migrate" and python["code_package"]["requirements"] == ["networkx==3.4.2"]
    names = zipfile.ZipFile(world.root / "out" / "py_etl.code.zip").namelist()
    assert {"helpers/text.py", "networkx/__init__.py", "networkx-3.4.2.dist-info/METADATA"} <= set(names)
    assert python["code_package"]["files"] == len(names)
