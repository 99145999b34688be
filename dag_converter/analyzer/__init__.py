"""The libcst front end: Python DAG source -> model.Workflow list, without importing the file."""

from dag_converter.analyzer._screen import nesting_problem
from dag_converter.analyzer.dags import analyze_module

__all__ = ["analyze_module", "nesting_problem"]
