"""The report as data (DESIGN.md "Report", schema_version 1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dag_converter import __version__
from dag_converter.model import DagResult, Diagnostic, FileResult, Severity

if TYPE_CHECKING:
    from dag_converter.iam.policy import RoleDerivation

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class RunReport:
    target: str
    files: tuple[FileResult, ...]
    run_diagnostics: tuple[Diagnostic, ...] = ()  #: findings about the run itself (missing paths, ...)
    #: with ``convert --iam``: each converted DAG's derived execution role (the Markdown report lists
    #: its actions by task)
    execution_roles: tuple["RoleDerivation", ...] = ()

    @property
    def dags(self) -> list[DagResult]:
        return [dag for f in self.files for dag in f.dags]

    def all_diagnostics(self) -> list[Diagnostic]:
        found = list(self.run_diagnostics)
        for result in self.files:
            found.extend(result.all_diagnostics())
        return found

    def summary(self) -> dict[str, int]:
        diagnostics = self.all_diagnostics()
        dags = self.dags
        return {
            "files": len(self.files),
            "dags": len(dags),
            "converted": sum(1 for d in dags if d.converted),
            "refused": sum(1 for d in dags if not d.converted),
            "errors": sum(1 for d in diagnostics if d.severity is Severity.ERROR),
            "warnings": sum(1 for d in diagnostics if d.severity is Severity.WARNING),
        }


def build_report(target: str, files: Sequence[FileResult], run_diagnostics: Sequence[Diagnostic] = ()) -> RunReport:
    return RunReport(target, tuple(files), tuple(run_diagnostics))


def diagnostic_dict(diagnostic: Diagnostic) -> dict[str, object]:
    return {
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "path": diagnostic.span.path,
        "line": diagnostic.span.line,
        "column": diagnostic.span.column,
        "hint": diagnostic.hint,
    }


def file_dict(result: FileResult) -> dict[str, object]:
    """One entry of the report's `files` list (also what the manifest keeps for a skipped source)."""
    dags = []
    for dag in result.dags:
        dags.append({
            "dag_id": dag.dag_id,
            "status": "converted" if dag.converted else "refused",
            "output": dag.output_name,
            "line": dag.workflow.span.line,
            "tasks": [
                {"task_id": t.task_id, "operator": t.operator, "line": t.span.line, "upstream": list(t.upstream)}
                for t in dag.workflow.tasks
            ],
            "diagnostics": [diagnostic_dict(d) for d in dag.diagnostics],
        })
        if dag.workflow.reads:
            # Optional: what the DAG reads at run time (Variables, environment variables, connections).
            dags[-1]["reads"] = [{"kind": r.kind, "name": r.name, "path": r.span.path, "line": r.span.line}
                                 for r in dag.workflow.reads]
    return {
        "path": result.path,
        "status": str(result.status),
        "diagnostics": [diagnostic_dict(d) for d in result.diagnostics],
        "dags": dags,
    }


def report_dict(report: RunReport) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dag-converter", "version": __version__},
        "target": report.target,
        "summary": report.summary(),
        "run_diagnostics": [diagnostic_dict(d) for d in report.run_diagnostics],
        "files": [file_dict(result) for result in report.files],
    }
