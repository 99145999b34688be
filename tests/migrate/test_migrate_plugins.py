"""`migrate` with an environment whose plugins.zip holds the modules a DAG imports: the archive is read
at the environment's recorded object version (convert --plugins), and the plan's code package ships them."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from codepackage._support import PLUGIN_HELPERS as HELPERS, PLUGIN_OPERATORS as OPERATORS, zip_bytes as zipped
from deploy.conftest import run_cli
from deploy.fake_mwaa import FakeMwaaServerless
from migrate.fake_mwaa_env import FakeEnvironment, FakeMwaa, dag_response

ENV = "plugins-env"
ACCOUNT = "123456789012"
DAG = textwrap.dedent('''\
    from datetime import datetime

    from airflow import DAG
    from airflow.providers.standard.operators.python import PythonOperator

    from my_company.helpers import transform
    from my_company.operators import GreetOperator

    with DAG("plugged", start_date=datetime(2030, 1, 1), schedule="@daily", catchup=False):
        PythonOperator(task_id="transform", python_callable=transform) >> GreetOperator(task_id="greet", name="x")
    ''')


@pytest.fixture
def project(tmp_path: Path, aws_env: dict[str, str], s3: Any, bucket: str, s3_endpoint: str,
            mwaa: FakeMwaaServerless, mwaa_env: FakeMwaa) -> tuple[Path, dict[str, str]]:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="dags/plugged.py", Body=DAG.encode())
    recorded = s3.put_object(Bucket=bucket, Key="plugins.zip", Body=zipped(
        {"my_company/__init__.py": "", "my_company/helpers.py": HELPERS, "my_company/operators.py": OPERATORS}))
    # uploaded after the environment's update: not what its Airflow runs, so not what migrate reads
    s3.put_object(Bucket=bucket, Key="plugins.zip", Body=b"not a zip")
    environment = {
        "Name": ENV, "Status": "AVAILABLE", "Arn": f"arn:aws:airflow:us-east-1:{ACCOUNT}:environment/{ENV}",
        "AirflowVersion": "2.10.3", "SourceBucketArn": f"arn:aws:s3:::{bucket}", "DagS3Path": "dags",
        "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/service-role/mwaa-prod",
        "PluginsS3Path": "plugins.zip", "PluginsS3ObjectVersion": recorded["VersionId"],
    }
    mwaa_env.add(FakeEnvironment(environment, {"plugged": dag_response("plugged", "/usr/local/airflow/dags/plugged.py")}))
    env = {**aws_env, "AWS_ENDPOINT_URL_MWAA": mwaa_env.url, "AWS_ENDPOINT_URL_MWAA_SERVERLESS": mwaa.url,
           "AWS_ENDPOINT_URL_S3": s3_endpoint, "AWS_ENDPOINT_URL_IAM": s3_endpoint}
    root = tmp_path / "project"
    root.mkdir()
    return root, env


def test_the_plan_ships_the_modules_of_the_environments_plugins(project: tuple[Path, dict[str, str]],
                                                               bucket: str) -> None:
    root, env = project
    result = run_cli("migrate", "--from-environment", ENV, "--output", "out", "--plan", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    plan = json.loads((root / "out" / "migration-plan.json").read_text(encoding="utf-8"))
    assert plan["plugins"]["path"] == f"s3://{bucket}/plugins.zip"
    dag = next(d for d in plan["dags"] if d["dag_id"] == "plugged")
    assert dag["status"] == "migrate", dag
    assert dag["code_package"]["files"] == 3
    with zipfile.ZipFile(root / "out" / "plugged.code.zip") as archive:
        assert sorted(archive.namelist()) == ["my_company/__init__.py", "my_company/helpers.py",
                                              "my_company/operators.py"]
        assert archive.read("my_company/helpers.py").decode() == HELPERS
    report = json.loads((root / "out" / "conversion-report.json").read_text(encoding="utf-8"))
    reasons = [f["reason"] for f in report["files"][0]["dags"][0]["code_package"]["files"]]
    assert all(r.endswith(f"(from the plugins archive s3://{bucket}/plugins.zip)") for r in reasons), reasons
    manifest = json.loads((root / "out" / "conversion-manifest.json").read_text(encoding="utf-8"))
    reads = next(iter(manifest["sources"].values()))["reads"]
    assert reads["my_company/helpers.py"].startswith("plugins:sha256:")
    again = run_cli("migrate", "--from-environment", ENV, "--output", "out", "--plan", cwd=root, env=env)
    assert again.returncode == 0, again.stderr
    assert "1 files unchanged since the last run" in again.stdout + again.stderr  # the archive's members unchanged


def test_convert_reads_the_latest_archive_from_s3_and_refuses_it_in_one_line(
        project: tuple[Path, dict[str, str]], bucket: str) -> None:
    root, env = project  # the latest plugins.zip object is not a zip
    result = run_cli("convert", f"s3://{bucket}/dags/", "--code-package", "--plugins", f"s3://{bucket}/plugins.zip",
                     "-o", "out", cwd=root, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: plugins archive s3://{bucket}/plugins.zip: not a readable zip archive "
                                     "(File is not a zip file); nothing was converted")
    missing = run_cli("convert", f"s3://{bucket}/dags/", "--code-package", "--plugins", f"s3://{bucket}/nothing.zip",
                      "-o", "out", cwd=root, env=env)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert missing.stderr.startswith(f"error: plugins archive s3://{bucket}/nothing.zip: cannot read")
    assert "Traceback" not in missing.stderr and not (root / "out").exists()
