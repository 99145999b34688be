"""S3 listing written back to S3; the listing reaches the writer through `.output`."""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator, S3ListOperator

with DAG(
    dag_id="s3_listing",
    schedule="17 3 * * *",
    start_date=datetime(2030, 1, 1),
    catchup=False,
    params={"bucket": "my-bucket"},
    tags=["s3"],
):
    list_objects = S3ListOperator(
        task_id="list_objects", bucket="{{ params.bucket }}", prefix="in/{{ ds_nodash }}/"
    )
    S3CreateObjectOperator(
        task_id="write_listing",
        s3_bucket="{{ params.bucket }}",
        s3_key="manifests/{{ ds }}.txt",
        data=list_objects.output,
        replace=True,
    )
