"""Conversion reports: the run's results as JSON (machines), Markdown and HTML (people) and SARIF
(code-scanning tools)."""

from typing import Any

from dag_converter.report._model import RunReport, build_report, diagnostic_dict, file_dict, package_from_dict

__all__ = ["REPORT_FILES", "RunReport", "build_report", "diagnostic_dict", "file_dict", "package_from_dict", "render_json", "render_markdown", "render_report"]

#: report format -> file name in the output folder
REPORT_FILES = {
    "json": "conversion-report.json",
    "md": "conversion-report.md",
    "html": "conversion-report.html",
    "sarif": "conversion-report.sarif",
}


def __getattr__(name: str) -> Any:
    # The renderers load when used: a run with --report-format none (the pre-commit hook) never does.
    if name == "render_json":
        from dag_converter.report.json_report import render_json

        return render_json
    if name == "render_markdown":
        from dag_converter.report.markdown import render_markdown

        return render_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_report(report: RunReport, report_format: str) -> str:
    """One report as text; each renderer (and jinja2 for html) loads only when asked for."""
    if report_format == "json":
        from dag_converter.report.json_report import render_json

        return render_json(report)
    if report_format == "md":
        from dag_converter.report.markdown import render_markdown

        return render_markdown(report)
    if report_format == "html":
        from dag_converter.report.html import render_html

        return render_html(report)
    if report_format == "sarif":
        from dag_converter.report.sarif import render_sarif

        return render_sarif(report)
    raise ValueError(f"unknown report format {report_format!r}")
