"""Helpers for the robustness tests: the CLI run as a real subprocess, and seed DAG sources."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from dag_converter.pipeline import Options

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 1, 1)
OPTIONS = Options(today=TODAY)

S3_DAG = '''from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator, S3ListOperator
from airflow.providers.standard.operators.empty import EmptyOperator as Empty

BUCKET = "amzn-s3-demo-bucket"
default_args = {"retries": 2, "retry_delay": timedelta(minutes=2)}

with DAG(
    "s3_listing",
    schedule="0 6 * * *",
    start_date=datetime(2030, 1, 1),
    default_args=default_args,
    tags={"s3", "demo"},
) as dag:
    start = Empty(task_id="start")
    list_objects = S3ListOperator(task_id="list_objects", bucket=BUCKET, prefix=f"in/{BUCKET}/")
    write = S3CreateObjectOperator(
        task_id="write_listing",
        s3_bucket=BUCKET,
        s3_key="listing/{{ ds }}.txt",
        data=list_objects.output,
        replace=True,
    )
    start >> list_objects
    for i in range(2):
        t = S3CreateObjectOperator(task_id=f"obj_{i}", s3_bucket=BUCKET, s3_key=f"k{i}", data="x")
        write >> t
'''


def dag_source(dag_id: str, *, bucket: str = "amzn-s3-demo-bucket") -> str:
    """A small DAG that converts for mwaa-serverless."""
    return f'''from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG({dag_id!r}, schedule="0 6 * * *", start_date=datetime(2030, 1, 1)) as dag:
    S3ListOperator(task_id="list", bucket={bucket!r})
'''


def seed_sources() -> dict[str, str]:
    """DAG files to start fuzzing from: the repository's DAG fixtures and test cases, and S3_DAG."""
    seeds = {"s3_seed.py": S3_DAG}
    for folder in (ROOT / "fixtures" / "dags", ROOT / "tests" / "verify_cases"):
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
            seeds[f"{folder.name}/{path.name}"] = path.read_text(encoding="utf-8")
    return seeds


def run_cli(*args: str | os.PathLike[str], cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m dag_converter ARGS` in a fresh process (no colour), with this checkout importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "dag_converter", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
