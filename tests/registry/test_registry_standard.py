"""The standard provider Airflow 3.0.6 bundles: its shipped data is current, read by the same static
builder as the Amazon provider, and right about the classes DAGs use most."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from dag_converter.registry import STANDARD_PROVIDER_VERSION, get_registry, standard_data_path
from dag_converter.registry._build import STANDARD, build_registry_data, render_registry_data
from dag_converter.targets import get_target
from dag_converter.targets.base import NOT_ALLOWED


def _installed() -> str | None:
    try:
        return importlib.metadata.version(STANDARD.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


requires_standard = pytest.mark.skipif(
    _installed() != STANDARD_PROVIDER_VERSION,
    reason=f"needs {STANDARD.distribution}=={STANDARD_PROVIDER_VERSION} installed (the shipped data's version)",
)
PYTHON = "airflow.providers.standard.operators.python"


@requires_standard
def test_shipped_standard_data_matches_installed_provider() -> None:
    shipped = standard_data_path().read_text(encoding="utf-8")
    fresh = render_registry_data(build_registry_data(provider=STANDARD))
    assert fresh == shipped, "standard data is stale: run `python -m dag_converter.registry build --provider standard`"


def test_header_names_the_build_command() -> None:
    data = json.loads(standard_data_path().read_text(encoding="utf-8"))
    assert "--provider standard" in data["_comment"] and "Do not edit" in data["_comment"]
    assert data["provider"] == {"distribution": STANDARD.distribution, "version": STANDARD_PROVIDER_VERSION}


def test_templated_fields_of_python_and_bash() -> None:
    rules = get_registry().rules
    bash = rules["airflow.providers.standard.operators.bash.BashOperator"]
    assert {"bash_command", "env", "cwd"} <= bash.templated_fields and bash.required == ("bash_command",)
    python = rules[f"{PYTHON}.PythonOperator"]
    assert python.templated_fields == {"op_args", "op_kwargs", "templates_dict"}
    assert python.required == ("python_callable",) and python.complete
    # tuple({...}.union(PythonOperator.template_fields)): evaluated statically too
    venv = rules[f"{PYTHON}.PythonVirtualenvOperator"]
    assert venv.templated_fields_static and {"requirements", "op_kwargs"} <= venv.templated_fields
    sensor = rules["airflow.providers.standard.sensors.python.PythonSensor"]
    assert sensor.kind == "sensor" and "poke_interval" in sensor.param_names


def test_legacy_names_resolve_to_standard_rules() -> None:
    resolution = get_registry().resolve("airflow.operators.python.PythonOperator")
    assert resolution.canonical == f"{PYTHON}.PythonOperator" and resolution.rule is not None


def test_mwaa_serverless_lists_standard_classes_as_refused() -> None:
    mwaa = get_target("mwaa-serverless")
    rules = get_registry().rules
    assert mwaa.operator_status(rules[f"{PYTHON}.PythonOperator"]) == NOT_ALLOWED
    assert mwaa.operator_status(rules["airflow.providers.standard.operators.empty.EmptyOperator"]) == "allowed"
    allowed = get_target("mwaa-serverless", allow_operators=[f"{PYTHON}.*"])
    assert allowed.operator_status(rules[f"{PYTHON}.PythonOperator"]) != NOT_ALLOWED


@requires_standard
def test_standard_rules_match_what_airflow_reports() -> None:
    """Every standard rule's templated fields and required arguments, against the imported class."""
    import importlib
    import inspect

    from ._support import import_quietly

    checked = 0
    for path, rule in get_registry().rules.items():
        if not path.startswith("airflow.providers.standard."):
            continue
        module = import_quietly(path.rsplit(".", 1)[0])
        if isinstance(module, Exception):
            continue
        cls = getattr(importlib.import_module(module.__name__), path.rsplit(".", 1)[1])
        assert set(cls.template_fields) == set(rule.templated_fields), path
        signature = inspect.signature(cls.__init__)
        required = {name for name, p in signature.parameters.items()
                    if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
        assert required <= set(rule.required) | {"task_id"}, path
        checked += 1
    assert checked >= 25
