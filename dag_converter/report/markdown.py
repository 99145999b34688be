"""conversion-report.md: what a person reviewing a migration reads."""

from __future__ import annotations

from dag_converter.model import DagResult, Diagnostic, FileStatus
from dag_converter.report._model import RunReport
from dag_converter.report.concise import location, printable


def _escape(text: str) -> str:
    """One table cell: control characters escaped (concise.printable), `|` escaped."""
    return printable(text.replace("\n", " ")).replace("|", "\\|")


def _diagnostic_row(d: Diagnostic) -> str:
    where = location(d.span)
    hint = _escape(d.hint) if d.hint else ""
    return f"| `{_escape(where)}` | {d.code} | {d.severity.value} | {_escape(d.message)} | {hint} |"


def _package_lines(dag: DagResult) -> list[str]:
    """One DAG's code package: each file and why it is there, the requirements and the pip command."""
    package = dag.code_package
    assert package is not None
    lines = ["", f"### `{_escape(package.name)}` (DAG `{_escape(dag.dag_id)}`)", "", "| file | why |", "| --- | --- |"]
    lines += [f"| `{_escape(path)}` | {_escape(reason)} |" for path, reason in package.files]
    lines += ["", "requirements.txt:", "", "```text", package.requirements_text.rstrip("\n"), "```"]
    if package.pip_command:  # empty when --build-deps installed them
        lines += ["", "Vendor the requirements into the package with:", "", "```sh", package.pip_command.rstrip("\n"),
                  "```"]
    return lines


def render_markdown(report: RunReport) -> str:
    s = report.summary()
    lines = [
        "# dag-converter report",
        "",
        f"Target: `{report.target}`",
        "",
        f"{s['files']} files, {s['dags']} DAGs: **{s['converted']} converted**, **{s['refused']} refused**; "
        f"{s['errors']} errors, {s['warnings']} warnings.",
        "",
        "| DAG | file | status | tasks | output |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in report.files:
        for dag in result.dags:
            status = "converted" if dag.converted else "**refused**"
            output = f"`{dag.output_name}`" if dag.output_name else ""
            lines.append(f"| `{_escape(dag.dag_id)}` | `{_escape(result.path)}` | {status} | "
                         f"{len(dag.workflow.tasks)} | {output} |")
    other = [r for r in report.files if not r.dags and r.status != FileStatus.SKIPPED]
    if other:
        lines += ["", "## Files without DAGs", "", "| file | status |", "| --- | --- |"]
        lines += [f"| `{_escape(r.path)}` | {r.status} |" for r in other]
    packaged = [dag for result in report.files for dag in result.dags if dag.code_package is not None]
    if packaged:
        lines += ["", "## Code packages"]
        for dag in packaged:
            lines += _package_lines(dag)
    reads = [(dag, read) for result in report.files for dag in result.dags for read in dag.workflow.reads]
    if reads:
        lines += ["", "## Run-time reads", "",
                  "Variables, environment variables and connections each DAG's file reads when it runs.", "",
                  "| DAG | kind | name | where |", "| --- | --- | --- | --- |"]
        lines += [f"| `{_escape(dag.dag_id)}` | {read.kind} | {f'`{_escape(read.name)}`' if read.name else '(computed)'} "
                  f"| `{_escape(read.span.path)}:{read.span.line}` |" for dag, read in reads]
    diagnostics = sorted(report.all_diagnostics(), key=Diagnostic.sort_key)
    if diagnostics:
        lines += ["", "## Diagnostics", "", "| where | code | severity | message | hint |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [_diagnostic_row(d) for d in diagnostics]
    if report.execution_roles:
        from dag_converter.report.roles import render_markdown_section

        lines += ["", render_markdown_section(report.execution_roles).rstrip("\n")]
    return "\n".join(lines) + "\n"
