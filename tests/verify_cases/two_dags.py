"""Two DAGs in one file; only fan has a YAML in some tests."""

from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("fan", schedule=None, start_date=datetime(2025, 1, 1)):
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")
    start >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")] >> end

with DAG("other", schedule=None, start_date=datetime(2025, 1, 1)):
    EmptyOperator(task_id="only")
