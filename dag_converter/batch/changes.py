"""What a run would change in its output: stale and missing YAML, and unified diffs (--check,
--diff, --fail-on-change).

Nothing here writes. The comparison goes through the output's Sink, the same question the writer
asks before a write (`is_current`), so "current" here means "a converting run would leave it
untouched", in a local folder or an s3:// one alike.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from dag_converter import codes
from dag_converter.model import DagResult, Diagnostic
from dag_converter.storage import Sink


@dataclass(frozen=True, slots=True)
class OutputChange:
    """A converted DAG whose YAML in the output differs from what the converter produces."""

    dag: DagResult
    target: str  #: where the YAML goes (a path or an s3:// URL)
    old_text: str | None  #: None when the file does not exist (or cannot be read)
    diagnostic: Diagnostic  #: DC114 stale-output or DC115 missing-output, at the DAG's line
    text: str | None = None  #: a file written beside the YAML (convert --iam's role); None: the YAML

    @property
    def created(self) -> bool:
        return self.old_text is None

    @property
    def new_text(self) -> str:
        if self.text is not None:
            return self.text
        assert self.dag.yaml_text is not None  # only converted DAGs become changes
        return self.dag.yaml_text

    def unified_diff(self) -> str:
        """A `diff -u` style patch from the file in the output to the converted YAML."""
        old = self.old_text.splitlines(keepends=True) if self.old_text is not None else []
        new = self.new_text.splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, fromfile="/dev/null" if self.old_text is None else self.target,
                                     tofile=self.target)
        # difflib leaves a last line without "\n" unterminated, which would glue two patches together.
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def output_change(dag: DagResult, sink: Sink, beside: tuple[str, str] | None = None) -> OutputChange | None:
    """How the converted DAG's YAML (or the file `beside` it: name, text) differs from what `sink`
    holds, then its code package; None when all are current (or the DAG was not converted)."""
    if dag.yaml_text is None or dag.output_name is None:
        return None
    name, text = beside if beside is not None else (dag.output_name, dag.yaml_text)
    if sink.is_current(name, text):
        return _package_change(dag, sink) if beside is None else None
    old_text = sink.read_text(name)
    if old_text == text:
        return None  # an S3 object whose ETag is not an MD5 (multipart, SSE-KMS) but whose bytes match
    target = sink.url(name)
    code = codes.MISSING_OUTPUT if old_text is None else codes.STALE_OUTPUT
    return OutputChange(dag, target, old_text, codes.make(code, dag.workflow.span, target=target, dag_id=dag.dag_id),
                        text if beside is not None else None)


def _package_change(dag: DagResult, sink: Sink) -> OutputChange | None:
    """A current YAML whose code package (`<dag_id>.code.zip`) is missing or differs."""
    package = dag.code_package
    if package is None or package.restored or sink.is_current_bytes(package.name, package.data):
        return None
    target = sink.url(package.name)
    code = codes.STALE_OUTPUT if sink.exists(package.name) else codes.MISSING_OUTPUT
    # The YAML itself is current, so its diff is empty; the finding names the package.
    return OutputChange(dag, target, dag.yaml_text, codes.make(code, dag.workflow.span, target=target, dag_id=dag.dag_id))


__all__ = ["OutputChange", "output_change"]
