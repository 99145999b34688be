from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator

with DAG("ecs_run_task", start_date=datetime(2025, 1, 1), schedule=None):
    EcsRunTaskOperator(
        task_id="batch_job",
        cluster="etl-cluster",
        task_definition="etl-task:3",
        launch_type="FARGATE",
        overrides={"containerOverrides": [], "taskRoleArn": "arn:aws:iam::123456789012:role/etl-task"},
        awslogs_group="/ecs/etl",
        awslogs_stream_prefix="ecs/etl-container",
    )
