from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerOperator

with DAG("glue_job_crawler", start_date=datetime(2025, 1, 1), schedule=None):
    crawl = GlueCrawlerOperator(task_id="crawl", config={"Name": "sales-crawler",
                                                         "Role": "arn:aws:iam::123456789012:role/glue-crawler"})
    job = GlueJobOperator(task_id="transform", job_name="sales-etl", script_location="s3://code/etl.py",
                          iam_role_arn="arn:aws:iam::123456789012:role/glue-etl")
    crawl >> job
