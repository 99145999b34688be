"""start >> [a, b] >> end with EmptyOperator."""

import pendulum

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="fan", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")
    start >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")] >> end
