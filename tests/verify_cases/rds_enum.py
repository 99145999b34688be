from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.sensors.rds import RdsDbSensor
from airflow.providers.amazon.aws.utils.rds import RdsDbType

with DAG("rds_enum", schedule=None, start_date=datetime(2030, 1, 1)):
    RdsDbSensor(task_id="wait", db_identifier="prod", db_type=RdsDbType.CLUSTER)
