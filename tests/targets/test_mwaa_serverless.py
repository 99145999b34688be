"""The MWAA Serverless target: the allowlist, the service's limits and what it ignores or rejects."""

from __future__ import annotations

import pytest

from dag_converter.model import Severity, TaskKind
from dag_converter.registry import get_registry
from dag_converter.targets import ALLOWED, ALLOWED_WITH_WARNING, get_target

from ._support import HEADER, analyze, convert, found, line_of

MWAA = get_target("mwaa-serverless")


def _errors(diagnostics: list) -> list:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def test_operator_outside_the_provider_is_refused_with_a_service_hint() -> None:
    body = """
    from airflow.providers.standard.operators.python import PythonOperator

    with DAG("d", schedule=None) as dag:
        p = PythonOperator(task_id="p", python_callable=print)
    """
    _, diagnostics = convert(analyze(body), MWAA)
    assert ("DC301", line_of("PythonOperator(", body)) in found(diagnostics)
    refusal = next(d for d in diagnostics if d.code == "DC301")
    assert refusal.hint == ("convert with --code-package to ship the callable beside the YAML, or move the Python code "
                            "to LambdaInvokeFunctionOperator, GlueJobOperator or BatchOperator")


def test_allow_operator_accepts_a_class_and_the_unknown_amazon_class_names_the_provider() -> None:
    body = """
    from company.ops import Custom
    from airflow.providers.amazon.aws.operators.s3 import S3MakeBelieveOperator

    with DAG("d", schedule=None) as dag:
        c = Custom(task_id="c")
        m = S3MakeBelieveOperator(task_id="m")
    """
    workflow = analyze(body)
    _, refused = convert(workflow, MWAA)
    assert found(refused) == {("DC301", line_of("Custom(", body)), ("DC301", line_of("S3MakeBelieveOperator(", body))}
    _, allowed = convert(workflow, get_target("mwaa-serverless", ["company.ops.*"]))
    assert found(allowed) == {("DC301", line_of("S3MakeBelieveOperator(", body))}
    (unknown,) = allowed
    assert unknown.hint == "no such class in apache-airflow-providers-amazon 9.32.0; check the name"


def test_operator_status_follows_the_allowlist() -> None:
    rules = get_registry().rules
    assert MWAA.operator_status(rules["airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator"]) == ALLOWED
    assert MWAA.operator_status(rules["airflow.providers.amazon.aws.operators.ses.SesEmailOperator"]) \
        == ALLOWED_WITH_WARNING


@pytest.mark.parametrize(("argument", "code"), [
    ("retries=4", "DC501"),
    ("retry_delay=datetime.timedelta(minutes=6)", "DC502"),
    ("execution_timeout=datetime.timedelta(days=1, seconds=10)", "DC503"),
])
def test_limits_on_tasks_and_default_args(argument: str, code: str) -> None:
    body = f"""
    with DAG("d", schedule=None, default_args=dict({argument})) as dag:
        e = EmptyOperator(task_id="e", {argument})
    """
    _, diagnostics = convert(analyze(body), MWAA)
    assert found(_errors(diagnostics)) == {(code, line_of("DAG(", body)), (code, line_of("EmptyOperator(", body))}
    assert found(_errors(convert(analyze(body), get_target("dag-factory"))[1])) == set()


def test_schedules_presets_and_timedeltas() -> None:
    for schedule, expected in [('"@daily"', "@daily"), ("datetime.timedelta(hours=6)", "0 */6 * * *")]:
        body = f"""
        with DAG("d", schedule={schedule}) as dag:
            e = EmptyOperator(task_id="e")
        """
        normalised, diagnostics = convert(analyze(body), MWAA)
        assert not _errors(diagnostics)
        assert [a.value for a in normalised.arguments if a.name == "schedule"] == [expected]
    body = """
    with DAG("d", schedule="@once") as dag:
        e = EmptyOperator(task_id="e")
    """
    assert found(convert(analyze(body), MWAA)[1]) == {("DC401", line_of("DAG(", body))}


def test_ignored_rejected_and_dropped_arguments() -> None:
    body = """
    with DAG("d", schedule=None, fail_fast=True) as dag:
        s3 = S3CreateObjectOperator(task_id="s3", s3_bucket="b", s3_key="k", data="x",
                                    verify=False, priority_weight=3, doc_md="quiet")
    """
    normalised, diagnostics = convert(analyze(body), MWAA)
    assert found(diagnostics) == {
        ("DC403", line_of("fail_fast", body)),
        ("DC317", line_of("verify=False", body)),
        ("DC318", line_of("verify=False", body)),  # priority_weight, same line
    }


def test_deferrable_true_is_refused_in_one_readable_sentence() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        on = S3KeySensor(task_id="on", bucket_key="s3://b/k", deferrable=True)
        off = S3KeySensor(task_id="off", bucket_key="s3://b/k", deferrable=False)
    """
    header = HEADER + "from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor\n"
    _, diagnostics = convert(analyze(body, header=header), MWAA)
    assert found(diagnostics) == {("DC317", line_of("deferrable=True", body, header=header)),
                                  ("DC318", line_of("deferrable=False", body, header=header))}
    (refused,) = [d for d in diagnostics if d.code == "DC317"]
    assert refused.message == "'deferrable' is True, but MWAA Serverless does not support deferrable mode"


def test_a_function_argument_other_than_python_callable_is_not_told_to_move_to_a_module() -> None:
    """An imported function is refused as a check_fn too: 'move it into a module' would not help."""
    body = """
    from company.checks import has_rows

    def local_check(files):
        return bool(files)

    with DAG("d", schedule=None) as dag:
        local = S3KeySensor(task_id="local", bucket_key="s3://b/k", check_fn=local_check)
        imported = S3KeySensor(task_id="imported", bucket_key="s3://b/k", check_fn=has_rows)
    """
    header = HEADER + "from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor\n"
    _, diagnostics = convert(analyze(body, header=header), MWAA)
    refused = [d for d in diagnostics if d.code == "DC312"]
    assert len(refused) == 2
    assert all("module" not in (d.hint or "") and "drop this argument" in (d.hint or "") for d in refused)


def test_template_variables_the_service_lacks_are_warned() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        s3 = S3CreateObjectOperator(task_id="s3", s3_bucket="b", s3_key="{{ ds }}/{{ var.value.x }}", data="x")
    """
    _, diagnostics = convert(analyze(body), MWAA)
    assert found(diagnostics) == {("DC307", line_of("s3_key=", body))}
    assert found(convert(analyze(body), get_target("dag-factory"))[1]) == set()


def test_callback_defined_in_the_file_is_dropped_not_refused() -> None:
    body = """
    def alert(context):
        pass

    with DAG("d", schedule=None, on_failure_callback=alert) as dag:
        e = EmptyOperator(task_id="e")
    """
    normalised, diagnostics = convert(analyze(body), MWAA)
    assert found(diagnostics) == {("DC321", line_of("on_failure_callback", body))}
    assert "on_failure_callback" not in {a.name for a in normalised.arguments}
    assert found(convert(analyze(body), get_target("dag-factory"))[1]) == {("DC312", line_of("on_failure_callback", body))}


def test_group_defaults_are_flattened_into_the_task() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        with TaskGroup("g", default_args={"retries": 2}):
            e = EmptyOperator(task_id="e")
    """
    normalised, diagnostics = convert(analyze(body), MWAA)
    assert found(diagnostics) == {("DC504", line_of("TaskGroup(", body))}
    (task,) = normalised.tasks
    assert task.task_id == "g.e"
    assert [(a.name, a.value, a.inherited_from) for a in task.arguments] == [("retries", 2, "g")]


def test_taskflow_and_mapping_are_refused_at_their_lines() -> None:
    body = """
    def plain(x):
        return x

    with DAG("d", schedule=None) as dag:
        one = task(plain)(1)
        many = task(plain).expand(x=[1, 2])
        s3 = S3CreateObjectOperator.partial(task_id="s3", s3_bucket="b", data="d").expand(s3_key=["a", "b"])
    """
    workflow = analyze(body)
    normalised, diagnostics = convert(workflow, MWAA)
    assert found(diagnostics) == {
        ("DC310", line_of("one =", body)),
        ("DC311", line_of("many =", body)),
        ("DC311", line_of("s3 =", body)),
    }
    assert [t.kind for t in normalised.tasks] == [TaskKind.TASKFLOW, TaskKind.TASKFLOW, TaskKind.OPERATOR]
