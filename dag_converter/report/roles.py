"""The execution roles in Markdown: each DAG's actions grouped by task.

`render_markdown_section(derivations)` returns a ``## Execution roles`` section, ready to append to
conversion-report.md (the batch does, with ``convert --iam``); ``dag-converter iam`` writes it alone
as execution-roles.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dag_converter.iam.policy import RoleDerivation


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown_section(derivations: Sequence[RoleDerivation], heading: str = "##") -> str:
    lines = [f"{heading} Execution roles", "",
             "Actions each task's code calls (derived from the Amazon provider's source), and the role file.",
             ""]
    for derivation in sorted(derivations, key=lambda d: d.dag_id):
        warnings = len(derivation.diagnostics)
        lines += [f"{heading}# `{_escape(derivation.dag_id)}`", "",
                  f"Role: `{derivation.dag_id}.iam.json`; {len(derivation.policy['Statement'])} statements, "
                  f"{warnings} warnings.", "",
                  "| task | operator | actions |", "| --- | --- | --- |"]
        for task in derivation.tasks:
            operator = task.operator.rsplit(".", 1)[-1]
            actions = ", ".join(f"`{a}`" for a in task.actions) if task.derived else "*not derived (DC512)*"
            lines.append(f"| `{_escape(task.task_id)}` | `{_escape(operator)}` | {actions} |")
        lines.append("")
    return "\n".join(lines)


def render_markdown_document(derivations: Sequence[RoleDerivation]) -> str:
    return render_markdown_section(derivations, heading="#")
