"""The same DAG as s3_output.py, with the XCom pull written as a literal template."""

import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator, S3ListOperator

with DAG(
    "s3_listing",
    schedule="17 3 * * *",
    start_date=datetime.datetime(2030, 1, 1),
    catchup=False,
    params={"bucket": "my-bucket"},
    tags=["s3"],
) as dag:
    list_objects = S3ListOperator(
        task_id="list_objects", bucket="{{ params.bucket }}", prefix="in/{{ ds_nodash }}/"
    )
    write_listing = S3CreateObjectOperator(
        task_id="write_listing",
        s3_bucket="{{ params.bucket }}",
        s3_key="manifests/{{ ds }}.txt",
        data="{{ ti.xcom_pull(task_ids='list_objects') }}",
        replace=True,
    )
    list_objects >> write_listing
