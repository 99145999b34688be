"""Shim: compat re-exports used by a few example DAGs."""

from airflow.providers.standard.operators.empty import EmptyOperator

__all__ = ["EmptyOperator"]
