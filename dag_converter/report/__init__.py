"""Conversion reports: the run's results as JSON (machines), Markdown and HTML (people) and SARIF
(code-scanning tools)."""

from dag_converter.report._model import RunReport, build_report, diagnostic_dict, file_dict, package_from_dict
from dag_converter.report.json_report import render_json
from dag_converter.report.markdown import render_markdown

__all__ = ["REPORT_FILES", "RunReport", "build_report", "diagnostic_dict", "file_dict", "package_from_dict", "render_json", "render_markdown", "render_report"]

#: report format -> file name in the output folder
REPORT_FILES = {
    "json": "conversion-report.json",
    "md": "conversion-report.md",
    "html": "conversion-report.html",
    "sarif": "conversion-report.sarif",
}


def render_report(report: RunReport, report_format: str) -> str:
    """One report as text; html and sarif modules (and jinja2) load only when asked for."""
    if report_format == "json":
        return render_json(report)
    if report_format == "md":
        return render_markdown(report)
    if report_format == "html":
        from dag_converter.report.html import render_html

        return render_html(report)
    if report_format == "sarif":
        from dag_converter.report.sarif import render_sarif

        return render_sarif(report)
    raise ValueError(f"unknown report format {report_format!r}")
