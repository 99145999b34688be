"""One root cause, one diagnostic, in every DAG it affects: what the analyzer refuses around a call
it cannot follow, and which calls cannot add tasks at all."""

from __future__ import annotations

from dag_converter.analyzer import analyze_module

HEAD = '''\
import random
import zipfile
from datetime import datetime
from airflow import DAG
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from company_lib import helper
'''


def _codes(body: str) -> list[tuple[str, str, int]]:
    analysis = analyze_module(HEAD + body, "d.py")
    return sorted((w.dag_id, d.code, d.span.line) for w in analysis.workflows for d in w.diagnostics
                  if d.severity.value == "error")


def test_inert_calls_with_data_add_nothing_to_refuse() -> None:
    body = '''
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    hook = S3Hook(aws_conn_id="x")
    random.seed(hook.conn_name_attr)
    archive = zipfile.ZipFile("a.zip", "w", zipfile.ZIP_DEFLATED)
    archive.writestr("f", "x")
    S3CreateBucketOperator(task_id="t", bucket_name="b")
'''
    assert _codes(body) == []


def test_an_inert_module_given_a_function_or_a_list_may_run_or_change_it() -> None:
    body = '''
def make(_):
    S3CreateBucketOperator(task_id="made", bucket_name="b")

with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    random.choice([make])(1)
    list(map(make, [1]))
    ids = ["a", "b"]
    random.shuffle(ids)
    for i, name in enumerate(ids):
        S3CreateBucketOperator(task_id=f"t{i}_{name}", bucket_name="b")
'''
    found = _codes(body)
    assert ("d", "DC204", 13) in found  # random.choice given a function
    assert ("d", "DC204", 16) in found  # random.shuffle changes the list the task ids come from


def test_a_refused_call_in_a_loop_refuses_every_dag_the_loop_builds() -> None:
    body = '''
for name in ["a", "b"]:
    with DAG(name, start_date=datetime(2024, 1, 1), schedule=None):
        S3CreateBucketOperator(task_id="t", bucket_name="b")
        helper()
'''
    assert _codes(body) == [("a", "DC204", 12), ("b", "DC204", 12)]


def test_a_value_with_no_effect_says_what_made_it() -> None:
    source = HEAD + '''import logging
with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="t", bucket_name=logging.getLogger(__name__).name)
'''
    (workflow,) = analyze_module(source, "d.py").workflows
    value = workflow.tasks[0].arguments[0].value
    assert value.reason == "a value made by logging.getLogger() is not known statically"  # type: ignore[union-attr]
