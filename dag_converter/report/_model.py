"""The report as data (DESIGN.md "Report", schema_version 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dag_converter import __version__
from dag_converter.model import DagResult, Diagnostic, FileResult, PackageOutput, Severity

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


def package_dict(package: PackageOutput) -> dict[str, object]:
    """A DAG's code package in the report: its name and digest, each file and why, the requirements."""
    return {
        "name": package.name,
        "sha256": package.digest,
        "files": [{"path": path, "reason": reason} for path, reason in package.files],
        "requirements": package.requirements_text,
        "pip_command": package.pip_command,
    }


def package_from_dict(raw: Mapping[str, object]) -> PackageOutput:
    """The report's entry back as a PackageOutput without its bytes (they are in the output already)."""
    files = raw.get("files")
    return PackageOutput(str(raw["name"]), b"",
                         tuple((str(f["path"]), str(f["reason"])) for f in files) if isinstance(files, list) else (),
                         str(raw.get("requirements", "")), str(raw.get("pip_command", "")), str(raw["sha256"]))


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
        if dag.code_package is not None:  # only with --code-package, so other reports keep their shape
            dags[-1]["code_package"] = package_dict(dag.code_package)
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


def role_dict(role: "RoleDerivation") -> dict[str, object]:
    """A DAG's `execution_role` in the JSON report (convert --iam; an optional key of schema 1)."""
    return {
        "file": f"{role.dag_id}.iam.json",
        "statements": len(role.policy.get("Statement", ())),
        "tasks": [{"task_id": t.task_id, "operator": t.operator, "actions": list(t.actions), "derived": t.derived}
                  for t in role.tasks],
    }


def report_dict(report: RunReport) -> dict[str, object]:
    files = [file_dict(result) for result in report.files]
    if report.execution_roles:
        roles = {role.dag_id: role for role in report.execution_roles}
        for entry in files:
            for dag in entry["dags"]:  # type: ignore[attr-defined]
                role = roles.get(dag["dag_id"]) if dag["status"] == "converted" else None
                if role is not None:
                    dag["execution_role"] = role_dict(role)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dag-converter", "version": __version__},
        "target": report.target,
        "summary": report.summary(),
        "run_diagnostics": [diagnostic_dict(d) for d in report.run_diagnostics],
        "files": files,
    }
