"""MWAA Serverless rules the service applies on create (SERVICE.md §6), and what Airflow itself
refuses: each rule raises its code, and values the rules rewrite are written the way Airflow reads them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dag_converter.config import load_config, run_config
from dag_converter.errors import ConfigError
from dag_converter.targets import get_target
from dag_converter.targets._schedules import cron_problem, eventbridge_cron_problem, rate_problem
from fixture_cases import DAGS, TODAY, convert_fixture
from targets._support import analyze, convert

MWAA = get_target("mwaa-serverless")
HAVE_DAG_FACTORY = importlib.util.find_spec("dagfactory") is not None


@pytest.mark.parametrize("expression", ["*/5 * * * *", "0 6 * * MON-FRI", "0 0 29 2 *", "0 0 L * *", "0 0 * * 0"])
def test_valid_cron_passes(expression: str) -> None:
    assert cron_problem(expression, TODAY) is None


@pytest.mark.parametrize(("expression", "reason"), [
    ("0 0 31 2 *", "never fires"),
    ("0 0 30 2 *", "never fires"),
    ("99 99 99 99 99", "not a valid cron"),
    ("60 * * * *", "not a valid cron"),
    ("* * * *", "5-field"),
    ("0 0 1 1 * 2030", "5-field"),
])
def test_invalid_cron_is_explained(expression: str, reason: str) -> None:
    assert reason in (cron_problem(expression, TODAY) or "")


@pytest.mark.parametrize("expression", [
    "cron(0 12 * * ? *)", "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 10 L * ? 2030)", "cron(0 12 ? * 2#1 *)",
    "cron(30 6 15W JAN,JUL ? 2030-2040)", "cron(0 0 ? * 6L *)",
])
def test_valid_eventbridge_cron(expression: str) -> None:
    assert eventbridge_cron_problem(expression) is None


@pytest.mark.parametrize(("expression", "reason"), [
    ("cron(0 12 * * * *)", "not both"),
    ("cron(0 12 ? * ? *)", "not both"),
    ("cron(0 24 * * ? *)", "hours"),
    ("cron(60 0 * * ? *)", "minutes"),
    ("cron(0 0 32 * ? *)", "day-of-month"),
    ("cron(0 0 ? 13 MON *)", "month"),
    ("cron(0 0 ? * 8 *)", "day-of-week"),
    ("cron(0 0 ? * MON#6 *)", "day-of-week"),
    ("cron(0 0 1 * ? 1969)", "year"),
    ("cron(0 0 * * ?)", "6 fields"),
    ("cron(a b c d e f)", "minutes"),
])
def test_invalid_eventbridge_cron_names_the_field(expression: str, reason: str) -> None:
    assert reason in (eventbridge_cron_problem(expression) or "")


@pytest.mark.parametrize(("expression", "problem"), [
    ("rate(5 minutes)", None), ("rate(1 hour)", None), ("rate(2 days)", None),
    ("rate(1 minutes)", "rate(1 minute)"), ("rate(3 day)", "rate(3 days)"), ("rate(0 hours)", "positive"),
    ("rate(1 week)", "minutes|hours|days"), ("rate(-1 days)", "minutes|hours|days"),
])
def test_rate(expression: str, problem: str | None) -> None:
    found = rate_problem(expression)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_numeric_retry_delay_is_written_as_a_timedelta_and_limited() -> None:
    workflow = analyze("""
        with DAG("d", schedule=None, start_date=datetime.datetime(2030, 1, 1),
                 default_args={"retry_delay": 30}):
            S3CreateObjectOperator(task_id="a", s3_bucket="b", s3_key="k", data="x", retry_delay=301)
    """)
    normalised, diagnostics = convert(workflow, MWAA)
    assert {d.code for d in diagnostics} == {"DC502"}
    defaults = next(a.value for a in normalised.arguments if a.name == "default_args")
    assert defaults["retry_delay"].seconds == 30


def test_service_keys_are_reported_by_behaviour() -> None:
    workflow = analyze("""
        with DAG("d", schedule=None, start_date=datetime.datetime(2030, 1, 1), catchup=False,
                 render_template_as_native_obj=True, template_searchpath=["/sql"]):
            EmptyOperator(task_id="a")
    """)
    _, diagnostics = convert(workflow, MWAA)
    by_code = sorted((d.code, d.message.split("'")[1]) for d in diagnostics)
    assert by_code == [("DC408", "catchup"), ("DC409", "render_template_as_native_obj"),
                       ("DC409", "template_searchpath")]


def test_dag_factory_target_keeps_service_keys_silently() -> None:
    workflow = analyze("""
        with DAG("_d", schedule=None, start_date=datetime.datetime(2030, 1, 1), tags=["x"], max_active_runs=0):
            EmptyOperator(task_id="a")
    """)
    _, diagnostics = convert(workflow, get_target("dag-factory"))
    assert diagnostics == []


def test_once_is_refused_unless_once_as_manual() -> None:
    body = """
        with DAG("d", schedule="@once", start_date=datetime.datetime(2030, 1, 1)):
            EmptyOperator(task_id="a")
    """
    _, refused = convert(analyze(body), MWAA)
    assert [d.code for d in refused] == ["DC401"] and "--once-as manual" in (refused[0].hint or "")
    normalised, manual = convert(analyze(body), get_target("mwaa-serverless", once_as="manual"))
    assert [d.code for d in manual] == ["DC412"]
    assert next(a.value for a in normalised.arguments if a.name == "schedule") is None


def test_once_as_flag_and_config_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_config(["dags"]).once_as == "refuse"
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\nonce-as = "manual"\n', encoding="utf-8")
    assert run_config(["dags"]).once_as == "manual"
    assert run_config(["dags"], once_as="refuse").once_as == "refuse"
    (tmp_path / "pyproject.toml").write_text('[tool.dag-converter]\nonce-as = "later"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError):
        get_target("mwaa-serverless", once_as="later")


@pytest.mark.skipif(not HAVE_DAG_FACTORY, reason="needs dag-factory and Airflow (verify extra)")
def test_default_args_start_date_reaches_the_yaml_dag(tmp_path: Path) -> None:
    """dag-factory 1.0 passes DAG(start_date=None) when the YAML has no DAG-level start_date; the
    converter writes it there too, so the DAG dag-factory builds has Airflow's start date."""
    import datetime as dt

    from dag_converter.verify import _load_yaml

    result = convert_fixture(DAGS / "service_rules_converting.py")
    (dag,) = result.dags
    path = tmp_path / dag.output_name
    path.write_text(dag.yaml_text, encoding="utf-8")
    built = _load_yaml(path)
    assert built["_service_rules"].start_date == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    # Without the DAG-level key, dag-factory 1.0 builds the DAG with start_date=None.
    path.write_text(dag.yaml_text.replace("  start_date: '2030-01-01'\n  default_args", "  default_args", 1),
                    encoding="utf-8")
    assert _load_yaml(path)["_service_rules"].start_date is None


def test_eventbridge_forms_only_where_the_target_runs_them() -> None:
    body = """
        with DAG("d", schedule="rate(5 minutes)", start_date=datetime.datetime(2030, 1, 1)):
            EmptyOperator(task_id="a")
    """
    normalised, diagnostics = convert(analyze(body), MWAA)
    assert diagnostics == [] and next(a.value for a in normalised.arguments if a.name == "schedule") == "rate(5 minutes)"
    _, refused = convert(analyze(body), get_target("dag-factory"))
    assert [d.code for d in refused] == ["DC401"] and "MWAA Serverless only" in refused[0].message


def test_max_active_runs_over_the_default_quota_warns() -> None:
    workflow = analyze("""
        with DAG("d", schedule=None, start_date=datetime.datetime(2030, 1, 1), max_active_runs=17):
            EmptyOperator(task_id="a")
    """)
    _, diagnostics = convert(workflow, MWAA)
    assert [(d.code, d.severity.value) for d in diagnostics] == [("DC413", "warning")]


def test_cli_once_as_manual_writes_an_unscheduled_workflow(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dag_converter.cli import main

    out = tmp_path / "out"
    source = str(DAGS / "once_as_manual.py")
    refused = CliRunner().invoke(main, ["convert", source, "-o", str(out), "--report-format", "none"])
    assert refused.exit_code == 1 and not (out / "once_as_manual.yaml").exists()
    done = CliRunner().invoke(main, ["convert", source, "-o", str(out), "--report-format", "none",
                                     "--once-as", "manual"])
    assert done.exit_code == 0, done.output
    assert "schedule: null" in (out / "once_as_manual.yaml").read_text(encoding="utf-8")
    assert "DC412" in done.output


def test_cli_registry_build_reads_the_standard_provider(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dag_converter.cli import main
    from dag_converter.registry import standard_data_path

    written = tmp_path / "standard.json"
    done = CliRunner().invoke(main, ["registry", "build", "--provider", "standard", "--output", str(written)])
    if done.exit_code != 0:
        pytest.skip(f"standard provider not installed here: {done.output}")
    assert written.read_bytes() == standard_data_path().read_bytes()
    assert not (tmp_path / "iam-standard.json").exists()  # IAM data is derived for the Amazon provider only


@pytest.mark.parametrize("target", ["mwaa-serverless", "dag-factory"])
@pytest.mark.parametrize(("group", "codes"), [
    ('"raw.data"', ["DC323"]),
    ('"g" * 201', ["DC323"]),
    ('"g" * 200', []),
    ('"eu-west_1"', []),
])
def test_task_group_ids_follow_airflow_rule(target: str, group: str, codes: list[str]) -> None:
    workflow = analyze(f'''
        with DAG("d", start_date=datetime.datetime(2030, 1, 1), schedule=None):
            with TaskGroup({group}):
                EmptyOperator(task_id="t")
        ''')
    _, diagnostics = convert(workflow, get_target(target, dags_folder="/dags"))
    assert [d.code for d in diagnostics if d.severity == "error"] == codes


def test_a_prefixed_task_id_over_250_characters_names_the_prefix() -> None:
    workflow = analyze('''
        with DAG("d", start_date=datetime.datetime(2030, 1, 1), schedule=None):
            with TaskGroup("g" * 100):
                EmptyOperator(task_id="t" * 150)
            with TaskGroup("flat", prefix_group_id=False):
                EmptyOperator(task_id="u" * 250)
        ''')
    _, diagnostics = convert(workflow, MWAA)
    (long,) = [d for d in diagnostics if d.severity == "error"]
    assert "251 characters" in long.message and "prefix" in (long.hint or "")
