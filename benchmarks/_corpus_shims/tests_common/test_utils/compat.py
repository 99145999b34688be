"""Shim of tests_common.test_utils.compat."""
from airflow.providers.standard.operators.empty import EmptyOperator  # noqa: F401
