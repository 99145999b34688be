"""The migrate tests' world: moto's server (S3 and IAM, tests/s3/conftest.py), the fake MWAA Serverless
(tests/deploy/fake_mwaa.py) and the fake MWAA environment with its Airflow (fake_mwaa_env.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from s3.conftest import aws_env, bucket, request_log, s3, s3_endpoint  # noqa: F401 - fixtures

from deploy.conftest import mwaa  # noqa: F401 - the fake MWAA Serverless
from migrate.fake_mwaa_env import FakeMwaa


@pytest.fixture
def mwaa_env() -> Iterator[FakeMwaa]:
    with FakeMwaa() as server:
        yield server
    assert server.broken == []


def s3_dag(dag_id: str, schedule: str = "@daily", prelude: str = "") -> str:
    return prelude + textwrap.dedent(f'''\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3ListOperator

        with DAG("{dag_id}", start_date=datetime(2025, 1, 1), schedule="{schedule}", catchup=False,
                 description="{dag_id} loads data"):
            S3ListOperator(task_id="list", bucket="data-{dag_id}", prefix="raw/")
        ''')


#: a helper module of the DAG folder, which py_etl's code package takes along
HELPER = "def shout(text):\n    return text.upper()\n"

PYTHON_DAG = textwrap.dedent('''\
    from datetime import datetime

    import networkx
    from airflow import DAG
    from airflow.providers.standard.operators.python import PythonOperator
    from helpers.text import shout


    def hello():
        print(shout(str(networkx.path_graph(3))))


    with DAG("py_etl", start_date=datetime(2025, 1, 1), schedule="@hourly", catchup=False):
        PythonOperator(task_id="hello", python_callable=hello)
    ''')
