"""The deploy tests' world: moto's S3 server (tests/s3/conftest.py) for the definitions, the fake
MWAA Serverless (fake_mwaa.py) for the workflows, and a converted output folder per test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3.conftest import ROOT, aws_env, bucket, request_log, s3, s3_endpoint  # noqa: F401 - fixtures

from deploy.fake_mwaa import FakeMwaaServerless

ROLE = "arn:aws:iam::123456789012:role/workflows/etl-exec"


def dag_file(dag_id: str, description: str = "Loads data", tags: tuple[str, ...] = ("team:data",)) -> str:
    return textwrap.dedent(f'''\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

        with DAG(
            "{dag_id}",
            start_date=datetime(2025, 1, 1),
            schedule=None,
            description="{description}",
            tags={list(tags)!r},
        ):
            S3ListOperator(task_id="list", bucket="data", prefix="{dag_id}/")
        ''')


DAG_LINE = 6  #: the line of `with DAG(` in dag_file


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "dag_converter", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=300)


class Project:
    """A user's project: dags/, the converted out/, and the CLI run inside it."""

    def __init__(self, root: Path, env: dict[str, str], definitions: str) -> None:
        self.root, self.env, self.definitions = root, env, definitions

    def write_dag(self, name: str, text: str) -> None:
        path = self.root / "dags" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def convert(self) -> subprocess.CompletedProcess[str]:
        return run_cli("convert", "dags", "--output", "out", cwd=self.root, env=self.env)

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("deploy", "out", "--definitions", self.definitions, "--role-arn", ROLE, *args,
                       cwd=self.root, env=self.env)


@pytest.fixture
def mwaa(s3_endpoint: str) -> Iterator[FakeMwaaServerless]:  # noqa: F811
    with FakeMwaaServerless(s3_endpoint) as server:
        yield server
    assert server.broken == []


@pytest.fixture
def project(tmp_path: Path, aws_env: dict[str, str], s3, bucket: str,  # noqa: F811
            mwaa: FakeMwaaServerless) -> Project:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = {**aws_env, "AWS_ENDPOINT_URL_MWAA_SERVERLESS": mwaa.url}
    root = tmp_path / "project"
    root.mkdir()
    result = Project(root, env, f"s3://{bucket}/workflows/")
    for dag_id in ("etl_a", "etl_b", "etl_c"):
        result.write_dag(f"{dag_id}.py", dag_file(dag_id, description=f"Loads {dag_id}"))
    converted = result.convert()
    assert converted.returncode == 0, converted.stderr
    return result


