"""The checks every target runs, the target registry, and what a target may be."""

from __future__ import annotations

import dataclasses

import grimp
import pytest

from dag_converter import codes
from dag_converter.errors import ConfigError, UsageError
from dag_converter.model import Argument, Diagnostic, Span, Task, TaskKind, Workflow
from dag_converter.registry import _render
from dag_converter.targets import (
    ALLOWED,
    ALLOWED_WITH_WARNING,
    DEFAULT_TARGET,
    TARGET_NAMES,
    TARGETS,
    CheckContext,
    Feature,
    Target,
    UnknownTarget,
    get_target,
)

from ._support import PATH, analyze, convert, found, line_of

EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
S3_CREATE = "airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator"


def _span(line: int) -> Span:
    return Span(PATH, line, 1)


def _workflow(*tasks: Task, dag_id: str = "d", arguments: tuple[Argument, ...] = ()) -> Workflow:
    return Workflow(dag_id, _span(1), arguments, tasks)


# ---------------------------------------------------------------------------------------------
# The registry of targets


def test_names_default_and_every_target_by_name() -> None:
    assert TARGET_NAMES == ("mwaa-serverless", "dag-factory", "mwaa-serverless-code")
    assert DEFAULT_TARGET in TARGET_NAMES
    assert {name: target.name for name, target in TARGETS.items()} == {n: n for n in TARGET_NAMES}


def test_unknown_target_is_a_usage_error_naming_the_choices() -> None:
    with pytest.raises(UnknownTarget, match="unknown target 'airflow-2'; choose from dag-factory, mwaa-serverless"):
        get_target("airflow-2")
    assert issubclass(UnknownTarget, UsageError)


def test_get_target_configures_a_copy() -> None:
    configured = get_target("dag-factory", ["my.Operator", "pkg.*"], dags_folder="$AIRFLOW_HOME/dags/")
    assert configured.allow_operators == ("my.Operator", "pkg.*")
    assert configured.dags_folder == "$AIRFLOW_HOME/dags"
    assert configured.allows("pkg.sub.Other") and not configured.allows("other.Operator")
    assert get_target("dag-factory").allow_operators == ()


@pytest.mark.parametrize("folder", ["dags", "./dags", "~/dags"])
def test_dags_folder_must_be_absolute_or_start_with_a_variable(folder: str) -> None:
    with pytest.raises(ConfigError, match="--dags-folder must be an absolute path"):
        get_target("dag-factory", dags_folder=folder)


def test_feature_questions() -> None:
    mwaa, factory = get_target("mwaa-serverless"), get_target("dag-factory")
    for feature in (Feature.TASK_GROUPS, Feature.TASKFLOW, Feature.MAPPING, Feature.SCHEDULE_OBJECTS,
                    Feature.PARAMS_OBJECTS, Feature.ANY_OPERATOR, Feature.PYTHON_CALLABLES, Feature.CALLBACKS):
        assert factory.supports(feature) and not mwaa.supports(feature), feature
    # Only MWAA Serverless with a code package (--code-package) ships code; it writes TaskFlow tasks
    # and python callables, and nothing else of dag-factory's structure.
    assert [n for n, t in TARGETS.items() if t.supports(Feature.CODE_PACKAGES)] == ["mwaa-serverless-code"]
    code = get_target("mwaa-serverless-code")
    assert {f for f in Feature if code.supports(f)} == {Feature.TASKFLOW, Feature.PYTHON_CALLABLES, Feature.CODE_PACKAGES}


def test_repr_is_independent_of_the_hash_seed() -> None:
    """A target's repr is part of the manifest's settings key: features are listed sorted."""
    factory = get_target("dag-factory")
    assert repr(factory) == ("DagFactory(name='dag-factory', features={any-operator, callbacks, mapping, "
                             "params-objects, python-callables, schedule-objects, task-groups, taskflow}, "
                             "allow_operators=(), dags_folder=None, once_as='refuse')")
    variant = dataclasses.replace(factory, features=frozenset({Feature.TASKFLOW, Feature.MAPPING}))
    assert "features={mapping, taskflow}" in repr(variant)


def test_operator_statuses_use_the_registry_listing_vocabulary() -> None:
    assert (ALLOWED, ALLOWED_WITH_WARNING) == (_render.ALLOWED, _render.ALLOWED_WITH_WARNING)


# ---------------------------------------------------------------------------------------------
# A third target, defined here without touching any other module


@dataclasses.dataclass(frozen=True)
class EmptyOnly(Target):
    """A toy target: only EmptyOperator runs, and retries are capped at 1."""

    def operator_status(self, rule: object) -> str:
        return ALLOWED if getattr(rule, "class_path", "") == EMPTY else "refused"

    def check_operator(self, task: Task, canonical: str, rule: object, check: CheckContext) -> None:
        if canonical != EMPTY:
            check.add(codes.UNSUPPORTED_OPERATOR, task.span, operator=canonical, hint="only EmptyOperator runs here")

    def check_limits(self, name: str, value: object, span: Span, check: CheckContext) -> None:
        if name == "retries" and isinstance(value, int) and value > 1:
            check.add(codes.RETRIES_OVER_LIMIT, span, value=value, limit=1)


def test_a_third_target_runs_the_shared_checks_with_its_own_hooks() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        ok = EmptyOperator(task_id="ok", retries=2)
        s3 = S3CreateObjectOperator(task_id="s3", s3_bucket="b", s3_key="k", data="x")
        with TaskGroup("g"):
            inner = EmptyOperator(task_id="inner", bogus=1)
    """
    target = EmptyOnly("empty-only")
    normalised, diagnostics = convert(analyze(body), target)
    assert found(diagnostics) == {
        ("DC501", line_of("retries=2", body)),
        ("DC301", line_of("S3CreateObjectOperator(", body)),
        ("DC302", line_of("bogus=1", body)),  # the shared unknown-argument check
        ("DC504", line_of("TaskGroup(", body)),  # no TASK_GROUPS feature: flattened, by the shared code
    }
    unsupported = next(d for d in diagnostics if d.code == "DC301")
    assert unsupported.hint == "only EmptyOperator runs here"
    assert "empty-only" in unsupported.message
    assert [t.task_id for t in normalised.tasks] == ["ok", "s3", "g.inner"]
    # The registry listing takes any target.
    assert "EmptyOperator" in _render.render_operators(target) and "refused" in _render.render_operators(target)


def test_a_variant_is_a_copy_with_one_more_feature() -> None:
    mwaa = get_target("mwaa-serverless")
    with_packages = dataclasses.replace(mwaa, name="mwaa-serverless-packaged",
                                        features=mwaa.features | {Feature.CODE_PACKAGES})
    assert with_packages.supports(Feature.CODE_PACKAGES) and not mwaa.supports(Feature.CODE_PACKAGES)
    assert type(with_packages) is type(mwaa) and with_packages.schedule_presets == mwaa.schedule_presets


def test_a_declared_feature_without_its_hook_fails_loudly() -> None:
    careless = Target("careless", frozenset({Feature.TASKFLOW}))
    body = """
    @task
    def f():
        return 1

    with DAG("d", schedule=None) as dag:
        f()
    """
    with pytest.raises(NotImplementedError, match="careless declares taskflow without taskflow_task"):
        convert(analyze(body), careless)


# ---------------------------------------------------------------------------------------------
# Shared checks, on workflows built by hand


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_cycle_and_unknown_upstream_are_refused_at_the_task(name: str) -> None:
    workflow = _workflow(
        Task("a", EMPTY, _span(3), upstream=("c",)),
        Task("b", EMPTY, _span(4), upstream=("a",)),
        Task("c", EMPTY, _span(5), upstream=("b", "ghost")),
    )
    _, diagnostics = convert(workflow, get_target(name))
    assert found(diagnostics) == {("DC314", 3), ("DC320", 5)}
    cycle = next(d for d in diagnostics if d.code == "DC314")
    assert cycle.message == "dependency cycle: a -> b -> c -> a"


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_unsafe_dag_id(name: str) -> None:
    _, diagnostics = convert(_workflow(dag_id="../etc"), get_target(name))
    assert found(diagnostics) == {("DC111", 1)}


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_unknown_and_missing_arguments_use_the_registry(name: str) -> None:
    workflow = _workflow(Task("s3", S3_CREATE, _span(7), arguments=(
        Argument("s3_bucket", "b", _span(8)),
        Argument("s3_kee", "k", _span(9)),
    )))
    _, diagnostics = convert(workflow, get_target(name))
    assert found(diagnostics) == {("DC302", 9), ("DC303", 7)}
    # s3_kee is reported once, as a DC302 suggesting s3_key; no DC303 repeats it (one root cause).
    assert sorted(d.message for d in diagnostics if d.code == "DC303") == [
        "S3CreateObjectOperator requires argument 'data'",
    ]
    unknown = next(d for d in diagnostics if d.code == "DC302")
    assert unknown.hint == "did you mean 's3_key'?"


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_xcom_in_a_templated_field_becomes_jinja(name: str) -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        first = EmptyOperator(task_id="first")
        s3 = S3CreateObjectOperator(task_id="s3", s3_bucket="b", s3_key="k", data=first.output)
    """
    normalised, diagnostics = convert(analyze(body), get_target(name))
    assert not [d for d in diagnostics if d.severity.value == "error"]
    s3 = next(t for t in normalised.tasks if t.task_id == "s3")
    assert dict((a.name, a.value) for a in s3.arguments)["data"] == "{{ ti.xcom_pull(task_ids='first') }}"
    assert s3.upstream == ("first",)


def test_no_hidden_arguments_and_typed_task_fields() -> None:
    body = """
    def plain(x, y=1):
        return x

    with DAG("d", schedule=None) as dag:
        one = task(plain)(3)
        many = task(plain).partial(y=2).expand(x=[1, 2])
        s3 = S3CreateObjectOperator.partial(task_id="s3", s3_bucket="b", data="d").expand(s3_key=["k1", "k2"])
    """
    workflow = analyze(body)
    assert not [a for t in workflow.tasks for a in t.arguments if a.name.startswith("__")]
    one, many, s3 = workflow.tasks
    assert (one.kind, one.mapped, one.expand) == (TaskKind.TASKFLOW, False, ())
    assert one.taskflow is not None and one.taskflow.function == "plain"
    assert one.taskflow.parameters == ("x", "y") and one.taskflow.call_arguments == ("x",)
    assert one.taskflow.callable.qualname == "example.plain"  # type: ignore[union-attr]
    assert (many.kind, many.mapped, many.expand) == (TaskKind.TASKFLOW, True, ("x",))
    assert (s3.kind, s3.mapped, s3.expand, s3.taskflow) == (TaskKind.OPERATOR, True, ("s3_key",), None)


def test_group_defaults_record_the_group_they_came_from() -> None:
    body = """
    with DAG("d", schedule=None) as dag:
        with TaskGroup("outer", default_args={"retries": 1}):
            with TaskGroup("inner", default_args={"retry_delay": datetime.timedelta(seconds=30)}):
                t = EmptyOperator(task_id="t", retries=2)
    """
    (task,) = analyze(body).tasks
    assert {(a.name, a.inherited_from) for a in task.arguments} == {("retries", None), ("retry_delay", "outer.inner")}


# ---------------------------------------------------------------------------------------------
# Diagnostics: one hint mechanism


def test_make_hint_replaces_the_template() -> None:
    span = _span(2)
    templated = codes.make(codes.RUNTIME_VALUE, span, what="x", source="os.environ")
    assert templated.hint == codes.RUNTIME_VALUE.hint.format()  # the template escapes its braces
    assert codes.make(codes.RUNTIME_VALUE, span, what="x", source="s", hint="my hint").hint == "my hint"
    assert codes.make(codes.EDGE_LABEL, span, label="x").hint is None  # info codes may have none
    assert codes.make(codes.UNSUPPORTED_OPERATOR, span, operator="X", target="t").hint == codes.UNSUPPORTED_OPERATOR.hint
    assert codes.make(codes.UNSUPPORTED_OPERATOR, span, operator="X", target="t", hint=" ").hint \
        == codes.UNSUPPORTED_OPERATOR.fix
    # "{hint}" templates: deploy codes whose every call site passes its own hint (tests/deploy).
    assert not any(c.hint and "{hint}" in c.hint for c in codes.REGISTRY.values() if not c.code.startswith("DC6"))


def test_check_context_names_the_target() -> None:
    check = CheckContext(get_target("dag-factory"), registry=None, today=None)  # type: ignore[arg-type]
    check.add(codes.TASKFLOW_TASK, _span(3), task="t", function="f()", hint="why")
    (diagnostic,) = check.found
    assert isinstance(diagnostic, Diagnostic)
    assert diagnostic.message == "TaskFlow task 't' (function f()) does not run on dag-factory"
    assert diagnostic.hint == "why"


# ---------------------------------------------------------------------------------------------
# Structure


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("dag_converter", exclude_type_checking_imports=True)  # types only: not run-time imports


def test_only_the_package_face_reaches_the_target_modules(graph: grimp.ImportGraph) -> None:
    inside = {m for m in graph.modules if m.startswith("dag_converter.targets")}
    for module in inside - {"dag_converter.targets"}:
        outside = {m for m in graph.find_modules_that_directly_import(module) if m not in inside}
        assert outside == set(), module
    # The two targets are independent, and no target reads the analyzer.
    assert not graph.chain_exists("dag_converter.targets.mwaa_serverless", "dag_converter.targets.dag_factory")
    assert not graph.chain_exists("dag_converter.targets.dag_factory", "dag_converter.targets.mwaa_serverless")
    # The code-package variant is the one target that builds on both.
    assert not graph.chain_exists("dag_converter.targets", "dag_converter.analyzer", as_packages=True)


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    circles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
               if graph.chain_exists(b, a)]
    assert circles == []


def test_one_unknown_value_in_several_arguments_is_one_diagnostic() -> None:
    """At the value's place, one DC201/DC202 names the arguments it reaches."""
    body = """
    import os
    from company import settings

    STAGE = os.environ["STAGE"]
    BASE = settings()

    with DAG("d", schedule=None) as dag:
        for n in range(5):
            EmptyOperator(task_id=f"e{n}", doc=BASE)
        a = S3CreateObjectOperator(task_id="a", s3_bucket=BASE, s3_key=STAGE, data=STAGE)
    """
    _, diagnostics = convert(analyze(body), get_target("mwaa-serverless"))
    runtime = [d for d in diagnostics if d.code == "DC202"]
    unknown = [d for d in diagnostics if d.code == "DC201"]
    assert [d.message for d in runtime] == [
        "argument 'data' of task 'a' and argument 's3_key' of task 'a' are read at run time (os.environ['STAGE']); "
        "a YAML file cannot hold them"]
    assert [(d.span.line, d.message) for d in unknown] == [(line_of("BASE = settings()", body), (
        "argument 'doc' of task 'e0', argument 'doc' of task 'e1', argument 'doc' of task 'e2' and 3 more "
        "cannot be resolved statically: call to company.settings() cannot be evaluated statically"))]
    # s3_bucket is templated, doc is not: the code's own hint holds for both kinds.
    assert unknown[0].hint == codes.UNRESOLVED_VALUE.hint
