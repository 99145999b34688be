"""A task group, flattened in YAML to Airflow's own `group.task` ids."""

from datetime import datetime

from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup

with DAG("groups", schedule=None, start_date=datetime(2025, 1, 1)):
    start = EmptyOperator(task_id="start")
    with TaskGroup("extract", default_args={"retries": 1}) as extract:
        raw = S3ListOperator(task_id="raw", bucket="raw-bucket")
        clean = S3ListOperator(task_id="clean", bucket="clean-bucket")
        raw >> clean
    end = EmptyOperator(task_id="end")
    start >> extract >> end
