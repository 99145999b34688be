"""A real S3 API for the tests: moto in server mode on 127.0.0.1, started once per session.

Nothing in boto3 is stubbed: the converter talks HTTP to the server exactly as it would to AWS.
"""

from __future__ import annotations

import logging
import re
import socket
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RequestLog(logging.Handler):
    """The moto server's own access log (werkzeug's, one line per HTTP request): the server-side
    record of what the converter asked for."""

    _LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.requests: list[tuple[str, str, int]] = []
        self._entries_lock = threading.Lock()
        self.on_request: list = []  # callables(method, path, status), for tests that react to traffic

    def emit(self, record: logging.LogRecord) -> None:
        match = self._LINE.search(record.getMessage())
        if match:
            entry = (match["method"], match["path"].split("?")[0], int(match["status"]))
            with self._entries_lock:
                self.requests.append(entry)
                callbacks = list(self.on_request)
            for callback in callbacks:
                callback(*entry)

    def clear(self) -> None:
        with self._entries_lock:
            self.requests.clear()

    def count(self, method: str, prefix: str, status: int | None = None) -> int:
        with self._entries_lock:
            return sum(1 for m, p, s in self.requests
                       if m == method and p.startswith(prefix) and (status is None or s == status))


_LOG = RequestLog()


@pytest.fixture
def request_log() -> Iterator[RequestLog]:
    _LOG.clear()
    yield _LOG
    _LOG.on_request.clear()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.INFO)
    werkzeug.addHandler(_LOG)  # also keeps werkzeug from printing every request
    werkzeug.propagate = False
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials and endpoint as a user sets them; no shared config file is read."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM",
                 "AWS_ENDPOINT_URL_MWAA", "AWS_ENDPOINT_URL_MWAA_SERVERLESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3(aws_env: dict[str, str]):  # noqa: ANN201 - a boto3 client has no importable type
    return boto3.client("s3", region_name=REGION, endpoint_url=aws_env["AWS_ENDPOINT_URL"])


_counter = iter(range(10**9))


@pytest.fixture
def bucket(s3) -> str:  # noqa: ANN001
    """A fresh, empty bucket per test (the server lives for the session)."""
    name = f"test-bucket-{next(_counter)}"
    s3.create_bucket(Bucket=name)
    return name


def dag_source(n: int) -> str:
    """A small valid MWAA Serverless DAG with its own id."""
    return textwrap.dedent(f'''\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator, S3ListOperator

        with DAG("etl_{n:03d}", start_date=datetime(2025, 1, 1), schedule=None, catchup=False) as dag:
            make = S3CreateBucketOperator(task_id="make", bucket_name="data-{n:03d}")
            listing = S3ListOperator(task_id="list", bucket="data-{n:03d}", prefix="raw/{n}/")
            make >> listing
        ''')


def fixture_sources() -> list[tuple[str, bytes]]:
    """Every Python file of the repository's fixtures/dags tree (DAGs and their helper modules),
    as (path relative to it, bytes); empty when the repository has none."""
    folder = ROOT / "fixtures" / "dags"
    return [(f.relative_to(folder).as_posix(), f.read_bytes()) for f in sorted(folder.rglob("*.py"))
            if "__pycache__" not in f.parts]
