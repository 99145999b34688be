"""Conversion reports: the run's results as JSON (machines) and Markdown (people)."""

from dag_converter.report._model import RunReport, build_report
from dag_converter.report.json_report import render_json
from dag_converter.report.markdown import render_markdown

__all__ = ["RunReport", "build_report", "render_json", "render_markdown"]
