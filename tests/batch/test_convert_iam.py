"""`convert --iam`: each converted DAG's execution role written beside its YAML, recorded in the
manifest, compared by --check, and shown in the Markdown, JSON and HTML reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from dag_converter.batch.manifest import MANIFEST_NAME
from dag_converter.cli import main
from dag_converter.iam import derive_role

IAM_DAGS = Path(__file__).resolve().parents[1] / "iam" / "dags"
REFUSED = '''\
from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG("refused", start_date=datetime(2025, 1, 1), schedule=None, on_failure_callback=print):
    S3ListOperator(task_id="list", bucket="b")
'''


def _invoke(*args: str):  # noqa: ANN202
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _project(tmp_path: Path) -> Path:
    dags = tmp_path / "dags"
    shutil.copytree(IAM_DAGS, dags)
    (dags / "refused.py").write_text(REFUSED, encoding="utf-8")
    return dags


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_convert_iam_writes_each_role_beside_its_yaml(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    result = _invoke("convert", "dags", "-o", "out", "--iam", "--account", "123456789012", "--region",
                     "eu-west-1", "--report-format", "json,md,html")
    assert result.exit_code == 1, result.output  # the refused DAG
    out = tmp_path / "out"
    roles = sorted(p.name for p in out.glob("*.iam.json"))
    assert roles == ["athena_query.iam.json", "ecs_run_task.iam.json", "glue_job_crawler.iam.json",
                     "lambda_invoke.iam.json", "s3_list_write.iam.json", "step_functions.iam.json"]
    assert not (out / "refused.iam.json").exists()
    document = json.loads((out / "glue_job_crawler.iam.json").read_text(encoding="utf-8"))
    assert document["dag_id"] == "glue_job_crawler"
    assert document["trust_policy"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"}}
    resources = [r for s in document["permissions_policy"]["Statement"]
                 for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]
    assert any(r.startswith("arn:aws:glue:eu-west-1:123456789012:job/") for r in resources)
    # The warnings of the derivation are the DAG's own diagnostics, at their source lines.
    assert "dags/lambda_invoke.py:8:5: DC510 [warning] execution role: task 'score'" in result.output
    assert "dags/ecs_run_task.py:7:5: DC513 [warning]" in result.output
    # The manifest knows the role files, with the digest of their text.
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    outputs = manifest["sources"]["dags/glue_job_crawler.py"]["outputs"]
    assert sorted(outputs) == ["glue_job_crawler.iam.json", "glue_job_crawler.yaml"]
    # Markdown: each DAG's actions by task.
    markdown = (out / "conversion-report.md").read_text(encoding="utf-8")
    assert "## Execution roles" in markdown and "### `glue_job_crawler`" in markdown
    assert "`glue:StartJobRun`" in markdown
    # JSON: a new optional key under each converted DAG; schema 1 unchanged otherwise.
    report = json.loads((out / "conversion-report.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 1
    dags = {d["dag_id"]: d for f in report["files"] for d in f["dags"]}
    role = dags["glue_job_crawler"]["execution_role"]
    assert role["file"] == "glue_job_crawler.iam.json"
    assert any("glue:StartJobRun" in t["actions"] for t in role["tasks"])
    assert "execution_role" not in dags["refused"]
    assert any(d["code"] == "DC510" for d in dags["lambda_invoke"]["diagnostics"])
    # HTML: the same actions, in each DAG's section.
    html = (out / "conversion-report.html").read_text(encoding="utf-8")
    assert "<h3>Execution role</h3>" in html and "<code>glue:StartJobRun</code>" in html


def test_the_role_file_is_what_derive_role_gives(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from dag_converter.batch import convert_paths, make_options
    from dag_converter.config import RunConfig
    from dag_converter.iam.arns import Place
    from dag_converter.registry import get_registry

    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    assert _invoke("convert", "dags/s3_list_write.py", "-o", "out", "--iam").exit_code == 0
    results, _ = convert_paths(["dags/s3_list_write.py"], make_options(RunConfig(paths=("dags",))))
    text, _ = derive_role(results[0].dags[0].workflow, get_registry(), place=Place())
    assert (tmp_path / "out" / "s3_list_write.iam.json").read_text(encoding="utf-8") == text


def test_rerun_is_byte_identical_and_check_sees_stale_or_missing_roles(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    args = ("convert", "dags", "-o", "out", "--iam", "--report-format", "json,md,html")
    _invoke(*args)
    first = _files(tmp_path / "out")
    again = _invoke(*args)
    assert "7 sources unchanged since the last run; 0 YAML files written" in again.output
    assert _files(tmp_path / "out") == first  # the report too: roles read back from the role files
    forced = _invoke(*args, "--force")
    assert _files(tmp_path / "out") == first, forced.output

    assert _invoke("convert", "dags", "-o", "out", "--iam", "--check").exit_code == 1  # only the refused DAG
    check = _invoke("convert", "dags", "-o", "out", "--iam", "--check")
    assert "DC114" not in check.output and "DC115" not in check.output
    (tmp_path / "out" / "s3_list_write.iam.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "out" / "athena_query.iam.json").unlink()
    check = _invoke("convert", "dags", "-o", "out", "--iam", "--check")
    assert "DC114 [error] out/s3_list_write.iam.json is out of date with DAG s3_list_write" in check.output
    assert "DC115" in check.output and "athena_query.iam.json" in check.output
    # Without --iam the role files are none of the check's business.
    plain = _invoke("convert", "dags", "-o", "out", "--check")
    assert "iam.json" not in plain.output

    # A deleted role file makes its source be converted again; the rewrite restores the bytes.
    _invoke(*args)
    assert (tmp_path / "out" / "athena_query.iam.json").read_bytes() == first["athena_query.iam.json"]


def test_iam_true_in_the_config_and_options_need_it(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    _project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\noutput = "out"\niam = true\n', encoding="utf-8")
    _invoke("convert", "dags", "--region", "eu-west-1")
    document = json.loads((tmp_path / "out" / "step_functions.iam.json").read_text(encoding="utf-8"))
    assert "arn:aws:logs:eu-west-1:*:log-group:/aws/mwaa-serverless/step_functions*" in json.dumps(document["permissions_policy"])

    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\niam = "yes"\n', encoding="utf-8")
    bad = _invoke("convert", "dags", "-o", "other")
    assert bad.exit_code == 2 and "iam must be true or false" in bad.output
    (tmp_path / "pyproject.toml").unlink()
    lonely = _invoke("convert", "dags", "-o", "other", "--account", "123456789012")
    assert lonely.exit_code == 2 and "go with --iam" in lonely.output


PYTHON_DAG = '''\
from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator


def hello():
    print("hello")


with DAG("py_hello", start_date=datetime(2025, 1, 1), schedule=None):
    PythonOperator(task_id="hello", python_callable=hello)
'''


def test_with_a_code_package_the_role_reads_it_beside_the_yaml(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The service reads the package (Code.S3Location) with the workflow's role, as it reads the YAML."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "py_hello.py").write_text(PYTHON_DAG, encoding="utf-8")
    result = _invoke("convert", "dags", "-o", "out", "--iam", "--code-package", "--account", "123456789012",
                     "--definition-bucket", "defs")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "py_hello.code.zip").is_file()
    document = json.loads((tmp_path / "out" / "py_hello.iam.json").read_text(encoding="utf-8"))
    [service] = [s for s in document["permissions_policy"]["Statement"] if s["Sid"] == "ServiceDefinitionAndCode"]
    assert service["Resource"] == ["arn:aws:s3:::defs/py_hello.code.zip", "arn:aws:s3:::defs/py_hello.yaml"]
