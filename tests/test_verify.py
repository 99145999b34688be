"""Round-trip verification (issue 6): Airflow's DagBag against dag-factory, on small DAGs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if importlib.util.find_spec("airflow") is None or importlib.util.find_spec("dagfactory") is None:
    pytest.skip(
        'verify tests need Apache Airflow and dag-factory: pip install "dag-converter[verify]"',
        allow_module_level=True,
    )

from dag_converter.verify import (  # noqa: E402 - after the skip on purpose
    Difference,
    SourceLoadError,
    VerifyUnavailable,
    YamlLoadError,
    format_differences,
    verify,
)

CASES = Path(__file__).parent / "verify_cases"
WRONG = CASES / "wrong"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session", autouse=True)
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A throwaway AIRFLOW_HOME; Airflow reads its config once, at first import."""
    env = {
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_home")),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def messages(py: str, *yamls: Path, expect_all: bool = False) -> list[str]:
    return format_differences(verify(CASES / py, list(yamls), expect_all=expect_all))


@pytest.mark.parametrize(
    ("py", "yaml"),
    [
        ("s3_output.py", "s3_listing.yaml"),
        ("s3_template.py", "s3_listing.yaml"),
        ("fan.py", "fan.yaml"),
        ("retries.py", "retries.yaml"),
        ("groups.py", "groups.yaml"),
        ("berlin.py", "berlin.yaml"),
        ("hourly.py", "hourly.yaml"),
        ("rds_enum.py", "rds_enum.yaml"),
    ],
)
def test_correct_yaml_is_equivalent(py: str, yaml: str) -> None:
    """The hand-written YAML builds the same DAG: no differences."""
    assert messages(py, CASES / yaml) == []


@pytest.mark.parametrize(
    ("py", "wrong_yaml", "expected"),
    [
        (
            "fan.py",
            "fan_wrong_dependency.yaml",
            ["dag 'fan' task 'end': upstream differs: python ['a', 'b'] vs yaml ['a']"],
        ),
        (
            "s3_output.py",
            "s3_wrong_value.yaml",
            [
                "dag 's3_listing' task 'write_listing': s3_key differs: "
                "python 'manifests/{{ ds }}.txt' vs yaml 'manifests/{{ ds_nodash }}.txt'"
            ],
        ),
        (
            "s3_output.py",
            "s3_wrong_xcom.yaml",
            [
                "dag 's3_listing' task 'write_listing': data differs: "
                "python \"{{ ti.xcom_pull(task_ids='list_objects') }}\" "
                "vs yaml \"{{ ti.xcom_pull(task_ids='write_listing') }}\""
            ],
        ),
        (
            "fan.py",
            "fan_missing_task.yaml",
            [
                "dag 'fan' task 'end': upstream differs: python ['a', 'b'] vs yaml ['a']",
                "dag 'fan' task 'b': task missing from yaml",
            ],
        ),
        (
            "fan.py",
            "fan_wrong_operator.yaml",
            [
                "dag 'fan' task 'a': operator differs: "
                "python 'airflow.providers.standard.operators.empty.EmptyOperator' "
                "vs yaml 'airflow.providers.standard.operators.latest_only.LatestOnlyOperator'"
            ],
        ),
        (
            "retries.py",
            "retries_wrong_default.yaml",
            ["dag 'retries' task 'done': retries differs: python 2 vs yaml 1"],
        ),
        (
            "berlin.py",
            "berlin_no_timezone.yaml",
            [
                "dag 'berlin': schedule differs: python CronTriggerTimetable({'expression': "
                "'0 6 * * *', 'timezone': 'Europe/Berlin', 'interval': 0.0, 'run_immediately': "
                "False}) vs yaml CronTriggerTimetable({'expression': '0 6 * * *', 'timezone': "
                "'UTC', 'interval': 0.0, 'run_immediately': False})",
                "dag 'berlin': timezone differs: python 'Europe/Berlin' vs yaml 'UTC'",
                "dag 'berlin': start_date differs: "
                "python 2024-12-31T23:00:00+00:00 vs yaml 2025-01-01T00:00:00+00:00",
            ],
        ),
        (
            "hourly.py",
            "hourly_wrong_schedule.yaml",
            [
                "dag 'hourly': schedule differs: python DeltaTriggerTimetable({'delta': 3600.0, "
                "'interval': 0.0}) vs yaml CronTriggerTimetable({'expression': '30 * * * *', "
                "'timezone': 'UTC', 'interval': 0.0, 'run_immediately': False})",
                "dag 'hourly' task 'list': params differs: "
                "python {'limit': 10} vs yaml {'limit': 20}",
            ],
        ),
        (
            "rds_enum.py",
            "rds_enum_string.yaml",
            ["dag 'rds_enum' task 'wait': db_type differs: python RdsDbType.CLUSTER vs yaml 'cluster'"],
        ),
    ],
)
def test_wrong_yaml_is_caught(py: str, wrong_yaml: str, expected: list[str]) -> None:
    """Each deliberate mistake is reported, naming the DAG, the task and the field."""
    assert messages(py, WRONG / wrong_yaml) == expected


def test_difference_fields() -> None:
    """Differences are values: the field is named, values are shown as repr."""
    (diff,) = verify(CASES / "fan.py", [WRONG / "fan_wrong_dependency.yaml"])
    assert diff == Difference("fan", "end", "upstream", "['a', 'b']", "['a']")


def test_dag_without_yaml_counts_only_when_expected() -> None:
    """A file's other DAG without a YAML is a difference only with expect_all."""
    assert messages("two_dags.py", CASES / "fan.yaml") == []
    assert messages("two_dags.py", CASES / "fan.yaml", expect_all=True) == [
        "dag 'other': dag missing from yaml"
    ]


def test_yaml_dag_without_python_dag() -> None:
    """A YAML DAG the Python file does not define is always a difference."""
    assert messages("fan.py", CASES / "fan.yaml", CASES / "berlin.yaml") == [
        "dag 'berlin': dag missing from python"
    ]


@pytest.mark.parametrize(
    ("py", "cause"),
    [
        (
            "airflow2_import.py",
            "ModuleNotFoundError: No module named 'airflow.operators.dummy_operator' (line 6)",
        ),
        (
            "schedule_interval.py",
            "TypeError: DAG.__init__() got an unexpected keyword argument 'schedule_interval' "
            "(line 8)",
        ),
    ],
)
def test_airflow2_source_raises_source_load_error(py: str, cause: str) -> None:
    """An Airflow 2-only DAG file fails to load with a one-line message, not a traceback."""
    with pytest.raises(SourceLoadError) as info:
        verify(CASES / py, [CASES / "fan.yaml"])
    message = str(info.value)
    assert "\n" not in message
    assert message == f"{CASES / py}: Airflow cannot import it: {cause}"


def test_unbuildable_yaml_raises_yaml_load_error(tmp_path: Path) -> None:
    """A YAML dag-factory cannot build is reported in one line."""
    bad = tmp_path / "fan.yaml"
    bad.write_text((CASES / "fan.yaml").read_text().replace("- start", "- nowhere"))
    with pytest.raises(YamlLoadError) as info:
        verify(CASES / "fan.py", [bad])
    assert str(info.value).startswith(f"{bad}: dag-factory cannot build it: ")
    assert "\n" not in str(info.value)


def test_missing_airflow_raises_verify_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the extra, verify says how to install it."""
    import dag_converter.verify as module

    def no_airflow(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(module.importlib, "import_module", no_airflow)
    with pytest.raises(VerifyUnavailable, match=r'pip install "dag-converter\[verify\]"'):
        verify(CASES / "fan.py", [CASES / "fan.yaml"])


def test_importing_verify_does_not_import_airflow() -> None:
    """Airflow is imported lazily, so the converter never pays for it."""
    code = "import sys, dag_converter.verify; sys.exit('airflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_dag_in_two_yaml_files_raises_yaml_load_error(tmp_path: Path) -> None:
    """Two YAML files building the same dag_id cannot both be the conversion."""
    copy = tmp_path / "fan_copy.yaml"
    copy.write_text((CASES / "fan.yaml").read_text())
    with pytest.raises(YamlLoadError, match="dag 'fan' is also in"):
        verify(CASES / "fan.py", [CASES / "fan.yaml", copy])


# Template files (issue 22): a field naming a template file is compared as each side renders it.
TEMPLATES = CASES / "templates"


def test_template_file_and_its_inlined_text_render_alike() -> None:
    """The Python DAG renders sql/report.sql from its folder, the YAML the inlined text; XCom and
    Variable reads render as their expressions, so no database is needed."""
    assert format_differences(verify(TEMPLATES / "athena_report.py", [TEMPLATES / "athena_report.yaml"])) == []


def test_other_text_that_renders_the_same_is_equivalent() -> None:
    """What is compared is the rendered query, not the template's text."""
    yaml = TEMPLATES / "athena_report_same_rendering.yaml"
    assert format_differences(verify(TEMPLATES / "athena_report.py", [yaml])) == []


def test_template_file_changed_after_conversion_fails(tmp_path: Path) -> None:
    """The YAML holds the text the file had when converted; the file has changed since."""
    source = tmp_path / "dags"
    shutil.copytree(TEMPLATES, source)
    sql = source / "sql" / "report.sql"
    sql.write_text(sql.read_text().replace("WHERE ds = '{{ ds }}'", "WHERE ds = '{{ ds_nodash }}'"))
    assert format_differences(verify(source / "athena_report.py", [TEMPLATES / "athena_report.yaml"])) == [
        "dag 'athena_report' task 'report': query (rendered template file) differs: "
        "python line 3: \"WHERE ds = '20250102'\" vs yaml line 3: \"WHERE ds = '2025-01-02'\""
    ]


def test_inlined_text_that_includes_a_file_the_service_lacks_fails() -> None:
    """The same text on both sides, but the YAML's `{% include %}` finds nothing on the service."""
    assert format_differences(verify(TEMPLATES / "athena_include.py", [TEMPLATES / "athena_include.yaml"])) == [
        "dag 'athena_include' task 'report': query (rendered template file) differs: "
        "python '-- generated for 2025-01-02\\nSELECT 1;' vs yaml <cannot render: TemplateNotFound: "
        "'sql/header.sql' not found in search path: '<the service's DAG folder>'>"
    ]


def test_a_template_file_name_in_the_yaml_is_looked_up_on_the_service(tmp_path: Path) -> None:
    """Without a code package the service has none of the DAG folder's files: the name cannot render."""
    yaml = tmp_path / "athena_report.yaml"
    text = (TEMPLATES / "athena_report.yaml").read_text()
    yaml.write_text(text[: text.index("query: |")] + "query: sql/report.sql\n" + text[text.index("      database:"):])
    (message,) = format_differences(verify(TEMPLATES / "athena_report.py", [yaml]))
    assert message.startswith("dag 'athena_report' task 'report': query (rendered template file) differs: python ")
    assert message.endswith("vs yaml <cannot render: TemplateNotFound: 'sql/report.sql' not found in search path: "
                            "'<the service's DAG folder>'>")
