"""`--check`, `--diff` and `--fail-on-change`: compare the converted YAML with the files on disk.

Nothing here writes. The comparison is by text, exactly as `write_outputs` decides whether to
rewrite a file, so "current" here means "convert would leave it untouched".
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dag_converter import codes
from dag_converter.model import DagResult, Diagnostic, FileResult


@dataclass(frozen=True, slots=True)
class OutputChange:
    """A converted DAG whose YAML on disk differs from what the converter produces."""

    dag: DagResult
    target: Path  #: where the YAML goes
    old_text: str | None  #: None when the file does not exist (or cannot be read)
    diagnostic: Diagnostic  #: DC114 stale-output or DC115 missing-output, at the DAG's line

    @property
    def new_text(self) -> str:
        assert self.dag.yaml_text is not None  # only converted DAGs become changes
        return self.dag.yaml_text

    def unified_diff(self) -> str:
        """A `diff -u` style patch from the file on disk to the converted YAML."""
        old = self.old_text.splitlines(keepends=True) if self.old_text is not None else []
        new = self.new_text.splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, fromfile="/dev/null" if self.old_text is None else str(self.target),
                                     tofile=str(self.target))
        # difflib leaves a last line without "\n" unterminated, which would glue two patches together.
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def find_changes(results: Sequence[FileResult], output: Path) -> list[OutputChange]:
    """Every converted DAG whose YAML under `output` is missing or differs, in input order."""
    changes: list[OutputChange] = []
    for result in results:
        for dag in result.dags:
            if dag.yaml_text is None or dag.output_name is None:
                continue
            target = output / dag.output_name
            old_text = _read(target)
            if old_text == dag.yaml_text:
                continue
            if old_text is None:
                diagnostic = codes.make(codes.MISSING_OUTPUT, dag.workflow.span, target=str(target),
                                        dag_id=dag.dag_id)
            else:
                diagnostic = codes.make(codes.STALE_OUTPUT, dag.workflow.span, target=str(target),
                                        dag_id=dag.dag_id)
            changes.append(OutputChange(dag, target, old_text, diagnostic))
    return changes


def _read(path: Path) -> str | None:
    try:
        # Read as write_outputs reads it (universal newlines), so --check agrees with convert
        # about which files it would leave untouched.
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


__all__ = ["OutputChange", "find_changes"]
