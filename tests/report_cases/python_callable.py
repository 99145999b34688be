"""A DAG MWAA Serverless refuses: a PythonOperator and a BashOperator, each reported with its line."""

import pendulum

from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def transform() -> None:
    print("<not> & 'escaped'")


with DAG(dag_id="python_callable", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):
    listing = S3ListOperator(task_id="list_raw", bucket="raw-bucket", prefix="in/<date>/")
    step = PythonOperator(task_id="transform", python_callable=transform)
    shell = BashOperator(task_id="notify", bash_command="echo '<b>done</b>' && exit 0")
    listing >> step >> shell
