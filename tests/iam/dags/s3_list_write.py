from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator, S3ListOperator

with DAG("s3_list_write", start_date=datetime(2025, 1, 1), schedule=None):
    listing = S3ListOperator(task_id="list_raw", bucket="raw-bucket", prefix="in/")
    write = S3CreateObjectOperator(task_id="write_out", s3_bucket="out-bucket", s3_key="out/{{ ds }}/x.json",
                                   data="x")
    listing >> write
