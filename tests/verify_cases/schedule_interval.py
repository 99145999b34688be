"""Airflow 2 only: DAG(schedule_interval=...) was removed in Airflow 3."""

from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("old_schedule", schedule_interval="@daily", start_date=datetime(2025, 1, 1)):
    EmptyOperator(task_id="start")
