"""A DAG folder whose DAG files each depend on one other kind of folder file, the edits made to
it, and a run that says which DAG files it converted (tests/batch/test_folder_file_changes.py and
tests/s3/test_s3_reads.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from dag_converter.batch import runner
from dag_converter.batch.runner import run_sources
from dag_converter.pipeline import Options
from dag_converter.storage import open_sink, open_sources

_HEAD = '''from datetime import datetime
import json
import os

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
'''

#: A DAG folder whose DAG files each depend on one other kind of folder file.
TREE: Mapping[str, str] = {
    "common/__init__.py": "",
    "common/settings.py": 'BUCKET = "bucket-one"\n',
    "team/tables.json": '{"name": "orders"}',
    "team/sql/q.sql": "select 1\n",
    "helper_dag.py": _HEAD + '''from common.settings import BUCKET

with DAG("helper_dag", start_date=datetime(2025, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="create", bucket_name=BUCKET)
''',
    "team/data_dag.py": _HEAD + '''TABLE = json.load(open(os.path.join(os.path.dirname(__file__), "tables.json")))["name"]

with DAG("data_dag", start_date=datetime(2025, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="create", bucket_name=f"table-{TABLE}")
''',
    "team/template_dag.py": _HEAD + '''with DAG("template_dag", start_date=datetime(2025, 1, 1), schedule=None):
    AthenaOperator(task_id="query", query="sql/q.sql", database="d", output_location="s3://o/")
''',
    "missing_dag.py": _HEAD + '''from overrides import BUCKET

with DAG("missing_dag", start_date=datetime(2025, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="create", bucket_name=BUCKET)
''',
    "plain_dag.py": _HEAD + '''with DAG("plain_dag", start_date=datetime(2025, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="create", bucket_name="plain")
''',
}

#: edit -> (files to write, the DAG files that must be converted again, text the YAML then holds)
EDITS: Mapping[str, tuple[Mapping[str, str], set[str], tuple[str, str]]] = {
    "helper module": ({"common/settings.py": 'BUCKET = "bucket-two"\n'}, {"helper_dag.py"},
                      ("helper_dag", "bucket-two")),
    "data file": ({"team/tables.json": '{"name": "invoices"}'}, {"team/data_dag.py"}, ("data_dag", "table-invoices")),
    "template file": ({"team/sql/q.sql": "select 2\n"}, {"team/template_dag.py"}, ("template_dag", "select 2")),
    "missing module appears": ({"overrides.py": 'BUCKET = "from-overrides"\n'}, {"missing_dag.py"},
                               ("missing_dag", "from-overrides")),
    "unrelated file": ({"team/notes.txt": "nothing reads this\n", "unused_helper.py": "X = 1\n"}, set(), ("", "")),
}


def write_tree(write: Callable[[str, str], None], tree: Mapping[str, str]) -> None:
    for name, text in tree.items():
        write(name, text)


def run(location: str, out: str, converted: list[str], **storage: str) -> set[str]:
    """One converting run; the DAG files it converted."""
    converted.clear()
    sources = open_sources([location], **storage)  # type: ignore[arg-type]
    assert not sources.problems
    outcome = run_sources(sources.sources, Options(), open_sink(out, **storage))  # type: ignore[arg-type]
    assert not outcome.problems
    return set(converted)


def spy_conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The DAG files the runner converts from now on (not restored from the manifest), by path below the folder."""
    seen: list[str] = []
    real = runner.convert_source

    def spy(data: bytes, display: str, relative: str, *args: object, **kwargs: object) -> object:
        seen.append(relative)
        return real(data, display, relative, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "convert_source", spy)
    return seen
