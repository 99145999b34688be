"""Airflow 2 only: airflow.operators.dummy_operator is gone in Airflow 3."""

from datetime import datetime

from airflow import DAG
from airflow.operators.dummy_operator import DummyOperator

with DAG("airflow2", schedule=None, start_date=datetime(2025, 1, 1)):
    DummyOperator(task_id="start")
