"""A start date in Europe/Berlin: the cron runs at 06:00 Berlin time."""

import pendulum

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

with DAG(
    "berlin",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Berlin"),
    catchup=False,
):
    S3ListOperator(task_id="list", bucket="b")
