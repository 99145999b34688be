from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator

with DAG("athena_query", start_date=datetime(2025, 1, 1), schedule=None):
    AthenaOperator(task_id="daily_count", query="SELECT count(*) FROM sales", database="analytics",
                   output_location="s3://athena-results/daily/", workgroup="reports")
