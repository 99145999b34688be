from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator

with DAG("lambda_invoke", start_date=datetime(2025, 1, 1), schedule=None):
    LambdaInvokeFunctionOperator(task_id="notify", function_name="notify-team", payload='{"ok": true}')
    LambdaInvokeFunctionOperator(task_id="score", function_name="{{ params.fn }}")
