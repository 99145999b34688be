"""The libcst front end: Python DAG source -> model.Workflow list, without importing the file."""

from dag_converter.analyzer.dags import analyze_module

__all__ = ["analyze_module"]
