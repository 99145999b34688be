from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator

with DAG("step_functions", start_date=datetime(2025, 1, 1), schedule=None):
    StepFunctionStartExecutionOperator(
        task_id="start_pipeline",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
    )
