"""A timedelta schedule (rewritten to cron for MWAA Serverless), default_args start_date, a
helper imported from beside the DAG file, and task-level params."""

from datetime import datetime, timedelta

from bucket_names import RAW_BUCKET

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG(
    "hourly",
    schedule=timedelta(hours=1),
    default_args={"start_date": datetime(2030, 1, 1)},
    params={"env": "prod"},
):
    S3ListOperator(task_id="list", bucket=RAW_BUCKET, params={"limit": 10})
