"""batch.changes: a converted DAG compared with what any Sink holds (--check, --diff, --fail-on-change)."""

from __future__ import annotations

from pathlib import Path

from dag_converter.batch.changes import output_change
from dag_converter.model import DagResult, Span, Workflow
from dag_converter.storage.local import LocalSink


def _dag(text: str | None) -> DagResult:
    return DagResult(Workflow("etl", Span("dags/etl.py", 6, 6)), (), text, "etl.yaml" if text is not None else None)


def test_missing_stale_and_current(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    missing = output_change(_dag("a: 1\n"), sink)
    assert missing is not None and missing.created and missing.diagnostic.code == "DC115"
    assert missing.unified_diff() == f"--- /dev/null\n+++ {tmp_path / 'etl.yaml'}\n@@ -0,0 +1 @@\n+a: 1\n"

    (tmp_path / "etl.yaml").write_text("a: 0", encoding="utf-8")
    stale = output_change(_dag("a: 1\n"), sink)
    assert stale is not None and not stale.created and stale.diagnostic.code == "DC114"
    assert stale.diagnostic.span == Span("dags/etl.py", 6, 6)
    assert "-a: 0\n\\ No newline at end of file\n+a: 1\n" in stale.unified_diff()

    (tmp_path / "etl.yaml").write_text("a: 1\n", encoding="utf-8")
    assert output_change(_dag("a: 1\n"), sink) is None


def test_a_refused_dag_is_never_a_change(tmp_path: Path) -> None:
    assert output_change(_dag(None), LocalSink(tmp_path)) is None
