"""The dag-factory 1.0 target: groups kept, TaskFlow and mapping written, callables referenced."""

from __future__ import annotations

import pytest

from dag_converter.model import Severity, TaskKind
from dag_converter.targets import Feature, get_target

from ._support import analyze, convert, found, line_of

FACTORY = get_target("dag-factory", dags_folder="/opt/airflow/dags")


def _arguments(task: object) -> dict[str, object]:
    return {a.name: a.value for a in task.arguments}  # type: ignore[attr-defined]


def test_group_defaults_stay_on_the_group() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        with TaskGroup("outer", default_args={"retries": 1}):
            with TaskGroup("inner", default_args={"owner": "me"}):
                e = EmptyOperator(task_id="e", retries=2)
    """
    workflow = analyze(body)
    assert {a.name: a.inherited_from for a in workflow.tasks[0].arguments} == {"retries": None, "owner": "outer.inner"}
    normalised, diagnostics = convert(workflow, FACTORY)
    assert found(diagnostics) == set()
    (task,) = normalised.tasks
    # The task keeps only what it was given; its group applies the rest at load time.
    assert (task.task_id, _arguments(task)) == ("e", {"task_group_name": "inner", "retries": 2})
    groups = {g.group_id: (g.parent, {a.name: a.value for a in g.arguments}) for g in normalised.groups}
    assert groups == {"outer": (None, {"default_args": {"retries": 1}}),
                      "inner": ("outer", {"default_args": {"owner": "me"}})}


def test_taskflow_task_becomes_a_decorator_task() -> None:
    body = """
    def plain(x, y=1):
        return x

    with DAG("d", schedule=None) as dag:
        first = task(plain).override(retries=2)(x=3, y=4)
        second = task(plain)(first)
    """
    normalised, diagnostics = convert(analyze(body), FACTORY)
    assert found(diagnostics) == {("DC330", line_of("first =", body)), ("DC330", line_of("second =", body))}
    first, second = normalised.tasks
    assert first.kind is TaskKind.TASKFLOW and first.operator == "airflow.sdk.definitions.decorators.task"
    assert _arguments(first) == {
        "python_callable_name": "plain", "python_callable_file": "/opt/airflow/dags/example.py",
        "retries": 2, "x": 3, "y": 4,
    }
    assert (first.task_id, _arguments(second)["x"]) == ("plain", "+plain")


def test_mapped_taskflow_task_has_partial_and_expand() -> None:
    body = """
    def plain(x, y=1):
        return x

    with DAG("d", schedule=None) as dag:
        many = task(plain).partial(y=2).expand(x=[1, 2])
    """
    workflow = analyze(body)
    assert (workflow.tasks[0].mapped, workflow.tasks[0].expand) == (True, ("x",))
    normalised, diagnostics = convert(workflow, FACTORY)
    assert not [d for d in diagnostics if d.severity is Severity.ERROR]
    args = _arguments(normalised.tasks[0])
    assert (args["partial"], args["expand"]) == ({"y": 2}, {"x": [1, 2]})


def test_mapped_operator_task_has_expand() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        keys = EmptyOperator(task_id="keys")
        s3 = S3CreateObjectOperator.partial(task_id="s3", s3_bucket="b", data="d").expand(s3_key=keys.output)
    """
    normalised, diagnostics = convert(analyze(body), FACTORY)
    assert found(diagnostics) == set()
    s3 = normalised.tasks[1]
    assert list(_arguments(s3)) == ["s3_bucket", "data", "expand"]
    assert _arguments(s3)["expand"] == {"s3_key": "keys.output"}
    assert s3.upstream == ("keys",)


def test_expand_kwargs_is_refused_with_its_own_hint() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        s3 = S3CreateObjectOperator.partial(task_id="s3", s3_bucket="b", data="d").expand_kwargs([{"s3_key": "k"}])
    """
    _, diagnostics = convert(analyze(body), FACTORY)
    line = line_of("s3 =", body)
    # s3_key is given by the mapped kwargs: no DC303 (issue 22), only the mapping's own refusal
    assert found(diagnostics) == {("DC311", line)}
    assert next(d for d in diagnostics if d.code == "DC311").hint == "expand_kwargs() has no dag-factory 1.0 form; use expand() with named arguments"


def test_operator_defined_in_the_dag_file_is_refused() -> None:
    body = """
    from airflow.models import BaseOperator

    class Local(BaseOperator):
        pass

    with DAG("d", schedule=None) as dag:
        l = Local(task_id="l")
    """
    _, diagnostics = convert(analyze(body), FACTORY)
    assert found(diagnostics) == {("DC301", line_of("Local(task_id", body))}
    assert "move it into a module of the dags folder" in (diagnostics[0].hint or "")


def test_python_callable_only_for_python_operators() -> None:
    body = """
    from airflow.providers.standard.operators.python import PythonOperator
    from company.ops import Custom
    from company.funcs import work

    with DAG("d", schedule=None) as dag:
        p = PythonOperator(task_id="p", python_callable=work)
        c = Custom(task_id="c", python_callable=work)
    """
    normalised, diagnostics = convert(analyze(body), FACTORY)
    assert found(diagnostics) == {("DC312", line_of("c = Custom", body))}
    assert _arguments(normalised.tasks[0]) == {"python_callable": "company.funcs.work"}


def test_schedule_objects_and_param_objects() -> None:
    body = """
    from airflow.sdk import Asset, Param

    with DAG("d", schedule=[Asset("s3://b/k")], params={"n": Param(5, type="integer")}) as dag:
        e = EmptyOperator(task_id="e")
    """
    assert FACTORY.supports(Feature.SCHEDULE_OBJECTS) and FACTORY.supports(Feature.PARAMS_OBJECTS)
    normalised, diagnostics = convert(analyze(body), FACTORY)
    assert found(diagnostics) == set()
    schedule = _arguments(normalised)["schedule"]
    assert [item.class_path for item in schedule] == ["airflow.sdk.Asset"]  # type: ignore[attr-defined]
    assert _arguments(normalised)["params"]["n"].class_path.endswith("Param")  # type: ignore[index]
    _, mwaa = convert(analyze(body), get_target("mwaa-serverless"))
    assert {d.code for d in mwaa} == {"DC401", "DC319"}


@pytest.mark.parametrize("call", ["task(plain)()", "task(plain).expand(x=[1, 2])"])
def test_taskflow_task_with_dependencies_inside_a_group_is_refused(call: str) -> None:
    # A mapped TaskFlow task is a TaskFlow task too (the old kind "mapped" hid that from this check).
    body = f"""
    def plain(x=0):
        return 1

    with DAG("d", schedule=None) as dag:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g"):
            t = {call}
        start >> t
    """
    _, diagnostics = convert(analyze(body), FACTORY)
    assert ("DC332", line_of("t = task", body)) in found(diagnostics)
