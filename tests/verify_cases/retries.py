"""default_args retries and retry_delay, overridden by one task."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.providers.amazon.aws.operators.athena import AthenaOperator

default_args = {"retries": 2, "retry_delay": timedelta(minutes=2), "owner": "data-eng"}

with DAG(
    "retries",
    default_args=default_args,
    schedule="@daily",
    start_date=datetime(2030, 1, 1),
    catchup=False,
):
    query = AthenaOperator(
        task_id="query",
        query="SELECT 1",
        database="analytics",
        output_location="s3://results/",
        retries=0,
        execution_timeout=timedelta(minutes=30),
    )
    done = EmptyOperator(task_id="done", trigger_rule="all_done")
    query >> done
