"""deploy with code packages: `<dag_id>.code.zip` uploaded beside the YAML and sent as `Code`."""

from __future__ import annotations

import hashlib
import textwrap

from deploy.conftest import Project, run_cli
from deploy.fake_mwaa import FakeMwaaServerless

PYTHON_DAG = textwrap.dedent('''\
    from datetime import datetime

    from airflow import DAG
    from airflow.providers.standard.operators.python import PythonOperator

    from helpers import shout

    with DAG("py_etl", start_date=datetime(2025, 1, 1), schedule=None):
        PythonOperator(task_id="shout", python_callable=shout, op_args=["hi"])
    ''')


def _convert(project: Project) -> None:
    done = run_cli("convert", "dags", "--output", "out", "--code-package", cwd=project.root, env=project.env)
    assert done.returncode == 0, done.stderr


def _puts(log, suffix: str) -> int:  # noqa: ANN001
    return sum(1 for method, path, _ in log.requests if method == "PUT" and path.endswith(suffix))


def test_code_package_is_uploaded_sent_as_code_and_a_changed_package_makes_one_update(
        project: Project, mwaa: FakeMwaaServerless, request_log, bucket: str) -> None:  # noqa: ANN001
    project.write_dag("py_etl.py", PYTHON_DAG)
    project.write_dag("helpers.py", "def shout(text):\n    return text.upper()\n")
    _convert(project)
    zip_path = project.root / "out" / "py_etl.code.zip"
    assert zip_path.is_file()
    first = project.deploy()
    assert first.returncode == 0, first.stderr
    created = mwaa.by_name("py_etl").versions[0]
    code = created["Code"]["S3Location"]
    assert code["Bucket"] == bucket and code["ObjectKey"] == "workflows/py_etl.code.zip" and code["VersionId"]
    assert created["CodeSha256"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert "Code" not in mwaa.by_name("etl_a").versions[0]  # a DAG without a package sends none

    mwaa.calls.clear()
    request_log.clear()
    again = project.deploy()
    assert again.returncode == 0, again.stderr
    assert mwaa.mutating_calls() == [] and _puts(request_log, ".zip") == 0

    # Only the helper changes: the YAML is the same bytes, the package is not.
    yaml_before = (project.root / "out" / "py_etl.yaml").read_bytes()
    project.write_dag("helpers.py", "def shout(text):\n    return text.upper() + '!'\n")
    _convert(project)
    assert (project.root / "out" / "py_etl.yaml").read_bytes() == yaml_before
    mwaa.calls.clear()
    request_log.clear()
    changed = project.deploy()
    assert changed.returncode == 0, changed.stderr
    assert mwaa.count("UpdateWorkflow") == 1 and mwaa.count("CreateWorkflow") == 0
    assert _puts(request_log, ".zip") == 1 and _puts(request_log, ".yaml") == 0
    updated = mwaa.by_name("py_etl").versions[-1]
    assert updated["CodeSha256"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert updated["Code"]["S3Location"]["VersionId"] != code["VersionId"]
    assert "definition changed" in changed.stderr


def test_output_in_s3_keeps_the_package_where_convert_wrote_it(project: Project, mwaa: FakeMwaaServerless,
                                                               bucket: str, s3) -> None:  # noqa: ANN001
    project.write_dag("py_etl.py", PYTHON_DAG)
    project.write_dag("helpers.py", "def shout(text):\n    return text.upper()\n")
    out = f"s3://{bucket}/converted/"
    done = run_cli("convert", "dags", "--output", out, "--code-package", cwd=project.root, env=project.env)
    assert done.returncode == 0, done.stderr
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="converted/")["Contents"]}
    assert "converted/py_etl.code.zip" in listed
    deployed = run_cli("deploy", out, "--role-arn", "arn:aws:iam::123456789012:role/x", cwd=project.root,
                       env=project.env)
    assert deployed.returncode == 0, deployed.stderr
    code = mwaa.by_name("py_etl").versions[0]["Code"]["S3Location"]
    assert code["ObjectKey"] == "converted/py_etl.code.zip"
