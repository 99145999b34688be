"""The shipped registry data: current, loadable, and right about known classes."""

from __future__ import annotations

import json
import time

import pytest

from dag_converter.registry import (
    AMAZON_PREFIX,
    EMPTY_OPERATOR_PATH,
    Param,
    Registry,
    OperatorRule,
    data_path,
    get_registry,
    load_registry,
)
from dag_converter.registry._build import build_registry_data, render_registry_data

from ._support import requires_shipped_provider

S3 = "airflow.providers.amazon.aws.operators.s3"


@requires_shipped_provider
def test_shipped_data_matches_installed_provider() -> None:
    """Regenerating from the installed provider gives the shipped bytes; else run the build."""
    shipped = data_path().read_text(encoding="utf-8")
    fresh = render_registry_data(build_registry_data())
    assert fresh == shipped, "registry data is stale: run `python -m dag_converter.registry build`"


def test_data_header_says_generated() -> None:
    data = json.loads(data_path().read_text(encoding="utf-8"))
    assert "Do not edit" in data["_comment"]
    assert "registry build --provider-version" in data["_comment"]


def test_load_is_fast_and_cached() -> None:
    start = time.perf_counter()
    load_registry()
    assert time.perf_counter() - start < 0.5
    assert get_registry() is get_registry()


def test_s3_create_object_operator() -> None:
    rule = get_registry().rules[f"{S3}.S3CreateObjectOperator"]
    for name in (
        "s3_bucket", "s3_key", "data", "replace", "aws_conn_id", "region_name", "verify",
        "botocore_config", "retries", "trigger_rule", "task_id", "execution_timeout",
    ):
        assert rule.accepts(name), name
    assert not rule.accepts("bucket")
    # def __init__(self, *, s3_bucket: str | None = None, s3_key: str, data: str | bytes, ...)
    assert set(rule.required) == {"s3_key", "data"}
    assert rule.templated_fields == {"s3_bucket", "s3_key", "data", "aws_conn_id", "region_name", "verify"}
    assert rule.complete and rule.allowlisted and rule.service == "s3" and rule.kind == "operator"
    assert rule.suggest("s3_bukcet") == "s3_bucket"


def test_sensor_has_sensor_params() -> None:
    rule = get_registry().rules["airflow.providers.amazon.aws.sensors.s3.S3KeySensor"]
    assert rule.kind == "sensor"
    assert {"poke_interval", "timeout", "mode", "soft_fail", "bucket_key", "deferrable"} <= rule.param_names
    assert rule.required == ("bucket_key",)


def test_task_id_is_accepted_but_not_required() -> None:
    for rule in get_registry().rules.values():
        if rule.complete:
            assert rule.accepts("task_id"), rule.class_path
        assert "task_id" not in rule.required


def test_empty_operator_takes_base_operator_params() -> None:
    rule = get_registry().rules[EMPTY_OPERATOR_PATH]
    assert rule.complete and rule.allowlisted
    assert rule.accepts("trigger_rule") and not rule.accepts("bash_command")
    assert rule.required == ()


def test_incomplete_rule_accepts_anything() -> None:
    rule = get_registry().rules["airflow.providers.amazon.aws.operators.eks.EksPodOperator"]
    assert not rule.complete  # its base, KubernetesPodOperator, is not installed here
    assert rule.accepts("cluster_name") and rule.accepts("anything")
    assert "not installed" in rule.note


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("airflow.operators.dummy.DummyOperator", EMPTY_OPERATOR_PATH),
        ("airflow.operators.dummy_operator.DummyOperator", EMPTY_OPERATOR_PATH),
        ("airflow.operators.empty.EmptyOperator", EMPTY_OPERATOR_PATH),
        ("airflow.providers.amazon.aws.operators.athena.AWSAthenaOperator",
         "airflow.providers.amazon.aws.operators.athena.AthenaOperator"),
        ("airflow.providers.amazon.aws.operators.s3_copy_object.S3CopyObjectOperator", f"{S3}.S3CopyObjectOperator"),
        ("airflow.providers.amazon.aws.operators.s3_list.S3ListOperator", f"{S3}.S3ListOperator"),
        ("airflow.providers.amazon.aws.operators.s3_bucket.S3CreateBucketOperator", f"{S3}.S3CreateBucketOperator"),
        ("airflow.providers.amazon.aws.operators.s3_delete_objects.S3DeleteObjectsOperator",
         f"{S3}.S3DeleteObjectsOperator"),
        ("airflow.providers.amazon.aws.sensors.s3_key.S3KeySensor", "airflow.providers.amazon.aws.sensors.s3.S3KeySensor"),
        ("airflow.providers.amazon.aws.operators.aws_lambda.AwsLambdaInvokeFunctionOperator",
         "airflow.providers.amazon.aws.operators.lambda_function.LambdaInvokeFunctionOperator"),
        ("airflow.providers.amazon.aws.operators.ecs.ECSOperator",
         "airflow.providers.amazon.aws.operators.ecs.EcsRunTaskOperator"),
        ("airflow.providers.amazon.aws.operators.emr_add_steps.EmrAddStepsOperator",
         "airflow.providers.amazon.aws.operators.emr.EmrAddStepsOperator"),
        ("airflow.providers.amazon.aws.operators.glue.AwsGlueJobOperator",
         "airflow.providers.amazon.aws.operators.glue.GlueJobOperator"),
        ("airflow.providers.amazon.aws.sensors.glue.AwsGlueJobSensor",
         "airflow.providers.amazon.aws.sensors.glue.GlueJobSensor"),
        ("airflow.providers.amazon.aws.operators.sagemaker_training.SageMakerTrainingOperator",
         "airflow.providers.amazon.aws.operators.sagemaker.SageMakerTrainingOperator"),
        ("airflow.contrib.operators.aws_athena_operator.AWSAthenaOperator",
         "airflow.providers.amazon.aws.operators.athena.AthenaOperator"),
        ("airflow.contrib.operators.emr_add_steps_operator.EmrAddStepsOperator",
         "airflow.providers.amazon.aws.operators.emr.EmrAddStepsOperator"),
    ],
)
def test_legacy_paths_resolve_to_rules(written: str, canonical: str) -> None:
    resolution = get_registry().resolve(written)
    assert resolution.canonical == canonical
    assert resolution.legacy_from == written
    assert resolution.rule is not None and resolution.rule.class_path == canonical


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("airflow.operators.bash.BashOperator", "airflow.providers.standard.operators.bash.BashOperator"),
        ("airflow.operators.python.PythonOperator", "airflow.providers.standard.operators.python.PythonOperator"),
        ("airflow.operators.python_operator.PythonOperator",
         "airflow.providers.standard.operators.python.PythonOperator"),
    ],
)
def test_standard_legacy_paths_resolve_to_standard_rules(written: str, canonical: str) -> None:
    """The standard provider's data gives these a rule (issue 22): their arguments are checked."""
    resolution = get_registry().resolve(written)
    assert (resolution.canonical, resolution.legacy_from) == (canonical, written)
    assert resolution.rule is not None and resolution.rule.class_path == canonical


def test_every_legacy_target_is_known() -> None:
    registry = get_registry()
    for old, new in registry.legacy.items():
        assert old != new
        assert new in registry.rules or new.startswith("airflow.providers.standard."), (old, new)


def test_canonical_and_unknown_paths() -> None:
    registry = get_registry()
    path = f"{S3}.S3ListOperator"
    assert registry.resolve(path).legacy_from is None
    assert registry.resolve(path).rule is registry.rules[path]
    assert registry.resolve("my_company.operators.Thing").rule is None
    assert registry.removed_hint("airflow.providers.amazon.aws.operators.redshift_sql.RedshiftSQLOperator")


def test_rules_are_amazon_or_standard() -> None:
    for path in get_registry().rules:
        assert path.startswith((AMAZON_PREFIX, "airflow.providers.standard.")) or path == EMPTY_OPERATOR_PATH


def test_registry_rejects_duplicates() -> None:
    registry = Registry()
    registry.add(OperatorRule(class_path="a.B", params=(Param("x"),)))
    with pytest.raises(ValueError):
        registry.add(OperatorRule(class_path="a.B"))
    with pytest.raises(ValueError):
        registry.add(OperatorRule(class_path="Undotted"))
    with pytest.raises(ValueError):
        registry.add_legacy("a.C", "a.B")
        registry.add_legacy("a.C", "a.D")


def _modules_after(code: str) -> set[str]:
    import subprocess
    import sys

    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_loading_imports_neither_airflow_nor_libcst() -> None:
    modules = _modules_after("from dag_converter.registry import get_registry; get_registry()")
    assert "libcst" not in modules
    assert not any(m == "airflow" or m.startswith("airflow.") for m in modules)


@requires_shipped_provider
def test_build_reads_the_provider_without_importing_it() -> None:
    modules = _modules_after("from dag_converter.registry._build import build_registry_data; build_registry_data()")
    assert not any(m == "airflow" or m.startswith("airflow.") for m in modules)
