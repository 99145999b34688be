"""`convert --verify`: each converted DAG is proven with Airflow + dag-factory before it is written."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from dag_converter.cli import EXIT_OK, EXIT_REFUSED, main
from fixture_cases import DAGS, convert_fixture

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("airflow") is None or importlib.util.find_spec("dagfactory") is None,
    reason="needs the verify extra (Airflow + dag-factory)",
)


def test_convert_verify_writes_verified_yaml(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(DAGS / "s3_list_and_write.py"), "-o", str(tmp_path), "--verify"])
    assert result.exit_code == EXIT_OK, result.output
    assert "DC902" not in result.output and "DC903" not in result.output
    assert (tmp_path / "s3_list_and_write.yaml").is_file()


def test_airflow2_only_source_is_converted_with_a_warning(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(DAGS / "legacy_dummy_operator.py"), "-o", str(tmp_path), "--verify"])
    assert result.exit_code == EXIT_OK, result.output
    assert "DC903 [warning] not verified" in result.output and "airflow.operators.dummy" in result.output
    assert (tmp_path / "legacy_dummy_operator.yaml").is_file()


def test_a_difference_refuses_the_dag_before_writing() -> None:
    from dag_converter.verify import verify_result

    path = DAGS / "s3_list_and_write.py"
    result = convert_fixture(path)
    dag = result.dags[0]
    wrong = dag.yaml_text.replace("prefix: incoming/", "prefix: outgoing/")  # type: ignore[union-attr]
    assert wrong != dag.yaml_text
    checked = verify_result(path, replace(result, dags=(replace(dag, yaml_text=wrong),)))
    refused = checked.dags[0]
    assert refused.yaml_text is None and refused.output_name is None
    messages = [d.message for d in refused.diagnostics if d.code == "DC902"]
    assert len(messages) == 1
    assert "task 'list_objects'" in messages[0] and "prefix" in messages[0]
    assert checked.status == "refused"


def test_a_template_file_that_includes_another_is_refused(tmp_path: Path) -> None:
    """sql/with_header.sql `{% include %}`s another file, which Jinja would look up on the service,
    where there is no DAG folder: the converter refuses it before any YAML is written (verify, which
    renders both sides, catches the same in YAML written by hand: tests/test_verify.py)."""
    source = tmp_path / "dags"
    (source / "sql").mkdir(parents=True)
    templates = Path(__file__).parent / "verify_cases" / "templates"
    for name in ("athena_include.py", "sql/with_header.sql", "sql/header.sql"):
        (source / name).write_bytes((templates / name).read_bytes())
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(tmp_path / "out"), "--verify"])
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "DC201" in result.output
    assert "template file 'sql/with_header.sql' includes 'sql/header.sql'" in result.output
    assert not (tmp_path / "out" / "athena_include.yaml").exists()
