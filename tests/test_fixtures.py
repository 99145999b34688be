"""Every fixture DAG file: its YAML and diagnostics are pinned (pytest-snapshot), and every DAG
that converts is proven equivalent by building both with Airflow and dag-factory.

Refresh the snapshots with `pytest tests/test_fixtures.py --snapshot-update` and review the diff.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from fixture_cases import (
    DAGS,
    ONCE_AS_MANUAL,
    ROOT,
    case_id,
    convert_fixture,
    fixture_files,
    is_dag_factory_case,
    render_concise,
    render_reads,
)

CASES = fixture_files()
#: Fixtures written for Airflow 2 (MWAA folders) carry this marker; Airflow 3 cannot load them.
AIRFLOW2_ONLY = "# fixture: airflow-2-only"
HAVE_AIRFLOW = importlib.util.find_spec("airflow") is not None and importlib.util.find_spec("dagfactory") is not None


@pytest.mark.parametrize("dag_file", CASES, ids=case_id)
def test_snapshot(dag_file: Path, snapshot) -> None:
    result = convert_fixture(dag_file)
    snapshot.snapshot_dir = ROOT / "tests" / "snapshots"
    files = {dag.output_name: dag.yaml_text for dag in result.dags if dag.yaml_text and dag.output_name}
    files["diagnostics.txt"] = f"status: {result.status}\n" + render_concise(result.all_diagnostics())
    reads = render_reads(result)
    if reads:
        files["reads.txt"] = reads
    snapshot.assert_match_dir(files, case_id(dag_file))


def test_fixtures_cover_both_outcomes() -> None:
    statuses = {convert_fixture(p).status for p in CASES}
    assert {"converted", "refused"} <= statuses


CONVERTING = [p for p in CASES if any(d.converted for d in convert_fixture(p).dags)]


@pytest.mark.skipif(not HAVE_AIRFLOW, reason="round-trip needs the verify extra (Airflow + dag-factory)")
@pytest.mark.parametrize("dag_file", CONVERTING, ids=case_id)
def test_round_trip_equivalent(dag_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dag_converter.verify import verify

    result = convert_fixture(dag_file)
    yaml_files = []
    for dag in result.dags:
        if dag.yaml_text and dag.output_name:
            target = tmp_path / dag.output_name
            target.write_text(dag.yaml_text, encoding="utf-8")
            yaml_files.append(target)
    if dag_file.name in ONCE_AS_MANUAL:
        pytest.skip("--once-as manual changes the schedule on purpose (@once -> unscheduled, DC412)")
    if AIRFLOW2_ONLY in dag_file.read_text(encoding="utf-8"):
        pytest.skip("Airflow 2-only source: Airflow 3 cannot import it, so there is nothing to compare with")
    if is_dag_factory_case(dag_file):
        # python_callable_file is written under $AIRFLOW__CORE__DAGS_FOLDER, which dag-factory expands.
        monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS))
        differences = verify(dag_file, yaml_files, task_groups=True)
    else:
        differences = verify(dag_file, yaml_files)
    assert [d.message for d in differences] == []


@pytest.mark.skipif(not HAVE_AIRFLOW, reason="round-trip needs the verify extra (Airflow + dag-factory)")
def test_plain_enum_members_are_built_as_the_same_member(tmp_path: Path) -> None:
    """verify compares enums by value; here each enum argument dag-factory builds must be the very
    member the Python DAG holds (a plain Enum member is not equal to its value: RdsDbSensor keeps
    `db_type: cluster` as the string)."""
    import enum

    from dag_converter.verify import _load_python, _load_yaml

    dag_file = DAGS / "provider_plain_enums.py"
    (dag,) = convert_fixture(dag_file).dags
    target = tmp_path / str(dag.output_name)
    target.write_text(str(dag.yaml_text), encoding="utf-8")
    python = _load_python(dag_file)["provider_plain_enums"]
    built = _load_yaml(target, dag_file)["provider_plain_enums"]
    members = 0
    for task in python.tasks:
        for name in ("target_state", "db_type"):
            value = getattr(task, name, None)
            if isinstance(value, enum.Enum):
                members += 1
                assert getattr(built.get_task(task.task_id), name) is value
                assert value != value.value  # a plain Enum: the value alone would not do
    assert members == 4
