"""Diagnostics as machine output on stdout (`--output-format`), ruff's formats for our codes:

- concise: `path:line:col: CODE [severity] message`, one line each;
- full: the same with the hint on an indented line below (what stderr shows by default);
- json: one object per diagnostic in a JSON array, as report/schemas/diagnostics.schema.json says;
- github: GitHub Actions workflow commands (`::error file=...,line=...,col=...,title=DC301::message`),
  which the Actions runner turns into annotations on the pull request;
- sarif: SARIF 2.1.0, the conversion report's SARIF with the run's findings.

Human summaries stay on stderr (cli.py); nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Final

from dag_converter.model import Diagnostic, Severity
from dag_converter.report._model import RunReport
from dag_converter.report.concise import format_diagnostic, headline

OUTPUT_FORMATS: Final = ("concise", "full", "json", "github", "sarif")
DOCS_URL: Final = "docs/diagnostics.md#{anchor}"  #: where a code is documented, relative to the project
_GITHUB_LEVELS: Final = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def json_schema() -> dict[str, object]:
    """The JSON Schema of `--output-format json`, shipped in the package."""
    text = resources.files("dag_converter.report").joinpath("schemas/diagnostics.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped (the runner's own escaping rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(diagnostic: Diagnostic) -> str:
    properties = [f"file={escape_property(diagnostic.span.path)}"]
    if diagnostic.span.line:
        properties += [f"line={diagnostic.span.line}", f"col={diagnostic.span.column}"]
    properties.append(f"title={escape_property(diagnostic.code)}")
    message = diagnostic.message if not diagnostic.hint else f"{diagnostic.message}\nhint: {diagnostic.hint}"
    return f"::{_GITHUB_LEVELS[diagnostic.severity]} {','.join(properties)}::{escape_data(message)}"


def diagnostic_object(diagnostic: Diagnostic) -> dict[str, object]:
    from dag_converter.codes import REGISTRY

    code = REGISTRY.get(diagnostic.code)
    name = code.name if code is not None else "unknown"
    return {
        "code": diagnostic.code,
        "name": name,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
        "filename": diagnostic.span.path,
        "location": {"row": diagnostic.span.line, "column": diagnostic.span.column},
        "url": DOCS_URL.format(anchor=f"{diagnostic.code.lower()}-{name}-{diagnostic.severity.value}"),
    }


def render_output(output_format: str, diagnostics: Sequence[Diagnostic], report: RunReport) -> str:
    """The text for stdout: `diagnostics` (already selected, in any order) in `output_format`;
    `report` is the run's report for SARIF."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    if output_format == "concise":
        return "".join(headline(d) + "\n" for d in ordered)
    if output_format == "full":
        return "".join(format_diagnostic(d) + "\n" for d in ordered)
    if output_format == "json":
        return json.dumps([diagnostic_object(d) for d in ordered], indent=2, ensure_ascii=False) + "\n"
    if output_format == "github":
        return "".join(github_annotation(d) + "\n" for d in ordered)
    if output_format == "sarif":
        from dag_converter.report.sarif import render_sarif

        listed = set(report.all_diagnostics())
        extra = tuple(d for d in ordered if d not in listed)
        return render_sarif(RunReport(report.target, report.files, (*report.run_diagnostics, *extra),
                                      report.execution_roles))
    raise ValueError(f"unknown output format {output_format!r}")


__all__ = ["OUTPUT_FORMATS", "diagnostic_object", "escape_data", "escape_property", "github_annotation",
           "json_schema", "render_output"]
