"""--var/--env and [tool.dag-converter] vars/env: frozen run-time values, their warnings and the
report's inventory of run-time reads (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dag_converter.cli import main

DAG = '''\
import os
from datetime import datetime
from airflow import DAG
from airflow.models import Variable
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator

BUCKET = Variable.get("bucket") + "-" + os.environ["STAGE"]
with DAG("frozen", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=BUCKET)
'''


def _run(tmp_path: Path, *flags: str) -> tuple[int, str, dict]:
    (tmp_path / "dags").mkdir(exist_ok=True)
    (tmp_path / "dags" / "frozen.py").write_text(DAG, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "dags"), "-o", str(out), "--force",
                                       "--config", str(tmp_path / "pyproject.toml"), *flags])
    report = json.loads((out / "conversion-report.json").read_text()) if (out / "conversion-report.json").exists() \
        else {}
    return result.exit_code, result.output, report


def test_flags_freeze_values_and_the_report_lists_reads(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\n[tool.dag-converter.env]\nSTAGE = "dev"\n')
    code, output, report = _run(tmp_path, "--var", "bucket=data", "--env", "STAGE=prod")
    assert code == 0, output
    assert "bucket_name: data-prod" in (tmp_path / "out" / "frozen.yaml").read_text()
    assert output.count("DC205") == 2 and "'prod'" in output
    (dag,) = report["files"][0]["dags"]
    assert [(r["kind"], r["name"], r["line"]) for r in dag["reads"]] == [("variable", "bucket", 7),
                                                                        ("environment", "STAGE", 7)]
    assert "## Run-time reads" in (tmp_path / "out" / "conversion-report.md").read_text()


def test_the_config_table_supplies_values(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter.vars]\nbucket = "cfg"\n'
                                             '[tool.dag-converter.env]\nSTAGE = "dev"\n')
    code, output, _ = _run(tmp_path)
    assert code == 0, output
    assert "bucket_name: cfg-dev" in (tmp_path / "out" / "frozen.yaml").read_text()


def test_without_values_the_dag_is_refused_and_a_bad_flag_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\noutput = "out"\n')
    code, output, report = _run(tmp_path)
    assert code == 1 and "DC202" in output
    assert report["files"][0]["dags"][0]["reads"]
    code, output, _ = _run(tmp_path, "--var", "no-equals-sign")
    assert code == 2 and "NAME=VALUE" in output
