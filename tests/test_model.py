"""model: the outcome operations every stage uses instead of hand-written copies."""

from __future__ import annotations

from dag_converter.model import DagResult, Diagnostic, FileResult, FileStatus, Severity, Span, Workflow

SPAN = Span("dags/etl.py", 3, 1)


def _dag(dag_id: str, converted: bool = True) -> DagResult:
    return DagResult(Workflow(dag_id, SPAN), (), "x: 1\n" if converted else None,
                     f"{dag_id}.yaml" if converted else None)


def test_refuse_drops_the_yaml_and_sorts_the_diagnostics() -> None:
    late = Diagnostic("DC902", Severity.ERROR, "late", Span("dags/etl.py", 9, 1))
    early = Diagnostic("DC112", Severity.ERROR, "early", Span("dags/etl.py", 2, 1))
    refused = _dag("a").refuse(late, early)
    assert not refused.converted and refused.output_name is None
    assert refused.diagnostics == (early, late)


def test_with_dags_recomputes_the_status() -> None:
    result = FileResult("dags/etl.py", FileStatus.CONVERTED, (), (_dag("a"), _dag("b")))
    one = result.with_dags([result.dags[0].refuse(), result.dags[1]])
    assert one.status is FileStatus.PARTIAL
    assert result.with_dags([d.refuse() for d in result.dags]).status is FileStatus.REFUSED
    assert result.with_dags(result.dags) is result


def test_status_formats_as_its_value() -> None:
    assert f"{FileStatus.NO_DAGS}" == str(FileStatus.NO_DAGS) == "no-dags" == FileStatus.NO_DAGS
