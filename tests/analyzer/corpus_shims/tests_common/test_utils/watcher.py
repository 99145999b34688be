"""Shim of the system tests' watcher task: fails the run when any task failed."""

from airflow.sdk import task
from airflow.utils.trigger_rule import TriggerRule


@task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
def watcher():
    raise RuntimeError("a task failed")
