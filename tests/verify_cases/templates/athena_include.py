"""Template files: sql/with_header.sql includes sql/header.sql, which the service's DAG folder lacks
when only the including file's text is in the YAML."""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator

with DAG(dag_id="athena_include", start_date=datetime(2024, 1, 1), schedule=None):
    AthenaOperator(
        task_id="report",
        query="sql/with_header.sql",
        database="analytics",
        output_location="s3://example-athena-results/",
    )
