"""Small workflows for the target tests: analysed from a few lines of source, or built by hand."""

from __future__ import annotations

import datetime as dt
import textwrap

from dag_converter.analyzer import analyze_module
from dag_converter.model import Diagnostic, Workflow
from dag_converter.targets import Target, check_workflow

TODAY = dt.date(2026, 11, 24)
PATH = "dags/example.py"
HEADER = """\
import datetime
from airflow.sdk import DAG, TaskGroup, task
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator
"""


def analyze(body: str, *, header: str = HEADER) -> Workflow:
    """The one workflow of a DAG file made of `header` and `body` (dedented)."""
    source = header + textwrap.dedent(body)
    analysis = analyze_module(source, PATH, today=TODAY)
    assert len(analysis.workflows) == 1, analysis
    return analysis.workflows[0]


def convert(workflow: Workflow, target: Target) -> tuple[Workflow, list[Diagnostic]]:
    return check_workflow(workflow, target, today=TODAY, relative="example.py")


def found(diagnostics: list[Diagnostic]) -> set[tuple[str, int]]:
    """(code, line) of every finding."""
    return {(d.code, d.span.line) for d in diagnostics}


def line_of(text: str, body: str, *, header: str = HEADER) -> int:
    """The 1-based line of the first line of `body` (dedented) containing `text`, in the whole file."""
    lines = (header + textwrap.dedent(body)).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)
