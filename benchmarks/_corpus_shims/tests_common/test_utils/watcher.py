"""Shim of tests_common.test_utils.watcher."""
from airflow.sdk import task
from airflow.utils.trigger_rule import TriggerRule


@task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
def watcher():
    raise RuntimeError("a task failed")
