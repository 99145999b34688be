"""Template files: `query` names sql/report.sql, which Airflow renders from this folder; the SQL reads
the run's date, a param, an upstream XCom and a Variable."""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator

with DAG(dag_id="athena_report", start_date=datetime(2024, 1, 1), schedule="@daily", params={"table": "events"}):
    AthenaOperator(
        task_id="report",
        query="sql/report.sql",
        database="analytics",
        output_location="s3://example-athena-results/",
    )
