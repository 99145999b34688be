"""The registry against the provider as Airflow itself sees it (tests may import the provider).

The converter reads the provider's source statically; these tests import the same classes and
compare: the class list with the provider's own `get_provider_info()`, and for every class
`template_fields` and the constructor parameters over the MRO.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from dag_converter.registry import AMAZON_PREFIX, get_registry

from ._support import import_quietly, requires_shipped_provider

pytestmark = requires_shipped_provider


def _provider_modules() -> list[str]:
    info = import_quietly("airflow.providers.amazon.get_provider_info")
    assert isinstance(info, ModuleType), info
    data = info.get_provider_info()
    modules: set[str] = set()
    for key in ("operators", "sensors"):
        for entry in data.get(key, []):
            modules.update(entry["python-modules"])
    for entry in data.get("transfers", []):
        modules.add(entry["python-module"])
    return sorted(modules)


def _operator_classes(module: ModuleType) -> dict[str, type]:
    from airflow.sdk import BaseOperator

    return {
        f"{module.__name__}.{name}": cls
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and cls.__module__ == module.__name__
        and not name.startswith("_")
        and issubclass(cls, BaseOperator)
    }


@pytest.fixture(scope="module")
def provider_classes() -> tuple[dict[str, type], dict[str, str]]:
    """Importable operator classes, and the modules that cannot be imported here (and why)."""
    classes: dict[str, type] = {}
    unimportable: dict[str, str] = {}
    for name in _provider_modules():
        module = import_quietly(name)
        if isinstance(module, Exception):
            unimportable[name] = f"{type(module).__name__}: {module}"
        else:
            classes.update(_operator_classes(module))
    return classes, unimportable


def test_every_provider_class_is_in_the_registry(provider_classes, capsys) -> None:
    classes, unimportable = provider_classes
    rules = get_registry().rules
    missing = sorted(set(classes) - set(rules))
    assert not missing, f"operator classes the registry does not know: {missing}"
    # Modules that need an optional dependency (google, ssh, cncf.kubernetes...) cannot be
    # imported in the test environment; the registry must still cover them, from source.
    for module in unimportable:
        assert any(path.rsplit(".", 1)[0] == module for path in rules), module
    with capsys.disabled():
        print(
            f"\nregistry coverage: {len(classes)} importable provider operator classes all present;"
            f" {len(rules)} rules in total; {len(unimportable)} modules not importable here:"
            f" {', '.join(sorted(unimportable))}"
        )


def test_registry_has_no_class_the_provider_lacks(provider_classes) -> None:
    classes, unimportable = provider_classes
    extra = [
        path
        for path, rule in get_registry().rules.items()
        if rule.service != "core" and path not in classes and path.rsplit(".", 1)[0] not in unimportable
        and path.startswith(AMAZON_PREFIX)  # the standard provider: tests/registry/test_registry_standard.py
    ]
    assert not extra


def _signature_params(cls: type) -> set[str]:
    from airflow.sdk import BaseOperator

    names: set[str] = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        for param in inspect.signature(init).parameters.values():
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) and param.name != "self":
                names.add(param.name)
        if klass is BaseOperator:
            break
    return names


def test_template_fields_match_airflow(provider_classes) -> None:
    classes, _ = provider_classes
    rules = get_registry().rules
    wrong = {}
    for path, cls in classes.items():
        rule = rules[path]
        if not rule.templated_fields_static:
            continue
        actual = cls.template_fields
        actual = {actual} if isinstance(actual, str) else set(actual)
        if rule.templated_fields != actual:
            wrong[path] = sorted(rule.templated_fields ^ actual)
    assert not wrong


def test_params_cover_signature(provider_classes) -> None:
    classes, _ = provider_classes
    rules = get_registry().rules
    missing = {}
    for path, cls in classes.items():
        rule = rules[path]
        lacking = _signature_params(cls) - rule.param_names
        if lacking:
            missing[path] = sorted(lacking)
    assert not missing


def test_required_params_have_no_default(provider_classes) -> None:
    """A parameter the registry calls required has no default anywhere it is declared."""
    classes, _ = provider_classes
    rules = get_registry().rules
    for path, cls in classes.items():
        for name in rules[path].required:
            for klass in cls.__mro__:
                init = vars(klass).get("__init__")
                if init is None:
                    continue
                param = inspect.signature(init).parameters.get(name)
                if param is not None:
                    assert param.default is inspect.Parameter.empty, (path, name)
                    break


def test_enums_match_the_provider() -> None:
    """Every enum the data records, imported: the same members and values; `string` exactly when a
    member equals its value, a string (an IntEnum member equals its int, but is written whole);
    every alias is the same class."""
    import enum
    import importlib

    registry = get_registry()
    assert "airflow.providers.amazon.aws.hooks.eks.ClusterStates" in registry.enums
    for path, provider_enum in registry.enums.items():
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, enum.Enum), path
        actual = {member.name: member.value for member in cls}
        assert provider_enum.members == actual, path
        assert provider_enum.string == all(isinstance(m.value, str) and m == m.value for m in cls), path
    for alias, path in registry.enum_aliases.items():
        module, _, name = alias.rpartition(".")
        target_module, _, target_name = path.rpartition(".")
        assert getattr(importlib.import_module(module), name) is getattr(importlib.import_module(target_module),
                                                                          target_name), alias
